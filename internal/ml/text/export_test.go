package text

import "strings"

// HashesForTest returns the hashes the fast path makes for t.
func HashesForTest(f Features, t string) []uint64 {
	var sc scratch
	sc.grams(strings.ToLower(t), f.ranges())
	return sc.hashes
}

// GramHashesForTest returns the hashes of the n-gram strings of t.
func GramHashesForTest(f Features, t string) []uint64 {
	var out []uint64
	f.grams(t, func(g string) { out = append(out, hashString(g)) })
	return out
}

// NBRatiosForTest returns nbRatios.
func NBRatiosForTest(vecs []Vector, labels []bool, size int) []float32 {
	return nbRatios(vecs, labels, size)
}
