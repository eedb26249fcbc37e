package content

import (
	"math"
	"slices"
	"unicode"
	"unicode/utf8"
)

// Near-duplicate fingerprint of a text, used to catch review campaigns:
// the same review pasted by many accounts with small edits.
//
// A text is cut into words (see Bands), the words into overlapping word
// 3-shingles ("the fabric is", "fabric is soft", ...), and the set of
// shingles is summarised by a MinHash signature of NumBands*BandRows
// values: value i is the minimum, over the shingles, of the i-th of
// NumBands*BandRows fixed pseudo-random 32-bit hash functions applied to
// the shingle's 64-bit hash. Two texts agree on value i with probability
// equal to the Jaccard similarity s of their shingle sets (|A∩B| / |A∪B|),
// so the share of agreeing values estimates s (Similarity).
//
// The signature is split into NumBands bands of BandRows values; each band
// is hashed to one key. Two texts share a band key with probability
//
//	P(s) = 1 - (1 - s^BandRows)^NumBands = 1 - (1 - s^4)^16,
//
// an S-curve whose midpoint (P = 1/2) is near s = 0.45:
//
//	s     0.10   0.20   0.30   0.40   0.50   0.60   0.70   0.80   0.90
//	P(s)  0.002  0.025  0.12   0.34   0.64   0.89   0.988  0.9998 1.00
//
// One substituted word changes up to 3 of a review's ~60–150 shingles (3
// leave, 3 arrive), so a pasted review with a few edits keeps s ≈ 0.7–0.9
// and is caught almost surely (measured: all of 3200 copies with 3 edits,
// 98 % with 8), while genuine reviews of the same product, sharing only
// stock phrases, mostly stay at s < 0.2 and rarely collide (measured: 0.15 %
// of pairs of templated reviews of one T-shirt).

// Shingle and band parameters.
const (
	// MinShingles is the fewest distinct word 3-shingles a text must have
	// for Bands to fingerprint it (8 shingles = 10 kept words). Shorter
	// texts are the stock phrases many real customers write independently
	// ("Great product, works as described, would buy again": 8 words, 6
	// shingles):
	// in a set that small one shared phrase is most of the set, so
	// unrelated authors would collide, and one edit already changes 3 of
	// ~8 shingles, so near-duplicates could not be told apart reliably
	// either. Ten words is about the shortest review with content of its
	// own, and a campaign that wants to be persuasive writes more.
	MinShingles = 8
	// NumBands is the number of bands, hence of keys Bands returns.
	NumBands = 16
	// BandRows is the number of signature values in one band; two texts
	// collide in a band when all BandRows values agree. The signature has
	// NumBands*BandRows values.
	BandRows = 4
)

const (
	// minhashLen is the length of the MinHash signature.
	minhashLen = NumBands * BandRows
	// minhashBandBits is the number of hash bits in a band key; the bits above
	// hold the band index, so keys of different bands never collide.
	minhashBandBits = 60
	minhashBandMask = 1<<minhashBandBits - 1

	// Fixed hashing constants (never change them without regenerating
	// testdata/minhash/golden.txt: stored band keys would stop matching).
	minhashWordSeed   = 0xcbf29ce484222325 // mixed into each full chunk of a word
	minhashWordKey    = 0x100000001b3      // mixed into the last chunk of a word
	minhashShingleKey = 0xd6e8feb86659fd93 // mixed into a shingle hash
	minhashGamma      = 0x9e3779b97f4a7c15 // step between hash function seeds (golden ratio)
	minhashMul1       = 0xbf58476d1ce4e5b9 // odd multipliers of the hash functions
	minhashMul2       = 0x94d049bb133111eb
	minhashBandSeed   = 0xa0761d6478bd642f // mixed into a band key
)

// The band index must fit in the bits above minhashBandBits.
const _ = uint(1<<(64-minhashBandBits) - NumBands)

// Bands appends to dst the NumBands band keys of text's MinHash signature
// over word 3-shingles and returns the extended slice, or returns dst
// unchanged (nil for a nil dst) when text has fewer than MinShingles
// distinct shingles.
//
// Words are the maximal runs of letters and digits (plus combining marks
// inside a run) of text as given, lower-cased rune by rune; the caller
// passes an already normalised text (confusables folded, invisible
// characters removed). Everything else, punctuation, spaces and invalid
// UTF-8 included, separates words, so punctuation and case edits change
// nothing. Words of a single letter ("a", "I", and in Romance languages
// "y", "e", "o", "à") are dropped: they carry no content and inserting or
// deleting one is the cheapest edit to break three shingles. Numbers are
// kept whatever their length ("3 days", "5 stars" are content). Han,
// Hiragana and Katakana characters, written without spaces, count as one
// word each and are kept, so a Chinese or Japanese text is shingled by
// characters; other scripts written without spaces (Thai, Lao, Khmer) come
// out as few long words and usually fall below MinShingles.
//
// Key b is a hash of b and the band's BandRows signature values with b
// itself in the top 4 bits, so keys of different bands never collide by
// construction. The keys depend on nothing but text: no random seed, no
// map order, the same on every process and platform (for the Unicode
// version of the Go release, which decides what a letter is). Bands does
// not allocate when dst has room for NumBands more keys; its cost is
// linear in len(text).
func Bands(text string, dst []uint64) []uint64 {
	var sig [minhashLen]uint32
	if minhashSignature(text, &sig) < MinShingles {
		return dst
	}
	for b := range NumBands {
		k := minhashMix(minhashBandSeed ^ uint64(b))
		for _, v := range sig[b*BandRows : (b+1)*BandRows] {
			k = minhashMix(k ^ uint64(v))
		}
		dst = append(dst, uint64(b)<<minhashBandBits|k&minhashBandMask)
	}
	return dst
}

// Similarity estimates the Jaccard similarity of the word 3-shingle sets
// of a and b (words as in Bands) from their MinHash signatures: the share
// of the NumBands*BandRows signature values that agree, in [0, 1]. Its
// standard error is sqrt(s(1-s)/64), at most 0.0625. Texts shorter than
// MinShingles are compared too; a text with no shingle at all (fewer than
// 3 words) is similar to nothing and Similarity returns 0 for it.
func Similarity(a, b string) float64 {
	var sa, sb [minhashLen]uint32
	if minhashSignature(a, &sa) == 0 || minhashSignature(b, &sb) == 0 {
		return 0
	}
	same := 0
	for i := range sa {
		if sa[i] == sb[i] {
			same++
		}
	}
	return float64(same) / minhashLen
}

// minhashSignature fills sig with the MinHash signature of text's word
// 3-shingles and returns the number of distinct shingles, counted exactly
// up to MinShingles (a larger count is only a lower bound). A shingle seen
// twice leaves the minima unchanged, so repeats are not filtered out; when
// it returns 0, sig holds no meaningful values.
func minhashSignature(text string, sig *[minhashLen]uint32) int {
	for i := range sig {
		sig[i] = ^uint32(0)
	}
	var (
		w1, w2   uint64 // hashes of the two words before the current one
		words    int    // words seen so far
		distinct int    // distinct shingles, exact up to MinShingles
		seen     [MinShingles]uint64
	)
	for pos := 0; pos < len(text); {
		w, next, ok := nextShingleWord(text, pos)
		pos = next
		if !ok {
			break
		}
		words++
		if words >= 3 {
			// Mix in one word at a time: a cheaper linear combination
			// (XOR of rotated word hashes) measurably skewed the band
			// collisions of real reviews away from the S-curve.
			h := minhashMix(minhashMix(minhashMix(w1^minhashShingleKey)^w2) ^ w)
			if distinct < MinShingles && !slices.Contains(seen[:distinct], h) {
				seen[distinct] = h
				distinct++
			}
			minhashPermute(h, sig)
		}
		w1, w2 = w2, w
	}
	return distinct
}

// minhashPermute lowers each value of sig to the shingle hash h under the
// matching hash function if that is smaller. The functions come in pairs:
// values 2j and 2j+1 are the low and high halves of
//
//	x = xorshift32((h + (j+1)*minhashGamma) * minhashMul1) * minhashMul2
//
// (the seeds are the Weyl sequence of splitmix64; the product with
// minhashMul1 is computed once and stepped by a constant). As h is already
// a full-avalanche hash, this two-multiply mix is enough for the halves to
// act as independent hash functions: the estimates have the variance, and
// the band collisions follow the S-curve, of independent hashes
// (TestBandsCampaignRecall, TestBandsPrecisionGenuineReviews,
// TestSimilarity). Cheaper families (a single multiply after XOR with a
// seed) pass tests on random sets but not on real text, where popular
// shingles recur across posts. A 32-bit minimum of two different shingles
// ties with probability ~n/2^32 for n shingles, negligible.
func minhashPermute(h uint64, sig *[minhashLen]uint32) {
	u := h * minhashMul1
	for i := 0; i < minhashLen; i += 2 {
		u += minhashGamma * minhashMul1 & math.MaxUint64 // (h + (j+1)*minhashGamma) * minhashMul1
		x := (u ^ u>>32) * minhashMul2
		sig[i] = min(sig[i], uint32(x))
		sig[i+1] = min(sig[i+1], uint32(x>>32))
	}
}

// nextShingleWord finds the first kept word of text at or after byte pos
// and returns its hash and the byte offset just after it; ok is false when
// no word is left.
func nextShingleWord(text string, pos int) (hash uint64, next int, ok bool) {
	for pos < len(text) {
		// Skip to the start of a word: a letter or a digit.
		first, size := rune(text[pos]), 1
		if first < utf8.RuneSelf {
			if !isShingleASCII(byte(first)) {
				pos++
				continue
			}
		} else {
			first, size = utf8.DecodeRuneInString(text[pos:])
			if !unicode.IsLetter(first) && !unicode.IsDigit(first) {
				pos += size
				continue
			}
			if isShingleIdeograph(first) {
				var w shingleHasher
				w.addRune(unicode.ToLower(first))
				return w.sum(), pos + size, true
			}
		}
		// Hash the word, counting its letters and digits (not its marks).
		var w shingleHasher
		letters := 0
		for pos < len(text) {
			c := text[pos]
			if c < utf8.RuneSelf {
				if lc := c | 0x20; lc-'a' < 26 {
					w.add(lc)
				} else if c-'0' < 10 {
					w.add(c)
				} else {
					break
				}
				pos++
				letters++
				continue
			}
			r, n := utf8.DecodeRuneInString(text[pos:])
			if isShingleIdeograph(r) {
				break
			}
			if unicode.IsMark(r) {
				// a combining mark continues the word
			} else if unicode.IsLetter(r) || unicode.IsDigit(r) {
				letters++
			} else {
				break
			}
			w.addRune(unicode.ToLower(r))
			pos += n
		}
		if letters == 1 && !isShingleDigit(first) {
			continue // a one-letter word, combining marks aside
		}
		return w.sum(), pos, true
	}
	return 0, pos, false
}

// shingleHasher hashes the UTF-8 bytes of a lower-cased word: bytes are
// packed 8 to a 64-bit chunk and each full chunk is mixed into the state.
// Letters, digits and marks have no zero byte, so the last, partial chunk
// also tells how many bytes it holds and no two words pack alike.
type shingleHasher struct {
	h, acc uint64
	n      int // bytes in acc
}

// add appends one byte of the word.
func (w *shingleHasher) add(b byte) {
	w.acc = w.acc<<8 | uint64(b)
	if w.n++; w.n == 8 {
		w.h = minhashMix(w.h ^ w.acc ^ minhashWordSeed)
		w.acc, w.n = 0, 0
	}
}

// addRune appends the UTF-8 encoding of r.
func (w *shingleHasher) addRune(r rune) {
	if r < utf8.RuneSelf {
		w.add(byte(r))
		return
	}
	var buf [utf8.UTFMax]byte
	for _, b := range buf[:utf8.EncodeRune(buf[:], r)] {
		w.add(b)
	}
}

// sum returns the word's hash.
func (w *shingleHasher) sum() uint64 {
	return minhashMix(w.h ^ w.acc ^ minhashWordKey)
}

// isShingleASCII reports whether c is an ASCII letter or digit.
func isShingleASCII(c byte) bool {
	return c|0x20 >= 'a' && c|0x20 <= 'z' || c >= '0' && c <= '9'
}

// isShingleDigit reports whether r is a decimal digit of any script.
func isShingleDigit(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= '0' && r <= '9'
	}
	return unicode.IsDigit(r)
}

// isShingleIdeograph reports whether r belongs to a script written without
// spaces whose characters are shingled one by one (Han, Hiragana,
// Katakana).
func isShingleIdeograph(r rune) bool {
	return r >= 0x2e80 && (unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r))
}

// minhashMix is the splitmix64 finaliser: a bijection of uint64 with full
// avalanche.
func minhashMix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
