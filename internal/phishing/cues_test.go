package phishing_test

import (
	"strings"
	"testing"

	"github.com/shopguard/shopguard/internal/phishing"
)

func TestFindCues(t *testing.T) {
	for _, tc := range []struct {
		text  string
		kinds []string
	}{
		{"URGENT: your account has been suspended. Verify your account within 24 hours to avoid closure.",
			[]string{phishing.CueUrgency, phishing.CueThreat, phishing.CueCredential, phishing.CueUrgency, phishing.CueThreat}},
		{"Your payment failed. Update your billing details: https://x.test", []string{phishing.CuePayment, phishing.CuePayment}},
		{"Congratulations! You have won a prize, claim it now", []string{phishing.CuePrize, phishing.CuePrize, phishing.CuePrize, phishing.CuePrize}},
		{"Please enter your password and the security code we sent", []string{phishing.CueCredential, phishing.CueCredential}},
		{"Your order #1234 has shipped and will arrive on Tuesday.", nil},
		{"The winery's prizewinning reds are back in stock", nil}, // word-bounded: no "win"/"prize" inside words
	} {
		got := phishing.FindCues(tc.text)
		var kinds []string
		for _, c := range got {
			kinds = append(kinds, c.Kind)
			if tc.text[c.Start:c.End] != c.Phrase {
				t.Errorf("%q: span %d..%d is %q, phrase %q", tc.text, c.Start, c.End, tc.text[c.Start:c.End], c.Phrase)
			}
		}
		if strings.Join(kinds, ",") != strings.Join(tc.kinds, ",") {
			t.Errorf("%q: cues %+v, want kinds %v", tc.text, got, tc.kinds)
		}
	}
	if n := len(phishing.FindCues(strings.Repeat("urgent ", 1000))); n != 50 {
		t.Errorf("%d cues in a flood, want at most 50", n)
	}
}
