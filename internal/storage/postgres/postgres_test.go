package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shopguard/shopguard/internal/storage"
	"github.com/shopguard/shopguard/internal/storage/postgres"
	"github.com/shopguard/shopguard/internal/storage/postgres/pgtest"
	"github.com/shopguard/shopguard/internal/storage/storagetest"
)

// open opens a store on a fresh schema.
func open(t testing.TB) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), pgtest.Schema(t), postgres.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

// openAt opens another store on the database at u (the same schema), closed when the test ends.
func openAt(t testing.TB, u string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), u, postgres.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSuite(t *testing.T) {
	pgtest.URL(t)
	storagetest.Run(t, func(t *testing.T) storage.Backend { return open(t) })
}

func TestInstancesStartingTogetherMigrateOnce(t *testing.T) {
	u := pgtest.Schema(t)
	ctx := context.Background()
	const n = 4
	stores := make([]*postgres.Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { stores[i], errs[i] = postgres.Open(ctx, u, postgres.Options{}) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("instance %d: Open: %v", i, err)
		}
		defer stores[i].Close()
	}
	before, after, err := postgres.MigrateURL(ctx, u)
	if err != nil || before != after || after < 10 {
		t.Fatalf("MigrateURL after the instances = %d -> %d, %v; want no change", before, after, err)
	}
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var rows, distinct int
	if err := conn.QueryRow(ctx, "SELECT COUNT(*), COUNT(DISTINCT name) FROM schema_migrations").Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	if rows != after || distinct != after {
		t.Errorf("schema_migrations holds %d rows (%d names), want %d", rows, distinct, after)
	}
}

func TestManualMigration(t *testing.T) {
	u := pgtest.Schema(t)
	ctx := context.Background()
	if s, err := postgres.Open(ctx, u, postgres.Options{NoMigrate: true}); err == nil {
		s.Close()
		t.Fatal("Open with NoMigrate on an empty schema succeeded")
	} else if !strings.Contains(err.Error(), "shopguard migrate") {
		t.Errorf("Open with NoMigrate: %v; want advice to run shopguard migrate", err)
	}
	before, after, err := postgres.MigrateURL(ctx, u)
	if err != nil || before != 0 || after < 10 {
		t.Fatalf("MigrateURL = %d -> %d, %v", before, after, err)
	}
	s, err := postgres.Open(ctx, u, postgres.Options{NoMigrate: true})
	if err != nil {
		t.Fatalf("Open with NoMigrate after migrate: %v", err)
	}
	s.Close()
}

func TestReopenKeepsEverything(t *testing.T) {
	u := pgtest.Schema(t)
	ctx := context.Background()
	s, err := postgres.Open(ctx, u, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := storagetest.NewEvent("t1", "ev_1", "ord_1", time.Now())
	if err := s.SaveEvent(ctx, &e); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = postgres.Open(ctx, u, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Event(ctx, "t1", "ev_1")
	if err != nil || got.Seq != e.Seq {
		t.Fatalf("after reopen: %+v, %v", got, err)
	}
	// A new instance knows nothing of the partitions made: saving into
	// the same month again must work.
	e2 := storagetest.NewEvent("t1", "ev_2", "ord_2", time.Now())
	if err := s.SaveEvent(ctx, &e2); err != nil || e2.Seq <= e.Seq {
		t.Fatalf("second save: seq %d after %d, %v", e2.Seq, e.Seq, err)
	}
}

// TestMonthlyPartitions saves events across months and years, from two
// instances at once, and reads them back by time range.
func TestMonthlyPartitions(t *testing.T) {
	u := pgtest.Schema(t)
	ctx := context.Background()
	a := openAt(t, u)
	b := openAt(t, u)
	times := []time.Time{
		time.Date(1999, 12, 31, 23, 59, 59, 999999000, time.UTC),
		time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 2, 28, 12, 0, 0, 0, time.UTC),
		time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2031, 7, 4, 8, 0, 0, 0, time.FixedZone("x", -7*3600)),
	}
	var wg sync.WaitGroup
	for i, at := range times {
		for j, s := range []*postgres.Store{a, b} {
			wg.Go(func() {
				e := storagetest.NewEvent("t1", fmt.Sprintf("ev_%d_%d", i, j), fmt.Sprintf("ord_%d_%d", i, j), at)
				if err := s.SaveEvent(ctx, &e); err != nil {
					t.Errorf("save at %s: %v", at, err)
				}
			})
		}
	}
	wg.Wait()
	var got []time.Time
	err := a.ScanEvents(ctx, storage.EventQuery{Tenant: "t1", Kind: "transaction", From: times[1], To: times[4]},
		func(e *storage.Event) error { got = append(got, e.OccurredAt); return nil })
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Time{times[1], times[1], times[2], times[2], times[3], times[3]}
	if !slices.EqualFunc(got, want, time.Time.Equal) {
		t.Errorf("scan [2000-01, 2031-07) = %v, want %v", got, want)
	}
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var parts []string
	rows, _ := conn.Query(ctx, "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "+
		"WHERE i.inhparent = 'events'::regclass ORDER BY 1")
	parts, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	wantParts := []string{"events_p199912", "events_p200001", "events_p202602", "events_p202603", "events_p203107"}
	if !slices.Equal(parts, wantParts) {
		t.Errorf("partitions = %v, want %v", parts, wantParts)
	}
}

// TestSeqCommitOrder saves events from two instances at once while a
// reader follows them with EventsAfter from the highest seq it has seen,
// as the webhook notifier and a restarting instance do: it must see every
// event, which holds only if events commit in seq order.
func TestSeqCommitOrder(t *testing.T) {
	u := pgtest.Schema(t)
	ctx := context.Background()
	var stores []*postgres.Store
	for range 2 {
		s, err := postgres.Open(ctx, u, postgres.Options{CommitBatch: 8})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		stores = append(stores, s)
	}
	const writers, each = 6, 150
	var wg sync.WaitGroup
	for w := range writers {
		s := stores[w%2]
		wg.Go(func() {
			for i := range each {
				id := fmt.Sprintf("ev_%d_%d", w, i)
				e := storagetest.NewEvent("t1", id, "ord_"+id, time.Now())
				if err := s.SaveEvent(ctx, &e); err != nil {
					t.Errorf("save: %v", err)
					return
				}
			}
		})
	}
	stop := make(chan struct{})
	go func() { wg.Wait(); close(stop) }()
	seen := map[string]bool{}
	var cursor int64
	follow := func() {
		err := stores[0].EventsAfter(ctx, cursor, func(e *storage.Event) error {
			if seen[e.ID] {
				t.Errorf("event %s seen twice", e.ID)
			}
			seen[e.ID] = true
			cursor = e.Seq
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for done := false; !done; {
		select {
		case <-stop:
			done = true
		default:
		}
		follow()
	}
	follow()
	if len(seen) != writers*each {
		t.Errorf("the reader saw %d of %d events: some committed below a seq it had already passed", len(seen), writers*each)
	}
}

// TestChangesReachOtherInstances: rule and list changes made through one
// instance reach another's watcher within a second, changes in another
// schema do not, and a watcher whose connection is killed reconnects,
// says it may have missed changes and goes on.
func TestChangesReachOtherInstances(t *testing.T) {
	base := pgtest.URL(t)
	u := pgtest.Schema(t)
	ctx := context.Background()
	a := openAt(t, u)
	b := openAt(t, u)
	other := open(t) // another deployment in the same database
	defer other.Close()
	got := make(chan storage.Change, 100)
	b.WatchChanges(func(c storage.Change) { got <- c }, nil)
	expect := func(what string, want storage.Change) {
		t.Helper()
		deadline := time.After(time.Second)
		for {
			select {
			case c := <-got:
				if c == want {
					return
				}
				t.Errorf("%s: got change %+v, want %+v", what, c, want)
			case <-deadline:
				t.Fatalf("%s: no change %+v within a second", what, want)
			}
		}
	}
	quiet := func(what string) {
		t.Helper()
		select {
		case c := <-got:
			t.Errorf("%s: unexpected change %+v", what, c)
		case <-time.After(200 * time.Millisecond):
		}
	}
	// The watcher is listening once a change made after it started arrives.
	waitListening := func() {
		t.Helper()
		for i := range 50 {
			if err := a.SaveRuleSet(ctx, storage.RuleSet{Tenant: "warmup", Version: int64(i + 1), Rules: []byte("[]")}); err != nil {
				t.Fatal(err)
			}
			select {
			case c := <-got:
				if c.Tenant == "warmup" {
					for len(got) > 0 {
						<-got
					}
					return
				}
			case <-time.After(100 * time.Millisecond):
			}
		}
		t.Fatal("the watcher never heard a change")
	}
	waitListening()

	if err := a.SaveRuleSet(ctx, storage.RuleSet{Tenant: "t1", Version: 1, Rules: []byte("[]"), CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	expect("rules saved", storage.Change{Topic: storage.ChangeRules, Tenant: "t1"})
	if err := a.CreateList(ctx, storage.List{Tenant: "t2", Name: "vip", Kind: "email", Effect: "allow"}); err != nil {
		t.Fatal(err)
	}
	expect("list created", storage.Change{Topic: storage.ChangeLists, Tenant: "t2"})
	values := make([]string, 1000)
	for i := range values {
		values[i] = fmt.Sprintf("user%d@example.com", i)
	}
	if _, err := a.AddListEntries(ctx, "t2", "vip", values); err != nil {
		t.Fatal(err)
	}
	expect("entries added", storage.Change{Topic: storage.ChangeLists, Tenant: "t2"})
	quiet("after one transaction's thousand entries") // announced once
	if err := other.CreateList(ctx, storage.List{Tenant: "t1", Name: "x", Kind: "email", Effect: "block"}); err != nil {
		t.Fatal(err)
	}
	quiet("a change in another schema")

	// Kill the watcher's connection: it must reconnect by itself.
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var killed int
	if err := conn.QueryRow(ctx, `SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE query = 'LISTEN shopguard_changes' AND pid <> pg_backend_pid()`).Scan(&killed); err != nil || killed == 0 {
		t.Fatalf("terminating the listeners: %d, %v", killed, err)
	}
	expect("after reconnecting", storage.Change{})
	if err := a.DeleteList(ctx, "t2", "vip"); err != nil {
		t.Fatal(err)
	}
	expect("list deleted after the reconnect", storage.Change{Topic: storage.ChangeLists, Tenant: "t2"})
}

// TestDuplicatesInOneBatch: saves that clash on id or external id and
// land in one group commit: the first wins, the others are conflicts, and
// no clash is stored.
func TestDuplicatesInOneBatch(t *testing.T) {
	ctx := context.Background()
	s, err := postgres.Open(ctx, pgtest.Schema(t), postgres.Options{CommitDelay: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	saves := []storage.Event{
		storagetest.NewEvent("t1", "ev_a", "ord_a", time.Now()),
		storagetest.NewEvent("t1", "ev_a", "ord_b", time.Now()), // same id
		storagetest.NewEvent("t1", "ev_c", "ord_a", time.Now()), // same order id
		storagetest.NewEvent("t2", "ev_a", "ord_a", time.Now()), // another tenant: no clash
	}
	errs := make([]error, len(saves))
	var wg sync.WaitGroup
	for i := range saves {
		wg.Go(func() { errs[i] = s.SaveEvent(ctx, &saves[i]) })
	}
	wg.Wait()
	ids, exts := map[string]bool{}, map[string]bool{}
	for i, e := range saves {
		if errs[i] != nil {
			if !errors.Is(errs[i], storage.ErrConflict) {
				t.Errorf("save %d: %v, want a conflict", i, errs[i])
			}
			continue
		}
		got, err := s.Event(ctx, e.Tenant, e.ID)
		if err != nil || got.ExternalID != e.ExternalID || got.Seq != e.Seq {
			t.Errorf("saved %s/%s: read %+v, %v", e.ID, e.ExternalID, got, err)
		}
		if ids[e.Tenant+e.ID] || exts[e.Tenant+e.ExternalID] {
			t.Errorf("a clash was saved: %s/%s", e.ID, e.ExternalID)
		}
		ids[e.Tenant+e.ID], exts[e.Tenant+e.ExternalID] = true, true
	}
	if errs[3] != nil {
		t.Errorf("another tenant's event: %v", errs[3])
	}
	if n := len(ids); n < 2 || n > 3 {
		t.Errorf("%d events saved, want 2 or 3", n)
	}
}

// TestOthersAfter: a store reads from the log what other stores saved and
// passes over its own, reaching the end either way.
func TestOthersAfter(t *testing.T) {
	u := pgtest.Schema(t)
	ctx := context.Background()
	a := openAt(t, u)
	b := openAt(t, u)
	save := func(s *postgres.Store, id string) storage.Event {
		e := storagetest.NewEvent("t1", id, "ord_"+id, time.Now())
		if err := s.SaveEvent(ctx, &e); err != nil {
			t.Fatal(err)
		}
		return e
	}
	label := func(s *postgres.Store, id string) storage.Label {
		l := storage.Label{Tenant: "t1", EventID: id, Label: "fraud", Source: "test", CreatedAt: time.Now()}
		if err := s.AddLabel(ctx, &l); err != nil {
			t.Fatal(err)
		}
		return l
	}
	save(a, "ev_a1")
	eb := save(b, "ev_b1")
	ea := save(a, "ev_a2")
	label(b, "ev_a1")
	la := label(a, "ev_b1")

	var got []string
	last, err := a.OthersEventsAfter(ctx, 0, func(e *storage.Event) error { got = append(got, e.ID); return nil })
	if err != nil || last != ea.Seq || !slices.Equal(got, []string{"ev_b1"}) {
		t.Errorf("a.OthersEventsAfter(0) = %v, last %d, %v; want [ev_b1], last %d", got, last, err, ea.Seq)
	}
	got = nil
	last, err = b.OthersEventsAfter(ctx, eb.Seq, func(e *storage.Event) error { got = append(got, e.ID); return nil })
	if err != nil || last != ea.Seq || !slices.Equal(got, []string{"ev_a2"}) {
		t.Errorf("b.OthersEventsAfter(%d) = %v, last %d, %v; want [ev_a2]", eb.Seq, got, last, err)
	}
	if last, err := a.OthersEventsAfter(ctx, ea.Seq, func(*storage.Event) error { t.Error("an event past the end"); return nil }); err != nil || last != ea.Seq {
		t.Errorf("at the end: last %d, %v; want %d", last, err, ea.Seq)
	}
	var labels []string
	lastLabel, err := a.OthersLabelsAfter(ctx, 0, func(l *storage.Label) error { labels = append(labels, l.EventID); return nil })
	if err != nil || lastLabel != la.ID || !slices.Equal(labels, []string{"ev_a1"}) {
		t.Errorf("a.OthersLabelsAfter(0) = %v, last %d, %v; want [ev_a1] (b's label), last %d", labels, lastLabel, err, la.ID)
	}
	// A store opened again is another store: the rows of its past are others'.
	a2 := openAt(t, u)
	got = nil
	if _, err := a2.OthersEventsAfter(ctx, 0, func(e *storage.Event) error { got = append(got, e.ID); return nil }); err != nil || len(got) != 3 {
		t.Errorf("a new store's OthersEventsAfter(0) = %v, %v; want all three", got, err)
	}
}

// TestModels: model versions and roles are shared by every store on the
// database; roles name stored versions only.
func TestModels(t *testing.T) {
	u := pgtest.Schema(t)
	a, b := openAt(t, u), openAt(t, u)
	ctx := context.Background()
	if vs, err := a.ModelVersions(ctx, "shop", "transaction"); err != nil || len(vs) != 0 {
		t.Fatalf("versions of an empty store: %v %v", vs, err)
	}
	for _, v := range []string{"transaction-v2", "transaction-v1"} {
		if err := a.SaveModel(ctx, "shop", "transaction", v, []byte("model "+v)); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.SaveModel(ctx, "shop", "transaction", "transaction-v1", []byte("again")); !errors.Is(err, storage.ErrConflict) {
		t.Errorf("saving a version twice: %v, want ErrConflict", err)
	}
	if err := a.SaveModel(ctx, "other", "transaction", "transaction-v1", []byte("x")); err != nil {
		t.Fatal(err)
	}
	vs, err := b.ModelVersions(ctx, "shop", "transaction")
	if err != nil || !slices.Equal(vs, []string{"transaction-v1", "transaction-v2"}) {
		t.Errorf("versions on the other store: %v %v", vs, err)
	}
	if d, err := b.Model(ctx, "shop", "transaction", "transaction-v2"); err != nil || string(d) != "model transaction-v2" {
		t.Errorf("model on the other store: %q %v", d, err)
	}
	if _, err := b.Model(ctx, "shop", "transaction", "transaction-v9"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("missing model: %v, want ErrNotFound", err)
	}
	if err := a.SetModelRole(ctx, "shop", "transaction", "champion", "transaction-v9"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("role for a missing version: %v, want ErrNotFound", err)
	}
	for _, v := range []string{"transaction-v1", "transaction-v2"} {
		if err := a.SetModelRole(ctx, "shop", "transaction", "champion", v); err != nil {
			t.Fatal(err)
		}
		if got, err := b.ModelRole(ctx, "shop", "transaction", "champion"); err != nil || got != v {
			t.Errorf("champion on the other store: %q %v, want %s", got, err, v)
		}
	}
	if err := a.SetModelRole(ctx, "shop", "transaction", "champion", ""); err != nil {
		t.Fatal(err)
	}
	if got, err := b.ModelRole(ctx, "shop", "transaction", "champion"); err != nil || got != "" {
		t.Errorf("ended role: %q %v", got, err)
	}
	if ts, err := b.ModelTenants(ctx); err != nil || !slices.Equal(ts, []string{"other", "shop"}) {
		t.Errorf("tenants: %v %v", ts, err)
	}
}
