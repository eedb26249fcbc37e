package risk

import (
	"errors"
	"fmt"
	"math"
	"testing"
)

func TestParse(t *testing.T) {
	if a, err := ParseAction("challenge"); err != nil || a != ActionChallenge {
		t.Errorf("ParseAction = %v, %v", a, err)
	}
	for _, bad := range []string{"", "BLOCK", "deny"} {
		if _, err := ParseAction(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseAction(%q) = %v", bad, err)
		}
	}
	if k, err := ParseEntityKind("ip_prefix"); err != nil || k != EntityIPPrefix {
		t.Errorf("ParseEntityKind = %v, %v", k, err)
	}
	if _, err := ParseEntityKind("phone"); !errors.Is(err, ErrInvalid) || err.Error() == "" {
		t.Errorf("ParseEntityKind(phone) = %v", err)
	}
	if k, err := ParseEventKind("login"); err != nil || k != EventLogin {
		t.Errorf("ParseEventKind = %v, %v", k, err)
	}
	if l, err := ParseLabel("chargeback"); err != nil || !l.Bad() {
		t.Errorf("ParseLabel = %v, %v", l, err)
	}
	if LabelLegit.Bad() || LabelFalsePositive.Bad() || !LabelSpam.Bad() {
		t.Error("Label.Bad misclassifies")
	}
}

func TestActions(t *testing.T) {
	if Max(ActionReview, ActionBlock) != ActionBlock || Max(ActionChallenge, ActionAllow) != ActionChallenge {
		t.Error("Max is not the most severe")
	}
	if Action("x").Valid() || Action("x").Severity() != -1 {
		t.Error("an unknown action is valid")
	}
}

func TestThresholds(t *testing.T) {
	th := Thresholds{Review: 50, Challenge: 70, Block: 90}
	for score, want := range map[int]Action{0: ActionAllow, 49: ActionAllow, 50: ActionReview, 70: ActionChallenge, 89: ActionChallenge, 90: ActionBlock, 100: ActionBlock} {
		if got := th.Action(score); got != want {
			t.Errorf("Action(%d) = %s, want %s", score, got, want)
		}
	}
	noBlock := Thresholds{Review: 40, Challenge: 60, Block: 101}
	if noBlock.Action(100) != ActionChallenge || noBlock.Validate() != nil {
		t.Error("101 does not disable an action")
	}
	for _, bad := range []Thresholds{{0, 70, 90}, {50, 102, 102}, {80, 70, 90}} {
		if err := bad.Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("Validate(%+v) = %v", bad, err)
		}
	}
}

func TestClampScore(t *testing.T) {
	for in, want := range map[float64]int{-5: 0, 0: 0, 49.5: 50, 49.4: 49, 100: 100, 250: 100, math.NaN(): 0, math.Inf(1): 100} {
		if got := ClampScore(in); got != want {
			t.Errorf("ClampScore(%v) = %d, want %d", in, got, want)
		}
	}
}

func TestFieldErrors(t *testing.T) {
	a, b := Invalid("ip", "bad %s", "x"), Missing("id")
	err := fmt.Errorf("wrapped: %w", errors.Join(a, fmt.Errorf("deeper: %w", b), errors.New("other")))
	got := FieldErrors(err)
	if len(got) != 2 || got[0] != a || got[1] != b || !errors.Is(a, ErrInvalid) || a.Error() != "ip: bad x" || b.Code != "missing_field" {
		t.Errorf("FieldErrors = %v", got)
	}
	if FieldErrors(nil) != nil {
		t.Error("FieldErrors(nil) is not nil")
	}
	if fe := CheckText("note", "ok\x00", 10); fe == nil || fe.Field != "note" {
		t.Errorf("CheckText accepted a control character: %v", fe)
	}
	if CheckText("note", "", 10) != nil || CheckText("note", "12345678901", 10) == nil || CheckText("n", "\xff", 10) == nil {
		t.Error("CheckText limits wrong")
	}
}

func TestLooksLikeCardNumber(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"4111111111111111", true},
		{"4111 1111 1111 1111", true},
		{"4111-1111-1111-1111", true},
		{"378282246310005", true},   // Amex, 15 digits
		{"4111111111111112", false}, // fails Luhn
		{"4111.1111.1111.1111", true},
		{"79927398713", false},          // Luhn-valid but 11 digits
		{"411111111111", false},         // 12 digits
		{"41111111111111111111", false}, // 20 digits
		{"fp_4111111111111111", false},  // not only digits
		{"", false},
	}
	for _, tc := range tests {
		if got := LooksLikeCardNumber(tc.in); got != tc.want {
			t.Errorf("LooksLikeCardNumber(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
