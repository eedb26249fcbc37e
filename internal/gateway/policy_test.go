package gateway

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/shopguard/shopguard/internal/gateway/limit"
)

func TestReadPolicyExample(t *testing.T) {
	f, err := os.Open("testdata/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := ReadPolicy(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Limits) != 6 || len(p.Routes) != 3 || p.SessionCookie != "session_id" || p.Routes[0].AccountField != "email" {
		t.Fatalf("policy %+v", p)
	}
	if r := p.Limits[0]; r.Rate != 10 || r.Burst != 100 || r.Counts != limit.CountRequests || r.Key != limit.KeyIP {
		t.Errorf("requests_per_ip %+v", r)
	}
	if r := p.Limits[2]; r.Rate != 10.0/3600 || r.Counts != limit.CountResponses || len(r.Statuses) != 2 {
		t.Errorf("failed_logins_per_ip %+v", r)
	}
	if p.Routes[1].Methods[0] != "POST" {
		t.Errorf("methods are not upper-cased: %v", p.Routes[1].Methods)
	}
	for _, c := range []struct {
		method, path, route string
	}{
		{"POST", "/account/login", "login"}, {"GET", "/account/login", "everything"}, {"POST", "/checkout/pay", "checkout"},
		{"POST", "/checkout", "everything"}, {"GET", "/", "everything"},
	} {
		r := httptest.NewRequest(c.method, c.path, nil)
		for _, rt := range p.Routes {
			if rt.matches(r) {
				if rt.Name != c.route {
					t.Errorf("%s %s matched %s, want %s", c.method, c.path, rt.Name, c.route)
				}
				break
			}
		}
	}
}

func TestReadPolicyProblems(t *testing.T) {
	for _, c := range []struct {
		name, yaml string
		want       []string
	}{
		{"unknown key", "limits:\n  - name: a\n    key: ip\n    rate: 1\n    burst: 1\n    colour: red\n", []string{"colour"}},
		{"bad rate", "limits:\n  - {name: a, key: ip, rate: fast, burst: 1}\n", []string{"limits[0].rate"}},
		{"bad duration", "limits:\n  - {name: a, key: ip, rate: 5/fortnight, burst: 1}\n", []string{"limits[0].rate", "fortnight"}},
		{"no rate", "limits:\n  - {name: a, key: ip, burst: 1}\n", []string{"limits[0].rate: required"}},
		{"bad key and burst", "limits:\n  - {name: a, key: mac, rate: 1, burst: 0}\n", []string{"limits[0].key", "limits[0].burst"}},
		{"statuses on a request limit", "limits:\n  - {name: a, key: ip, rate: 1, burst: 1, statuses: [401]}\n", []string{"limits[0].statuses"}},
		{"account key on a route without account_field", "limits:\n  - {name: a, key: account, rate: 1, burst: 1}\nroutes:\n  - {name: r, path: /login, limits: [a]}\n",
			[]string{"routes[0].account_field: required"}},
		{"twice", "limits:\n  - {name: a, key: ip, rate: 1, burst: 1}\n  - {name: a, key: ip, rate: 1, burst: 1}\n", []string{"limits[1].name"}},
		{"undefined limit", "limits:\n  - {name: a, key: ip, rate: 1, burst: 1}\nroutes:\n  - {name: r, path: /x, limits: [b]}\n", []string{`routes[0].limits: "b"`}},
		{"star inside", "limits:\n  - {name: a, key: ip, rate: 1, burst: 1}\nroutes:\n  - {name: r, path: /a/*/b, limits: [a]}\n", []string{"routes[0].path"}},
		{"relative path, no name, bad method", "limits:\n  - {name: a, key: ip, rate: 1, burst: 1}\nroutes:\n  - {path: x, methods: [G3T], limits: [a]}\n",
			[]string{"routes[0].name", "routes[0].path", "routes[0].methods"}},
		{"no limits on a route", "routes:\n  - {name: r, path: /}\n", []string{"routes[0].limits"}},
		{"session without cookie", "limits:\n  - {name: a, key: session, rate: 1, burst: 1}\n", []string{"session_cookie"}},
		{"not YAML", "limits: [\n", []string{"invalid policy"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadPolicy(strings.NewReader(c.yaml))
			if !errors.Is(err, ErrPolicy) {
				t.Fatalf("error %v, want ErrPolicy", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
		})
	}
	if p, err := ReadPolicy(strings.NewReader("")); err != nil || len(p.Routes) != 0 {
		t.Errorf("empty policy: %+v, %v", p, err)
	}
}

// FuzzReadPolicy: any file gives a policy or ErrPolicy, never a panic; a
// policy read is one a limiter accepts.
func FuzzReadPolicy(f *testing.F) {
	if b, err := os.ReadFile("testdata/policy.yaml"); err == nil {
		f.Add(string(b))
	}
	f.Add("limits:\n  - {name: a, key: ip, rate: 1/1s, burst: 1}\nroutes:\n  - {name: r, path: /*, limits: [a]}\n")
	f.Add("routes:\n  - {name: r, path: /*, challenge: pow, challenge_bits: 12, challenge_when: mismatch}\n" +
		"good_bots:\n  - {name: g, user_agent: Googlebot, networks: [66.249.64.0/19]}\nclearance_ttl: 1h\n")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ReadPolicy(strings.NewReader(s))
		if err != nil {
			if !errors.Is(err, ErrPolicy) {
				t.Fatalf("error %v is not ErrPolicy", err)
			}
			return
		}
		if len(p.Limits) > 0 {
			if _, err := newLimiter(p, 100, nil); err != nil {
				t.Fatalf("a valid policy the limiter refuses: %v", err)
			}
		}
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		for _, rt := range p.Routes {
			rt.matches(r)
		}
	})
}

// FuzzAccountKey: any body gives a key or none, never a panic, and the
// shop still receives the body byte for byte.
func FuzzAccountKey(f *testing.F) {
	f.Add("email=ana%40shop.example&password=x", "application/x-www-form-urlencoded")
	f.Add(`{"email":"ana@shop.example","password":"x"}`, "application/json; charset=utf-8")
	f.Add(`{"email":42}`, "application/json")
	f.Add("%zz", "application/x-www-form-urlencoded")
	f.Fuzz(func(t *testing.T, body, ctype string) {
		r := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(body))
		r.Header.Set("Content-Type", ctype)
		key := accountKey(r, "email")
		if key != "" && len(key) != 32 {
			t.Fatalf("key %q", key)
		}
		got, err := io.ReadAll(r.Body)
		if err != nil || string(got) != body {
			t.Fatalf("body after reading the account: %q, %v; want %q", got, err, body)
		}
	})
}
