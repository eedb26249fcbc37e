package features

import "math"

// level describes how one window is bucketed: n buckets of gran nanoseconds
// (gsec seconds) make up the window.
type level struct {
	gran int64
	gsec int64
	n    int64
}

// levels is a read-only table indexed by Window; n×gsec equals the
// window's length.
var levels = [NumWindows]level{
	{gran: 5e9, gsec: 5, n: 12},        // 1m
	{gran: 60e9, gsec: 60, n: 60},      // 1h
	{gran: 900e9, gsec: 900, n: 96},    // 24h
	{gran: 3600e9, gsec: 3600, n: 168}, // 7d
	{gran: 21600e9, gsec: 21600, n: 120},
}

// nw is NumWindows as an int, for loops and index arithmetic.
const nw = int(NumWindows)

// retentionSec is Retention in seconds.
const retentionSec = int64(Retention / 1e9)

// query is one event time with, per window, the index of the bucket that
// holds it and the window's bounds in seconds at bucket granularity.
type query struct {
	ns  int64 // unix nanoseconds
	sec int64 // unix seconds
	day int64 // UTC day: unix seconds / daySec
	b   [NumWindows]int64
	lo  [NumWindows]int64 // first second inside the window
	hi  [NumWindows]int64 // last second inside the window
}

// newQuery returns the query for unix nanoseconds ns >= 0.
func newQuery(ns int64) query {
	q := query{ns: ns, sec: ns / 1e9, day: ns / dayNS}
	for l := range levels {
		lv := &levels[l]
		b := ns / lv.gran
		q.b[l] = b
		q.lo[l], q.hi[l] = windowBounds(l, b)
	}
	return q
}

// windowBounds returns the first and last second of window l when its
// newest bucket is b.
func windowBounds(l int, b int64) (lo, hi int64) {
	lv := &levels[l]
	return max(b-lv.n+1, 0) * lv.gsec, (b+1)*lv.gsec - 1
}

// bucket aggregates the observations of one key in one time bucket.
type bucket struct {
	sum float64
	idx uint32 // bucket number: unix time / granularity
	n   uint32 // observations; saturates at MaxUint32
}

// total is the running count and sum of one window's buckets.
type total struct {
	n   uint64
	sum float64
}

// region returns the bounds of window l's part of e.bk.
func (e *entry) region(l int) (int, int) {
	s, end := 0, len(e.bk)
	if l > 0 {
		s = int(e.off[l-1])
	}
	if l < nw-1 {
		end = int(e.off[l])
	}
	return s, end
}

// add records one observation of amount in bucket b of window l and reports
// whether it was stored: an out-of-order observation older than the ring is
// not.
func (e *entry) add(l int, b int64, amount float64) bool {
	s, end := e.region(l)
	n := levels[l].n
	if s == end {
		e.insertBucket(l, end, b, amount)
		return true
	}
	head := int64(e.bk[end-1].idx)
	switch {
	case b > head:
		k := 0
		for s+k < end && int64(e.bk[s+k].idx) <= b-n {
			k++
		}
		if k > 0 {
			e.removeBuckets(l, s, k)
			end -= k
		}
		e.insertBucket(l, end, b, amount)
	case b == head:
		e.addTo(l, end-1, amount)
	default:
		if b <= head-n {
			return false
		}
		p := end - 1
		for p >= s && int64(e.bk[p].idx) > b {
			p--
		}
		if p >= s && int64(e.bk[p].idx) == b {
			e.addTo(l, p, amount)
		} else {
			e.insertBucket(l, p+1, b, amount)
		}
	}
	return true
}

// addTo adds one observation to the existing bucket at position p.
func (e *entry) addTo(l, p int, amount float64) {
	bk := &e.bk[p]
	bk.sum += amount
	inc := bk.n < math.MaxUint32
	if inc {
		bk.n++
	}
	if e.tot != nil {
		t := &e.tot[l]
		t.sum += amount
		if inc {
			t.n++
		}
	}
}

// insertBucket inserts a new bucket b holding one observation at position
// pos of window l's part, then brings the totals up to date.
func (e *entry) insertBucket(l, pos int, b int64, amount float64) {
	if e.tot == nil {
		if s, end := e.region(l); end > s {
			e.tot = new([NumWindows]total)
			for r := range nw {
				e.retotal(r)
			}
		}
	}
	e.bk = append(e.bk, bucket{})
	copy(e.bk[pos+1:], e.bk[pos:len(e.bk)-1])
	e.bk[pos] = bucket{sum: amount, idx: uint32(b), n: 1}
	for r := l; r < nw-1; r++ {
		e.off[r]++
	}
	if e.tot != nil {
		e.retotal(l)
	}
}

// removeBuckets removes k buckets at position pos of window l's part; the
// caller brings the totals up to date.
func (e *entry) removeBuckets(l, pos, k int) {
	copy(e.bk[pos:], e.bk[pos+k:])
	clear(e.bk[len(e.bk)-k:])
	e.bk = e.bk[:len(e.bk)-k]
	for r := l; r < nw-1; r++ {
		e.off[r] -= uint16(k)
	}
}

// retotal recomputes window l's totals from its buckets, in bucket order.
func (e *entry) retotal(l int) {
	s, end := e.region(l)
	var t total
	for _, bk := range e.bk[s:end] {
		t.n += uint64(bk.n)
		t.sum += bk.sum
	}
	e.tot[l] = t
}

// window returns the count and sum of window l whose newest bucket is b.
func (e *entry) window(l int, b int64) (int64, float64) {
	s, end := e.region(l)
	if s == end {
		return 0, 0
	}
	lo := b - levels[l].n + 1
	if e.tot == nil {
		bk := &e.bk[s]
		if i := int64(bk.idx); i >= lo && i <= b {
			return int64(bk.n), bk.sum
		}
		return 0, 0
	}
	if b >= int64(e.bk[end-1].idx) {
		// Everything up to the head counts: subtract what fell out.
		t := e.tot[l]
		c, sum := int64(t.n), t.sum
		p := s
		for ; p < end && int64(e.bk[p].idx) < lo; p++ {
			c -= int64(e.bk[p].n)
			sum -= e.bk[p].sum
		}
		if p == end {
			return 0, 0
		}
		return c, sum
	}
	var c int64
	var sum float64
	for p := end - 1; p >= s; p-- {
		i := int64(e.bk[p].idx)
		if i > b {
			continue
		}
		if i < lo {
			break
		}
		c += int64(e.bk[p].n)
		sum += e.bk[p].sum
	}
	return c, sum
}

// sweepBuckets drops the buckets no window ending at or after q can count,
// frees the totals when no window needs them and trims spare capacity.
func (e *entry) sweepBuckets(q *query) {
	multi := false
	for l := range nw {
		s, end := e.region(l)
		k := 0
		for s+k < end && int64(e.bk[s+k].idx) <= q.b[l]-levels[l].n {
			k++
		}
		if k > 0 {
			e.removeBuckets(l, s, k)
			end -= k
			if e.tot != nil {
				e.retotal(l)
			}
		}
		if end-s > 1 {
			multi = true
		}
	}
	if !multi {
		e.tot = nil
	}
	if cap(e.bk) > 2*len(e.bk)+nw {
		e.bk = append(make([]bucket, 0, len(e.bk)), e.bk...)
	}
}
