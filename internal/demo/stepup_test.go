package demo_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/shopguard/shopguard/client"
	"github.com/shopguard/shopguard/internal/demo"
	"github.com/shopguard/shopguard/internal/risk"
)

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)

// postPage posts a form and returns the answer with its page's hidden fields.
func postPage(t *testing.T, ts *testShop, b *http.Client, path string, form url.Values) (*http.Response, url.Values) {
	t.Helper()
	resp, body := ts.postRead(t, b, path, form)
	fields := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(string(body), -1) {
		fields.Set(m[1], m[2])
	}
	return resp, fields
}

func totpCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	code, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// startChallengingShopguard starts a shopguard whose every sign-in is
// stepped up, and a client of it.
func startChallengingShopguard(t *testing.T) (string, string, *client.Client) {
	t.Helper()
	sgURL, key := startShopguard(t)
	c, err := client.New(sgURL, key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutRule(context.Background(), client.Rule{Name: "t_login_challenge", Kind: "login", Expression: "true",
		Action: client.ActionChallenge, Description: "every sign-in stepped up"}); err != nil {
		t.Fatal(err)
	}
	return sgURL, key, c
}

// TestShopStepsUpChallengedSignIns signs in against a shopguard that
// challenges every sign-in: a customer with an authenticator app is
// signed in with its code (after a wrong one, too), five wrong codes or
// a step-up resumed with a forged token or from another browser are
// refused, and a customer without an app is turned away as before.
func TestShopStepsUpChallengedSignIns(t *testing.T) {
	sgURL, key, c := startChallengingShopguard(t)
	ctx := context.Background()
	ts := newTestShop(t, sgURL, key, 5*time.Second, risk.ActionReview)
	const password = "correct horse battery"
	tests := []struct {
		name    string
		app     bool
		codes   func(secret string) []string // typed in turn
		forge   bool                         // a made-up pending token
		other   bool                         // the step-up sent from another browser
		want    []string                     // the account status of each answer
		session bool
	}{
		{name: "right code", app: true, codes: func(s string) []string { return []string{totpCode(t, s, time.Now())} },
			want: []string{"signed_in"}, session: true},
		{name: "wrong code then right", app: true, codes: func(s string) []string { return []string{"000000", totpCode(t, s, time.Now())} },
			want: []string{"wrong_code", "signed_in"}, session: true},
		{name: "five wrong codes", app: true, codes: func(string) []string { return []string{"000000", "111111", "222222", "333333", "444444"} },
			want: []string{"wrong_code", "wrong_code", "wrong_code", "wrong_code", "step_up_failed"}},
		{name: "not six digits", app: true, codes: func(string) []string { return []string{"12ab56"} }, want: []string{"wrong_code"}},
		{name: "forged token", app: true, forge: true, codes: func(s string) []string { return []string{totpCode(t, s, time.Now())} },
			want: []string{"step_up_failed"}},
		{name: "another browser", app: true, other: true, codes: func(s string) []string { return []string{totpCode(t, s, time.Now())} },
			want: []string{"step_up_failed"}},
		{name: "no app"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, email := fmt.Sprintf("cus_step_%d", i), fmt.Sprintf("step%d@example.com", i)
			if err := ts.shop.ImportAccount(demo.Account{ID: id, Email: email, Name: "Step Up", CreatedAt: time.Now().Add(-400 * 24 * time.Hour),
				Address: demo.Address{Line1: "1 Main Street", City: "Berlin", PostalCode: "10115", Country: "DE"}}, password); err != nil {
				t.Fatal(err)
			}
			var secret string
			if tc.app {
				en, err := c.EnrolTOTP(ctx, id, "Test shop", email)
				if err != nil {
					t.Fatal(err)
				}
				secret = en.Secret
				// The previous step's code, so that the current one is still unused.
				if _, err := c.ConfirmTOTP(ctx, id, totpCode(t, secret, time.Now().Add(-30*time.Second))); err != nil {
					t.Fatal(err)
				}
			}
			b := ts.browser(t)
			resp, fields := postPage(t, ts, b, "/login", url.Values{"email": {email}, "password": {password}})
			if got := resp.Header.Get(demo.AccountStatusHeader); resp.StatusCode != 401 || got != "challenged" {
				t.Fatalf("sign-in: %d %q, want 401 challenged", resp.StatusCode, got)
			}
			if !tc.app {
				if resp.Header.Get(demo.StepUpHeader) != "" || fields.Get("pending") != "" {
					t.Errorf("a customer without an app got the step-up page")
				}
				return
			}
			if resp.Header.Get(demo.StepUpHeader) != "totp" || fields.Get("pending") == "" || !strings.HasPrefix(fields.Get("challenge"), "ch_") {
				t.Fatalf("no step-up page: header %q, fields %v", resp.Header.Get(demo.StepUpHeader), fields)
			}
			if tc.forge {
				fields.Set("pending", strings.Repeat("ab", 16))
			}
			if tc.other {
				b = ts.browser(t)
			}
			for j, code := range tc.codes(secret) {
				resp, _ := postPage(t, ts, b, demo.StepUpPath, url.Values{"code": {code}, "challenge": {fields.Get("challenge")}, "pending": {fields.Get("pending")}})
				if got := resp.Header.Get(demo.AccountStatusHeader); got != tc.want[j] {
					t.Fatalf("answer %d (%s): %d %q, want %q", j+1, code, resp.StatusCode, got, tc.want[j])
				}
			}
			u, _ := url.Parse(ts.srv.URL)
			var session bool
			for _, ck := range b.Jar.Cookies(u) {
				session = session || ck.Name == demo.SessionCookie
			}
			if session != tc.session {
				t.Errorf("signed in: %v, want %v", session, tc.session)
			}
		})
	}
}
