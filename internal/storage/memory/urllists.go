package memory

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/shopguard/shopguard/internal/storage"
)

// urlLists holds the URL lists' current entries and their change log;
// Store's mutex guards it.
type urlLists struct {
	entries map[storage.URLListEntry]struct{}
	log     []storage.URLListChange // in ID order
	lastID  int64
}

func newURLLists() *urlLists {
	return &urlLists{entries: map[storage.URLListEntry]struct{}{}}
}

// AddURLListChanges implements storage.URLListStore.
func (s *Store) AddURLListChanges(ctx context.Context, changes []storage.URLListChange) (int, error) {
	for i := range changes {
		if err := changes[i].Validate(); err != nil {
			return 0, err
		}
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	ul := s.urlLists
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return 0, err
	}
	n := 0
	for _, c := range changes {
		_, listed := ul.entries[c.URLListEntry]
		switch {
		case c.Op == storage.URLListAdd && !listed:
			ul.entries[c.URLListEntry] = struct{}{}
		case c.Op == storage.URLListRemove && listed:
			delete(ul.entries, c.URLListEntry)
		default:
			continue
		}
		ul.lastID++
		c.ID = ul.lastID
		c.At = c.At.UTC().Truncate(time.Microsecond) // as sqlite stores it
		ul.log = append(ul.log, c)
		n++
	}
	return n, nil
}

// URLListChangesAfter implements storage.URLListStore. It copies the
// changes under the lock and calls fn without holding it.
func (s *Store) URLListChangesAfter(ctx context.Context, id int64, fn func(*storage.URLListChange) error) error {
	ul := s.urlLists
	s.mu.RLock()
	if err := s.check(); err != nil {
		s.mu.RUnlock()
		return err
	}
	i, _ := slices.BinarySearchFunc(ul.log, id, func(c storage.URLListChange, id int64) int {
		if c.ID <= id {
			return -1
		}
		return 1
	})
	out := slices.Clone(ul.log[i:])
	s.mu.RUnlock()
	for i := range out {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		c := out[i]
		if err := fn(&c); err != nil {
			return err
		}
	}
	return nil
}

// URLListEntries implements storage.URLListStore. It copies the entries
// under the lock and calls fn without holding it.
func (s *Store) URLListEntries(ctx context.Context, tenant, source string, fn func(*storage.URLListEntry) error) error {
	ul := s.urlLists
	s.mu.RLock()
	if err := s.check(); err != nil {
		s.mu.RUnlock()
		return err
	}
	var out []storage.URLListEntry
	for e := range ul.entries {
		if e.Tenant == tenant && e.Source == source {
			out = append(out, e)
		}
	}
	s.mu.RUnlock()
	for i := range out {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		e := out[i]
		if err := fn(&e); err != nil {
			return err
		}
	}
	return nil
}

// URLListCounts implements storage.URLListStore.
func (s *Store) URLListCounts(_ context.Context) ([]storage.URLListCount, error) {
	ul := s.urlLists
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(); err != nil {
		return nil, err
	}
	type key struct{ tenant, source, effect string }
	counts := map[key]int{}
	for e := range ul.entries {
		counts[key{e.Tenant, e.Source, e.Effect}]++
	}
	out := make([]storage.URLListCount, 0, len(counts))
	for k, n := range counts {
		out = append(out, storage.URLListCount{Tenant: k.tenant, Source: k.source, Effect: k.effect, Count: n})
	}
	slices.SortFunc(out, func(a, b storage.URLListCount) int {
		return cmp.Or(cmp.Compare(a.Tenant, b.Tenant), cmp.Compare(a.Source, b.Source), cmp.Compare(a.Effect, b.Effect))
	})
	return out, nil
}
