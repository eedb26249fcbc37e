package rules

import (
	"errors"
	"flag"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/shopguard/shopguard/internal/risk"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// scoreRule returns a valid transaction rule with the given expression.
func scoreRule(name, expression string) Rule {
	return Rule{Name: name, Kind: risk.EventTransaction, Expression: expression, Score: 10, Description: "matched"}
}

// compileErrors compiles rs and returns its CompileErrors (nil on success).
func compileErrors(t *testing.T, rs []Rule, lists ListSource) CompileErrors {
	t.Helper()
	set, err := Compile(7, rs, testSchemas(), lists)
	if err == nil {
		if set == nil {
			t.Fatal("Compile returned neither a Set nor an error")
		}
		return nil
	}
	if set != nil {
		t.Fatal("Compile returned both a Set and an error")
	}
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("error does not wrap ErrInvalid: %v", err)
	}
	var ces CompileErrors
	if !errors.As(err, &ces) || len(ces) == 0 {
		t.Fatalf("error is not a non-empty CompileErrors: %v", err)
	}
	return ces
}

func TestCompileValid(t *testing.T) {
	tests := []struct {
		name string
		rule Rule
	}{
		{"comparison", scoreRule("r", "amount_minor > 100")},
		{"nested feature", scoreRule("r", "features.card.count_1h >= 5 && ratio > 2.5")},
		{"string ops", scoreRule("r", `user.email endsWith "@example.com" || currency in ["EUR", "USD"]`)},
		{"multi-line", scoreRule("r", "amount_minor > 100\n  && currency == \"EUR\"")},
		{"in_list with string", scoreRule("r", `in_list("blocked-ips", ip)`)},
		{"in_list with int", scoreRule("r", `in_list("bad-bins", bin)`)},
		{"in_list with any", scoreRule("r", `in_list("bad-bins", extra)`)},
		{"placeholders of any type", Rule{Name: "r", Kind: risk.EventTransaction, Expression: "true", Action: risk.ActionReview,
			Description: "{{ amount_minor }} {{ ratio * 2 }} {{ user }} {{ tags }} {{ in_list(\"bad-bins\", bin) }}"}},
		{"login kind", Rule{Name: "r", Kind: risk.EventLogin, Expression: "failures > 5", Action: risk.ActionChallenge}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if ces := compileErrors(t, []Rule{tt.rule}, testLists(t)); ces != nil {
				t.Fatal(ces)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name  string
		rules []Rule
		lists bool // whether the ListSource is testLists (else nil)
		want  []CompileError
	}{
		{"syntax error", []Rule{scoreRule("r", "amount_minor >")}, true,
			[]CompileError{{Rule: "r", Field: "expression", Line: 1, Column: 14, Message: "unexpected token EOF"}}},
		{"syntax error on line 2", []Rule{scoreRule("r", "amount_minor > 1 &&\n  (ratio > ")}, true,
			[]CompileError{{Rule: "r", Field: "expression", Line: 2, Column: 11, Message: "unexpected token EOF"}}},
		{"unknown field", []Rule{scoreRule("r", "amount_minor > 1 &&\n  features.card.count_2h > 3")}, true,
			[]CompileError{{Rule: "r", Field: "expression", Line: 2, Column: 17, Message: "type rules.testCardFeatures has no field count_2h"}}},
		{"unknown name", []Rule{scoreRule("r", "amount > 1")}, true,
			[]CompileError{{Rule: "r", Field: "expression", Line: 1, Column: 1, Message: "unknown name amount"}}},
		{"non-bool result", []Rule{scoreRule("r", "amount_minor + 1")}, true,
			[]CompileError{{Rule: "r", Field: "expression", Message: "expected bool, but got int"}}},
		{"string > int", []Rule{scoreRule("r", `currency > 5`)}, true,
			[]CompileError{{Rule: "r", Field: "expression", Line: 1, Column: 10, Message: "invalid operation: > (mismatched types string and int)"}}},
		{"unknown list", []Rule{scoreRule("r", `amount_minor > 1 && in_list("nope", ip)`)}, true,
			[]CompileError{{Rule: "r", Field: "expression", Line: 1, Column: 29, Message: `in_list: unknown list "nope"`}}},
		{"in_list without lists", []Rule{scoreRule("r", `in_list("blocked-ips", ip)`)}, false,
			[]CompileError{{Rule: "r", Field: "expression", Line: 1, Column: 9, Message: `in_list: unknown list "blocked-ips" (no lists are defined)`}}},
		{"non-literal list name", []Rule{scoreRule("r", `in_list("blocked-" + "ips", ip)`)}, true,
			[]CompileError{{Rule: "r", Field: "expression", Line: 1, Column: 9, Message: `in_list: the list name must be a string literal, e.g. in_list("blocked-ips", ip)`}}},
		{"list name from a field", []Rule{scoreRule("r", `in_list(currency, ip)`)}, true,
			[]CompileError{{Rule: "r", Field: "expression", Line: 1, Column: 9, Message: `in_list: the list name must be a string literal, e.g. in_list("blocked-ips", ip)`}}},
		{"in_list float value", []Rule{scoreRule("r", `in_list("blocked-ips", ratio)`)}, true,
			[]CompileError{{Rule: "r", Field: "expression", Line: 1, Column: 24, Message: "in_list: the value must be a string or an integer, not float64"}}},
		{"in_list arity", []Rule{scoreRule("r", `in_list("blocked-ips")`)}, true,
			[]CompileError{{Rule: "r", Field: "expression", Line: 1, Column: 1, Message: `in_list takes two arguments, a list name and a value, e.g. in_list("blocked-ips", ip)`}}},
		{"in_list not called", []Rule{scoreRule("r", `in_list != nil`)}, true,
			[]CompileError{{Rule: "r", Field: "expression", Line: 1, Column: 1, Message: `in_list can only be called, e.g. in_list("blocked-ips", ip)`}}},
		{"two list problems and a type error", []Rule{scoreRule("r", `in_list("x", ip) || in_list("y", ip) || nope`)}, true,
			[]CompileError{
				{Rule: "r", Field: "expression", Line: 1, Column: 9, Message: `in_list: unknown list "x"`},
				{Rule: "r", Field: "expression", Line: 1, Column: 29, Message: `in_list: unknown list "y"`},
				{Rule: "r", Field: "expression", Line: 1, Column: 41, Message: "unknown name nope"},
			}},
		{"duplicate names", []Rule{scoreRule("r", "true"), scoreRule("s", "true"), scoreRule("r", "false")}, true,
			[]CompileError{{Rule: "r", Index: 2, Field: "name", Message: "duplicate rule name (also used by rule #0)"}}},
		{"action and score", []Rule{{Name: "r", Kind: risk.EventTransaction, Expression: "true", Score: 5, Action: risk.ActionBlock}}, true,
			[]CompileError{{Rule: "r", Field: "score", Message: "set either action or score, not both"}}},
		{"unknown kind skips type checks", []Rule{{Name: "r", Kind: "refund", Expression: "nope", Score: 5}}, true,
			[]CompileError{{Rule: "r", Field: "kind", Message: `event kind "refund" has no rule environment`}}},
		{"placeholder unknown field", []Rule{{Name: "r", Kind: risk.EventTransaction, Expression: "true", Score: 5,
			Description: "line one\nsaw {{ ratio }} and {{ user.phone }}"}}, true,
			[]CompileError{{Rule: "r", Field: "description", Line: 2, Column: 29, Message: "type rules.testUser has no field phone"}}},
		{"unclosed placeholder", []Rule{{Name: "r", Kind: risk.EventTransaction, Expression: "true", Score: 5, Description: "amount {{ amount_minor"}}, true,
			[]CompileError{{Rule: "r", Field: "description", Line: 1, Column: 8, Message: `unclosed placeholder: "{{" without "}}"`}}},
		{"empty placeholder", []Rule{{Name: "r", Kind: risk.EventTransaction, Expression: "true", Score: 5, Description: "x {{ }}"}}, true,
			[]CompileError{{Rule: "r", Field: "description", Line: 1, Column: 3, Message: "empty placeholder {{ }}"}}},
		{"placeholder with unknown list", []Rule{{Name: "r", Kind: risk.EventTransaction, Expression: "true", Score: 5, Description: `{{ in_list("x", ip) }}`}}, true,
			[]CompileError{{Rule: "r", Field: "description", Line: 1, Column: 12, Message: `in_list: unknown list "x"`}}},
		{"disabled rules are checked", []Rule{{Name: "r", Kind: risk.EventTransaction, Expression: "nope", Score: 5, Mode: ModeDisabled}}, true,
			[]CompileError{{Rule: "r", Field: "expression", Line: 1, Column: 1, Message: "unknown name nope"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var src ListSource
			if tt.lists {
				src = testLists(t)
			}
			got := compileErrors(t, tt.rules, src)
			if !slices.Equal(got, CompileErrors(tt.want)) {
				t.Errorf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

// TestCompileErrorsGolden checks that every problem of a whole rule set is
// reported at once and how CompileErrors reads.
func TestCompileErrorsGolden(t *testing.T) {
	rs := loadRules(t, "invalid_rules.json")
	ces := compileErrors(t, rs, testLists(t))
	got := ces.Error() + "\n"
	const golden = "testdata/invalid_rules.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("CompileErrors.Error() =\n%s\nwant\n%s", got, want)
	}
}

func TestCompileSet(t *testing.T) {
	rs := loadRules(t, "rules20.json")
	set, err := Compile(42, rs, testSchemas(), testLists(t))
	if err != nil {
		t.Fatal(err)
	}
	if set.Version() != 42 {
		t.Errorf("Version() = %d", set.Version())
	}
	got := set.Rules()
	if len(got) != len(rs) {
		t.Fatalf("Rules() has %d rules, want %d", len(got), len(rs))
	}
	for i := range got {
		want := rs[i]
		want.Mode = want.EffectiveMode()
		if got[i] != want {
			t.Errorf("Rules()[%d] = %+v, want %+v", i, got[i], want)
		}
	}
	got[0].Name = "changed"
	rs[1].Name = "changed"
	if r := set.Rules(); r[0].Name != "big_amount" || r[1].Name != "huge_amount" {
		t.Error("the Set shares rules with its caller")
	}
	if lists := set.ReferencedLists(); !slices.Equal(lists, []string{"blocked-ips", "risky-countries"}) {
		t.Errorf("ReferencedLists() = %q", lists)
	}
}

func TestCompileEmpty(t *testing.T) {
	set, err := Compile(1, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var res Result
	set.Evaluate(risk.EventTransaction, benignEnv(), &res)
	if len(res.Active)+len(res.Shadow)+len(res.Errors) != 0 {
		t.Errorf("empty set produced %+v", res)
	}
}

func TestCompileErrorString(t *testing.T) {
	e := CompileError{Rule: "r", Field: "expression", Line: 2, Column: 3, Message: "boom"}
	if got, want := e.Error(), `rule "r" expression 2:3: boom`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	e.Line, e.Column = 0, 0
	if got := e.Error(); strings.Contains(got, ":0") {
		t.Errorf("Error() without position = %q", got)
	}
}
