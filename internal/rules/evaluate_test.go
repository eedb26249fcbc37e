package rules

import (
	"errors"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/risk"
)

// mustCompile compiles rs against the test schemas.
func mustCompile(t testing.TB, lists ListSource, rs ...Rule) *Set {
	t.Helper()
	set, err := Compile(1, rs, testSchemas(), lists)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// names returns the names of the matched rules.
func names(ms []Match) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Rule.Name)
	}
	return out
}

// messages returns the rendered messages.
func messages(ms []Match) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Message)
	}
	return out
}

func TestEvaluateModes(t *testing.T) {
	set := mustCompile(t, nil,
		Rule{Name: "active", Kind: risk.EventTransaction, Expression: "amount_minor > 100", Score: 10, Description: "big"},
		Rule{Name: "shadow", Kind: risk.EventTransaction, Expression: "amount_minor > 100", Score: 20, Description: "big too", Mode: ModeShadow},
		Rule{Name: "disabled", Kind: risk.EventTransaction, Expression: "amount_minor > 100", Score: 30, Mode: ModeDisabled},
		Rule{Name: "no_match", Kind: risk.EventTransaction, Expression: "amount_minor > 100000", Action: risk.ActionBlock},
		Rule{Name: "explicit", Kind: risk.EventTransaction, Expression: "currency == 'EUR'", Action: risk.ActionReview, Mode: ModeActive},
		Rule{Name: "login", Kind: risk.EventLogin, Expression: "true", Action: risk.ActionBlock},
	)
	env := benignEnv()
	var res Result
	set.Evaluate(risk.EventTransaction, env, &res)
	if got := names(res.Active); !slices.Equal(got, []string{"active", "explicit"}) {
		t.Errorf("active matches = %q", got)
	}
	if got := names(res.Shadow); !slices.Equal(got, []string{"shadow"}) {
		t.Errorf("shadow matches = %q", got)
	}
	if len(res.Errors) != 0 {
		t.Errorf("errors = %v", res.Errors)
	}
	if got := messages(res.Active); !slices.Equal(got, []string{"big", "rule explicit matched"}) {
		t.Errorf("messages = %q", got)
	}
	if res.Active[0].Rule.Score != 10 || res.Active[0].Rule.Mode != ModeActive {
		t.Errorf("matched rule = %+v", *res.Active[0].Rule)
	}

	// The same Result is reset by the next evaluation.
	set.Evaluate(risk.EventLogin, &testLoginEnv{}, &res)
	if got := names(res.Active); !slices.Equal(got, []string{"login"}) || len(res.Shadow) != 0 {
		t.Errorf("after reuse: active %q shadow %q", got, names(res.Shadow))
	}

	// A kind without rules, and a nil Set, leave the result empty.
	set.Evaluate(risk.EventContent, struct{}{}, &res)
	var nilSet *Set
	nilSet.Evaluate(risk.EventTransaction, env, &res)
	if len(res.Active)+len(res.Shadow)+len(res.Errors) != 0 {
		t.Errorf("empty evaluation produced %+v", res)
	}
}

func TestEvaluatePlaceholders(t *testing.T) {
	tests := []struct {
		description string
		want        string
	}{
		{"card used {{ features.card.count_1h }} times", "card used 1 times"},
		{"amount {{ amount_minor / 100 }} EUR", "amount 49.99 EUR"},
		{"{{ ratio }}x", "1.1x"},
		{"{{ ratio * 3 }}", "3.3"},
		{"{{ 1 / 3 }}", "0.333"},
		{"{{ float(amount_minor) }}", "4999"},
		{"{{ currency }} from {{ user.email }}", "EUR from bob@example.com"},
		{"verified={{ user.verified }}", "verified=true"},
		{"{{ extra }}", "none"},
		{"{{ tags }}", "[vip, repeat]"},
		{"{{ [1.25, 2] }}", "[1.25, 2]"},
		{"on list: {{ in_list(\"bad-bins\", bin) }}", "on list: false"},
		{"multi\nline {{ amount_minor }}", "multi\nline 4999"},
		{"no placeholders }} here", "no placeholders }} here"},
	}
	lists := testLists(t)
	for _, tt := range tests {
		t.Run(tt.description, func(t *testing.T) {
			set := mustCompile(t, lists, Rule{Name: "r", Kind: risk.EventTransaction, Expression: "true", Score: 1, Description: tt.description})
			env := benignEnv()
			env.Tags = []string{"vip", "repeat"}
			var res Result
			set.Evaluate(risk.EventTransaction, env, &res)
			if len(res.Active) != 1 || len(res.Errors) != 0 {
				t.Fatalf("result = %+v", res)
			}
			if got := res.Active[0].Message; got != tt.want {
				t.Errorf("message = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFormatValue(t *testing.T) {
	tests := []struct {
		v    any
		want string
	}{
		{0.0, "0"}, {-2.0, "-2"}, {1e14, "100000000000000"}, {2.5, "2.5"}, {0.1234567, "0.123"},
		{-0.0001, "-0.0001"}, {0.00012345, "0.000123"}, {1234.56789, "1234.568"}, {0.9996, "1"},
		{1e20, "1e+20"}, {-0.0004, "-0.0004"}, {math.NaN(), "NaN"}, {math.Inf(1), "+Inf"},
		{float32(0.5), "0.5"}, {int8(-3), "-3"}, {uint16(7), "7"}, {int64(1) << 40, "1099511627776"},
		{90 * time.Second, "1m30s"}, {time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC), "2024-05-01T12:00:00Z"},
		{errors.New("boom"), "boom"}, {map[string]int{"a": 1}, "map[a:1]"}, {nil, "none"}, {true, "true"},
	}
	for _, tt := range tests {
		if got := formatValue(tt.v); got != tt.want {
			t.Errorf("formatValue(%#v) = %q, want %q", tt.v, got, tt.want)
		}
	}
	if got := truncate("ééé", 3); got != "é…" {
		t.Errorf("truncate = %q", got)
	}
}

func TestEvaluateInList(t *testing.T) {
	lists := testLists(t)
	set := mustCompile(t, lists,
		Rule{Name: "blocked_ip", Kind: risk.EventTransaction, Expression: `in_list("blocked-ips", ip)`, Action: risk.ActionBlock, Description: "IP {{ ip }}"},
		Rule{Name: "vip", Kind: risk.EventTransaction, Expression: `in_list("vip-emails", user.email)`, Score: -10},
		Rule{Name: "bin", Kind: risk.EventTransaction, Expression: `in_list("bad-bins", bin)`, Score: 10},
		Rule{Name: "country", Kind: risk.EventTransaction, Expression: `in_list("risky-countries", country)`, Score: 10},
	)
	tests := []struct {
		name string
		edit func(*testEnv)
		want []string
	}{
		{"nothing", func(*testEnv) {}, nil},
		{"ip in CIDR", func(e *testEnv) { e.IP = "203.0.113.200" }, []string{"blocked_ip"}},
		{"exact ip", func(e *testEnv) { e.IP = "198.51.100.7" }, []string{"blocked_ip"}},
		{"neighbour of exact ip", func(e *testEnv) { e.IP = "198.51.100.8" }, nil},
		{"IPv4-mapped IPv6", func(e *testEnv) { e.IP = "::ffff:203.0.113.1" }, []string{"blocked_ip"}},
		{"IPv6 in prefix", func(e *testEnv) { e.IP = "2001:DB8:1::5" }, []string{"blocked_ip"}},
		{"invalid ip", func(e *testEnv) { e.IP = "not-an-ip" }, nil},
		{"email normalized", func(e *testEnv) { e.User.Email = "  ALICE@example.com " }, []string{"vip"}},
		{"int bin", func(e *testEnv) { e.BIN = 550000 }, []string{"bin"}},
		{"lowercase country", func(e *testEnv) { e.Country = "kp" }, []string{"country"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := benignEnv()
			tt.edit(env)
			var res Result
			set.Evaluate(risk.EventTransaction, env, &res)
			if got := names(res.Active); !slices.Equal(got, tt.want) || len(res.Errors) != 0 {
				t.Errorf("matches = %q, errors %v; want %q", got, res.Errors, tt.want)
			}
		})
	}
}

func TestEvaluateListEditsWithoutRecompile(t *testing.T) {
	var src AtomicLists
	src.Store(testLists(t))
	set := mustCompile(t, &src, Rule{Name: "blocked_ip", Kind: risk.EventTransaction, Expression: `in_list("blocked-ips", ip)`, Action: risk.ActionBlock})
	env := benignEnv() // 192.0.2.44
	var res Result
	matches := func() []string {
		set.Evaluate(risk.EventTransaction, env, &res)
		if len(res.Errors) != 0 {
			t.Fatalf("errors: %v", res.Errors)
		}
		return names(res.Active)
	}
	if got := matches(); got != nil {
		t.Fatalf("before the edit: %q", got)
	}
	err := src.Update(func(l *Lists) (*Lists, error) {
		return l.With(ListEntries{List: List{Name: "blocked-ips", Kind: ListIP, Effect: EffectBlock}, Entries: []string{"192.0.2.0/26"}})
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := matches(); !slices.Equal(got, []string{"blocked_ip"}) {
		t.Errorf("after adding the prefix: %q", got)
	}
	src.Store(src.Lists().Without("blocked-ips"))
	if got := matches(); got != nil {
		t.Errorf("after deleting the list: %q", got)
	}
	src.Store(nil)
	if got := matches(); got != nil {
		t.Errorf("with no lists: %q", got)
	}
}

func TestEvaluateErrors(t *testing.T) {
	set := mustCompile(t, nil,
		Rule{Name: "before", Kind: risk.EventTransaction, Expression: "true", Score: 1},
		Rule{Name: "runtime", Kind: risk.EventTransaction, Expression: "extra > 1", Score: 1},
		Rule{Name: "not_bool", Kind: risk.EventTransaction, Expression: "extra", Score: 1},
		Rule{Name: "bad_placeholder", Kind: risk.EventTransaction, Expression: "true", Score: 1, Description: "x={{ extra.y }}"},
		Rule{Name: "after", Kind: risk.EventTransaction, Expression: "true", Score: 1},
	)
	var res Result
	env := benignEnv()
	env.Extra = "text"
	set.Evaluate(risk.EventTransaction, env, &res)
	if got := names(res.Active); !slices.Equal(got, []string{"before", "bad_placeholder", "after"}) {
		t.Errorf("matches = %q", got)
	}
	if got := res.Active[1].Message; got != "x=?" {
		t.Errorf("failed placeholder rendered as %q", got)
	}
	var failed []string
	for _, e := range res.Errors {
		failed = append(failed, e.Rule+"/"+e.Field)
		if e.Error() == "" || e.Unwrap() == nil {
			t.Errorf("bad EvalError %#v", e)
		}
	}
	if want := []string{"runtime/expression", "not_bool/expression", "bad_placeholder/description"}; !slices.Equal(failed, want) {
		t.Errorf("errors = %q, want %q", failed, want)
	}

	for _, env := range []any{testEnv{}, &testLoginEnv{}, nil, (*testEnv)(nil)} {
		set.Evaluate(risk.EventTransaction, env, &res)
		if len(res.Errors) != 1 || !errors.Is(res.Errors[0], ErrEnv) || len(res.Active) != 0 {
			t.Errorf("env %T: result %+v", env, res)
		}
	}
}

// methodEnv has a method, so Evaluate must pass it by pointer.
type methodEnv struct {
	N int64 `expr:"n"`
}

// Double is callable from rules as Double().
func (e *methodEnv) Double() int64 { return 2 * e.N }

func TestEvaluatePointerEnvWithMethods(t *testing.T) {
	schemas := Schemas{risk.EventSignup: &methodEnv{}}
	set, err := Compile(1, []Rule{{Name: "m", Kind: risk.EventSignup, Expression: "Double() > 10 && n > 5", Score: 5, Description: "{{ Double() }}"}}, schemas, nil)
	if err != nil {
		t.Fatal(err)
	}
	if set.kinds[risk.EventSignup].byValue {
		t.Fatal("an env with methods must not be evaluated by value")
	}
	var res Result
	set.Evaluate(risk.EventSignup, &methodEnv{N: 6}, &res)
	if got := messages(res.Active); !slices.Equal(got, []string{"12"}) || len(res.Errors) != 0 {
		t.Errorf("messages = %q, errors %v", got, res.Errors)
	}
}

// TestEvaluateConcurrent runs evaluations while the lists change; run it
// with -race.
func TestEvaluateConcurrent(t *testing.T) {
	var src AtomicLists
	src.Store(testLists(t))
	set := mustCompile(t, &src, loadRules(t, "rules20.json")...)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			env := benignEnv()
			env.Features.Card.Count1h = int64(g * 5)
			var res Result
			for range 500 {
				set.Evaluate(risk.EventTransaction, env, &res)
				if len(res.Errors) != 0 {
					t.Errorf("errors: %v", res.Errors)
					return
				}
			}
		}()
	}
	for i := range 50 {
		err := src.Update(func(l *Lists) (*Lists, error) {
			return l.With(ListEntries{List: List{Name: "blocked-ips", Kind: ListIP}, Entries: []string{"192.0.2." + string(rune('0'+i%10))}})
		})
		if err != nil {
			t.Error(err)
		}
	}
	wg.Wait()
}

func TestEvaluateAllocations(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts are not measured in -short mode")
	}
	if raceEnabled {
		t.Skip("allocation counts are not measured under the race detector (sync.Pool drops items at random there)")
	}
	set := mustCompile(t, testLists(t), loadRules(t, "rules20.json")...)
	env := benignEnv()
	var res Result
	allocs := testing.AllocsPerRun(100, func() { set.Evaluate(risk.EventTransaction, env, &res) })
	// One copy of the env struct, and expr boxing the float results of
	// float(amount_minor) and 10 * features.card.avg_amount.
	if allocs > 3 {
		t.Errorf("Evaluate with no match allocates %v times, want at most 3", allocs)
	}
}

// TestInListForms covers in_list inside predicates, with constant values,
// and on values of a named string type, as well as list edits after compile.
func TestInListForms(t *testing.T) {
	var src AtomicLists
	src.Store(testLists(t))
	set := mustCompile(t, &src,
		Rule{Name: "predicate", Kind: risk.EventTransaction, Expression: `any(tags, in_list("vip-emails", #))`, Score: 1},
		Rule{Name: "constant", Kind: risk.EventTransaction, Expression: `in_list("risky-countries", "cu")`, Score: 1},
		Rule{Name: "negated", Kind: risk.EventTransaction, Expression: `not in_list("blocked-ips", ip) && ip != ""`, Score: 1},
	)
	env := benignEnv()
	env.Tags = []string{"x", "ALICE@example.com"}
	var res Result
	set.Evaluate(risk.EventTransaction, env, &res)
	if got := names(res.Active); !slices.Equal(got, []string{"predicate", "negated"}) || len(res.Errors) != 0 {
		t.Fatalf("matches = %q, errors %v", got, res.Errors)
	}
	err := src.Update(func(l *Lists) (*Lists, error) {
		return l.With(ListEntries{List: List{Name: "risky-countries", Kind: ListCountry}, Entries: []string{"CU"}})
	})
	if err != nil {
		t.Fatal(err)
	}
	set.Evaluate(risk.EventTransaction, env, &res)
	if got := names(res.Active); !slices.Equal(got, []string{"predicate", "constant", "negated"}) {
		t.Errorf("after the edit: matches = %q", got)
	}
}

// namedEnv has a field of a named string type.
type namedEnv struct {
	Country countryCode `expr:"country"`
}

type countryCode string

func TestInListNamedStringType(t *testing.T) {
	set, err := Compile(1, []Rule{{Name: "c", Kind: risk.EventSignup, Expression: `in_list("risky-countries", country)`, Score: 1}},
		Schemas{risk.EventSignup: (*namedEnv)(nil)}, testLists(t))
	if err != nil {
		t.Fatal(err)
	}
	var res Result
	set.Evaluate(risk.EventSignup, &namedEnv{Country: "IR"}, &res)
	if len(res.Active) != 1 || len(res.Errors) != 0 {
		t.Errorf("result = %+v", res)
	}
}
