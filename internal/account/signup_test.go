package account_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/account"
	"github.com/shopguard/shopguard/internal/engine"
	"github.com/shopguard/shopguard/internal/risk"
)

func TestSignupValidate(t *testing.T) {
	valid := `{"id":"s1","created_at":"2026-03-01T12:00:00Z","email":" Jane.Doe@Example.com ","ip":"203.0.113.7"}`
	tests := []struct {
		name, doc string
		fields    []string
	}{
		{"valid", valid, nil},
		{"nothing", `{}`, []string{"id", "created_at", "email", "ip"}},
		{"bad email", strings.Replace(valid, " Jane.Doe@Example.com ", "jane.doe", 1), []string{"email"}},
		{"bad ip", strings.Replace(valid, "203.0.113.7", "203.0.113", 1), []string{"ip"}},
		{"long name", strings.Replace(valid, `"ip"`, `"name":"`+strings.Repeat("x", 201)+`","ip"`, 1), []string{"name"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var s account.Signup
			wantFields(t, tc.doc, &s, tc.fields)
			if tc.fields == nil && s.Email != "jane.doe@example.com" {
				t.Errorf("e-mail not normalised: %q", s.Email)
			}
		})
	}
}

func TestEmailPattern(t *testing.T) {
	for in, want := range map[string]string{
		"jane.doe1984+shop@example.com": "jane.doe#@example.com",
		"jane.doe1985@example.com":      "jane.doe#@example.com",
		"a1b22c333@example.com":         "a#b#c#@example.com",
		"plain@example.com":             "plain@example.com",
	} {
		if got := account.EmailPattern(in); got != want {
			t.Errorf("EmailPattern(%q) = %q, want %q", in, got, want)
		}
	}
}

func (h *harness) signup(email, ip, device string) engine.Decision {
	h.t.Helper()
	h.n++
	h.now = h.now.Add(30 * time.Second)
	s := &account.Signup{ID: fmt.Sprintf("s%d", h.n), CreatedAt: h.now.Format(time.RFC3339Nano), Email: email, IP: ip, DeviceID: device}
	if err := s.Validate(h.now); err != nil {
		h.t.Fatal(err)
	}
	d, err := h.eng.Decide(context.Background(), "shop", s)
	if err != nil {
		h.t.Fatal(err)
	}
	return d
}

func TestFakeSignups(t *testing.T) {
	h := newHarness(t)
	if d := h.signup("ana.garcia@example.com", "198.51.100.1", "ana"); d.Action != risk.ActionAllow {
		t.Errorf("an ordinary sign-up: %s %v", d.Action, d.Reasons)
	}
	// A numbered series from rotating addresses and devices.
	var d engine.Decision
	for i := range 5 {
		d = h.signup(fmt.Sprintf("promo.hunter%d@example.com", 100+i), fmt.Sprintf("192.0.2.%d", i), fmt.Sprintf("dev%d", i))
	}
	if d.Action != risk.ActionBlock || !has(d, "patterned_emails") {
		t.Errorf("5th patterned address: %s %v", d.Action, d.Reasons)
	}
	// Several accounts from one device.
	for i := range 4 {
		d = h.signup(fmt.Sprintf("person%c@example.org", 'a'+i), "198.51.100.50", "farm")
	}
	if d.Action != risk.ActionBlock || !has(d, "signups_per_device") {
		t.Errorf("4th account from one device: %s %v", d.Action, d.Reasons)
	}
	// Many accounts from one IP on different devices.
	for i := range 5 {
		d = h.signup(fmt.Sprintf("shopper%c@example.net", 'a'+i), "203.0.113.80", fmt.Sprintf("phone%d", i))
	}
	if !has(d, "signups_per_ip") {
		t.Errorf("5th account from one IP: %s %v", d.Action, d.Reasons)
	}
	if d := h.signup("someone@mailinator.com", "198.51.100.2", "x"); !has(d, "signup_disposable_email") {
		t.Errorf("throw-away domain: %s %v", d.Action, d.Reasons)
	}
}

func FuzzDecodeSignup(f *testing.F) {
	f.Add([]byte(`{"id":"s1","created_at":"2026-03-01T12:00:00Z","email":"a@b.co","ip":"203.0.113.7","name":"Ana"}`))
	f.Add([]byte(`{"id":"s1","created_at":"2026-03-01T12:00:00Z","email":"a1+x@b.co","ip":"::ffff:1.2.3.4","device_id":"d"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var s account.Signup
		if roundTrip(t, data, &s, account.SignupKind{}) {
			_ = s.Env(nil, nil)
			_ = account.EmailPattern(s.Email)
		}
	})
}
