package gateway

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/gateway/challenge"
)

const challengePolicy = `
limits:
  - name: per_ip
    key: ip
    rate: 1000/1s
    burst: 1000
routes:
  - name: api
    path: /api/*
    limits: [per_ip]
  - name: checkout
    path: /checkout/*
    challenge: pow
    challenge_bits: 6
  - name: slow
    path: /slow/*
    challenge: wait
  - name: everything
    path: /*
    limits: [per_ip]
`

// challenged starts a gateway with challengePolicy in front of echo, its
// clock under the test's control.
func challenged(t *testing.T) (*Gateway, string, *time.Time) {
	t.Helper()
	p, err := ReadPolicy(strings.NewReader(challengePolicy))
	if err != nil {
		t.Fatal(err)
	}
	up := httptest.NewServer(http.HandlerFunc(echo))
	t.Cleanup(up.Close)
	g, base := startGateway(t, up.URL, func(c *Config) {
		c.Policy, c.MaxLimitKeys = p, 1000
		c.ChallengeSecret = []byte(strings.Repeat("s", 32))
	})
	now := time.Now()
	g.challenges.now = func() time.Time { return now }
	return g, base, &now
}

func pageRequest(t *testing.T, method, u string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	req.Header.Set("User-Agent", "Mozilla/5.0 test")
	return req
}

// noRedirects is a client with a cookie jar that shows redirects.
func noRedirects(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var (
	puzzleRe = regexp.MustCompile(`name="puzzle" value="([^"]+)"`)
	waitRe   = regexp.MustCompile(`url=(/\.shopguard/challenge\?[^"]+)"`)
)

func TestChallengeProofOfWork(t *testing.T) {
	_, base, _ := challenged(t)
	c := noRedirects(t)

	// Routes without a challenge, and APIs, pass as before.
	if code, body := get(t, c, pageRequest(t, "GET", base+"/api/orders")); code != 200 || !strings.HasPrefix(body, "GET /api/orders") {
		t.Fatalf("api: %d %q", code, body)
	}
	// A page view of a challenged route gets the page; anything else a 403.
	code, page := get(t, c, pageRequest(t, "GET", base+"/checkout/pay?cart=7"))
	if code != http.StatusForbidden || !strings.Contains(page, "Checking your browser") {
		t.Fatalf("page view: %d %q", code, page)
	}
	xhr := pageRequest(t, "POST", base+"/checkout/pay")
	xhr.Header.Set("Accept", "application/json")
	if code, body := get(t, c, xhr); code != http.StatusForbidden || !strings.Contains(body, "browser check") {
		t.Fatalf("non-page request: %d %q", code, body)
	}

	m := puzzleRe.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no puzzle in the page:\n%s", page)
	}
	counter := challenge.Solve(challenge.Puzzle{Token: m[1], Bits: 6})
	form := url.Values{"puzzle": {m[1]}, "counter": {counter}, "return": {"/checkout/pay?cart=7"}}
	post := func(f url.Values) *http.Response {
		req, err := http.NewRequest("POST", base+challengePath, strings.NewReader(f.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("User-Agent", "Mozilla/5.0 test")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	// A wrong counter earns nothing.
	bad := url.Values{"puzzle": {m[1]}, "counter": {counter + "1"}, "return": {"/checkout/pay"}}
	if challenge.LeadingZeros(m[1], counter+"1") < 6 {
		if resp := post(bad); resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) != 0 {
			t.Fatalf("wrong counter: %d, cookies %v", resp.StatusCode, resp.Cookies())
		}
	}
	resp := post(form)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/checkout/pay?cart=7" {
		t.Fatalf("solution: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	var clearance *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == ClearanceCookie {
			clearance = ck
		}
	}
	if clearance == nil || !clearance.HttpOnly || clearance.SameSite != http.SameSiteLaxMode {
		t.Fatalf("clearance cookie: %+v", clearance)
	}
	// Cleared: the shop answers, page views and form posts alike.
	if code, body := get(t, c, pageRequest(t, "GET", base+"/checkout/pay?cart=7")); code != 200 || !strings.HasPrefix(body, "GET /checkout/pay?cart=7") {
		t.Fatalf("cleared page view: %d %q", code, body)
	}
	if code, body := get(t, c, xhr); code != 200 || !strings.HasPrefix(body, "POST /checkout/pay") {
		t.Fatalf("cleared post: %d %q", code, body)
	}
	// The clearance is bound to the client: another user agent is challenged.
	other := pageRequest(t, "GET", base+"/checkout/pay")
	other.Header.Set("User-Agent", "python-requests/2.31")
	if code, _ := get(t, c, other); code != http.StatusForbidden {
		t.Fatalf("clearance used by another user agent: %d", code)
	}
}

func TestChallengeWaitWithoutJavaScript(t *testing.T) {
	_, base, now := challenged(t)
	c := noRedirects(t)
	code, page := get(t, c, pageRequest(t, "GET", base+"/slow/item"))
	if code != http.StatusForbidden || strings.Contains(page, "<script") {
		t.Fatalf("wait page: %d (script: %v)", code, strings.Contains(page, "<script"))
	}
	m := waitRe.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no refresh in the page:\n%s", page)
	}
	waitURL := base + strings.ReplaceAll(m[1], "&amp;", "&")
	resp, err := c.Do(pageRequest(t, "GET", waitURL))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) != 0 {
		t.Fatalf("too early: %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
	*now = now.Add(waitFor)
	if resp, err = c.Do(pageRequest(t, "GET", waitURL)); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/slow/item" || len(resp.Cookies()) != 1 {
		t.Fatalf("after the wait: %d to %q, cookies %v", resp.StatusCode, resp.Header.Get("Location"), resp.Cookies())
	}
	if code, body := get(t, c, pageRequest(t, "GET", base+"/slow/item")); code != 200 || !strings.HasPrefix(body, "GET /slow/item") {
		t.Fatalf("cleared: %d %q", code, body)
	}
	// The clearance expires.
	*now = now.Add(31 * time.Minute)
	if code, _ := get(t, c, pageRequest(t, "GET", base+"/slow/item")); code != http.StatusForbidden {
		t.Fatalf("after the clearance expired: %d", code)
	}
}

func TestChallengeLoopEnds(t *testing.T) {
	_, base, _ := challenged(t)
	var codes []int
	for range ChallengeLoopRule.Burst + 2 {
		code, _ := get(t, nil, pageRequest(t, "GET", base+"/checkout/x")) // no cookie jar: never cleared
		codes = append(codes, code)
	}
	if codes[0] != http.StatusForbidden || codes[len(codes)-1] != http.StatusTooManyRequests {
		t.Fatalf("codes %v: want 403 pages, then 429", codes)
	}
}

func TestSafeReturn(t *testing.T) {
	for p, want := range map[string]bool{
		"/": true, "/checkout/pay?cart=7": true, "//evil.example/": false, "/\\evil.example": false,
		"https://evil.example/": false, "": false, "checkout": false, "/.shopguard/challenge": false, "/a\r\nSet-Cookie: x": false,
	} {
		if got := safeReturn(p); got != want {
			t.Errorf("safeReturn(%q) = %v, want %v", p, got, want)
		}
	}
}

func TestChallengePolicyErrors(t *testing.T) {
	for _, tc := range []struct{ policy, want string }{
		{"routes:\n  - {name: a, path: /x, challenge: captcha}", `routes[0].challenge: "captcha" is not pow, wait or never`},
		{"routes:\n  - {name: a, path: /x, challenge: pow, challenge_bits: 40}", "routes[0].challenge_bits: 40, must be 1..24"},
		{"routes:\n  - {name: a, path: /x, challenge: wait, challenge_bits: 4}", "routes[0].challenge_bits: only for challenge: pow"},
		{"routes:\n  - {name: a, path: /.shopguard/x, challenge: wait}", "routes[0].path: /.shopguard/ is the gateway's own"},
		{"routes:\n  - {name: a, path: /x}", "routes[0].limits: name at least one limit (or a challenge, a priority or a protection)"},
		{"routes:\n  - {name: a, path: /x, challenge: wait, challenge_when: sometimes}", `routes[0].challenge_when: "sometimes" is not always or mismatch`},
		{"routes:\n  - {name: a, path: /x, challenge_when: mismatch}", "routes[0].challenge_when: needs a challenge"},
		{"clearance_ttl: 10s\nroutes:\n  - {name: a, path: /x, challenge: wait}", `clearance_ttl: "10s", must be a duration from 1m to 168h`},
	} {
		_, err := ReadPolicy(strings.NewReader(tc.policy))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("policy %q: %v, want %q", tc.policy, err, tc.want)
		}
	}
	p, err := ReadPolicy(strings.NewReader("routes:\n  - {name: a, path: /x, challenge: pow}"))
	if err != nil || p.Routes[0].ChallengeBits != DefaultChallengeBits || p.ClearanceTTL != defaultClearanceTTL {
		t.Fatalf("defaults: %+v, %v", p, err)
	}
}

// Under attack, every page view is challenged except on routes that say
// never; the operator turns it on and off on the admin address.
func TestUnderAttack(t *testing.T) {
	p, err := ReadPolicy(strings.NewReader(`
limits:
  - {name: per_ip, key: ip, rate: 1000/1s, burst: 1000}
routes:
  - {name: api, path: /api/*, challenge: never, limits: [per_ip]}
  - {name: shop, path: /shop/*, limits: [per_ip]}
`))
	if err != nil {
		t.Fatal(err)
	}
	up := httptest.NewServer(http.HandlerFunc(echo))
	defer up.Close()
	g, base := startGateway(t, up.URL, func(c *Config) {
		c.Policy, c.MaxLimitKeys = p, 100
		c.ChallengeSecret = []byte(strings.Repeat("u", 32))
	})
	admin := httptest.NewServer(g.AdminHandler(http.NotFoundHandler()))
	defer admin.Close()
	set := func(v string) (int, string) {
		resp, err := http.PostForm(admin.URL+"/under-attack", url.Values{"on": {v}})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b := new(strings.Builder)
		_, _ = io.Copy(b, resp.Body)
		return resp.StatusCode, b.String()
	}
	codes := func() string {
		var out []string
		for _, path := range []string{"/shop/item", "/api/orders", "/elsewhere"} {
			code, _ := get(t, nil, pageRequest(t, "GET", base+path))
			out = append(out, fmt.Sprint(code))
		}
		return strings.Join(out, " ")
	}
	if got := codes(); got != "200 200 200" {
		t.Fatalf("before: %s", got)
	}
	if code, body := set("true"); code != 200 || !strings.HasPrefix(body, `{"under_attack":true,"mode":"on","reason":"switched on by an operator","since":"`) {
		t.Fatalf("turning it on: %d %q", code, body)
	}
	if got := codes(); got != "403 200 403" {
		t.Fatalf("under attack: %s, want the shop and unrouted pages challenged, the API not", got)
	}
	if code, body := set("maybe"); code != http.StatusBadRequest || !strings.Contains(body, `"field":"on"`) {
		t.Fatalf("a bad value: %d %q", code, body)
	}
	set("false")
	if got := codes(); got != "200 200 200" {
		t.Fatalf("after: %s", got)
	}
}
