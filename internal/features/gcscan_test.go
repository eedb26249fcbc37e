package features

import (
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/risk"
)

// heapStats returns, right after a full collection, the heap the
// collector has to scan ("/gc/scan/heap:bytes") and the live heap.
func heapStats() (scan, live uint64) {
	runtime.GC()
	s := []metrics.Sample{{Name: "/gc/scan/heap:bytes"}}
	metrics.Read(s)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return s[0].Value.Uint64(), ms.HeapAlloc
}

// fillForGC observes n distinct keys the way live traffic does: each key
// four times over two days (buckets in every window, totals), with a
// distinct value of its own and one shared with other keys; every other key
// is of a history scope and carries tags. A few busy keys sketch a
// dimension.
func fillForGC(t testing.TB, m *Memory, n int) {
	t.Helper()
	ctx := context.Background()
	const batch = 10
	obs := make([]Observation, batch)
	base := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, step := range []time.Duration{0, 2 * time.Minute, 3 * time.Hour, 2 * day} {
		for from := 0; from < n; from += batch {
			for i := range obs {
				id := from + i
				scope := "transaction"
				tag := ""
				if id%2 == 1 {
					scope, tag = "login", fmt.Sprint("FR/city-", id%13)
				}
				obs[i] = Observation{
					Key:    Key{Tenant: "shop-1", Scope: scope, Kind: risk.EntityCard, Value: fmt.Sprintf("fp_%016x", id)},
					Amount: float64(id%97) + 0.25,
					Tag:    tag,
				}
				obs[i].Distinct[0] = Dim{Kind: risk.EntityDevice, Value: fmt.Sprint("dev-", id, "-", step)}
				obs[i].Distinct[1] = Dim{Kind: risk.EntityIP, Value: fmt.Sprint("ip-", id%1000)}
			}
			at := base.Add(step + time.Duration(from)*time.Microsecond)
			if err := m.Apply(ctx, at, obs[:min(batch, n-from)]); err != nil {
				t.Fatal(err)
			}
		}
	}
	busy := []Observation{{}}
	for k := range 20 {
		for v := range 100 {
			busy[0] = Observation{Key: Key{Tenant: "shop-1", Scope: "login", Kind: risk.EntityIP, Value: fmt.Sprint("busy-", k)}}
			busy[0].Distinct[0] = Dim{Kind: risk.EntityDevice, Value: fmt.Sprint("d", v)}
			if err := m.Apply(ctx, base.Add(2*day+time.Duration(v)*time.Second), busy); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestGCScannableHeapPerKey holds the store's keys invisible to the
// garbage collector: the heap it must scan grows by less than 8 bytes per
// key, so that its mark phase does not grow with the store.
func TestGCScannableHeapPerKey(t *testing.T) {
	const n = 200_000
	scan0, live0 := heapStats()
	m := NewMemory(MemoryConfig{History: map[string]time.Duration{"login": 90 * day}})
	fillForGC(t, m, n)
	scan1, live1 := heapStats()
	keys := m.Len()
	if keys != n+20 {
		t.Fatalf("store holds %d keys, want %d", keys, n+20)
	}
	scanPerKey := (float64(scan1) - float64(scan0)) / float64(keys)
	livePerKey := (float64(live1) - float64(live0)) / float64(keys)
	t.Logf("%d keys: %.1f scannable and %.1f live heap bytes per key", keys, scanPerKey, livePerKey)
	runtime.KeepAlive(m)
	if scanPerKey >= 8 {
		t.Errorf("the collector scans %.1f bytes per key, want under 8", scanPerKey)
	}
}
