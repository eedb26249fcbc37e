package sqlite

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/shopguard/shopguard/internal/storage"
)

// urlListChunk is how many changes one statement writes: a few thousand
// bound values, well under SQLite's limit of 32766.
const urlListChunk = 1000

// urlListPage is how many logged changes one read returns, so that
// replaying a long log does not hold a read transaction (and with it the
// WAL checkpoint) for its whole length.
const urlListPage = 8192

// listKey names one list: a tenant's entries from a source with an effect.
type listKey struct{ tenant, source, effect string }

// entryKey is an entry as stored: its list's id and its hash.
type entryKey struct {
	list int64
	hash [32]byte
}

// AddURLListChanges implements storage.URLListStore. Each run of adds
// (or removes) is written a chunk at a time: one statement changes the
// entries and returns those it changed, a second logs them.
func (s *Store) AddURLListChanges(ctx context.Context, changes []storage.URLListChange) (int, error) {
	for i := range changes {
		if err := changes[i].Validate(); err != nil {
			return 0, err
		}
	}
	n := 0
	err := s.inTx(ctx, "add url list changes", func(tx *sql.Tx) error {
		n = 0
		ids := map[listKey]int64{}
		keys := make([]entryKey, len(changes))
		for i := range changes {
			c := &changes[i]
			k := listKey{c.Tenant, c.Source, c.Effect}
			id, ok := ids[k]
			if !ok {
				var err error
				if id, err = listID(ctx, tx, k); err != nil {
					return err
				}
				ids[k] = id
			}
			keys[i] = entryKey{id, c.Hash}
		}
		stmts := urlListStmts{tx: tx, prepared: map[urlListStmt]*sql.Stmt{}}
		defer stmts.close()
		for start := 0; start < len(changes); {
			end := start + 1
			for end < len(changes) && end-start < urlListChunk && changes[end].Op == changes[start].Op {
				end++
			}
			logged, err := stmts.apply(ctx, changes[start:end], keys[start:end])
			if err != nil {
				return err
			}
			n += logged
			start = end
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// listID returns the id of list k, creating the list if need be.
func listID(ctx context.Context, tx *sql.Tx, k listKey) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO url_lists (tenant, source, effect) VALUES (?, ?, ?)
		ON CONFLICT (tenant, source, effect) DO UPDATE SET tenant = excluded.tenant RETURNING id`,
		k.tenant, k.source, k.effect).Scan(&id)
	return id, err
}

// urlListStmt names a statement of a chunk: what it does to how many rows.
type urlListStmt struct {
	op   string // storage.URLListAdd, storage.URLListRemove or "log"
	rows int
}

// urlListStmts prepares each statement once per transaction: most chunks
// are full, and parsing a statement of a thousand rows costs as much as
// running it.
type urlListStmts struct {
	tx       *sql.Tx
	prepared map[urlListStmt]*sql.Stmt
}

func (p *urlListStmts) close() {
	for _, st := range p.prepared {
		st.Close()
	}
}

// stmt returns the prepared statement k.
func (p *urlListStmts) stmt(ctx context.Context, k urlListStmt) (*sql.Stmt, error) {
	if st, ok := p.prepared[k]; ok {
		return st, nil
	}
	var query string
	switch values := strings.TrimSuffix(strings.Repeat("(?,?),", k.rows), ","); k.op {
	case storage.URLListAdd:
		query = `INSERT INTO url_list_entries (list_id, hash) VALUES ` + values + ` ON CONFLICT DO NOTHING RETURNING list_id, hash`
	case storage.URLListRemove:
		query = `DELETE FROM url_list_entries WHERE (list_id, hash) IN (VALUES ` + values + `) RETURNING list_id, hash`
	default:
		query = `INSERT INTO url_list_changes (list_id, hash, op, at) VALUES ` +
			strings.TrimSuffix(strings.Repeat("(?,?,?,?),", k.rows), ",")
	}
	st, err := p.tx.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	p.prepared[k] = st
	return st, nil
}

// apply applies changes that all have the same Op (keys are their
// entries) and logs those that changed the entries, in the order given.
func (p *urlListStmts) apply(ctx context.Context, chunk []storage.URLListChange, keys []entryKey) (int, error) {
	first := make(map[entryKey]int, len(chunk))
	order := make([]int, 0, len(chunk))
	for i, k := range keys {
		if _, dup := first[k]; !dup {
			first[k] = i
			order = append(order, i)
		}
	}
	// In key order, so that a sorted feed fills the table in order.
	slices.SortFunc(order, func(a, b int) int {
		return cmp.Or(cmp.Compare(keys[a].list, keys[b].list), bytes.Compare(keys[a].hash[:], keys[b].hash[:]))
	})
	args := make([]any, 0, 2*len(order))
	for _, i := range order {
		args = append(args, keys[i].list, keys[i].hash[:])
	}
	change, err := p.stmt(ctx, urlListStmt{chunk[0].Op, len(order)})
	if err != nil {
		return 0, err
	}
	rows, err := change.QueryContext(ctx, args...)
	if err != nil {
		return 0, err
	}
	var changed []int // indexes into chunk
	var hash []byte
	for rows.Next() {
		var k entryKey
		if err := rows.Scan(&k.list, &hash); err != nil {
			rows.Close()
			return 0, err
		}
		copy(k.hash[:], hash)
		i, ok := first[k]
		if !ok || len(hash) != len(k.hash) {
			rows.Close()
			return 0, fmt.Errorf("changed an entry it was not given (list %d, %x)", k.list, hash)
		}
		changed = append(changed, i)
	}
	if err := rows.Close(); err != nil {
		return 0, err
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if len(changed) == 0 {
		return 0, nil
	}
	slices.Sort(changed)
	args = args[:0]
	for _, i := range changed {
		args = append(args, keys[i].list, keys[i].hash[:], chunk[i].Op, micros(chunk[i].At))
	}
	log, err := p.stmt(ctx, urlListStmt{"log", len(changed)})
	if err != nil {
		return 0, err
	}
	if _, err := log.ExecContext(ctx, args...); err != nil {
		return 0, err
	}
	return len(changed), nil
}

// URLListChangesAfter implements storage.URLListStore. It reads the log
// a page at a time and calls fn between reads, holding no transaction.
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
	rows, err := s.read.QueryContext(ctx, `SELECT c.id, l.tenant, l.source, l.effect, c.hash, c.op, c.at
		FROM url_list_changes c JOIN url_lists l ON l.id = c.list_id
		WHERE c.id > ? ORDER BY c.id LIMIT ?`, after, urlListPage)
	if err != nil {
		return fmt.Errorf("sqlite: read url list changes: %w", err)
	}
	defer rows.Close()
	var hash []byte
	for rows.Next() {
		var c storage.URLListChange
		var at int64
		if err := rows.Scan(&c.ID, &c.Tenant, &c.Source, &c.Effect, &hash, &c.Op, &at); err != nil {
			return fmt.Errorf("sqlite: read url list changes: %w", err)
		}
		if len(hash) != len(c.Hash) {
			return fmt.Errorf("sqlite: url list change %d has a hash of %d bytes", c.ID, len(hash))
		}
		copy(c.Hash[:], hash)
		c.At = fromMicros(at)
		*page = append(*page, c)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: read url list changes: %w", err)
	}
	return nil
}

// URLListEntries implements storage.URLListStore.
func (s *Store) URLListEntries(ctx context.Context, tenant, source string, fn func(*storage.URLListEntry) error) error {
	if err := s.isClosed(); err != nil {
		return err
	}
	rows, err := s.read.QueryContext(ctx, `SELECT l.effect, e.hash FROM url_lists l JOIN url_list_entries e ON e.list_id = l.id
		WHERE l.tenant = ? AND l.source = ?`, tenant, source)
	if err != nil {
		return fmt.Errorf("sqlite: read url list entries: %w", err)
	}
	defer rows.Close()
	e := storage.URLListEntry{Tenant: tenant, Source: source}
	var hash []byte
	for rows.Next() {
		if err := rows.Scan(&e.Effect, &hash); err != nil {
			return fmt.Errorf("sqlite: read url list entries: %w", err)
		}
		if len(hash) != len(e.Hash) {
			return fmt.Errorf("sqlite: url list entry of %s has a hash of %d bytes", source, len(hash))
		}
		copy(e.Hash[:], hash)
		if err := fn(&e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: read url list entries: %w", err)
	}
	return nil
}

// URLListCounts implements storage.URLListStore.
func (s *Store) URLListCounts(ctx context.Context) ([]storage.URLListCount, error) {
	if err := s.isClosed(); err != nil {
		return nil, err
	}
	rows, err := s.read.QueryContext(ctx, `SELECT l.tenant, l.source, l.effect, count(*)
		FROM url_lists l JOIN url_list_entries e ON e.list_id = l.id GROUP BY l.id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: count url list entries: %w", err)
	}
	defer rows.Close()
	out := []storage.URLListCount{}
	for rows.Next() {
		var c storage.URLListCount
		if err := rows.Scan(&c.Tenant, &c.Source, &c.Effect, &c.Count); err != nil {
			return nil, fmt.Errorf("sqlite: count url list entries: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: count url list entries: %w", err)
	}
	// Go's order, not SQLite's collation, so that every backend agrees.
	slices.SortFunc(out, func(a, b storage.URLListCount) int {
		return cmp.Or(cmp.Compare(a.Tenant, b.Tenant), cmp.Compare(a.Source, b.Source), cmp.Compare(a.Effect, b.Effect))
	})
	return out, nil
}
