package dashboard_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/shopguard/shopguard/client/virtualkey"
)

// call POSTs JSON to the dashboard at base (with a CSRF header if given)
// and decodes the answer.
func (b *browser) call(base, path, csrf string, body, out any) int {
	return b.callFrom("", base, path, csrf, body, out)
}

// callFrom is call from a page of origin (its Origin header; "" for none).
func (b *browser) callFrom(origin, base, path, csrf string, body, out any) int {
	b.t.Helper()
	raw, _ := json.Marshal(body)
	req, err := http.NewRequest(http.MethodPost, base+path, bytes.NewReader(raw))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if csrf != "" {
		req.Header.Set("X-CSRF-Token", csrf)
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil {
		_ = json.Unmarshal(data, out)
	}
	return resp.StatusCode
}

// ceremony is a passkey ceremony's first step as the dashboard answers it.
type ceremony struct {
	ID      string          `json:"ceremony_id"`
	Options json.RawMessage `json:"options"`
	Error   string          `json:"error"`
}

// TestPasskeyEndpointsGuard: adding a passkey needs the session and its
// CSRF token, passkeys need the dashboard's domain name (not an IP), and
// a disabled user's passkey signs nobody in.
func TestPasskeyEndpointsGuard(t *testing.T) {
	e := start(t)
	admin := e.user(t, "shop", "root", "admin")
	pw := e.user(t, "shop", "ana", "analyst")
	local := strings.Replace(e.srv.URL, "127.0.0.1", "localhost", 1)
	origin := local

	b := e.browser(t)
	if st := b.call(local, "/dashboard/account/passkeys/options", "", nil, nil); st != http.StatusUnauthorized {
		t.Errorf("without a session: %d, want 401", st)
	}
	b.signIn("ana", pw)
	b.do("GET", "/dashboard/account", nil)
	var c ceremony
	// By IP address: no passkeys (they need a domain name).
	if st := b.call(e.srv.URL, "/dashboard/account/passkeys/options", b.csr, nil, &c); st != http.StatusNotFound || !strings.Contains(c.Error, "domain name") {
		t.Errorf("by IP address: %d %q", st, c.Error)
	}
	// The cookie jar keeps cookies per host: sign in again on localhost.
	lb := e.browser(t)
	signInAt(t, lb, local, "ana", pw)
	if st := lb.call(local, "/dashboard/account/passkeys/options", "forged", nil, &c); st != http.StatusForbidden {
		t.Errorf("with a forged CSRF token: %d, want 403", st)
	}
	vk := virtualkey.New(virtualkey.Options{})
	if st := lb.call(local, "/dashboard/account/passkeys/options", lb.csr, nil, &c); st != http.StatusCreated {
		t.Fatalf("options: %d %q", st, c.Error)
	}
	cred, err := vk.Create(origin, c.Options)
	if err != nil {
		t.Fatal(err)
	}
	var added struct{ ID, Redirect, Error string }
	if st := lb.call(local, "/dashboard/account/passkeys", lb.csr, map[string]any{"ceremony_id": c.ID, "credential": json.RawMessage(cred)}, &added); st != http.StatusCreated {
		t.Fatalf("add: %d %q", st, added.Error)
	}

	// Behind a proxy that terminates TLS, the browser's Origin header says
	// the page is https: a passkey made there registers, and one whose
	// browser claimed https without it does not.
	https := strings.Replace(local, "http://", "https://", 1)
	for _, tc := range []struct {
		header string
		want   int
	}{{https, http.StatusCreated}, {"", http.StatusBadRequest}} {
		var c2 ceremony
		if st := lb.callFrom(tc.header, local, "/dashboard/account/passkeys/options", lb.csr, nil, &c2); st != http.StatusCreated {
			t.Fatalf("options (Origin %q): %d %q", tc.header, st, c2.Error)
		}
		cred, err := virtualkey.New(virtualkey.Options{}).Create(https, c2.Options)
		if err != nil {
			t.Fatal(err)
		}
		var out struct{ Error string }
		if st := lb.callFrom(tc.header, local, "/dashboard/account/passkeys", lb.csr, map[string]any{"ceremony_id": c2.ID, "credential": json.RawMessage(cred)}, &out); st != tc.want {
			t.Errorf("a passkey made on an https page (Origin %q): %d %q, want %d", tc.header, st, out.Error, tc.want)
		}
	}

	// The passkey signs ana in, until an admin disables her.
	signInWithPasskey := func() (int, string) {
		t.Helper()
		nb := e.browser(t)
		var c ceremony
		if st := nb.call(local, "/dashboard/signin/passkey/options", "", nil, &c); st != http.StatusCreated {
			t.Fatalf("sign-in options: %d %q", st, c.Error)
		}
		a, err := vk.Get(origin, c.Options)
		if err != nil {
			t.Fatal(err)
		}
		var out struct{ Redirect, Error string }
		st := nb.call(local, "/dashboard/signin/passkey", "", map[string]any{"ceremony_id": c.ID, "credential": json.RawMessage(a), "next": "https://evil.example/"}, &out)
		if st == http.StatusOK && out.Redirect != "/dashboard/" {
			t.Errorf("redirect after sign-in %q: want the dashboard, never another site", out.Redirect)
		}
		return st, out.Error
	}
	if st, msg := signInWithPasskey(); st != http.StatusOK {
		t.Fatalf("passkey sign-in: %d %q", st, msg)
	}
	ab := e.browser(t)
	ab.signIn("root", admin)
	if resp, _ := ab.post("/dashboard/users", "/dashboard/users/ana/disable", map[string][]string{}); resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusOK {
		t.Fatalf("disable ana: %d", resp.StatusCode)
	}
	if st, msg := signInWithPasskey(); st != http.StatusUnauthorized {
		t.Errorf("a disabled user's passkey: %d %q, want 401", st, msg)
	}
}

// signInAt signs b in on the dashboard at base and keeps the CSRF token.
func signInAt(t *testing.T, b *browser, base, name, password string) {
	t.Helper()
	form := "name=" + name + "&password=" + password + "&next=%2Fdashboard%2Faccount"
	req, _ := http.NewRequest(http.MethodPost, base+"/dashboard/signin", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = b.c.Get(base + "/dashboard/account")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	m := csrfRE.FindSubmatch(raw)
	if m == nil {
		t.Fatalf("no CSRF token on the account page (%d)", resp.StatusCode)
	}
	b.csr = string(m[1])
}
