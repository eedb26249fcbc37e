package dashboard_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shopguard/shopguard/client"
	"github.com/shopguard/shopguard/internal/app"
	"github.com/shopguard/shopguard/internal/app/apptest"
)

// env is a running shopguard (SQLite in a temp dir) with the API and the dashboard.
type env struct {
	app *app.App
	srv *httptest.Server
}

func start(t testing.TB) *env {
	t.Helper()
	a, srv := apptest.Start(t, "")
	return &env{app: a, srv: srv}
}

// user creates a dashboard user and returns its password.
func (e *env) user(t testing.TB, tenant, name, role string) string {
	t.Helper()
	pw, err := e.app.CreateUser(context.Background(), tenant, name, role)
	if err != nil {
		t.Fatal(err)
	}
	return pw
}

// apiClient returns a Go client with an all-scopes key for tenant.
func (e *env) apiClient(t testing.TB, tenant string) *client.Client {
	t.Helper()
	c, err := client.New(e.srv.URL, apptest.Key(t, e.app, tenant))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// browser is a cookie-keeping HTTP client that does not follow redirects.
type browser struct {
	t   testing.TB
	e   *env
	c   *http.Client
	csr string
}

func (e *env) browser(t testing.TB) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *browser) do(method, path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.e.srv.URL+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if m := csrfRE.FindSubmatch(raw); m != nil {
		b.csr = string(m[1])
	}
	return resp, string(raw)
}

func (b *browser) signIn(name, password string) *http.Response {
	b.t.Helper()
	resp, _ := b.do("POST", "/dashboard/signin", url.Values{"name": {name}, "password": {password}, "next": {"/dashboard/"}})
	return resp
}

// post sends a form with the session's CSRF token (fetched from page first).
func (b *browser) post(page, path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	b.do("GET", page, nil)
	form.Set("csrf", b.csr)
	return b.do("POST", path, form)
}

func scoreOrder(t testing.TB, c *client.Client, id string, amount int64, email string) *client.Decision {
	t.Helper()
	d, err := c.ScoreTransaction(context.Background(), client.Transaction{ID: id, CreatedAt: time.Now(), AmountMinor: amount, Currency: "EUR",
		User: &client.User{ID: "u-" + email, Email: email}, IP: "203.0.113.9", DeviceID: "dev-1",
		Payment: &client.Payment{Method: "card", CardFingerprint: "fp-" + email, BIN: "424242", Last4: "4242", CardCountry: "DE"}})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestNothingAnswersWithoutASession(t *testing.T) {
	e := start(t)
	b := e.browser(t)
	for _, p := range []string{"/dashboard/", "/dashboard/events", "/dashboard/events/ev_x", "/dashboard/review", "/dashboard/rules",
		"/dashboard/lists", "/dashboard/keys", "/dashboard/users", "/dashboard/audit", "/dashboard/audit.csv", "/dashboard/nope"} {
		resp, body := b.do("GET", p, nil)
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/dashboard/signin") {
			t.Errorf("GET %s without a session: %d to %q, want a redirect to sign-in", p, resp.StatusCode, resp.Header.Get("Location"))
		}
		if strings.Contains(body, "<table") {
			t.Errorf("GET %s without a session showed a table", p)
		}
	}
	if resp, _ := b.do("GET", "/dashboard/live", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /dashboard/live without a session: %d, want 401", resp.StatusCode)
	}
	for _, p := range []string{"/dashboard/events/ev_x/verdict", "/dashboard/rules/edit", "/dashboard/keys", "/dashboard/signout"} {
		if resp, _ := b.do("POST", p, url.Values{"label": {"fraud"}}); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("POST %s without a session: %d, want 401", p, resp.StatusCode)
		}
	}
}

func TestSignInAndSecurityHeaders(t *testing.T) {
	e := start(t)
	pw := e.user(t, "shop1", "ana", "admin")
	b := e.browser(t)
	if resp := b.signIn("ana", "wrong password!"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong password: %d, want 401", resp.StatusCode)
	}
	resp := b.signIn("ana", pw)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/dashboard/" {
		t.Fatalf("sign-in: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "sg_dashboard" {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.Path != "/dashboard" {
		t.Errorf("session cookie %+v: want HttpOnly, SameSite=Strict, Path=/dashboard", cookie)
	}
	resp, body := b.do("GET", "/dashboard/", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "Decisions per minute") {
		t.Fatalf("overview: %d", resp.StatusCode)
	}
	h := resp.Header
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "default-src 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP allows unsafe-inline: %q", csp)
	}
	if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Frame-Options") != "DENY" {
		t.Errorf("headers %v", h)
	}
	if strings.Contains(body, "<script>") || strings.Contains(body, " style=") || strings.Contains(body, " onclick=") {
		t.Error("the page has inline script or style, which the CSP forbids")
	}
	// Sign-out ends the session on the server too.
	if resp, _ := b.post("/dashboard/", "/dashboard/signout", url.Values{}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("sign-out: %d", resp.StatusCode)
	}
	if resp, _ := b.do("GET", "/dashboard/events", nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("after sign-out: %d, want a redirect to sign-in", resp.StatusCode)
	}
	// A redirect target outside the dashboard is ignored.
	b2 := e.browser(t)
	resp, _ = b2.do("POST", "/dashboard/signin", url.Values{"name": {"ana"}, "password": {pw}, "next": {"//evil.example/"}})
	if loc := resp.Header.Get("Location"); loc != "/dashboard/" {
		t.Errorf("sign-in with an outside next went to %q", loc)
	}
}

func TestSignInIsRateLimited(t *testing.T) {
	e := start(t)
	pw := e.user(t, "shop1", "ana", "analyst")
	b := e.browser(t)
	for i := range 5 {
		if resp := b.signIn("ana", "wrong password!"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i+1, resp.StatusCode)
		}
	}
	resp := b.signIn("ana", pw)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Errorf("sixth attempt (right password): %d, want 429 with Retry-After", resp.StatusCode)
	}
}

func TestCSRFAndRoles(t *testing.T) {
	e := start(t)
	pw := e.user(t, "shop1", "bo", "analyst")
	b := e.browser(t)
	b.signIn("bo", pw)
	// A form without the token, or with another, is refused.
	for _, token := range []string{"", "forged"} {
		resp, _ := b.do("POST", "/dashboard/lists", url.Values{"csrf": {token}, "name": {"x"}, "kind": {"ip"}, "effect": {"block"}})
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST with csrf %q: %d, want 403", token, resp.StatusCode)
		}
	}
	// Analysts review; admins change rules, lists, keys and users.
	for _, p := range []string{"/dashboard/keys", "/dashboard/users", "/dashboard/rules/new"} {
		if resp, _ := b.do("GET", p, nil); resp.StatusCode != http.StatusForbidden {
			t.Errorf("analyst GET %s: %d, want 403", p, resp.StatusCode)
		}
	}
	if resp, _ := b.post("/dashboard/lists", "/dashboard/lists", url.Values{"name": {"x"}, "kind": {"ip"}, "effect": {"block"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("analyst creating a list: %d, want 403", resp.StatusCode)
	}
}

// TestTenantsAreIsolated: an analyst of one shop sees nothing of another.
func TestTenantsAreIsolated(t *testing.T) {
	e := start(t)
	c1 := e.apiClient(t, "shop1")
	d := scoreOrder(t, c1, "ord-secret", 12345, "secret@example.com")
	pw2 := e.user(t, "shop2", "cy", "admin")
	b := e.browser(t)
	b.signIn("cy", pw2)
	if resp, body := b.do("GET", "/dashboard/events/"+d.ID, nil); resp.StatusCode != http.StatusNotFound || strings.Contains(body, "secret@example.com") {
		t.Errorf("other tenant's event: %d", resp.StatusCode)
	}
	for _, p := range []string{"/dashboard/events", "/dashboard/events?entity=secret%40example.com", "/dashboard/review", "/dashboard/", "/dashboard/live"} {
		// (the entity search echoes the e-mail typed into its filter; the order id must not appear)
		if _, body := b.do("GET", p, nil); strings.Contains(body, "ord-secret") || strings.Contains(body, d.ID) {
			t.Errorf("GET %s shows another tenant's event", p)
		}
	}
	if resp, _ := b.post("/dashboard/events", "/dashboard/events/"+d.ID+"/verdict", url.Values{"label": {"fraud"}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("verdict on another tenant's event: %d, want 404", resp.StatusCode)
	}
	ev, err := c1.Event(context.Background(), d.ID)
	if err != nil || len(ev.Labels) != 0 {
		t.Errorf("the other tenant's event got labels: %+v, %v", ev.Labels, err)
	}
	// The first tenant's admin does see it.
	pw1 := e.user(t, "shop1", "ana", "admin")
	b1 := e.browser(t)
	b1.signIn("ana", pw1)
	if resp, body := b1.do("GET", "/dashboard/events/"+d.ID, nil); resp.StatusCode != 200 || !strings.Contains(body, "secret@example.com") {
		t.Errorf("own event: %d", resp.StatusCode)
	}
}

// TestReviewVerdictAndAudit works a case over plain HTTP: the verdict is a
// label on the event (as through the API), the case leaves the queue, and
// the audit log has it.
func TestReviewVerdictAndAudit(t *testing.T) {
	e := start(t)
	c := e.apiClient(t, "shop1")
	if _, err := c.PutRule(context.Background(), client.Rule{Name: "hold_big", Kind: "transaction", Expression: "amount_minor >= 50000",
		Action: client.ActionReview, Description: "big order"}); err != nil {
		t.Fatal(err)
	}
	d := scoreOrder(t, c, "ord-big", 90000, "big@example.com")
	if d.Action != client.ActionReview {
		t.Fatalf("decision %s, want review", d.Action)
	}
	pw := e.user(t, "shop1", "ana", "analyst")
	b := e.browser(t)
	b.signIn("ana", pw)
	if _, body := b.do("GET", "/dashboard/review", nil); !strings.Contains(body, "ord-big") {
		t.Fatal("the held order is not in the review queue")
	}
	resp, _ := b.post("/dashboard/review", "/dashboard/events/"+d.ID+"/assign", url.Values{"assignee": {"me"}, "next": {"review"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("assign: %d", resp.StatusCode)
	}
	b.post("/dashboard/events/"+d.ID, "/dashboard/events/"+d.ID+"/note", url.Values{"text": {"customer confirmed by phone"}})
	resp, _ = b.post("/dashboard/review", "/dashboard/events/"+d.ID+"/verdict", url.Values{"label": {"false_positive"}, "snooze": {"1"}, "next": {"review"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("verdict: %d", resp.StatusCode)
	}
	ev, err := c.Event(context.Background(), d.ID)
	if err != nil || len(ev.Labels) != 1 || ev.Labels[0].Label != "false_positive" || ev.Labels[0].Source != "analyst:ana" {
		t.Fatalf("labels %+v, %v", ev.Labels, err)
	}
	if _, body := b.do("GET", "/dashboard/review", nil); strings.Contains(body, "ord-big") {
		t.Error("the judged case is still in the queue")
	}
	// The snooze put the customer and card on allow lists: the same
	// customer's next big order is allowed, with the list as the reason.
	d2 := scoreOrder(t, c, "ord-big-2", 90000, "big@example.com")
	if d2.Action != client.ActionAllow {
		t.Errorf("after the snooze: %s %+v, want allow", d2.Action, d2.Reasons)
	}
	_, audit := b.do("GET", "/dashboard/audit", nil)
	for _, want := range []string{"verdict", "case.assign", "case.note", "list.add", "user:ana", "rule.put", "api key sgk_"} {
		if !strings.Contains(audit, want) {
			t.Errorf("audit log lacks %q", want)
		}
	}
	resp, csv := b.do("GET", "/dashboard/audit.csv", nil)
	if resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" || !strings.HasPrefix(csv, "id,at,actor,action,target,detail\n") || !strings.Contains(csv, "false_positive") {
		t.Errorf("audit CSV: %q", csv)
	}
}
