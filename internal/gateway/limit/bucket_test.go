package limit

import (
	"math"
	"testing"
	"time"
)

// op names a bucket operation in the table tests.
type op int

const (
	opTake op = iota
	opPeek
	opCharge
)

func (o op) String() string { return [...]string{"take", "peek", "charge"}[o] }

// step is one operation on a bucket and what it must give.
type step struct {
	at         time.Duration // since the bucket was made full
	op         op
	wantOK     bool          // for take and peek
	wantTokens float64       // tokens in the state after the step
	wantRetry  time.Duration // for a refused take or peek; -1: not checked
}

// apply runs st on b.
func apply(b bucket, rate, burst float64, st step) (bucket, bool, time.Duration) {
	now := int64(st.at)
	switch st.op {
	case opTake:
		return take(b, rate, burst, 1, now)
	case opPeek:
		return peek(b, rate, burst, 1, now)
	default:
		return charge(b, rate, burst, 1, now), true, 0
	}
}

func TestBucketMath(t *testing.T) {
	const never = time.Duration(-1)
	tests := []struct {
		name  string
		rate  float64
		burst float64
		steps []step
	}{
		{"burst then refused", 1, 3, []step{
			{0, opTake, true, 2, 0},
			{0, opTake, true, 1, 0},
			{0, opTake, true, 0, 0},
			{0, opTake, false, 0, time.Second},
			{0, opTake, false, 0, time.Second},
		}},
		{"refill over time", 2, 5, []step{
			{0, opTake, true, 4, 0},
			{0, opTake, true, 3, 0},
			{0, opTake, true, 2, 0},
			{0, opTake, true, 1, 0},
			{0, opTake, true, 0, 0},
			{500 * time.Millisecond, opTake, true, 0, 0},
			{750 * time.Millisecond, opTake, false, 0.5, 250 * time.Millisecond},
			{time.Second, opTake, true, 0, 0},
			{3 * time.Second, opTake, true, 3, 0},
		}},
		{"refill stops at burst", 10, 2, []step{
			{0, opTake, true, 1, 0},
			{time.Hour, opPeek, true, 2, 0},
			{time.Hour, opTake, true, 1, 0},
		}},
		{"fractional rate: 20 per minute", 20.0 / 60, 1, []step{
			{0, opTake, true, 0, 0},
			{time.Second, opTake, false, 1.0 / 3, 2 * time.Second},
			{2 * time.Second, opTake, false, 2.0 / 3, never},
			{3 * time.Second, opTake, true, 0, 0},
		}},
		{"fractional rate below one per second", 0.25, 2, []step{
			{0, opTake, true, 1, 0},
			{0, opTake, true, 0, 0},
			{2 * time.Second, opTake, false, 0.5, 2 * time.Second},
			{4 * time.Second, opTake, true, 0, 0},
		}},
		{"clock going backwards mints nothing", 1, 2, []step{
			{10 * time.Second, opTake, true, 1, 0},
			{10 * time.Second, opTake, true, 0, 0},
			{5 * time.Second, opTake, false, 0, time.Second},
			{-time.Hour, opPeek, false, 0, time.Second},
			{10*time.Second + 500*time.Millisecond, opTake, false, 0.5, 500 * time.Millisecond},
			{11 * time.Second, opTake, true, 0, 0},
		}},
		{"huge gap caps at burst", MaxRate, 10, []step{
			{0, opCharge, true, 9, 0},
			{0, opCharge, true, 8, 0},
			{time.Duration(math.MaxInt64), opPeek, true, 10, 0},
		}},
		{"huge gap at the slowest rate", MinRate, 1, []step{
			{0, opTake, true, 0, 0},
			{time.Second, opTake, false, 1e-6, 999_999 * time.Second},
			{time.Duration(math.MaxInt64), opTake, true, 0, 0},
		}},
		{"peek takes nothing", 1, 1, []step{
			{0, opPeek, true, 1, 0},
			{0, opPeek, true, 1, 0},
			{0, opTake, true, 0, 0},
			{0, opPeek, false, 0, time.Second},
		}},
		{"charge goes into debt", 1, 2, []step{
			{0, opCharge, true, 1, 0},
			{0, opCharge, true, 0, 0},
			{0, opCharge, true, -1, 0},
			{0, opCharge, true, -2, 0},
			{0, opPeek, false, -2, 3 * time.Second},
			{2 * time.Second, opPeek, false, 0, time.Second},
			{3 * time.Second, opPeek, true, 1, 0},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := fullBucket(tt.burst, 0)
			for i, st := range tt.steps {
				var ok bool
				var retry time.Duration
				b, ok, retry = apply(b, tt.rate, tt.burst, st)
				if st.op != opCharge && ok != st.wantOK {
					t.Fatalf("step %d (%s at %v): allowed = %v, want %v", i, st.op, st.at, ok, st.wantOK)
				}
				if math.Abs(b.tokens-st.wantTokens) > 1e-9 {
					t.Fatalf("step %d (%s at %v): tokens = %v, want %v", i, st.op, st.at, b.tokens, st.wantTokens)
				}
				if b.tokens > tt.burst {
					t.Fatalf("step %d: tokens %v above burst %v", i, b.tokens, tt.burst)
				}
				if st.wantRetry >= 0 && retry != st.wantRetry {
					t.Fatalf("step %d (%s at %v): retry = %v, want %v", i, st.op, st.at, retry, st.wantRetry)
				}
			}
		})
	}
}

func TestRefillKeepsLaterStamp(t *testing.T) {
	b := bucket{tokens: 0.5, stamp: int64(10 * time.Second)}
	got := refill(b, 1, 2, int64(3*time.Second))
	if got != b {
		t.Fatalf("refill backwards = %+v, want %+v unchanged", got, b)
	}
}

// TestRetryAfterIsExact checks that a caller coming back exactly
// RetryAfter later is allowed and one nanosecond earlier is not.
func TestRetryAfterIsExact(t *testing.T) {
	rates := []float64{MinRate, 1e-3, 1.0 / 3, 20.0 / 60, 0.7, 1, 3, 1e3, 123456.789, MaxRate}
	levels := []float64{0, 0.1, 1.0 / 3, 0.5, 0.999999, -1, -7.25}
	for _, rate := range rates {
		for _, tokens := range levels {
			const start = int64(5 * time.Second)
			b := bucket{tokens: tokens, stamp: start}
			_, ok, retry := take(b, rate, 2, 1, start)
			if ok || retry <= 0 {
				t.Fatalf("rate %v tokens %v: take allowed=%v retry=%v, want refused with a wait", rate, tokens, ok, retry)
			}
			if _, ok, _ := take(b, rate, 2, 1, start+int64(retry)); !ok {
				t.Errorf("rate %v tokens %v: refused after RetryAfter %v", rate, tokens, retry)
			}
			if _, ok, _ := take(b, rate, 2, 1, start+int64(retry)-1); ok {
				t.Errorf("rate %v tokens %v: allowed 1ns before RetryAfter %v", rate, tokens, retry)
			}
		}
	}
}

func TestRetryAfterCapsAtLongestDuration(t *testing.T) {
	if got := retryAfter(-1e300, MinRate, 1); got != maxRetry {
		t.Fatalf("retryAfter with a vast debt = %v, want %v", got, maxRetry)
	}
}
