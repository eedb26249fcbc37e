package text

import (
	"math"
	"strings"
	"unicode"
)

// VectorizeViews returns, for each of fs, what fs[i].Vectorize(t)
// returns, hashing t's n-grams once for all of them: views whose n-gram
// ranges overlap (characters 2-5 and 3-6, the same words) share the
// hashing, which is most of the cost of vectorising.
func VectorizeViews(t string, fs []Features) []Vector {
	out := make([]Vector, len(fs))
	if len(fs) == 0 {
		return out
	}
	cmin, cmax, wmin, wmax := math.MaxInt, 0, math.MaxInt, 0
	for _, f := range fs {
		if f.CharMax > 0 {
			cmin, cmax = min(cmin, max(1, f.CharMin)), max(cmax, f.CharMax)
		}
		if f.WordMax > 0 {
			wmin, wmax = min(wmin, max(1, f.WordMin)), max(wmax, f.WordMax)
		}
	}
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	sc.hashes, sc.lens = appendGrams(sc.hashes[:0], sc.lens[:0], strings.ToLower(t), cmin, cmax, wmin, wmax)
	for i, f := range fs {
		clo, chi, wlo, whi := max(1, f.CharMin), f.CharMax, max(1, f.WordMin), f.WordMax
		sc.sel = sc.sel[:0]
		for k, h := range sc.hashes {
			n, word := int(sc.lens[k]&^wordGram), sc.lens[k]&wordGram != 0
			if !word && n >= clo && n <= chi || word && n >= wlo && n <= whi {
				sc.sel = append(sc.sel, h)
			}
		}
		out[i] = sc.vector(f.mask(), sc.sel)
	}
	return out
}

// wordGram marks a word n-gram's length in appendGrams' lens.
const wordGram = 0x80

// appendGrams appends the hash of every character n-gram of lower (n in
// cmin..cmax, none when cmax is 0) and every word n-gram (n in
// wmin..wmax) to hashes, as appendHashes hashes them, and each one's n
// to lens (word n-grams marked wordGram).
func appendGrams(hashes []uint64, lens []uint8, lower string, cmin, cmax, wmin, wmax int) ([]uint64, []uint8) {
	if cmax > 0 {
		s := " " + lower + " "
		var starts []int
		for i := range s {
			starts = append(starts, i)
		}
		starts = append(starts, len(s))
		runes := len(starts) - 1
		for i := range runes {
			h := uint64(fnvOffset)
			h = (h ^ 'c') * fnvPrime
			for n := 1; n <= cmax && i+n <= runes; n++ {
				for j := starts[i+n-1]; j < starts[i+n]; j++ {
					h = (h ^ uint64(s[j])) * fnvPrime
				}
				if n >= cmin {
					hashes, lens = append(hashes, h), append(lens, uint8(n))
				}
			}
		}
	}
	if wmax > 0 {
		var spans [][2]int
		start := -1
		for i, r := range lower {
			word := unicode.IsLetter(r) || unicode.IsDigit(r)
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
		for n := wmin; n <= wmax; n++ {
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
	return hashes, lens
}
