package limit

import (
	"sync/atomic"
	"testing"
	"time"
)

// benchLimiter returns a limiter on the real clock with a pages rule fast
// enough that most requests are allowed, and a login rule.
func benchLimiter(b *testing.B, maxKeys int) *Limiter {
	b.Helper()
	pages := Rule{Name: "pages", Key: KeyIP, Rate: 1e6, Burst: 1000, Counts: CountRequests}
	// Every key of the slow rule is limited after its first request.
	slow := Rule{Name: "slow", Key: KeyIP, Rate: MinRate, Burst: 1, Counts: CountRequests}
	l, err := New(Config{Rules: []Rule{pages, loginRule(), slow}, MaxKeys: maxKeys, Clock: time.Now})
	if err != nil {
		b.Fatal(err)
	}
	return l
}

// benchKeys returns n distinct address keys.
func benchKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = ipKey(i)
	}
	return keys
}

func BenchmarkAllow(b *testing.B) {
	b.Run("one key", func(b *testing.B) {
		l := benchLimiter(b, 10_000)
		b.ReportAllocs()
		for b.Loop() {
			_, _ = l.Allow("pages", "198.51.100.1")
		}
	})
	b.Run("one key parallel", func(b *testing.B) {
		l := benchLimiter(b, 10_000)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_, _ = l.Allow("pages", "198.51.100.1")
			}
		})
	})
	b.Run("10k keys parallel", func(b *testing.B) {
		l := benchLimiter(b, 100_000)
		keys := benchKeys(10_000)
		for _, k := range keys {
			_, _ = l.Allow("pages", k)
		}
		var worker atomic.Int64
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := int(worker.Add(1)) * 7919
			for pb.Next() {
				_, _ = l.Allow("pages", keys[i%len(keys)])
				i++
			}
		})
	})
	b.Run("pre-check parallel", func(b *testing.B) {
		l := benchLimiter(b, 100_000)
		keys := benchKeys(10_000)
		for _, k := range keys[:5000] {
			_ = l.Observe("login", k, 401)
		}
		var worker atomic.Int64
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := int(worker.Add(1)) * 7919
			for pb.Next() {
				_, _ = l.Allow("login", keys[i%len(keys)])
				i++
			}
		})
	})
	b.Run("new keys evicting parallel", func(b *testing.B) {
		l := benchLimiter(b, 10_000)
		keys := benchKeys(1 << 20)
		var worker atomic.Int64
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := int(worker.Add(1)) * 104729
			for pb.Next() {
				_, _ = l.Allow("pages", keys[i&(len(keys)-1)])
				i++
			}
		})
	})
	// The worst case of eviction: every held key is limited, so each new
	// key walks its whole shard (10,000/64 entries) before one goes.
	b.Run("new keys all limited parallel", func(b *testing.B) {
		l := benchLimiter(b, 10_000)
		keys := benchKeys(1 << 20)
		var worker atomic.Int64
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := int(worker.Add(1)) * 104729
			for pb.Next() {
				_, _ = l.Allow("slow", keys[i&(len(keys)-1)])
				i++
			}
		})
	})
}

func BenchmarkObserve(b *testing.B) {
	l := benchLimiter(b, 100_000)
	keys := benchKeys(10_000)
	var worker atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := int(worker.Add(1)) * 7919
		for pb.Next() {
			_ = l.Observe("login", keys[i%len(keys)], 401)
			i++
		}
	})
}
