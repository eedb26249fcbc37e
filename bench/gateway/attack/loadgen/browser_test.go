package main

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// TestChromeHeaders holds the simulated browsers (and the attackers who
// copy them) to what Chrome sends on every request, as shopguard's header
// check expects of a client claiming Chrome (internal/gateway/headercheck.go):
// Accept-Language, Accept-Encoding with gzip, well-formed fetch metadata
// and client hints.
func TestChromeHeaders(t *testing.T) {
	token := regexp.MustCompile(`^[a-z-]+$`)
	tests := []struct {
		dest, site string
		wantMode   string
	}{
		{"document", "none", "navigate"},
		{"document", "same-origin", "navigate"},
		{"style", "same-origin", "no-cors"},
		{"script", "same-origin", "no-cors"},
		{"image", "same-origin", "no-cors"},
	}
	for _, tt := range tests {
		t.Run(tt.dest+"/"+tt.site, func(t *testing.T) {
			h := http.Header{}
			setChromeHeaders(h, tt.dest, tt.site)
			if !strings.HasPrefix(h.Get("User-Agent"), "Mozilla/5.0 ") || !strings.Contains(h.Get("User-Agent"), "Chrome/") {
				t.Errorf("User-Agent %q does not claim Chrome", h.Get("User-Agent"))
			}
			if h.Get("Accept-Language") == "" || !strings.Contains(h.Get("Accept-Encoding"), "gzip") {
				t.Errorf("Accept-Language %q, Accept-Encoding %q", h.Get("Accept-Language"), h.Get("Accept-Encoding"))
			}
			for name, want := range map[string]string{"Sec-Fetch-Mode": tt.wantMode, "Sec-Fetch-Site": tt.site, "Sec-Fetch-Dest": tt.dest} {
				if v := h.Values(name); len(v) != 1 || v[0] != want || !token.MatchString(v[0]) {
					t.Errorf("%s = %q, want %q", name, v, want)
				}
			}
			if u := h.Values("Sec-Fetch-User"); tt.dest == "document" && (len(u) != 1 || u[0] != "?1") || tt.dest != "document" && len(u) != 0 {
				t.Errorf("Sec-Fetch-User = %q", u)
			}
			if ua := h.Get("Sec-Ch-Ua"); !strings.HasPrefix(ua, `"`) || !strings.Contains(ua, `";v="`) || h.Get("Sec-Ch-Ua-Mobile") != "?0" {
				t.Errorf("client hints %q, %q", ua, h.Get("Sec-Ch-Ua-Mobile"))
			}
		})
	}
}
