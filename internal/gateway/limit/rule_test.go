package limit

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

// loginRule is the rule the tests use for credential stuffing: five failed
// logins per key, one more every twelve seconds.
func loginRule() Rule {
	return Rule{Name: "login", Key: KeyIP, Rate: 5.0 / 60, Burst: 5, Counts: CountResponses, Statuses: []int{401, 403}}
}

// fieldsOf returns the Field of every *FieldError joined in err.
func fieldsOf(t *testing.T, err error) []string {
	t.Helper()
	var fields []string
	for _, e := range unjoin(err) {
		var fe *FieldError
		if !errors.As(e, &fe) {
			t.Fatalf("error %v is not a *FieldError", e)
		}
		if !errors.Is(e, ErrInvalid) {
			t.Fatalf("error %v does not match ErrInvalid", e)
		}
		fields = append(fields, fe.Field)
	}
	return fields
}

func TestRuleValidate(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(r *Rule)
		fields []string
	}{
		{"valid responses rule", func(r *Rule) {}, nil},
		{"valid requests rule", func(r *Rule) { r.Counts, r.Statuses = CountRequests, nil }, nil},
		{"valid slowest and fastest", func(r *Rule) { r.Rate, r.Burst = MinRate, MaxBurst }, nil},
		{"name missing", func(r *Rule) { r.Name = "" }, []string{"name"}},
		{"name too long", func(r *Rule) { r.Name = strings.Repeat("a", MaxNameLen+1) }, []string{"name"}},
		{"name with a space", func(r *Rule) { r.Name = "log in" }, []string{"name"}},
		{"unknown key kind", func(r *Rule) { r.Key = "cookie" }, []string{"key"}},
		{"empty key kind", func(r *Rule) { r.Key = "" }, []string{"key"}},
		{"zero rate", func(r *Rule) { r.Rate = 0 }, []string{"rate"}},
		{"negative rate", func(r *Rule) { r.Rate = -1 }, []string{"rate"}},
		{"NaN rate", func(r *Rule) { r.Rate = math.NaN() }, []string{"rate"}},
		{"infinite rate", func(r *Rule) { r.Rate = math.Inf(1) }, []string{"rate"}},
		{"zero burst", func(r *Rule) { r.Burst = 0 }, []string{"burst"}},
		{"burst too big", func(r *Rule) { r.Burst = MaxBurst + 1 }, []string{"burst"}},
		{"unknown counts", func(r *Rule) { r.Counts = "bytes" }, []string{"counts"}},
		{"responses without statuses", func(r *Rule) { r.Statuses = nil }, []string{"statuses"}},
		{"requests with statuses", func(r *Rule) { r.Counts = CountRequests }, []string{"statuses"}},
		{"status out of range", func(r *Rule) { r.Statuses = []int{401, 99, 600} }, []string{"statuses[1]", "statuses[2]"}},
		{"status twice", func(r *Rule) { r.Statuses = []int{401, 403, 401} }, []string{"statuses[2]"}},
		{"every problem at once", func(r *Rule) { *r = Rule{Rate: -1, Counts: CountResponses} },
			[]string{"name", "key", "rate", "burst", "statuses"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := loginRule()
			tt.edit(&r)
			err := r.Validate()
			if got := fieldsOf(t, err); !slices.Equal(got, tt.fields) {
				t.Fatalf("Validate() fields = %v, want %v (error: %v)", got, tt.fields, err)
			}
		})
	}
}

func TestFieldErrorMessage(t *testing.T) {
	r := loginRule()
	r.Burst = 0
	err := r.Validate()
	if err == nil || err.Error() != "limit: burst: 0 is outside 1..1073741824" {
		t.Fatalf("Validate() = %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	page := Rule{Name: "pages", Key: KeyIPPrefix, Rate: 50, Burst: 100, Counts: CountRequests}
	bad := loginRule()
	bad.Rate, bad.Statuses = 0, []int{700}
	tests := []struct {
		name   string
		cfg    Config
		fields []string
	}{
		{"valid", Config{Rules: []Rule{loginRule(), page}, MaxKeys: 10}, nil},
		{"no rules is valid", Config{MaxKeys: 1}, nil},
		{"max keys zero", Config{Rules: []Rule{page}}, []string{"max_keys"}},
		{"max keys too big", Config{Rules: []Rule{page}, MaxKeys: MaxMaxKeys + 1}, []string{"max_keys"}},
		{"rule problems are prefixed", Config{Rules: []Rule{page, bad}, MaxKeys: 10},
			[]string{"rules[1].rate", "rules[1].statuses[0]"}},
		{"duplicate names", Config{Rules: []Rule{page, loginRule(), page}, MaxKeys: 10}, []string{"rules[2].name"}},
		{"unnamed rules are not duplicates", Config{Rules: []Rule{{}, {}}, MaxKeys: 10},
			[]string{"rules[0].name", "rules[0].key", "rules[0].rate", "rules[0].burst", "rules[0].counts",
				"rules[1].name", "rules[1].key", "rules[1].rate", "rules[1].burst", "rules[1].counts"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if got := fieldsOf(t, err); !slices.Equal(got, tt.fields) {
				t.Fatalf("Validate() fields = %v, want %v (error: %v)", got, tt.fields, err)
			}
			l, nerr := New(tt.cfg)
			if (nerr == nil) != (tt.fields == nil) || (nerr == nil) != (l != nil) {
				t.Fatalf("New() = %v, %v; want an error exactly when Validate fails", l, nerr)
			}
		})
	}
}

func TestStatusSet(t *testing.T) {
	s := newStatusSet([]int{100, 401, 403, 599})
	for st := -1; st < 700; st++ {
		want := st == 100 || st == 401 || st == 403 || st == 599
		if got := s.has(st); got != want {
			t.Fatalf("has(%d) = %v, want %v", st, got, want)
		}
	}
}
