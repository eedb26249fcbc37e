// Package phishing judges links and messages the way a careful security
// analyst would: what a URL really points to once its tricks are undone,
// whether its domain imitates a protected brand's, and what it looks like.
// Nothing leaves the machine: no lookup is sent to an outside service.
package phishing

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
)

// MaxURLLength bounds a URL shopguard analyses (longer ones are refused).
const MaxURLLength = 8192

// maxDecodeRounds bounds repeated percent-decoding (phishing kits nest
// encodings to hide the host).
const maxDecodeRounds = 8

// ErrNotURL means the text is not a URL shopguard can analyse.
var ErrNotURL = errors.New("phishing: not a URL")

// URL is a link as it really points, its tricks undone: the host in
// ASCII (punycode) and in Unicode, the registered domain, numeric IP hosts
// written the usual way, the path percent-decoded and resolved.
type URL struct {
	// Raw is the text as given.
	Raw string
	// Canonical is the URL in the canonical form Safe Browsing's list
	// lookups use: lower-case host, no fragment, path resolved, escapes
	// applied once and consistently.
	Canonical string
	Scheme    string
	// Host is the host name in ASCII (punycode), or the IP address.
	Host string
	// UnicodeHost is Host as a reader sees it ("" when it is the same).
	UnicodeHost string
	// Port is the explicit port ("" for none).
	Port string
	// IP is set when the host is an IP address (in any notation).
	IP netip.Addr
	// RegisteredDomain is the registrable domain (eTLD+1, ASCII) and
	// PublicSuffix its suffix; Subdomain is what comes before it.
	RegisteredDomain string
	PublicSuffix     string
	Subdomain        string
	Path             string
	Query            string
	// Userinfo is set when the URL has a user name before an @ (the trick
	// of https://shop.example@evil.test/).
	Userinfo bool
	// Decodings counts the rounds of percent-decoding the URL needed.
	Decodings int
}

// Parse analyses raw. A URL without a scheme is taken as http; only http
// and https URLs (and bare host names) are accepted.
func Parse(raw string) (URL, error) {
	if len(raw) > MaxURLLength {
		return URL{}, fmt.Errorf("%w: %d bytes, at most %d", ErrNotURL, len(raw), MaxURLLength)
	}
	s := strings.Map(func(r rune) rune {
		if r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, strings.TrimSpace(raw))
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if s == "" {
		return URL{}, fmt.Errorf("%w: empty", ErrNotURL)
	}
	if i := strings.Index(s, "#"); i >= 0 {
		s = s[:i]
	}
	// A scheme is letters before "://"; anything else is a host first.
	lower := strings.ToLower(s)
	switch {
	case strings.HasPrefix(lower, "http://"), strings.HasPrefix(lower, "https://"):
	case strings.HasPrefix(s, "//"):
		s = "http:" + s
	case strings.Contains(s, "://") || otherScheme(s):
		return URL{}, fmt.Errorf("%w: only http and https links are analysed", ErrNotURL)
	default:
		s = "http://" + s
	}
	u := URL{Raw: raw}
	// Undo nested percent-encoding of the whole URL (the host too).
	for u.Decodings < maxDecodeRounds {
		d := unescape(s)
		if d == s {
			break
		}
		s = d
		u.Decodings++
	}
	schemeEnd := strings.Index(s, "://")
	u.Scheme = strings.ToLower(s[:schemeEnd])
	rest := s[schemeEnd+3:]
	authEnd := strings.IndexAny(rest, "/?\\")
	authority, tail := rest, ""
	if authEnd >= 0 {
		authority, tail = rest[:authEnd], rest[authEnd:]
	}
	if i := strings.LastIndex(authority, "@"); i >= 0 {
		u.Userinfo = true
		authority = authority[i+1:]
	}
	host, port := splitHostPort(authority)
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || strings.HasPrefix(port, "+") {
			return URL{}, fmt.Errorf("%w: port %q", ErrNotURL, port)
		}
		if port = strconv.Itoa(n); (u.Scheme == "http" && port != "80") || (u.Scheme == "https" && port != "443") {
			u.Port = port
		}
	}
	if err := u.setHost(host); err != nil {
		return URL{}, err
	}
	tail = strings.ReplaceAll(tail, "\\", "/")
	path, query := tail, ""
	if i := strings.Index(tail, "?"); i >= 0 {
		path, query = tail[:i], tail[i+1:]
	}
	u.Path = resolvePath(path)
	u.Query = query
	u.Canonical = u.canonical()
	if len(u.Canonical) > MaxURLLength {
		return URL{}, fmt.Errorf("%w: %d bytes once decoded and escaped, at most %d", ErrNotURL, len(u.Canonical), MaxURLLength)
	}
	return u, nil
}

// otherScheme reports whether s starts with a scheme such as mailto:,
// tel: or javascript: rather than a host (a host's colon is followed by
// a port's digits).
func otherScheme(s string) bool {
	i := strings.IndexByte(s, ':')
	if i <= 0 {
		return false
	}
	for j := 0; j < i; j++ {
		c := s[j]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || j > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	rest := s[i+1:]
	if end := strings.IndexAny(rest, "/?#\\"); end >= 0 {
		rest = rest[:end]
	}
	if rest == "" {
		return false
	}
	for j := 0; j < len(rest); j++ {
		if rest[j] < '0' || rest[j] > '9' {
			return true
		}
	}
	return false
}

// unescape decodes every valid %XX escape of s and leaves the rest as it
// is (browsers do not refuse a URL for a stray %).
func unescape(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// splitHostPort splits an authority into host and port ("" if none),
// keeping IPv6 literals whole.
func splitHostPort(a string) (string, string) {
	if strings.HasPrefix(a, "[") {
		if i := strings.Index(a, "]"); i >= 0 {
			host, rest := a[1:i], a[i+1:]
			return host, strings.TrimPrefix(rest, ":")
		}
		return a, ""
	}
	if i := strings.LastIndex(a, ":"); i >= 0 && strings.Count(a, ":") == 1 {
		return a[:i], a[i+1:]
	}
	return a, ""
}

// setHost normalises the host: an IP address in any notation becomes its
// usual form; a name is lower-cased, its dots tidied, converted to ASCII
// (punycode) and split into subdomain, registered domain and suffix.
func (u *URL) setHost(host string) error {
	host = strings.Trim(strings.ToLower(host), ".")
	for strings.Contains(host, "..") {
		host = strings.ReplaceAll(host, "..", ".")
	}
	if host == "" {
		return fmt.Errorf("%w: no host", ErrNotURL)
	}
	if ip, ok := parseIP(host); ok {
		u.IP, u.Host = ip, ip.String()
		return nil
	}
	ascii, err := idna.Lookup.ToASCII(host)
	if err != nil {
		// Registration rules refuse some names browsers still open
		// (underscores, mixed scripts): fall back to the lenient profile.
		if ascii, err = idna.Punycode.ToASCII(host); err != nil {
			return fmt.Errorf("%w: host %q: %v", ErrNotURL, host, err)
		}
	}
	for _, r := range ascii {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_') {
			return fmt.Errorf("%w: host %q has %q", ErrNotURL, host, r)
		}
	}
	ascii = strings.Trim(ascii, ".")
	switch {
	case ascii == "" || strings.Contains(ascii, ".."):
		return fmt.Errorf("%w: host %q is empty once converted", ErrNotURL, host)
	case len(ascii) > 253:
		return fmt.Errorf("%w: host longer than 253 characters", ErrNotURL)
	}
	if ip, ok := parseIP(ascii); ok { // a name that was an address once converted
		u.IP, u.Host = ip, ip.String()
		return nil
	}
	u.Host = ascii
	if uni, err := idna.Punycode.ToUnicode(ascii); err == nil && uni != ascii {
		u.UnicodeHost = uni
	}
	if !strings.Contains(ascii, ".") {
		return nil // a bare name: no registered domain
	}
	u.PublicSuffix, _ = publicsuffix.PublicSuffix(ascii)
	if reg, err := publicsuffix.EffectiveTLDPlusOne(ascii); err == nil {
		u.RegisteredDomain = reg
		u.Subdomain = strings.TrimSuffix(strings.TrimSuffix(ascii, reg), ".")
	}
	return nil
}

// parseIP reads an IPv4 address the ways browsers do (dotted decimal,
// one 32-bit number, hex or octal parts: http://3279880203/ is
// http://195.127.0.11/) and IPv6 literals.
func parseIP(host string) (netip.Addr, bool) {
	if !ipChars(host) {
		return netip.Addr{}, false // a name, as most hosts are
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if a.Zone() != "" { // zones name a machine's interface: no URL host has one
			return netip.Addr{}, false
		}
		return a.Unmap(), true
	}
	parts := strings.Split(host, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	nums := make([]uint64, len(parts))
	for i, p := range parts {
		if p == "" {
			return netip.Addr{}, false
		}
		base := 10
		switch {
		case strings.HasPrefix(p, "0x"):
			base, p = 16, p[2:]
		case len(p) > 1 && p[0] == '0':
			base, p = 8, p[1:]
		}
		n, err := strconv.ParseUint(p, base, 32)
		if err != nil && !(p == "" && base == 16) {
			return netip.Addr{}, false
		}
		nums[i] = n
	}
	// The last part fills the remaining bytes.
	var v uint64
	for i, n := range nums[:len(nums)-1] {
		if n > 255 {
			return netip.Addr{}, false
		}
		v |= n << (8 * (3 - i))
	}
	last := nums[len(nums)-1]
	if last >= 1<<(8*(5-len(nums))) {
		return netip.Addr{}, false
	}
	v |= last
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

// resolvePath removes "." and ".." segments and repeated slashes.
func resolvePath(p string) string {
	if p == "" {
		return "/"
	}
	var out []string
	for _, seg := range strings.Split(p, "/") {
		switch seg {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
		}
	}
	s := "/" + strings.Join(out, "/")
	if strings.HasSuffix(p, "/") && s != "/" {
		s += "/"
	}
	return s
}

// canonical writes the URL in Safe Browsing's canonical form: characters
// at or below space, at or above DEL, "#" and "%" escaped.
func (u URL) canonical() string {
	var b strings.Builder
	b.WriteString(u.Scheme)
	b.WriteString("://")
	if u.IP.Is6() {
		b.WriteString("[" + u.Host + "]")
	} else {
		b.WriteString(u.Host)
	}
	if u.Port != "" {
		b.WriteString(":" + u.Port)
	}
	b.WriteString(escape(u.Path))
	if u.Query != "" {
		b.WriteString("?" + escape(u.Query))
	}
	return b.String()
}

func escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == '#' || c == '%' {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// redirectParams are query parameters that commonly carry where a link
// really leads (open redirects, trackers, "safe link" wrappers).
var redirectParams = []string{"url", "u", "q", "redirect", "redirect_uri", "redirect_url", "redir", "next", "target",
	"dest", "destination", "continue", "return", "returnurl", "goto", "link", "to", "out", "r"}

// Targets returns the URLs the link's query says it leads to (an open
// redirect or a tracker wrapping the real destination), unwrapped in turn
// up to depth levels, outermost first.
func (u URL) Targets(depth int) []URL {
	var out []URL
	cur := u
	for range depth {
		next, ok := cur.target()
		if !ok {
			break
		}
		out = append(out, next)
		cur = next
	}
	return out
}

// target returns the first redirect parameter's URL, if any.
func (u URL) target() (URL, bool) {
	if u.Query == "" {
		return URL{}, false
	}
	q, err := url.ParseQuery(u.Query)
	if err != nil && len(q) == 0 {
		return URL{}, false
	}
	// In the order of redirectParams (the likeliest first), whatever
	// order the link lists them in, so that a link always leads to the
	// same place.
	byName := map[string][]string{}
	for k, vs := range q {
		byName[strings.ToLower(k)] = append(byName[strings.ToLower(k)], vs...)
	}
	for _, p := range redirectParams {
		for _, v := range byName[p] {
			lv := strings.ToLower(v)
			if !strings.HasPrefix(lv, "http://") && !strings.HasPrefix(lv, "https://") && !strings.HasPrefix(lv, "//") && !strings.HasPrefix(lv, "www.") {
				continue
			}
			if t, err := Parse(v); err == nil && t.Host != u.Host {
				return t, true
			}
		}
	}
	return URL{}, false
}

// ipChars reports whether host has only characters an IP address in some
// notation has: hexadecimal digits, dots, colons and the x of 0x. (A
// zone, "%eth0", which parseIP refuses anyway, has others.)
func ipChars(host string) bool {
	for i := 0; i < len(host); i++ {
		switch c := host[i]; {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f', c >= 'A' && c <= 'F', c == '.', c == ':', c == 'x', c == 'X':
		default:
			return false
		}
	}
	return host != ""
}
