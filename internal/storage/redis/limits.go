package redis

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"

	goredis "github.com/redis/go-redis/v9"

	"github.com/shopguard/shopguard/internal/gateway/limit"
)

// bucketScript runs one token-bucket step atomically where the bucket
// lives, with the formulas of limit's bucket.go and Redis's own clock
// (TIME, in microseconds: exact in a Lua double), so that every gateway
// sharing the bucket reads one timeline. KEYS[1] is the bucket, a hash of
// tokens (t) and stamp (s); ARGV are the step (take, peek or charge), the
// rate in tokens per second, the burst and the tokens the step needs. A
// full bucket is the same as none, so it is deleted; any other carries a
// TTL of the time it takes to fill up (at most 30 days). It returns
// whether the step was allowed and the tokens left, as text ("%.17g"
// round-trips a double; Redis would truncate a Lua number to an integer).
var bucketScript = goredis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local op, rate, burst, n = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local v = redis.call('HMGET', KEYS[1], 't', 's')
local tokens, stamp = tonumber(v[1]), tonumber(v[2])
if tokens == nil or stamp == nil then
  if op == 'peek' then return {1, ARGV[3]} end
  tokens, stamp = burst, now
end
if now > stamp then
  if tokens < burst then tokens = math.min(burst, tokens + rate * ((now - stamp) / 1e6)) end
  stamp = now
end
local allowed = 1
if op == 'take' then
  if tokens >= n then tokens = tokens - n else allowed = 0 end
elseif op == 'peek' then
  if tokens < n then allowed = 0 end
  return {allowed, string.format('%.17g', tokens)}
else
  tokens = tokens - n
end
if tokens >= burst then
  redis.call('DEL', KEYS[1])
else
  redis.call('HSET', KEYS[1], 't', string.format('%.17g', tokens), 's', string.format('%.17g', stamp))
  local ttl = math.min(math.ceil((burst - tokens) / rate * 1000) + 1000, 2592000000)
  redis.call('PEXPIRE', KEYS[1], string.format('%d', ttl))
end
return {allowed, string.format('%.17g', tokens)}
`)

// Limits keeps the gateway's token buckets in Redis, where every gateway
// using the same Redis and prefix shares them: a credential-stuffing run
// spread over several gateways drains one bucket per account. It has the
// methods of limit.Limiter and passes the same suite (limittest).
//
// Degraded mode: when Redis does not answer within the timeout, or fails,
// the call is answered by this gateway's own in-memory buckets (a
// limit.Limiter with the same rules), and Redis is left alone for a
// backoff that grows from 250 ms to 5 s; then one call tries it again.
// While degraded each gateway enforces every limit on its own, so N
// gateways admit up to N times a limit; nothing fails open or closed.
// The buckets in Redis are used again, as they were, once it answers.
type Limits struct {
	st    *State
	rules map[string]*sharedRule
	local *limit.Limiter
	brk   breaker
}

// sharedRule is a rule with its script arguments.
type sharedRule struct {
	rule        limit.Rule
	rate, burst string
}

// Limits returns the shared buckets of rules; maxKeys bounds the
// in-memory buckets of the degraded mode (limit.Config.MaxKeys).
func (s *State) Limits(rules []limit.Rule, maxKeys int, log *slog.Logger) (*Limits, error) {
	local, err := limit.New(limit.Config{Rules: rules, MaxKeys: maxKeys})
	if err != nil {
		return nil, err
	}
	l := &Limits{st: s, rules: make(map[string]*sharedRule, len(rules)), local: local,
		brk: newBreaker(log, "shared rate limits unreachable: this gateway's own buckets answer until Redis is back", "shared rate limits reachable again")}
	for _, r := range rules {
		r.Statuses = slices.Clone(r.Statuses)
		l.rules[r.Name] = &sharedRule{rule: r, rate: strconv.FormatFloat(r.Rate, 'g', -1, 64), burst: strconv.Itoa(r.Burst)}
	}
	return l, nil
}

// Allow decides whether a request with key may pass the rule named rule,
// as limit.Limiter.Allow does: one round trip to Redis.
func (l *Limits) Allow(rule, key string) (limit.Decision, error) {
	r, ok := l.rules[rule]
	if !ok || limit.CheckKey(key) != nil || !l.brk.usable() {
		return l.local.Allow(rule, key) // its error, or the degraded mode's answer
	}
	op := "take"
	if r.rule.Counts == limit.CountResponses {
		op = "peek"
	}
	allowed, tokens, err := l.step(op, r, key)
	if err != nil {
		l.brk.failed(err)
		return l.local.Allow(rule, key)
	}
	d := limit.Decision{Allowed: allowed, Remaining: max(tokens, 0)}
	if !allowed {
		d.RetryAfter = limit.RetryAfter(tokens, r.rule.Rate, 1)
	}
	return d, nil
}

// Observe reports a response with status to a request with key under the
// rule named rule, as limit.Limiter.Observe does: one round trip to Redis
// when the status counts, none otherwise.
func (l *Limits) Observe(rule, key string, status int) error {
	r, ok := l.rules[rule]
	if !ok || limit.CheckKey(key) != nil || r.rule.Counts != limit.CountResponses || status < 100 || status > 599 {
		return l.local.Observe(rule, key, status) // its error
	}
	if !slices.Contains(r.rule.Statuses, status) {
		return nil
	}
	if !l.brk.usable() {
		return l.local.Observe(rule, key, status)
	}
	if _, _, err := l.step("charge", r, key); err != nil {
		l.brk.failed(err)
		return l.local.Observe(rule, key, status)
	}
	return nil
}

// Len returns how many keys the in-memory buckets of the degraded mode
// hold.
func (l *Limits) Len() int { return l.local.Len() }

// Degraded reports whether Redis failed last time it was tried, so that
// the gateway's own buckets are answering.
func (l *Limits) Degraded() bool { return l.brk.degraded.Load() }

// step runs the bucket script for key under r.
func (l *Limits) step(op string, r *sharedRule, key string) (allowed bool, tokens float64, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), l.st.timeout)
	defer cancel()
	res, err := bucketScript.Run(ctx, l.st.rdb, []string{l.st.prefix + "limit:" + r.rule.Name + ":" + key}, op, r.rate, r.burst, "1").Slice()
	if err != nil {
		return false, 0, fmt.Errorf("redis: rate limit %s: %w", r.rule.Name, err)
	}
	if len(res) != 2 {
		return false, 0, fmt.Errorf("redis: rate limit %s: %d values from the script, want 2", r.rule.Name, len(res))
	}
	a, _ := res[0].(int64)
	s, _ := res[1].(string)
	if tokens, err = strconv.ParseFloat(s, 64); err != nil {
		return false, 0, fmt.Errorf("redis: rate limit %s: tokens %q: %w", r.rule.Name, s, err)
	}
	l.brk.recovered()
	return a == 1, tokens, nil
}
