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

// totalBuckets is the number of buckets of all windows: the most a key
// can hold.
const totalBuckets = 12 + 60 + 96 + 168 + 120

// region returns the bounds of window l's part of r's buckets.
func (r *rec) region(l int) (int, int) {
	s, end := 0, int(r.bkLen)
	if l > 0 {
		s = int(r.off[l-1])
	}
	if l < nw-1 {
		end = int(r.off[l])
	}
	return s, end
}

// wins is where a record's windows are, while it is worked on: room for
// its buckets (the buckets first, up to bkLen; nil when there is none) and
// its totals (nil when it has none). It is good until the blob moves.
type wins struct {
	bk  []bucket
	tot *[NumWindows]total
}

// add records one observation of amount in bucket b of window l of c,
// whose windows are at w, and reports whether it was stored: an
// out-of-order observation older than the ring is not.
func (sh *shard) add(c *cur, w *wins, l int, b int64, amount float64) bool {
	r := c.r
	s, end := r.region(l)
	n := levels[l].n
	if s == end {
		sh.insertBucket(c, w, l, end, b, amount)
		return true
	}
	bk := w.bk
	head := int64(bk[end-1].idx)
	switch {
	case b > head:
		k := 0
		for s+k < end && int64(bk[s+k].idx) <= b-n {
			k++
		}
		if k > 0 {
			r.removeBuckets(w, l, s, k)
			end -= k
		}
		sh.insertBucket(c, w, l, end, b, amount)
	case b == head:
		w.addTo(l, end-1, amount)
	default:
		if b <= head-n {
			return false
		}
		p := end - 1
		for p >= s && int64(bk[p].idx) > b {
			p--
		}
		if p >= s && int64(bk[p].idx) == b {
			w.addTo(l, p, amount)
		} else {
			sh.insertBucket(c, w, l, p+1, b, amount)
		}
	}
	return true
}

// addTo adds one observation to the existing bucket at position p of
// window l.
func (w *wins) addTo(l, p int, amount float64) {
	bk := &w.bk[p]
	bk.sum += amount
	inc := bk.n < math.MaxUint32
	if inc {
		bk.n++
	}
	if w.tot != nil {
		t := &w.tot[l]
		t.sum += amount
		if inc {
			t.n++
		}
	}
}

// insertBucket inserts a new bucket b holding one observation at position
// pos of window l's part, then brings the totals up to date. The blob may
// move: w and c follow it.
func (sh *shard) insertBucket(c *cur, w *wins, l, pos int, b int64, amount float64) {
	if w.tot == nil {
		if s, end := c.r.region(l); end > s {
			// Keep the blob's size: the totals take the room of
			// totWords/bucketWords buckets. (Asking for all of the room
			// as buckets grew the blob each time a key lost its totals
			// by going idle, until no class held it.)
			sh.reshape(c, true, max(len(w.bk)-totWords/bucketWords, int(c.r.bkLen)+1), false)
			*w = c.wins()
			for rl := range nw {
				c.r.retotal(w, rl)
			}
		}
	}
	r := c.r
	n := int(r.bkLen)
	if n == len(w.bk) {
		// A quarter more, at least four: the next class or two up, so
		// that a growing key moves less often.
		sh.reshape(c, r.hasTot, max(n+4, n+n/4), false)
		*w = c.wins()
		r = c.r
	}
	bk := w.bk[:n+1]
	copy(bk[pos+1:], bk[pos:n])
	bk[pos] = bucket{sum: amount, idx: uint32(b), n: 1}
	r.bkLen++
	for rl := l; rl < nw-1; rl++ {
		r.off[rl]++
	}
	if w.tot != nil {
		r.retotal(w, l)
	}
}

// removeBuckets removes k buckets at position pos of window l's part; the
// caller brings the totals up to date.
func (r *rec) removeBuckets(w *wins, l, pos, k int) {
	n := int(r.bkLen)
	copy(w.bk[pos:n], w.bk[pos+k:n])
	r.bkLen -= uint16(k)
	for rl := l; rl < nw-1; rl++ {
		r.off[rl] -= uint16(k)
	}
}

// retotal recomputes window l's totals from its buckets, in bucket order.
func (r *rec) retotal(w *wins, l int) {
	s, end := r.region(l)
	var t total
	for _, bk := range w.bk[s:end] {
		t.n += uint64(bk.n)
		t.sum += bk.sum
	}
	w.tot[l] = t
}

// window returns the count and sum of window l whose newest bucket is b.
func (r *rec) window(w *wins, l int, b int64) (int64, float64) {
	s, end := r.region(l)
	if s == end {
		return 0, 0
	}
	lo := b - levels[l].n + 1
	bks := w.bk
	if w.tot == nil {
		bk := &bks[s]
		if i := int64(bk.idx); i >= lo && i <= b {
			return int64(bk.n), bk.sum
		}
		return 0, 0
	}
	if b >= int64(bks[end-1].idx) {
		// Everything up to the head counts: subtract what fell out.
		t := w.tot[l]
		c, sum := int64(t.n), t.sum
		p := s
		for ; p < end && int64(bks[p].idx) < lo; p++ {
			c -= int64(bks[p].n)
			sum -= bks[p].sum
		}
		if p == end {
			return 0, 0
		}
		return c, sum
	}
	var c int64
	var sum float64
	for p := end - 1; p >= s; p-- {
		i := int64(bks[p].idx)
		if i > b {
			continue
		}
		if i < lo {
			break
		}
		c += int64(bks[p].n)
		sum += bks[p].sum
	}
	return c, sum
}

// sweepBuckets drops the buckets no window ending at or after q can count,
// frees the totals when no window needs them and trims spare room. The
// blob may move.
func (sh *shard) sweepBuckets(c *cur, q *query) {
	r := c.r
	w := c.wins()
	multi := false
	for l := range nw {
		s, end := r.region(l)
		k := 0
		for s+k < end && int64(w.bk[s+k].idx) <= q.b[l]-levels[l].n {
			k++
		}
		if k > 0 {
			r.removeBuckets(&w, l, s, k)
			end -= k
			if w.tot != nil {
				r.retotal(&w, l)
			}
		}
		if end-s > 1 {
			multi = true
		}
	}
	if !multi && r.hasTot {
		sh.reshape(c, false, len(w.bk), false)
	}
	// Trim growth's spare room to a sixteenth when a smaller blob holds
	// it: a sweep is when a key's windows shrink, and between sweeps most
	// keys hardly grow.
	if n := int(c.r.bkLen); len(c.wins().bk) > n+max(2, n/16) {
		sh.reshape(c, c.r.hasTot, n+max(2, n/16), true)
	}
}
