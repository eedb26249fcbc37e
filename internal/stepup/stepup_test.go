package stepup_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/shopguard/shopguard/client"
	"github.com/shopguard/shopguard/client/virtualkey"
	"github.com/shopguard/shopguard/internal/app/apptest"
)

const shopOrigin = "https://shop.example"

var orderA = client.ChallengeAction{Type: "payment", Description: "Pay 129.00 EUR for order 8812", AmountMinor: 12900, Currency: "EUR", Reference: "8812"}

// env is a running shopguard with a shop whose passkeys live on shop.example.
type env struct {
	base string
	c    *client.Client
}

func start(t *testing.T, origins ...string) *env {
	t.Helper()
	a, srv := apptest.Start(t, "")
	c, err := client.New(srv.URL, apptest.Key(t, a, "shop"))
	if err != nil {
		t.Fatal(err)
	}
	rp := client.RelyingParty{ID: "shop.example", Name: "Northwind Outfitters", Origins: []string{shopOrigin}}
	if len(origins) > 0 {
		rp = client.RelyingParty{ID: "localhost", Name: "Northwind Outfitters", Origins: origins}
	}
	if _, err := c.SetRelyingParty(context.Background(), rp); err != nil {
		t.Fatal(err)
	}
	return &env{base: srv.URL, c: c}
}

// call POSTs body as JSON to a hosted page's endpoint and decodes the answer.
func (e *env) call(t *testing.T, path string, body any, out any) int {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(e.base+path, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && json.Unmarshal(raw, out) != nil {
		t.Fatalf("POST %s: %d %s", path, resp.StatusCode, raw)
	}
	return resp.StatusCode
}

// endpoint returns the path of a hosted page's endpoint: the page's path
// plus suffix, with the page's query.
func endpoint(page, suffix string) string {
	u, _ := url.Parse(page)
	return u.Path + suffix + "?" + u.RawQuery
}

func get(t *testing.T, u string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestEnrolAndStepUpThroughTheHostedPages enrols a passkey and an
// authenticator app through the enrolment page's endpoints, then passes a
// checkout step-up on the challenge page, which sends the customer back
// to the shop with an approval for that order only.
func TestEnrolAndStepUpThroughTheHostedPages(t *testing.T) {
	e := start(t)
	ctx := context.Background()

	_, err := e.c.CreateEnrolmentLink(ctx, "u_ana", client.EnrolmentLinkInput{ReturnURL: "https://evil.example/account"})
	wantField(t, err, "return_url")
	_, err = e.c.CreateEnrolmentLink(ctx, "u_ana", client.EnrolmentLinkInput{TTLSeconds: 10})
	wantField(t, err, "ttl_seconds")
	link, err := e.c.CreateEnrolmentLink(ctx, "u_ana", client.EnrolmentLinkInput{AccountName: "ana@example.com", ReturnURL: shopOrigin + "/account"})
	if err != nil || time.Until(link.ExpiresAt) < 14*time.Minute || !strings.HasPrefix(link.URL, "/stepup/enrol?") {
		t.Fatalf("enrolment link %+v, %v", link, err)
	}
	resp, page := get(t, e.base+link.URL)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "ana@example.com") || !strings.Contains(page, "Northwind Outfitters") {
		t.Fatalf("enrolment page: %d\n%s", resp.StatusCode, page)
	}
	h := resp.Header
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors "+shopOrigin) || !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("CSP %q", csp)
	}
	if h.Get("Referrer-Policy") != "no-referrer" || h.Get("Cache-Control") != "no-store" {
		t.Errorf("headers %v", h)
	}

	// A passkey.
	vk := virtualkey.New(virtualkey.Options{BackupEligible: true})
	var start struct {
		ID      string          `json:"ceremony_id"`
		Options json.RawMessage `json:"options"`
	}
	if st := e.call(t, endpoint(link.URL, "/passkey-options"), map[string]string{"passkey_name": "Ana's phone"}, &start); st != http.StatusCreated {
		t.Fatalf("passkey options: %d", st)
	}
	cred, err := vk.Create(shopOrigin, start.Options)
	if err != nil {
		t.Fatal(err)
	}
	var pk struct{ ID, Name string }
	if st := e.call(t, endpoint(link.URL, "/passkey"), map[string]any{"ceremony_id": start.ID, "credential": json.RawMessage(cred)}, &pk); st != http.StatusCreated || pk.Name != "Ana's phone" {
		t.Fatalf("passkey: %d %+v", st, pk)
	}

	// An authenticator app, confirmed with its first code.
	var en struct {
		Secret string `json:"secret"`
		QRCode string `json:"qr_code"`
	}
	if st := e.call(t, endpoint(link.URL, "/totp"), nil, &en); st != http.StatusCreated || !strings.HasPrefix(en.QRCode, "data:image/png;base64,") {
		t.Fatalf("totp: %d %+v", st, en)
	}
	var errBody struct {
		Error struct{ Field string } `json:"error"`
	}
	if st := e.call(t, endpoint(link.URL, "/totp/confirm"), map[string]string{"code": "000000"}, &errBody); st != http.StatusBadRequest || errBody.Error.Field != "code" {
		t.Errorf("wrong confirming code: %d %+v", st, errBody)
	}
	var rec struct {
		RecoveryCodes []string `json:"recovery_codes"`
	}
	if st := e.call(t, endpoint(link.URL, "/totp/confirm"), map[string]string{"code": apptest.TOTPCode(t, en.Secret, time.Now())}, &rec); st != http.StatusOK || len(rec.RecoveryCodes) != 10 {
		t.Fatalf("confirm: %d %+v", st, rec)
	}
	if f, err := e.c.Factors(ctx, "u_ana"); err != nil || f.Passkeys != 1 || f.TOTP != "active" {
		t.Errorf("factors after enrolment %+v, %v", f, err)
	}

	// The checkout step-up on the challenge page.
	_, err = e.c.StartChallenge(ctx, client.ChallengeInput{UserID: "u_ana", Action: orderA, ReturnURL: "https://shop.example.evil.test/done"})
	wantField(t, err, "return_url")
	ch, err := e.c.StartChallenge(ctx, client.ChallengeInput{UserID: "u_ana", Action: orderA, ReturnURL: shopOrigin + "/checkout/done?order=8812"})
	if err != nil || ch.HostedURL == "" || strings.Join(ch.Methods, ",") != "passkey,totp,recovery_code" {
		t.Fatalf("challenge %+v, %v", ch, err)
	}
	resp, page = get(t, e.base+ch.HostedURL)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Pay 129.00 EUR for order 8812") || !strings.Contains(page, "129.00 EUR") ||
		!strings.Contains(page, `id="use-passkey"`) || !strings.Contains(page, `id="totp-form"`) {
		t.Fatalf("challenge page: %d\n%s", resp.StatusCode, page)
	}
	if st := e.call(t, endpoint(ch.HostedURL, "/passkey-options"), nil, &start); st != http.StatusCreated {
		t.Fatalf("challenge passkey options: %d", st)
	}
	assertion, err := vk.Get(shopOrigin, start.Options)
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Status, Token, Redirect string
	}
	if st := e.call(t, endpoint(ch.HostedURL, "/answer"), map[string]any{"method": "passkey", "ceremony_id": start.ID, "credential": json.RawMessage(assertion)}, &out); st != http.StatusOK || out.Status != "passed" {
		t.Fatalf("answer: %d %+v", st, out)
	}
	back, err := url.Parse(out.Redirect)
	if err != nil || back.Host != "shop.example" || back.Path != "/checkout/done" || back.Query().Get("order") != "8812" ||
		back.Query().Get("shopguard_challenge") != ch.ID || back.Query().Get("shopguard_token") != out.Token {
		t.Fatalf("redirect %q", out.Redirect)
	}
	orderB := orderA
	orderB.Reference = "8813"
	if v, err := e.c.VerifyApproval(ctx, out.Token, "u_ana", orderB); err != nil || v.Valid {
		t.Errorf("order A's approval for order B: %+v, %v", v, err)
	}
	if v, err := e.c.VerifyApproval(ctx, out.Token, "u_ana", orderA); err != nil || !v.Valid || v.Method != "passkey" {
		t.Errorf("order A's approval: %+v, %v", v, err)
	}
	// A passed challenge's page says so and offers nothing to answer.
	if _, page := get(t, e.base+ch.HostedURL); !strings.Contains(page, "Already confirmed") || strings.Contains(page, "use-passkey") {
		t.Errorf("page of the passed challenge:\n%s", page)
	}
}

// TestHostedPagesRefuseBadLinksAndRequests: a changed link opens nothing,
// and the endpoints take JSON only.
func TestHostedPagesRefuseBadLinksAndRequests(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	link, err := e.c.CreateEnrolmentLink(ctx, "u_ana", client.EnrolmentLinkInput{})
	if err != nil {
		t.Fatal(err)
	}
	other := strings.Replace(link.URL, "u=u_ana", "u=u_bob", 1)
	if resp, page := get(t, e.base+other); resp.StatusCode != http.StatusNotFound || !strings.Contains(page, "not valid") {
		t.Errorf("enrolment page of a changed link: %d", resp.StatusCode)
	}
	var errBody struct {
		Error struct{ Code, Field string } `json:"error"`
	}
	if st := e.call(t, endpoint(other, "/totp"), nil, &errBody); st != http.StatusNotFound || errBody.Error.Code != "not_found" {
		t.Errorf("endpoint of a changed link: %d %+v", st, errBody)
	}
	resp, err := http.Post(e.base+endpoint(link.URL, "/totp"), "application/x-www-form-urlencoded", strings.NewReader("a=b"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a form post: %d, want 400", resp.StatusCode)
	}
	if st := e.call(t, endpoint(link.URL, "/totp/confirm"), "not an object", &errBody); st != http.StatusBadRequest || errBody.Error.Field != "body" {
		t.Errorf("a body of the wrong shape: %d %+v", st, errBody)
	}
	if resp, _ := get(t, e.base+"/stepup/c/ch_nothing?t=shop&k=abc"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a made-up challenge link: %d", resp.StatusCode)
	}
	if resp, js := get(t, e.base+"/stepup/shopguard.js"); resp.StatusCode != http.StatusOK || !strings.Contains(js, "ShopGuard") {
		t.Errorf("the snippet: %d", resp.StatusCode)
	}
}

func wantField(t *testing.T, err error, field string) {
	t.Helper()
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Status != http.StatusBadRequest || ce.Field != field {
		t.Fatalf("err = %v, want 400 naming %s", err, field)
	}
}
