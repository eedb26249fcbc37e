package features

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// pagesHeld returns the number of pages an arena holds.
func pagesHeld[T any](a *arena[T]) int {
	n := 0
	for _, p := range a.pt.Load().pages {
		if p != nil {
			n++
		}
	}
	return n
}

// arenaModel drives an arena with a sequence of allocations and frees,
// filling every chunk with a pattern of its own and checking that no other
// operation disturbs it.
type arenaModel struct {
	t    testing.TB
	a    arena[uint32]
	live map[ref][2]uint32 // length used, pattern
	seq  uint32
}

func newArenaModel(t testing.TB) *arenaModel {
	m := &arenaModel{t: t, live: map[ref][2]uint32{}}
	m.a.init(classCaps(1, 5000))
	return m
}

func (m *arenaModel) alloc(n int) {
	r := m.a.alloc(n)
	if _, dup := m.live[r]; dup || r == 0 {
		m.t.Fatalf("alloc(%d) = %#x, already live or zero", n, r)
	}
	c := m.a.get(r)
	if len(c) < n || len(c) != m.a.capOf(r) {
		m.t.Fatalf("alloc(%d): chunk of %d, capOf %d", n, len(c), m.a.capOf(r))
	}
	for i, x := range c {
		if x != 0 {
			m.t.Fatalf("alloc(%d): element %d is %#x, not zeroed", n, i, x)
		}
	}
	m.seq++
	for i := range c {
		c[i] = m.seq<<12 | uint32(i)
	}
	m.live[r] = [2]uint32{uint32(len(c)), m.seq}
}

func (m *arenaModel) free(r ref) {
	m.check(r)
	delete(m.live, r)
	m.a.free(r)
}

func (m *arenaModel) check(r ref) {
	want := m.live[r]
	c := m.a.slice(r, int(want[0]))
	for i, x := range c {
		if x != want[1]<<12|uint32(i) {
			m.t.Fatalf("chunk %#x element %d is %#x, want %#x", r, i, x, want[1]<<12|uint32(i))
		}
	}
}

func (m *arenaModel) checkAll() {
	for r := range m.live {
		m.check(r)
	}
	if got := m.a.inUse(); got != len(m.live) {
		m.t.Fatalf("arena counts %d chunks in use, want %d", got, len(m.live))
	}
}

// anyLive returns a live chunk picked by k.
func (m *arenaModel) anyLive(k int) ref {
	for r := range m.live {
		if k--; k < 0 {
			return r
		}
	}
	return 0
}

func TestArena(t *testing.T) {
	m := newArenaModel(t)
	rng := rand.New(rand.NewPCG(1, 2))
	sizes := []int{1, 3, 8, 9, 100, 1000, 5000}
	for round := range 3 {
		for range 20000 {
			if len(m.live) > 0 && rng.IntN(3) == 0 {
				m.free(m.anyLive(rng.IntN(len(m.live))))
				continue
			}
			m.alloc(max(sizes[rng.IntN(len(sizes))]-rng.IntN(2), 1))
		}
		m.checkAll()
		for r := range m.live {
			m.free(r)
		}
		m.checkAll()
		if n := pagesHeld(&m.a); n != 0 {
			t.Errorf("round %d: %d pages held with no chunk in use", round, n)
		}
	}
}

func TestArenaKeepsRoom(t *testing.T) {
	// A class whose only page empties while its other chunks are in use on
	// full pages keeps the page: alloc and free in turn do not make pages.
	m := newArenaModel(t)
	for range 200 {
		m.alloc(8)
	}
	pt := m.a.pt.Load()
	for range 100 {
		m.alloc(8)
		m.free(m.anyLive(0))
	}
	if m.a.pt.Load() != pt && len(m.a.pt.Load().pages) > len(pt.pages) {
		t.Errorf("page table grew from %d to %d pages", len(pt.pages), len(m.a.pt.Load().pages))
	}
	m.checkAll()
}

func TestArenaResize(t *testing.T) {
	var a arena[dval]
	a.init(dvalCaps)
	r := ref(0)
	for n := range 5000 {
		r = a.grow(r, n)
		a.slice(r, n+1)[n] = dval{h: uint64(n)}
	}
	for i, v := range a.slice(r, 5000) {
		if v.h != uint64(i) {
			t.Fatalf("value %d lost: %+v", i, v)
		}
	}
	if c := a.capOf(r); c < 5000 || c > 2*5000 {
		t.Errorf("capacity %d after growing to 5000", c)
	}
	r = a.fit(r, 10)
	if c := a.capOf(r); c != 10 {
		t.Errorf("capacity %d after fitting 10", c)
	}
	for i, v := range a.slice(r, 10) {
		if v.h != uint64(i) {
			t.Fatalf("value %d lost after fit: %+v", i, v)
		}
	}
	if r = a.fit(r, 0); r != 0 || a.inUse() != 0 || pagesHeld(&a) != 0 {
		t.Errorf("fit(0): ref %#x, %d in use, %d pages", r, a.inUse(), pagesHeld(&a))
	}
}

func TestClassCaps(t *testing.T) {
	for _, caps := range [][]uint32{byteCaps, dvalCaps, dayCaps, blobCaps, regCaps, classCaps(1, 100)} {
		for i := 1; i < len(caps); i++ {
			if caps[i] <= caps[i-1] || caps[i] > 2*caps[i-1] {
				t.Errorf("classes %v: %d after %d", caps[:i+1], caps[i], caps[i-1])
			}
		}
		if len(caps) > 255 {
			t.Errorf("%d classes", len(caps))
		}
	}
	if byteCaps[len(byteCaps)-1] < MaxTagLen || dayCaps[len(dayCaps)-1] < 400 || int(blobCaps[len(blobCaps)-1]) < maxBlobWords {
		t.Error("a largest class is too small")
	}
}

func FuzzArena(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 200, 201, 5, 7, 255, 128})
	f.Add(binary.LittleEndian.AppendUint64(nil, 0x0102030405060708))
	f.Fuzz(func(t *testing.T, ops []byte) {
		m := newArenaModel(t)
		for i := 0; i+1 < len(ops); i += 2 {
			op, arg := ops[i], int(ops[i+1])
			switch {
			case op < 128 || len(m.live) == 0:
				m.alloc(1 + arg*int(op%32)%5000)
			default:
				m.free(m.anyLive(arg % len(m.live)))
			}
		}
		m.checkAll()
		for r := range m.live {
			m.free(r)
		}
		if n := pagesHeld(&m.a); n != 0 || m.a.inUse() != 0 {
			t.Fatalf("%d pages, %d chunks held with none in use", n, m.a.inUse())
		}
	})
}

// heapUse counts the chunks of every arena the records of m refer to.
type heapUse struct {
	recs, dvs, xs, days, bytes, sks, regs int
}

// checkHeap verifies that the arenas of m hold exactly the chunks its
// records refer to, each once, and that every record is well formed and
// filed under its key's hash.
func checkHeap(t *testing.T, m *Memory) {
	t.Helper()
	checkHeapHashed(t, m, true)
}

// checkHeapHashed is checkHeap, which checks the hashes of keys only with
// hashed set.
func checkHeapHashed(t *testing.T, m *Memory, hashed bool) {
	t.Helper()
	var want heapUse
	h := m.shards[0].heap
	seen := map[ref]bool{}
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		if sh.heap != h {
			t.Fatal("shards do not share their heap")
		}
		n := 0
		for hash, head := range sh.index {
			for id := head; id != 0; {
				c := sh.open(id, hash, nil)
				r := c.r
				n++
				if seen[id] {
					t.Fatalf("record %#x twice", id)
				}
				seen[id] = true
				k, ok := decodeKey(string(c.key()))
				if !ok || (hashed && hashKey(&k) != hash) {
					t.Fatalf("record %#x: key %q under the wrong hash", id, c.key())
				}
				w := c.wins()
				if int(r.bkLen) > len(w.bk) || (r.hasTot != (w.tot != nil)) {
					t.Fatalf("key %v: %d buckets in room for %d", k, r.bkLen, len(w.bk))
				}
				for l := range nw {
					s, end := r.region(l)
					if s > end || end > int(r.bkLen) {
						t.Fatalf("key %v: window %d spans %d..%d of %d", k, l, s, end, r.bkLen)
					}
				}
				want.recs++
				if r.dv != 0 {
					want.dvs++
					if int(r.dvCap) != sh.dvs.capOf(r.dv) || r.dvLen > r.dvCap {
						t.Fatalf("key %v: %d values, room %d, chunk of %d", k, r.dvLen, r.dvCap, sh.dvs.capOf(r.dv))
					}
				} else if r.dvLen != 0 || r.dvCap != 0 {
					t.Fatalf("key %v: %d values without a chunk", k, r.dvLen)
				}
				if r.x != 0 {
					want.xs++
					x := sh.xs.at(r.x)
					if x.days != 0 {
						want.days++
						if int(x.daysLen) > sh.days.capOf(x.days) {
							t.Fatalf("key %v: %d days in room for %d", k, x.daysLen, sh.days.capOf(x.days))
						}
					}
					if x.tag != 0 {
						want.bytes++
					}
					for _, s := range x.sk {
						if s != 0 {
							want.sks++
							want.regs++
						}
					}
				}
				id = r.next
			}
		}
		if n != sh.n {
			t.Fatalf("shard %d counts %d records, holds %d", i, sh.n, n)
		}
		sh.mu.Unlock()
	}
	got := heapUse{h.recs.inUse(), h.dvs.inUse(), h.xs.inUse(), h.days.inUse(), h.bytes.inUse(), h.sks.inUse(), h.regs.inUse()}
	if got != want {
		t.Fatalf("arenas hold %+v, records refer to %+v", got, want)
	}
}

func TestHeapAccounting(t *testing.T) {
	// Every path that makes, moves, grows, trims and frees chunks leaves
	// the arenas holding just what the records refer to; sweeping every
	// key leaves them empty.
	hist := map[string]time.Duration{"login": 45 * day, "transaction": 2 * day}
	tests := []struct {
		name   string
		stream streamConfig
		cfg    MemoryConfig
	}{
		{"sketches and history", streamConfig{seed: 81, calls: 3000, keys: 30, values: 200, dimsPerOb: 3, longGaps: true, jitter: 2 * time.Hour, tags: 5}, MemoryConfig{DistinctCap: 8, SketchPrecision: 8, History: hist}},
		{"exact", streamConfig{seed: 82, calls: 3000, keys: 50, values: 100, dimsPerOb: 3, longGaps: true, tags: 7}, MemoryConfig{DistinctCap: maxDistinctCap, Shards: 4}},
		{"many kinds", streamConfig{seed: 83, calls: 2000, keys: 10, values: 50, dimsPerOb: 4, jitter: time.Hour}, MemoryConfig{DistinctCap: 4, SketchPrecision: 9, Shards: 1, History: hist}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := NewMemory(tc.cfg)
			ctx := context.Background()
			stream := genStream(tc.stream)
			for i, ev := range stream {
				if err := m.Apply(ctx, ev.at, ev.obs); err != nil {
					t.Fatal(err)
				}
				if i%211 == 0 {
					m.Sweep(ev.at.Add(-time.Hour))
					checkHeap(t, m)
				}
			}
			checkHeap(t, m)
			// Restore makes the same heap.
			r := NewMemory(tc.cfg)
			if err := r.Restore(bytes.NewReader(snapshotBytes(t, m))); err != nil {
				t.Fatal(err)
			}
			checkHeap(t, r)
			end := stream[len(stream)-1].at
			for _, s := range []*Memory{m, r} {
				s.Sweep(end.Add(400 * day))
				if s.Len() != 0 {
					t.Fatalf("%d keys after the final sweep", s.Len())
				}
				checkHeap(t, s)
				h := s.shards[0].heap
				if n := pagesHeld(&h.recs) + pagesHeld(&h.dvs) + pagesHeld(&h.xs) + pagesHeld(&h.days) + pagesHeld(&h.bytes) + pagesHeld(&h.sks) + pagesHeld(&h.regs); n != 0 {
					t.Errorf("%d pages held by an empty store", n)
				}
			}
		})
	}
}

func TestHeapAccountingCollisions(t *testing.T) {
	// Keys sharing a hash move their blobs while chained; each stays
	// reachable and is freed once.
	m := NewMemory(MemoryConfig{Shards: 1})
	sh := &m.shards[0]
	const h = 12345
	var keys []Key
	for i := range 5 {
		k := card(fmt.Sprint("coll-", i))
		keys = append(keys, k)
		sh.create(h, &k, 0)
	}
	for i := range 400 {
		for j, k := range keys {
			o := obs(k, float64(j), device(fmt.Sprint("d", i%9)))
			var a Aggregates
			q := newQuery(t0.Add(time.Duration(i) * time.Minute).UnixNano())
			sh.mu.Lock()
			err := sh.observe(&m.cfg, h, &[MaxDistinct]uint64{hashValue(o.Distinct[0].Value)}, &o, &q, &a)
			sh.mu.Unlock()
			if err != nil || a.Count[W24h] != int64(i+1) || a.Sum[W24h] != float64(j*(i+1)) {
				t.Fatalf("key %d call %d: %v %+v", j, i, err, a)
			}
		}
	}
	checkHeapHashed(t, m, false)
	if n := m.Sweep(t0.Add(4 * day)); n != 0 {
		t.Fatalf("swept %d live keys", n)
	}
	checkHeapHashed(t, m, false)
	if n := m.Sweep(t0.Add(40 * day)); n != 5 {
		t.Fatalf("swept %d keys, want 5", n)
	}
	checkHeapHashed(t, m, false)
	if n := pagesHeld(&sh.recs); n != 0 {
		t.Errorf("%d pages held by an empty store", n)
	}
}
