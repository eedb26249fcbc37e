package demo

import (
	"context"
	"math/rand/v2"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/shopguard/shopguard/client"
	"github.com/shopguard/shopguard/internal/app/apptest"
	"github.com/shopguard/shopguard/internal/risk"
)

// TestSimulatedCustomersAnswerWithPasskeys runs the simulator's browsers
// against a shop whose every sign-in is stepped up: customers with a
// passkey pass on shopguard's hosted page (under the shop's origin) and
// come back signed in; an attacker with a customer's password, offered
// only the passkey, stays out.
func TestSimulatedCustomersAnswerWithPasskeys(t *testing.T) {
	a, sgSrv := apptest.Start(t, "")
	key := apptest.Key(t, a, "demo")
	sg, err := client.New(sgSrv.URL, key)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := sg.PutRule(ctx, client.Rule{Name: "t_login_challenge", Kind: "login", Expression: "true",
		Action: client.ActionChallenge, Description: "every sign-in stepped up"}); err != nil {
		t.Fatal(err)
	}
	guard, err := NewGuard(GuardConfig{Timeout: 5 * time.Second, CheckoutOnFailure: risk.ActionReview}, sg)
	if err != nil {
		t.Fatal(err)
	}
	proc := NewProcessor()
	shop, err := NewShop(ShopConfig{Name: "Test shop", OrderPrefix: "p", TrustClientIPHeader: true, PasswordCost: 4,
		Shopguard: sgSrv.URL}, NewCatalog(), guard, proc)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(shop)
	t.Cleanup(srv.Close)
	sim, err := NewSim(SimConfig{ShopURL: strings.Replace(srv.URL, "127.0.0.1", "localhost", 1), Seed: 3, Duration: time.Minute,
		Rate: 1, Customers: 10, Pace: 0.01, PasskeyShare: 1}, proc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := importAccounts(shop, sim); err != nil {
		t.Fatal(err)
	}
	if n, err := sim.EnrolPasskeys(ctx, sg, "Test shop"); err != nil || n != 10 {
		t.Fatalf("EnrolPasskeys = %d, %v", n, err)
	}
	accounts, passwords := sim.Accounts()
	st := &Stage{sim: sim, rng: rand.New(rand.NewPCG(1, 2))}
	c := sim.pop.byID[accounts[0].ID]
	dev := c.Devices[0]

	own := st.NewBrowser(Truth{Actor: c.Account.ID, Scenario: "shoppers"}, dev.ID, c.HomeIPs[0], dev.UserAgent)
	resp, err := own.Login(ctx, accounts[0].Email, passwords[0])
	if err != nil || resp.Account != "signed_in" {
		t.Errorf("the customer with their passkey: %q, %v; want signed_in", resp.Account, err)
	}
	thief := st.NewBrowser(Truth{Actor: c.Account.ID, Scenario: "account_takeover", Fraud: true}, "thief-laptop", "203.0.113.9", dev.UserAgent)
	resp, err = thief.Login(ctx, accounts[0].Email, passwords[0])
	if err != nil || resp.Account == "signed_in" {
		t.Errorf("an attacker with the password: %q, %v; want kept out", resp.Account, err)
	}
	var hosted int
	for _, r := range sim.Requests() {
		if strings.HasPrefix(r.Path, "/stepup/") && !r.Truth.Fraud {
			hosted++
		}
	}
	if hosted < 3 { // the page, the options, the answer
		t.Errorf("the customer made %d requests to the hosted page, want at least 3", hosted)
	}
	scs, err := scenariosByName(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range buildReport(scs, sim.Requests(), nil, nil) {
		switch r.Scenario {
		case "shoppers":
			if r.SteppedUp != 1 || r.SteppedUpPasskey != 1 {
				t.Errorf("report: the customer's step-up counted %d (%d with a passkey), want 1 (1)", r.SteppedUp, r.SteppedUpPasskey)
			}
		case "account_takeover":
			if r.SteppedUp != 0 || r.SignInChallenged != 1 {
				t.Errorf("report: the attacker challenged %d, stepped up %d; want 1, 0", r.SignInChallenged, r.SteppedUp)
			}
		}
	}
}

// TestTypedKeystrokes: the login page's measurement goes to shopguard only
// when it is a rhythm shopguard takes; anything else is dropped, never a
// reason to refuse the sign-in.
func TestTypedKeystrokes(t *testing.T) {
	tests := []struct {
		name, field string
		keys        int // 0: dropped
	}{
		{"measured", `{"hold_ms":[90.5,101,88],"flight_ms":[150,-20.5]}`, 3},
		{"none", ``, 0},
		{"null (an edited entry)", `null`, 0},
		{"not JSON", `{"hold_ms":`, 0},
		{"one key", `{"hold_ms":[90],"flight_ms":[]}`, 0},
		{"flights do not fit", `{"hold_ms":[90,100],"flight_ms":[1,2]}`, 0},
		{"held too long", `{"hold_ms":[90,2500],"flight_ms":[10]}`, 0},
		{"a pause", `{"hold_ms":[90,100],"flight_ms":[6000]}`, 0},
		{"huge", `{"hold_ms":[` + strings.Repeat("1,", 20000) + `1],"flight_ms":[]}`, 0},
	}
	for _, tt := range tests {
		got := 0
		if k := typedKeystrokes(tt.field); k != nil {
			got = len(k.HoldMS)
		}
		if got != tt.keys {
			t.Errorf("%s: %d keys (0: dropped), want %d", tt.name, got, tt.keys)
		}
	}
}
