package features

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/risk"
)

// benchEvents returns n calls of 10 observations each, one per entity kind,
// each with 2 or 3 dimensions: 10·n keys in all, as a transaction touching
// its user, IP, prefix, device, email, domain, card, address, session and
// merchant would.
func benchEvents(n int) [][]Observation {
	kinds := risk.EntityKinds
	out := make([][]Observation, n)
	for i := range out {
		obs := make([]Observation, len(kinds))
		for j, kind := range kinds {
			o := Observation{
				Key:    Key{Tenant: "shop-1", Scope: "transaction", Kind: kind, Value: fmt.Sprintf("%s-value-%08d", kind, i)},
				Amount: float64(i%997) + 0.5,
			}
			o.Distinct[0] = Dim{Kind: kinds[(j+1)%len(kinds)], Value: fmt.Sprintf("dim-a-%d", i)}
			o.Distinct[1] = Dim{Kind: kinds[(j+2)%len(kinds)], Value: fmt.Sprintf("dim-b-%d", i%50)}
			if j%2 == 0 {
				o.Distinct[2] = Dim{Kind: kinds[(j+3)%len(kinds)], Value: fmt.Sprintf("dim-c-%d", i%7)}
			}
			obs[j] = o
		}
		out[i] = obs
	}
	return out
}

var benchStart = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)

// warmStore returns a store holding every key of events.
func warmStore(b *testing.B, events [][]Observation) *Memory {
	b.Helper()
	m := NewMemory(MemoryConfig{})
	for i, ev := range events {
		if err := m.Apply(context.Background(), benchStart.Add(time.Duration(i)*time.Millisecond), ev); err != nil {
			b.Fatal(err)
		}
	}
	return m
}

func BenchmarkObserve10(b *testing.B) {
	events := benchEvents(10_000)
	m := warmStore(b, events)
	out := make([]Aggregates, 10)
	ctx := context.Background()
	at := benchStart.Add(time.Hour)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := m.Observe(ctx, at.Add(time.Duration(i)*time.Millisecond), events[i%len(events)], out); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkObserve10Parallel(b *testing.B) {
	events := benchEvents(10_000)
	m := warmStore(b, events)
	ctx := context.Background()
	at := benchStart.Add(time.Hour)
	var seq atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		out := make([]Aggregates, 10)
		for pb.Next() {
			i := seq.Add(1)
			if err := m.Observe(ctx, at.Add(time.Duration(i)*time.Millisecond), events[int(i)%len(events)], out); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkRead10(b *testing.B) {
	events := benchEvents(10_000)
	m := warmStore(b, events)
	out := make([]Aggregates, 10)
	keys := make([][]Key, len(events))
	dims := make([][]risk.EntityKind, 10)
	for i, ev := range events {
		for _, o := range ev {
			keys[i] = append(keys[i], o.Key)
		}
	}
	for j, o := range events[0] {
		for _, d := range o.Distinct {
			if d.Kind != "" {
				dims[j] = append(dims[j], d.Kind)
			}
		}
	}
	ctx := context.Background()
	at := benchStart.Add(time.Hour)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := m.Read(ctx, at, keys[i%len(keys)], dims, out); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkObserveSketched observes a key whose dimension passed the exact
// cap, one new value per call, a second apart.
func BenchmarkObserveSketched(b *testing.B) {
	m := NewMemory(MemoryConfig{})
	k := Key{Tenant: "shop-1", Scope: "login", Kind: risk.EntityIP, Value: "203.0.113.9"}
	ctx := context.Background()
	vals := make([]string, 1<<16)
	for i := range vals {
		vals[i] = fmt.Sprint("device-", i)
	}
	obs := []Observation{{Key: k}}
	out := make([]Aggregates, 1)
	for i := range 10_000 {
		obs[0].Distinct[0] = Dim{Kind: risk.EntityDevice, Value: vals[i%len(vals)]}
		if err := m.Apply(ctx, benchStart.Add(time.Duration(i)*time.Second), obs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		obs[0].Distinct[0] = Dim{Kind: risk.EntityDevice, Value: vals[i%len(vals)]}
		if err := m.Observe(ctx, benchStart.Add(time.Duration(10_000+i)*time.Second), obs, out); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSnapshot(b *testing.B) {
	m := warmStore(b, benchEvents(10_000))
	b.ReportAllocs()
	b.ResetTimer()
	var n discardCounter
	for i := 0; i < b.N; i++ {
		n = 0
		if err := m.Snapshot(&n); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/float64(m.Len()), "B/key-on-disk")
	b.ReportMetric(float64(m.Len()), "keys")
}

// BenchmarkMemoryPerKey measures the heap that 100k keys, each observed
// once, take.
func BenchmarkMemoryPerKey(b *testing.B) {
	const n = 100_000
	for _, dims := range []int{0, 2, 3} {
		b.Run(fmt.Sprintf("dims=%d", dims), func(b *testing.B) {
			obs := make([]Observation, n)
			for i := range obs {
				obs[i].Key = Key{Tenant: "shop-1", Scope: "transaction", Kind: risk.EntityCard, Value: fmt.Sprintf("fp_%016x", i)}
				obs[i].Amount = 12.5
				for d := range dims {
					obs[i].Distinct[d] = Dim{Kind: risk.EntityKinds[d], Value: fmt.Sprintf("v%d-%d", d, i)}
				}
			}
			var perKey float64
			for i := 0; i < b.N; i++ {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				m := NewMemory(MemoryConfig{})
				for j := range obs {
					if err := m.Apply(context.Background(), benchStart, obs[j:j+1]); err != nil {
						b.Fatal(err)
					}
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				perKey = float64(after.HeapAlloc-before.HeapAlloc) / n
				runtime.KeepAlive(m)
			}
			b.ReportMetric(perKey, "B/key")
		})
	}
}

// BenchmarkObserve10Hot observes the same ten keys over and over: the
// cost of the computation itself, with every line in cache.
func BenchmarkObserve10Hot(b *testing.B) {
	events := benchEvents(10_000)
	m := warmStore(b, events)
	out := make([]Aggregates, 10)
	ctx := context.Background()
	at := benchStart.Add(time.Hour)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := m.Observe(ctx, at.Add(time.Duration(i)*time.Millisecond), events[0], out); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkObserveHistory observes sign-ins of customers whose scope keeps
// a 180-day history, each with a tag: 10k customers seen on 60 days each.
func BenchmarkObserveHistory(b *testing.B) {
	const users, days = 10_000, 60
	m := NewMemory(MemoryConfig{History: map[string]time.Duration{"login": 180 * 24 * time.Hour}})
	keys := make([]Key, users)
	for i := range keys {
		keys[i] = Key{Tenant: "shop-1", Scope: "login", Kind: risk.EntityUser, Value: fmt.Sprintf("user-%08d", i)}
	}
	tags := []string{"FR/Paris", "FR/Lyon", "DE/Berlin"}
	ctx := context.Background()
	obs := make([]Observation, 1)
	for d := range days {
		for i, k := range keys {
			obs[0] = Observation{Key: k, Tag: tags[(i+d)%len(tags)]}
			if err := m.Apply(ctx, benchStart.Add(time.Duration(d)*3*24*time.Hour+time.Duration(i)*time.Millisecond), obs); err != nil {
				b.Fatal(err)
			}
		}
	}
	out := make([]Aggregates, 1)
	at := benchStart.Add(days * 3 * 24 * time.Hour)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		obs[0] = Observation{Key: keys[i%users], Tag: tags[i%len(tags)]}
		if err := m.Observe(ctx, at.Add(time.Duration(i)*time.Millisecond), obs, out); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMemoryPerHistoryKey measures the heap that 20k keys take, each
// observed with a tag once a day on a number of days, of a scope with a
// 180-day history and, to compare, of one without.
func BenchmarkMemoryPerHistoryKey(b *testing.B) {
	const n = 20_000
	for _, scope := range []string{"transaction", "login"} {
		for _, days := range []int{1, 30, 180} {
			b.Run(fmt.Sprintf("scope=%s/days=%d", scope, days), func(b *testing.B) {
				obs := make([]Observation, n)
				for i := range obs {
					obs[i].Key = Key{Tenant: "shop-1", Scope: scope, Kind: risk.EntityUser, Value: fmt.Sprintf("user-%016x", i)}
					obs[i].Tag = "FR/Paris"
				}
				var perKey float64
				for i := 0; i < b.N; i++ {
					var before, after runtime.MemStats
					runtime.GC()
					runtime.ReadMemStats(&before)
					m := NewMemory(MemoryConfig{History: map[string]time.Duration{"login": 180 * 24 * time.Hour}})
					for d := range days {
						for j := range obs {
							if err := m.Apply(context.Background(), benchStart.Add(time.Duration(d)*24*time.Hour), obs[j:j+1]); err != nil {
								b.Fatal(err)
							}
						}
					}
					m.Sweep(benchStart.Add(time.Duration(days-1) * 24 * time.Hour))
					runtime.GC()
					runtime.ReadMemStats(&after)
					perKey = float64(after.HeapAlloc-before.HeapAlloc) / n
					runtime.KeepAlive(m)
				}
				b.ReportMetric(perKey, "B/key")
			})
		}
	}
}
