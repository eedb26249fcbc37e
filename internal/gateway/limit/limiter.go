package limit

import (
	"errors"
	"fmt"
	"hash/maphash"
	"strings"
	"time"
)

// MaxMaxKeys is the largest Config.MaxKeys accepted.
const MaxMaxKeys = 1 << 30

// Config configures a Limiter.
type Config struct {
	// Rules are the limits, each with a unique name.
	Rules []Rule
	// MaxKeys bounds the keys held across all rules, 1..MaxMaxKeys. When
	// it is reached a new key evicts another: first one whose bucket is
	// full (it carries no state), then one that is not limited, least
	// recently used first; a limited key goes last (see Limiter).
	MaxKeys int
	// Clock returns the current time; nil means time.Now. Tests inject a
	// fake clock. Only differences between its readings are used.
	Clock func() time.Time
}

// Validate returns nil when c is acceptable, or an error joining one
// *FieldError per problem found. Fields of rules are named
// "rules[i].field".
func (c Config) Validate() error {
	var errs []error
	if c.MaxKeys < 1 || c.MaxKeys > MaxMaxKeys {
		errs = append(errs, &FieldError{Field: "max_keys", Message: fmt.Sprintf("%d is outside 1..%d", c.MaxKeys, MaxMaxKeys)})
	}
	first := make(map[string]int, len(c.Rules))
	for i, r := range c.Rules {
		prefix := fmt.Sprintf("rules[%d].", i)
		var fe *FieldError
		for _, err := range unjoin(r.Validate()) {
			if errors.As(err, &fe) {
				err = &FieldError{Field: prefix + fe.Field, Message: fe.Message}
			}
			errs = append(errs, err)
		}
		if j, dup := first[r.Name]; dup && r.Name != "" {
			errs = append(errs, &FieldError{Field: prefix + "name", Message: fmt.Sprintf("%q is already the name of rules[%d]", r.Name, j)})
		} else if !dup {
			first[r.Name] = i
		}
	}
	return errors.Join(errs...)
}

// unjoin returns the errors joined in err, or err alone.
func unjoin(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// Decision is the answer of Allow.
type Decision struct {
	// Allowed reports whether the request may go on.
	Allowed bool
	// Remaining is how many tokens the key has left after this decision
	// (fractional; never below zero).
	Remaining float64
	// RetryAfter is, when Allowed is false, how long until the key has a
	// whole token again if nothing else happens; zero when allowed.
	RetryAfter time.Duration
}

// Limiter holds the token buckets of a gateway instance in memory. It is
// safe for concurrent use: keys are spread by hash over shards that each
// have their own lock, and a call holds one shard's lock for a map lookup
// and a few float operations.
//
// Memory is bounded: at most Config.MaxKeys keys are held across all
// rules, each shard holding its share. A full bucket is the same as a
// bucket never seen, so keys that are only pre-checked are not stored, and
// when room is needed a key whose bucket has refilled is preferred: the
// sweep takes one if it sees one among the next few keys. Otherwise a
// CLOCK (second chance) sweep takes the least recently used key that
// still has a whole token. A limited key is dropped only when
// every key of its shard is limited (then the one that would be allowed
// again soonest), so an attacker rotating through addresses cannot flush a
// limited key out of memory to reset its bucket unless limited keys alone
// fill its shard (MaxKeys/64 keys for MaxKeys of 1024 and more).
//
// When limited keys fill a shard, each new key there costs a walk over the
// whole shard (MaxKeys/64 entries) under its lock: the price of not
// resetting limits.
type Limiter struct {
	rules  []compiledRule
	byName map[string]uint32
	clock  func() time.Time
	epoch  time.Time
	seed   maphash.Seed
	shards []shard
	mask   uint64
}

// compiledRule is a Rule in the form the hot path uses.
type compiledRule struct {
	rule     Rule
	rate     float64
	burst    float64
	statuses statusSet
}

// New returns a Limiter for cfg, or an error wrapping ErrInvalid that
// lists every problem with cfg.
func New(cfg Config) (*Limiter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	l := &Limiter{
		rules:  make([]compiledRule, len(cfg.Rules)),
		byName: make(map[string]uint32, len(cfg.Rules)),
		clock:  cfg.Clock,
		seed:   maphash.MakeSeed(),
	}
	if l.clock == nil {
		l.clock = time.Now
	}
	l.epoch = l.clock()
	for i, r := range cfg.Rules {
		r.Statuses = append([]int(nil), r.Statuses...)
		l.rules[i] = compiledRule{rule: r, rate: r.Rate, burst: float64(r.Burst), statuses: newStatusSet(r.Statuses)}
		l.byName[r.Name] = uint32(i)
	}
	n := shardCount(cfg.MaxKeys)
	l.shards = make([]shard, n)
	l.mask = uint64(n - 1)
	for i := range l.shards {
		limit := cfg.MaxKeys / n
		if i < cfg.MaxKeys%n {
			limit++
		}
		l.shards[i].init(limit)
	}
	return l, nil
}

// Shard sizing: up to maxShards shards, fewer when that would leave a
// shard fewer than minShardKeys keys.
const (
	maxShards    = 64
	minShardKeys = 16
)

// shardCount returns the number of shards for maxKeys: a power of two.
func shardCount(maxKeys int) int {
	n := maxShards
	for n > 1 && maxKeys/n < minShardKeys {
		n /= 2
	}
	return n
}

// Rule returns the rule named name as configured, and whether there is one.
func (l *Limiter) Rule(name string) (Rule, bool) {
	i, ok := l.byName[name]
	if !ok {
		return Rule{}, false
	}
	r := l.rules[i].rule
	r.Statuses = append([]int(nil), r.Statuses...)
	return r, true
}

// Len returns how many keys the Limiter holds, across all rules; never
// more than Config.MaxKeys.
func (l *Limiter) Len() int {
	n := 0
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		n += len(s.slots)
		s.mu.Unlock()
	}
	return n
}

// Allow decides whether a request with key may pass the rule named rule.
// For a rule that counts requests it takes a token when one is left. For a
// rule that counts responses it only checks that a whole token is left;
// the caller then reports the response with Observe. It returns an error
// wrapping ErrUnknownRule or ErrInvalidKey, with a zero Decision, for a
// name not configured or a key that is empty or longer than MaxKeyLen.
func (l *Limiter) Allow(rule, key string) (Decision, error) {
	ri, r, err := l.lookup(rule, key)
	if err != nil {
		return Decision{}, err
	}
	now := l.now()
	s := l.shardFor(ri, key)
	s.mu.Lock()
	e := s.find(ri, key)
	var (
		b       bucket
		allowed bool
		retry   time.Duration
	)
	switch {
	case r.rule.Counts == CountResponses && e == nil:
		// A key not held has a full bucket; storing it would add nothing.
		s.mu.Unlock()
		return Decision{Allowed: true, Remaining: r.burst}, nil
	case r.rule.Counts == CountResponses:
		b, allowed, retry = peek(e.b, r.rate, r.burst, 1, now)
		e.b, e.ref = b, true
	case e == nil:
		b, allowed, retry = take(fullBucket(r.burst, now), r.rate, r.burst, 1, now)
		s.insert(l, ri, strings.Clone(key), b, now)
	default:
		b, allowed, retry = take(e.b, r.rate, r.burst, 1, now)
		e.b, e.ref = b, true
	}
	s.mu.Unlock()
	return Decision{Allowed: allowed, Remaining: max(b.tokens, 0), RetryAfter: retry}, nil
}

// Observe reports a response with status to a request with key under the
// rule named rule, which must count responses. When status is one of the
// rule's statuses it takes a token, even if none is left (requests that
// were in flight when the bucket emptied still count: the key then stays
// refused until the debt is refilled); other statuses change nothing. It
// returns an error wrapping ErrUnknownRule, ErrInvalidKey,
// ErrCountsRequests or ErrInvalid (a status outside 100..599).
func (l *Limiter) Observe(rule, key string, status int) error {
	ri, r, err := l.lookup(rule, key)
	if err != nil {
		return err
	}
	if r.rule.Counts != CountResponses {
		return fmt.Errorf("%w: %q", ErrCountsRequests, rule)
	}
	if status < 100 || status > 599 {
		return fmt.Errorf("%w: status %d is not an HTTP status (100..599)", ErrInvalid, status)
	}
	if !r.statuses.has(status) {
		return nil
	}
	now := l.now()
	s := l.shardFor(ri, key)
	s.mu.Lock()
	if e := s.find(ri, key); e != nil {
		e.b, e.ref = charge(e.b, r.rate, r.burst, 1, now), true
	} else {
		s.insert(l, ri, strings.Clone(key), charge(fullBucket(r.burst, now), r.rate, r.burst, 1, now), now)
	}
	s.mu.Unlock()
	return nil
}

// lookup returns the rule named rule and checks key.
func (l *Limiter) lookup(rule, key string) (uint32, *compiledRule, error) {
	ri, ok := l.byName[rule]
	if !ok {
		return 0, nil, fmt.Errorf("%w: %q", ErrUnknownRule, rule)
	}
	if err := CheckKey(key); err != nil {
		return 0, nil, err
	}
	return ri, &l.rules[ri], nil
}

// CheckKey returns an error wrapping ErrInvalidKey for a key that is
// empty or longer than MaxKeyLen bytes.
func CheckKey(key string) error {
	if key == "" || len(key) > MaxKeyLen {
		return fmt.Errorf("%w: %d bytes, want 1..%d", ErrInvalidKey, len(key), MaxKeyLen)
	}
	return nil
}

// now returns the current time in nanoseconds since the Limiter was made,
// on the monotonic clock when the Clock provides one.
func (l *Limiter) now() int64 { return int64(l.clock().Sub(l.epoch)) }

// shardFor returns the shard that holds key under rule ri.
func (l *Limiter) shardFor(ri uint32, key string) *shard {
	h := maphash.String(l.seed, key) ^ (uint64(ri)+1)*0x9e3779b97f4a7c15
	h ^= h >> 32
	return &l.shards[h&l.mask]
}
