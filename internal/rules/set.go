package rules

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/expr-lang/expr/vm"

	"github.com/shopguard/shopguard/internal/risk"
)

// memoryBudget bounds what one expression run may allocate inside the VM
// (in expr's units: array and map elements, range lengths). Rules over
// scalar fields never come near it; it stops a rule like
// `len(map(1..1000000, #)) > 0` from hurting the service.
const memoryBudget = 100_000

// maxRenderedValue is the length at which a rendered placeholder value is
// cut (with an ellipsis), so that reasons stay readable.
const maxRenderedValue = 200

// Set is an immutable, compiled rule set. It is safe for concurrent use.
type Set struct {
	version int64
	rules   []Rule // normalized copies; Match.Rule points in here
	kinds   map[risk.EventKind]*kindRules
	lists   []string  // names of the lists in_list calls refer to, sorted
	vms     sync.Pool // of *vm.VM, reused across evaluations
}

// kindRules are the rules to evaluate for one event kind.
type kindRules struct {
	envType reflect.Type
	// byValue is set when envType is a pointer to a struct whose methods
	// all have value receivers (the copy has them too): Evaluate then runs
	// the programs on one copy of the struct, because expr reads the fields
	// of a non-addressable struct without allocating, while every field
	// read through a pointer allocates a copy.
	byValue bool
	rules   []*compiledRule
}

func newKindRules(proto any) *kindRules {
	t := reflect.TypeOf(proto)
	return &kindRules{envType: t, byValue: byValue(t)}
}

// byValue reports whether environments of type t are evaluated by value
// (see kindRules.byValue).
func byValue(t reflect.Type) bool {
	return t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct && t.NumMethod() == t.Elem().NumMethod()
}

// compiledRule is one enabled rule with its programs.
type compiledRule struct {
	rule    *Rule
	program *vm.Program
	message []segment
}

// segment is a literal part of a description or a placeholder program.
type segment struct {
	text    string
	program *vm.Program
}

// Version returns the version given to Compile.
func (s *Set) Version() int64 { return s.version }

// Rules returns a copy of the rules in the order given to Compile, with
// empty modes set to ModeActive.
func (s *Set) Rules() []Rule {
	out := make([]Rule, len(s.rules))
	copy(out, s.rules)
	return out
}

// ReferencedLists returns the sorted names of the lists that the set's
// rules (disabled ones included) pass to in_list, e.g. to refuse deleting a
// list still in use.
func (s *Set) ReferencedLists() []string {
	out := make([]string, len(s.lists))
	copy(out, s.lists)
	return out
}

// Match is a rule that matched an event.
type Match struct {
	// Rule points into the Set; it must not be modified.
	Rule *Rule
	// Message is the rule's description with its placeholders rendered.
	Message string
}

// EvalError is a failure to evaluate one rule (or one of its placeholders)
// on one event. Type checking makes them rare; they never stop the other
// rules.
type EvalError struct {
	// Rule is the failing rule's name ("" for a problem with the whole call).
	Rule string
	// Field is "expression" or "description".
	Field string
	// Err is the underlying error.
	Err error
}

// Error returns e.g. `rules: rule "x" expression: runtime error ...`.
func (e EvalError) Error() string {
	if e.Rule == "" {
		return e.Err.Error()
	}
	return fmt.Sprintf("rules: rule %q %s: %v", e.Rule, e.Field, e.Err)
}

// Unwrap returns Err.
func (e EvalError) Unwrap() error { return e.Err }

// Result collects what Evaluate found. Reuse one Result per goroutine to
// avoid allocations.
type Result struct {
	// Active are the matches of active rules, in rule order.
	Active []Match
	// Shadow are the matches of shadow rules, in rule order.
	Shadow []Match
	// Errors are the rules that failed to evaluate.
	Errors []EvalError
}

// Reset empties r, keeping its capacity.
func (r *Result) Reset() {
	clear(r.Active)
	clear(r.Shadow)
	clear(r.Errors)
	r.Active, r.Shadow, r.Errors = r.Active[:0], r.Shadow[:0], r.Errors[:0]
}

// Evaluate resets res and runs every enabled rule of kind against env,
// which must be of the type of the kind's prototype in the Schemas given to
// Compile (otherwise, or for a nil pointer, res gets one EvalError wrapping
// ErrEnv). Descriptions are rendered for matches only. A rule that fails is
// recorded in res.Errors and the others still run. A nil Set or a kind
// without rules leaves res empty; res must not be nil. Evaluate is safe
// for concurrent use. When nothing matches it allocates only one copy of
// the environment struct, plus whatever expr boxes while computing (float
// arithmetic results, for instance).
func (s *Set) Evaluate(kind risk.EventKind, env any, res *Result) {
	res.Reset()
	if s == nil {
		return
	}
	kr := s.kinds[kind]
	if kr == nil || len(kr.rules) == 0 {
		return
	}
	if t := reflect.TypeOf(env); t != kr.envType {
		res.Errors = append(res.Errors, EvalError{Err: fmt.Errorf("%w: %s rules need a %v environment, got %T", ErrEnv, kind, kr.envType, env)})
		return
	}
	if v := reflect.ValueOf(env); v.Kind() == reflect.Pointer {
		if v.IsNil() {
			res.Errors = append(res.Errors, EvalError{Err: fmt.Errorf("%w: %s environment is a nil %T", ErrEnv, kind, env)})
			return
		}
		if kr.byValue {
			env = v.Elem().Interface()
		}
	}
	m := s.vms.Get().(*vm.VM)
	defer s.vms.Put(m)
	for _, cr := range kr.rules {
		out, err := m.Run(cr.program, env)
		if err != nil {
			res.Errors = append(res.Errors, EvalError{Rule: cr.rule.Name, Field: "expression", Err: err})
			continue
		}
		matched, ok := out.(bool)
		if !ok {
			res.Errors = append(res.Errors, EvalError{Rule: cr.rule.Name, Field: "expression",
				Err: fmt.Errorf("%w: expression returned %T, not bool", ErrInvalid, out)})
			continue
		}
		if !matched {
			continue
		}
		match := Match{Rule: cr.rule, Message: render(m, cr, env, res)}
		if cr.rule.Mode == ModeShadow {
			res.Shadow = append(res.Shadow, match)
		} else {
			res.Active = append(res.Active, match)
		}
	}
}

// render returns cr's description with its placeholders evaluated on env;
// a placeholder that fails renders as "?" and is recorded in res.Errors.
func render(m *vm.VM, cr *compiledRule, env any, res *Result) string {
	if len(cr.message) == 1 && cr.message[0].program == nil {
		return cr.message[0].text
	}
	var b strings.Builder
	for _, seg := range cr.message {
		if seg.program == nil {
			b.WriteString(seg.text)
			continue
		}
		out, err := m.Run(seg.program, env)
		if err != nil {
			res.Errors = append(res.Errors, EvalError{Rule: cr.rule.Name, Field: "description", Err: err})
			b.WriteString("?")
			continue
		}
		b.WriteString(truncate(formatValue(out), maxRenderedValue))
	}
	return b.String()
}

// formatValue renders a placeholder value compactly: integers in decimal,
// floats with at most 3 decimals (whole floats without any), durations and
// times in their usual forms, slices element by element.
func formatValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "none"
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return formatFloat(v)
	case float32:
		return formatFloat(float64(v))
	case time.Duration:
		return v.String()
	case time.Time:
		return v.Format(time.RFC3339)
	case fmt.Stringer:
		return v.String()
	case error:
		return v.Error()
	}
	rv := reflect.ValueOf(v)
	switch {
	case rv.CanInt():
		return strconv.FormatInt(rv.Int(), 10)
	case rv.CanUint():
		return strconv.FormatUint(rv.Uint(), 10)
	case rv.CanFloat():
		return formatFloat(rv.Float())
	case rv.Kind() == reflect.String:
		return rv.String()
	case rv.Kind() == reflect.Bool:
		return strconv.FormatBool(rv.Bool())
	case rv.Kind() == reflect.Slice || rv.Kind() == reflect.Array:
		var b strings.Builder
		b.WriteByte('[')
		for i := 0; i < rv.Len() && b.Len() <= maxRenderedValue; i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(formatValue(rv.Index(i).Interface()))
		}
		b.WriteByte(']')
		return b.String()
	}
	return fmt.Sprint(v)
}

// formatFloat renders f with at most 3 decimals, trailing zeros removed;
// whole numbers have no decimals; very small or large magnitudes use
// 3 significant digits in exponent form.
func formatFloat(f float64) string {
	a := math.Abs(f)
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0):
		return strconv.FormatFloat(f, 'g', -1, 64)
	case a < 1e15 && f == math.Trunc(f):
		return strconv.FormatInt(int64(f), 10)
	case a >= 1e-3 && a < 1e15:
		s := strconv.FormatFloat(f, 'f', 3, 64)
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
		if s == "-0" {
			s = "0"
		}
		return s
	}
	return strconv.FormatFloat(f, 'g', 3, 64)
}

// truncate cuts s to at most n bytes on a rune boundary, adding "…" when cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
