package gateway

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// headerCapture is one request a real client sent, as captured in
// testdata/headers (see capture_test.go there for how).
type headerCapture struct {
	file, client, proto, url, method, kind string
	secure                                 bool
	header                                 http.Header
	order                                  []string // the names as sent (plain HTTP/1.x captures only)
}

// readHeaderCapture reads one capture file: a first line
// "# client=... | proto=... | url=... | method=... | request=...", for a
// plain-HTTP request a line "# order=Name, Name, ..." with the names in
// the order sent, then one "Name: value" line per header value.
func readHeaderCapture(path string) (headerCapture, error) {
	f, err := os.Open(path)
	if err != nil {
		return headerCapture{}, fmt.Errorf("capture: %w", err)
	}
	defer f.Close()
	c := headerCapture{file: filepath.Base(path), header: http.Header{}}
	sc := bufio.NewScanner(f)
	if !sc.Scan() || !strings.HasPrefix(sc.Text(), "# ") {
		return c, fmt.Errorf("capture %s: no first line naming the client", path)
	}
	for _, field := range strings.Split(strings.TrimPrefix(sc.Text(), "# "), " | ") {
		k, v, ok := strings.Cut(field, "=")
		if !ok {
			return c, fmt.Errorf("capture %s: field %q is not key=value", path, field)
		}
		switch k {
		case "client":
			c.client = v
		case "proto":
			c.proto = v
		case "url":
			c.url = v
		case "method":
			c.method = v
		case "request":
			c.kind = v
		}
	}
	if c.client == "" || c.method == "" || c.url == "" || c.kind == "" {
		return c, fmt.Errorf("capture %s: first line lacks client, method, url or request", path)
	}
	c.secure = strings.HasPrefix(c.url, "https://")
	for sc.Scan() {
		if order, ok := strings.CutPrefix(sc.Text(), "# order="); ok {
			c.order = strings.Split(order, ", ")
			continue
		}
		name, value, ok := strings.Cut(sc.Text(), ": ")
		if !ok {
			name, ok = strings.CutSuffix(sc.Text(), ":")
		}
		if !ok || name == "" {
			return c, fmt.Errorf("capture %s: line %q is not a header", path, sc.Text())
		}
		c.header[name] = append(c.header[name], value)
	}
	if err := sc.Err(); err != nil {
		return c, fmt.Errorf("capture %s: %w", path, err)
	}
	return c, nil
}

func readHeaderCaptures(t testing.TB) []headerCapture {
	t.Helper()
	files, err := filepath.Glob("testdata/headers/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	var out []headerCapture
	for _, file := range files {
		c, err := readHeaderCapture(file)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

// anomaly is what the gateway makes of the capture: the header set's
// anomaly, else the header order's.
func (c headerCapture) anomaly() string {
	if r := headerAnomaly(c.header.Get("User-Agent"), c.method, c.header, c.secure); r != "" {
		return r
	}
	return orderAnomaly(c.header.Get("User-Agent"), c.order, c.header)
}

// Every real browser request passes; every tool that puts on a
// browser's user agent is caught, for the reason pinned here; honest
// tools are not compared.
func TestHeaderAnomalyCaptures(t *testing.T) {
	want := map[string]string{
		"tool-curl-chromeua-h2-tool.txt":         reasonChromeNoFetchMode,
		"tool-curl-chromeheaders-h2-tool.txt":    reasonChromeNoFetchMode,
		"tool-curl-firefoxua-h2-tool.txt":        reasonFirefoxNoFetchMode,
		"tool-curl-chromeua-http-tool.txt":       reasonNoAcceptLanguage,
		"tool-go-chromeua-h2-tool.txt":           reasonChromeNoFetchMode,
		"tool-go-safariua-h2-tool.txt":           reasonNoAcceptLanguage,
		"tool-requests-chromeua-h1tls-tool.txt":  reasonChromeNoFetchMode,
		"tool-requests-firefoxua-h1tls-tool.txt": reasonFirefoxNoFetchMode,
		"tool-requests-safariua-h1tls-tool.txt":  reasonNoAcceptLanguage,
		"tool-urllib-chromeua-h1tls-tool.txt":    reasonChromeNoFetchMode,
		"tool-urllib-safariua-http-tool.txt":     reasonNoAcceptLanguage,
		"tool-wget-chromeua-h1tls-tool.txt":      reasonChromeNoFetchMode,
		"tool-wget-chromeua-http-tool.txt":       reasonNoAcceptLanguage,
		"tool-go-chromeua-http-tool.txt":         reasonNoAcceptLanguage,
		"tool-requests-chromeua-http-tool.txt":   reasonNoAcceptLanguage,
		// A browser's Accept, Accept-Language and compression over plain
		// HTTP: only the order gives these away.
		"tool-curl-chromeheaders-http-tool.txt":  reasonChromeOrderConnection,
		"tool-curl-firefoxheaders-http-tool.txt": reasonFirefoxOrder,
	}
	var browsers, impostors, honest int
	families := map[string]int{}
	for _, c := range readHeaderCaptures(t) {
		got := c.anomaly()
		ua := c.header.Get("User-Agent")
		switch {
		case strings.HasPrefix(c.file, "browser-"):
			browsers++
			families[claimOf(ua)]++
			if got != "" {
				t.Errorf("%s (%s, %s): real browser accused: %q", c.file, c.client, c.proto, got)
			}
		case strings.HasPrefix(c.file, "tool-") && claimOf(ua) != "":
			impostors++
			if w, ok := want[c.file]; !ok {
				t.Errorf("%s: a tool with a browser's user agent and no pinned reason (got %q)", c.file, got)
			} else if got != w {
				t.Errorf("%s (%s): anomaly %q, want %q", c.file, c.client, got, w)
			}
		case strings.HasPrefix(c.file, "tool-"):
			honest++
			if got != "" {
				t.Errorf("%s: honest tool %q compared: %q", c.file, ua, got)
			}
		default:
			t.Errorf("%s: name it browser-* or tool-*", c.file)
		}
	}
	if families[claimChrome] < 60 || families[claimFirefox] < 45 || impostors != len(want) || honest < 5 {
		t.Errorf("captures: %d browser (%v), %d impostor, %d honest tool: testdata/headers is incomplete", browsers, families, impostors, honest)
	}
}

// The rules fire on real browsers' header sets once the header they rely
// on is taken away, and only where the captures show the browser sends it.
func TestHeaderAnomalyCapturesMutated(t *testing.T) {
	fired := map[string]int{}
	for _, c := range readHeaderCaptures(t) {
		if !strings.HasPrefix(c.file, "browser-") {
			continue
		}
		ua := c.header.Get("User-Agent")
		claim := claimOf(ua)
		preflight, ws := c.method == http.MethodOptions, c.kind == "websocket"
		without := func(name string) string {
			h := c.header.Clone()
			h.Del(name)
			return headerAnomaly(ua, c.method, h, c.secure)
		}
		with := func(name, value string) string {
			h := c.header.Clone()
			h.Set(name, value)
			return headerAnomaly(ua, c.method, h, c.secure)
		}
		check := func(rule, got, want string) {
			t.Helper()
			if got != want {
				t.Errorf("%s: %s: anomaly %q, want %q", c.file, rule, got, want)
			}
			if want != "" {
				fired[rule]++
			}
		}
		if _, sent := c.header["Sec-Fetch-Mode"]; sent && c.secure {
			want := reasonChromeNoFetchMode
			if claim == claimFirefox {
				want = reasonFirefoxNoFetchMode
			}
			check("no Sec-Fetch-Mode", without("Sec-Fetch-Mode"), want)
			check("odd Sec-Fetch-Mode", with("Sec-Fetch-Mode", "Navigate"), reasonMalformedFetchMode)
		}
		if !preflight {
			check("no Accept-Language", without("Accept-Language"), reasonNoAcceptLanguage)
			if c.kind != "media" {
				check("identity", with("Accept-Encoding", "identity"), reasonNoGzip)
				check("no Accept-Encoding", without("Accept-Encoding"), reasonNoAcceptEncoding)
			} else {
				check("media without Accept-Encoding", without("Accept-Encoding"), "")
			}
		} else {
			check("preflight without Accept-Language", without("Accept-Language"), "")
		}
		if _, sent := c.header["Sec-Ch-Ua"]; sent && c.secure {
			check("no Sec-CH-UA", without("Sec-Ch-Ua"), reasonChromeNoUA)
		}
		if ws && claim == claimChrome {
			check("chromium websocket, no fetch metadata", headerAnomaly(ua, c.method, c.header, true), "")
		}
	}
	for _, rule := range []string{"no Sec-Fetch-Mode", "odd Sec-Fetch-Mode", "no Accept-Language", "identity", "no Accept-Encoding", "no Sec-CH-UA"} {
		if fired[rule] == 0 {
			t.Errorf("rule %q never exercised on a capture", rule)
		}
	}
}

const (
	uaChrome156   = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"
	uaChrome85    = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/85.0.4183.121 Safari/537.36"
	uaChrome75    = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/75.0.3770.142 Safari/537.36"
	uaWebView     = "Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/AP2A.240805.005; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/131.0.6778.39 Mobile Safari/537.36"
	uaFirefox89   = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:89.0) Gecko/20100101 Firefox/89.0"
	uaPaleMoon    = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:102.0) Gecko/20100101 Goanna/6.5 Firefox/102.0 PaleMoon/33.0.0"
	uaSafari18    = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15"
	brandsChrome  = `"Not:A-Brand";v="8", "Chromium";v="156"`
	encodingHTTPS = "gzip, deflate, br, zstd"
)

// chromeNav is the header set of Chromium 156's top-level navigation over
// h2 (browser-chromium-h2-name-navigation.txt), edited by the cases.
func chromeNav(edit func(h http.Header)) http.Header {
	h := http.Header{
		"Accept":                    {"text/html,application/xhtml+xml,application/xml;q=0.9,image/jxl,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"},
		"Accept-Encoding":           {encodingHTTPS},
		"Accept-Language":           {"en-US,en;q=0.9"},
		"Priority":                  {"u=0, i"},
		"Sec-Ch-Ua":                 {brandsChrome},
		"Sec-Ch-Ua-Mobile":          {"?0"},
		"Sec-Ch-Ua-Platform":        {`"Linux"`},
		"Sec-Fetch-Dest":            {"document"},
		"Sec-Fetch-Mode":            {"navigate"},
		"Sec-Fetch-Site":            {"none"},
		"Sec-Fetch-User":            {"?1"},
		"Upgrade-Insecure-Requests": {"1"},
	}
	if edit != nil {
		edit(h)
	}
	return h
}

// toolish is a tool's header set with a browser's Accept-Language and
// compression (what a careful impostor adds).
func toolish() http.Header {
	return http.Header{"Accept": {"*/*"}, "Accept-Encoding": {"gzip, deflate"}, "Accept-Language": {"en-US,en;q=0.9"}}
}

func TestHeaderAnomaly(t *testing.T) {
	del := func(names ...string) func(http.Header) {
		return func(h http.Header) {
			for _, n := range names {
				delete(h, n)
			}
		}
	}
	set := func(name string, values ...string) func(http.Header) {
		return func(h http.Header) { h[name] = values }
	}
	for _, tc := range []struct {
		name, ua, method string
		h                http.Header
		secure           bool
		want             string
	}{
		{"chromium navigation", uaChrome156, "GET", chromeNav(nil), true, ""},
		{"no user agent", "", "GET", http.Header{}, true, ""},
		{"honest tool", "curl/7.88.1", "GET", http.Header{"Accept": {"*/*"}}, true, ""},
		{"bot claims no browser", uaGooglebot, "GET", http.Header{}, true, ""},
		{"no fetch mode", uaChrome156, "GET", chromeNav(del("Sec-Fetch-Mode")), true, reasonChromeNoFetchMode},
		{"no fetch site", uaChrome156, "GET", chromeNav(del("Sec-Fetch-Site")), true, reasonChromeNoFetchSite},
		{"no fetch dest", uaChrome156, "GET", chromeNav(del("Sec-Fetch-Dest")), true, reasonChromeNoFetchDest},
		{"no client hints", uaChrome156, "GET", chromeNav(del("Sec-Ch-Ua")), true, reasonChromeNoUA},
		{"no client hints over plain http", uaChrome156, "GET", chromeNav(del("Sec-Ch-Ua", "Sec-Fetch-Mode", "Sec-Fetch-Site", "Sec-Fetch-Dest")), false, ""},
		{"chrome 85 predates client hints", uaChrome85, "GET", chromeNav(del("Sec-Ch-Ua", "Sec-Ch-Ua-Mobile", "Sec-Ch-Ua-Platform")), true, ""},
		{"chrome 75 predates fetch metadata", uaChrome75, "GET", toolish(), true, ""},
		{"chrome 75 still sends Accept-Language", uaChrome75, "GET", http.Header{"Accept-Encoding": {"gzip"}}, true, reasonNoAcceptLanguage},
		{"android webview is left out", uaWebView, "GET", http.Header{"Accept-Encoding": {"gzip"}}, true, ""},
		{"careful impostor over https", uaChrome156, "GET", toolish(), true, reasonChromeNoFetchMode},
		{"careful impostor over plain http passes", uaChrome156, "GET", toolish(), false, ""},
		{"firefox 89 predates fetch metadata", uaFirefox89, "GET", toolish(), true, ""},
		{"firefox without fetch metadata", uaFirefox, "GET", toolish(), true, reasonFirefoxNoFetchMode},
		{"firefox owes no client hints", uaFirefox, "GET", chromeNav(del("Sec-Ch-Ua", "Sec-Ch-Ua-Mobile", "Sec-Ch-Ua-Platform")), true, ""},
		{"firefox with client hints (a UA switcher) is not accused", uaFirefox, "GET", chromeNav(nil), true, ""},
		{"pale moon sends no fetch metadata", uaPaleMoon, "GET", toolish(), true, ""},
		{"safari is not held to fetch metadata", uaSafari18, "GET", toolish(), true, ""},
		{"safari without Accept-Language", uaSafari18, "GET", http.Header{"Accept-Encoding": {"gzip, deflate, br"}}, true, reasonNoAcceptLanguage},
		{"chrome on iOS is safari", uaCriOS, "GET", toolish(), true, ""},
		{"empty Accept-Language", uaChrome156, "GET", chromeNav(set("Accept-Language", "")), true, reasonNoAcceptLanguage},
		{"identity encoding", uaChrome156, "GET", chromeNav(set("Accept-Encoding", "identity")), true, reasonNoGzip},
		{"no encoding", uaChrome156, "GET", chromeNav(del("Accept-Encoding")), true, reasonNoAcceptEncoding},
		{"media range asks identity", uaChrome156, "GET", chromeNav(func(h http.Header) {
			h["Accept-Encoding"], h["Range"] = []string{"identity"}, []string{"bytes=0-"}
		}), true, ""},
		{"encoding masked by a proxy", uaChrome156, "GET", chromeNav(func(h http.Header) {
			h["Xccept-Encoding"] = h["Accept-Encoding"]
			delete(h, "Accept-Encoding")
		}), true, ""},
		{"encoding masked with tildes", uaFirefox, "GET", func() http.Header {
			h := toolish()
			h["~~~~~~~~~~~~~~~"] = []string{"~~~~~ ~~~~~~~"}
			delete(h, "Accept-Encoding")
			return h
		}(), false, ""},
		{"x-forwarded-for is no mask", uaFirefox, "GET", func() http.Header {
			h := toolish()
			h["X-Forwarded-For"] = []string{"203.0.113.7"}
			delete(h, "Accept-Encoding")
			return h
		}(), false, reasonNoAcceptEncoding},
		{"gzip offered in a second line", uaChrome156, "GET", chromeNav(set("Accept-Encoding", "br", "gzip")), true, ""},
		{"preflight without client hints", uaChrome156, "OPTIONS", chromeNav(del("Sec-Ch-Ua", "Sec-Ch-Ua-Mobile", "Sec-Ch-Ua-Platform", "Accept-Language")), true, ""},
		{"preflight without fetch metadata", uaChrome156, "OPTIONS", chromeNav(del("Sec-Fetch-Mode")), true, reasonChromeNoFetchMode},
		{"chromium websocket", uaChrome156, "GET", http.Header{
			"Accept-Encoding": {encodingHTTPS}, "Accept-Language": {"en-US"}, "Connection": {"Upgrade"},
			"Upgrade": {"websocket"}, "Sec-Websocket-Key": {"37n7J9KmWerP/lW9t7bbYg=="}, "Sec-Websocket-Version": {"13"},
		}, true, ""},
		{"chromium websocket still sends Accept-Language", uaChrome156, "GET", http.Header{
			"Accept-Encoding": {encodingHTTPS}, "Upgrade": {"websocket"}, "Sec-Websocket-Key": {"k"},
		}, true, reasonNoAcceptLanguage},
		{"an upgrade header alone is no websocket", uaChrome156, "GET", func() http.Header {
			h := toolish()
			h["Upgrade"] = []string{"websocket"}
			return h
		}(), true, reasonChromeNoFetchMode},
		{"http/2 websocket (extended CONNECT)", uaChrome156, "CONNECT", http.Header{"Accept-Encoding": {encodingHTTPS}, "Accept-Language": {"en"}}, true, ""},
		{"firefox websocket keeps fetch metadata", uaFirefox, "GET", http.Header{
			"Accept-Encoding": {encodingHTTPS}, "Accept-Language": {"en-US"}, "Upgrade": {"websocket"}, "Sec-Websocket-Key": {"k"},
		}, true, reasonFirefoxNoFetchMode},
		{"safari websocket", uaSafari18, "GET", http.Header{"Upgrade": {"websocket"}, "Sec-Websocket-Key": {"k"}}, true, ""},
		{"capitalised fetch mode", uaChrome156, "GET", chromeNav(set("Sec-Fetch-Mode", "Navigate")), true, reasonMalformedFetchMode},
		{"two fetch modes", uaChrome156, "GET", chromeNav(set("Sec-Fetch-Mode", "navigate", "navigate")), true, reasonMalformedFetchMode},
		{"empty fetch site", uaChrome156, "GET", chromeNav(set("Sec-Fetch-Site", "")), true, reasonMalformedFetchSite},
		{"fetch dest with a space", uaChrome156, "GET", chromeNav(set("Sec-Fetch-Dest", "document ")), true, reasonMalformedFetchDest},
		{"fetch user ?0", uaChrome156, "GET", chromeNav(set("Sec-Fetch-User", "?0")), true, reasonMalformedFetchUser},
		{"fetch user true", uaChrome156, "GET", chromeNav(set("Sec-Fetch-User", "true")), true, reasonMalformedFetchUser},
		{"mobile 0", uaChrome156, "GET", chromeNav(set("Sec-Ch-Ua-Mobile", "0")), true, reasonMalformedUAMobile},
		{"brands unquoted", uaChrome156, "GET", chromeNav(set("Sec-Ch-Ua", "Chromium 156")), true, reasonMalformedUA},
		{"malformed over plain http too", uaSafari18, "GET", func() http.Header {
			h := toolish()
			h["Sec-Fetch-Mode"] = []string{"NAVIGATE"}
			return h
		}(), false, reasonMalformedFetchMode},
		{"firefox-style navigation over plain http", uaFirefox, "POST", http.Header{
			"Accept": {"text/html"}, "Accept-Encoding": {"gzip, deflate"}, "Accept-Language": {"de"}, "Content-Type": {"application/x-www-form-urlencoded"},
		}, false, ""},
	} {
		if got := headerAnomaly(tc.ua, tc.method, tc.h, tc.secure); got != tc.want {
			t.Errorf("%s: headerAnomaly = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestMajorAfter(t *testing.T) {
	for _, tc := range []struct {
		ua, marker string
		want       int
	}{
		{uaChrome156, "Chrome/", 156},
		{uaChrome75, "Chrome/", 75},
		{"HeadlessChrome/156.0.0.0", "Chrome/", 156},
		{uaFirefox, "Firefox/", 133},
		{"Chrome/", "Chrome/", 0},
		{"Chrome/x1", "Chrome/", 0},
		{"Chrome/99999999999999999999", "Chrome/", 99999},
		{"curl/7.88.1", "Chrome/", 0},
	} {
		if got := majorAfter(tc.ua, tc.marker); got != tc.want {
			t.Errorf("majorAfter(%q, %q) = %d, want %d", tc.ua, tc.marker, got, tc.want)
		}
	}
}

// headerReasons are all the reasons headerAnomaly may give.
var headerReasons = map[string]bool{
	reasonMalformedFetchMode: true, reasonMalformedFetchSite: true, reasonMalformedFetchDest: true,
	reasonMalformedFetchUser: true, reasonMalformedUA: true, reasonMalformedUAMobile: true,
	reasonChromeNoFetchMode: true, reasonChromeNoFetchSite: true, reasonChromeNoFetchDest: true,
	reasonFirefoxNoFetchMode: true, reasonFirefoxNoFetchSite: true, reasonFirefoxNoFetchDest: true,
	reasonNoAcceptLanguage: true, reasonNoAcceptEncoding: true, reasonNoGzip: true, reasonChromeNoUA: true,
}

// FuzzHeaderAnomaly feeds arbitrary header sets: lines "Name: value" in
// raw, kept as sent (names need not be canonical, values may be anything),
// to both checks (the lines' order is the header order).
func FuzzHeaderAnomaly(f *testing.F) {
	for _, c := range readHeaderCaptures(f) {
		var b strings.Builder
		if c.order != nil {
			for _, name := range c.order {
				b.WriteString(name + ": " + c.header.Get(name) + "\n")
			}
		} else {
			for name, values := range c.header {
				for _, v := range values {
					b.WriteString(name + ": " + v + "\n")
				}
			}
		}
		f.Add(c.header.Get("User-Agent"), c.method, b.String(), c.secure)
	}
	f.Add(uaChrome156, "GET", "Upgrade: websocket\nSec-Websocket-Key: k\n", true)
	f.Add(uaFirefox, "OPTIONS", "Sec-Fetch-Mode:\n~~~~~~~~~~~~~~~: x\n", true)
	f.Fuzz(func(t *testing.T, ua, method, raw string, secure bool) {
		h := http.Header{}
		var names []string
		for _, line := range strings.Split(raw, "\n") {
			name, value, _ := strings.Cut(line, ":")
			h[name] = append(h[name], strings.TrimPrefix(value, " "))
			names = append(names, name)
		}
		got := headerAnomaly(ua, method, h, secure)
		if got != "" && claimOf(ua) == "" {
			t.Fatalf("anomaly %q without a browser claim in %q", got, ua)
		}
		if got != "" && !headerReasons[got] {
			t.Fatalf("unknown reason %q", got)
		}
		switch got := orderAnomaly(ua, names, h); {
		case got == "":
		case claimOf(ua) != claimChrome && claimOf(ua) != claimFirefox:
			t.Fatalf("order anomaly %q without a Chrome or Firefox claim in %q", got, ua)
		case got != reasonChromeOrderConnection && got != reasonChromeOrderLanguage && got != reasonFirefoxOrder:
			t.Fatalf("unknown order reason %q", got)
		}
	})
}

// The common path (a real browser's navigation, every rule passing) and a
// tool with a browser's user agent (caught by the first rule).
func BenchmarkHeaderAnomaly(b *testing.B) {
	for _, file := range []string{"browser-chromium-h2-name-navigation.txt", "browser-firefox-h2-name-image.txt", "tool-curl-chromeua-h2-tool.txt", "tool-curl-h2-tool.txt"} {
		c, err := readHeaderCapture(filepath.Join("testdata/headers", file))
		if err != nil {
			b.Fatal(err)
		}
		ua := c.header.Get("User-Agent")
		b.Run(strings.TrimSuffix(file, ".txt"), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				headerAnomaly(ua, c.method, c.header, c.secure)
			}
		})
	}
}
