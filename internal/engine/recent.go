package engine

import (
	"hash/maphash"
	"sync"

	"github.com/shopguard/shopguard/internal/risk"
)

// recentIDs remembers which (tenant, kind, external id) this process has
// assessed lately, so that a retried request is recognised before any
// feature is counted without a storage query on every decision. It is a
// hint, not the guarantee: storage's uniqueness constraint is. A retry of
// an event assessed before the set's memory (or by another instance) is
// still answered with the stored decision; only its features are counted
// a second time.
type recentIDs struct {
	seed maphash.Seed
	mu   sync.Mutex
	set  map[uint64]struct{}
	ring []uint64 // insertion order, for eviction
	next int
}

func newRecentIDs(capacity int) *recentIDs {
	return &recentIDs{seed: maphash.MakeSeed(), set: map[uint64]struct{}{}, ring: make([]uint64, capacity)}
}

func (r *recentIDs) hash(tenant string, kind risk.EventKind, ext string) uint64 {
	var h maphash.Hash
	h.SetSeed(r.seed)
	h.WriteString(tenant)
	h.WriteByte(0)
	h.WriteString(string(kind))
	h.WriteByte(0)
	h.WriteString(ext)
	return h.Sum64()
}

// seen reports whether the id may have been assessed (false positives are
// possible through hash collisions; callers then check storage).
func (r *recentIDs) seen(tenant string, kind risk.EventKind, ext string) bool {
	h := r.hash(tenant, kind, ext)
	r.mu.Lock()
	_, ok := r.set[h]
	r.mu.Unlock()
	return ok
}

// add records an assessed id, forgetting the oldest beyond capacity.
func (r *recentIDs) add(tenant string, kind risk.EventKind, ext string) {
	h := r.hash(tenant, kind, ext)
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.set[h]; ok {
		return
	}
	if old := r.ring[r.next]; old != 0 {
		delete(r.set, old)
	}
	r.ring[r.next] = h
	r.set[h] = struct{}{}
	r.next = (r.next + 1) % len(r.ring)
}
