package gateway

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// Every real browser's HTTP/1.1 order passes the order rules on their
// own; every tool claiming Chrome or Firefox breaks them, even where its
// header set passes; honest tools and Safari claims are not compared.
func TestOrderAnomalyCaptures(t *testing.T) {
	var chrome, firefox, impostors int
	for _, c := range readHeaderCaptures(t) {
		if c.order == nil {
			continue
		}
		ua := c.header.Get("User-Agent")
		got := orderAnomaly(ua, c.order, c.header)
		claim := claimOf(ua)
		switch {
		case strings.HasPrefix(c.file, "browser-"):
			if claim == claimChrome {
				chrome++
			} else {
				firefox++
			}
			if got != "" {
				t.Errorf("%s (%s): real browser's order accused: %q", c.file, strings.Join(c.order, ", "), got)
			}
		case claim == claimChrome || claim == claimFirefox:
			impostors++
			if got == "" {
				t.Errorf("%s (%s): a tool's order passed as %s's", c.file, strings.Join(c.order, ", "), claim)
			}
		default:
			if got != "" {
				t.Errorf("%s: %q compared: %q", c.file, ua, got)
			}
		}
	}
	if chrome < 45 || firefox < 30 || impostors < 9 {
		t.Errorf("order captures: %d chrome, %d firefox, %d impostors: testdata/headers lacks the # order= lines", chrome, firefox, impostors)
	}
}

// Each rule fires on a real browser's order once the order it relies on
// is broken, and a request a proxy forwarded is not compared.
func TestOrderAnomalyRules(t *testing.T) {
	chrome := readCapture(t, "browser-chromium-http-name-navigation.txt")
	firefox := readCapture(t, "browser-firefox-http-name-navigation.txt")
	move := func(names []string, name string, to int) []string {
		out := slices.DeleteFunc(slices.Clone(names), func(n string) bool { return n == name })
		return slices.Insert(out, min(to, len(out)), name)
	}
	withHeader := func(h http.Header, name string) http.Header {
		h = h.Clone()
		h.Set(name, "1.1 proxy")
		return h
	}
	tests := []struct {
		name   string
		c      headerCapture
		order  []string
		header http.Header
		want   string
	}{
		{"chrome as captured", chrome, chrome.order, chrome.header, ""},
		{"chrome, Connection last", chrome, move(chrome.order, "Connection", 99), chrome.header, reasonChromeOrderConnection},
		{"chrome, no Connection", chrome, slices.DeleteFunc(slices.Clone(chrome.order), func(n string) bool { return n == "Connection" }), chrome.header, reasonChromeOrderConnection},
		{"chrome, Accept-Language before Accept-Encoding", chrome, move(chrome.order, "Accept-Language", 2), chrome.header, reasonChromeOrderLanguage},
		{"chrome, names lower-cased", chrome, lower(chrome.order), chrome.header, ""},
		{"chrome through a proxy (Via)", chrome, move(chrome.order, "Connection", 99), withHeader(chrome.header, "Via"), ""},
		{"chrome through a proxy (X-Forwarded-For)", chrome, move(chrome.order, "Connection", 99), withHeader(chrome.header, "X-Forwarded-For"), ""},
		{"firefox as captured", firefox, firefox.order, firefox.header, ""},
		{"firefox, Accept before User-Agent", firefox, move(firefox.order, "Accept", 1), firefox.header, reasonFirefoxOrder},
		{"firefox, Connection second", firefox, move(firefox.order, "Connection", 1), firefox.header, reasonFirefoxOrder},
		{"order unknown (HTTP/2)", chrome, nil, chrome.header, ""},
	}
	for _, tc := range tests {
		if got := orderAnomaly(tc.c.header.Get("User-Agent"), tc.order, tc.header); got != tc.want {
			t.Errorf("%s (%s): %q, want %q", tc.name, strings.Join(tc.order, ", "), got, tc.want)
		}
	}
	webview := strings.Replace(chrome.header.Get("User-Agent"), "(X11; Linux x86_64)", "(Linux; Android 14; wv)", 1)
	if got := orderAnomaly(webview, move(chrome.order, "Connection", 99), chrome.header); got != "" {
		t.Errorf("Android WebView compared: %q", got)
	}
}

// readCapture reads one file of testdata/headers.
func readCapture(t *testing.T, name string) headerCapture {
	t.Helper()
	c, err := readHeaderCapture("testdata/headers/" + name)
	if err != nil {
		t.Fatal(err)
	}
	if c.order == nil {
		t.Fatalf("%s has no # order= line", name)
	}
	return c
}

// lower returns names lower-cased.
func lower(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = strings.ToLower(n)
	}
	return out
}
