package features

import (
	"math"
	"math/bits"
)

// A sketch is a sliding-window HyperLogLog: each of its 2^p registers keeps
// the list of its "possible future maxima", pairs (time, rank) with times
// increasing and ranks strictly decreasing, so that the register's value
// over any window (lo, hi] is the rank of the oldest pair inside it. A new
// pair removes the older pairs it dominates (rank not above its own), which
// keeps the lists short: about log2(n)/2 + 1 pairs for n values per
// register. Lists longer than sketchSlots lose the pair that matters least
// for the current windows.
//
// Per window the sketch caches the histogram of register values at one
// bucket, updated in place while observations stay in that bucket; the
// estimate is Ertl's improved raw estimator over the histogram ("New
// cardinality estimation algorithms for HyperLogLog sketches", 2017),
// unbiased from empty to large sets without empirical bias tables. Every
// result is a pure function of the registers, so a restored sketch answers
// exactly like the one that was saved.
type sketch struct {
	*sketchHdr
	// regs holds sketchSlots packed pairs per register, oldest first, empty
	// slots (0) last: rank<<offBits | (time-base).
	regs []uint32
}

// sketchHdr is a sketch but for its registers: what a shard keeps in its
// sketch arena, the registers in its register arena.
type sketchHdr struct {
	p     uint8
	base  uint32 // unix seconds that offset 0 stands for
	maxTs uint32 // latest time observed, unix seconds
	regs  ref    // the registers in the shard's register arena
	cache [NumWindows]sketchCache
}

// sketchCache is the histogram of register values of one window whose
// newest bucket is b.
type sketchCache struct {
	ok   bool
	b    int64
	hist [64]uint16
}

const (
	sketchSlots  = 6
	minPrecision = 8
	maxPrecision = 14
	offBits      = 26
	offMask      = 1<<offBits - 1
	// hashBits is the number of value-hash bits a sketch uses: the low bits
	// carry the dimension slot.
	hashBits = 64 - 3
)

func pairRank(x uint32) int { return int(x >> offBits) }

// newSketch returns an empty sketch with 2^p registers that keeps times from
// base on, of its own, outside any store.
func newSketch(p uint8, base uint32) *sketch {
	return &sketch{sketchHdr: &sketchHdr{p: p, base: base}, regs: make([]uint32, sketchSlots<<p)}
}

// regCaps are the classes of the register arena: one per precision.
var regCaps = func() []uint32 {
	var caps []uint32
	for p := minPrecision; p <= maxPrecision; p++ {
		caps = append(caps, sketchSlots<<p)
	}
	return caps
}()

// newSketch returns a new empty sketch of sh with 2^p registers that keeps
// times from base on, and its ref.
func (sh *shard) newSketch(p uint8, base uint32) (ref, sketch) {
	id := sh.sks.allocClass(0)
	hd := sh.sks.at(id)
	hd.p, hd.base = p, base
	hd.regs = sh.regs.allocClass(int(p) - minPrecision)
	return id, sketch{sketchHdr: hd, regs: sh.regs.get(hd.regs)}
}

// sketchAt returns sketch id of sh.
func (sh *shard) sketchAt(id ref) sketch {
	hd := sh.sks.at(id)
	return sketch{sketchHdr: hd, regs: sh.regs.get(hd.regs)}
}

// freeSketch frees sketch id of sh.
func (sh *shard) freeSketch(id ref) {
	sh.regs.free(sh.sks.at(id).regs)
	sh.sks.free(id)
}

// maxRank is the largest register value of a sketch of precision p.
func maxRank(p uint8) int { return hashBits - int(p) + 1 }

// split returns the register and rank of value hash h.
func (s *sketch) split(h uint64) (int, int) { return SketchPosition(h, int(s.p)) }

// SketchPosition returns the register and rank that value hash h (see
// HashValue) takes in a sketch of precision p (MemoryConfig.SketchPrecision):
// the register from the hash's top p bits below the three a key's slot
// replaces, the rank from the leading zeros after them. Stores that keep
// the same sketches elsewhere (the Redis store) use it to place values
// exactly as Memory does.
func SketchPosition(h uint64, p int) (reg, rank int) {
	y := h >> (64 - hashBits)
	j := y >> (hashBits - uint(p))
	rest := y<<(64-hashBits+uint(p)) | 1<<(64-hashBits+uint(p)-1)
	return int(j), bits.LeadingZeros64(rest) + 1
}

func (s *sketch) pairTime(x uint32) int64 { return int64(s.base) + int64(x&offMask) }

// list returns register j's pairs.
func (s *sketch) list(j int) []uint32 {
	return s.regs[j*sketchSlots : (j+1)*sketchSlots : (j+1)*sketchSlots]
}

// value returns a register's value over the seconds [lo, hi].
func (s *sketch) value(list []uint32, lo, hi int64) int {
	base := int64(s.base)
	for _, x := range list {
		if x == 0 {
			break
		}
		t := base + int64(x&offMask)
		if t > hi {
			break
		}
		if t >= lo {
			return pairRank(x)
		}
	}
	return 0
}

// observe records value hash h at unix second ts, where head is the key's
// latest second, and reports whether h was new: no pair of its register
// within Retention of head has its rank or more.
func (s *sketch) observe(h uint64, ts, head int64) bool {
	j, r := s.split(h)
	stale := head - retentionSec
	isNew := true
	for _, x := range s.list(j) {
		if x == 0 {
			break
		}
		if pairRank(x) >= r && s.pairTime(x) >= stale {
			isNew = false
			break
		}
	}
	if ts < int64(s.base) {
		return isNew
	}
	if ts-int64(s.base) > offMask {
		s.rebase(ts)
	}
	list := s.list(j)
	var old [NumWindows]int
	for l := range s.cache {
		c := &s.cache[l]
		if !c.ok {
			continue
		}
		if ts/levels[l].gsec != c.b {
			c.ok = false
			continue
		}
		lo, hi := windowBounds(l, c.b)
		old[l] = s.value(list, lo, hi)
	}
	s.maxTs = max(s.maxTs, uint32(ts))
	if changed, _ := s.insert(list, ts, r); changed {
		// Only register j changed (even when a full list dropped a pair):
		// move it between histogram cells instead of rebuilding.
		for l := range s.cache {
			c := &s.cache[l]
			if !c.ok {
				continue
			}
			lo, hi := windowBounds(l, c.b)
			if v := s.value(list, lo, hi); v != old[l] {
				c.hist[old[l]]--
				c.hist[v]++
			}
		}
	}
	return isNew
}

// insert adds the pair (ts, r) to list and reports whether the list changed
// and whether a pair had to be dropped for room.
func (s *sketch) insert(list []uint32, ts int64, r int) (changed, overflow bool) {
	i := 0
	for i < sketchSlots && list[i] != 0 && s.pairTime(list[i]) < ts {
		i++
	}
	if i < sketchSlots && list[i] != 0 && pairRank(list[i]) >= r {
		return false, false // a pair as late and as high exists
	}
	var buf [sketchSlots + 1]uint32
	n := 0
	for _, x := range list[:i] {
		if pairRank(x) > r {
			buf[n] = x
			n++
		}
	}
	buf[n] = uint32(r)<<offBits | uint32(ts-int64(s.base))
	n++
	k := i
	if k < sketchSlots && list[k] != 0 && s.pairTime(list[k]) == ts {
		k++ // same time, lower rank: dominated
	}
	for ; k < sketchSlots && list[k] != 0; k++ {
		buf[n] = list[k]
		n++
	}
	if n > sketchSlots {
		v := s.victim(buf[:n])
		copy(buf[v:], buf[v+1:n])
		n--
		overflow = true
	}
	copy(list, buf[:n])
	clear(list[n:])
	return true, overflow
}

// victim picks the pair of a full list to drop: the oldest pair that is
// neither the newest nor the one defining some window at the sketch's latest
// time (the oldest pair inside it), else the oldest pair.
func (s *sketch) victim(list []uint32) int {
	keep := uint(1) << (len(list) - 1)
	head := int64(s.maxTs)
	for l := range levels {
		lo, _ := windowBounds(l, head/levels[l].gsec)
		for k, x := range list {
			if s.pairTime(x) >= lo {
				keep |= 1 << k
				break
			}
		}
	}
	for k := range list {
		if keep&(1<<k) == 0 {
			return k
		}
	}
	return 0
}

// rebase moves base so that ts fits, dropping pairs older than Retention
// before ts.
func (s *sketch) rebase(ts int64) {
	nb := ts - retentionSec
	for j := 0; j < len(s.regs); j += sketchSlots {
		list := s.regs[j : j+sketchSlots]
		n := 0
		for _, x := range list {
			if x == 0 {
				break
			}
			if t := s.pairTime(x); t >= nb {
				list[n] = x&^offMask | uint32(t-nb)
				n++
			}
		}
		clear(list[n:])
	}
	s.base = uint32(nb)
	s.invalidate()
}

// sweep drops pairs older than stale and reports whether the sketch is left
// empty.
func (s *sketch) sweep(stale int64) bool {
	empty := true
	for j := 0; j < len(s.regs); j += sketchSlots {
		list := s.regs[j : j+sketchSlots]
		n := 0
		for _, x := range list {
			if x != 0 && s.pairTime(x) >= stale {
				list[n] = x
				n++
			}
		}
		clear(list[n:])
		empty = empty && n == 0
	}
	s.invalidate()
	return empty
}

func (s *sketch) invalidate() {
	for l := range s.cache {
		s.cache[l].ok = false
	}
}

// estimates writes the distinct-count estimate of every window in mask at
// q into dist (the others are left as they are).
func (s *sketch) estimates(q *query, mask WindowMask, dist *[NumWindows]int64) {
	for l := range s.cache {
		if !mask.Has(Window(l)) {
			continue
		}
		c := &s.cache[l]
		if !c.ok || c.b != q.b[l] {
			s.recompute(l, q.b[l])
		}
		dist[l] = roundEstimate(s.estimate(&c.hist))
	}
}

// roundEstimate rounds an estimate to an integer, capping the infinite
// estimate of a saturated sketch.
func roundEstimate(e float64) int64 {
	if !(e < 1<<62) {
		return 1 << 62
	}
	return int64(math.Round(e))
}

// recompute rebuilds window l's histogram for newest bucket b.
func (s *sketch) recompute(l int, b int64) {
	c := &s.cache[l]
	c.hist = [64]uint16{}
	lo, hi := windowBounds(l, b)
	for j := 0; j < len(s.regs); j += sketchSlots {
		c.hist[s.value(s.regs[j:j+sketchSlots], lo, hi)]++
	}
	c.ok, c.b = true, b
}

// estimate is Ertl's improved raw estimator for the register histogram h.
func (s *sketch) estimate(h *[64]uint16) float64 {
	m := float64(len(s.regs) / sketchSlots)
	q := maxRank(s.p) - 1
	z := m * ertlTau(1-float64(h[q+1])/m)
	for k := q; k >= 1; k-- {
		z = 0.5 * (z + float64(h[k]))
	}
	z += m * ertlSigma(float64(h[0])/m)
	return m * m / (2 * math.Ln2) / z
}

func ertlSigma(x float64) float64 {
	if x == 1 {
		return math.Inf(1)
	}
	y, z := 1.0, x
	for {
		x *= x
		zp := z
		z += x * y
		y += y
		if z == zp {
			return z
		}
	}
}

func ertlTau(x float64) float64 {
	if x == 0 || x == 1 {
		return 0
	}
	y, z := 1.0, 1-x
	for {
		x = math.Sqrt(x)
		zp := z
		y *= 0.5
		z -= (1 - x) * (1 - x) * y
		if z == zp {
			return z / 3
		}
	}
}
