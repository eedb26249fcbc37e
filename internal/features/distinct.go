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

// dvals returns r's exactly counted values.
func (sh *shard) dvals(r *rec) []dval {
	if r.dv == 0 {
		return nil
	}
	return sh.dvs.slice(r.dv, int(r.dvLen))
}

// appendDval appends v to r's exactly counted values.
func (sh *shard) appendDval(r *rec, v dval) {
	n := int(r.dvLen)
	if n == int(r.dvCap) {
		sh.resizeDvals(r, sh.dvs.growCap(n))
	}
	sh.dvs.slice(r.dv, n+1)[n] = v
	r.dvLen++
}

// resizeDvals moves r's exactly counted values into room for want (0: no
// room).
func (sh *shard) resizeDvals(r *rec, want int) {
	r.dv = sh.dvs.resize(r.dv, int(r.dvLen), want)
	r.dvCap = uint16(sh.dvs.capOf(r.dv))
}

// deleteSlot removes the exactly counted values of slot s from r.
func (sh *shard) deleteSlot(r *rec, s int) {
	dv := sh.dvals(r)
	n := 0
	for _, v := range dv {
		if int(v.h&slotMask) != s {
			dv[n] = v
			n++
		}
	}
	r.dvLen = uint16(n)
}

// slotFor returns the slot of dimension kind code, claiming a free slot or,
// when all are taken, the least recently active one that is not in busy
// (a bit per slot: those the current observation has claimed for its other
// kinds, which must not share a slot).
func (sh *shard) slotFor(r *rec, code uint8, busy uint8) int {
	free := -1
	for s, c := range r.kinds {
		if c == code {
			return s
		}
		if c == 0 && free < 0 {
			free = s
		}
	}
	if free < 0 {
		best := int64(1 << 62)
		for s := range r.kinds {
			if busy&(1<<s) != 0 {
				continue
			}
			if a := sh.slotActivity(r, s); a < best {
				best, free = a, s
			}
		}
		sh.dropSlot(r, free)
	}
	r.kinds[free] = code
	return free
}

// slotActivity returns the unix second of the latest value seen in slot s
// (-1 when none).
func (sh *shard) slotActivity(r *rec, s int) int64 {
	if sk, ok := sh.sketch(r, s); ok {
		return int64(sk.maxTs)
	}
	a := int64(-1)
	for _, v := range sh.dvals(r) {
		if int(v.h&slotMask) == s {
			a = max(a, int64(v.last))
		}
	}
	return a
}

// sketch returns slot s's sketch; ok is false while it is counted exactly.
func (sh *shard) sketch(r *rec, s int) (sk sketch, ok bool) {
	if r.x == 0 {
		return sketch{}, false
	}
	id := sh.xs.at(r.x).sk[s]
	if id == 0 {
		return sketch{}, false
	}
	return sh.sketchAt(id), true
}

// dropSlot forgets everything slot s holds and frees it.
func (sh *shard) dropSlot(r *rec, s int) {
	r.kinds[s] = 0
	sh.deleteSlot(r, s)
	if r.x == 0 {
		return
	}
	x := sh.xs.at(r.x)
	if x.sk[s] == 0 {
		return
	}
	sh.freeSketch(x.sk[s])
	x.sk[s] = 0
	if x.sk == ([MaxDimKinds]ref{}) {
		sh.tidy(r)
	}
}

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
// share one pass over r's values (a key keeps up to DistinctCap values for
// each of several kinds, so one pass per dimension would visit all of them
// repeatedly); sketched ones go to their sketch.
func (sh *shard) observeDims(cfg *MemoryConfig, r *rec, d *dimBatch, q *query) {
	for i := range d.n {
		for j := range i {
			if d.slot[i] == d.slot[j] {
				// Two values of one kind in one observation: the second
				// must see the first, as in separate observations.
				for k := range d.n {
					sh.observeDim(cfg, r, d.slot[k], d.vh[k], q, d.mask, d.dist[k], d.isNew[k])
				}
				return
			}
		}
	}
	var exact [MaxDistinct]int // indexes into d of the exactly counted dims
	ne := 0
	for i := range d.n {
		if r.x == 0 {
			exact[ne] = i
			ne++
			continue
		}
		if sk, ok := sh.sketch(r, d.slot[i]); ok {
			nv := sk.observe(d.vh[i]&^slotMask|uint64(d.slot[i]), q.sec, r.last/1e9)
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
	stale := r.last/1e9 - retentionSec
	late := q.sec < stale
	dv := sh.dvals(r)
	w := 0
	for rd, v := range dv {
		if int64(v.last) < stale {
			continue
		}
		if w != rd {
			dv[w] = v
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
	r.dvLen = uint16(w)
	ts := uint32(q.sec)
	// Update sightings in place first: appending and converting to a
	// sketch below move values around.
	for j := range ne {
		if found[j] >= 0 && !late {
			v := &dv[found[j]]
			v.first, v.last = min(v.first, ts), max(v.last, ts)
		}
	}
	var toSketch [MaxDistinct]bool
	var add [MaxDistinct]bool
	adds := 0
	for j := range ne {
		switch {
		case found[j] >= 0, late:
		case live[j] >= cfg.DistinctCap:
			toSketch[j] = true
		default:
			add[j] = true
			adds++
		}
	}
	if n := int(r.dvLen); n+adds > int(r.dvCap) {
		sh.resizeDvals(r, max(n+adds, min(2*n, MaxDimKinds*maxDistinctCap)))
	}
	for j := range ne {
		if add[j] {
			sh.dvs.slice(r.dv, int(r.dvLen)+1)[r.dvLen] = dval{h: tag[j], first: ts, last: ts}
			r.dvLen++
		}
	}
	for j := range ne {
		i := exact[j]
		if toSketch[j] {
			sk := sh.toSketch(cfg, r, d.slot[i])
			sk.observe(tag[j], q.sec, r.last/1e9)
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
func (sh *shard) observeDim(cfg *MemoryConfig, r *rec, s int, vh uint64, q *query, mask WindowMask, dist *[NumWindows]int64, isNew *bool) {
	tag := vh&^slotMask | uint64(s)
	if r.x != 0 {
		if sk, ok := sh.sketch(r, s); ok {
			nv := sk.observe(tag, q.sec, r.last/1e9)
			if dist != nil {
				sk.estimates(q, mask, dist)
				*isNew = nv
			}
			return
		}
	}
	stale := r.last/1e9 - retentionSec
	late := q.sec < stale
	var cnt [NumWindows]int64
	dv := sh.dvals(r)
	found, live, w := -1, 0, 0
	for rd, v := range dv {
		if int64(v.last) < stale {
			continue
		}
		if w != rd {
			dv[w] = v
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
	r.dvLen = uint16(w)
	ts := uint32(q.sec)
	switch {
	case found >= 0:
		if !late {
			v := &dv[found]
			v.first, v.last = min(v.first, ts), max(v.last, ts)
		}
	case late:
	case live >= cfg.DistinctCap:
		sk := sh.toSketch(cfg, r, s)
		sk.observe(tag, q.sec, r.last/1e9)
		if dist != nil {
			sk.estimates(q, mask, dist)
			*isNew = true
		}
		return
	default:
		sh.appendDval(r, dval{h: tag, first: ts, last: ts})
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
func (sh *shard) readDim(r *rec, s int, q *query, dist *[NumWindows]int64) {
	if r.x != 0 {
		if sk, ok := sh.sketch(r, s); ok {
			sk.estimates(q, AllWindows, dist)
			return
		}
	}
	var cnt [NumWindows]int64
	for _, v := range sh.dvals(r) {
		if int(v.h&slotMask) == s {
			v.count(q, &cnt)
		}
	}
	*dist = cnt
}

// toSketch moves slot s's exact values into a new sketch and returns it.
func (sh *shard) toSketch(cfg *MemoryConfig, r *rec, s int) sketch {
	head := r.last / 1e9
	id, sk := sh.newSketch(uint8(cfg.SketchPrecision), uint32(max(head-retentionSec, 0)))
	type sighting struct {
		ts uint32
		h  uint64
	}
	var seen []sighting
	for _, v := range sh.dvals(r) {
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
	sh.deleteSlot(r, s)
	sh.setSketch(r, s, id)
	return sk
}

// sweepDims drops values and sketch entries older than Retention before q
// and frees slots left empty.
func (sh *shard) sweepDims(r *rec, q *query) {
	stale := q.sec - retentionSec
	dv := sh.dvals(r)
	n := 0
	for _, v := range dv {
		if int64(v.last) >= stale {
			dv[n] = v
			n++
		}
	}
	r.dvLen = uint16(n)
	if c := int(r.dvCap); c > 2*n+4 && (n == 0 || sh.dvs.classCap(n) < c) {
		sh.resizeDvals(r, n)
	}
	for s, c := range r.kinds {
		if c == 0 {
			continue
		}
		if sk, ok := sh.sketch(r, s); ok {
			if sk.sweep(stale) {
				sh.dropSlot(r, s)
			}
			continue
		}
		if sh.slotActivity(r, s) < 0 {
			r.kinds[s] = 0
		}
	}
}

// setSketch makes sketch id slot s's sketch.
func (sh *shard) setSketch(r *rec, s int, id ref) {
	if r.x == 0 {
		r.x = sh.xs.allocClass(0)
	}
	sh.xs.at(r.x).sk[s] = id
}

// sweep drops what no window or history ending at or after q can count.
// The blob may move.
func (sh *shard) sweep(c *cur, q *query) {
	sh.sweepBuckets(c, q)
	r := c.r
	sh.sweepDims(r, q)
	if r.x != 0 {
		if x := sh.xs.at(r.x); x.hdays != 0 {
			sh.sweepDays(x, q.day)
		}
	}
}
