package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/storage"
)

// saveReq is one SaveEvent waiting for its group commit.
type saveReq struct {
	e    *storage.Event
	ass  []byte
	err  error
	done chan struct{}
}

var saveReqPool = sync.Pool{New: func() any { return &saveReq{done: make(chan struct{}, 1)} }}

// insertBatch saves a batch of events in one statement, its arguments
// one array per column: the id rows (a duplicate id or external id
// inserts nothing), the events themselves, and one upsert of the per-minute
// counts per distinct minute, kind, action and currency. It returns the
// position (1-based) and seq of every event saved. The batch must not
// repeat an id or an external id (commit sees to it).
const insertBatch = `WITH input AS (
	SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[],
		$8::text[], $9::integer[], $10::text[], $11::bigint[], $12::text[], $13::bigint[], $14::text[], $15::bytea[],
		$16::bytea[], $17::bigint[])
	WITH ORDINALITY AS i (tenant, id, kind, external_id, occurred_at, received_at, amount_minor, currency, score, action,
		rules_version, model_version, latency_us, assessment, payload, env, minute, ord)
), k AS (
	INSERT INTO event_ids (tenant, id, kind, external_id, seq, occurred_at)
	SELECT tenant, id, kind, external_id, nextval('event_seq'), occurred_at FROM input ORDER BY ord
	ON CONFLICT DO NOTHING RETURNING tenant, id, seq
), e AS (
	INSERT INTO events (seq, tenant, id, kind, external_id, occurred_at, received_at, amount_minor, currency,
		score, action, rules_version, model_version, latency_us, assessment, payload, env, origin)
	SELECT k.seq, i.tenant, i.id, i.kind, i.external_id, i.occurred_at, i.received_at, i.amount_minor, i.currency,
		i.score, i.action, i.rules_version, i.model_version, i.latency_us, i.assessment, i.payload, i.env, $18::bigint
	FROM k JOIN input i ON i.tenant = k.tenant AND i.id = k.id
	RETURNING tenant, id, seq
), m AS (
	INSERT INTO event_minutes (tenant, minute, kind, action, currency, count, amount_minor)
	SELECT i.tenant, i.minute, i.kind, i.action, i.currency, count(*), sum(i.amount_minor)
	FROM k JOIN input i ON i.tenant = k.tenant AND i.id = k.id
	GROUP BY i.tenant, i.minute, i.kind, i.action, i.currency
	ON CONFLICT (tenant, minute, kind, action, currency) DO UPDATE
	SET count = event_minutes.count + excluded.count, amount_minor = event_minutes.amount_minor + excluded.amount_minor
)
SELECT i.ord, e.seq FROM e JOIN input i ON i.tenant = e.tenant AND i.id = e.id`

// batchColumns holds a batch's events column by column for insertBatch.
type batchColumns struct {
	tenant, id, kind, ext, currency, action, model, ass []string
	occurred, received, amount, rules, latency, minute  []int64
	score                                               []int32
	payload, env                                        [][]byte
	at                                                  []int // the request each row is
}

func (c *batchColumns) add(i int, r *saveReq) {
	e := r.e
	c.tenant, c.id, c.kind, c.ext = append(c.tenant, e.Tenant), append(c.id, e.ID), append(c.kind, string(e.Kind)), append(c.ext, e.ExternalID)
	c.occurred, c.received = append(c.occurred, micros(e.OccurredAt)), append(c.received, micros(e.ReceivedAt))
	c.amount, c.currency = append(c.amount, e.AmountMinor), append(c.currency, e.Currency)
	c.score, c.action = append(c.score, int32(e.Assessment.Score)), append(c.action, string(e.Assessment.Action))
	c.rules, c.model = append(c.rules, e.Assessment.RulesVersion), append(c.model, e.Assessment.ModelVersion)
	c.latency, c.ass = append(c.latency, e.LatencyMicros), append(c.ass, string(r.ass))
	c.payload, c.env = append(c.payload, []byte(e.Payload)), append(c.env, []byte(e.Env))
	c.minute, c.at = append(c.minute, e.ReceivedAt.Unix()/60), append(c.at, i)
}

func (c *batchColumns) args(origin int64) []any {
	return []any{c.tenant, c.id, c.kind, c.ext, c.occurred, c.received, c.amount, c.currency, c.score, c.action,
		c.rules, c.model, c.latency, c.ass, c.payload, c.env, c.minute, origin}
}

// SaveEvent implements storage.EventWriter. The event is queued for the
// writer goroutine and SaveEvent returns once the batch holding it has
// committed, or failed.
func (s *Store) SaveEvent(ctx context.Context, e *storage.Event) error {
	ass, err := json.Marshal(e.Assessment)
	if err != nil {
		return wrap("encode assessment", err)
	}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return storage.ErrClosed
	}
	s.pending.Add(1)
	s.mu.RUnlock()
	defer s.pending.Done()

	req := saveReqPool.Get().(*saveReq)
	req.e, req.ass, req.err = e, ass, nil
	s.queue <- req
	<-req.done
	err = req.err
	req.e, req.ass, req.err = nil, nil, nil
	saveReqPool.Put(req)
	return err
}

// writer commits queued saves in batches until the queue is closed.
func (s *Store) writer() {
	defer close(s.done)
	batch := make([]*saveReq, 0, s.batch)
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	for {
		req, ok := <-s.queue
		if !ok {
			return
		}
		batch = append(batch[:0], req)
		// Take what is already queued, then (when configured) wait a
		// little for more, up to a full batch.
		waited := s.delay <= 0
	fill:
		for len(batch) < s.batch {
			select {
			case r, ok := <-s.queue:
				if !ok {
					break fill
				}
				batch = append(batch, r)
				continue
			default:
			}
			if waited {
				break
			}
			waited = true
			linger.Reset(s.delay)
			select {
			case r, ok := <-s.queue:
				if !linger.Stop() {
					<-linger.C
				}
				if !ok {
					break fill
				}
				batch = append(batch, r)
			case <-linger.C:
				break fill
			}
		}
		s.commit(batch)
		for _, r := range batch {
			r.done <- struct{}{}
		}
	}
}

// commit saves a batch in one transaction, setting each request's error
// (a conflict for a duplicate) and each saved event's Seq.
func (s *Store) commit(batch []*saveReq) {
	ctx := context.Background()
	fail := func(err error) {
		err = wrap("save event", err)
		for _, r := range batch {
			r.err = err
		}
	}
	if err := s.ensurePartitions(ctx, batch); err != nil {
		fail(err)
		return
	}
	// A batch repeating an id or an external id keeps the first: the
	// statement needs each once.
	var cols batchColumns
	type extKey struct{ tenant, kind, ext string }
	ids := make(map[[2]string]bool, len(batch))
	exts := make(map[extKey]bool, len(batch))
	for i, r := range batch {
		id, ext := [2]string{r.e.Tenant, r.e.ID}, extKey{r.e.Tenant, string(r.e.Kind), r.e.ExternalID}
		if ids[id] || exts[ext] {
			continue
		}
		ids[id], exts[ext] = true, true
		cols.add(i, r)
	}
	seqs := make([]int64, len(batch))
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		b.Queue("SELECT pg_advisory_xact_lock($1)", lockEventSeq)
		b.Queue(insertBatch, cols.args(s.origin)...)
		res := tx.SendBatch(ctx, b)
		defer res.Close()
		if _, err := res.Exec(); err != nil {
			return err
		}
		rows, err := res.Query()
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var ord, seq int64
			if err := rows.Scan(&ord, &seq); err != nil {
				return err
			}
			seqs[cols.at[ord-1]] = seq
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		return res.Close()
	})
	if err != nil {
		fail(err)
		return
	}
	for i, r := range batch {
		if seqs[i] == 0 {
			r.err = fmt.Errorf("%w: event %q or %s %q exists", storage.ErrConflict, r.e.ID, r.e.Kind, r.e.ExternalID)
			continue
		}
		r.e.Seq = seqs[i]
	}
}

// monthOf returns the first microsecond of t's month (UTC) and of the next.
func monthOf(t time.Time) (from, to time.Time) {
	t = t.UTC()
	from = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	return from, from.AddDate(0, 1, 0)
}

// ensurePartitions makes the monthly partitions the batch's events need.
// Instances may race to make one: the advisory lock and IF NOT EXISTS
// make that harmless.
func (s *Store) ensurePartitions(ctx context.Context, batch []*saveReq) error {
	for _, r := range batch {
		from, to := monthOf(r.e.OccurredAt)
		if s.parts[from.UnixMicro()] {
			continue
		}
		name := fmt.Sprintf("events_p%04d%02d", from.Year(), int(from.Month()))
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockPartition); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s PARTITION OF events FOR VALUES FROM (%d) TO (%d)",
				name, from.UnixMicro(), to.UnixMicro()))
			return err
		})
		if err != nil {
			return fmt.Errorf("partition %s: %w", name, err)
		}
		s.parts[from.UnixMicro()] = true
	}
	return nil
}

const eventColumns = `e.seq, e.tenant, e.id, e.kind, e.external_id, e.occurred_at, e.received_at, e.amount_minor, e.currency,
	e.latency_us, e.assessment, e.payload, e.env`

// scanEvent reads eventColumns into e.
func scanEvent(sc scanner, e *storage.Event) error {
	var kind, ass string
	var occ, rec int64
	var payload, env []byte
	if err := sc.Scan(&e.Seq, &e.Tenant, &e.ID, &kind, &e.ExternalID, &occ, &rec, &e.AmountMinor,
		&e.Currency, &e.LatencyMicros, &ass, &payload, &env); err != nil {
		return err
	}
	e.Kind = risk.EventKind(kind)
	e.OccurredAt, e.ReceivedAt = fromMicros(occ), fromMicros(rec)
	e.Payload, e.Env = payload, env
	e.Assessment = risk.Assessment{}
	if err := json.Unmarshal([]byte(ass), &e.Assessment); err != nil {
		return fmt.Errorf("decode assessment of event %s: %w", e.ID, err)
	}
	return nil
}

// oneEvent reads the event whose event_ids row matches where, labels included.
func (s *Store) oneEvent(ctx context.Context, what, where string, args ...any) (storage.Event, error) {
	if err := s.isClosed(); err != nil {
		return storage.Event{}, err
	}
	var e storage.Event
	err := scanEvent(s.pool.QueryRow(ctx, "SELECT "+eventColumns+` FROM event_ids k
		JOIN events e ON e.occurred_at = k.occurred_at AND e.seq = k.seq WHERE `+where, args...), &e)
	if err != nil {
		return e, notFound(err, what)
	}
	if e.Labels, err = s.labelsOf(ctx, e.Tenant, e.ID); err != nil {
		return e, err
	}
	return e, nil
}

// Event implements storage.EventReader.
func (s *Store) Event(ctx context.Context, tenant, id string) (storage.Event, error) {
	return s.oneEvent(ctx, fmt.Sprintf("event %q", id), "k.tenant = $1 AND k.id = $2", tenant, id)
}

// EventByExternalID implements storage.EventReader.
func (s *Store) EventByExternalID(ctx context.Context, tenant string, kind risk.EventKind, ext string) (storage.Event, error) {
	return s.oneEvent(ctx, fmt.Sprintf("%s %q", kind, ext), "k.tenant = $1 AND k.kind = $2 AND k.external_id = $3",
		tenant, string(kind), ext)
}

const labelColumns = "id, tenant, event_id, label, source, note, occurred_at, created_at"

func scanLabel(sc scanner, l *storage.Label) error {
	var label string
	var occ, cre int64
	if err := sc.Scan(&l.ID, &l.Tenant, &l.EventID, &label, &l.Source, &l.Note, &occ, &cre); err != nil {
		return err
	}
	l.Label, l.OccurredAt, l.CreatedAt = risk.Label(label), fromMicros(occ), fromMicros(cre)
	return nil
}

// labelsOf returns one event's labels, oldest first.
func (s *Store) labelsOf(ctx context.Context, tenant, eventID string) ([]storage.Label, error) {
	m, err := s.labelsOfMany(ctx, tenant, []string{eventID})
	return m[eventID], err
}

// labelsOfMany returns the labels of several of a tenant's events by event id, oldest first.
func (s *Store) labelsOfMany(ctx context.Context, tenant string, ids []string) (map[string][]storage.Label, error) {
	out, err := labelsByEvent(s.pool.Query(ctx, "SELECT "+labelColumns+" FROM labels WHERE tenant = $1 AND event_id = ANY($2::text[]) ORDER BY id",
		tenant, ids))
	if err != nil {
		return nil, wrap("read labels", err)
	}
	return out, nil
}

// labelsByEvent reads labelColumns rows into lists by event id, in the
// rows' order, closing them.
func labelsByEvent(rows pgx.Rows, err error) (map[string][]storage.Label, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]storage.Label{}
	for rows.Next() {
		var l storage.Label
		if err := scanLabel(rows, &l); err != nil {
			return nil, err
		}
		out[l.EventID] = append(out[l.EventID], l)
	}
	return out, rows.Err()
}

// ScanEvents implements storage.EventScanner. The events and their labels
// are read in one repeatable-read transaction, so they agree.
func (s *Store) ScanEvents(ctx context.Context, q storage.EventQuery, fn func(*storage.Event) error) error {
	if err := s.isClosed(); err != nil {
		return err
	}
	var limit any // NULL: no limit
	if q.Limit > 0 {
		limit = int64(q.Limit)
	}
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return wrap("scan events", err)
	}
	defer tx.Rollback(context.Background())
	const match = `FROM events e WHERE e.tenant = $1 AND e.kind = $2 AND e.occurred_at >= $3 AND e.occurred_at < $4
		ORDER BY e.occurred_at, e.seq LIMIT $5`
	args := []any{q.Tenant, string(q.Kind), micros(q.From), micros(q.To), limit}
	labels, err := labelsByEvent(tx.Query(ctx, "SELECT l.id, l.tenant, l.event_id, l.label, l.source, l.note, l.occurred_at, l.created_at "+
		"FROM labels l JOIN (SELECT e.id "+match+") m ON l.event_id = m.id WHERE l.tenant = $1 ORDER BY l.id", args...))
	if err != nil {
		return wrap("scan labels", err)
	}
	rows, err := tx.Query(ctx, "SELECT "+eventColumns+" "+match, args...)
	if err != nil {
		return wrap("scan events", err)
	}
	defer rows.Close()
	var e storage.Event
	for rows.Next() {
		if err := scanEvent(rows, &e); err != nil {
			return wrap("scan events", err)
		}
		e.Labels = labels[e.ID]
		if err := fn(&e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return wrap("scan events", err)
	}
	return nil
}

// EventsAfter implements storage.EventScanner.
func (s *Store) EventsAfter(ctx context.Context, seq int64, fn func(*storage.Event) error) error {
	if err := s.isClosed(); err != nil {
		return err
	}
	rows, err := s.pool.Query(ctx, "SELECT "+eventColumns+" FROM events e WHERE e.seq > $1 ORDER BY e.seq", seq)
	if err != nil {
		return wrap("replay events", err)
	}
	defer rows.Close()
	var e storage.Event
	for rows.Next() {
		if err := scanEvent(rows, &e); err != nil {
			return wrap("replay events", err)
		}
		if err := fn(&e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return wrap("replay events", err)
	}
	return nil
}

// MaxSeq implements storage.EventScanner.
func (s *Store) MaxSeq(ctx context.Context) (int64, error) {
	return s.maxOf(ctx, "max seq", "SELECT MAX(seq) FROM events")
}

// maxOf runs a query returning one nullable number, NULL read as 0.
func (s *Store) maxOf(ctx context.Context, what, query string) (int64, error) {
	if err := s.isClosed(); err != nil {
		return 0, err
	}
	var n *int64
	if err := s.pool.QueryRow(ctx, query).Scan(&n); err != nil {
		return 0, wrap(what, err)
	}
	if n == nil {
		return 0, nil
	}
	return *n, nil
}

// LabelsAfter implements storage.LabelStore.
func (s *Store) LabelsAfter(ctx context.Context, id int64, fn func(*storage.Label) error) error {
	if err := s.isClosed(); err != nil {
		return err
	}
	rows, err := s.pool.Query(ctx, "SELECT "+labelColumns+" FROM labels WHERE id > $1 ORDER BY id", id)
	if err != nil {
		return wrap("replay labels", err)
	}
	defer rows.Close()
	var l storage.Label
	for rows.Next() {
		if err := scanLabel(rows, &l); err != nil {
			return wrap("replay labels", err)
		}
		if err := fn(&l); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return wrap("replay labels", err)
	}
	return nil
}

// MaxLabelID implements storage.LabelStore.
func (s *Store) MaxLabelID(ctx context.Context) (int64, error) {
	return s.maxOf(ctx, "max label id", "SELECT MAX(id) FROM labels")
}

// AddLabel implements storage.LabelStore. The id is drawn under an
// advisory lock held to commit, so labels commit in id order.
func (s *Store) AddLabel(ctx context.Context, l *storage.Label) error {
	return s.inTx(ctx, "add label", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockLabelID); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `INSERT INTO labels (tenant, event_id, label, source, note, occurred_at, created_at, origin)
			SELECT $1::text, $2::text, $3::text, $4::text, $5::text, $6::bigint, $7::bigint, $8::bigint
			WHERE EXISTS (SELECT 1 FROM event_ids WHERE tenant = $1 AND id = $2)
			RETURNING id`,
			l.Tenant, l.EventID, string(l.Label), l.Source, l.Note, micros(l.OccurredAt), micros(l.CreatedAt), s.origin).Scan(&l.ID)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: event %q", storage.ErrNotFound, l.EventID)
		}
		return err
	})
}
