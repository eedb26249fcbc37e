package phishing

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// ParseAuthResults reads the value of one Authentication-Results field
// (RFC 8601): the authserv-id, then for each method its result, reason
// and properties. Comments are dropped; a field that lists no result
// ("; none") has none. One without an authserv-id (written by some
// servers) is read with AuthServID "".
func ParseAuthResults(v string) (AuthResults, error) {
	segs := splitOutside(stripComments(v), ';', maxAuthResults+1)
	head := fieldsOutsideQuotes(segs[0])
	if len(head) == 0 {
		return AuthResults{}, fmt.Errorf("%w: no authserv-id in %.80q", ErrNotAuthResults, v)
	}
	ar := AuthResults{Results: []AuthResult{}}
	if strings.Contains(head[0], "=") {
		segs = append([]string{""}, segs...) // no authserv-id: the first segment is a result
	} else {
		ar.AuthServID = strings.ToLower(unquoteMIME(head[0]))
		if len(segs) == 1 {
			return AuthResults{}, fmt.Errorf("%w: no result after %q", ErrNotAuthResults, ar.AuthServID)
		}
	}
	for _, seg := range segs[1:] {
		pairs := authPairs(seg)
		if len(pairs) == 0 || pairs[0][1] == "" || len(ar.Results) >= maxAuthResults {
			continue // "none", or no method=result
		}
		method, _, _ := strings.Cut(pairs[0][0], "/")
		r := AuthResult{Method: strings.TrimSpace(method), Result: strings.ToLower(pairs[0][1])}
		for _, kv := range pairs[1:] {
			switch {
			case kv[0] == "reason":
				r.Reason = kv[1]
			case kv[1] == "" || len(r.Props) >= maxAuthProps:
			default:
				if r.Props == nil {
					r.Props = map[string]string{}
				}
				if _, dup := r.Props[kv[0]]; !dup {
					r.Props[kv[0]] = kv[1]
				}
			}
		}
		ar.Results = append(ar.Results, r)
	}
	return ar, nil
}

// stripComments replaces the comments (nested parentheses, RFC 5322
// CFWS) outside quoted strings with spaces.
func stripComments(s string) string {
	if !strings.Contains(s, "(") {
		return s
	}
	var b strings.Builder
	depth, quoted := 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && (quoted || depth > 0) && i+1 < len(s):
			if depth == 0 {
				b.WriteString(s[i : i+2])
			}
			i++
		case c == '"' && depth == 0:
			quoted = !quoted
			b.WriteByte(c)
		case c == '(' && !quoted:
			depth++
			b.WriteByte(' ')
		case c == ')' && depth > 0:
			depth--
		case depth == 0:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// fieldsOutsideQuotes splits s at white space outside quoted strings.
func fieldsOutsideQuotes(s string) []string {
	var out []string
	start, quoted := -1, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			if start >= 0 {
				out = append(out, s[start:i])
				start = -1
			}
			continue
		}
		if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		out = append(out, s[start:])
	}
	return out
}

// authPairs reads the key=value words of one result ("dkim=pass",
// "header.d=shop.example"), keys in lower case, values unquoted; "k = v"
// is read as "k=v". A word without "=" has value "".
func authPairs(seg string) [][2]string {
	words := fieldsOutsideQuotes(seg)
	var out [][2]string
	for i := 0; i < len(words); i++ {
		w := words[i]
		for i+1 < len(words) && (strings.IndexByte(w, '=') == len(w)-1 || strings.HasPrefix(words[i+1], "=")) {
			i++
			w += words[i]
		}
		k, v, _ := strings.Cut(w, "=")
		out = append(out, [2]string{strings.ToLower(k), unquoteMIME(v)})
	}
	return out
}

// maxNameLength bounds the part of a display name that is judged, in
// bytes (mail clients show less).
const maxNameLength = 256

// Sender is who a shop's messages really come from: the names it signs
// them with ("Northwind", "Northwind Shop") and the domains it sends
// from ("northwind.shop"; their subdomains count as the shop's too).
type Sender struct {
	Names   []string `json:"names"`
	Domains []string `json:"domains"`
}

// Impersonation says how the message's sender imitates the shop, each
// reason with a suggested weight on Check's scale: a display name that
// names the shop (confusable characters folded) on an address that is
// not the shop's; a display name that shows another address or domain
// than the real one; a From domain that imitates the shop's; replies or
// bounces sent to another domain than the From's; Authentication-Results
// that say DMARC, SPF or DKIM failed (or are missing) for the From
// domain. Only the Authentication-Results fields of the server that
// wrote the topmost one count: those further down may be forged by the
// sender. A message from the shop's own domain that authenticates gets a
// negative weight.
func (e *Email) Impersonation(shop Sender) []Reason {
	out := []Reason{}
	add := func(code string, weight int, format string, args ...any) {
		out = append(out, Reason{Code: code, Weight: weight, Message: fmt.Sprintf(format, args...)})
	}
	if e.From == nil || e.From.Domain() == "" {
		add("from_missing", 20, "the message names no sender address")
		return out
	}
	brands := parseBrands(shop.Domains)
	from := *e.From
	if len(from.Name) > maxNameLength {
		from.Name = strings.ToValidUTF8(from.Name[:maxNameLength], "")
	}
	fromSite, fromOK := siteOf(from.Domain())
	own := fromOK && ownDomain(fromSite, brands)
	if !own {
		if claim, look, ok := nameClaim(from.Name, shop, brands); ok && look {
			add("display_name_lookalike", 70, "the sender's name %q imitates %q with lookalike characters, from %s, not an address of the shop's", from.Name, claim, from.Address)
		} else if ok {
			add("display_name_impersonation", 60, "the sender's name %q names %q but the address %s is not the shop's", from.Name, claim, from.Address)
		}
	}
	for _, d := range embeddedDomains(from.Name) {
		if ds, ok := siteOf(d); ok && !(fromOK && sameSite(ds, fromSite)) && !ownDomain(ds, brands) {
			add("display_name_address", 50, "the sender's name shows %s but the address is %s", d, from.Address)
			break
		}
	}
	if l, ok := findLookalike(fromSite, brands); fromOK && !own && ok {
		add("from_lookalike", 75, "the sender's address %s: %s", from.Address, l)
	}
	for _, rt := range e.ReplyTo[:min(len(e.ReplyTo), 5)] {
		rs, ok := siteOf(rt.Domain())
		if !ok || fromOK && sameSite(rs, fromSite) || ownDomain(rs, brands) {
			continue
		}
		if l, ok := findLookalike(rs, brands); ok {
			add("reply_to_lookalike", 60, "replies go to %s: %s", rt.Address, l)
		} else {
			add("reply_to_elsewhere", 25, "replies go to %s, not to the sender's domain %s", rt.Address, from.Domain())
		}
		break
	}
	if rs, ok := siteOf(domainPart(e.ReturnPath)); ok && !(fromOK && sameSite(rs, fromSite)) && !ownDomain(rs, brands) {
		if l, ok := findLookalike(rs, brands); ok {
			add("return_path_lookalike", 50, "bounces go to %s: %s", e.ReturnPath, l)
		} else {
			add("return_path_elsewhere", 10, "bounces go to %s, not to the sender's domain %s (mailing services do this; it counts with other signs)", e.ReturnPath, from.Domain())
		}
	}
	if fromOK {
		e.authReasons(from.Domain(), fromSite, own, add)
	}
	return out
}

// authReasons adds what the topmost Authentication-Results server found
// for the From domain.
func (e *Email) authReasons(domain string, fromSite URL, own bool, add func(code string, weight int, format string, args ...any)) {
	if len(e.Auth) == 0 {
		return
	}
	id := e.Auth[0].AuthServID
	by := ""
	if id != "" {
		by = " (says " + id + ")"
	}
	weight := func(ownWeight, otherWeight int) int {
		if own {
			return ownWeight
		}
		return otherWeight
	}
	seen := map[string]bool{}
	aligned := func(d string) bool {
		if d == "" {
			return true
		}
		a, ok := seen[d]
		if !ok {
			s, parsed := siteOf(domainPart(d))
			a = parsed && sameSite(s, fromSite)
			seen[d] = a
		}
		return a
	}
	var dmarcDone, spfDone, dmarcPass, dkimPass, dkimFail, dkimNone bool
	for _, ar := range e.Auth {
		if ar.AuthServID != id {
			continue
		}
		for _, r := range ar.Results {
			switch {
			case r.Method == "dmarc" && !dmarcDone && aligned(r.Props["header.from"]):
				dmarcDone = true
				switch r.Result {
				case "pass":
					dmarcPass = true
				case "fail":
					add("dmarc_fail", weight(70, 40), "DMARC fails for %s%s", domain, by)
				case "none":
					add("dmarc_none", weight(15, 10), "%s has no DMARC policy%s", domain, by)
				}
			case r.Method == "spf" && !spfDone && aligned(r.Props["smtp.mailfrom"]):
				spfDone = true
				switch r.Result {
				case "fail":
					add("spf_fail", weight(40, 25), "SPF fails: %s does not send for %s%s", domainOr(r.Props["smtp.mailfrom"], domain), domain, by)
				case "softfail":
					add("spf_softfail", weight(20, 15), "SPF soft-fails for %s%s", domainOr(r.Props["smtp.mailfrom"], domain), by)
				case "none":
					add("spf_none", weight(10, 5), "no SPF record for %s%s", domainOr(r.Props["smtp.mailfrom"], domain), by)
				}
			case r.Method == "dkim":
				d := r.Props["header.d"]
				if d == "" {
					d = r.Props["header.i"]
				}
				switch {
				case r.Result == "none":
					dkimNone = true
				case r.Result == "pass" && d != "" && aligned(d):
					dkimPass = true
				case aligned(d) && (r.Result == "fail" || r.Result == "neutral" || r.Result == "policy" || r.Result == "permerror"):
					dkimFail = true
				}
			}
		}
	}
	switch {
	case dkimPass:
	case dkimFail:
		add("dkim_fail", weight(35, 20), "the DKIM signature of %s does not verify%s", domain, by)
	case dkimNone:
		add("dkim_none", weight(10, 5), "the message has no DKIM signature%s", by)
	}
	if own && (dmarcPass || dkimPass) {
		add("authenticated_shop_sender", -40, "the message is authenticated as sent from the shop's domain %s%s", domain, by)
	}
}

// NameImpersonation judges a sender known only by its name (an SMS
// sender ID, a chat display name), which the shop cannot authenticate:
// a name that imitates the shop's with lookalike characters, or that
// shows a domain other than the shop's (worse, one imitating it). A name
// that is the shop's exactly proves nothing and gives no reason.
func NameImpersonation(name string, shop Sender) []Reason {
	out := []Reason{}
	if len(name) > maxNameLength {
		name = strings.ToValidUTF8(name[:maxNameLength], "")
	}
	brands := parseBrands(shop.Domains)
	if claim, look, ok := nameClaim(name, shop, brands); ok && look {
		out = append(out, Reason{Code: "sender_name_lookalike", Weight: 60,
			Message: fmt.Sprintf("the sender name %q imitates %q with lookalike characters", name, claim)})
	}
	for _, d := range embeddedDomains(name) {
		ds, ok := siteOf(d)
		if !ok || ownDomain(ds, brands) {
			continue
		}
		if l, ok := findLookalike(ds, brands); ok {
			out = append(out, Reason{Code: "sender_name_lookalike_domain", Weight: 70, Message: fmt.Sprintf("the sender name shows %s", l)})
		} else {
			out = append(out, Reason{Code: "sender_name_domain", Weight: 25, Message: fmt.Sprintf("the sender name shows %s, not a domain of the shop's", d)})
		}
	}
	return out
}

// siteOf parses a domain name; ok is false for anything else.
func siteOf(domain string) (URL, bool) {
	if domain == "" || strings.ContainsAny(domain, "/?#@\\:% ") {
		return URL{}, false
	}
	u, err := Parse(domain)
	return u, err == nil
}

// domainPart is the domain of an address ("a@b.example" → "b.example"),
// or s itself when it has no @.
func domainPart(s string) string {
	return strings.Trim(strings.ToLower(s[strings.LastIndexByte(s, '@')+1:]), ".<>[] ")
}

func domainOr(addr, def string) string {
	if d := domainPart(addr); d != "" {
		return d
	}
	return def
}

// sameSite reports whether two hosts share a registered domain (or are
// the same host, for those without one).
func sameSite(a, b URL) bool {
	if a.RegisteredDomain != "" || b.RegisteredDomain != "" {
		return a.RegisteredDomain == b.RegisteredDomain
	}
	return a.Host == b.Host
}

// ownDomain reports whether u is one of the shop's domains or under one.
func ownDomain(u URL, brands []URL) bool {
	for _, b := range brands {
		if u.Host == b.Host || strings.HasSuffix(u.Host, "."+b.Host) {
			return true
		}
	}
	return false
}

// nameClaim reports whether a display name names the shop: one of its
// names, or the name of one of its domains, as words of the name, case
// and spacing aside ("NorthWind shop", "northwind.shop"). lookalike is
// set when it does so only once confusable characters are folded
// ("N0rthw1nd").
func nameClaim(name string, shop Sender, brands []URL) (claim string, lookalike, ok bool) {
	cands := slices.Clone(shop.Names)
	for _, b := range brands {
		if l := label(b.RegisteredDomain, b.PublicSuffix); len(l) >= 4 {
			cands = append(cands, l)
		}
	}
	plain, folded := nameWords(name, false), nameWords(name, true)
	for _, c := range cands {
		if containsWords(plain, nameWords(c, false)) {
			return c, false, true
		}
	}
	for _, c := range cands {
		if containsWords(folded, nameWords(c, true)) {
			return c, true, true
		}
	}
	return "", false, false
}

// nameWords splits a name into lower-case words, at anything but
// letters and digits and where a lower-case letter meets a capital
// ("NorthwindSupport"), confusable characters folded (skeleton) when fold
// is set.
func nameWords(s string, fold bool) []string {
	var b strings.Builder
	prev := ' '
	for _, r := range s {
		if unicode.IsLower(prev) && unicode.IsUpper(r) {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
		prev = r
	}
	if s = b.String(); fold {
		s = skeleton(s)
	} else {
		s = strings.ToLower(s)
	}
	return strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// containsWords reports whether consecutive words of name, joined, spell
// want joined (so "North Wind" holds "Northwind" and the reverse), or a
// word of name starts or ends with a want of five letters or more
// ("NORTHWINDINFO").
func containsWords(name, want []string) bool {
	w := strings.Join(want, "")
	if len(w) < 3 {
		return false
	}
	for i := range name {
		acc := ""
		for _, n := range name[i:] {
			if acc += n; len(acc) >= len(w) {
				break
			}
		}
		if acc == w {
			return true
		}
	}
	for _, n := range name {
		if len(w) >= 5 && len(n) > len(w) && (strings.HasPrefix(n, w) || strings.HasSuffix(n, w)) {
			return true
		}
	}
	return false
}

// embeddedDomains finds the domains a display name shows: those of
// e-mail addresses ("support@shop.example") and host names under a real
// top-level domain ("shop.example", "https://shop.example/").
func embeddedDomains(name string) []string {
	var out []string
	for _, tok := range strings.FieldsFunc(name, func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune("<>()[]\"',;|", r)
	}) {
		if len(out) == 5 {
			break
		}
		if i := strings.LastIndexByte(tok, '@'); i >= 0 {
			if d := strings.Trim(tok[i+1:], ".:"); strings.Contains(d, ".") {
				out = append(out, strings.ToLower(d))
			}
			continue
		}
		host := tok
		scheme := hasPrefixFold(tok, "http://") || hasPrefixFold(tok, "https://")
		if scheme {
			host = host[strings.Index(host, "//")+2:]
		}
		host, _, _ = strings.Cut(host, "/")
		host = strings.TrimRight(host, ".:!?")
		if strings.Contains(host, ".") && (scheme || hasPrefixFold(host, "www.") || knownTLD(host)) {
			out = append(out, strings.ToLower(host))
		}
	}
	return out
}
