package account

import "strings"

// Client is what a User-Agent string says about the software behind a
// login: the operating system family and the browser family with its major
// version. The login-risk model compares them coarse to fine (OS, then
// browser, then the full string), so that a customer's browser update
// changes only the finest level.
type Client struct {
	// OS is the operating system family ("Windows", "macOS", "iOS",
	// "Android", "Linux", "ChromeOS") or "" when the string names none.
	OS string
	// Browser is the browser family and major version ("Chrome 131",
	// "Safari 17", "Firefox 133"), or the first product token of a
	// non-browser client ("curl 8", "python-requests 2"); "" for an empty
	// string.
	Browser string
}

// osMarkers maps substrings to OS families, most specific first (Android
// strings say "Linux"; iPhone strings say "like Mac OS X").
var osMarkers = []struct{ marker, os string }{
	{"Windows", "Windows"},
	{"iPhone", "iOS"},
	{"iPad", "iOS"},
	{"iPod", "iOS"},
	{"Android", "Android"},
	{"CrOS", "ChromeOS"},
	{"Mac OS X", "macOS"},
	{"Macintosh", "macOS"},
	{"Linux", "Linux"},
}

// browserMarkers maps product tokens to browser families, in the order
// they must be tried: browsers built on Chromium or WebKit also name
// "Chrome" and "Safari", so the specific token comes first.
var browserMarkers = []struct{ token, family string }{
	{"Edg/", "Edge"},
	{"EdgA/", "Edge"},
	{"EdgiOS/", "Edge"},
	{"OPR/", "Opera"},
	{"SamsungBrowser/", "Samsung Internet"},
	{"YaBrowser/", "Yandex"},
	{"Vivaldi/", "Vivaldi"},
	{"Firefox/", "Firefox"},
	{"FxiOS/", "Firefox"},
	{"CriOS/", "Chrome"},
	{"Chrome/", "Chrome"},
	{"Version/", "Safari"}, // Safari's own version; "Safari/" carries the WebKit build
}

// ParseUserAgent returns the client a User-Agent string describes. It
// never fails: an unknown string yields its first product token.
func ParseUserAgent(ua string) Client {
	ua = strings.TrimSpace(ua)
	if ua == "" {
		return Client{}
	}
	var c Client
	for _, m := range osMarkers {
		if strings.Contains(ua, m.marker) {
			c.OS = m.os
			break
		}
	}
	for _, m := range browserMarkers {
		if i := strings.Index(ua, m.token); i >= 0 {
			if m.family == "Safari" && !strings.Contains(ua, "Safari/") {
				continue
			}
			c.Browser = m.family + " " + major(ua[i+len(m.token):])
			return c
		}
	}
	// Not a browser: the first product token and its major version.
	tok, _, _ := strings.Cut(ua, " ")
	name, ver, _ := strings.Cut(tok, "/")
	if len(name) > 40 {
		name = name[:40]
	}
	c.Browser = strings.TrimSpace(name + " " + major(ver))
	return c
}

// major returns the leading digits of a version ("131.0.6778.85" → "131").
func major(v string) string {
	n := 0
	for n < len(v) && n < 6 && v[n] >= '0' && v[n] <= '9' {
		n++
	}
	return v[:n]
}
