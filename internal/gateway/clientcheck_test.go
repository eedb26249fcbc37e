package gateway

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// The fingerprints below were measured on this project's machine against
// the gateway (Chromium 156, curl 7.88.1, Python 3.11 urllib, Wget 1.21.3,
// Go 1.26), and Firefox's is FoxIO's published one.
const (
	ja4Chromium = "t13d1517h2_8daaf6152771_cb7bf5808d99"
	ja4Firefox  = "t13d1715h2_5b57614c22b0_3d5424432f57"
	ja4Curl     = "t13d3112h2_e8f1e7e78f70_b26ce05bbdd6"
	ja4Python   = "t13d181100_85036bcba153_d41ae481755e"
	ja4Go       = "t13d1312h2_f57a46bbacb6_ab7e3b40a677"

	uaChrome  = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	uaEdge    = uaChrome + " Edg/131.0.0.0"
	uaFirefox = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
	uaSafari  = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15"
	uaCriOS   = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1"
)

func TestMismatch(t *testing.T) {
	for _, tc := range []struct {
		name, ua, ja4, want string
	}{
		{"chrome as chrome", uaChrome, ja4Chromium, ""},
		{"edge is chromium", uaEdge, ja4Chromium, ""},
		{"firefox as firefox", uaFirefox, ja4Firefox, ""},
		{"safari, unknown stack checked loosely", uaSafari, "t13d2014h2_a09f3c656075_14788d8d241b", ""},
		{"chrome on iOS uses Safari's stack", uaCriOS, "t13d2014h2_a09f3c656075_14788d8d241b", ""},
		{"curl calling itself chrome", uaChrome, ja4Curl, "claims chrome, TLS handshake of curl (OpenSSL 3)"},
		{"python calling itself firefox", uaFirefox, ja4Python, "claims firefox, TLS handshake of Python (OpenSSL 3)"},
		{"go calling itself safari", uaSafari, ja4Go, "claims safari, TLS handshake of Go crypto/tls"},
		{"firefox with chrome's ciphers", uaFirefox, ja4Chromium, "claims firefox, cipher suites of another client"},
		{"chrome without TLS 1.3", uaChrome, "t12d1516h2_8daaf6152771_cb7bf5808d99", "claims chrome, offers no TLS 1.3"},
		{"chrome without HTTP/2", uaChrome, "t13d1516h1_8daaf6152771_cb7bf5808d99", "claims chrome, does not offer HTTP/2"},
		{"honest curl", "curl/7.88.1", ja4Curl, ""},
		{"honest python", "Python-urllib/3.11", ja4Python, ""},
		{"no fingerprint (plain HTTP)", uaChrome, "", ""},
		{"malformed fingerprint", uaChrome, "t13d1516h2_8daaf6152771", ""},
		{"no user agent", "", ja4Curl, ""},
	} {
		if got := mismatch(tc.ua, tc.ja4); got != tc.want {
			t.Errorf("%s: mismatch = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// Over TLS, a Go client claiming to be Chrome is named to the shop and, on
// a route with challenge_when: mismatch, challenged; an honest Go client
// and a spoofed header pass untouched.
func TestMismatchOverTLS(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "mismatch=%q", r.Header.Get(HeaderMismatch))
	}))
	defer up.Close()
	policy, err := ReadPolicy(strings.NewReader(`
routes:
  - {name: shop, path: /shop/*, challenge: pow, challenge_when: mismatch}
`))
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile, pool := writeCert(t)
	g, base := startGateway(t, up.URL, func(c *Config) {
		c.TLSCert, c.TLSKey = certFile, keyFile
		c.Policy, c.MaxLimitKeys = policy, 100
	})
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	defer client.CloseIdleConnections()
	fetch := func(path, ua, spoof string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		req.Header.Set("User-Agent", ua)
		req.Header.Set("Accept", "text/html")
		if spoof != "" {
			req.Header.Set(HeaderMismatch, spoof)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := fetch("/other", uaChrome, ""); code != 200 || body != `mismatch="claims chrome, TLS handshake of Go crypto/tls"` {
		t.Errorf("go as chrome: %d %q", code, body)
	}
	if code, body := fetch("/other", "shop-sync/1.0", "nothing to see"); code != 200 || body != `mismatch=""` {
		t.Errorf("honest client with a spoofed header: %d %q", code, body)
	}
	if code, body := fetch("/shop/x", "shop-sync/1.0", ""); code != 200 || body != `mismatch=""` {
		t.Errorf("honest client on the mismatch-only route: %d %q", code, body)
	}
	if code, body := fetch("/shop/x", uaChrome, ""); code != http.StatusForbidden || !strings.Contains(body, "Checking your browser") {
		t.Errorf("go as chrome on the mismatch-only route: %d %.80q", code, body)
	}
	if n := testCounter(t, g, "shopguard_gateway_client_mismatch_total"); n != 2 {
		t.Errorf("mismatches counted: %v, want 2", n)
	}
}

// Over plain HTTP, where there is no TLS handshake to compare, a script
// claiming Chrome without the headers every browser sends, or with them
// in an order of its own, is named to the shop; a request with a real
// browser's headers in its order is not. The requests are written raw,
// field by field, as each client sends them.
func TestMismatchByHeaders(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "mismatch=%q", r.Header.Get(HeaderMismatch))
	}))
	defer up.Close()
	g, base := startGateway(t, up.URL, nil)
	addr := strings.TrimPrefix(base, "http://")
	for _, tc := range []struct {
		name   string
		fields []string // after the request line
		want   string
	}{
		{"a script", []string{"Host: shop", "User-Agent: " + uaChrome, "Accept: */*"},
			`mismatch="claims a browser, no Accept-Language"`},
		{"a script with a browser's headers", []string{"Host: shop", "User-Agent: " + uaChrome, "Accept-Encoding: gzip, deflate",
			"Accept: text/html", "Accept-Language: en-GB,en;q=0.9"}, `mismatch="` + reasonChromeOrderConnection + `"`},
		{"a browser", []string{"Host: shop", "Connection: keep-alive", "Upgrade-Insecure-Requests: 1", "User-Agent: " + uaChrome,
			"Accept: text/html", "Accept-Encoding: gzip, deflate", "Accept-Language: en-GB,en;q=0.9"}, `mismatch=""`},
		{"a browser behind a forward proxy", []string{"Host: shop", "Upgrade-Insecure-Requests: 1", "User-Agent: " + uaChrome,
			"Accept: text/html", "Accept-Encoding: gzip, deflate", "Accept-Language: en-GB,en;q=0.9", "Via: 1.1 squid", "Connection: keep-alive"}, `mismatch=""`},
		{"an honest tool", []string{"Host: shop", "User-Agent: curl/7.88.1", "Accept: */*"}, `mismatch=""`},
	} {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(conn, "GET / HTTP/1.1\r\n"+strings.Join(tc.fields, "\r\n")+"\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		b, _ := io.ReadAll(resp.Body)
		conn.Close()
		if string(b) != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, b, tc.want)
		}
	}
	if n := testCounter(t, g, "shopguard_gateway_client_mismatch_total"); n != 2 {
		t.Errorf("mismatches counted: %v, want 2", n)
	}
}

// testCounter sums the values of the gateway's metric name.
func testCounter(t *testing.T, g *Gateway, name string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	if err := reg.Register(g.Collector()); err != nil {
		t.Fatal(err)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, f := range families {
		if f.GetName() == name {
			for _, m := range f.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

func FuzzMismatch(f *testing.F) {
	f.Add(uaChrome, ja4Curl)
	f.Add(uaFirefox, ja4Firefox)
	f.Add("Mozilla/5.0 ", "t13d1516h2_8daaf6152771_")
	f.Fuzz(func(t *testing.T, ua, ja4 string) {
		if got := mismatch(ua, ja4); got != "" && (claimOf(ua) == "" || len(ja4) != 36) {
			t.Fatalf("mismatch %q without a claim or a whole fingerprint", got)
		}
	})
}

const uaGooglebot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"

// A good bot from its networks is never challenged and is named to the
// shop; the same user agent from elsewhere is an impostor.
func TestGoodBots(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "bot=%q mismatch=%q", r.Header.Get(HeaderBot), r.Header.Get(HeaderMismatch))
	}))
	defer up.Close()
	policy, err := ReadPolicy(strings.NewReader(`
limits:
  - {name: per_ip, key: ip, rate: 100/1s, burst: 100}
routes:
  - {name: api, path: /api/*, limits: [per_ip]}
  - {name: shop, path: /*, challenge: wait}
good_bots:
  - {name: googlebot, user_agent: Googlebot, networks: [66.249.64.0/19, "2001:4860:4801::/48"]}
`))
	if err != nil {
		t.Fatal(err)
	}
	g, base := startGateway(t, up.URL, func(c *Config) {
		c.Policy, c.MaxLimitKeys = policy, 100
		c.Trusted = Trusted{netip.MustParsePrefix("127.0.0.0/8")} // the test's X-Forwarded-For is believed
	})
	fetch := func(path, ua, from, spoof string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		req.Header.Set("User-Agent", ua)
		req.Header.Set("Accept", "text/html")
		req.Header.Set("X-Forwarded-For", from)
		if spoof != "" {
			req.Header.Set(HeaderBot, spoof)
		}
		return get(t, nil, req)
	}
	for _, from := range []string{"66.249.66.1", "2001:4860:4801:10::5"} {
		if code, body := fetch("/product/1", uaGooglebot, from, ""); code != 200 || body != `bot="googlebot" mismatch=""` {
			t.Errorf("googlebot from %s: %d %q", from, code, body)
		}
	}
	if code, body := fetch("/product/1", uaGooglebot, "203.0.113.5", ""); code != http.StatusForbidden || !strings.Contains(body, "Checking your browser") {
		t.Errorf("googlebot impostor on a challenged route: %d %.60q", code, body)
	}
	if code, body := fetch("/api/x", uaGooglebot, "203.0.113.5", ""); code != 200 || body != `bot="" mismatch="claims googlebot from outside its networks"` {
		t.Errorf("googlebot impostor on the API: %d %q", code, body)
	}
	if code, body := fetch("/api/x", "shop-sync/1.0", "203.0.113.6", "googlebot"); code != 200 || body != `bot="" mismatch=""` {
		t.Errorf("a client's own bot header: %d %q", code, body)
	}
	if n := testCounter(t, g, "shopguard_gateway_good_bot_requests_total"); n != 4 {
		t.Errorf("good-bot requests counted: %v, want 4", n)
	}
}

func TestGoodBotPolicyErrors(t *testing.T) {
	for _, tc := range []struct{ policy, want string }{
		{"good_bots:\n  - {name: g, user_agent: Googlebot}", "good_bots[0].networks: name the networks"},
		{"good_bots:\n  - {name: g, user_agent: Googlebot, networks: [66.249.64.0]}", `good_bots[0].networks: "66.249.64.0" is not a network`},
		{"good_bots:\n  - {name: g, user_agent: G, networks: [10.0.0.0/8]}", "good_bots[0].user_agent: 3 to 128 characters"},
		{"good_bots:\n  - {name: g, user_agent: Googlebot, networks: [10.0.0.0/8]}\n  - {name: g, user_agent: Bingbot, networks: [10.0.0.0/8]}", `good_bots[1].name: "g" is used twice`},
		{"good_bots:\n  - {user_agent: Googlebot, networks: [10.0.0.0/8]}", "good_bots[0].name: required"},
	} {
		if _, err := ReadPolicy(strings.NewReader(tc.policy)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("policy %q: %v, want %q", tc.policy, err, tc.want)
		}
	}
}
