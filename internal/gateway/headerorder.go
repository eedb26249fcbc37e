package gateway

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/shopguard/shopguard/internal/http1"
)

// HeaderHeaderOrder tells the shop the fingerprint of the order in which
// the client sent its header fields (see headerOrderPrint); absent for
// HTTP/2, whose field order the gateway does not see. A client's own
// copy is always dropped.
const HeaderHeaderOrder = "X-Shopguard-Header-Order"

// headerOrderPrint returns the fingerprint of r's header field order:
// "h1", the number of fields (two digits at least), and a 64-bit FNV-1a
// hash of the field names lower-cased, in order, each followed by a
// comma — "h1_12_9f3c1b0e5a7d2c44". Browsers send their fields in an
// order of their own (Chrome puts Connection and the client hints before
// User-Agent, Firefox User-Agent right after Host), and HTTP libraries in
// theirs, which a script changing its User-Agent rarely imitates: the
// same tool keeps one print across addresses and user agents. "" when the
// order is unknown (HTTP/2, or a request not served by the gateway's own
// HTTP/1 server).
func headerOrderPrint(r *http.Request) string {
	names := http1.HeaderOrder(r)
	if names == nil {
		return ""
	}
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	for _, n := range names {
		for i := 0; i < len(n); i++ {
			c := n[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			h = (h ^ uint64(c)) * prime
		}
		h = (h ^ ',') * prime
	}
	var buf [32]byte
	b := append(buf[:0], "h1_"...)
	if len(names) < 10 {
		b = append(b, '0')
	}
	b = strconv.AppendInt(b, int64(len(names)), 10)
	b = append(b, '_')
	var hexBuf [16]byte
	hex := strconv.AppendUint(hexBuf[:0], h, 16)
	for range 16 - len(hex) {
		b = append(b, '0')
	}
	b = append(b, hex...)
	return string(b)
}

// The reasons orderAnomaly gives (constants: the check allocates nothing).
const (
	reasonChromeOrderConnection = "claims chrome, header order not chrome's: Connection not second"
	reasonChromeOrderLanguage   = "claims chrome, header order not chrome's: Accept-Language not right after Accept-Encoding"
	reasonFirefoxOrder          = "claims firefox, header order not firefox's: not User-Agent, Accept, Accept-Language after Host"
)

// orderAnomaly compares the order of an HTTP/1.x request's header names
// (as sent, http1.HeaderOrder) with the order the browser its user agent
// ua claims writes them in, and returns why they disagree ("" when they
// agree, when ua claims no browser whose order is known, or when the
// order is unknown: HTTP/2). h is the request's header: a request a proxy
// says it forwarded (Via, Forwarded, X-Forwarded-For) is not compared,
// since proxies rewrite and reorder fields (a browser behind a forward
// proxy sends Proxy-Connection, which the proxy turns into a Connection
// of its own); the caller leaves out requests from trusted proxies.
//
// The rules, each holding for every HTTP/1.1 request of every kind in
// the captures in testdata/headers (Chromium 156 over TLS and plain
// HTTP, to an address and to a name; Firefox ESR 153 over plain HTTP; the
// "# order=" lines) and broken by every tool there that claims the
// browser (curl, Wget, Python requests and urllib, Go, with a browser's
// user agent and even its Accept and Accept-Language):
//
//  1. Chromium writes Host, then Connection, first. Tools write
//     User-Agent second (curl, Wget, requests, Go) or Accept-Encoding
//     first (urllib).
//  2. Chromium writes Accept-Language right after Accept-Encoding, near
//     the end (before only Range and the WebSocket keys).
//  3. Firefox writes Host, User-Agent, Accept, Accept-Language first.
//
// Android WebView and the Gecko forks are left out, as in headerAnomaly;
// Safari could not be measured here.
func orderAnomaly(ua string, names []string, h http.Header) string {
	if len(names) == 0 || len(h["Via"]) > 0 || len(h["Forwarded"]) > 0 || len(h["X-Forwarded-For"]) > 0 {
		return ""
	}
	switch claimOf(ua) {
	case claimChrome:
		if isWebView(ua) {
			return ""
		}
		if len(names) < 2 || !strings.EqualFold(names[0], "Host") || !strings.EqualFold(names[1], "Connection") {
			return reasonChromeOrderConnection
		}
		for i, n := range names {
			if strings.EqualFold(n, "Accept-Encoding") && (i+1 == len(names) || !strings.EqualFold(names[i+1], "Accept-Language")) && hasName(names, "Accept-Language") {
				return reasonChromeOrderLanguage
			}
		}
	case claimFirefox:
		if isGeckoFork(ua) {
			return ""
		}
		if len(names) < 4 || !strings.EqualFold(names[0], "Host") || !strings.EqualFold(names[1], "User-Agent") ||
			!strings.EqualFold(names[2], "Accept") || !strings.EqualFold(names[3], "Accept-Language") {
			return reasonFirefoxOrder
		}
	}
	return ""
}

// hasName reports whether names holds name, in any case.
func hasName(names []string, name string) bool {
	for _, n := range names {
		if strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}
