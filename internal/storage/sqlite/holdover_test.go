package sqlite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/storage"
	"github.com/shopguard/shopguard/internal/storage/storagetest"
)

func openStore(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

// pauseWriter makes the writer hold events over, as during a WAL restart,
// until the returned channel is closed.
func pauseWriter(s *Store) chan struct{} {
	resume := make(chan struct{})
	s.pause <- resume
	return resume
}

func sameEvent(t *testing.T, got, want storage.Event) {
	t.Helper()
	want.Labels, got.Labels = nil, nil
	gj, _ := json.Marshal(got)
	wj, _ := json.Marshal(want)
	if string(gj) != string(wj) || got.Seq != want.Seq || got.Tenant != want.Tenant {
		t.Fatalf("event\n got %s (seq %d, %s)\nwant %s (seq %d, %s)", gj, got.Seq, got.Tenant, wj, want.Seq, want.Tenant)
	}
}

// While the writer is paused, saves are acknowledged from the holdover
// file, readable at once, numbered in order, checked for duplicates, and
// inserted with their seqs when the pause ends.
func TestHoldoverDuringPause(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, filepath.Join(t.TempDir(), "shopguard.db"))
	defer s.Close()
	at := time.Now()
	before := storagetest.NewEvent("t1", "ev_0", "ord_0", at)
	if err := s.SaveEvent(ctx, &before); err != nil {
		t.Fatal(err)
	}

	resume := pauseWriter(s)
	const n = 40
	evs := make([]storage.Event, n)
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range evs {
		evs[i] = storagetest.NewEvent("t1", fmt.Sprintf("ev_%d", i+1), fmt.Sprintf("ord_%d", i+1), at)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.SaveEvent(ctx, &evs[i])
		}()
	}
	wg.Wait()
	seen := map[int64]bool{}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("save %d while paused: %v", i, err)
		}
		if evs[i].Seq <= before.Seq || seen[evs[i].Seq] {
			t.Fatalf("event %d got seq %d (before: %d, seen: %v)", i, evs[i].Seq, before.Seq, seen[evs[i].Seq])
		}
		seen[evs[i].Seq] = true
	}
	if len(s.hold.held()) != n {
		t.Fatalf("%d events held, want %d", len(s.hold.held()), n)
	}
	// Readable while held, by id and by external id.
	got, err := s.Event(ctx, "t1", "ev_7")
	if err != nil {
		t.Fatal(err)
	}
	sameEvent(t, got, evs[6])
	if got, err = s.EventByExternalID(ctx, "t1", evs[9].Kind, "ord_10"); err != nil {
		t.Fatal(err)
	}
	sameEvent(t, got, evs[9])
	// Ids taken by stored or held events, or twice in one batch, conflict.
	for _, dup := range []storage.Event{
		storagetest.NewEvent("t1", "ev_0", "ord_new", at),  // stored id
		storagetest.NewEvent("t1", "ev_new", "ord_0", at),  // stored external id
		storagetest.NewEvent("t1", "ev_3", "ord_new2", at), // held id
		storagetest.NewEvent("t1", "ev_new3", "ord_5", at), // held external id
	} {
		if err := s.SaveEvent(ctx, &dup); !errors.Is(err, storage.ErrConflict) {
			t.Errorf("save of %s/%s while paused: %v, want a conflict", dup.ID, dup.ExternalID, err)
		}
	}
	other := storagetest.NewEvent("t2", "ev_3", "ord_5", at) // another tenant may
	if err := s.SaveEvent(ctx, &other); err != nil {
		t.Fatalf("other tenant's save while paused: %v", err)
	}

	// A label of a held event waits for its insert.
	labelled := make(chan error, 1)
	go func() {
		labelled <- s.AddLabel(ctx, &storage.Label{Tenant: "t1", EventID: "ev_2", Label: risk.LabelFraud, Source: "test",
			OccurredAt: at, CreatedAt: at})
	}()
	select {
	case err := <-labelled:
		t.Fatalf("label of a held event added during the pause: %v", err)
	case <-time.After(30 * time.Millisecond):
	}

	close(resume)
	if err := <-labelled; err != nil {
		t.Fatalf("label of a held event after the pause: %v", err)
	}
	after := storagetest.NewEvent("t1", "ev_after", "ord_after", at)
	if err := s.SaveEvent(ctx, &after); err != nil {
		t.Fatal(err)
	}
	if after.Seq <= other.Seq {
		t.Errorf("seq after the pause %d, want > %d", after.Seq, other.Seq)
	}
	if len(s.hold.held()) != 0 {
		t.Fatalf("%d events still held after the pause", len(s.hold.held()))
	}
	if fi, err := s.hold.f.Stat(); err != nil || fi.Size() != 0 {
		t.Fatalf("holdover file after the pause: %v, %v", fi, err)
	}
	for i := range evs {
		got, err := s.oneEvent(ctx, "stored", s.byID, "t1", evs[i].ID)
		if err != nil {
			t.Fatal(err)
		}
		sameEvent(t, got, evs[i])
	}
	stats, err := s.MinuteStats(ctx, "t1", at.Add(-time.Hour), at.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var count int64
	for _, m := range stats {
		count += m.Count
	}
	if count != n+2 {
		t.Errorf("minute counts = %d, want %d", count, n+2)
	}
}

// What a crash leaves in the holdover file is inserted at the next start,
// once, however often the process starts.
func TestHoldoverSurvivesCrash(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "shopguard.db")
	s := openStore(t, path)
	at := time.Now()
	resume := pauseWriter(s) // the writer never inserts them: the process "dies"
	evs := make([]storage.Event, 5)
	for i := range evs {
		evs[i] = storagetest.NewEvent("t1", fmt.Sprintf("ev_%d", i), fmt.Sprintf("ord_%d", i), at)
		if err := s.SaveEvent(ctx, &evs[i]); err != nil {
			t.Fatal(err)
		}
	}
	// A torn write at the end (never acknowledged) is ignored.
	torn := appendRecord(nil, &row{seq: 99, tenant: "t1", id: "torn"})
	if _, err := s.hold.f.Write(torn[:len(torn)-3]); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		s2 := openStore(t, path)
		for i := range evs {
			got, err := s2.oneEvent(ctx, "stored", s2.byID, "t1", evs[i].ID)
			if err != nil {
				t.Fatalf("after restart: %v", err)
			}
			sameEvent(t, got, evs[i])
		}
		if _, err := s2.Event(ctx, "t1", "torn"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("torn record: %v, want not found", err)
		}
		next := storagetest.NewEvent("t1", "ev_next", "ord_next", at)
		if err := s2.SaveEvent(ctx, &next); err != nil && !errors.Is(err, storage.ErrConflict) {
			t.Fatal(err)
		} else if err == nil && next.Seq <= evs[4].Seq {
			t.Errorf("seq after restart %d, want > %d", next.Seq, evs[4].Seq)
		}
		if err := s2.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// The "dead" process wakes up and inserts the same events: nothing changes.
	close(resume)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s3 := openStore(t, path)
	defer s3.Close()
	stats, err := s3.MinuteStats(ctx, "t1", at.Add(-time.Hour), at.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var count int64
	for _, m := range stats {
		count += m.Count
	}
	if count != 6 {
		t.Errorf("minute counts = %d, want 6 (5 held + 1)", count)
	}
	if n, _ := s3.MaxSeq(ctx); n != evs[4].Seq+1 {
		t.Errorf("MaxSeq = %d, want %d", n, evs[4].Seq+1)
	}
}

// A held event that cannot be written to the file is not acknowledged.
func TestHoldoverWriteFailure(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, filepath.Join(t.TempDir(), "shopguard.db"))
	resume := pauseWriter(s)
	f := s.hold.f
	ro, err := os.Open(f.Name()) // read-only: writes fail
	if err != nil {
		t.Fatal(err)
	}
	s.hold.f = ro
	e := storagetest.NewEvent("t1", "ev_1", "ord_1", time.Now())
	if err := s.SaveEvent(ctx, &e); err == nil {
		t.Fatal("save acknowledged though the holdover file cannot be written")
	}
	s.hold.f = f
	ro.Close()
	if err := s.SaveEvent(ctx, &e); err != nil {
		t.Fatalf("save after the file recovered: %v", err)
	}
	close(resume)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestRecordRoundTrip(t *testing.T) {
	for _, r := range []row{
		{seq: 1},
		{seq: 1 << 40, tenant: "t", id: "ev_1", kind: "transaction", ext: "o", occurred: -5, received: 1 << 50,
			amount: -3, currency: "EUR", score: 100, action: "block", rulesVersion: 7, modelVersion: "gbt-1",
			latency: 12, assessment: []byte(`{"score":100}`), payload: []byte(`{}`), envRaw: []byte("\x00\xff")},
	} {
		b := appendRecord(nil, &r)
		b = appendRecord(b, &r)
		got := readRecords(b)
		if len(got) != 2 {
			t.Fatalf("%d records read, want 2", len(got))
		}
		for _, g := range got {
			want := r
			for _, p := range []*[]byte{&want.assessment, &want.payload, &want.envRaw} {
				if *p == nil {
					*p = []byte{}
				}
			}
			if !reflect.DeepEqual(g, want) {
				t.Errorf("read %+v, want %+v", g, want)
			}
		}
		for cut := 1; cut < len(b)/2; cut++ {
			if n := len(readRecords(b[:len(b)/2-cut])); n != 0 {
				t.Fatalf("a record cut by %d bytes read as %d records", cut, n)
			}
		}
		b[len(b)-1] ^= 1
		if n := len(readRecords(b)); n != 1 {
			t.Errorf("a damaged second record: %d records read, want 1", n)
		}
	}
}

func FuzzReadRecords(f *testing.F) {
	f.Add(appendRecord(nil, &row{seq: 3, tenant: "t", id: "i", payload: []byte("{}")}))
	f.Add([]byte{})
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		rows := readRecords(data)
		// What is read writes back and reads again the same.
		var b []byte
		for i := range rows {
			if rows[i].seq <= 0 {
				t.Fatalf("row with seq %d", rows[i].seq)
			}
			b = appendRecord(b, &rows[i])
		}
		if again := readRecords(b); len(rows) > 0 && !reflect.DeepEqual(again, rows) {
			t.Fatalf("rows %+v read back as %+v", rows, again)
		}
	})
}

// A held event keeps its own copy of the caller's buffers, which the
// caller may reuse as soon as it is answered.
func TestHoldoverCopiesBuffers(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, filepath.Join(t.TempDir(), "shopguard.db"))
	defer s.Close()
	resume := pauseWriter(s)
	e := storagetest.NewEvent("t1", "ev_1", "ord_1", time.Now())
	payload, env := []byte(`{"id":"ord_1"}`), []byte(`{"amount_minor":1999}`)
	e.Payload, e.Env = payload, env
	if err := s.SaveEvent(ctx, &e); err != nil {
		t.Fatal(err)
	}
	for i := range payload {
		payload[i] = 'x'
	}
	for i := range env {
		env[i] = 'y'
	}
	close(resume)
	next := storagetest.NewEvent("t1", "ev_2", "ord_2", time.Now())
	if err := s.SaveEvent(ctx, &next); err != nil {
		t.Fatal(err)
	}
	got, err := s.oneEvent(ctx, "stored", s.byID, "t1", "ev_1")
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Payload) != `{"id":"ord_1"}` || string(got.Env) != `{"amount_minor":1999}` {
		t.Fatalf("stored %s / %s", got.Payload, got.Env)
	}
}
