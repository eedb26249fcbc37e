package limit

import (
	"fmt"
	"net/netip"
	"runtime"
	"testing"
	"time"
)

// ipKey returns the i-th IPv4 address from 1.0.0.0 as a key.
func ipKey(i int) string {
	return netip.AddrFrom4([4]byte{byte(1 + i>>24), byte(i >> 16), byte(i >> 8), byte(i)}).String()
}

// held reports whether the limiter holds key under rule, without touching
// it.
func held(l *Limiter, rule, key string) bool {
	ri := l.byName[rule]
	s := l.shardFor(ri, key)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.find(ri, key) != nil
}

// TestMillionKeysBoundedMemory drives a million distinct addresses through
// a limiter of 10,000 keys: the key count never passes the cap and the heap
// stays small.
func TestMillionKeysBoundedMemory(t *testing.T) {
	const (
		keys    = 1_000_000
		maxKeys = 10_000
		// A limiter that kept every key would hold well over 16 MiB (a
		// million map slots alone); one that keeps 10,000 holds about 1.
		heapBound = 16 << 20
	)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	l, clk := newTestLimiter(t, maxKeys, pagesRule(), loginRule())
	for i := range keys {
		key := ipKey(i)
		mustAllow(t, l, "pages", key)
		if i%3 == 0 {
			mustObserve(t, l, "login", key, 401)
		}
		clk.Advance(time.Microsecond)
		// Keys are only ever added or replaced in place, never removed,
		// so Len never falls: a count past the cap at any moment would
		// still show at the next check and at the end.
		if i%1000 != 0 {
			continue
		}
		if n := l.Len(); n > maxKeys {
			t.Fatalf("after %d keys Len() = %d, more than MaxKeys %d", i+1, n, maxKeys)
		}
	}
	if n := l.Len(); n != maxKeys {
		t.Fatalf("Len() = %d at the end, want the cap %d (every slot reused, none lost)", n, maxKeys)
	}
	for i := range l.shards {
		s := &l.shards[i]
		if len(s.slots) > s.limit || len(s.index) != len(s.slots) {
			t.Fatalf("shard %d: %d slots, %d indexed, limit %d", i, len(s.slots), len(s.index), s.limit)
		}
	}

	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(l)
	delta := int64(after.HeapInuse) - int64(before.HeapInuse)
	t.Logf("heap in use grew by %.2f MiB for %d keys held", float64(delta)/(1<<20), l.Len())
	if delta > heapBound {
		t.Fatalf("heap in use grew by %d bytes, more than %d", delta, heapBound)
	}
}

// TestLimitedKeySurvivesChurn checks that an attacker rotating through
// 100,000 addresses cannot flush limited keys out of memory to reset their
// buckets, while the same churn does evict keys that are not limited.
func TestLimitedKeySurvivesChurn(t *testing.T) {
	const (
		maxKeys = 10_000
		churn   = 100_000
		limited = 1_000 // far fewer than one shard's share of MaxKeys each
	)
	slow := Rule{Name: "checkout", Key: KeyIP, Rate: 1.0 / 60, Burst: 10, Counts: CountRequests}
	l, clk := newTestLimiter(t, maxKeys, slow, loginRule())

	limitedKey := func(i int) string { return fmt.Sprintf("limited-%d", i) }
	for i := range limited {
		for range 10 {
			mustAllow(t, l, "checkout", limitedKey(i))
		}
		for range 5 {
			mustObserve(t, l, "login", limitedKey(i), 401)
		}
	}
	// An idle key that made one request: partly drained, not limited.
	mustAllow(t, l, "checkout", "idle")

	for i := range churn {
		key := ipKey(i)
		mustAllow(t, l, "checkout", key)
		mustAllow(t, l, "login", key)
		mustObserve(t, l, "login", key, 403)
		clk.Advance(time.Microsecond) // 0.1s in all: no limited key refills
	}

	if held(l, "checkout", "idle") {
		t.Fatalf("the idle key survived %d keys of churn: the churn did not exercise eviction", churn)
	}
	for i := range limited {
		key := limitedKey(i)
		if d := mustAllow(t, l, "checkout", key); d.Allowed {
			t.Fatalf("checkout key %s was reset by the churn: %+v", key, d)
		}
		if d := mustAllow(t, l, "login", key); d.Allowed {
			t.Fatalf("login key %s was reset by the churn: %+v", key, d)
		}
	}
}

// oneShard returns a limiter with a single shard of 16 keys.
func oneShard(t *testing.T, rules ...Rule) (*Limiter, *fakeClock) {
	l, clk := newTestLimiter(t, 16, rules...)
	if len(l.shards) != 1 {
		t.Fatalf("want one shard, got %d", len(l.shards))
	}
	return l, clk
}

func TestEvictPrefersFullBuckets(t *testing.T) {
	fast := Rule{Name: "fast", Key: KeyIP, Rate: 1, Burst: 2, Counts: CountRequests}
	slow := Rule{Name: "slow", Key: KeyIP, Rate: 1e-3, Burst: 2, Counts: CountRequests}
	l, clk := oneShard(t, fast, slow)
	for i := range 8 {
		mustAllow(t, l, "slow", fmt.Sprint("s", i))
		mustAllow(t, l, "fast", fmt.Sprint("f", i))
	}
	clk.Advance(2 * time.Second) // fast keys are full again, slow ones are not
	for i := range 8 {
		mustAllow(t, l, "fast", fmt.Sprint("new", i))
	}
	for i := range 8 {
		if !held(l, "slow", fmt.Sprint("s", i)) {
			t.Errorf("slow key s%d (not full) was evicted while full buckets were held", i)
		}
		if held(l, "fast", fmt.Sprint("f", i)) {
			t.Errorf("fast key f%d (full) is still held", i)
		}
	}
}

func TestEvictPrefersNotRecentlyUsed(t *testing.T) {
	l, _ := oneShard(t, pagesRule())
	for i := range 16 {
		mustAllow(t, l, "pages", fmt.Sprint("k", i))
	}
	for i := range 8 { // used again: referenced
		mustAllow(t, l, "pages", fmt.Sprint("k", i))
	}
	for i := range 8 {
		mustAllow(t, l, "pages", fmt.Sprint("new", i))
	}
	for i := range 16 {
		if got, want := held(l, "pages", fmt.Sprint("k", i)), i < 8; got != want {
			t.Errorf("k%d held = %v, want %v (recently used keys stay, the others go)", i, got, want)
		}
	}
}

func TestEvictLimitedOnlyWhenAllAreLimited(t *testing.T) {
	l, _ := oneShard(t, pagesRule())
	// Fill the shard with limited keys; k0 is the least limited.
	for i := range 16 {
		n := 10
		if i == 0 {
			n = 9 // still one token left: not limited
		}
		for range n {
			mustAllow(t, l, "pages", fmt.Sprint("k", i))
		}
	}
	mustAllow(t, l, "pages", "new-1") // evicts k0, the only one not limited
	if held(l, "pages", "k0") {
		t.Fatal("k0, the only key not limited, was kept")
	}
	for i := 1; i < 16; i++ {
		if !held(l, "pages", fmt.Sprint("k", i)) {
			t.Fatalf("limited key k%d was evicted while k0 was not limited", i)
		}
	}
	// new-1 has 9 tokens: it goes next, before any limited key.
	mustAllow(t, l, "pages", "new-2")
	if held(l, "pages", "new-1") {
		t.Fatal("new-1 (not limited) was kept and a limited key evicted instead")
	}
	// Drain new-2: now every key is limited and one of them must go, but
	// the shard never holds more than its limit.
	for range 9 {
		mustAllow(t, l, "pages", "new-2")
	}
	mustAllow(t, l, "pages", "new-3")
	if n := l.Len(); n != 16 {
		t.Fatalf("Len() = %d, want 16", n)
	}
}

func TestEvictAmongLimitedTakesTheSoonestAllowed(t *testing.T) {
	slow := Rule{Name: "slow", Key: KeyIP, Rate: 1, Burst: 1, Counts: CountRequests}
	quick := Rule{Name: "quick", Key: KeyIP, Rate: 10, Burst: 1, Counts: CountRequests}
	l, _ := oneShard(t, slow, quick)
	for i := range 15 {
		mustAllow(t, l, "slow", fmt.Sprint("k", i))
	}
	mustAllow(t, l, "quick", "q") // limited too, but allowed again in 0.1s
	mustAllow(t, l, "slow", "new")
	if held(l, "quick", "q") {
		t.Fatal("the limited key nearest to a token is still held")
	}
	for i := range 15 {
		if !held(l, "slow", fmt.Sprint("k", i)) {
			t.Errorf("k%d (1s from a token) was evicted before q (0.1s)", i)
		}
	}
}
