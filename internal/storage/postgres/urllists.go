package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/shopguard/shopguard/internal/storage"
)

// urlListChunk is how many changes one statement writes at most: the
// arrays it sends stay a few hundred kilobytes.
const urlListChunk = 8192

// urlListPage is how many logged changes one read returns, so that
// replaying a long log holds neither a connection nor a snapshot (which
// would hold back vacuum) for its whole length, nor while fn runs.
const urlListPage = 8192

// urlListKey names one list: a tenant's entries from a source with an effect.
type urlListKey struct{ tenant, source, effect string }

// urlEntryKey is an entry as stored: its list's id and its hash.
type urlEntryKey struct {
	list int64
	hash [32]byte
}

// applyURLListAdds lists the entries $1 (list ids), $2 (hashes) not
// listed yet and logs each it listed, with its time $3, in the order of
// the arrays, all in one statement. The arrays hold each entry once.
const applyURLListAdds = `WITH d AS (
	SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::bigint[]) WITH ORDINALITY AS d(list_id, hash, at, ord)
), ch AS (
	INSERT INTO url_list_entries (list_id, hash) SELECT list_id, hash FROM d ORDER BY list_id, hash
	ON CONFLICT DO NOTHING RETURNING list_id, hash
)
INSERT INTO url_list_changes (list_id, hash, op, at)
SELECT d.list_id, d.hash, 'add', d.at FROM ch JOIN d ON d.list_id = ch.list_id AND d.hash = ch.hash ORDER BY d.ord`

// applyURLListRemoves is applyURLListAdds for removes.
const applyURLListRemoves = `WITH d AS (
	SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::bigint[]) WITH ORDINALITY AS d(list_id, hash, at, ord)
), ch AS (
	DELETE FROM url_list_entries e USING d WHERE e.list_id = d.list_id AND e.hash = d.hash RETURNING e.list_id, e.hash
)
INSERT INTO url_list_changes (list_id, hash, op, at)
SELECT d.list_id, d.hash, 'remove', d.at FROM ch JOIN d ON d.list_id = ch.list_id AND d.hash = ch.hash ORDER BY d.ord`

// AddURLListChanges implements storage.URLListStore. It holds the URL
// list advisory lock from its start to commit: writers of the lists are
// serialised (as SQLite's single writer does), cannot deadlock on each
// other's entries, and commit their change ids in order. Each run of adds
// (or removes) is written a chunk at a time, one statement per chunk that
// changes the entries and logs those it changed; the statements go in one
// pipelined batch, a single round trip however many there are.
func (s *Store) AddURLListChanges(ctx context.Context, changes []storage.URLListChange) (int, error) {
	for i := range changes {
		if err := changes[i].Validate(); err != nil {
			return 0, err
		}
	}
	if err := s.isClosed(); err != nil {
		return 0, err
	}
	if len(changes) == 0 {
		return 0, nil
	}
	n := 0
	err := s.inTx(ctx, "add url list changes", func(tx pgx.Tx) error {
		n = 0
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockURLListID); err != nil {
			return err
		}
		ids, err := urlListIDs(ctx, tx, changes)
		if err != nil {
			return err
		}
		b := &pgx.Batch{}
		for start := 0; start < len(changes); {
			end := start + 1
			for end < len(changes) && end-start < urlListChunk && changes[end].Op == changes[start].Op {
				end++
			}
			queueURLListChunk(b, changes[start:end], ids)
			start = end
		}
		res := tx.SendBatch(ctx, b)
		for range b.Len() {
			tag, err := res.Exec()
			if err != nil {
				res.Close()
				return err
			}
			n += int(tag.RowsAffected())
		}
		return res.Close()
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// urlListIDs returns the ids of the lists changes name, creating those
// that do not exist yet, in one statement. The caller holds the URL list
// lock, so no one else creates lists meanwhile.
func urlListIDs(ctx context.Context, tx pgx.Tx, changes []storage.URLListChange) (map[urlListKey]int64, error) {
	ids := map[urlListKey]int64{}
	var tenants, sources, effects []string
	for i := range changes {
		c := &changes[i]
		k := urlListKey{c.Tenant, c.Source, c.Effect}
		if _, ok := ids[k]; !ok {
			ids[k] = 0
			tenants, sources, effects = append(tenants, k.tenant), append(sources, k.source), append(effects, k.effect)
		}
	}
	// The new lists come from the insert, the others from the snapshot
	// the statement started with.
	rows, err := tx.Query(ctx, `WITH k AS (
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) AS k(tenant, source, effect)
	), ins AS (
		INSERT INTO url_lists (tenant, source, effect) SELECT tenant, source, effect FROM k
		ON CONFLICT (tenant, source, effect) DO NOTHING RETURNING id, tenant, source, effect
	)
	SELECT id, tenant, source, effect FROM ins
	UNION ALL
	SELECT l.id, l.tenant, l.source, l.effect FROM url_lists l
		JOIN k ON l.tenant = k.tenant AND l.source = k.source AND l.effect = k.effect`,
		tenants, sources, effects)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	found := 0
	for rows.Next() {
		var k urlListKey
		var id int64
		if err := rows.Scan(&id, &k.tenant, &k.source, &k.effect); err != nil {
			return nil, err
		}
		if old, ok := ids[k]; !ok || old != 0 {
			return nil, fmt.Errorf("url list %q/%q/%q read twice or not asked for", k.tenant, k.source, k.effect)
		}
		ids[k] = id
		found++
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if found != len(ids) {
		return nil, fmt.Errorf("found %d of %d url lists", found, len(ids))
	}
	return ids, nil
}

// queueURLListChunk queues the statement applying chunk, whose changes
// all have the same Op. An entry changed twice in a chunk is applied
// (and so logged) at its first change only: the second would do nothing.
func queueURLListChunk(b *pgx.Batch, chunk []storage.URLListChange, ids map[urlListKey]int64) {
	seen := make(map[urlEntryKey]bool, len(chunk))
	lists := make([]int64, 0, len(chunk))
	hashes := make([][]byte, 0, len(chunk))
	ats := make([]int64, 0, len(chunk))
	for i := range chunk {
		c := &chunk[i]
		k := urlEntryKey{ids[urlListKey{c.Tenant, c.Source, c.Effect}], c.Hash}
		if seen[k] {
			continue
		}
		seen[k] = true
		lists, hashes, ats = append(lists, k.list), append(hashes, c.Hash[:]), append(ats, micros(c.At))
	}
	query := applyURLListAdds
	if chunk[0].Op == storage.URLListRemove {
		query = applyURLListRemoves
	}
	b.Queue(query, lists, hashes, ats)
}

// URLListChangesAfter implements storage.URLListStore. It reads the log
// a page at a time and calls fn between reads, holding no connection.
// Change ids commit in order (see AddURLListChanges), so a page never
// skips one that commits later.
func (s *Store) URLListChangesAfter(ctx context.Context, id int64, fn func(*storage.URLListChange) error) error {
	if err := s.isClosed(); err != nil {
		return err
	}
	page := make([]storage.URLListChange, 0, urlListPage)
	for {
		page = page[:0]
		if err := s.readURLListPage(ctx, id, &page); err != nil {
			return err
		}
		for i := range page {
			if err := fn(&page[i]); err != nil {
				return err
			}
		}
		if len(page) < urlListPage {
			return nil
		}
		id = page[len(page)-1].ID
	}
}

func (s *Store) readURLListPage(ctx context.Context, after int64, page *[]storage.URLListChange) error {
	rows, err := s.pool.Query(ctx, `SELECT c.id, l.tenant, l.source, l.effect, c.hash, c.op, c.at
		FROM url_list_changes c JOIN url_lists l ON l.id = c.list_id
		WHERE c.id > $1 ORDER BY c.id LIMIT $2`, after, urlListPage)
	if err != nil {
		return wrap("read url list changes", err)
	}
	defer rows.Close()
	var hash []byte
	for rows.Next() {
		var c storage.URLListChange
		var at int64
		if err := rows.Scan(&c.ID, &c.Tenant, &c.Source, &c.Effect, &hash, &c.Op, &at); err != nil {
			return wrap("read url list changes", err)
		}
		if len(hash) != len(c.Hash) {
			return fmt.Errorf("postgres: url list change %d has a hash of %d bytes", c.ID, len(hash))
		}
		copy(c.Hash[:], hash)
		c.At = fromMicros(at)
		*page = append(*page, c)
	}
	if err := rows.Err(); err != nil {
		return wrap("read url list changes", err)
	}
	return nil
}

// URLListEntries implements storage.URLListStore. It streams the entries
// from one query, calling fn as they arrive.
func (s *Store) URLListEntries(ctx context.Context, tenant, source string, fn func(*storage.URLListEntry) error) error {
	if err := s.isClosed(); err != nil {
		return err
	}
	rows, err := s.pool.Query(ctx, `SELECT l.effect, e.hash FROM url_lists l JOIN url_list_entries e ON e.list_id = l.id
		WHERE l.tenant = $1 AND l.source = $2`, tenant, source)
	if err != nil {
		return wrap("read url list entries", err)
	}
	defer rows.Close()
	e := storage.URLListEntry{Tenant: tenant, Source: source}
	var hash []byte
	for rows.Next() {
		if err := rows.Scan(&e.Effect, &hash); err != nil {
			return wrap("read url list entries", err)
		}
		if len(hash) != len(e.Hash) {
			return fmt.Errorf("postgres: url list entry of %s has a hash of %d bytes", source, len(hash))
		}
		copy(e.Hash[:], hash)
		if err := fn(&e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return wrap("read url list entries", err)
	}
	return nil
}

// URLListCounts implements storage.URLListStore.
func (s *Store) URLListCounts(ctx context.Context) ([]storage.URLListCount, error) {
	if err := s.isClosed(); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT l.tenant, l.source, l.effect, count(*)
		FROM url_lists l JOIN url_list_entries e ON e.list_id = l.id GROUP BY l.id`)
	if err != nil {
		return nil, wrap("count url list entries", err)
	}
	defer rows.Close()
	out := []storage.URLListCount{}
	for rows.Next() {
		var c storage.URLListCount
		if err := rows.Scan(&c.Tenant, &c.Source, &c.Effect, &c.Count); err != nil {
			return nil, wrap("count url list entries", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("count url list entries", err)
	}
	// Go's order, like the other backends.
	slices.SortFunc(out, func(a, b storage.URLListCount) int {
		return cmp.Or(cmp.Compare(a.Tenant, b.Tenant), cmp.Compare(a.Source, b.Source), cmp.Compare(a.Effect, b.Effect))
	})
	return out, nil
}
