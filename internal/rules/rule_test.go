package rules

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/shopguard/shopguard/internal/risk"
)

// fieldsOf returns the Field of every *FieldError joined in err.
func fieldsOf(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	if !errors.Is(err, risk.ErrInvalid) {
		t.Errorf("error %v does not wrap ErrInvalid", err)
	}
	list := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	}
	var fields []string
	for _, e := range list {
		var fe *FieldError
		if !errors.As(e, &fe) {
			t.Fatalf("error %v is not a *FieldError", e)
		}
		fields = append(fields, fe.Field)
	}
	return fields
}

func TestRuleValidate(t *testing.T) {
	valid := Rule{Name: "big_amount", Kind: risk.EventTransaction, Expression: "amount_minor > 100", Score: 10, Description: "big"}
	tests := []struct {
		name   string
		edit   func(*Rule)
		fields []string
	}{
		{"valid score rule", func(*Rule) {}, nil},
		{"valid action rule", func(r *Rule) { r.Score, r.Action = 0, risk.ActionBlock }, nil},
		{"negative score", func(r *Rule) { r.Score = -100 }, nil},
		{"shadow mode", func(r *Rule) { r.Mode = ModeShadow }, nil},
		{"disabled mode", func(r *Rule) { r.Mode = ModeDisabled }, nil},
		{"64-char name", func(r *Rule) { r.Name = strings.Repeat("a", 64) }, nil},
		{"name with digits and dashes", func(r *Rule) { r.Name = "0-card_test-2" }, nil},
		{"empty name", func(r *Rule) { r.Name = "" }, []string{"name"}},
		{"65-char name", func(r *Rule) { r.Name = strings.Repeat("a", 65) }, []string{"name"}},
		{"uppercase name", func(r *Rule) { r.Name = "BigAmount" }, []string{"name"}},
		{"name starting with dash", func(r *Rule) { r.Name = "-x" }, []string{"name"}},
		{"name with space", func(r *Rule) { r.Name = "big amount" }, []string{"name"}},
		{"missing kind", func(r *Rule) { r.Kind = "" }, []string{"kind"}},
		{"kind without schema", func(r *Rule) { r.Kind = risk.EventMessage }, []string{"kind"}},
		{"action and score", func(r *Rule) { r.Action = risk.ActionBlock }, []string{"score"}},
		{"neither action nor score", func(r *Rule) { r.Score = 0 }, []string{"action"}},
		{"unknown action", func(r *Rule) { r.Score, r.Action = 0, "deny" }, []string{"action"}},
		{"score too high", func(r *Rule) { r.Score = 101 }, []string{"score"}},
		{"score too low", func(r *Rule) { r.Score = -101 }, []string{"score"}},
		{"unknown mode", func(r *Rule) { r.Mode = "paused" }, []string{"mode"}},
		{"empty expression", func(r *Rule) { r.Expression = "  " }, []string{"expression"}},
		{"expression too long", func(r *Rule) { r.Expression = strings.Repeat("1", MaxExpressionLen+1) }, []string{"expression"}},
		{"expression not UTF-8", func(r *Rule) { r.Expression = "\xff" }, []string{"expression"}},
		{"description at the limit", func(r *Rule) { r.Description = strings.Repeat("é", MaxDescriptionLen) }, nil},
		{"description too long", func(r *Rule) { r.Description = strings.Repeat("x", MaxDescriptionLen+1) }, []string{"description"}},
		{"several problems", func(r *Rule) { r.Name, r.Mode, r.Score = "X", "x", 0 }, []string{"name", "action", "mode"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := valid
			tt.edit(&r)
			got := fieldsOf(t, r.Validate(testSchemas()))
			if !slices.Equal(got, tt.fields) {
				t.Errorf("fields with problems = %q, want %q", got, tt.fields)
			}
		})
	}
}

func TestRuleEffectiveMode(t *testing.T) {
	if got := (Rule{}).EffectiveMode(); got != ModeActive {
		t.Errorf("empty mode = %q, want active", got)
	}
	if got := (Rule{Mode: ModeShadow}).EffectiveMode(); got != ModeShadow {
		t.Errorf("shadow mode = %q", got)
	}
}

func TestFieldErrorMessage(t *testing.T) {
	err := Rule{Name: "x", Kind: risk.EventTransaction, Expression: "true", Score: 200}.Validate(testSchemas())
	if got, want := err.Error(), "score: 200 is outside -100..100"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
