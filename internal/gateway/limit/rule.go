// Package limit rate-limits the gateway's traffic per route rule and client
// key with token buckets.
//
// A Rule says how fast one key (an address, a /24, a fingerprint, a session
// or an account, computed by the caller) may go and what it counts: every
// request (CountRequests), or only the responses whose status is in a set
// (CountResponses), so that failed logins, declined payments or 404 scans
// are limited while successes are not. A Limiter holds the buckets of every
// rule in memory, in a bounded number of keys, and is safe for concurrent
// use.
//
// The bucket math is a set of pure functions over a two-number state (see
// bucket.go) so that a shared store, such as a Redis script, can apply the
// exact same arithmetic later.
package limit

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// Errors returned by this package; match them with errors.Is.
var (
	// ErrInvalid is wrapped by every error about an unacceptable Rule,
	// Config or argument (every *FieldError matches it).
	ErrInvalid = errors.New("limit: invalid")
	// ErrUnknownRule is returned when a rule name is not in the Limiter's
	// configuration.
	ErrUnknownRule = errors.New("limit: unknown rule")
	// ErrInvalidKey is returned for an empty key or one longer than
	// MaxKeyLen bytes.
	ErrInvalidKey = errors.New("limit: invalid key")
	// ErrCountsRequests is returned by Observe for a rule that counts
	// requests: its tokens are taken by Allow, and responses do not count.
	ErrCountsRequests = errors.New("limit: rule counts requests, not responses")
)

// Bounds that Validate and the Limiter enforce.
const (
	// MinRate is the slowest refill a rule may have, in tokens per second
	// (about one token every 11.6 days).
	MinRate = 1e-6
	// MaxRate is the fastest refill a rule may have, in tokens per second.
	MaxRate = 1e6
	// MaxBurst is the largest bucket a rule may have.
	MaxBurst = 1 << 30
	// MaxNameLen is the longest rule name, in bytes.
	MaxNameLen = 64
	// MaxKeyLen is the longest key Allow and Observe accept, in bytes; it
	// bounds the memory one key can hold (hash longer values first).
	MaxKeyLen = 256
)

// KeyKind names what a rule's key identifies. The caller computes the key
// value from the request; the kind documents what it is and lets the
// gateway pick the right extractor.
type KeyKind string

// The key kinds.
const (
	// KeyIP is the client address, e.g. "203.0.113.7".
	KeyIP KeyKind = "ip"
	// KeyIPPrefix is the client's network, e.g. "203.0.113.0/24".
	KeyIPPrefix KeyKind = "ip_prefix"
	// KeyFingerprint is a client fingerprint (TLS, HTTP or device).
	KeyFingerprint KeyKind = "fingerprint"
	// KeySession is the shop session the request carries.
	KeySession KeyKind = "session"
	// KeyAccount is the account the request is about, e.g. the login name.
	KeyAccount KeyKind = "account"
)

// KeyKinds lists every key kind.
var KeyKinds = []KeyKind{KeyIP, KeyIPPrefix, KeyFingerprint, KeySession, KeyAccount}

// Count says what consumes a rule's tokens.
type Count string

// The things a rule can count.
const (
	// CountRequests takes a token for every request, in Allow, before the
	// request is proxied; a request is refused when no whole token is left.
	CountRequests Count = "requests"
	// CountResponses takes a token for every response whose status is in
	// the rule's Statuses, in Observe; Allow only checks that a whole token
	// is left and takes nothing, so successes never use up the bucket.
	CountResponses Count = "responses"
)

// Rule is one rate limit: Burst events at once, refilled at Rate events per
// second, for each key of kind Key.
type Rule struct {
	// Name identifies the rule in Allow and Observe: 1 to MaxNameLen
	// characters from [A-Za-z0-9_.-].
	Name string
	// Key is the kind of key the rule is applied per.
	Key KeyKind
	// Rate is the refill rate in events per second, in MinRate..MaxRate
	// (20 per minute is 20.0/60).
	Rate float64
	// Burst is the bucket size: how many events a key may spend at once,
	// 1..MaxBurst. A key's bucket starts full.
	Burst int
	// Counts is what takes a token: CountRequests or CountResponses.
	Counts Count
	// Statuses are the HTTP statuses (100..599) that take a token when
	// Counts is CountResponses, e.g. 401 and 403 on a login route; required
	// then, and not allowed with CountRequests.
	Statuses []int
}

// FieldError is one problem with one field of a Rule or Config. Every
// FieldError matches ErrInvalid with errors.Is.
type FieldError struct {
	// Field is the field's name as in configuration, e.g. "rate" or
	// "rules[2].statuses".
	Field string
	// Message says what is wrong, in words an operator can act on.
	Message string
}

// Error returns "limit: field: message".
func (e *FieldError) Error() string { return "limit: " + e.Field + ": " + e.Message }

// Is reports whether target is ErrInvalid.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

// Validate returns nil when r is acceptable, or an error joining one
// *FieldError per problem found, in field order.
func (r Rule) Validate() error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	if msg := checkName(r.Name); msg != "" {
		add("name", "%s", msg)
	}
	if !slices.Contains(KeyKinds, r.Key) {
		add("key", "%q is not one of %v", r.Key, KeyKinds)
	}
	if math.IsNaN(r.Rate) || r.Rate < MinRate || r.Rate > MaxRate {
		add("rate", "%v events per second is outside %v..%v", r.Rate, MinRate, float64(MaxRate))
	}
	if r.Burst < 1 || r.Burst > MaxBurst {
		add("burst", "%d is outside 1..%d", r.Burst, MaxBurst)
	}
	switch r.Counts {
	case CountRequests:
		if len(r.Statuses) > 0 {
			add("statuses", "must be empty when counts is %q (statuses only select responses)", CountRequests)
		}
	case CountResponses:
		if len(r.Statuses) == 0 {
			add("statuses", "at least one status is required when counts is %q", CountResponses)
		}
		seen := make(map[int]bool, len(r.Statuses))
		for i, s := range r.Statuses {
			switch {
			case s < 100 || s > 599:
				add(fmt.Sprintf("statuses[%d]", i), "%d is not an HTTP status (100..599)", s)
			case seen[s]:
				add(fmt.Sprintf("statuses[%d]", i), "%d is listed twice", s)
			}
			seen[s] = true
		}
	default:
		add("counts", "%q is not %q or %q", r.Counts, CountRequests, CountResponses)
	}
	return errors.Join(errs...)
}

// checkName returns what is wrong with a rule name, or "".
func checkName(name string) string {
	if name == "" {
		return "is required"
	}
	if len(name) > MaxNameLen {
		return fmt.Sprintf("is %d bytes long, more than %d", len(name), MaxNameLen)
	}
	for _, c := range []byte(name) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return fmt.Sprintf("%q may only contain A-Z, a-z, 0-9, '_', '.' and '-'", name)
		}
	}
	return ""
}

// statusSet is a bitmap of the HTTP statuses 0..639.
type statusSet [10]uint64

// newStatusSet returns the set of statuses; each must be in 100..599.
func newStatusSet(statuses []int) statusSet {
	var s statusSet
	for _, st := range statuses {
		s[st>>6] |= 1 << (st & 63)
	}
	return s
}

// has reports whether status is in s.
func (s *statusSet) has(status int) bool {
	if status < 0 || status >= len(s)*64 {
		return false
	}
	return s[status>>6]&(1<<(status&63)) != 0
}
