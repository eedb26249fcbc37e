package limit

import (
	"encoding/binary"
	"math"
	"testing"
	"time"
)

// FuzzBucket runs random operations at random times, forwards and
// backwards, on one bucket and checks the invariants of the math: never
// above burst, the stamp never moves back, no more tokens than the time
// elapsed mints, no more takes than burst + rate*elapsed, and RetryAfter
// exact to the nanosecond.
func FuzzBucket(f *testing.F) {
	f.Add(1.0, uint16(3), []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xe8, 3})
	f.Add(20.0/60, uint16(5), []byte{2, 0, 0, 2, 0, 0, 2, 0, 0, 1, 0x10, 0x27, 0, 0xf0, 0xd8, 3, 0, 0})
	f.Add(MinRate, uint16(1), []byte{0, 0, 0, 3, 0, 0, 0, 0, 0})
	f.Add(MaxRate, uint16(1000), []byte{0, 1, 0, 0, 0xff, 0xff, 1, 0, 0})
	f.Fuzz(func(t *testing.T, rate float64, burstIn uint16, ops []byte) {
		if !(rate >= MinRate && rate <= MaxRate) {
			return
		}
		burst := float64(1 + int(burstIn)%1000)
		var now, maxNow int64
		b := fullBucket(burst, now)
		taken := 0.0 // tokens removed by allowed takes
		for len(ops) >= 3 {
			code, dt := ops[0], int64(int16(binary.LittleEndian.Uint16(ops[1:3])))
			ops = ops[3:]
			var step int64
			switch code >> 2 % 4 {
			case 0:
				step = dt * int64(time.Millisecond)
			case 1:
				step = dt * int64(time.Microsecond)
			case 2:
				step = dt * int64(time.Hour)
			}
			if step > 0 && now > math.MaxInt64-step || step < 0 && now < math.MinInt64/2-step {
				return // the test's own clock would overflow
			}
			now += step
			if code>>2%4 == 3 { // a reading from a clock behind the stamp (never below 0)
				now = b.stamp - int64(uint16(dt))
			}
			maxNow = max(maxNow, now)
			prev := b
			var ok bool
			var retry time.Duration
			switch code % 4 {
			case 0, 3:
				b, ok, retry = take(b, rate, burst, 1, now)
				if ok {
					taken++
				}
			case 1:
				b, ok, retry = peek(b, rate, burst, 1, now)
			case 2:
				b = charge(b, rate, burst, 1, now)
				ok = true
			}
			if b.tokens > burst {
				t.Fatalf("tokens %v above burst %v", b.tokens, burst)
			}
			if b.stamp != max(prev.stamp, now) {
				t.Fatalf("stamp %d, want max(%d, %d)", b.stamp, prev.stamp, now)
			}
			var minted float64
			if now > prev.stamp {
				minted = gain(rate, now-prev.stamp)
			}
			if rise := b.tokens - prev.tokens; rise > minted+1e-9*burst {
				t.Fatalf("tokens rose by %v from %v to %v at %d (stamp %d), more than the %v minted",
					rise, prev.tokens, b.tokens, now, prev.stamp, minted)
			}
			if bound := burst + gain(rate, maxNow); taken > bound+1e-6*bound {
				t.Fatalf("%v takes allowed, more than burst + rate*elapsed = %v", taken, bound)
			}
			if ok != (retry == 0) {
				t.Fatalf("allowed = %v with RetryAfter %v", ok, retry)
			}
			if !ok && retry < maxRetry && b.stamp <= math.MaxInt64-int64(retry) {
				if _, ok, _ := peek(b, rate, burst, 1, b.stamp+int64(retry)); !ok {
					t.Fatalf("refused again at RetryAfter %v (tokens %v, rate %v)", retry, b.tokens, rate)
				}
				if _, ok, _ := peek(b, rate, burst, 1, b.stamp+int64(retry)-1); ok {
					t.Fatalf("allowed 1ns before RetryAfter %v (tokens %v, rate %v)", retry, b.tokens, rate)
				}
			}
		}
	})
}

// FuzzLimiter runs random Allow, Observe and clock steps on a one-shard
// limiter and checks every Decision: exact against a model that applies the
// bucket math to an unbounded map while no eviction was needed, and the
// bounds of Len and Decision always.
func FuzzLimiter(f *testing.F) {
	f.Add(uint8(4), []byte{0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1})
	f.Add(uint8(2), []byte{1, 2, 9, 2, 17, 2, 1, 2, 9, 2, 17, 2, 1, 2, 3, 200, 1, 2})
	f.Add(uint8(1), []byte{0, 0, 0, 1, 0, 2, 0, 3, 3, 255, 0, 0})
	f.Fuzz(func(t *testing.T, maxKeysIn uint8, ops []byte) {
		maxKeys := 1 + int(maxKeysIn)%24
		login := Rule{Name: "login", Key: KeyAccount, Rate: 0.5, Burst: 3, Counts: CountResponses, Statuses: []int{401, 403}}
		pages := Rule{Name: "pages", Key: KeyIP, Rate: 2, Burst: 4, Counts: CountRequests}
		clk := &fakeClock{}
		l, err := New(Config{Rules: []Rule{login, pages}, MaxKeys: maxKeys, Clock: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		if len(l.shards) != 1 {
			t.Fatalf("%d shards, want 1", len(l.shards))
		}
		type mkey struct{ rule, key string }
		model := map[mkey]bucket{}
		exact := true // no eviction yet: the model must agree
		rules := map[string]Rule{"login": login, "pages": pages}
		for len(ops) >= 2 {
			code, arg := ops[0], ops[1]
			ops = ops[2:]
			key := string(rune('a' + arg%16))
			now := int64(clk.ns.Load())
			switch code % 4 {
			case 0, 1:
				name := [...]string{"login", "pages"}[code%2]
				r := rules[name]
				d, err := l.Allow(name, key)
				if err != nil {
					t.Fatalf("Allow(%s, %s): %v", name, key, err)
				}
				if d.Remaining < 0 || d.Remaining > float64(r.Burst) || d.RetryAfter < 0 || d.Allowed != (d.RetryAfter == 0) {
					t.Fatalf("Allow(%s, %s) = %+v", name, key, d)
				}
				mb, held := model[mkey{name, key}]
				if !held {
					mb = fullBucket(float64(r.Burst), now)
				}
				var want Decision
				if r.Counts == CountRequests {
					mb, want.Allowed, want.RetryAfter = take(mb, r.Rate, float64(r.Burst), 1, now)
					model[mkey{name, key}] = mb
				} else {
					mb, want.Allowed, want.RetryAfter = peek(mb, r.Rate, float64(r.Burst), 1, now)
					if held {
						model[mkey{name, key}] = mb
					}
				}
				want.Remaining = max(mb.tokens, 0)
				if exact && d != want {
					t.Fatalf("Allow(%s, %s) at %d = %+v, model says %+v", name, key, now, d, want)
				}
			case 2:
				status := []int{200, 401, 403, 404}[arg>>4%4]
				if err := l.Observe("login", key, status); err != nil {
					t.Fatalf("Observe(login, %s, %d): %v", key, status, err)
				}
				if status == 401 || status == 403 {
					mb, held := model[mkey{"login", key}]
					if !held {
						mb = fullBucket(float64(login.Burst), now)
					}
					model[mkey{"login", key}] = charge(mb, login.Rate, float64(login.Burst), 1, now)
				}
			case 3:
				clk.Advance(time.Duration(arg) * 10 * time.Millisecond)
			}
			if len(model) > maxKeys {
				exact = false
			}
			if n := l.Len(); n > maxKeys || exact && n != len(model) {
				t.Fatalf("Len() = %d, MaxKeys %d, model holds %d", n, maxKeys, len(model))
			}
		}
	})
}
