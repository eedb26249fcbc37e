// Package risk holds shopguard's core vocabulary: the actions a decision can
// take, the assessment every capability produces, the reasons that explain
// it, and the kinds of entities and events the engine reasons about.
//
// The package has no internal imports: every other package may depend on it.
package risk

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ErrInvalid is wrapped by every parse and validation error in this package.
var ErrInvalid = errors.New("risk: invalid value")

// Action is what the caller should do with the event that was assessed.
// Actions are ordered by severity: allow < review < challenge < block.
type Action string

// The actions a decision can take.
const (
	// ActionAllow lets the event through.
	ActionAllow Action = "allow"
	// ActionReview lets the event proceed but holds it (an order, a post)
	// until an analyst looks at it.
	ActionReview Action = "review"
	// ActionChallenge asks the customer for a step-up proof (3-D Secure,
	// passkey, TOTP) before the event goes through.
	ActionChallenge Action = "challenge"
	// ActionBlock refuses the event.
	ActionBlock Action = "block"
)

// Actions lists every action in order of increasing severity.
var Actions = []Action{ActionAllow, ActionReview, ActionChallenge, ActionBlock}

// ParseAction returns the action named s, or an error wrapping ErrInvalid.
func ParseAction(s string) (Action, error) {
	a := Action(s)
	if a.Valid() {
		return a, nil
	}
	return "", fmt.Errorf("%w: action %q is not one of allow, review, challenge, block", ErrInvalid, s)
}

// Valid reports whether a is one of the four actions.
func (a Action) Valid() bool {
	return a.Severity() >= 0
}

// Severity returns 0 for allow up to 3 for block, and -1 for an unknown action.
func (a Action) Severity() int {
	switch a {
	case ActionAllow:
		return 0
	case ActionReview:
		return 1
	case ActionChallenge:
		return 2
	case ActionBlock:
		return 3
	}
	return -1
}

// Max returns the more severe of a and b.
func Max(a, b Action) Action {
	if b.Severity() > a.Severity() {
		return b
	}
	return a
}

// Reason explains part of an assessment in words an analyst understands.
type Reason struct {
	// Code identifies the source of the reason, e.g. "rule:card_testing",
	// "list:blocked-ips" or "model:amount".
	Code string `json:"code"`
	// Message is the human sentence, e.g. "card seen on 6 devices in 24h".
	Message string `json:"message"`
	// Weight is the number of score points this reason contributed
	// (negative when it lowered the score; 0 for reasons that set an action).
	Weight float64 `json:"weight"`
	// Action is the action this reason demanded, if any.
	Action Action `json:"action,omitempty"`
}

// Assessment is the outcome of assessing one event.
type Assessment struct {
	// Score is the risk score from 0 (no risk seen) to 100.
	Score int `json:"score"`
	// Action is the action the caller should take.
	Action Action `json:"action"`
	// Reasons explain the score and the action, most important first.
	Reasons []Reason `json:"reasons"`
	// Shadow lists what shadow-mode rules would have contributed; they never
	// change Score or Action.
	Shadow []Reason `json:"shadow,omitempty"`
	// RulesVersion is the version of the tenant's rule set that was applied.
	RulesVersion int64 `json:"rules_version"`
	// ModelVersion names the model that scored the event ("" for none).
	ModelVersion string `json:"model_version"`
}

// ClampScore limits s to the range 0..100 and rounds it to an integer.
func ClampScore(s float64) int {
	switch {
	case s != s: // NaN
		return 0
	case s <= 0:
		return 0
	case s >= 100:
		return 100
	}
	return int(s + 0.5)
}

// Thresholds maps a score to an action: a score at or above Block blocks,
// at or above Challenge challenges, at or above Review reviews, and anything
// lower is allowed. A threshold of 101 disables that action.
type Thresholds struct {
	Review    int `koanf:"review" json:"review"`
	Challenge int `koanf:"challenge" json:"challenge"`
	Block     int `koanf:"block" json:"block"`
}

// Action returns the action for score.
func (t Thresholds) Action(score int) Action {
	switch {
	case score >= t.Block:
		return ActionBlock
	case score >= t.Challenge:
		return ActionChallenge
	case score >= t.Review:
		return ActionReview
	}
	return ActionAllow
}

// Validate reports whether every threshold lies in 1..101 and
// review <= challenge <= block.
func (t Thresholds) Validate() error {
	var errs []error
	for _, f := range []struct {
		name string
		v    int
	}{{"review", t.Review}, {"challenge", t.Challenge}, {"block", t.Block}} {
		if f.v < 1 || f.v > 101 {
			errs = append(errs, fmt.Errorf("%w: %s threshold %d is outside 1..101 (101 disables it)", ErrInvalid, f.name, f.v))
		}
	}
	if t.Review > t.Challenge || t.Challenge > t.Block {
		errs = append(errs, fmt.Errorf("%w: thresholds must satisfy review (%d) <= challenge (%d) <= block (%d)", ErrInvalid, t.Review, t.Challenge, t.Block))
	}
	return errors.Join(errs...)
}

// EntityKind names a kind of thing the engine keeps history about.
type EntityKind string

// The entity kinds.
const (
	EntityUser        EntityKind = "user"
	EntityIP          EntityKind = "ip"
	EntityIPPrefix    EntityKind = "ip_prefix"
	EntityDevice      EntityKind = "device"
	EntityEmail       EntityKind = "email"
	EntityEmailDomain EntityKind = "email_domain"
	EntityCard        EntityKind = "card"
	EntityAddress     EntityKind = "address"
	EntitySession     EntityKind = "session"
	EntityMerchant    EntityKind = "merchant"
)

// EntityKinds lists every entity kind.
var EntityKinds = []EntityKind{
	EntityUser, EntityIP, EntityIPPrefix, EntityDevice, EntityEmail,
	EntityEmailDomain, EntityCard, EntityAddress, EntitySession, EntityMerchant,
}

// ParseEntityKind returns the entity kind named s, or an error wrapping ErrInvalid.
func ParseEntityKind(s string) (EntityKind, error) { return parseName("entity kind", s, EntityKinds) }

// parseName returns the member of all named s, or an error wrapping
// ErrInvalid that lists the names.
func parseName[T ~string](what, s string, all []T) (T, error) {
	for _, v := range all {
		if string(v) == s {
			return v, nil
		}
	}
	names := make([]string, len(all))
	for i, v := range all {
		names[i] = string(v)
	}
	return "", fmt.Errorf("%w: %s %q is not one of %s", ErrInvalid, what, s, strings.Join(names, ", "))
}

// Entity is one concrete thing an event involves, e.g. the card with a given
// fingerprint or the IP address 203.0.113.7.
type Entity struct {
	Kind  EntityKind `json:"kind"`
	Value string     `json:"value"`
}

// String returns "kind:value".
func (e Entity) String() string { return string(e.Kind) + ":" + e.Value }

// EventKind names a kind of event that the engine assesses.
type EventKind string

// The event kinds. Capabilities add theirs as they land.
const (
	EventTransaction EventKind = "transaction"
	EventLogin       EventKind = "login"
	EventSignup      EventKind = "signup"
	EventContent     EventKind = "content"
	EventMessage     EventKind = "message"
)

// EventKinds lists every event kind the engine knows.
var EventKinds = []EventKind{EventTransaction, EventLogin, EventSignup, EventContent, EventMessage}

// ParseEventKind returns the event kind named s, or an error wrapping ErrInvalid.
func ParseEventKind(s string) (EventKind, error) { return parseName("event kind", s, EventKinds) }

// Label is an outcome learned after the fact about an event: the feedback
// that later training and backtests read.
type Label string

// The labels.
const (
	LabelFraud           Label = "fraud"
	LabelChargeback      Label = "chargeback"
	LabelAccountTakeover Label = "account_takeover"
	LabelSpam            Label = "spam"
	LabelAbuse           Label = "abuse"
	LabelLegit           Label = "legit"
	LabelFalsePositive   Label = "false_positive"
)

// Labels lists every label.
var Labels = []Label{LabelFraud, LabelChargeback, LabelAccountTakeover, LabelSpam, LabelAbuse, LabelLegit, LabelFalsePositive}

// ParseLabel returns the label named s, or an error wrapping ErrInvalid.
func ParseLabel(s string) (Label, error) { return parseName("label", s, Labels) }

// Bad reports whether the label marks the event as an attack (fraud,
// chargeback, account takeover, spam, abuse) rather than as legitimate.
func (l Label) Bad() bool {
	switch l {
	case LabelLegit, LabelFalsePositive:
		return false
	}
	return true
}

// FieldError reports that one field of an input is missing or invalid. It
// unwraps to ErrInvalid. Validators return several joined with errors.Join.
type FieldError struct {
	// Field is the field's path in the input, e.g. "payment.bin" or "items[2].quantity".
	Field string
	// Code is a machine-readable kind of problem: "missing_field", "invalid_field" or "unknown_field".
	Code string
	// Message says what is wrong in words.
	Message string
}

// Error returns "field: message".
func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// Unwrap returns ErrInvalid.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// Invalid returns a FieldError with code "invalid_field".
func Invalid(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Code: "invalid_field", Message: fmt.Sprintf(format, args...)}
}

// Missing returns a FieldError with code "missing_field".
func Missing(field string) *FieldError {
	return &FieldError{Field: field, Code: "missing_field", Message: "is required"}
}

// Earliest is the earliest event time accepted anywhere (2000-01-01 UTC).
var Earliest = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// ParseTimestamp parses an RFC 3339 timestamp field, truncated to
// microseconds in UTC; "" is Missing when required, else the zero time.
func ParseTimestamp(field, v string, required bool) (time.Time, *FieldError) {
	if v == "" {
		if required {
			return time.Time{}, Missing(field)
		}
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, Invalid(field, "%q is not an RFC 3339 timestamp like 2026-03-01T12:00:00Z", v)
	}
	if t.Before(Earliest) {
		return time.Time{}, Invalid(field, "lies before 2000-01-01")
	}
	return t.UTC().Truncate(time.Microsecond), nil
}

// ParseIP parses an IPv4 or IPv6 address field (no zone), IPv4-mapped
// addresses unmapped; "" is Missing when required, else the zero Addr.
func ParseIP(field, v string, required bool) (netip.Addr, *FieldError) {
	if v == "" {
		if required {
			return netip.Addr{}, Missing(field)
		}
		return netip.Addr{}, nil
	}
	ip, err := netip.ParseAddr(v)
	if err != nil || ip.Zone() != "" {
		return netip.Addr{}, Invalid(field, "%q is not an IPv4 or IPv6 address", v)
	}
	return ip.Unmap(), nil
}

// IPPrefix returns the network an address belongs to for counting: its
// /24 (IPv4) or /48 (IPv6), "" for the zero Addr.
func IPPrefix(ip netip.Addr) string {
	if !ip.IsValid() {
		return ""
	}
	bits := 48
	if ip.Is4() {
		bits = 24
	}
	p, _ := ip.Prefix(bits)
	return p.String()
}

// CheckEmail checks an e-mail address field (already trimmed and
// lower-cased by the caller): at most 254 bytes, one local part and a
// dotted domain, no spaces or characters mail systems reject. "" is fine.
func CheckEmail(field, v string) *FieldError {
	if v == "" {
		return nil
	}
	if e := CheckText(field, v, 254); e != nil {
		return e
	}
	at := strings.LastIndexByte(v, '@')
	if at < 1 || at == len(v)-1 || strings.ContainsAny(v, " \t<>()[],;:\\\"") ||
		!strings.Contains(v[at+1:], ".") || strings.HasPrefix(v[at+1:], ".") || strings.HasSuffix(v, ".") {
		return Invalid(field, "%q is not an e-mail address", v)
	}
	return nil
}

// CheckText checks a free-text field: valid UTF-8, no control characters
// and at most max bytes. It returns nil when the text is fine (or empty).
func CheckText(field, v string, max int) *FieldError {
	if len(v) > max {
		return Invalid(field, "is %d bytes long; at most %d are accepted", len(v), max)
	}
	if !utf8.ValidString(v) {
		return Invalid(field, "is not valid UTF-8")
	}
	for _, r := range v {
		if unicode.IsControl(r) {
			return Invalid(field, "contains a control character")
		}
	}
	return nil
}

// LooksLikeCardNumber reports whether s, ignoring spaces, hyphens and dots,
// is 13 to 19 digits passing the Luhn check: a primary account number,
// which shopguard never accepts or stores.
func LooksLikeCardNumber(s string) bool {
	n, sum := 0, 0
	for i := len(s) - 1; i >= 0; i-- {
		c := s[i]
		switch {
		case c == ' ' || c == '-' || c == '.':
			continue
		case c < '0' || c > '9':
			return false
		}
		d := int(c - '0')
		if n%2 == 1 { // every second digit from the right is doubled
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		n++
	}
	return n >= 13 && n <= 19 && sum%10 == 0
}

// FieldErrors returns every FieldError inside err (following errors.Join
// trees and %w chains), in order.
func FieldErrors(err error) []*FieldError {
	var out []*FieldError
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case nil:
		case *FieldError:
			out = append(out, e)
		case interface{ Unwrap() []error }:
			for _, x := range e.Unwrap() {
				walk(x)
			}
		case interface{ Unwrap() error }:
			walk(e.Unwrap())
		}
	}
	walk(err)
	return out
}

// StepUp is the step-up a challenge decision asks for: the customer to
// challenge and the action they approve (see authn.Action).
type StepUp struct {
	UserID      string
	Type        string
	Description string
	AmountMinor int64
	Currency    string
	Reference   string
	// DeviceID is the shop's id of the device the customer is on, if
	// known: a passed challenge can remember it.
	DeviceID string
}
