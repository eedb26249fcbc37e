package text

import (
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ScoreModels sets out[i] to the probability ms[i].Score(t) gives, for
// every model, hashing t's n-grams once for all of them and counting them
// once for all the models with the same vector size: a post scored by
// several models (spam, abuse, the views of a fake-review ensemble, their
// shadows) costs little more than one. out must be as long as ms.
func ScoreModels(t string, ms []*Model, out []float64) {
	if len(out) != len(ms) {
		panic("text: ScoreModels needs one output per model")
	}
	if len(ms) == 0 {
		return
	}
	if len(t) > maxTogether {
		// An n-gram may occur more often than a class's count holds:
		// score one model at a time.
		for i, m := range ms {
			out[i] = m.prob(m.Features.Vectorize(t))
		}
		return
	}
	all := gramRange{cmin: math.MaxInt, wmin: math.MaxInt}
	for _, m := range ms {
		r := m.Features.ranges()
		if r.cmax > 0 {
			all.cmin, all.cmax = min(all.cmin, r.cmin), max(all.cmax, r.cmax)
		}
		if r.wmax > 0 {
			all.wmin, all.wmax = min(all.wmin, r.wmin), max(all.wmax, r.wmax)
		}
	}
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	sc.grams(strings.ToLower(t), all)
	if cap(sc.done) < len(ms) {
		sc.done = make([]bool, len(ms))
	}
	done := sc.done[:len(ms)]
	clear(done)
	for i, m := range ms {
		if done[i] {
			continue
		}
		// The group: models from i on with m's vector size and at most
		// maxClasses different sets of n-grams among them.
		mask := m.Features.mask()
		sc.group, sc.classes = sc.group[:0], sc.classes[:0]
		for j := i; j < len(ms); j++ {
			if done[j] || ms[j].Features.mask() != mask {
				continue
			}
			codes := ms[j].Features.codes()
			if !slices.Contains(sc.classes, codes) {
				if len(sc.classes) == maxClasses {
					continue
				}
				sc.classes = append(sc.classes, codes)
			}
			sc.group, done[j] = append(sc.group, j), true
		}
		sc.scoreGroup(ms, mask, out)
	}
}

// maxClasses is how many different sets of n-grams scoreGroup counts in
// one pass: as many counts as fit one word.
const maxClasses = 64 / classBits

// gramCode numbers the n-gram lengths grams records in sc.lens: 0..15
// for characters 1..16, 16..31 for words 1..16.
func gramCode(l uint8) int {
	if l&wordGram != 0 {
		return 16 + int(l&^wordGram) - 1
	}
	return int(l) - 1
}

// codes returns the set of gram codes f takes, as a bit set.
func (f Features) codes() uint32 {
	r := f.ranges()
	var set uint32
	if r.cmax > 0 {
		for n := r.cmin; n <= r.cmax; n++ {
			set |= 1 << gramCode(uint8(n))
		}
	}
	if r.wmax > 0 {
		for n := r.wmin; n <= r.wmax; n++ {
			set |= 1 << gramCode(uint8(n)|wordGram)
		}
	}
	return set
}

// scoreGroup scores the models ms[g] for g in sc.group, which share
// mask and whose sets of n-gram lengths are sc.classes, from sc.hashes.
// One table counts each index's n-grams once per class that takes them
// (a field of classBits bits per class in one word, so that a gram is
// counted in all its classes by one addition); each model then reads its
// class's counts, which are exactly those Vectorize gives it.
func (sc *scratch) scoreGroup(ms []*Model, mask uint64, out []float64) {
	var inc [32]uint64 // per gram code, a 1 in the field of every class taking it
	for k, codes := range sc.classes {
		for c := range 32 {
			if codes&(1<<c) != 0 {
				inc[c] |= 1 << (classBits * k)
			}
		}
	}
	size := 64
	for size < 2*len(sc.hashes) {
		size <<= 1
	}
	if len(sc.keys) < size {
		sc.keys = make([]uint32, size)
	}
	if len(sc.pos) < size {
		sc.pos = make([]uint32, size)
	}
	// keys holds index+1 (0: empty) and pos where the index's entry is in
	// idxs and packed, which keep the indices in order of arrival.
	keys, pos := sc.keys[:size], sc.pos[:size]
	used, idxs, packed := sc.used[:0], sc.idxs[:0], sc.packed[:0]
	for k, h := range sc.hashes {
		in := inc[gramCode(sc.lens[k])]
		if in == 0 {
			continue
		}
		idx := uint32(h & mask)
		slot := slotOf(idx, size)
		for {
			key := keys[slot]
			if key == idx+1 {
				packed[pos[slot]] += in
				break
			}
			if key == 0 {
				keys[slot], pos[slot] = idx+1, uint32(len(idxs))
				used, idxs, packed = append(used, slot), append(idxs, idx), append(packed, in)
				break
			}
			slot = (slot + 1) & uint32(size-1)
		}
	}
	for _, slot := range used { // leave the table empty for the next use
		keys[slot] = 0
	}
	sc.used, sc.idxs, sc.packed = used[:0], idxs, packed
	// Each class's vector (its entries' indices and weights, scaled to
	// unit length with the arithmetic of vector), then the margin of each
	// of its models with the arithmetic of margin: the probabilities are
	// Score's to the last bit but for the order of summation.
	if cap(sc.vi) < len(packed) {
		sc.vi, sc.vw = make([]uint32, len(packed)), make([]float32, len(packed))
	}
	vi, vw := sc.vi[:len(packed)], sc.vw[:len(packed)]
	for cl, codes := range sc.classes {
		shift, n := classBits*cl, 0
		var norm float64
		for e, p := range packed {
			if c := uint32(p>>shift) & (1<<classBits - 1); c != 0 {
				w := sublinear(c)
				norm += float64(w) * float64(w)
				vi[n], vw[n] = idxs[e], w
				n++
			}
		}
		if norm > 0 {
			inv := float32(1 / math.Sqrt(norm))
			for k := range vw[:n] {
				vw[k] *= inv
			}
		}
		for _, g := range sc.group {
			if m := ms[g]; m.Features.codes() == codes {
				s := float64(m.Bias)
				for k, idx := range vi[:n] {
					s += float64(m.Weights[idx]) * float64(vw[k])
				}
				out[g] = 1 / (1 + math.Exp(-s))
			}
		}
	}
}

// classBits is the width of a class's count in scoreGroup's table: a
// class takes at most 32 gram lengths, each at most once per rune (and
// the two spaces around the text) of a text of at most maxTogether bytes.
const (
	classBits   = 21
	maxTogether = 65000
)

// wordGram marks a word n-gram's length in scratch.lens.
const wordGram = 0x80

// grams sets sc.hashes to the hash of every character and word n-gram
// of lower whose length r takes, as hashString hashes the strings
// Features.grams makes, and sc.lens to each one's n (word n-grams marked wordGram). Character
// n-grams are hashed one pass per starting rune, extending the hash a
// rune at a time: FNV-1a of an n-gram is its (n-1)-gram's, continued.
func (sc *scratch) grams(lower string, r gramRange) {
	hashes, lens := sc.hashes[:0], sc.lens[:0]
	if r.cmax > 0 {
		s := " " + lower + " "
		if ascii(s) { // a rune is a byte
			hashes = slices.Grow(hashes, len(s)*(r.cmax-r.cmin+1))
			lens = slices.Grow(lens, len(s)*(r.cmax-r.cmin+1))
			for i := range len(s) {
				h := uint64(fnvOffset)
				h = (h ^ 'c') * fnvPrime
				end := min(len(s), i+r.cmax)
				for j := i; j < end; j++ {
					h = (h ^ uint64(s[j])) * fnvPrime
					if n := j - i + 1; n >= r.cmin {
						hashes, lens = append(hashes, h), append(lens, uint8(n))
					}
				}
			}
		} else {
			starts := sc.starts[:0]
			for i := range s {
				starts = append(starts, i)
			}
			starts = append(starts, len(s))
			sc.starts = starts
			runes := len(starts) - 1
			for i := range runes {
				h := uint64(fnvOffset)
				h = (h ^ 'c') * fnvPrime
				for n := 1; n <= r.cmax && i+n <= runes; n++ {
					for j := starts[i+n-1]; j < starts[i+n]; j++ {
						h = (h ^ uint64(s[j])) * fnvPrime
					}
					if n >= r.cmin {
						hashes, lens = append(hashes, h), append(lens, uint8(n))
					}
				}
			}
		}
	}
	if r.wmax > 0 {
		spans := sc.spans[:0]
		start := -1
		for i, r := range lower {
			var word bool
			if r < utf8.RuneSelf {
				word = r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r >= 'A' && r <= 'Z'
			} else {
				word = unicode.IsLetter(r) || unicode.IsDigit(r)
			}
			switch {
			case word && start < 0:
				start = i
			case !word && start >= 0:
				spans = append(spans, [2]int{start, i})
				start = -1
			}
		}
		if start >= 0 {
			spans = append(spans, [2]int{start, len(lower)})
		}
		sc.spans = spans
		for n := r.wmin; n <= r.wmax; n++ {
			for i := 0; i+n <= len(spans); i++ {
				h := uint64(fnvOffset)
				h = (h ^ 'w') * fnvPrime
				for j := i; j < i+n; j++ {
					if j > i {
						h = (h ^ ' ') * fnvPrime
					}
					for k := spans[j][0]; k < spans[j][1]; k++ {
						h = (h ^ uint64(lower[k])) * fnvPrime
					}
				}
				hashes, lens = append(hashes, h), append(lens, uint8(n)|wordGram)
			}
		}
	}
	sc.hashes, sc.lens = hashes, lens
}

// ascii reports whether s is all ASCII.
func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
