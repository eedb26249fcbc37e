package features

import (
	"cmp"
	"slices"
)

// maxDistinctCap bounds MemoryConfig.DistinctCap and what Restore accepts.
const maxDistinctCap = 4096

// slotMask selects the dimension slot a tagged value hash carries in its low
// bits; MaxDimKinds must not exceed slotMask+1.
const slotMask = MaxDimKinds - 1

// dval is one exactly counted distinct value of a key.
type dval struct {
	h     uint64 // value hash, low bits replaced by the slot
	first uint32 // unix seconds of the earliest sighting
	last  uint32 // unix seconds of the latest sighting
}

// slotFor returns the slot of dimension kind code, claiming a free slot or,
// when all are taken, the least recently active one.
func (e *entry) slotFor(code uint8) int {
	free := -1
	for s, c := range e.kinds {
		if c == code {
			return s
		}
		if c == 0 && free < 0 {
			free = s
		}
	}
	if free < 0 {
		best := int64(1 << 62)
		for s := range e.kinds {
			if a := e.slotActivity(s); a < best {
				best, free = a, s
			}
		}
		e.dropSlot(free)
	}
	e.kinds[free] = code
	return free
}

// slotActivity returns the unix second of the latest value seen in slot s
// (-1 when none).
func (e *entry) slotActivity(s int) int64 {
	if sk := e.sketch(s); sk != nil {
		return int64(sk.maxTs)
	}
	a := int64(-1)
	for _, v := range e.dv {
		if int(v.h&slotMask) == s {
			a = max(a, int64(v.last))
		}
	}
	return a
}

// sketch returns slot s's sketch, or nil while it is counted exactly.
func (e *entry) sketch(s int) *sketch {
	if e.x == nil || e.x.hll == nil {
		return nil
	}
	return e.x.hll[s]
}

// dropSlot forgets everything slot s holds and frees it.
func (e *entry) dropSlot(s int) {
	e.kinds[s] = 0
	e.dv = slices.DeleteFunc(e.dv, func(v dval) bool { return int(v.h&slotMask) == s })
	if x := e.x; x != nil && x.hll != nil {
		x.hll[s] = nil
		if *x.hll == ([MaxDimKinds]*sketch{}) {
			x.hll = nil
			e.tidy()
		}
	}
}

// observeDim records value hash vh in slot s at q. When dist is not nil it
// receives the slot's distinct counts per window including vh, and isNew
// whether vh had not been seen within Retention.
// dimBatch is the distinct dimensions of one observation: for each, its
// slot, value hash and where its results go (nil when not wanted).
type dimBatch struct {
	mask  WindowMask // windows whose distinct counts are wanted
	n     int
	slot  [MaxDistinct]int
	vh    [MaxDistinct]uint64
	dist  [MaxDistinct]*[NumWindows]int64
	isNew [MaxDistinct]*bool
}

func (d *dimBatch) add(slot int, vh uint64, dist *[NumWindows]int64, isNew *bool) {
	d.slot[d.n], d.vh[d.n], d.dist[d.n], d.isNew[d.n] = slot, vh, dist, isNew
	d.n++
}

// observeDims records every dimension of d. Exactly counted dimensions
// share one pass over e.dv (a key keeps up to DistinctCap values for each
// of several kinds, so one pass per dimension would visit all of them
// repeatedly); sketched ones go to their sketch.
func (e *entry) observeDims(cfg *MemoryConfig, d *dimBatch, q *query) {
	for i := range d.n {
		for j := range i {
			if d.slot[i] == d.slot[j] {
				// Two values of one kind in one observation: the second
				// must see the first, as in separate observations.
				for k := range d.n {
					e.observeDim(cfg, d.slot[k], d.vh[k], q, d.mask, d.dist[k], d.isNew[k])
				}
				return
			}
		}
	}
	var exact [MaxDistinct]int // indexes into d of the exactly counted dims
	ne := 0
	for i := range d.n {
		if sk := e.sketch(d.slot[i]); sk != nil {
			nv := sk.observe(d.vh[i]&^slotMask|uint64(d.slot[i]), q.sec, e.last/1e9)
			if d.dist[i] != nil {
				sk.estimates(q, d.mask, d.dist[i])
				*d.isNew[i] = nv
			}
			continue
		}
		exact[ne] = i
		ne++
	}
	if ne == 0 {
		return
	}
	var (
		tag   [MaxDistinct]uint64
		found [MaxDistinct]int
		live  [MaxDistinct]int
		cnt   [MaxDistinct][NumWindows]int64
	)
	for j := range ne {
		i := exact[j]
		tag[j] = d.vh[i]&^slotMask | uint64(d.slot[i])
		found[j] = -1
	}
	stale := e.last/1e9 - retentionSec
	late := q.sec < stale
	w := 0
	for r, v := range e.dv {
		if int64(v.last) < stale {
			continue
		}
		if w != r {
			e.dv[w] = v
		}
		vs := int(v.h & slotMask)
		for j := range ne {
			if d.slot[exact[j]] != vs {
				continue
			}
			if v.h == tag[j] {
				found[j] = w
			} else {
				live[j]++
				if d.dist[exact[j]] != nil {
					v.count(q, &cnt[j])
				}
			}
		}
		w++
	}
	if w < len(e.dv) {
		clear(e.dv[w:])
		e.dv = e.dv[:w]
	}
	ts := uint32(q.sec)
	// Update sightings in place first: appending and converting to a
	// sketch below move values around.
	for j := range ne {
		if found[j] >= 0 && !late {
			v := &e.dv[found[j]]
			v.first, v.last = min(v.first, ts), max(v.last, ts)
		}
	}
	var toSketch [MaxDistinct]bool
	for j := range ne {
		switch {
		case found[j] >= 0, late:
		case live[j] >= cfg.DistinctCap:
			toSketch[j] = true
		default:
			e.dv = append(e.dv, dval{h: tag[j], first: ts, last: ts})
		}
	}
	for j := range ne {
		i := exact[j]
		if toSketch[j] {
			sk := e.toSketch(cfg, d.slot[i])
			sk.observe(tag[j], q.sec, e.last/1e9)
			if d.dist[i] != nil {
				sk.estimates(q, d.mask, d.dist[i])
				*d.isNew[i] = true
			}
			continue
		}
		if d.dist[i] != nil {
			for l := range cnt[j] {
				d.dist[i][l] = cnt[j][l] + 1
			}
			*d.isNew[i] = found[j] < 0
		}
	}
}

// observeDim records one dimension value; observeDims is the batched form,
// and the reference tests hold both to the same results.
func (e *entry) observeDim(cfg *MemoryConfig, s int, vh uint64, q *query, mask WindowMask, dist *[NumWindows]int64, isNew *bool) {
	tag := vh&^slotMask | uint64(s)
	if sk := e.sketch(s); sk != nil {
		nv := sk.observe(tag, q.sec, e.last/1e9)
		if dist != nil {
			sk.estimates(q, mask, dist)
			*isNew = nv
		}
		return
	}
	stale := e.last/1e9 - retentionSec
	late := q.sec < stale
	var cnt [NumWindows]int64
	found, live, w := -1, 0, 0
	for r, v := range e.dv {
		if int64(v.last) < stale {
			continue
		}
		if w != r {
			e.dv[w] = v
		}
		if int(v.h&slotMask) == s {
			if v.h == tag {
				found = w
			} else {
				live++
				if dist != nil {
					v.count(q, &cnt)
				}
			}
		}
		w++
	}
	if w < len(e.dv) {
		clear(e.dv[w:])
		e.dv = e.dv[:w]
	}
	ts := uint32(q.sec)
	switch {
	case found >= 0:
		if !late {
			v := &e.dv[found]
			v.first, v.last = min(v.first, ts), max(v.last, ts)
		}
	case late:
	case live >= cfg.DistinctCap:
		sk := e.toSketch(cfg, s)
		sk.observe(tag, q.sec, e.last/1e9)
		if dist != nil {
			sk.estimates(q, mask, dist)
			*isNew = true
		}
		return
	default:
		e.dv = append(e.dv, dval{h: tag, first: ts, last: ts})
	}
	if dist != nil {
		for l := range cnt {
			dist[l] = cnt[l] + 1
		}
		*isNew = found < 0
	}
}

// count adds v to the windows of cnt in which it was sighted.
func (v dval) count(q *query, cnt *[NumWindows]int64) {
	f, l := int64(v.first), int64(v.last)
	for w := range cnt {
		if (l >= q.lo[w] && l <= q.hi[w]) || (f >= q.lo[w] && f <= q.hi[w]) {
			cnt[w]++
		}
	}
}

// readDim writes slot s's distinct counts per window at q into dist.
func (e *entry) readDim(s int, q *query, dist *[NumWindows]int64) {
	if sk := e.sketch(s); sk != nil {
		sk.estimates(q, AllWindows, dist)
		return
	}
	var cnt [NumWindows]int64
	for _, v := range e.dv {
		if int(v.h&slotMask) == s {
			v.count(q, &cnt)
		}
	}
	*dist = cnt
}

// toSketch moves slot s's exact values into a new sketch and returns it.
func (e *entry) toSketch(cfg *MemoryConfig, s int) *sketch {
	head := e.last / 1e9
	sk := newSketch(uint8(cfg.SketchPrecision), uint32(max(head-retentionSec, 0)))
	type sighting struct {
		ts uint32
		h  uint64
	}
	var seen []sighting
	for _, v := range e.dv {
		if int(v.h&slotMask) != s {
			continue
		}
		seen = append(seen, sighting{v.first, v.h})
		if v.last != v.first {
			seen = append(seen, sighting{v.last, v.h})
		}
	}
	slices.SortStableFunc(seen, func(a, b sighting) int { return cmp.Compare(a.ts, b.ts) })
	for _, x := range seen {
		sk.observe(x.h, int64(x.ts), head)
	}
	e.dv = slices.DeleteFunc(e.dv, func(v dval) bool { return int(v.h&slotMask) == s })
	e.setSketch(s, sk)
	return sk
}

// sweepDims drops values and sketch entries older than Retention before q
// and frees slots left empty.
func (e *entry) sweepDims(q *query) {
	stale := q.sec - retentionSec
	e.dv = slices.DeleteFunc(e.dv, func(v dval) bool { return int64(v.last) < stale })
	if cap(e.dv) > 2*len(e.dv)+4 {
		e.dv = append([]dval(nil), e.dv...)
	}
	for s, c := range e.kinds {
		if c == 0 {
			continue
		}
		if sk := e.sketch(s); sk != nil {
			if sk.sweep(stale) {
				e.dropSlot(s)
			}
			continue
		}
		if e.slotActivity(s) < 0 {
			e.kinds[s] = 0
		}
	}
}

// setSketch makes sk slot s's sketch.
func (e *entry) setSketch(s int, sk *sketch) {
	if e.x == nil {
		e.x = new(extra)
	}
	if e.x.hll == nil {
		e.x.hll = new([MaxDimKinds]*sketch)
	}
	e.x.hll[s] = sk
}

// sweep drops what no window or history ending at or after q can count.
func (e *entry) sweep(q *query) {
	e.sweepBuckets(q)
	e.sweepDims(q)
	if e.x != nil && e.x.hdays != 0 {
		e.x.sweepDays(q.day)
	}
}
