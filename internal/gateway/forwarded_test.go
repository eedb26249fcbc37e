package gateway

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func TestClientIP(t *testing.T) {
	trusted := Trusted{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:ffff::/48")}
	for _, c := range []struct {
		name, remote string
		xff          []string
		want         string
	}{
		{"direct client", "203.0.113.9:5000", nil, "203.0.113.9"},
		{"untrusted peer forges the header", "203.0.113.9:5000", []string{"1.2.3.4"}, "203.0.113.9"},
		{"trusted proxy names the client", "10.0.0.2:443", []string{"198.51.100.7"}, "198.51.100.7"},
		{"client forged a first entry, the proxy appended the real one", "10.0.0.2:443", []string{"1.2.3.4, 198.51.100.7"}, "198.51.100.7"},
		{"two trusted hops", "10.0.0.2:443", []string{"198.51.100.7, 10.1.1.1"}, "198.51.100.7"},
		{"header repeated", "10.0.0.2:443", []string{"1.2.3.4", "198.51.100.7"}, "198.51.100.7"},
		{"entry with a port", "10.0.0.2:443", []string{"198.51.100.7:4711"}, "198.51.100.7"},
		{"IPv6 entry with a port", "10.0.0.2:443", []string{"[2001:db8::7]:443"}, "2001:db8::7"},
		{"IPv6 trusted peer", "[2001:db8:ffff::1]:443", []string{"2001:db8::9"}, "2001:db8::9"},
		{"garbage ends the walk at the last trusted hop", "10.0.0.2:443", []string{"198.51.100.7, not-an-ip, 10.1.1.1"}, "10.1.1.1"},
		{"empty entry", "10.0.0.2:443", []string{"198.51.100.7,"}, "10.0.0.2"},
		{"only trusted hops", "10.0.0.2:443", []string{"10.3.3.3"}, "10.3.3.3"},
		{"no header from a trusted proxy", "10.0.0.2:443", nil, "10.0.0.2"},
		{"a zone is not an address", "10.0.0.2:443", []string{"fe80::1%eth0"}, "10.0.0.2"},
		{"IPv4-mapped peer", "[::ffff:203.0.113.9]:80", nil, "203.0.113.9"},
		{"too many hops stop at the bound", "10.0.0.2:443", []string{"198.51.100.7" + strings.Repeat(", 10.0.0.1", 40)}, "10.0.0.1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = c.remote
			for _, v := range c.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			got, ok := trusted.ClientIP(r)
			if !ok || got.String() != c.want {
				t.Errorf("ClientIP = %v %v, want %s", got, ok, c.want)
			}
		})
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "pipe"
	if _, ok := trusted.ClientIP(r); ok {
		t.Error("a peer without an address gave one")
	}
}

func TestForwardHeaders(t *testing.T) {
	trusted := Trusted{netip.MustParsePrefix("10.0.0.0/8")}
	for _, c := range []struct {
		name, remote          string
		in                    http.Header
		wantFor, proto, fhost string
	}{
		{"untrusted peer: its headers are dropped", "203.0.113.9:5000",
			http.Header{"X-Forwarded-For": {"1.2.3.4"}, "X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"evil.test"}, "Forwarded": {"for=1.2.3.4"}},
			"203.0.113.9", "http", "shop.example"},
		{"trusted peer: its chain is kept and the peer appended", "10.0.0.2:443",
			http.Header{"X-Forwarded-For": {"198.51.100.7"}, "X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"www.shop.example"}},
			"198.51.100.7, 10.0.0.2", "https", "www.shop.example"},
		{"trusted peer with a nonsense scheme", "10.0.0.2:443",
			http.Header{"X-Forwarded-Proto": {"gopher"}}, "10.0.0.2", "http", "shop.example"},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := httptest.NewRequest(http.MethodGet, "http://shop.example/", nil)
			in.RemoteAddr, in.Header = c.remote, c.in
			out := in.Clone(in.Context())
			trusted.forwardHeaders(out, in)
			if got := out.Header.Get("X-Forwarded-For"); got != c.wantFor {
				t.Errorf("X-Forwarded-For %q, want %q", got, c.wantFor)
			}
			if got := out.Header.Get("X-Forwarded-Proto"); got != c.proto {
				t.Errorf("X-Forwarded-Proto %q, want %q", got, c.proto)
			}
			if got := out.Header.Get("X-Forwarded-Host"); got != c.fhost {
				t.Errorf("X-Forwarded-Host %q, want %q", got, c.fhost)
			}
			if out.Header.Get("Forwarded") != "" {
				t.Error("Forwarded passed on")
			}
		})
	}
}

// FuzzClientIP: any X-Forwarded-For from a trusted peer gives the peer or
// an address that is in the header, never a panic.
func FuzzClientIP(f *testing.F) {
	for _, s := range []string{"198.51.100.7", "1.2.3.4, 198.51.100.7", "[2001:db8::7]:443", "garbage,,", "fe80::1%eth0", "10.0.0.1, 10.0.0.2", ""} {
		f.Add(s, "10.0.0.2:443")
	}
	trusted := Trusted{netip.MustParsePrefix("10.0.0.0/8")}
	f.Fuzz(func(t *testing.T, xff, remote string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = remote
		r.Header.Set("X-Forwarded-For", xff)
		ip, ok := trusted.ClientIP(r)
		if !ok {
			return
		}
		if peer, _ := peerIP(remote); ip != peer && !headerHas(xff, ip) {
			t.Fatalf("ClientIP %v is neither the peer %v nor in %q", ip, peer, xff)
		}
		out := r.Clone(r.Context())
		trusted.forwardHeaders(out, r)
	})
}

// headerHas reports whether one of xff's entries reads as a.
func headerHas(xff string, a netip.Addr) bool {
	for _, e := range strings.Split(xff, ",") {
		if b, ok := parseForwardedAddr(strings.TrimSpace(e)); ok && b == a {
			return true
		}
	}
	return false
}
