package features

import "math/bits"

// The hash below is part of the snapshot format: value hashes are persisted,
// so changing any constant or step requires a new snapshot version.
//
// It is a small xxhash-style construction (8-byte rounds, a length mix and the
// murmur3 finalizer): fast, deterministic across processes and platforms, and
// well enough distributed for sharding and HyperLogLog. It is not meant to
// resist deliberate collisions; key equality is always checked on the full
// key, so collisions cost time, never correctness.
const (
	hashP1      = 0x9e3779b185ebca87
	hashP2      = 0xc2b2ae3d27d4eb4f
	hashP3      = 0x165667b19e3779f9
	hashKeySeed = 0x5bd1e9955bd1e995
	hashValSeed = 0x27d4eb2f165667c5
)

// hashString mixes s into h. Its length is mixed in first, so the
// overlapping reads of the tail cannot make two strings collide.
func hashString(h uint64, s string) uint64 {
	n := len(s)
	h ^= uint64(n) * hashP3
	switch {
	case n > 8:
		t := s
		for len(t) > 8 {
			h = hashRound(h, le64(t))
			t = t[8:]
		}
		h = hashRound(h, le64(s[n-8:]))
	case n == 8:
		h = hashRound(h, le64(s))
	case n >= 4:
		h = hashRound(h, uint64(le32(s))|uint64(le32(s[n-4:]))<<32)
	case n > 0:
		h = hashRound(h, uint64(s[0])|uint64(s[n/2])<<8|uint64(s[n-1])<<16)
	}
	return h
}

func hashRound(h, w uint64) uint64 {
	return bits.RotateLeft64(h^(w*hashP2), 31) * hashP1
}

// le64 reads the first 8 bytes of s little-endian; the compiler merges the
// loads into one.
func le64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// le32 reads the first 4 bytes of s little-endian.
func le32(s string) uint32 {
	_ = s[3]
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}

// fmix64 is murmur3's finalizer: every input bit affects every output bit.
func fmix64(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// hashKey returns the 64-bit hash of k; the fields are length-delimited so
// that ("ab","c") and ("a","bc") differ.
func hashKey(k *Key) uint64 {
	h := uint64(hashKeySeed)
	h = hashString(h, k.Tenant)
	h = hashString(h, k.Scope)
	h = hashString(h, string(k.Kind))
	h = hashString(h, k.Value)
	return fmix64(h)
}

// hashValue returns the 64-bit hash of a distinct-count value.
func hashValue(v string) uint64 {
	return fmix64(hashString(hashValSeed, v))
}
