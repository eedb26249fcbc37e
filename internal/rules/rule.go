// Package rules holds the operator rule language and the allow/block lists.
//
// A Rule is a boolean expression in the expr language
// (github.com/expr-lang/expr) over the environment of one event kind: the
// event's fields, its features and its model scores. Compile type-checks a
// tenant's rules against the prototype environment of each kind (Schemas) and
// returns a Set that evaluates them cheaply, many times, concurrently.
// Rules can set an action or add score points, and run in active, shadow or
// disabled mode.
//
// Lists are named sets of normalized entries (users, emails, IPs and CIDR
// prefixes, card fingerprints, BINs, countries, ...). Lists is an immutable
// snapshot, updated copy-on-write; rules reach it through the in_list
// function, and a list's Effect applies directly to the event's entities
// through Lists.Match.
package rules

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/shopguard/shopguard/internal/risk"
)

// Limits on the size of a rule's text fields.
const (
	// MaxExpressionLen is the maximum length of a rule expression in characters.
	MaxExpressionLen = 4000
	// MaxDescriptionLen is the maximum length of a rule or list description in characters.
	MaxDescriptionLen = 500
	// MaxScore is the largest magnitude of a rule's score points.
	MaxScore = 100
	// maxNameLen is the maximum length of a rule or list name.
	maxNameLen = 64
)

// ErrInvalid is wrapped by the compile, entry and list errors of this
// package; it wraps risk.ErrInvalid, which FieldError wraps too, so
// errors.Is(err, risk.ErrInvalid) holds for every validation or compile
// error here and callers map them all to a 4xx response.
var ErrInvalid = fmt.Errorf("rules: %w", risk.ErrInvalid)

// ErrCardNumber is wrapped (together with ErrInvalid) by NormalizeEntry when
// a value looks like a real card number: shopguard never stores one.
var ErrCardNumber = fmt.Errorf("%w: looks like a card number", ErrInvalid)

// ErrEnv is wrapped by the EvalError that Set.Evaluate records when it is
// given an environment of the wrong type or a nil pointer.
var ErrEnv = errors.New("rules: bad environment")

// Mode says whether a rule's matches count.
type Mode string

// The rule modes.
const (
	// ModeActive rules change the assessment when they match.
	ModeActive Mode = "active"
	// ModeShadow rules are evaluated and their matches reported, but they
	// never change the score or the action.
	ModeShadow Mode = "shadow"
	// ModeDisabled rules are validated and kept but never evaluated.
	ModeDisabled Mode = "disabled"
)

// Valid reports whether m is one of the three modes; the empty mode is not
// valid here (Rule treats it as ModeActive).
func (m Mode) Valid() bool {
	return m == ModeActive || m == ModeShadow || m == ModeDisabled
}

// Rule is one operator rule. Exactly one of Action and Score is set.
type Rule struct {
	// Name identifies the rule within the tenant: [a-z0-9][a-z0-9_-]{0,63}.
	Name string `json:"name"`
	// Kind is the event kind whose environment the rule runs on.
	Kind risk.EventKind `json:"kind"`
	// Expression is a boolean expr-lang expression; it may call
	// in_list("list-name", value).
	Expression string `json:"expression"`
	// Action is the action demanded when the rule matches.
	Action risk.Action `json:"action,omitempty"`
	// Score is the number of score points added when the rule matches,
	// -100..100 and non-zero.
	Score int `json:"score,omitempty"`
	// Description is the reason text shown when the rule matches. It may
	// contain {{ expression }} placeholders, rendered against the same
	// environment; an empty description renders as "rule <name> matched".
	Description string `json:"description"`
	// Mode is active, shadow or disabled; empty means active.
	Mode Mode `json:"mode"`
}

// EffectiveMode returns r.Mode, or ModeActive when it is empty.
func (r Rule) EffectiveMode() Mode {
	if r.Mode == "" {
		return ModeActive
	}
	return r.Mode
}

// Schemas maps each event kind to a prototype environment: a pointer to a
// struct (a typed nil pointer will do) whose fields, named by `expr:"name"`
// tags and possibly nested structs, are what rules of that kind may read.
// Set.Evaluate must be given values of exactly the prototype's type.
type Schemas map[risk.EventKind]any

// FieldError is a problem with one field of a rule or list: the same
// type as every other input's field errors, so transports map them alike.
// It wraps risk.ErrInvalid.
type FieldError = risk.FieldError

// fieldError returns a FieldError with code "invalid_field".
func fieldError(field, msg string) *FieldError {
	return &FieldError{Field: field, Code: "invalid_field", Message: msg}
}

// Validate checks every field of r that can be checked without compiling
// the expression: the name, the kind (which must have a schema), that
// exactly one of action and score is set and in range, the mode, and the
// lengths of expression and description. It returns nil or one *FieldError
// per problem, joined with errors.Join.
func (r Rule) Validate(schemas Schemas) error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, fieldError(field, fmt.Sprintf(format, args...)))
	}
	if msg := checkName(r.Name); msg != "" {
		add("name", "%s", msg)
	}
	switch proto, ok := schemas[r.Kind]; {
	case r.Kind == "":
		add("kind", "is required")
	case !ok || proto == nil:
		add("kind", "event kind %q has no rule environment", r.Kind)
	}
	switch {
	case r.Action != "" && r.Score != 0:
		add("score", "set either action or score, not both")
	case r.Action == "" && r.Score == 0:
		add("action", "set either action or a non-zero score")
	case r.Action != "" && !r.Action.Valid():
		add("action", "%q is not one of allow, review, challenge, block", r.Action)
	case r.Score < -MaxScore || r.Score > MaxScore:
		add("score", "%d is outside -%d..%d", r.Score, MaxScore, MaxScore)
	}
	if r.Mode != "" && !r.Mode.Valid() {
		add("mode", "%q is not one of active, shadow, disabled", r.Mode)
	}
	switch {
	case strings.TrimSpace(r.Expression) == "":
		add("expression", "is required")
	case !utf8.ValidString(r.Expression):
		add("expression", "is not valid UTF-8")
	case utf8.RuneCountInString(r.Expression) > MaxExpressionLen:
		add("expression", "is longer than %d characters", MaxExpressionLen)
	}
	switch {
	case !utf8.ValidString(r.Description):
		add("description", "is not valid UTF-8")
	case utf8.RuneCountInString(r.Description) > MaxDescriptionLen:
		add("description", "is longer than %d characters", MaxDescriptionLen)
	}
	return errors.Join(errs...)
}

// ValidName reports whether name is a valid rule or list name:
// [a-z0-9][a-z0-9_-]* of at most 64 characters.
func ValidName(name string) bool { return checkName(name) == "" }

// checkName returns why name is not a valid rule or list name, or "".
func checkName(name string) string {
	if name == "" {
		return "is required"
	}
	if len(name) > maxNameLen {
		return fmt.Sprintf("is longer than %d characters", maxNameLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case (c == '_' || c == '-') && i > 0:
		default:
			return fmt.Sprintf("%q must start with a lowercase letter or digit and contain only a-z, 0-9, _ and -", name)
		}
	}
	return ""
}
