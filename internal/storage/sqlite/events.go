package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/storage"
)

// saveReq is one SaveEvent waiting for its group commit.
type saveReq struct {
	e    *storage.Event // nil for events replayed from the holdover file
	row  row
	err  error
	done chan struct{}
}

var saveReqPool = sync.Pool{New: func() any { return &saveReq{done: make(chan struct{}, 1)} }}

// insertEvent takes the seq too: NULL lets SQLite number the event, a
// held-over event brings the seq it was acknowledged with.
const insertEvent = `INSERT INTO events (seq, tenant, id, kind, external_id, occurred_at, received_at,
	amount_minor, currency, score, action, rules_version, model_version, latency_us, assessment, payload, env)
	VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING`

// SaveEvent implements storage.EventWriter. The event is queued for the
// writer goroutine and SaveEvent returns once the batch holding it has
// committed (or been held over, see holdover.go), or failed.
func (s *Store) SaveEvent(ctx context.Context, e *storage.Event) error {
	ass, err := json.Marshal(e.Assessment)
	if err != nil {
		return fmt.Errorf("sqlite: encode assessment: %w", err)
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
	req.e, req.row, req.err = e, rowOf(e, ass), nil
	s.queue <- req
	<-req.done
	err = req.err
	req.e, req.row, req.err = nil, row{}, nil
	saveReqPool.Put(req)
	return err
}

// writer commits queued saves in batches until the queue is closed. While
// the checkpointer restarts the WAL (between a pause request and the close
// of the channel it carries) it holds batches over instead.
func (s *Store) writer() {
	defer close(s.done)
	batch := make([]*saveReq, 0, s.batch)
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	lastBatch := 0
	var resume chan struct{} // non-nil while paused
	for {
		pause := s.pause
		if resume != nil {
			pause = nil
		}
		var req *saveReq
		var ok bool
		select {
		case req, ok = <-s.queue:
		case resume = <-pause:
			continue
		case <-resume:
			resume = nil
			s.flushHeld()
			continue
		}
		if !ok {
			if resume != nil {
				<-resume
			}
			s.flushHeld()
			return
		}
		batch = append(batch[:0], req)
		// Linger only under concurrent traffic, seen as a previous batch of
		// several events: a lone caller would just wait for nobody. Under
		// load, events that queue during one commit make the next batch
		// bigger than one, and lingering then keeps batches large.
		wait := s.delay > 0 && lastBatch > 1
		if wait {
			linger.Reset(s.delay)
		}
	fill:
		for len(batch) < s.batch {
			if !wait {
				select {
				case r, ok := <-s.queue:
					if !ok {
						break fill
					}
					batch = append(batch, r)
				default:
					break fill
				}
				continue
			}
			select {
			case r, ok := <-s.queue:
				if !ok {
					break fill
				}
				batch = append(batch, r)
			case <-linger.C:
				break fill
			}
		}
		linger.Stop()
		// Held events go in first; while any are left (the WAL is being
		// restarted, or inserting them failed) new ones join them, so that
		// seqs become visible in order.
		if resume == nil {
			s.flushHeld()
		}
		if resume != nil || len(s.hold.held()) > 0 {
			s.holdBatch(batch)
		} else {
			_ = s.commit(batch)
		}
		for _, r := range batch {
			if r.err == nil && r.e != nil {
				r.e.Seq = r.row.seq
			}
			r.done <- struct{}{}
		}
		lastBatch = len(batch)
	}
}

// holdBatch numbers the batch's events, appends them to the holdover file
// and so acknowledges them. An id the tenant already used fails only its
// own request.
func (s *Store) holdBatch(batch []*saveReq) {
	ctx := context.Background()
	rows := make([]row, 0, len(batch))
	reqs := make([]*saveReq, 0, len(batch))
	ids := make(map[[2]string]bool, len(batch))
	exts := make(map[[3]string]bool, len(batch))
	for _, r := range batch {
		w := &r.row
		idKey, extKey := [2]string{w.tenant, w.id}, [3]string{w.tenant, w.kind, w.ext}
		dup := ids[idKey] || exts[extKey] || s.hold.has(w)
		if !dup {
			var err error
			if dup, err = s.exists(ctx, w); err != nil {
				r.err = err
				continue
			}
		}
		if dup {
			r.err = fmt.Errorf("%w: event %q or %s %q exists", storage.ErrConflict, w.id, w.kind, w.ext)
			continue
		}
		ids[idKey], exts[extKey] = true, true
		w.seq = s.lastSeq + int64(len(rows)) + 1
		// The caller may reuse its buffers once answered; the held row
		// outlives that.
		held := *w
		held.payload, held.envRaw, held.assessment = bytes.Clone(w.payload), bytes.Clone(w.envRaw), bytes.Clone(w.assessment)
		rows = append(rows, held)
		reqs = append(reqs, r)
	}
	if err := s.hold.hold(rows); err != nil {
		for _, r := range reqs {
			r.row.seq, r.err = 0, err
		}
		return
	}
	s.lastSeq += int64(len(rows))
}

// flushHeld inserts the held-over events; on failure they stay held (and
// in the file) for the next try.
func (s *Store) flushHeld() {
	rows := s.hold.held()
	if len(rows) == 0 {
		return
	}
	reqs := make([]*saveReq, len(rows))
	for i := range rows {
		reqs[i] = &saveReq{row: rows[i]}
	}
	if s.commit(reqs) != nil {
		return
	}
	// A failure to empty the file leaves events that are now inserted in
	// it: inserting them again at the next start does nothing.
	_ = s.hold.clear()
}

// commit writes one batch in one transaction. A duplicate fails only its
// own request; any other failure fails the whole batch and is returned.
// It sets each inserted row's seq.
func (s *Store) commit(batch []*saveReq) error {
	fail := func(err error) error {
		err = fmt.Errorf("sqlite: save event: %w", err)
		for _, r := range batch {
			r.err = err
		}
		return err
	}
	ctx := context.Background()
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fail(err)
	}
	stmt := tx.StmtContext(ctx, s.insert)
	seqs := make([]int64, len(batch))
	for i, r := range batch {
		w := &r.row
		var seq any
		if w.seq > 0 {
			seq = w.seq
		}
		res, err := stmt.ExecContext(ctx, seq, w.tenant, w.id, w.kind, w.ext, w.occurred, w.received, w.amount,
			w.currency, w.score, w.action, w.rulesVersion, w.modelVersion, w.latency,
			string(w.assessment), w.payload, w.envRaw)
		if err != nil {
			tx.Rollback()
			return fail(err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			r.err = fmt.Errorf("%w: event %q or %s %q exists", storage.ErrConflict, w.id, w.kind, w.ext)
			continue
		}
		if seqs[i], err = res.LastInsertId(); err != nil {
			tx.Rollback()
			return fail(err)
		}
	}
	// Per-minute decision counts for the dashboard: one upsert per
	// distinct (tenant, minute, kind, action, currency) of the batch.
	sums := map[minuteKey]minuteSum{}
	for _, r := range batch {
		if r.err != nil {
			continue
		}
		w := &r.row
		k := minuteKey{w.tenant, unixMinute(fromMicros(w.received)), w.kind, w.action, w.currency}
		sum := sums[k]
		sum.count++
		sum.amount += w.amount
		sums[k] = sum
	}
	upsert := tx.StmtContext(ctx, s.upsertMin)
	for k, sum := range sums {
		if _, err := upsert.ExecContext(ctx, k.tenant, k.minute, k.kind, k.action, k.currency, sum.count, sum.amount); err != nil {
			tx.Rollback()
			return fail(err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fail(err)
	}
	for i, r := range batch {
		if r.err == nil {
			r.row.seq = seqs[i]
			s.lastSeq = max(s.lastSeq, seqs[i])
		}
	}
	return nil
}

const (
	selectByID     = "SELECT " + eventColumns + " FROM events WHERE tenant = ? AND id = ?"
	selectByExt    = "SELECT " + eventColumns + " FROM events WHERE tenant = ? AND kind = ? AND external_id = ?"
	selectLabelsOf = "SELECT id, label, source, note, occurred_at, created_at FROM labels WHERE tenant = ? AND event_id = ? ORDER BY id"
)

const eventColumns = `seq, tenant, id, kind, external_id, occurred_at, received_at, amount_minor, currency,
	latency_us, assessment, payload, env`

type scanner interface{ Scan(dest ...any) error }

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
		return fmt.Errorf("sqlite: decode assessment of event %s: %w", e.ID, err)
	}
	return nil
}

func (s *Store) oneEvent(ctx context.Context, what string, stmt *sql.Stmt, args ...any) (storage.Event, error) {
	if err := s.isClosed(); err != nil {
		return storage.Event{}, err
	}
	var e storage.Event
	err := scanEvent(stmt.QueryRowContext(ctx, args...), &e)
	if errors.Is(err, sql.ErrNoRows) {
		return e, fmt.Errorf("%w: %s", storage.ErrNotFound, what)
	}
	if err != nil {
		return e, fmt.Errorf("sqlite: read %s: %w", what, err)
	}
	if e.Labels, err = s.labelsOf(ctx, e.Tenant, e.ID); err != nil {
		return e, err
	}
	return e, nil
}

// Event implements storage.EventReader.
func (s *Store) Event(ctx context.Context, tenant, id string) (storage.Event, error) {
	if r, ok := s.hold.find(tenant, "", id, false); ok {
		return r.event()
	}
	return s.oneEvent(ctx, fmt.Sprintf("event %q", id), s.byID, tenant, id)
}

// EventByExternalID implements storage.EventReader.
func (s *Store) EventByExternalID(ctx context.Context, tenant string, kind risk.EventKind, ext string) (storage.Event, error) {
	if r, ok := s.hold.find(tenant, string(kind), ext, true); ok {
		return r.event()
	}
	return s.oneEvent(ctx, fmt.Sprintf("%s %q", kind, ext), s.byExt, tenant, string(kind), ext)
}

func (s *Store) labelsOf(ctx context.Context, tenant, eventID string) ([]storage.Label, error) {
	rows, err := s.labels.QueryContext(ctx, tenant, eventID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read labels: %w", err)
	}
	defer rows.Close()
	var out []storage.Label
	for rows.Next() {
		l := storage.Label{Tenant: tenant, EventID: eventID}
		var label string
		var occ, cre int64
		if err := rows.Scan(&l.ID, &label, &l.Source, &l.Note, &occ, &cre); err != nil {
			return nil, fmt.Errorf("sqlite: read labels: %w", err)
		}
		l.Label, l.OccurredAt, l.CreatedAt = risk.Label(label), fromMicros(occ), fromMicros(cre)
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read labels: %w", err)
	}
	return out, nil
}

// ScanEvents implements storage.EventScanner. Labels are read in the same
// pass (a second query ordered the same way), so a scan costs two queries.
func (s *Store) ScanEvents(ctx context.Context, q storage.EventQuery, fn func(*storage.Event) error) error {
	if err := s.isClosed(); err != nil {
		return err
	}
	limit := int64(-1)
	if q.Limit > 0 {
		limit = int64(q.Limit)
	}
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("sqlite: scan events: %w", err)
	}
	defer tx.Rollback()
	labels, err := scanLabels(ctx, tx, q, limit)
	if err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, "SELECT "+eventColumns+` FROM events
		WHERE tenant = ? AND kind = ? AND occurred_at >= ? AND occurred_at < ?
		ORDER BY occurred_at, seq LIMIT ?`, q.Tenant, string(q.Kind), micros(q.From), micros(q.To), limit)
	if err != nil {
		return fmt.Errorf("sqlite: scan events: %w", err)
	}
	defer rows.Close()
	var e storage.Event
	for rows.Next() {
		if err := scanEvent(rows, &e); err != nil {
			return fmt.Errorf("sqlite: scan events: %w", err)
		}
		e.Labels = labels[e.ID]
		if err := fn(&e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: scan events: %w", err)
	}
	return nil
}

// scanLabels reads the labels of every event a scan will return, keyed by event id.
func scanLabels(ctx context.Context, tx *sql.Tx, q storage.EventQuery, limit int64) (map[string][]storage.Label, error) {
	rows, err := tx.QueryContext(ctx, `SELECT l.id, l.event_id, l.label, l.source, l.note, l.occurred_at, l.created_at
		FROM labels l JOIN (SELECT id FROM events
			WHERE tenant = ? AND kind = ? AND occurred_at >= ? AND occurred_at < ?
			ORDER BY occurred_at, seq LIMIT ?) e ON l.event_id = e.id
		WHERE l.tenant = ? ORDER BY l.id`,
		q.Tenant, string(q.Kind), micros(q.From), micros(q.To), limit, q.Tenant)
	if err != nil {
		return nil, fmt.Errorf("sqlite: scan labels: %w", err)
	}
	defer rows.Close()
	out := map[string][]storage.Label{}
	for rows.Next() {
		l := storage.Label{Tenant: q.Tenant}
		var label string
		var occ, cre int64
		if err := rows.Scan(&l.ID, &l.EventID, &label, &l.Source, &l.Note, &occ, &cre); err != nil {
			return nil, fmt.Errorf("sqlite: scan labels: %w", err)
		}
		l.Label, l.OccurredAt, l.CreatedAt = risk.Label(label), fromMicros(occ), fromMicros(cre)
		out[l.EventID] = append(out[l.EventID], l)
	}
	return out, rows.Err()
}

// EventsAfter implements storage.EventScanner.
func (s *Store) EventsAfter(ctx context.Context, seq int64, fn func(*storage.Event) error) error {
	if err := s.isClosed(); err != nil {
		return err
	}
	rows, err := s.read.QueryContext(ctx, "SELECT "+eventColumns+" FROM events WHERE seq > ? ORDER BY seq", seq)
	if err != nil {
		return fmt.Errorf("sqlite: replay events: %w", err)
	}
	defer rows.Close()
	var e storage.Event
	for rows.Next() {
		if err := scanEvent(rows, &e); err != nil {
			return fmt.Errorf("sqlite: replay events: %w", err)
		}
		if err := fn(&e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: replay events: %w", err)
	}
	return nil
}

// MaxSeq implements storage.EventScanner.
func (s *Store) MaxSeq(ctx context.Context) (int64, error) {
	if err := s.isClosed(); err != nil {
		return 0, err
	}
	var n sql.NullInt64
	if err := s.read.QueryRowContext(ctx, "SELECT MAX(seq) FROM events").Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: max seq: %w", err)
	}
	return n.Int64, nil
}

// LabelsAfter implements storage.LabelStore.
func (s *Store) LabelsAfter(ctx context.Context, id int64, fn func(*storage.Label) error) error {
	if err := s.isClosed(); err != nil {
		return err
	}
	rows, err := s.read.QueryContext(ctx, `SELECT id, tenant, event_id, label, source, note, occurred_at, created_at
		FROM labels WHERE id > ? ORDER BY id`, id)
	if err != nil {
		return fmt.Errorf("sqlite: replay labels: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var l storage.Label
		var label string
		var occ, cre int64
		if err := rows.Scan(&l.ID, &l.Tenant, &l.EventID, &label, &l.Source, &l.Note, &occ, &cre); err != nil {
			return fmt.Errorf("sqlite: replay labels: %w", err)
		}
		l.Label, l.OccurredAt, l.CreatedAt = risk.Label(label), fromMicros(occ), fromMicros(cre)
		if err := fn(&l); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: replay labels: %w", err)
	}
	return nil
}

// MaxLabelID implements storage.LabelStore.
func (s *Store) MaxLabelID(ctx context.Context) (int64, error) {
	if err := s.isClosed(); err != nil {
		return 0, err
	}
	var n sql.NullInt64
	if err := s.read.QueryRowContext(ctx, "SELECT MAX(id) FROM labels").Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: max label id: %w", err)
	}
	return n.Int64, nil
}

// AddLabel implements storage.LabelStore.
func (s *Store) AddLabel(ctx context.Context, l *storage.Label) error {
	if err := s.isClosed(); err != nil {
		return err
	}
	// A label of a held-over event waits the few milliseconds until it is
	// inserted.
	if err := s.hold.await(ctx, l.Tenant, l.EventID); err != nil {
		return fmt.Errorf("sqlite: add label: %w", err)
	}
	res, err := s.write.ExecContext(ctx, `INSERT INTO labels (tenant, event_id, label, source, note, occurred_at, created_at)
		SELECT ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM events WHERE tenant = ? AND id = ?)`,
		l.Tenant, l.EventID, string(l.Label), l.Source, l.Note, micros(l.OccurredAt), micros(l.CreatedAt),
		l.Tenant, l.EventID)
	if err != nil {
		return fmt.Errorf("sqlite: add label: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: event %q", storage.ErrNotFound, l.EventID)
	}
	l.ID, err = res.LastInsertId()
	if err != nil {
		return fmt.Errorf("sqlite: add label: %w", err)
	}
	return nil
}
