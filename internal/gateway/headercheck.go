package gateway

import (
	"net/http"
	"strings"
)

// The reasons headerAnomaly gives. They are constants so that the check
// allocates nothing; none quotes a header's value, which the client
// chose.
const (
	reasonMalformedFetchMode = "claims a browser, malformed Sec-Fetch-Mode"
	reasonMalformedFetchSite = "claims a browser, malformed Sec-Fetch-Site"
	reasonMalformedFetchDest = "claims a browser, malformed Sec-Fetch-Dest"
	reasonMalformedFetchUser = "claims a browser, malformed Sec-Fetch-User"
	reasonMalformedUA        = "claims a browser, malformed Sec-CH-UA"
	reasonMalformedUAMobile  = "claims a browser, malformed Sec-CH-UA-Mobile"

	reasonChromeNoFetchMode  = "claims chrome, sends no Sec-Fetch-Mode"
	reasonChromeNoFetchSite  = "claims chrome, sends no Sec-Fetch-Site"
	reasonChromeNoFetchDest  = "claims chrome, sends no Sec-Fetch-Dest"
	reasonFirefoxNoFetchMode = "claims firefox, sends no Sec-Fetch-Mode"
	reasonFirefoxNoFetchSite = "claims firefox, sends no Sec-Fetch-Site"
	reasonFirefoxNoFetchDest = "claims firefox, sends no Sec-Fetch-Dest"

	reasonNoAcceptLanguage = "claims a browser, no Accept-Language"
	reasonNoAcceptEncoding = "claims a browser, no Accept-Encoding"
	reasonNoGzip           = "claims a browser, Accept-Encoding without gzip"
	reasonChromeNoUA       = "claims chrome, sends no Sec-CH-UA"
)

// The first versions that send what the rules expect: Chromium sends
// Sec-Fetch-Mode and -Site since 76 and Sec-Fetch-Dest since 80, and the
// Sec-CH-UA client hints by default since 89; Firefox sends all three
// Sec-Fetch-* since 90.
const (
	chromeFetchMetadata = 80
	chromeClientHints   = 89
	firefoxFetchMeta    = 90
)

// headerAnomaly compares the header set of a request with what the
// browser its user agent ua claims really sends, and returns why they
// disagree ("" when they agree, or when ua claims no browser: tools and
// bots are not compared). method is the request's method and secure says
// whether the client sent it to an https URL (r.TLS != nil, or a trusted
// proxy's X-Forwarded-Proto: https): browsers send their fetch metadata
// and client hints only to potentially trustworthy URLs, so over plain
// HTTP only the rules that hold everywhere apply. h is the request's
// header as net/http gives it (canonical names; the same for HTTP/1.1
// and HTTP/2, whose header order is not kept and not used).
//
// It is cheap enough for every request: a few map look-ups and scans of
// the user agent, and no allocation.
//
// The rules, each backed by the captures in testdata/headers (real
// Chromium 156 and Firefox ESR 153 requests of every kind a page makes,
// over h2, HTTP/1.1 over TLS, plain HTTP to 127.0.0.1 and plain HTTP to
// a name that is not localhost; curl, Wget, Python urllib and requests
// and Go's client with and without a browser's user agent):
//
//  1. Shape. Sec-Fetch-Mode, -Site and -Dest are single lowercase
//     tokens, Sec-Fetch-User is "?1", Sec-CH-UA-Mobile is "?0" or "?1"
//     and Sec-CH-UA is a list of quoted brands with versions, whenever
//     a browser sends them (every browser capture). A browser's network
//     stack writes these headers; pages cannot (Sec- is forbidden to
//     scripts).
//  2. Fetch metadata. Over https, Chromium ≥ 80 and Firefox ≥ 90 send
//     Sec-Fetch-Mode, -Site and -Dest on every request, navigations,
//     subresources, fetch, XHR, beacons, form posts and CORS preflights
//     alike (browser-*-h2-*, browser-chromium-h1tls-*), except
//     Chromium's WebSocket handshake (browser-chromium-*-websocket),
//     which is left out. No tool sends them (tool-*). Safari is not
//     held to it: it could not be measured here. To a plain-HTTP name
//     neither browser sends them (browser-*-http-name-*), hence secure.
//  3. Accept-Language. Every browser request carries one, over every
//     protocol and for every kind, preflights and WebSockets included
//     (all browser-* captures); requests, urllib, Wget, curl and Go send
//     none. CORS preflights (OPTIONS), which fetch nothing, are left out
//     of this rule and the next two, and so are Safari's WebSocket
//     handshakes: Safari could not be measured.
//  4. Accept-Encoding with gzip. Every browser request offers gzip
//     ("gzip, deflate, br, zstd" over TLS and to localhost, "gzip,
//     deflate" to a plain-HTTP name) except media requests, which ask
//     a Range with "identity" (browser-*-media); requests with a Range
//     are left out, and so is a request whose Accept-Encoding a proxy
//     or antivirus has masked in place (another 15-letter header name,
//     such as "Xccept-Encoding" or "~~~~~~~~~~~~~~~"). curl sends none,
//     Wget and urllib "identity".
//  5. Client hints. Over https, Chromium ≥ 89 sends Sec-CH-UA on every
//     request that carries fetch metadata except CORS preflights and
//     WebSocket handshakes (browser-chromium-*-cors-preflight, -websocket).
//
// Clients that are left out because their own stack may answer for the
// browser: Android WebView and apps built on it (user agents with
// "; wv)" or "Version/" beside "Chrome/"), and the Gecko forks that
// claim a recent Firefox without fetch metadata (Pale Moon and Basilisk,
// "Goanna/"; SeaMonkey). A browser sending more than its family does
// (a Firefox claim with Sec-CH-UA) is not accused: user-agent switcher
// extensions do exactly that.
func headerAnomaly(ua, method string, h http.Header, secure bool) string {
	claim := claimOf(ua)
	if claim == "" {
		return ""
	}
	if claim == claimChrome && isWebView(ua) {
		return "" // Android WebView: the app may fetch for it
	}
	if r := malformed(h); r != "" {
		return r
	}
	preflight := method == http.MethodOptions
	websocket := isWebSocket(method, h)
	if secure && !(websocket && claim == claimChrome) {
		switch claim {
		case claimChrome:
			if majorAfter(ua, "Chrome/") >= chromeFetchMetadata {
				if r := fetchMetadata(h, reasonChromeNoFetchMode, reasonChromeNoFetchSite, reasonChromeNoFetchDest); r != "" {
					return r
				}
			}
		case claimFirefox:
			if majorAfter(ua, "Firefox/") >= firefoxFetchMeta && !isGeckoFork(ua) {
				if r := fetchMetadata(h, reasonFirefoxNoFetchMode, reasonFirefoxNoFetchSite, reasonFirefoxNoFetchDest); r != "" {
					return r
				}
			}
		}
	}
	if preflight || (claim == claimSafari && websocket) {
		return ""
	}
	if al := h["Accept-Language"]; len(al) == 0 || al[0] == "" {
		return reasonNoAcceptLanguage
	}
	if len(h["Range"]) == 0 {
		if ae := h["Accept-Encoding"]; len(ae) == 0 {
			if !maskedAcceptEncoding(h) {
				return reasonNoAcceptEncoding
			}
		} else if !offersGzip(ae) {
			return reasonNoGzip
		}
	}
	if secure && !websocket && claim == claimChrome && majorAfter(ua, "Chrome/") >= chromeClientHints && len(h["Sec-Ch-Ua"]) == 0 {
		return reasonChromeNoUA
	}
	return ""
}

// isWebView reports whether ua, claiming Chrome, is Android WebView or an
// app built on it ("; wv)", or "Version/" beside "Chrome/"), whose app may
// fetch for it with its own stack.
func isWebView(ua string) bool {
	return strings.Contains(ua, "; wv)") || strings.Contains(ua, "Version/")
}

// isGeckoFork reports whether ua, claiming Firefox, is a Gecko fork that
// claims a recent Firefox without behaving as one (Pale Moon and
// Basilisk, "Goanna/"; SeaMonkey).
func isGeckoFork(ua string) bool {
	return strings.Contains(ua, "Goanna/") || strings.Contains(ua, "SeaMonkey/")
}

// malformed returns why a browser-written header that is present has a
// shape no browser writes ("" when all are well formed or absent).
func malformed(h http.Header) string {
	if v, ok := h["Sec-Fetch-Mode"]; ok && (len(v) != 1 || !isToken(v[0])) {
		return reasonMalformedFetchMode
	}
	if v, ok := h["Sec-Fetch-Site"]; ok && (len(v) != 1 || !isToken(v[0])) {
		return reasonMalformedFetchSite
	}
	if v, ok := h["Sec-Fetch-Dest"]; ok && (len(v) != 1 || !isToken(v[0])) {
		return reasonMalformedFetchDest
	}
	if v, ok := h["Sec-Fetch-User"]; ok && (len(v) != 1 || v[0] != "?1") {
		return reasonMalformedFetchUser
	}
	if v, ok := h["Sec-Ch-Ua-Mobile"]; ok && (len(v) != 1 || (v[0] != "?0" && v[0] != "?1")) {
		return reasonMalformedUAMobile
	}
	if v, ok := h["Sec-Ch-Ua"]; ok && (len(v) != 1 || !isBrandList(v[0])) {
		return reasonMalformedUA
	}
	return ""
}

// fetchMetadata returns the reason for the first missing Sec-Fetch-*
// header of the three every request carries.
func fetchMetadata(h http.Header, noMode, noSite, noDest string) string {
	switch {
	case len(h["Sec-Fetch-Mode"]) == 0:
		return noMode
	case len(h["Sec-Fetch-Site"]) == 0:
		return noSite
	case len(h["Sec-Fetch-Dest"]) == 0:
		return noDest
	}
	return ""
}

// isToken reports whether s is what the fetch metadata values are: one
// or more lowercase letters and hyphens ("no-cors", "same-origin").
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 'a' || c > 'z') && c != '-' {
			return false
		}
	}
	return true
}

// isBrandList reports whether s looks like a Sec-CH-UA list: it starts
// with a quoted brand and carries a version parameter
// (`"Chromium";v="156", "Not:A-Brand";v="8"`).
func isBrandList(s string) bool {
	return len(s) > 0 && s[0] == '"' && strings.Contains(s, `";v="`)
}

// isWebSocket reports whether the request opens a WebSocket: an
// HTTP/1.1 upgrade with a key, or an HTTP/2 extended CONNECT.
func isWebSocket(method string, h http.Header) bool {
	if method == http.MethodConnect {
		return true
	}
	up := h["Upgrade"]
	return method == http.MethodGet && len(up) == 1 && strings.EqualFold(up[0], "websocket") && len(h["Sec-Websocket-Key"]) == 1
}

// offersGzip reports whether an Accept-Encoding header offers gzip.
func offersGzip(values []string) bool {
	for _, v := range values {
		if strings.Contains(v, "gzip") {
			return true
		}
	}
	return false
}

// maskedAcceptEncoding reports whether a header name looks like an
// Accept-Encoding that a proxy or antivirus overwrote in place to keep
// responses uncompressed: another name of the same 15 characters.
func maskedAcceptEncoding(h http.Header) bool {
	for name := range h {
		if len(name) == len("Accept-Encoding") && name != "Accept-Language" && name != "X-Forwarded-For" {
			return true
		}
	}
	return false
}

// majorAfter returns the major version that follows marker in ua
// ("Chrome/" in "Chrome/156.0.0.0" gives 156), or 0 when there is none.
func majorAfter(ua, marker string) int {
	i := strings.Index(ua, marker)
	if i < 0 {
		return 0
	}
	n := 0
	for j := i + len(marker); j < len(ua) && j < i+len(marker)+5; j++ {
		c := ua[j]
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	return n
}
