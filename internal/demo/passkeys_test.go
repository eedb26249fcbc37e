package demo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shopguard/shopguard/client"
	"github.com/shopguard/shopguard/client/virtualkey"
	"github.com/shopguard/shopguard/internal/demo"
	"github.com/shopguard/shopguard/internal/risk"
)

var passkeyLinkRE = regexp.MustCompile(`id="passkey-link" href="([^"]+)"`)

// TestShopStepsUpWithPasskey signs in against a shopguard that challenges
// every sign-in: the customer's step-up page links to shopguard's hosted
// page, served under the shop's own origin; the customer's passkey
// answers it, and the page brings them back signed in. The way back from
// another browser, or with a forged approval, signs nobody in.
func TestShopStepsUpWithPasskey(t *testing.T) {
	sgURL, key, c := startChallengingShopguard(t)
	ctx := context.Background()
	ts := newTestShop(t, sgURL, key, 5*time.Second, risk.ActionReview, func(cfg *demo.ShopConfig) { cfg.Shopguard = sgURL })
	base := strings.Replace(ts.srv.URL, "127.0.0.1", "localhost", 1) // passkeys need a domain name
	if _, err := c.SetRelyingParty(ctx, client.RelyingParty{ID: "localhost", Name: "Test shop", Origins: []string{base}}); err != nil {
		t.Fatal(err)
	}
	vk := virtualkey.New(virtualkey.Options{BackupEligible: true, BackupState: true})
	start, err := c.BeginPasskeyRegistration(ctx, "cus_1", "ada@example.com", "Ada", "Phone")
	if err != nil {
		t.Fatal(err)
	}
	cred, err := vk.Create(base, start.Options)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.FinishPasskeyRegistration(ctx, "cus_1", start.ID, cred); err != nil {
		t.Fatal(err)
	}

	send := func(b *http.Client, method, path, contentType string, body []byte) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, base+path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := b.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return resp, data
	}
	// stepUp signs ada in and answers the hosted page with her passkey;
	// it returns the way back to the shop.
	stepUp := func(b *http.Client) *url.URL {
		t.Helper()
		resp, page := send(b, http.MethodPost, "/login", "application/x-www-form-urlencoded",
			[]byte(url.Values{"email": {"ada@example.com"}, "password": {"correct horse battery"}}.Encode()))
		m := passkeyLinkRE.FindSubmatch(page)
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get(demo.StepUpHeader) != "passkey" || m == nil {
			t.Fatalf("sign-in: %d, step-up %q, passkey link %v", resp.StatusCode, resp.Header.Get(demo.StepUpHeader), m != nil)
		}
		hosted, err := url.Parse(strings.ReplaceAll(string(m[1]), "&amp;", "&"))
		if err != nil || hosted.IsAbs() || !strings.HasPrefix(hosted.Path, "/stepup/c/") {
			t.Fatalf("hosted page %q (%v): want a page under the shop's own origin", m[1], err)
		}
		if resp, page := send(b, http.MethodGet, hosted.RequestURI(), "", nil); resp.StatusCode != http.StatusOK || !bytes.Contains(page, []byte("Confirm with your passkey")) {
			t.Fatalf("hosted page through the shop: %d", resp.StatusCode)
		}
		var opts struct {
			ID      string          `json:"ceremony_id"`
			Options json.RawMessage `json:"options"`
		}
		if resp, data := send(b, http.MethodPost, hosted.Path+"/passkey-options?"+hosted.RawQuery, "application/json", nil); resp.StatusCode != http.StatusCreated || json.Unmarshal(data, &opts) != nil {
			t.Fatalf("passkey options: %d %s", resp.StatusCode, data)
		}
		assertion, err := vk.Get(base, opts.Options)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := json.Marshal(map[string]any{"method": "passkey", "ceremony_id": opts.ID, "credential": json.RawMessage(assertion)})
		var ans struct{ Status, Token, Redirect string }
		if resp, data := send(b, http.MethodPost, hosted.Path+"/answer?"+hosted.RawQuery, "application/json", body); resp.StatusCode != http.StatusOK || json.Unmarshal(data, &ans) != nil || ans.Status != "passed" {
			t.Fatalf("answer: %d %s", resp.StatusCode, data)
		}
		back, err := url.Parse(ans.Redirect)
		if err != nil || back.Host != strings.TrimPrefix(base, "http://") || back.Path != demo.PasskeyReturnPath {
			t.Fatalf("redirect %q: want the shop's return page", ans.Redirect)
		}
		return back
	}

	// The customer's own browser comes back signed in.
	b := ts.browser(t)
	back := stepUp(b)
	resp, _ := send(b, http.MethodGet, back.RequestURI(), "", nil)
	if got := resp.Header.Get(demo.AccountStatusHeader); resp.StatusCode != http.StatusSeeOther || got != "signed_in" {
		t.Errorf("back at the shop: %d %q, want 303 signed_in", resp.StatusCode, got)
	}
	// Signed in, the customer reaches shopguard's enrolment page under
	// the shop's origin to add another passkey or an app.
	resp, _ = send(b, http.MethodGet, demo.SecurityPath, "", nil)
	enrol := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(enrol, "/stepup/enrol?") {
		t.Fatalf("security page: %d to %q", resp.StatusCode, enrol)
	}
	if resp, page := send(b, http.MethodGet, enrol, "", nil); resp.StatusCode != http.StatusOK || !bytes.Contains(page, []byte("ada@example.com")) {
		t.Errorf("enrolment page through the shop: %d", resp.StatusCode)
	}
	if resp, _ := send(ts.browser(t), http.MethodGet, demo.SecurityPath, "", nil); !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Errorf("security page without signing in: to %q, want the sign-in page", resp.Header.Get("Location"))
	}
	// Another browser with the way back, or a forged approval, does not.
	b = ts.browser(t)
	back = stepUp(b)
	if resp, _ := send(ts.browser(t), http.MethodGet, back.RequestURI(), "", nil); resp.Header.Get(demo.AccountStatusHeader) != "step_up_failed" {
		t.Errorf("the way back from another browser: %q", resp.Header.Get(demo.AccountStatusHeader))
	}
	q := back.Query()
	q.Set("shopguard_token", "forged")
	back.RawQuery = q.Encode()
	if resp, _ := send(b, http.MethodGet, back.RequestURI(), "", nil); resp.Header.Get(demo.AccountStatusHeader) != "step_up_failed" {
		t.Errorf("a forged approval: %q", resp.Header.Get(demo.AccountStatusHeader))
	}
}
