package features

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/risk"
)

const day = 24 * time.Hour

// d0 is midnight UTC, the start of a day.
var d0 = time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)

func login(v string) Key {
	return Key{Tenant: "shop", Scope: "login", Kind: risk.EntityUser, Value: v}
}

func TestHistoryRetention(t *testing.T) {
	cfg := MemoryConfig{History: map[string]time.Duration{"login": 180 * day, "short": 10 * day}}
	short := Key{Tenant: "shop", Scope: "short", Kind: risk.EntityUser, Value: "s"}
	tests := []struct {
		name    string
		key     Key
		idle    time.Duration
		isNew   bool
		history int64 // after the second observation
	}{
		{"history key idle 60 days", login("u"), 60 * day, false, 3},
		{"history key idle 31 days", login("u"), 31 * day, false, 3},
		{"history key idle 179 days", login("u"), 179 * day, false, 3},
		{"history key idle 181 days", login("u"), 181 * day, true, 1},
		{"normal key idle 31 days", card("c"), 31 * day, true, 0},
		{"normal key idle 30 days", card("c"), 30 * day, false, 0},
		{"short history idle 31 days", short, 31 * day, true, 1},
		{"short history idle 9 days", short, 9 * day, false, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := NewMemory(cfg)
			observe1(t, m, t0, obs(tc.key, 5, device("d1")))
			observe1(t, m, t0.Add(time.Hour), Observation{Key: tc.key, Amount: 7, Distinct: [MaxDistinct]Dim{device("d2")}, Tag: "from-a"})
			at := t0.Add(time.Hour + tc.idle)
			r := read1(t, m, at, tc.key, risk.EntityDevice)
			if r.New != tc.isNew {
				t.Fatalf("Read: New = %v, want %v", r.New, tc.isNew)
			}
			if !r.New {
				if want := max(tc.history-1, 0); r.History != want {
					t.Errorf("Read: History = %d, want %d", r.History, want)
				}
				if r.PrevTag != "from-a" || !r.FirstSeen.Equal(t0) || !r.PrevSeen.Equal(t0.Add(time.Hour)) {
					t.Errorf("Read: PrevTag %q FirstSeen %v PrevSeen %v", r.PrevTag, r.FirstSeen, r.PrevSeen)
				}
				if tc.idle > Retention && (r.Count != [NumWindows]int64{} || r.Distinct[0] != [NumWindows]int64{}) {
					t.Errorf("Read: windows of an idle key: Count %v Distinct %v", r.Count, r.Distinct[0])
				}
			}
			a := observe1(t, m, at, obs(tc.key, 1, device("d1")))
			if a.New != tc.isNew || a.History != tc.history {
				t.Errorf("Observe: New = %v History = %d, want %v %d", a.New, a.History, tc.isNew, tc.history)
			}
			wantFirst, wantPrev, wantTag := t0, t0.Add(time.Hour), "from-a"
			if tc.isNew {
				wantFirst, wantPrev, wantTag = at, time.Time{}, ""
			}
			if !a.FirstSeen.Equal(wantFirst) || !a.PrevSeen.Equal(wantPrev) || a.PrevTag != wantTag {
				t.Errorf("Observe: FirstSeen %v PrevSeen %v PrevTag %q, want %v %v %q", a.FirstSeen, a.PrevSeen, a.PrevTag, wantFirst, wantPrev, wantTag)
			}
			// Windows and distinct values are those of any key idle that
			// long: the 30-day window of an event 30 days later misses the
			// earlier two (its oldest 6 hours are not counted), and device
			// d1 is forgotten after Retention.
			wantCount, wantDistinct := int64(1), int64(1)
			if tc.idle < 29*day {
				wantCount, wantDistinct = 3, 2
			}
			if a.Count[W30d] != wantCount {
				t.Errorf("Observe: Count[30d] = %d, want %d", a.Count[W30d], wantCount)
			}
			if wantNewValue := tc.idle > Retention; a.NewValue[0] != wantNewValue || a.Distinct[0][W30d] != wantDistinct {
				t.Errorf("Observe: NewValue %v Distinct[30d] %d, want %v %d", a.NewValue[0], a.Distinct[0][W30d], wantNewValue, wantDistinct)
			}
		})
	}
}

func TestHistoryIdleSketch(t *testing.T) {
	// A history key whose dimension is sketched, idle for longer than
	// Retention, starts its windows afresh.
	m := NewMemory(MemoryConfig{DistinctCap: 4, History: map[string]time.Duration{"login": 90 * day}})
	k := login("busy")
	for i := range 50 {
		observe1(t, m, t0.Add(time.Duration(i)*time.Minute), obs(k, 1, device(fmt.Sprint("d", i))))
	}
	at := t0.Add(70 * day)
	if r := read1(t, m, at, k, risk.EntityDevice); r.New || r.Distinct[0] != [NumWindows]int64{} || r.History != 50 {
		t.Errorf("idle read: %+v", r)
	}
	a := observe1(t, m, at, obs(k, 1, device("d1")))
	if a.New || a.Distinct[0] != [NumWindows]int64{1, 1, 1, 1, 1} || !a.NewValue[0] || a.History != 51 {
		t.Errorf("after idle: %+v", a)
	}
	if e := entryOf(m, k); e.x.hll != nil {
		t.Error("the sketch of an idle key survived")
	}
	if a := observe1(t, m, at.Add(time.Second), obs(k, 1, device("d2"))); a.Distinct[0][W1h] != 2 || a.History != 52 {
		t.Errorf("second after idle: %+v", a)
	}
}

func TestHistorySweep(t *testing.T) {
	m := NewMemory(MemoryConfig{Shards: 2, History: map[string]time.Duration{"login": 180 * day}})
	// The busy key is seen on days 0, 10, ..., 190: its history keeps
	// days 20 to 190.
	for i := range 20 {
		observe1(t, m, d0.Add(time.Duration(i)*10*day), obs(login("busy"), 1))
	}
	last := d0.Add(190 * day)
	observe1(t, m, last, obs(login("quiet"), 1))
	observe1(t, m, last, obs(card("quiet"), 1))
	tests := []struct {
		after   time.Duration // the latest observation
		dropped int
		len     int
		days    int // history days the busy key keeps
	}{
		{0, 0, 3, 18},
		{31 * day, 1, 2, 15},
		{100 * day, 0, 2, 8},
		{179 * day, 0, 2, 1},
		{180 * day, 0, 2, 0},
		{180*day + time.Second, 2, 0, 0},
	}
	for _, tc := range tests {
		now := last.Add(tc.after)
		before := readAll(t, m, now)
		if n := m.Sweep(now); n != tc.dropped || m.Len() != tc.len {
			t.Errorf("Sweep(day %v): dropped %d, Len %d, want %d %d", now.Sub(d0).Hours()/24, n, m.Len(), tc.dropped, tc.len)
		}
		after := readAll(t, m, now)
		for k, a := range after {
			if before[k] != a {
				t.Errorf("Sweep(%v) changed %v: %+v -> %+v", now, k, before[k], a)
			}
		}
		k := login("busy")
		h := hashKey(&k)
		sh := m.shardOf(h)
		days := 0
		if e := sh.lookup(h, &k); e != nil {
			days = len(e.x.days)
		}
		if days != tc.days {
			t.Errorf("Sweep(%v): busy key keeps %d days, want %d", now, days, tc.days)
		}
	}
}

func TestTagMemory(t *testing.T) {
	m := NewMemory(MemoryConfig{})
	plain, tagged := card("plain"), card("tagged")
	buf := []byte("tag-0123456789")
	for i := range 10 {
		observe1(t, m, t0.Add(time.Duration(i)*time.Second), obs(plain, 1, device("d")))
		observe1(t, m, t0.Add(time.Duration(i)*time.Second), Observation{Key: tagged, Tag: string(buf[:5])})
	}
	if e := entryOf(m, plain); e.x != nil {
		t.Errorf("a key without tags holds %+v", e.x)
	}
	// The stored tag does not share the caller's memory.
	e := entryOf(m, tagged)
	if e.x == nil || e.x.tag != "tag-0" {
		t.Fatalf("tagged key holds %+v", e.x)
	}
	// Observing an equal tag again does not allocate.
	o := []Observation{{Key: tagged, Tag: "tag-0"}}
	out := make([]Aggregates, 1)
	at := t0.Add(time.Minute)
	allocs := testing.AllocsPerRun(100, func() {
		if err := m.Observe(context.Background(), at, o, out); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("observing a tagged key allocates %v times", allocs)
	}
	if err := m.Observe(context.Background(), at, []Observation{{Key: tagged, Tag: strings.Repeat("x", MaxTagLen)}}, out); err != nil {
		t.Errorf("tag of MaxTagLen bytes: %v", err)
	}
}

// entryOf returns k's entry in m, or nil.
func entryOf(m *Memory, k Key) *entry {
	h := hashKey(&k)
	sh := m.shardOf(h)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.lookup(h, &k)
}

func TestHistorySnapshot(t *testing.T) {
	// History days and tags survive a round trip; the restoring store's
	// windows apply.
	src := NewMemory(MemoryConfig{History: map[string]time.Duration{"login": 180 * day}})
	for i := range 40 {
		at := d0.Add(time.Duration(i) * 4 * day)
		o := Observation{Key: login("u"), Amount: 1}
		if i%3 == 0 {
			o.Tag = fmt.Sprint("city-", i)
		}
		observe1(t, src, at, o)
		observe1(t, src, at, Observation{Key: card("c"), Tag: "t"})
	}
	end := d0.Add(39 * 4 * day)
	snap := snapshotBytes(t, src)
	tests := []struct {
		name    string
		history map[string]time.Duration
		want    int64 // login("u") at end
	}{
		{"same window", map[string]time.Duration{"login": 180 * day}, 40},
		{"shorter window", map[string]time.Duration{"login": 30 * day}, 8},
		{"longer window", map[string]time.Duration{"login": 400 * day}, 40},
		{"no history", nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := NewMemory(MemoryConfig{History: tc.history})
			if err := m.Restore(bytes.NewReader(snap)); err != nil {
				t.Fatal(err)
			}
			a := read1(t, m, end, login("u"))
			if a.History != tc.want || a.PrevTag != "city-39" {
				t.Errorf("History = %d PrevTag = %q, want %d %q", a.History, a.PrevTag, tc.want, "city-39")
			}
			if c := read1(t, m, end, card("c")); c.PrevTag != "t" || c.History != 0 {
				t.Errorf("card key: %+v", c)
			}
			// Observing on goes on from the restored state.
			o := observe1(t, m, end.Add(day), Observation{Key: login("u"), Tag: "x"})
			if want := tc.want + 1; tc.history != nil && o.History != want {
				t.Errorf("History after restore = %d, want %d", o.History, want)
			}
			if o.PrevTag != "city-39" {
				t.Errorf("PrevTag after restore = %q", o.PrevTag)
			}
		})
	}
}

// TestIdleCyclesKeepBlobSize: a key of a history scope that goes idle
// past Retention again and again (a customer signing in every five weeks)
// loses its windows each time and gets totals back with its second bucket;
// its blob must not grow with every cycle. It did, by the room of the
// totals and a class rounding per cycle, until no class held it (a panic
// after a few hundred cycles, found by featurestest.Differential).
func TestIdleCyclesKeepBlobSize(t *testing.T) {
	m := NewMemory(MemoryConfig{Shards: 1, History: map[string]time.Duration{"login": 400 * day}})
	k := login("monthly")
	at := d0
	var words []uint16
	for cycle := range 600 {
		observe1(t, m, at, obs(k, 1))
		observe1(t, m, at.Add(2*time.Minute), obs(k, 1))
		sh := &m.shards[0]
		var c cur
		if !sh.find(hashKey(&k), &k, &c) {
			t.Fatalf("cycle %d: key not found", cycle)
		}
		words = append(words, c.r.words)
		at = at.Add(Retention + day)
	}
	if first, last := words[1], words[len(words)-1]; last > first {
		t.Errorf("blob grew from %d to %d words over %d idle cycles", first, last, len(words))
	}
}
