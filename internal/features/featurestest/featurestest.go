// Package featurestest is the suite every features.Store passes: the
// behaviour features.Memory documents, checked through the Store
// interface only (Run), and identical results to features.Memory on long
// random streams (Differential), so that a store kept elsewhere (Redis)
// is held to exactly Memory's semantics.
package featurestest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/features"
	"github.com/shopguard/shopguard/internal/risk"
)

// Opener returns an empty store configured by cfg (a store may ignore
// Shards), closed or emptied by the test's cleanup.
type Opener func(t *testing.T, cfg features.MemoryConfig) features.Store

// Run runs the behaviour suite against the stores open returns.
func Run(t *testing.T, open Opener) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, Opener)
	}{
		{"ObserveSequence", testObserveSequence},
		{"OutOfOrder", testOutOfOrder},
		{"TenantIsolation", testTenantIsolation},
		{"EmptyValueReadsAsNew", testEmptyValueReadsAsNew},
		{"Validation", testValidation},
		{"ReadSemantics", testReadSemantics},
		{"DimKindCap", testDimKindCap},
		{"DistinctCapSwitch", testDistinctCapSwitch},
		{"NewKindsTakeSlotsOfTheirOwn", testNewKindsTakeSlotsOfTheirOwn},
		{"HistoryCounts", testHistoryCounts},
		{"Tags", testTags},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

var t0 = time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

// d0 is midnight UTC, the start of a day.
var d0 = time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)

func card(v string) features.Key {
	return features.Key{Tenant: "shop", Scope: "transaction", Kind: risk.EntityCard, Value: v}
}

func login(v string) features.Key {
	return features.Key{Tenant: "shop", Scope: "login", Kind: risk.EntityUser, Value: v}
}

func obs(k features.Key, amount float64, dims ...features.Dim) features.Observation {
	o := features.Observation{Key: k, Amount: amount}
	copy(o.Distinct[:], dims)
	return o
}

func device(v string) features.Dim { return features.Dim{Kind: risk.EntityDevice, Value: v} }

// observe1 records one observation and returns its aggregates.
func observe1(t *testing.T, m features.Store, at time.Time, o features.Observation) features.Aggregates {
	t.Helper()
	var out [1]features.Aggregates
	if err := m.Observe(context.Background(), at, []features.Observation{o}, out[:]); err != nil {
		t.Fatal(err)
	}
	return out[0]
}

// read1 reads one key with the given dimension kinds.
func read1(t *testing.T, m features.Store, at time.Time, k features.Key, kinds ...risk.EntityKind) features.Aggregates {
	t.Helper()
	var out [1]features.Aggregates
	if err := m.Read(context.Background(), at, []features.Key{k}, [][]risk.EntityKind{kinds}, out[:]); err != nil {
		t.Fatal(err)
	}
	return out[0]
}

func testObserveSequence(t *testing.T, open Opener) {
	m := open(t, features.MemoryConfig{})
	k := card("fp_1")
	steps := []struct {
		at       time.Duration // after t0
		amount   float64
		dev      string
		count    [features.NumWindows]int64
		sum1h    float64
		devices  [features.NumWindows]int64
		newValue bool
		isNew    bool
	}{
		{0, 10, "d1", [5]int64{1, 1, 1, 1, 1}, 10, [5]int64{1, 1, 1, 1, 1}, true, true},
		{10 * time.Second, 20, "d2", [5]int64{2, 2, 2, 2, 2}, 30, [5]int64{2, 2, 2, 2, 2}, true, false},
		{2 * time.Minute, 5, "d1", [5]int64{1, 3, 3, 3, 3}, 35, [5]int64{1, 2, 2, 2, 2}, false, false},
		{2 * time.Hour, 1, "d3", [5]int64{1, 1, 4, 4, 4}, 1, [5]int64{1, 1, 3, 3, 3}, true, false},
		{3 * 24 * time.Hour, 2, "d2", [5]int64{1, 1, 1, 5, 5}, 2, [5]int64{1, 1, 1, 3, 3}, false, false},
		{20 * 24 * time.Hour, 3, "d4", [5]int64{1, 1, 1, 1, 6}, 3, [5]int64{1, 1, 1, 1, 4}, true, false},
		{60 * 24 * time.Hour, 4, "d1", [5]int64{1, 1, 1, 1, 1}, 4, [5]int64{1, 1, 1, 1, 1}, true, true},
	}
	var prev time.Time
	first := t0
	for i, s := range steps {
		at := t0.Add(s.at)
		a := observe1(t, m, at, obs(k, s.amount, device(s.dev)))
		if s.isNew {
			first, prev = at, time.Time{}
		}
		if a.New != s.isNew || !a.FirstSeen.Equal(first) || !a.PrevSeen.Equal(prev) {
			t.Errorf("step %d: New=%v FirstSeen=%v PrevSeen=%v, want %v %v %v", i, a.New, a.FirstSeen, a.PrevSeen, s.isNew, first, prev)
		}
		if a.Count != s.count || a.Sum[features.W1h] != s.sum1h {
			t.Errorf("step %d: Count=%v Sum1h=%v, want %v %v", i, a.Count, a.Sum[features.W1h], s.count, s.sum1h)
		}
		if a.Distinct[0] != s.devices || a.NewValue[0] != s.newValue {
			t.Errorf("step %d: Distinct=%v NewValue=%v, want %v %v", i, a.Distinct[0], a.NewValue[0], s.devices, s.newValue)
		}
		if a.Distinct[1] != ([features.NumWindows]int64{}) {
			t.Errorf("step %d: unused dim reports %v", i, a.Distinct[1])
		}
		prev = at
	}
}

func testOutOfOrder(t *testing.T, open Opener) {
	m := open(t, features.MemoryConfig{})
	k := card("late")
	observe1(t, m, t0, obs(k, 1, device("a")))
	observe1(t, m, t0.Add(30*time.Minute), obs(k, 2, device("b")))
	// A late event 20 minutes back counts in its bucket; its windows do not
	// see the later event except where both share a bucket (7d and 30d
	// buckets are 1h and 6h long).
	a := observe1(t, m, t0.Add(10*time.Minute), obs(k, 4, device("c")))
	if want := [5]int64{1, 2, 2, 3, 3}; a.Count != want {
		t.Errorf("late Count = %v, want %v", a.Count, want)
	}
	if want := [5]int64{1, 2, 2, 3, 3}; a.Distinct[0] != want {
		t.Errorf("late Distinct = %v, want %v", a.Distinct[0], want)
	}
	if !a.PrevSeen.Equal(t0.Add(30*time.Minute)) || !a.FirstSeen.Equal(t0) {
		t.Errorf("late PrevSeen=%v FirstSeen=%v", a.PrevSeen, a.FirstSeen)
	}
	// Reads in the past do not count later buckets.
	r := read1(t, m, t0.Add(5*time.Minute), k, risk.EntityDevice)
	if r.Count[features.W1h] != 1 || r.Distinct[0][features.W1h] != 1 || r.Sum[features.W1h] != 1 {
		t.Errorf("read in the past: Count=%v Sum=%v Distinct=%v", r.Count, r.Sum, r.Distinct[0])
	}
	r = read1(t, m, t0.Add(31*time.Minute), k, risk.EntityDevice)
	if r.Count[features.W1h] != 3 || r.Sum[features.W1h] != 7 || r.Distinct[0][features.W1h] != 3 {
		t.Errorf("read after: Count=%v Sum=%v Distinct=%v", r.Count, r.Sum, r.Distinct[0])
	}
	// An event older than the ring of the 1m window is still counted in
	// the aggregates Observe returns.
	a = observe1(t, m, t0.Add(2*time.Minute), obs(k, 8))
	if a.Count[features.W1m] != 1 || a.Sum[features.W1m] != 8 {
		t.Errorf("very late 1m: Count=%d Sum=%v, want 1, 8", a.Count[features.W1m], a.Sum[features.W1m])
	}
}

func testTenantIsolation(t *testing.T, open Opener) {
	m := open(t, features.MemoryConfig{Shards: 1})
	keys := []features.Key{
		{Tenant: "a", Scope: "login", Kind: risk.EntityIP, Value: "192.0.2.1"},
		{Tenant: "b", Scope: "login", Kind: risk.EntityIP, Value: "192.0.2.1"},
		{Tenant: "a", Scope: "transaction", Kind: risk.EntityIP, Value: "192.0.2.1"},
		{Tenant: "a", Scope: "login", Kind: risk.EntityIPPrefix, Value: "192.0.2.1"},
		{Tenant: "a", Scope: "login", Kind: risk.EntityIP, Value: "192.0.2.2"},
		{Tenant: "", Scope: "alogin", Kind: risk.EntityIP, Value: "192.0.2.1"},
		{Tenant: "al", Scope: "ogin", Kind: risk.EntityIP, Value: "192.0.2.1"},
	}
	for i, k := range keys {
		for j := 0; j <= i; j++ {
			observe1(t, m, t0, obs(k, float64(i+1), device(fmt.Sprintf("dev-%d-%d", i, j))))
		}
	}
	for i, k := range keys {
		a := read1(t, m, t0, k, risk.EntityDevice)
		n := int64(i + 1)
		if a.Count[features.W24h] != n || a.Sum[features.W24h] != float64(n*n) || a.Distinct[0][features.W24h] != n {
			t.Errorf("key %v: Count=%d Sum=%v Distinct=%d, want %d %d %d", k, a.Count[features.W24h], a.Sum[features.W24h], a.Distinct[0][features.W24h], n, n*n, n)
		}
	}
}

// testEmptyValueReadsAsNew checks that a key with an empty value reads as
// never seen, even in a store that has observed other keys of its kind.
func testEmptyValueReadsAsNew(t *testing.T, open Opener) {
	m := open(t, features.MemoryConfig{Shards: 1})
	k := features.Key{Tenant: "a", Scope: "login", Kind: risk.EntityIP, Value: "192.0.2.1"}
	observe1(t, m, t0, obs(k, 1, device("d1")))
	empty := k
	empty.Value = ""
	out := make([]features.Aggregates, 2)
	if err := m.Read(context.Background(), t0, []features.Key{empty, k}, nil, out); err != nil {
		t.Fatal(err)
	}
	if !out[0].New || out[0].Count[features.W24h] != 0 || out[1].New || out[1].Count[features.W24h] != 1 {
		t.Errorf("Read = %+v, %+v; want the empty key new and empty, the other counted", out[0], out[1])
	}
}

func testValidation(t *testing.T, open Opener) {
	m := open(t, features.MemoryConfig{})
	ctx := context.Background()
	good := obs(card("x"), 1)
	tests := []struct {
		name string
		at   time.Time
		obs  []features.Observation
		out  int
	}{
		{"zero time", time.Time{}, []features.Observation{good}, 1},
		{"before 1970", time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC), []features.Observation{good}, 1},
		{"after 2105", time.Date(2106, 1, 1, 0, 0, 0, 0, time.UTC), []features.Observation{good}, 1},
		{"NaN amount", t0, []features.Observation{good, obs(card("y"), math.NaN())}, 2},
		{"infinite amount", t0, []features.Observation{obs(card("y"), math.Inf(-1))}, 1},
		{"empty value", t0, []features.Observation{good, obs(card(""), 1)}, 2},
		{"empty kind", t0, []features.Observation{{Key: features.Key{Value: "v"}}}, 1},
		{"short out", t0, []features.Observation{good, good}, 1},
		{"huge key", t0, []features.Observation{obs(card(string(make([]byte, 1<<16))), 1)}, 1},
		{"long tag", t0, []features.Observation{good, {Key: card("y"), Tag: string(make([]byte, features.MaxTagLen+1))}}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := m.Observe(ctx, tc.at, tc.obs, make([]features.Aggregates, tc.out))
			if !errors.Is(err, features.ErrInvalid) {
				t.Errorf("error %v does not wrap features.ErrInvalid", err)
			}
			for _, k := range []features.Key{card("x"), card("y")} {
				if a := read1(t, m, t0, k); !a.New {
					t.Errorf("a rejected batch recorded key %v: %+v", k, a)
				}
			}
		})
	}
	if err := m.Read(ctx, t0, []features.Key{card("x")}, [][]risk.EntityKind{make([]risk.EntityKind, features.MaxDistinct+1)}, make([]features.Aggregates, 1)); !errors.Is(err, features.ErrInvalid) {
		t.Errorf("Read with too many dims: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := m.Apply(cctx, t0, []features.Observation{good}); !errors.Is(err, context.Canceled) {
		t.Errorf("Apply with canceled context: %v", err)
	}
}

func testReadSemantics(t *testing.T, open Opener) {
	m := open(t, features.MemoryConfig{})
	k := card("r")
	a := read1(t, m, t0, k, risk.EntityDevice)
	if !a.New || !a.FirstSeen.IsZero() || a.Count != ([features.NumWindows]int64{}) {
		t.Errorf("unknown key reads %+v", a)
	}
	observe1(t, m, t0, obs(k, 3, device("d1"), features.Dim{Kind: risk.EntityIP, Value: "192.0.2.9"}, device("d2")))
	a = read1(t, m, t0.Add(time.Second), k, risk.EntityIP, risk.EntityEmail, risk.EntityDevice)
	if a.New || !a.FirstSeen.Equal(t0) || !a.PrevSeen.Equal(t0) || a.Count[features.W1m] != 1 {
		t.Errorf("known key reads %+v", a)
	}
	if a.Distinct[0][features.W1h] != 1 || a.Distinct[1][features.W1h] != 0 || a.Distinct[2][features.W1h] != 2 || a.Distinct[3][features.W1h] != 0 {
		t.Errorf("Distinct = %v", a.Distinct)
	}
	// Reads record nothing.
	b := read1(t, m, t0.Add(time.Second), k, risk.EntityIP, risk.EntityEmail, risk.EntityDevice)
	if a != b {
		t.Errorf("second read differs: %+v vs %+v", a, b)
	}
	// Idle beyond features.Retention reads as new; a new observation starts afresh.
	if a := read1(t, m, t0.Add(features.Retention+time.Second), k); !a.New {
		t.Errorf("idle key not New: %+v", a)
	}
}

func testDimKindCap(t *testing.T, open Opener) {
	m := open(t, features.MemoryConfig{})
	k := card("kinds")
	kinds := make([]risk.EntityKind, features.MaxDimKinds+1)
	for i := range kinds {
		kinds[i] = risk.EntityKind(fmt.Sprint("kind", i))
		observe1(t, m, t0.Add(time.Duration(i)*time.Second), obs(k, 0, features.Dim{Kind: kinds[i], Value: "v"}, features.Dim{Kind: kinds[i], Value: "w"}))
	}
	// The ninth kind evicted the first (least recently active).
	a := read1(t, m, t0.Add(time.Minute), k, kinds[0], kinds[1], kinds[features.MaxDimKinds])
	if a.Distinct[0][features.W1h] != 0 || a.Distinct[1][features.W1h] != 2 || a.Distinct[2][features.W1h] != 2 {
		t.Errorf("Distinct after eviction = %v", a.Distinct)
	}
	// The evicted kind comes back fresh, evicting the next oldest.
	a = observe1(t, m, t0.Add(2*time.Minute), obs(k, 0, features.Dim{Kind: kinds[0], Value: "v"}))
	if !a.NewValue[0] || a.Distinct[0][features.W1h] != 1 {
		t.Errorf("returning kind: %+v", a)
	}
	if r := read1(t, m, t0.Add(2*time.Minute), k, kinds[1]); r.Distinct[0][features.W1h] != 0 {
		t.Errorf("kind 1 not evicted: %v", r.Distinct[0])
	}
}

func testDistinctCapSwitch(t *testing.T, open Opener) {
	// Crossing the exact cap keeps counts continuous.
	m := open(t, features.MemoryConfig{DistinctCap: 8})
	k := card("cap")
	for i := range 40 {
		a := observe1(t, m, t0.Add(time.Duration(i)*time.Second), obs(k, 0, device(fmt.Sprint("d", i))))
		if got := a.Distinct[0][features.W1h]; math.Abs(float64(got-int64(i+1))) > 1 {
			t.Errorf("after %d values: Distinct[1h] = %d", i+1, got)
		}
		if !a.NewValue[0] && i < 8 {
			t.Errorf("value %d not new below the cap", i)
		}
	}
}

func testHistoryCounts(t *testing.T, open Opener) {
	// A 3-day window: the event's day and the two before it.
	m := open(t, features.MemoryConfig{History: map[string]time.Duration{"login": 3 * day}})
	k := login("u1")
	steps := []struct {
		name    string
		at      time.Duration // after d0
		read    bool
		history int64
	}{
		{"first", 10 * time.Hour, false, 1},
		{"same day, last second", day - time.Second, false, 2},
		{"next day, midnight", day, false, 3},
		{"read two days on", 2*day + 12*time.Hour, true, 3},
		{"read the last second of the window", 3*day - time.Nanosecond, true, 3},
		{"read when day 0 leaves the window", 3 * day, true, 1},
		{"day 3 drops day 0", 3*day + 5*time.Hour, false, 2},
		// Day 1 is still within 3 days of day 3: it goes into its day
		// and counts day 1 only (day 0 is gone).
		{"out of order into day 1", day + 12*time.Hour, false, 2},
		// Day 0 left the window of day 3: not stored, but counted once.
		{"out of order into day 0", 20 * time.Hour, false, 1},
		{"read day 1 in the past", day + 13*time.Hour, true, 2},
		{"read day 3", 3*day + 6*time.Hour, true, 3},
		// A read later than a day's events counts them; one before the
		// day's first event too (whole days).
		{"read day 3 before its event", 3*day + time.Hour, true, 3},
		{"read day 4", 4*day + time.Hour, true, 1},
		{"read day 6", 6 * day, true, 0},
		{"day 10 starts afresh", 10*day + time.Hour, false, 1},
		{"day 12", 12 * day, false, 2},
		{"day 13", 13 * day, false, 2},
		// An out-of-order day outside the window of the latest day is
		// not stored, also when the days between are empty (the snapshot
		// fuzzer's case, testdata/fuzz/FuzzRestore, had no day left).
		{"day 20", 20 * day, false, 1},
		{"day 30", 30 * day, false, 1},
		{"out of order into day 21, no days in between", 21 * day, false, 1},
		{"read day 30", 30*day + time.Hour, true, 1},
	}
	for _, s := range steps {
		at := d0.Add(s.at)
		var a features.Aggregates
		if s.read {
			a = read1(t, m, at, k)
		} else {
			a = observe1(t, m, at, obs(k, 1))
		}
		if a.History != s.history {
			t.Errorf("%s: History = %d, want %d", s.name, a.History, s.history)
		}
	}
	// Keys of other scopes have no history.
	if a := observe1(t, m, d0, obs(card("c"), 1)); a.History != 0 {
		t.Errorf("card key: History = %d", a.History)
	}
	if a := read1(t, m, d0, card("c")); a.History != 0 {
		t.Errorf("card key read: History = %d", a.History)
	}
}

func testTags(t *testing.T, open Opener) {
	m := open(t, features.MemoryConfig{})
	k := login("tags")
	steps := []struct {
		name    string
		at      time.Duration // after t0
		tag     string
		read    bool
		prevTag string
	}{
		{"read unknown key", 0, "", true, ""},
		{"first, untagged", 0, "", false, ""},
		{"read untagged key", 0, "", true, ""},
		{"first tag", time.Minute, "paris", false, ""},
		{"read", time.Minute, "", true, "paris"},
		{"untagged keeps it", 2 * time.Minute, "", false, "paris"},
		{"new tag", 3 * time.Minute, "lyon", false, "paris"},
		{"older tag does not replace", 90 * time.Second, "rome", false, "lyon"},
		{"still lyon", 4 * time.Minute, "", true, "lyon"},
		{"same time replaces", 3 * time.Minute, "oslo", false, "lyon"},
		{"older than the tag's observation", 150 * time.Second, "bern", false, "oslo"},
		// The untagged event at 2m does not matter: the latest tagged one
		// is at 3m.
		{"read in the past", time.Minute, "", true, "oslo"},
		{"later tag", time.Hour, "oslo", false, "oslo"},
		{"read", time.Hour, "", true, "oslo"},
		{"after features.Retention the key is new", time.Hour + features.Retention + time.Second, "", false, ""},
		{"and has no tag", time.Hour + features.Retention + time.Second, "", true, ""},
	}
	for _, s := range steps {
		at := t0.Add(s.at)
		var a features.Aggregates
		if s.read {
			a = read1(t, m, at, k)
		} else {
			a = observe1(t, m, at, features.Observation{Key: k, Tag: s.tag})
		}
		if a.PrevTag != s.prevTag {
			t.Errorf("%s: PrevTag = %q, want %q", s.name, a.PrevTag, s.prevTag)
		}
	}
}

// shape shapes one random stream of Differential.
type shape struct {
	seed     uint64
	calls    int
	keys     int           // feature keys, some much busier than others
	values   int           // values per dimension kind
	dims     int           // most dimensions per observation
	kinds    int           // dimension kinds drawn from (more than MaxDimKinds evicts)
	jitter   time.Duration // how far an event may lie before the clock
	longGaps bool          // sometimes idle past Retention
	tags     int           // tags drawn from; 0: none
	masks    bool          // ask for random DistinctWindows
	cfg      features.MemoryConfig
}

// Differential runs long random streams of Observe, Apply and Read calls
// (and ObserveRead, for a store that has it) through a store from open and
// through features.Memory, and requires
// identical answers (sums within rounding: a store may add in another
// order).
func Differential(t *testing.T, open Opener) {
	hist := map[string]time.Duration{"login": 45 * day, "transaction": 36 * time.Hour}
	for _, tc := range []struct {
		name string
		s    shape
	}{
		{"in order", shape{seed: 1, calls: 1200, keys: 30, values: 40, dims: 3, kinds: 3, cfg: features.MemoryConfig{}}},
		{"out of order with history and tags", shape{seed: 2, calls: 1200, keys: 20, values: 40, dims: 3, kinds: 4, jitter: 2 * time.Hour, longGaps: true, tags: 4, cfg: features.MemoryConfig{History: hist}}},
		{"sketches", shape{seed: 3, calls: 1200, keys: 6, values: 500, dims: 4, kinds: 2, jitter: time.Minute, masks: true, cfg: features.MemoryConfig{DistinctCap: 8, SketchPrecision: 8}}},
		{"sketches idle past retention", shape{seed: 4, calls: 1200, keys: 4, values: 300, dims: 2, kinds: 2, jitter: 3 * time.Hour, longGaps: true, cfg: features.MemoryConfig{DistinctCap: 4, SketchPrecision: 8, History: hist}}},
		{"more kinds than slots", shape{seed: 5, calls: 1200, keys: 8, values: 30, dims: 4, kinds: 12, jitter: time.Hour, longGaps: true, tags: 2, cfg: features.MemoryConfig{DistinctCap: 16, SketchPrecision: 9, History: hist}}},
	} {
		t.Run(tc.name, func(t *testing.T) { differential(t, tc.s, open(t, tc.s.cfg), features.NewMemory(tc.s.cfg)) })
	}
}

func differential(t *testing.T, s shape, got, want features.Store) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(s.seed, 99))
	keys := make([]features.Key, s.keys)
	for i := range keys {
		keys[i] = features.Key{
			Tenant: fmt.Sprint("shop", i%2), Scope: [...]string{"transaction", "login", "review"}[i%3],
			Kind: [...]risk.EntityKind{risk.EntityIP, risk.EntityCard, risk.EntityUser, risk.EntityDevice}[i%4], Value: fmt.Sprint("k", i),
		}
	}
	kinds := make([]risk.EntityKind, s.kinds)
	for i := range kinds {
		kinds[i] = risk.EntityKind(fmt.Sprint("kind", i))
	}
	copy(kinds, []risk.EntityKind{risk.EntityDevice, risk.EntityEmail, risk.EntityIP})
	// The clock moves by an exponential step of a randomly chosen scale.
	scales := []time.Duration{time.Second, time.Minute, time.Hour, day}
	if s.longGaps {
		scales = append(scales, 12*day)
	}
	clock := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	fails := 0
	check := func(where string, g, w features.Aggregates) {
		t.Helper()
		if same(g, w) {
			return
		}
		if fails++; fails <= 10 {
			t.Errorf("%s:\n got %+v\nwant %+v", where, g, w)
		}
	}
	for call := range s.calls {
		clock = clock.Add(time.Duration(rng.ExpFloat64() * float64(scales[rng.IntN(len(scales))])))
		at := clock
		if s.jitter > 0 && rng.IntN(4) == 0 {
			at = at.Add(-time.Duration(rng.Int64N(int64(s.jitter))))
		}
		obs := make([]features.Observation, 1+rng.IntN(3))
		for i := range obs {
			// Lower indexes are drawn more often: a few hot keys.
			o := features.Observation{Key: keys[rng.IntN(1+rng.IntN(len(keys)))], Amount: float64(rng.IntN(100000)) / 100}
			for d := range rng.IntN(s.dims + 1) {
				o.Distinct[d] = features.Dim{Kind: kinds[rng.IntN(len(kinds))], Value: fmt.Sprint("v", rng.IntN(s.values))}
			}
			if s.tags > 0 && rng.IntN(3) == 0 {
				o.Tag = fmt.Sprint("t", rng.IntN(s.tags))
			}
			if s.masks && rng.IntN(2) == 0 {
				o.DistinctWindows = features.WindowMask(rng.IntN(int(features.AllWindows)) + 1)
			}
			obs[i] = o
		}
		where := fmt.Sprintf("call %d at %s", call, at.Format(time.RFC3339Nano))
		op := rng.IntN(10)
		if _, ok := got.(features.ObserveReader); !ok && op <= 2 {
			op = 3
		}
		switch {
		case op == 0:
			if err := got.Apply(ctx, at, obs); err != nil {
				t.Fatalf("%s: Apply: %v", where, err)
			}
			if err := want.Apply(ctx, at, obs); err != nil {
				t.Fatalf("%s: Memory.Apply: %v", where, err)
			}
		default:
			g, w := make([]features.Aggregates, len(obs)), make([]features.Aggregates, len(obs))
			var rk []features.Key
			var gr []features.Aggregates
			if op <= 2 {
				// Observe, then read a key observed in this very call, one
				// observed before (or never) and one with an empty value.
				rk = []features.Key{obs[0].Key, keys[rng.IntN(len(keys))], {Tenant: "shop0", Scope: "labels", Kind: risk.EntityCard}}
				gr = make([]features.Aggregates, len(rk))
				if err := got.(features.ObserveReader).ObserveRead(ctx, at, obs, g, rk, gr); err != nil {
					t.Fatalf("%s: ObserveRead: %v", where, err)
				}
			} else if err := got.Observe(ctx, at, obs, g); err != nil {
				t.Fatalf("%s: Observe: %v", where, err)
			}
			if err := want.Observe(ctx, at, obs, w); err != nil {
				t.Fatalf("%s: Memory.Observe: %v", where, err)
			}
			for i := range obs {
				check(fmt.Sprintf("%s: observation %d (%v)", where, i, obs[i].Key), g[i], w[i])
			}
			if rk != nil {
				wr := make([]features.Aggregates, len(rk))
				if err := want.Read(ctx, at, rk, nil, wr); err != nil {
					t.Fatalf("%s: Memory.Read: %v", where, err)
				}
				for i := range rk {
					check(fmt.Sprintf("%s: read %v after observing", where, rk[i]), gr[i], wr[i])
				}
			}
		}
		if call%7 == 0 {
			readAt := at.Add(time.Duration(rng.Int64N(int64(3*time.Hour))) - time.Hour)
			rk := []features.Key{keys[rng.IntN(len(keys))], keys[rng.IntN(len(keys))], {Tenant: "shop0", Scope: "transaction", Kind: risk.EntityIP, Value: "never seen"}}
			dims := [][]risk.EntityKind{kinds[:min(len(kinds), features.MaxDistinct)], nil, {risk.EntityDevice}}
			g, w := make([]features.Aggregates, len(rk)), make([]features.Aggregates, len(rk))
			if err := got.Read(ctx, readAt, rk, dims, g); err != nil {
				t.Fatalf("%s: Read: %v", where, err)
			}
			if err := want.Read(ctx, readAt, rk, dims, w); err != nil {
				t.Fatalf("%s: Memory.Read: %v", where, err)
			}
			for i := range rk {
				check(fmt.Sprintf("%s: read %v at %s", where, rk[i], readAt.Format(time.RFC3339)), g[i], w[i])
			}
		}
	}
	if fails > 10 {
		t.Errorf("... %d differences in all", fails)
	}
}

// same reports whether a and b are equal but for rounding in their sums.
func same(a, b features.Aggregates) bool {
	for w := range a.Sum {
		if math.Abs(a.Sum[w]-b.Sum[w]) > 1e-9*(1+math.Abs(b.Sum[w])) {
			return false
		}
	}
	a.Sum = b.Sum
	return a == b
}

// testNewKindsTakeSlotsOfTheirOwn: when a key already counts MaxDimKinds
// kinds, an observation bringing several new ones evicts as many old kinds,
// and each new kind counts its own values.
func testNewKindsTakeSlotsOfTheirOwn(t *testing.T, open Opener) {
	m := open(t, features.MemoryConfig{})
	k := card("slots")
	for i := range features.MaxDimKinds {
		observe1(t, m, t0.Add(time.Duration(i)*time.Second), obs(k, 0, features.Dim{Kind: risk.EntityKind(fmt.Sprint("old", i)), Value: "v"}))
	}
	var newKinds []risk.EntityKind
	var dims []features.Dim
	for i := range features.MaxDistinct {
		kind := risk.EntityKind(fmt.Sprint("new", i))
		newKinds = append(newKinds, kind)
		dims = append(dims, features.Dim{Kind: kind, Value: fmt.Sprint("x", i)})
	}
	a := observe1(t, m, t0.Add(time.Minute), obs(k, 0, dims...))
	for i := range dims {
		if a.Distinct[i][features.W1h] != 1 || !a.NewValue[i] {
			t.Errorf("new kind %d: Distinct %v NewValue %v, want 1 and new", i, a.Distinct[i], a.NewValue[i])
		}
	}
	r := read1(t, m, t0.Add(time.Minute), k, newKinds...)
	for i := range newKinds {
		if r.Distinct[i][features.W1h] != 1 {
			t.Errorf("read new kind %d: Distinct %v, want 1", i, r.Distinct[i])
		}
	}
	// The oldest kinds made room; the newest old ones are still counted.
	r = read1(t, m, t0.Add(time.Minute), k, "old0", risk.EntityKind(fmt.Sprint("old", features.MaxDimKinds-1)))
	if r.Distinct[0][features.W1h] != 0 || r.Distinct[1][features.W1h] != 1 {
		t.Errorf("old kinds after eviction: %v", r.Distinct[:2])
	}
}
