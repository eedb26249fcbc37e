package storagetest

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/storage"
)

// urlChange returns a change of expression expr (hashed as the URL lists
// hash it).
func urlChange(op, tenant, source, effect, expr string, at time.Time) storage.URLListChange {
	return storage.URLListChange{URLListEntry: storage.URLListEntry{Tenant: tenant, Hash: sha256.Sum256([]byte(expr)),
		Effect: effect, Source: source}, Op: op, At: at}
}

func mustAddURLChanges(t *testing.T, b storage.Backend, want int, changes ...storage.URLListChange) {
	t.Helper()
	n, err := b.AddURLListChanges(context.Background(), changes)
	if err != nil || n != want {
		t.Fatalf("AddURLListChanges(%d changes) = %d, %v; want %d logged", len(changes), n, err, want)
	}
}

// urlLog returns every logged change after id.
func urlLog(t *testing.T, b storage.Backend, id int64) []storage.URLListChange {
	t.Helper()
	var out []storage.URLListChange
	if err := b.URLListChangesAfter(context.Background(), id, func(c *storage.URLListChange) error {
		out = append(out, *c)
		return nil
	}); err != nil {
		t.Fatalf("URLListChangesAfter(%d): %v", id, err)
	}
	return out
}

// urlEntries returns the entries listed for tenant and source, sorted.
func urlEntries(t *testing.T, b storage.Backend, tenant, source string) []storage.URLListEntry {
	t.Helper()
	out := []storage.URLListEntry{}
	if err := b.URLListEntries(context.Background(), tenant, source, func(e *storage.URLListEntry) error {
		out = append(out, *e)
		return nil
	}); err != nil {
		t.Fatalf("URLListEntries(%q, %q): %v", tenant, source, err)
	}
	slices.SortFunc(out, func(a, b storage.URLListEntry) int {
		return cmp.Or(strings.Compare(a.Effect, b.Effect), bytes.Compare(a.Hash[:], b.Hash[:]))
	})
	return out
}

func testURLLists(t *testing.T, b storage.Backend) {
	ctx := context.Background()
	if log := urlLog(t, b, 0); len(log) != 0 {
		t.Fatalf("a new backend logs %d url list changes", len(log))
	}
	if counts, err := b.URLListCounts(ctx); err != nil || len(counts) != 0 {
		t.Fatalf("URLListCounts of a new backend = %+v, %v", counts, err)
	}
	at := base.Add(123 * time.Microsecond)
	const add, remove, block, allow = storage.URLListAdd, storage.URLListRemove, storage.URLListBlock, storage.URLListAllow
	first := []storage.URLListChange{
		urlChange(add, "", "urlhaus", block, "evil.test/payload.bin", at),
		urlChange(add, "", "urlhaus", block, "evil.test/payload.bin", at), // the same again: nothing to do
		urlChange(add, "", "openphish", block, "evil.test/payload.bin", at.Add(time.Second)),
		urlChange(add, "t1", "operator", allow, "shop.example/", at.Add(2*time.Second)),
		urlChange(add, "t2", "report", block, "evil.test/payload.bin", at.Add(3*time.Second)),
		urlChange(add, "", "urlhaus", allow, "evil.test/payload.bin", at.Add(4*time.Second)),
	}
	mustAddURLChanges(t, b, 5, first...)
	log := urlLog(t, b, 0)
	want := slices.Delete(slices.Clone(first), 1, 2)
	if len(log) != len(want) {
		t.Fatalf("logged %d changes, want %d: %+v", len(log), len(want), log)
	}
	for i := range log {
		if i > 0 && log[i].ID <= log[i-1].ID {
			t.Errorf("change %d has ID %d after %d: IDs must increase", i, log[i].ID, log[i-1].ID)
		}
		w := want[i]
		w.ID = log[i].ID
		if !reflect.DeepEqual(log[i], w) {
			t.Errorf("change %d = %+v, want %+v", i, log[i], w)
		}
	}
	// Adding listed entries again logs nothing; removing one does.
	mustAddURLChanges(t, b, 0, first...)
	mustAddURLChanges(t, b, 1, urlChange(remove, "", "openphish", block, "evil.test/payload.bin", at.Add(time.Hour)),
		urlChange(remove, "", "openphish", block, "never.test/", at.Add(time.Hour)))
	later := urlLog(t, b, log[len(log)-1].ID)
	if len(later) != 1 || later[0].Op != remove || later[0].Source != "openphish" || !later[0].At.Equal(at.Add(time.Hour)) {
		t.Fatalf("after the remove the log goes on with %+v", later)
	}
	if got := urlLog(t, b, later[0].ID); len(got) != 0 {
		t.Errorf("nothing after the last change, got %+v", got)
	}
	// An add and a remove of the same entry in one call are both logged.
	mustAddURLChanges(t, b, 3,
		urlChange(add, "t1", "operator", allow, "www.shop.example/", at),
		urlChange(remove, "t1", "operator", allow, "www.shop.example/", at),
		urlChange(add, "t1", "operator", allow, "www.shop.example/", at))

	if got := urlEntries(t, b, "", "openphish"); len(got) != 0 {
		t.Errorf("openphish entries after removal: %+v", got)
	}
	got := urlEntries(t, b, "", "urlhaus")
	if len(got) != 2 || got[0].Effect != allow || got[1].Effect != block || got[0].Hash != sha256.Sum256([]byte("evil.test/payload.bin")) {
		t.Errorf("urlhaus entries for every tenant = %+v", got)
	}
	if got := urlEntries(t, b, "t1", "urlhaus"); len(got) != 0 {
		t.Errorf("t1 has no urlhaus entries of its own, got %+v", got)
	}
	if got := urlEntries(t, b, "t1", "operator"); len(got) != 2 {
		t.Errorf("t1's operator entries = %+v, want 2", got)
	}
	counts, err := b.URLListCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantCounts := []storage.URLListCount{
		{Tenant: "", Source: "urlhaus", Effect: allow, Count: 1},
		{Tenant: "", Source: "urlhaus", Effect: block, Count: 1},
		{Tenant: "t1", Source: "operator", Effect: allow, Count: 2},
		{Tenant: "t2", Source: "report", Effect: block, Count: 1},
	}
	if !reflect.DeepEqual(counts, wantCounts) {
		t.Errorf("URLListCounts = %+v\nwant %+v", counts, wantCounts)
	}
	// fn's error stops the walk and comes back.
	stop := errors.New("stop")
	calls := 0
	err = b.URLListChangesAfter(ctx, 0, func(*storage.URLListChange) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("URLListChangesAfter with a failing fn = %v after %d calls", err, calls)
	}
	calls = 0
	err = b.URLListEntries(ctx, "t1", "operator", func(*storage.URLListEntry) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("URLListEntries with a failing fn = %v after %d calls", err, calls)
	}
}

func testURLListInvalidChanges(t *testing.T, b storage.Backend) {
	ctx := context.Background()
	ok := urlChange(storage.URLListAdd, "", "feed", storage.URLListBlock, "evil.test/", base)
	bad := map[string]func(*storage.URLListChange){
		"effect":          func(c *storage.URLListChange) { c.Effect = "deny" },
		"op":              func(c *storage.URLListChange) { c.Op = "upsert" },
		"empty source":    func(c *storage.URLListChange) { c.Source = "" },
		"overlong source": func(c *storage.URLListChange) { c.Source = string(make([]byte, storage.MaxURLListSource+1)) },
	}
	for name, spoil := range bad {
		c := ok
		spoil(&c)
		n, err := b.AddURLListChanges(ctx, []storage.URLListChange{ok, c})
		if !errors.Is(err, storage.ErrInvalidURLListChange) || n != 0 {
			t.Errorf("a change with a bad %s: %d, %v; want ErrInvalidURLListChange", name, n, err)
		}
	}
	if log := urlLog(t, b, 0); len(log) != 0 {
		t.Errorf("refused calls logged %+v", log)
	}
	if n, err := b.AddURLListChanges(ctx, nil); n != 0 || err != nil {
		t.Errorf("AddURLListChanges(nil) = %d, %v", n, err)
	}
}

// testURLListManyChanges writes more changes in one call than backends
// put in one statement, and reads back more than they read at once.
func testURLListManyChanges(t *testing.T, b storage.Backend) {
	const n = 20_000
	var changes []storage.URLListChange
	expr := func(i int) string { return fmt.Sprintf("host%d.evil.test/path/%d", i%7, i) }
	for i := range n {
		changes = append(changes, urlChange(storage.URLListAdd, "", "big", storage.URLListBlock, expr(i), base))
		if i%10 == 0 { // a duplicate, in the same chunk or an earlier one (never one removed below)
			changes = append(changes, urlChange(storage.URLListAdd, "", "big", storage.URLListBlock, expr(max(0, i-1000)), base))
		}
		if i%1500 == 1499 { // a short run of removes, one of an entry never listed
			changes = append(changes, urlChange(storage.URLListRemove, "", "big", storage.URLListBlock, expr(i-3), base),
				urlChange(storage.URLListRemove, "", "big", storage.URLListBlock, "never.test/", base))
		}
	}
	removes := n / 1500
	mustAddURLChanges(t, b, n+removes, changes...)
	log := urlLog(t, b, 0)
	if len(log) != n+removes {
		t.Fatalf("logged %d changes, want %d", len(log), n+removes)
	}
	// The log keeps the order the changes were given in.
	j := 0
	for _, c := range changes {
		if j < len(log) && log[j].Op == c.Op && log[j].Hash == c.Hash {
			j++
		}
	}
	if j != len(log) {
		t.Errorf("the log is not in the order given: matched %d of %d", j, len(log))
	}
	for i := 1; i < len(log); i++ {
		if log[i].ID <= log[i-1].ID {
			t.Fatalf("IDs out of order at %d: %d after %d", i, log[i].ID, log[i-1].ID)
		}
	}
	if got := urlEntries(t, b, "", "big"); len(got) != n-removes {
		t.Errorf("%d entries listed, want %d", len(got), n-removes)
	}
	if tail := urlLog(t, b, log[n-1].ID); len(tail) != len(log)-n || tail[0].ID != log[n].ID {
		t.Errorf("after change %d: %d changes, want %d from ID %d", n, len(tail), len(log)-n, log[n].ID)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.URLListChangesAfter(ctx, 0, func(*storage.URLListChange) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("URLListChangesAfter with a cancelled context = %v", err)
	}
}

func testURLListsClosed(t *testing.T, b storage.Backend) {
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c := urlChange(storage.URLListAdd, "", "feed", storage.URLListBlock, "evil.test/", base)
	if _, err := b.AddURLListChanges(ctx, []storage.URLListChange{c}); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("AddURLListChanges after Close = %v, want ErrClosed", err)
	}
	if err := b.URLListChangesAfter(ctx, 0, func(*storage.URLListChange) error { return nil }); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("URLListChangesAfter after Close = %v, want ErrClosed", err)
	}
	if err := b.URLListEntries(ctx, "", "feed", func(*storage.URLListEntry) error { return nil }); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("URLListEntries after Close = %v, want ErrClosed", err)
	}
	if _, err := b.URLListCounts(ctx); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("URLListCounts after Close = %v, want ErrClosed", err)
	}
}
