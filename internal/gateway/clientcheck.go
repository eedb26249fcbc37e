package gateway

import (
	"strings"
)

// HeaderMismatch tells the shop that a client's user agent and its TLS
// handshake (a "Chrome" whose handshake is curl's) or its headers (a
// "Chrome" without Accept-Language) disagree, with the reason; absent when
// they agree or cannot be compared. A client's own copy is always dropped.
const HeaderMismatch = "X-Shopguard-Client-Mismatch"

// HeaderBot tells the shop the request comes from a verified good bot of
// the policy's catalogue (its name); a client's own copy is always dropped.
const HeaderBot = "X-Shopguard-Bot"

// Browser families a user agent can claim.
const (
	claimChrome  = "chrome"
	claimFirefox = "firefox"
	claimSafari  = "safari"
)

// claimOf returns the browser family a User-Agent claims ("" for anything
// else: tools, bots and unknown clients are not compared). Browsers on iOS
// all use Safari's network stack, whatever their name.
func claimOf(ua string) string {
	switch {
	case !strings.HasPrefix(ua, "Mozilla/5.0 "):
		return ""
	case strings.Contains(ua, "CriOS/") || strings.Contains(ua, "FxiOS/") || strings.Contains(ua, "EdgiOS/"):
		return claimSafari
	case strings.Contains(ua, "Firefox/"):
		return claimFirefox
	case strings.Contains(ua, "Chrome/") || strings.Contains(ua, "Chromium/"):
		return claimChrome
	case strings.Contains(ua, "Safari/") && strings.Contains(ua, "Version/"):
		return claimSafari
	}
	return ""
}

// browserCiphers are the JA4 cipher-list hashes (part b) of the browser
// families whose cipher list is stable across versions: Chrome and every
// Chromium browser (Chromium 156 measured here, and FoxIO's published
// JA4s), Firefox (published).
var browserCiphers = map[string]string{
	claimChrome:  "8daaf6152771",
	claimFirefox: "5b57614c22b0",
}

// libraryCiphers are the JA4 cipher-list hashes of HTTP libraries and
// tools, measured on this project's machine against the gateway: a
// browser never sends them.
var libraryCiphers = map[string]string{
	"e8f1e7e78f70": "curl (OpenSSL 3)",
	"85036bcba153": "Python (OpenSSL 3)",
	"723694b0fccc": "Wget (GnuTLS)",
	"f57a46bbacb6": "Go crypto/tls",
}

// mismatch compares a user agent's claim with the JA4 fingerprint of its
// TLS handshake and returns why they disagree ("" when they agree, or
// when there is no claim or no fingerprint to compare).
func mismatch(ua, ja4 string) string {
	claim := claimOf(ua)
	if claim == "" || len(ja4) != 36 || ja4[10] != '_' || ja4[23] != '_' {
		return ""
	}
	version, alpn, ciphers := ja4[1:3], ja4[8:10], ja4[11:23]
	if tool, ok := libraryCiphers[ciphers]; ok {
		return "claims " + claim + ", TLS handshake of " + tool
	}
	if version != "13" {
		return "claims " + claim + ", offers no TLS 1.3"
	}
	if alpn != "h2" {
		return "claims " + claim + ", does not offer HTTP/2"
	}
	if want, ok := browserCiphers[claim]; ok && ciphers != want {
		return "claims " + claim + ", cipher suites of another client"
	}
	return ""
}
