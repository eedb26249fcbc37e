package features

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/risk"
)

// observeValues records n distinct values of dimension device on one key,
// spread evenly over span ending at end, and returns the store and key.
func observeValues(t testing.TB, cfg MemoryConfig, n int, end time.Time, span time.Duration, prefix string) (*Memory, Key) {
	t.Helper()
	m := NewMemory(cfg)
	k := Key{Tenant: "t", Scope: "s", Kind: risk.EntityIP, Value: "203.0.113.7"}
	start := end.Add(-span)
	for i := range n {
		at := start.Add(time.Duration(int64(span) / int64(n) * int64(i+1)))
		o := []Observation{{Key: k, Distinct: [MaxDistinct]Dim{{Kind: risk.EntityDevice, Value: fmt.Sprintf("%s-%d", prefix, i)}}}}
		if err := m.Apply(context.Background(), at, o); err != nil {
			t.Fatal(err)
		}
	}
	return m, k
}

// spreadWant returns, per window at end, how many of n values spread
// evenly over span ending at end the bucket rule counts.
func spreadWant(n int, end time.Time, span time.Duration) [NumWindows]int64 {
	q := newQuery(end.UnixNano())
	start := end.Add(-span)
	var want [NumWindows]int64
	for i := range n {
		sec := start.Add(time.Duration(int64(span) / int64(n) * int64(i+1))).Unix()
		for l := range nw {
			if sec >= q.lo[l] && sec <= q.hi[l] {
				want[l]++
			}
		}
	}
	return want
}

func TestSketchAccuracy(t *testing.T) {
	end := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		n    int
		span time.Duration
		seed string
	}{
		{200, time.Hour, "a"},
		{1000, time.Hour, "a"},
		{5000, time.Hour, "a"},
		{5000, time.Hour, "b"},
		{5000, time.Hour, "c"},
		{5000, 29 * 24 * time.Hour, "d"},
		{20000, 10 * 24 * time.Hour, "e"},
		{60000, 29 * 24 * time.Hour, "f"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d over %s %s", tc.n, tc.span, tc.seed), func(t *testing.T) {
			if testing.Short() && tc.n > 5000 {
				t.Skip("large set")
			}
			m, k := observeValues(t, MemoryConfig{DistinctCap: 64}, tc.n, end, tc.span, tc.seed)
			var out [1]Aggregates
			if err := m.Read(context.Background(), end, []Key{k}, [][]risk.EntityKind{{risk.EntityDevice}}, out[:]); err != nil {
				t.Fatal(err)
			}
			want := spreadWant(tc.n, end, tc.span)
			for l := range nw {
				got := out[0].Distinct[0][l]
				// Small counts sit in the linear-counting range: allow one
				// or two off; beyond that 10%.
				tol := max(2, 0.10*float64(want[l]))
				if math.Abs(float64(got-want[l])) > tol {
					t.Errorf("Distinct[%s] = %d, want %d ± %.0f", WindowNames[l], got, want[l], tol)
				}
			}
		})
	}
}

func TestSketchNewValueNeverFalse(t *testing.T) {
	end := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	m, k := observeValues(t, MemoryConfig{DistinctCap: 16}, 3000, end, 24*time.Hour, "v")
	var out [1]Aggregates
	for i := 0; i < 3000; i += 7 {
		o := []Observation{{Key: k, Distinct: [MaxDistinct]Dim{{Kind: risk.EntityDevice, Value: fmt.Sprintf("v-%d", i)}}}}
		if err := m.Observe(context.Background(), end.Add(time.Minute), o, out[:]); err != nil {
			t.Fatal(err)
		}
		if out[0].NewValue[0] {
			t.Fatalf("value %d seen before reported new", i)
		}
	}
	fresh := 0
	for i := range 1000 {
		o := []Observation{{Key: k, Distinct: [MaxDistinct]Dim{{Kind: risk.EntityDevice, Value: fmt.Sprintf("fresh-%d", i)}}}}
		if err := m.Observe(context.Background(), end.Add(2*time.Minute), o, out[:]); err != nil {
			t.Fatal(err)
		}
		if out[0].NewValue[0] {
			fresh++
		}
	}
	if fresh == 0 {
		t.Errorf("no fresh value reported new")
	}
	t.Logf("%d of 1000 fresh values reported new above the exact cap", fresh)
}

func TestSketchEstimatorEdges(t *testing.T) {
	s := newSketch(10, 0)
	var h [64]uint16
	h[0] = 1024
	if e := s.estimate(&h); e != 0 {
		t.Errorf("empty estimate = %v, want 0", e)
	}
	h[0], h[1] = 1023, 1
	if e := s.estimate(&h); math.Abs(e-1) > 0.01 {
		t.Errorf("one-value estimate = %v, want 1", e)
	}
	h = [64]uint16{}
	h[maxRank(10)] = 1024
	if e := roundEstimate(s.estimate(&h)); e <= 1<<50 {
		t.Errorf("saturated estimate = %v", e)
	}
}

func TestSketchPairsStayOrdered(t *testing.T) {
	// Out-of-order observations keep every register list sorted by time
	// with strictly falling ranks, which Restore also demands.
	s := newSketch(8, 1000)
	rng := uint64(1)
	for i := range 20000 {
		rng = rng*6364136223846793005 + 1442695040888963407
		ts := int64(2000 + i/4 - int(rng>>60))
		s.observe(fmix64(rng), ts, int64(2000+i/4))
	}
	for j := range 1 << 8 {
		list := s.list(j)
		for i := 1; i < len(list) && list[i] != 0; i++ {
			if s.pairTime(list[i]) <= s.pairTime(list[i-1]) || pairRank(list[i]) >= pairRank(list[i-1]) {
				t.Fatalf("register %d out of order: %x", j, list)
			}
		}
	}
}
