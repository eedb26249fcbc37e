package limit

import (
	"math"
	"time"
)

// The token-bucket math, as pure functions of a two-number state.
//
// A bucket holds up to burst tokens and gains rate tokens per second. It is
// refilled lazily: nothing runs between events; each event first brings
// the state up to date from the time of the last update (refill), then
// decides. There are no timers and no goroutine per key.
//
// The functions take and return the whole state and share no memory, so a
// shared store can run the same arithmetic atomically where the state lives.
// The planned Redis store keeps {tokens, stamp} in a hash per key and does
// refill followed by take, peek or charge in one Lua script, with these
// formulas and in the same order of operations (Lua numbers are IEEE
// doubles, so results are bit-identical given the same inputs):
//
//	gain      = rate * ((now - stamp) / 1e9)         only when now > stamp
//	tokens    = min(burst, tokens + gain); stamp = now
//	take n    : allowed = tokens >= n; if allowed { tokens -= n }
//	peek n    : allowed = tokens >= n                  (nothing taken)
//	charge n  : tokens -= n                            (may go below zero)
//	retry     = smallest whole ns d with tokens + rate*(d/1e9) >= n
//
// Time is int64 nanoseconds on one timeline shared by every caller of a
// state: the Limiter's monotonic clock in memory; the store's own clock
// (Redis TIME) when several gateways share the state, never each
// gateway's wall clock. A clock that goes backwards mints no tokens: the
// stamp never moves back, so the time between the later stamp and the
// earlier now is simply not counted twice.

// bucket is the whole state of one token bucket.
type bucket struct {
	// tokens is how many tokens were left at stamp. It is at most the
	// rule's burst and below zero when charge took more than was left
	// (responses to requests that were already in flight).
	tokens float64
	// stamp is when tokens was last brought up to date, in nanoseconds.
	stamp int64
}

// fullBucket returns the state of a key not seen before: a full bucket.
func fullBucket(burst float64, now int64) bucket { return bucket{tokens: burst, stamp: now} }

// gain returns the tokens rate mints in dt nanoseconds.
func gain(rate float64, dt int64) float64 { return rate * (float64(dt) / 1e9) }

// refill returns b brought up to date at now: tokens gained since stamp,
// capped at burst. When now is not after stamp (a clock that went
// backwards, or a concurrent caller that read the clock earlier) b is
// returned unchanged.
func refill(b bucket, rate, burst float64, now int64) bucket {
	if now <= b.stamp {
		return b
	}
	if b.tokens < burst {
		b.tokens = math.Min(burst, b.tokens+gain(rate, now-b.stamp))
	}
	b.stamp = now
	return b
}

// take refills b at now and, when at least n tokens are left, takes n of
// them. It returns the new state, whether the tokens were taken, and when
// refused how long until n tokens will be there.
func take(b bucket, rate, burst, n float64, now int64) (bucket, bool, time.Duration) {
	b = refill(b, rate, burst, now)
	if b.tokens >= n {
		b.tokens -= n
		return b, true, 0
	}
	return b, false, retryAfter(b.tokens, rate, n)
}

// peek refills b at now and reports whether n tokens are left, without
// taking any; when not, it also returns how long until they will be.
func peek(b bucket, rate, burst, n float64, now int64) (bucket, bool, time.Duration) {
	b = refill(b, rate, burst, now)
	if b.tokens >= n {
		return b, true, 0
	}
	return b, false, retryAfter(b.tokens, rate, n)
}

// charge refills b at now and takes n tokens whatever is left: the event
// already happened. Tokens can go below zero; the key then stays refused
// until the debt is refilled.
func charge(b bucket, rate, burst, n float64, now int64) bucket {
	b = refill(b, rate, burst, now)
	b.tokens -= n
	return b
}

// RetryAfter returns how long until a bucket with tokens left, refilled
// at rate tokens per second, holds n tokens: the wait Allow reports when
// it refuses. A store that keeps the buckets elsewhere (Redis) answers
// with it as the Limiter does.
func RetryAfter(tokens, rate, n float64) time.Duration { return retryAfter(tokens, rate, n) }

// maxRetry is the longest wait retryAfter reports.
const maxRetry = time.Duration(math.MaxInt64)

// retryAfter returns the smallest whole number of nanoseconds d with
// tokens + gain(rate, d) >= n, so that a caller coming back exactly d
// later is allowed (refill uses the same gain). Waits too long for a
// Duration are reported as the longest Duration.
func retryAfter(tokens, rate, n float64) time.Duration {
	ns := math.Ceil((n - tokens) / rate * 1e9)
	if !(ns < float64(maxRetry)) { // also catches NaN
		return maxRetry
	}
	ok := func(d int64) bool { return tokens+gain(rate, d) >= n }
	// Float rounding leaves the estimate off either way, by a few ulps of
	// the result — and past 2^53 ns (104 days) float64(d) itself moves in
	// steps of many nanoseconds. gain is monotone in d, so bracket the
	// answer (lo refused, hi allowed) by doubling steps from the estimate,
	// then bisect: at most about 2 x 63 evaluations, usually a handful.
	d := max(int64(ns), 1)
	lo, hi := d-1, d
	if ok(d) {
		for step := int64(1); lo > 0 && ok(lo); step *= 2 {
			hi, lo = lo, max(lo-step, 0)
		}
	} else {
		lo = d
		for step := int64(1); ; step *= 2 {
			if d > math.MaxInt64-step {
				return maxRetry
			}
			if hi = d + step; ok(hi) {
				break
			}
			lo = hi
		}
	}
	for hi-lo > 1 {
		if mid := lo + (hi-lo)/2; ok(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return time.Duration(hi)
}
