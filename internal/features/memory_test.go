package features

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/risk"
)

var t0 = time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)

func card(v string) Key {
	return Key{Tenant: "shop", Scope: "transaction", Kind: risk.EntityCard, Value: v}
}

func obs(k Key, amount float64, dims ...Dim) Observation {
	o := Observation{Key: k, Amount: amount}
	copy(o.Distinct[:], dims)
	return o
}

func device(v string) Dim { return Dim{Kind: risk.EntityDevice, Value: v} }

// observe1 records one observation and returns its aggregates.
func observe1(t *testing.T, m *Memory, at time.Time, o Observation) Aggregates {
	t.Helper()
	var out [1]Aggregates
	if err := m.Observe(context.Background(), at, []Observation{o}, out[:]); err != nil {
		t.Fatal(err)
	}
	return out[0]
}

// read1 reads one key with the given dimension kinds.
func read1(t *testing.T, m *Memory, at time.Time, k Key, kinds ...risk.EntityKind) Aggregates {
	t.Helper()
	var out [1]Aggregates
	if err := m.Read(context.Background(), at, []Key{k}, [][]risk.EntityKind{kinds}, out[:]); err != nil {
		t.Fatal(err)
	}
	return out[0]
}

func TestWindowEdges(t *testing.T) {
	// An event exactly W before the read is never counted; one W-g before
	// is always counted.
	for l := range nw {
		m := NewMemory(MemoryConfig{})
		k := card(fmt.Sprint("edge", l))
		W := WindowDurations[l]
		g := time.Duration(levels[l].gran)
		at := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC) // on every bucket boundary
		observe1(t, m, at, obs(k, 1))
		observe1(t, m, at.Add(g), obs(k, 2))
		a := read1(t, m, at.Add(W), k)
		if a.Count[l] != 1 || a.Sum[l] != 2 {
			t.Errorf("%s: Count=%d Sum=%v at W after the first event, want 1, 2", WindowNames[l], a.Count[l], a.Sum[l])
		}
		a = read1(t, m, at.Add(W-time.Nanosecond), k)
		if a.Count[l] != 2 {
			t.Errorf("%s: Count=%d just inside the window, want 2", WindowNames[l], a.Count[l])
		}
	}
}

func TestHashCollision(t *testing.T) {
	// Force two keys under one hash: both keep their own state.
	m := NewMemory(MemoryConfig{Shards: 1})
	k1, k2 := card("one"), card("two")
	h1 := hashKey(&k1)
	sh := m.shardOf(h1)
	sh.insert(h1, &k1, 0)
	e2 := sh.insert(h1, &k2, 0)
	if e := sh.lookup(h1, &k2); e == nil || e.key != e2.key || sh.lookup(h1, &k1).key == e2.key {
		t.Fatal("collision lookup broken")
	}
	q := newQuery(t0.UnixNano())
	var a Aggregates
	o := obs(k2, 5)
	if err := sh.observe(&m.cfg, h1, &[MaxDistinct]uint64{}, &o, &q, &a); err != nil || !a.New || a.Count[W1m] != 1 {
		t.Fatalf("observe collided key: %v %+v", err, a)
	}
	if err := sh.observe(&m.cfg, h1, &[MaxDistinct]uint64{}, &o, &q, &a); err != nil || a.New || a.Count[W1m] != 2 {
		t.Fatalf("observe collided key again: %v %+v", err, a)
	}
	if m.Len() != 2 {
		t.Errorf("Len = %d, want 2", m.Len())
	}
	// Sweep drops both once idle.
	if n := m.Sweep(t0.Add(Retention + time.Hour)); n != 2 || m.Len() != 0 {
		t.Errorf("Sweep dropped %d, Len %d", n, m.Len())
	}
}

func TestRetentionAndSweep(t *testing.T) {
	m := NewMemory(MemoryConfig{Shards: 4})
	for i := range 100 {
		at := t0.Add(time.Duration(i) * 24 * time.Hour)
		observe1(t, m, at, obs(card(fmt.Sprint("k", i)), 1, device("d")))
	}
	observe1(t, m, t0, obs(card("busy"), 1, device("a")))
	observe1(t, m, t0.Add(99*24*time.Hour), obs(card("busy"), 1, device("b")))
	now := t0.Add(99 * 24 * time.Hour)
	before := readAll(t, m, now)
	// Keys 0..68 have been idle for more than Retention (30d6h).
	if n := m.Sweep(now); n != 69 {
		t.Errorf("Sweep dropped %d keys, want 69", n)
	}
	if m.Len() != 32 {
		t.Errorf("Len = %d, want 32", m.Len())
	}
	after := readAll(t, m, now)
	for k, a := range before {
		if a.New {
			continue
		}
		if after[k] != a {
			t.Errorf("key %v changed by Sweep: %+v vs %+v", k, a, after[k])
		}
	}
	// The busy key forgot device a (last seen 99 days ago): seeing it
	// again is new.
	if a := observe1(t, m, now, obs(card("busy"), 1, device("a"))); !a.NewValue[0] || a.Distinct[0][W30d] != 2 {
		t.Errorf("busy key: %+v", a)
	}
	if n := m.Sweep(now.Add(Retention + time.Second)); n != 32 || m.Len() != 0 {
		t.Errorf("final Sweep dropped %d, Len %d", n, m.Len())
	}
}

// readAll reads every key of a store at at with the stream's kinds.
func readAll(t *testing.T, m *Memory, at time.Time) map[Key]Aggregates {
	t.Helper()
	var keys []Key
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		for _, e := range sh.keys {
			k, _ := decodeKey(e.key)
			keys = append(keys, k)
		}
		for _, e := range sh.coll {
			k, _ := decodeKey(e.key)
			keys = append(keys, k)
		}
		sh.mu.Unlock()
	}
	out := make([]Aggregates, len(keys))
	dims := make([][]risk.EntityKind, len(keys))
	for i := range dims {
		dims[i] = streamKinds
	}
	if err := m.Read(context.Background(), at, keys, dims, out); err != nil {
		t.Fatal(err)
	}
	res := make(map[Key]Aggregates, len(keys))
	for i, k := range keys {
		res[k] = out[i]
	}
	return res
}

func TestSweepKeepsResults(t *testing.T) {
	// Sweeping now and then changes no result at or after the sweep time.
	hist := map[string]time.Duration{"login": 45 * day, "transaction": 2 * day}
	tests := []struct {
		name   string
		stream streamConfig
		cfg    MemoryConfig
		jitter time.Duration // sweep this long before an event: none later is older
	}{
		{"in order", streamConfig{seed: 11, calls: 3000, keys: 30, values: 200, dimsPerOb: 3, longGaps: true}, MemoryConfig{DistinctCap: 16}, 0},
		{"in order with history", streamConfig{seed: 11, calls: 3000, keys: 30, values: 200, dimsPerOb: 3, longGaps: true}, MemoryConfig{DistinctCap: 16, History: hist}, 0},
		// Without sketches: a sketched kind idle for Retention goes back to
		// exact counting when swept, but stays sketched without sweeps.
		{"history and tags out of order", streamConfig{seed: 12, calls: 3000, keys: 30, values: 200, dimsPerOb: 3, longGaps: true, jitter: 2 * time.Hour, tags: 4}, MemoryConfig{DistinctCap: maxDistinctCap, History: hist}, 2 * time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stream := genStream(tc.stream)
			plain, swept := NewMemory(tc.cfg), NewMemory(tc.cfg)
			ctx := context.Background()
			for i, ev := range stream {
				a, b := make([]Aggregates, len(ev.obs)), make([]Aggregates, len(ev.obs))
				if err := plain.Observe(ctx, ev.at, ev.obs, a); err != nil {
					t.Fatal(err)
				}
				if err := swept.Observe(ctx, ev.at, ev.obs, b); err != nil {
					t.Fatal(err)
				}
				for j := range a {
					if a[j] != b[j] {
						t.Fatalf("call %d obs %d differs after sweeps:\n%+v\n%+v", i, j, a[j], b[j])
					}
				}
				if i%97 == 0 {
					swept.Sweep(ev.at.Add(-tc.jitter))
				}
			}
		})
	}
}

func TestDeterminism(t *testing.T) {
	stream := genStream(streamConfig{seed: 21, calls: 3000, keys: 40, values: 150, dimsPerOb: 4, jitter: time.Minute})
	run := func(cfg MemoryConfig) []Aggregates {
		m := NewMemory(cfg)
		var all []Aggregates
		for _, ev := range stream {
			out := make([]Aggregates, len(ev.obs))
			if err := m.Observe(context.Background(), ev.at, ev.obs, out); err != nil {
				t.Fatal(err)
			}
			all = append(all, out...)
		}
		return all
	}
	a := run(MemoryConfig{DistinctCap: 32})
	b := run(MemoryConfig{DistinctCap: 32, Shards: 1})
	c := run(MemoryConfig{DistinctCap: 32, Shards: 256})
	for i := range a {
		if a[i] != b[i] || a[i] != c[i] {
			t.Fatalf("observation %d differs between runs:\n%+v\n%+v\n%+v", i, a[i], b[i], c[i])
		}
	}
}

func TestApplyMatchesObserve(t *testing.T) {
	stream := genStream(streamConfig{seed: 31, calls: 1500, keys: 20, values: 100, dimsPerOb: 2, tags: 3})
	cfg := MemoryConfig{DistinctCap: 16, History: map[string]time.Duration{"login": 60 * day}}
	a, b := NewMemory(cfg), NewMemory(cfg)
	for _, ev := range stream {
		if err := a.Apply(context.Background(), ev.at, ev.obs); err != nil {
			t.Fatal(err)
		}
		if err := b.Observe(context.Background(), ev.at, ev.obs, make([]Aggregates, len(ev.obs))); err != nil {
			t.Fatal(err)
		}
	}
	end := stream[len(stream)-1].at
	ra, rb := readAll(t, a, end), readAll(t, b, end)
	if len(ra) != len(rb) {
		t.Fatalf("%d keys vs %d", len(ra), len(rb))
	}
	for k, x := range ra {
		if rb[k] != x {
			t.Errorf("key %v: Apply %+v, Observe %+v", k, x, rb[k])
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	m := NewMemory(MemoryConfig{Shards: 8, DistinctCap: 8})
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stream := genStream(streamConfig{seed: uint64(100 + g), calls: 800, keys: 30, values: 50, dimsPerOb: 3, jitter: time.Minute})
			for _, ev := range stream {
				out := make([]Aggregates, len(ev.obs))
				if err := m.Observe(ctx, ev.at, ev.obs, out); err != nil {
					t.Error(err)
					return
				}
				keys := []Key{ev.obs[0].Key}
				if err := m.Read(ctx, ev.at, keys, [][]risk.EntityKind{streamKinds}, out[:1]); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 5 {
			var buf discardCounter
			if err := m.Snapshot(&buf); err != nil {
				t.Error(err)
			}
			m.Sweep(t0)
			_ = m.Len()
		}
	}()
	wg.Wait()
}

// discardCounter is an io.Writer that counts bytes.
type discardCounter int64

func (d *discardCounter) Write(p []byte) (int, error) {
	*d += discardCounter(len(p))
	return len(p), nil
}

func TestConfigDefaults(t *testing.T) {
	tests := []struct {
		in, want MemoryConfig
	}{
		{MemoryConfig{}, MemoryConfig{Shards: 128, DistinctCap: 64, SketchPrecision: 10}},
		{MemoryConfig{Shards: 100, DistinctCap: 1 << 20, SketchPrecision: 3}, MemoryConfig{Shards: 128, DistinctCap: maxDistinctCap, SketchPrecision: minPrecision}},
		{MemoryConfig{Shards: 1, DistinctCap: 1, SketchPrecision: 99}, MemoryConfig{Shards: 1, DistinctCap: 1, SketchPrecision: maxPrecision}},
		{MemoryConfig{Shards: 1 << 20}, MemoryConfig{Shards: 4096, DistinctCap: 64, SketchPrecision: 10}},
		{MemoryConfig{History: map[string]time.Duration{}}, MemoryConfig{Shards: 128, DistinctCap: 64, SketchPrecision: 10}},
		{
			MemoryConfig{History: map[string]time.Duration{
				"login": 180 * day, "a": day + time.Nanosecond, "b": time.Hour, "c": 0, "d": -day,
				"e": 1000 * day, "f": MaxHistory - time.Minute, "g": 7 * day,
			}},
			MemoryConfig{Shards: 128, DistinctCap: 64, SketchPrecision: 10, History: map[string]time.Duration{
				"login": 180 * day, "a": 2 * day, "b": day, "c": day, "d": day,
				"e": MaxHistory, "f": MaxHistory, "g": 7 * day,
			}},
		},
	}
	for _, tc := range tests {
		if got := NewMemory(tc.in).cfg; !reflect.DeepEqual(got, tc.want) {
			t.Errorf("NewMemory(%+v).cfg = %+v, want %+v", tc.in, got, tc.want)
		}
	}
	// NewMemory works on a copy of the caller's map.
	h := map[string]time.Duration{"login": 36 * time.Hour}
	m := NewMemory(MemoryConfig{History: h})
	h["login"] = time.Hour
	if h["other"] = day; m.cfg.History["login"] != 2*day || len(m.cfg.History) != 1 {
		t.Errorf("the store's history windows follow the caller's map: %v", m.cfg.History)
	}
}

func TestDistinctWindowsMask(t *testing.T) {
	// Two stores see the same sketched stream; one asks only for 1h and 30d.
	all := NewMemory(MemoryConfig{DistinctCap: 4})
	some := NewMemory(MemoryConfig{DistinctCap: 4})
	mask := Windows(W1h, W30d)
	if !mask.Has(W1h) || mask.Has(W24h) || !WindowMask(0).Has(W24h) || AllWindows != Windows(W1m, W1h, W24h, W7d, W30d) {
		t.Fatalf("mask arithmetic wrong: %08b", mask)
	}
	for i := range 300 {
		at := t0.Add(time.Duration(i) * 7 * time.Second)
		o := obs(card("busy"), 1, device(fmt.Sprint("d", i%120)))
		a := observe1(t, all, at, o)
		o.DistinctWindows = mask
		b := observe1(t, some, at, o)
		for _, w := range []Window{W1h, W30d} {
			if a.Distinct[0][w] != b.Distinct[0][w] {
				t.Fatalf("event %d window %s: masked %d, unmasked %d", i, WindowNames[w], b.Distinct[0][w], a.Distinct[0][w])
			}
		}
		if a.Count != b.Count || a.NewValue != b.NewValue {
			t.Fatalf("event %d: the mask changed counts or new-value flags", i)
		}
	}
	// Reads report every window whatever observations asked for.
	if r := read1(t, some, t0.Add(300*7*time.Second), card("busy"), risk.EntityDevice); r.Distinct[0][W24h] < 100 {
		t.Errorf("read after masked observations: 24h distinct = %d", r.Distinct[0][W24h])
	}
}
