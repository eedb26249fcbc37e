package memory_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/storage"
	"github.com/shopguard/shopguard/internal/storage/memory"
	"github.com/shopguard/shopguard/internal/storage/storagetest"
)

func TestSuite(t *testing.T) {
	storagetest.Run(t, func(*testing.T) storage.Backend { return memory.New() })
}

func TestBoundedForgetsOldEvents(t *testing.T) {
	ctx := context.Background()
	s := memory.NewBounded(10)
	for i := range 25 {
		e := &storage.Event{Tenant: "t", ID: fmt.Sprintf("e%d", i), Kind: risk.EventLogin, ExternalID: fmt.Sprintf("x%d", i),
			OccurredAt: time.Unix(int64(i), 0).UTC(), ReceivedAt: time.Unix(int64(i), 0).UTC()}
		if err := s.SaveEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
		if e.Seq != int64(i+1) {
			t.Fatalf("event %d got seq %d", i, e.Seq)
		}
	}
	// 20 events made it forget the first 10; 25 are under twice the bound again.
	for i, want := range map[int]bool{0: false, 9: false, 10: true, 24: true} {
		_, err := s.Event(ctx, "t", fmt.Sprintf("e%d", i))
		if got := err == nil; got != want {
			t.Errorf("event e%d kept: %v, want %v (%v)", i, got, want, err)
		}
		if _, err := s.EventByExternalID(ctx, "t", risk.EventLogin, fmt.Sprintf("x%d", i)); (err == nil) != want {
			t.Errorf("external id x%d kept: %v, want %v", i, err == nil, want)
		}
	}
	n := 0
	if err := s.EventsAfter(ctx, 0, func(*storage.Event) error { n++; return nil }); err != nil || n != 15 {
		t.Errorf("EventsAfter saw %d events (%v), want 15", n, err)
	}
	if seq, _ := s.MaxSeq(ctx); seq != 25 {
		t.Errorf("MaxSeq %d, want 25", seq)
	}
}
