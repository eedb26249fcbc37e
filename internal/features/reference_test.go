package features

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/risk"
)

// The tests in this file compare Memory with a brute-force reference that
// keeps every raw event.

// refEvent is one observation as the reference keeps it.
type refEvent struct {
	ns     int64
	amount float64
	dims   [MaxDistinct]Dim
	tag    string
}

// refKey is the reference's history of one key since it last became new.
type refKey struct {
	events []refEvent
	// old holds, in arrival order, the events before the key was last
	// idle for more than Retention (which only a key of a history scope
	// survives): they count in its history and tag, in no window.
	old   []refEvent
	minNS int64
	maxNS int64
	hdays int64 // history window in days, 0 for none
}

// reference is the brute-force model of a Memory store.
type reference struct {
	keys map[Key]*refKey
	hist map[string]time.Duration // history windows by scope, normalized
}

// newReference returns the model of a store configured with the history
// windows hist.
func newReference(hist map[string]time.Duration) *reference {
	return &reference{keys: make(map[Key]*refKey), hist: MemoryConfig{History: hist}.withDefaults().History}
}

// retention returns how long k is remembered after its latest observation.
func (r *reference) retention(k Key) int64 { return max(int64(Retention), int64(r.hist[k.Scope])) }

// observe records o at ns and returns the key's history before it and
// whether the key was new.
func (r *reference) observe(ns int64, o Observation) (prev refKey, isNew bool) {
	k := r.keys[o.Key]
	switch {
	case k == nil || ns-k.maxNS > r.retention(o.Key):
		k = &refKey{minNS: ns, maxNS: ns, hdays: int64(r.hist[o.Key.Scope] / day)}
		r.keys[o.Key] = k
		isNew = true
	case ns-k.maxNS > int64(Retention):
		k.old = append(k.old[:len(k.old):len(k.old)], k.events...)
		k.events = nil
	}
	prev = refKey{events: k.events[:len(k.events):len(k.events)], old: k.old[:len(k.old):len(k.old)], minNS: k.minNS, maxNS: k.maxNS, hdays: k.hdays}
	k.events = append(k.events, refEvent{ns: ns, amount: o.Amount, dims: o.Distinct, tag: o.Tag})
	k.minNS, k.maxNS = min(k.minNS, ns), max(k.maxNS, ns)
	return prev, isNew
}

// history returns the History of the key at ns: its events of the days
// (D-n, D], D being ns's day, except those on days that left the window of
// the key's latest day (the store drops them).
func (k *refKey) history(ns int64) int64 {
	if k.hdays == 0 {
		return 0
	}
	d, head := ns/dayNS, k.maxNS/dayNS
	var c int64
	for _, list := range [][]refEvent{k.old, k.events} {
		for _, ev := range list {
			if ed := ev.ns / dayNS; ed > d-k.hdays && ed <= d && ed > head-k.hdays {
				c++
			}
		}
	}
	return c
}

// tag returns the tag of the key's latest tagged event by event time,
// between events at the same time the later recorded.
func (k *refKey) tag() string {
	tag, at := "", int64(0)
	for _, list := range [][]refEvent{k.old, k.events} {
		for _, ev := range list {
			if ev.tag != "" && (tag == "" || ev.ns >= at) {
				tag, at = ev.tag, ev.ns
			}
		}
	}
	return tag
}

// bucketOf returns the bucket of ns in window l.
func bucketOf(l int, ns int64) int64 { return ns / levels[l].gran }

// windowStats is what the reference knows about one window at one time.
type windowStats struct {
	semantic    int64   // events the documented bucket rule counts
	semanticSum float64 // their amounts
	sure        int64   // events Memory must count even after out-of-order evictions
	trueLow     int64   // events in (t-W+g, t]
	trueHigh    int64   // events in (t-W, end of t's bucket]
	absSum      float64 // sum of |amount| of semantic events, for tolerances
}

func (k *refKey) window(l int, ns int64) windowStats {
	var st windowStats
	b := bucketOf(l, ns)
	W := int64(WindowDurations[l])
	g := levels[l].gran
	headB := bucketOf(l, k.maxNS)
	for _, ev := range k.events {
		eb := bucketOf(l, ev.ns)
		if eb <= b && eb > b-levels[l].n {
			st.semantic++
			st.semanticSum += ev.amount
			st.absSum += math.Abs(ev.amount)
			if eb > headB-levels[l].n {
				st.sure++
			}
		}
		if ev.ns > ns-W+g && ev.ns <= ns {
			st.trueLow++
		}
		if ev.ns > ns-W && eb <= b {
			st.trueHigh++
		}
	}
	return st
}

// distinct returns, per window at ns, the number of values of dimension
// kind the key has seen whose earliest or latest sighting lies in the
// window, counting cur (the current value, "" for none) in every window.
func (k *refKey) distinct(ns int64, kind risk.EntityKind, cur string) [NumWindows]int64 {
	q := newQuery(ns)
	type span struct{ lo, hi int64 }
	// A value whose latest sighting is more than Retention before the key's
	// latest event is forgotten; a later sighting starts it afresh.
	seen := map[string]span{}
	head := int64(0)
	for _, ev := range k.events {
		head = max(head, ev.ns/1e9)
		for _, d := range ev.dims {
			if d.Kind != kind || d.Value == "" {
				continue
			}
			s, ok := seen[d.Value]
			sec := ev.ns / 1e9
			if !ok || s.hi < head-retentionSec {
				s = span{sec, sec}
			}
			s.lo, s.hi = min(s.lo, sec), max(s.hi, sec)
			seen[d.Value] = s
		}
	}
	var n [NumWindows]int64
	for l := range nw {
		in := func(sec int64) bool { return sec >= q.lo[l] && sec <= q.hi[l] }
		for v, s := range seen {
			if v == cur || in(s.lo) || in(s.hi) {
				n[l]++
			}
		}
		if _, ok := seen[cur]; cur != "" && !ok {
			n[l]++
		}
	}
	return n
}

// newValue reports whether value of kind is new for the key at ns: not
// sighted since the key became new, or last sighted more than Retention
// before the key's latest event.
func (k *refKey) newValue(ns int64, kind risk.EntityKind, value string) bool {
	head := max(k.maxNS, ns) / 1e9
	last := int64(-1)
	for _, ev := range k.events {
		for _, d := range ev.dims {
			if d.Kind == kind && d.Value == value {
				last = max(last, ev.ns/1e9)
			}
		}
	}
	return last < 0 || last < head-retentionSec
}

// streamConfig shapes a random event stream.
type streamConfig struct {
	seed      uint64
	calls     int
	keys      int
	values    int           // distinct values per dimension kind
	jitter    time.Duration // how far an event may be earlier than the latest one
	longGaps  bool          // sometimes jump by days, past Retention
	dimsPerOb int
	tags      int // distinct tags; 0 for untagged observations
}

// event is one Observe call of a generated stream.
type event struct {
	at  time.Time
	obs []Observation
}

var streamKinds = []risk.EntityKind{risk.EntityDevice, risk.EntityIP, risk.EntityEmail}

// genStream returns a random stream: a clock moving forward by gaps of
// milliseconds to days, events at the clock minus a random jitter.
func genStream(c streamConfig) []event {
	rng := rand.New(rand.NewPCG(c.seed, 7))
	keys := make([]Key, c.keys)
	for i := range keys {
		keys[i] = Key{
			Tenant: []string{"shop-a", "shop-b"}[i%2],
			Scope:  []string{"transaction", "login"}[(i/2)%2],
			Kind:   []risk.EntityKind{risk.EntityCard, risk.EntityUser, risk.EntityIP}[(i/4)%3],
			Value:  fmt.Sprintf("v%d", i/12),
		}
	}
	clock := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	var out []event
	for range c.calls {
		var gap time.Duration
		switch x := rng.IntN(100); {
		case x < 40:
			gap = time.Duration(rng.Int64N(int64(2 * time.Second)))
		case x < 75:
			gap = time.Duration(rng.Int64N(int64(2 * time.Minute)))
		case x < 93:
			gap = time.Duration(rng.Int64N(int64(3 * time.Hour)))
		case x < 99 || !c.longGaps:
			gap = time.Duration(rng.Int64N(int64(3 * 24 * time.Hour)))
		default:
			gap = time.Duration(rng.Int64N(int64(40 * 24 * time.Hour)))
		}
		clock += int64(gap)
		ns := clock
		if c.jitter > 0 && rng.IntN(3) == 0 {
			ns -= rng.Int64N(int64(c.jitter))
		}
		n := 1 + rng.IntN(3)
		ev := event{at: time.Unix(0, ns).UTC()}
		for range n {
			o := Observation{Key: keys[rng.IntN(len(keys))], Amount: math.Round(rng.Float64()*1e4) / 100}
			for d := range rng.IntN(c.dimsPerOb + 1) {
				o.Distinct[d] = Dim{Kind: streamKinds[rng.IntN(len(streamKinds))], Value: fmt.Sprintf("x%d", rng.IntN(c.values))}
			}
			// Streams without tags draw no further numbers, so that they
			// stay as they were before tags.
			if c.tags > 0 && rng.IntN(2) == 0 {
				o.Tag = fmt.Sprintf("tag%d", rng.IntN(c.tags))
			}
			ev.obs = append(ev.obs, o)
		}
		out = append(out, ev)
	}
	return out
}

func TestMemoryMatchesReference(t *testing.T) {
	// Long gaps idle keys for more than Retention (and a 45-day history
	// outlives that); 2-hour jitter puts events into earlier days, which
	// the 1-day history of short (12h rounded up) drops.
	short := map[string]time.Duration{"login": 2 * day, "transaction": 12 * time.Hour}
	long := map[string]time.Duration{"login": 45 * day, "transaction": 36 * time.Hour}
	tests := []struct {
		name  string
		cfg   streamConfig
		hist  map[string]time.Duration
		inOrd bool
	}{
		{"in order", streamConfig{seed: 1, calls: 2500, keys: 36, values: 40, dimsPerOb: 3}, nil, true},
		{"in order with long gaps", streamConfig{seed: 2, calls: 2500, keys: 24, values: 30, dimsPerOb: 2, longGaps: true}, nil, true},
		{"few keys", streamConfig{seed: 3, calls: 1200, keys: 2, values: 50, dimsPerOb: 4}, nil, true},
		{"out of order 20s", streamConfig{seed: 4, calls: 2500, keys: 24, values: 40, dimsPerOb: 3, jitter: 20 * time.Second}, nil, false},
		{"out of order 2h", streamConfig{seed: 5, calls: 2500, keys: 12, values: 40, dimsPerOb: 3, jitter: 2 * time.Hour, longGaps: true}, nil, false},
		{"history and tags in order", streamConfig{seed: 6, calls: 2500, keys: 24, values: 30, dimsPerOb: 2, longGaps: true, tags: 4}, long, true},
		{"short history and tags", streamConfig{seed: 7, calls: 2500, keys: 24, values: 30, dimsPerOb: 2, longGaps: true, tags: 3}, short, true},
		{"history and tags out of order", streamConfig{seed: 8, calls: 3000, keys: 12, values: 40, dimsPerOb: 3, jitter: 2 * time.Hour, longGaps: true, tags: 5}, long, false},
		{"short history out of order", streamConfig{seed: 9, calls: 3000, keys: 12, values: 40, dimsPerOb: 2, jitter: 2 * time.Hour, tags: 2}, short, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkAgainstReference(t, genStream(tc.cfg), tc.hist, tc.inOrd)
		})
	}
}

func checkAgainstReference(t *testing.T, stream []event, hist map[string]time.Duration, inOrder bool) {
	t.Helper()
	ctx := context.Background()
	m := NewMemory(MemoryConfig{Shards: 8, DistinctCap: 64, History: hist})
	ref := newReference(hist)
	fails := 0
	errorf := func(format string, args ...any) {
		t.Helper()
		if fails++; fails <= 20 {
			t.Errorf(format, args...)
		}
	}
	for ci, ev := range stream {
		out := make([]Aggregates, len(ev.obs))
		if err := m.Observe(ctx, ev.at, ev.obs, out); err != nil {
			t.Fatal(err)
		}
		ns := ev.at.UnixNano()
		for i, o := range ev.obs {
			prev, isNew := ref.observe(ns, o)
			cur := ref.keys[o.Key]
			a := out[i]
			where := fmt.Sprintf("call %d obs %d (%v at %s)", ci, i, o.Key, ev.at.Format(time.RFC3339Nano))
			if a.New != isNew {
				errorf("%s: New = %v, want %v", where, a.New, isNew)
			}
			if want := time.Unix(0, cur.minNS).UTC(); !a.FirstSeen.Equal(want) {
				errorf("%s: FirstSeen = %v, want %v", where, a.FirstSeen, want)
			}
			wantPrev := time.Time{}
			if !isNew {
				wantPrev = time.Unix(0, prev.maxNS).UTC()
			}
			if !a.PrevSeen.Equal(wantPrev) {
				errorf("%s: PrevSeen = %v, want %v", where, a.PrevSeen, wantPrev)
			}
			// The store drops an event on a day that left the window of
			// the key's latest day, but Observe counts it.
			wantHist := cur.history(ns)
			if !isNew && cur.hdays > 0 && ns/dayNS <= prev.maxNS/dayNS-cur.hdays {
				wantHist++
			}
			if a.History != wantHist {
				errorf("%s: History = %d, want %d", where, a.History, wantHist)
			}
			if want := prev.tag(); a.PrevTag != want {
				errorf("%s: PrevTag = %q, want %q", where, a.PrevTag, want)
			}
			for l := range nw {
				st := cur.window(l, ns)
				got := a.Count[l]
				if got < st.sure || got > st.semantic {
					errorf("%s: Count[%s] = %d, want within [%d, %d]", where, WindowNames[l], got, st.sure, st.semantic)
				}
				if inOrder {
					if got != st.semantic {
						errorf("%s: Count[%s] = %d, want %d", where, WindowNames[l], got, st.semantic)
					}
					if got < st.trueLow || got > st.trueHigh {
						errorf("%s: Count[%s] = %d outside the documented bound [%d, %d]", where, WindowNames[l], got, st.trueLow, st.trueHigh)
					}
					if d := math.Abs(a.Sum[l] - st.semanticSum); d > 1e-9*(1+st.absSum) {
						errorf("%s: Sum[%s] = %v, want %v", where, WindowNames[l], a.Sum[l], st.semanticSum)
					}
				}
			}
			for d, dim := range o.Distinct {
				if dim.Kind == "" || dim.Value == "" {
					if a.Distinct[d] != ([NumWindows]int64{}) {
						errorf("%s: Distinct[%d] = %v for an empty dim", where, d, a.Distinct[d])
					}
					continue
				}
				// Earlier dims of this observation are already recorded.
				if want := prevPlusDims(prev, ns, o, d).distinct(ns, dim.Kind, dim.Value); a.Distinct[d] != want {
					errorf("%s: Distinct[%d %s] = %v, want %v", where, d, dim.Kind, a.Distinct[d], want)
				}
				want := prevPlusDims(prev, ns, o, d).newValue(ns, dim.Kind, dim.Value)
				if a.NewValue[d] != want {
					errorf("%s: NewValue[%d] = %v, want %v", where, d, a.NewValue[d], want)
				}
			}
		}
	}
	if fails > 20 {
		t.Errorf("... %d failures in all", fails)
	}
	// Reads at the end agree with the reference for every key.
	last := stream[len(stream)-1].at.Add(30 * time.Second)
	for k, rk := range ref.keys {
		var out [1]Aggregates
		if err := m.Read(ctx, last, []Key{k}, [][]risk.EntityKind{streamKinds}, out[:]); err != nil {
			t.Fatal(err)
		}
		ns := last.UnixNano()
		if ns-rk.maxNS > ref.retention(k) {
			if !out[0].New {
				t.Errorf("Read %v: idle key not New", k)
			}
			continue
		}
		if out[0].New || out[0].History != rk.history(ns) || out[0].PrevTag != rk.tag() {
			t.Errorf("Read %v: New %v History %d PrevTag %q, want false %d %q", k, out[0].New, out[0].History, out[0].PrevTag, rk.history(ns), rk.tag())
		}
		for l := range nw {
			st := rk.window(l, ns)
			if got := out[0].Count[l]; got < st.sure || got > st.semantic || (inOrder && got != st.semantic) {
				t.Errorf("Read %v: Count[%s] = %d, want within [%d, %d]", k, WindowNames[l], got, st.sure, st.semantic)
			}
		}
		for d, kind := range streamKinds {
			if got, want := out[0].Distinct[d], rk.distinct(ns, kind, ""); got != want {
				t.Errorf("Read %v: Distinct[%s] = %v, want %v", k, kind, got, want)
			}
		}
	}
}

// prevPlusDims returns prev extended by the first d dims of o at ns: the
// state the d-th dim of o is compared against.
func prevPlusDims(prev refKey, ns int64, o Observation, d int) *refKey {
	k := &refKey{events: prev.events, minNS: prev.minNS, maxNS: max(prev.maxNS, ns)}
	if len(prev.events) == 0 {
		k.minNS = ns
	}
	var ev refEvent
	ev.ns = ns
	copy(ev.dims[:d], o.Distinct[:d])
	k.events = append(k.events[:len(k.events):len(k.events)], ev)
	return k
}
