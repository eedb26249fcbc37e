package phishing

import (
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
)

// MaxLinks bounds the links one text, one HTML document or one e-mail
// yields; those past it are dropped (Email.Truncated says so).
const MaxLinks = 500

// maxLinkText bounds the displayed text kept for one link, in bytes.
const maxLinkText = 512

// Kinds of link: where in a message a link was found.
const (
	// LinkText is a URL written in plain text (mail clients and phones
	// make it clickable).
	LinkText = "text"
	// LinkHTMLText is a URL written in an HTML document's text, outside
	// any <a> (mail clients make it clickable too).
	LinkHTMLText = "html_text"
	// LinkAnchor is an <a href>, LinkArea an <area href> of an image map.
	LinkAnchor = "anchor"
	LinkArea   = "area"
	// LinkForm is a <form action>: where what the reader types is sent.
	LinkForm = "form"
)

// Link is a link found in a message: where it leads, what the reader
// sees of it, and where it is in the text it was found in.
type Link struct {
	// Href is where the link leads, as written (HTML entities decoded,
	// resolved against a <base href>). It may lack a scheme
	// ("www.shop.example/x", which Parse accepts) or have another than
	// http ("mailto:", "javascript:"): Web tells web links apart.
	Href string `json:"href"`
	// Text is what the reader sees: the link itself for a link written
	// in text, the element's text (or its images' alt text) for an <a>,
	// "" for a form.
	Text string `json:"text,omitempty"`
	// Start and End are the byte offsets of the link in the text it was
	// found in: the URL itself for text links, the whole element (from
	// "<a" to the end of "</a>", or the start tag of a form or area) for
	// HTML ones.
	Start int    `json:"start"`
	End   int    `json:"end"`
	Kind  string `json:"kind"`
}

// ExtractLinks finds the links in plain text (an SMS, a chat message, an
// e-mail's text): http and https URLs, host names starting with "www.",
// and bare domain names under a real top-level domain followed by a path
// ("shopp1ng-example.com/login"; a bare name alone, "e.g." or
// "index.html", is not taken for a link). Trailing punctuation and
// unbalanced closing brackets are left out, as mail clients do. Every
// link returned parses with Parse; at most MaxLinks are returned.
func ExtractLinks(text string) []Link {
	links, _ := appendTextLinks(nil, text, 0, LinkText, MaxLinks)
	return links
}

// appendTextLinks appends the links of text, found at offset base of a
// larger text, while fewer than limit links are held; cut reports a link
// left out. Its time is linear in len(text): no stretch of text is read
// again for a link once a link (or a failed one) has covered it.
func appendTextLinks(links []Link, text string, base int, kind string, limit int) (_ []Link, cut bool) {
	sc := linkScanner{text: text, stop: -1}
	prev := ' '
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		if wordBoundary(prev) && (r < utf8.RuneSelf && isHostByte(byte(r)) || r >= utf8.RuneSelf && isHostRune(r)) {
			end, ok := sc.linkAt(i)
			if ok && len(links) >= limit {
				return links, true
			}
			if ok {
				s := text[i:end]
				links = append(links, Link{Href: s, Text: s, Start: base + i, End: base + end, Kind: kind})
			}
			if end > i {
				prev, _ = utf8.DecodeLastRuneInString(text[:end])
				i = end
				continue
			}
		}
		prev = r
		i += size
	}
	return links, false
}

// wordBoundary reports whether a link may start after r: not inside a
// word, a host name, an e-mail address or a path.
func wordBoundary(r rune) bool {
	if r < utf8.RuneSelf {
		return asciiBoundary[r]
	}
	return !isHostRune(r)
}

// asciiBoundary is wordBoundary for ASCII characters.
var asciiBoundary = func() (t [utf8.RuneSelf]bool) {
	for c := range t {
		t[c] = !isHostByte(byte(c)) && !strings.ContainsRune("_@/\\%+~&#", rune(c))
	}
	return t
}()

// asciiURLStop are the ASCII characters no URL written in text goes past.
var asciiURLStop = func() (t [utf8.RuneSelf]bool) {
	for c := range t {
		t[c] = c <= ' ' || c == 0x7f || strings.ContainsRune("<>\"`", rune(c))
	}
	return t
}()

func isHostByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.'
}

func isHostRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}

// linkScanner finds links in a text, remembering where URLs stop so
// that no character is looked at twice for that.
type linkScanner struct {
	text string
	// stop is the first character no URL goes past at or after the last
	// place asked (-1 for none found yet); no such character is before
	// clear, from that place on.
	stop, clear int
}

// linkAt reports whether a link starts at text[i:] and where it ends.
// When none does, end is past i if the text up to end is to be skipped
// (a URL that does not parse whole), else 0.
func (sc *linkScanner) linkAt(i int) (end int, ok bool) {
	rest := sc.text[i:]
	var head int  // the scheme and authority, or the host
	var more bool // whether the link goes on past head
	switch {
	case hasPrefixFold(rest, "http://") || hasPrefixFold(rest, "https://"):
		a := strings.Index(rest, "://") + 3
		stop := sc.urlEnd(i) - i
		n := a
		for n < stop && strings.IndexByte("/?#\\", rest[n]) < 0 {
			n++
		}
		if more = n < stop; more {
			head = n
		} else {
			head = a + trimLinkTail(rest[a:n])
		}
		if head == a || !plausibleHost(rest[a:head]) {
			return 0, false
		}
	default:
		n := hostRun(rest)
		if hasPrefixFold(rest, "www.") {
			if n <= len("www.") {
				return 0, false
			}
			// A port counts only with digits: "www.shop.example:" ends a
			// sentence, and an empty port would read as a scheme.
			more = n < len(rest) && (strings.IndexByte("/?#", rest[n]) >= 0 ||
				rest[n] == ':' && n+1 < len(rest) && rest[n+1] >= '0' && rest[n+1] <= '9')
		} else {
			// A bare domain name: a host under a real top-level domain,
			// then a path.
			if n >= len(rest) || rest[n] != '/' || !knownTLD(rest[:n]) {
				return 0, false
			}
			more = true
		}
		head = n
	}
	end = head
	if more {
		end = sc.urlEnd(i) - i
	}
	if end = trimLinkTail(rest[:end]); end == 0 {
		return 0, false
	}
	if _, err := Parse(rest[:end]); err != nil {
		return i + end, false
	}
	return i + end, true
}

// plausibleHost reports whether the host of a URL's authority (after
// any user name, before any port) has no ASCII character Parse refuses
// in a host: a cheap test before Parse, which decides.
func plausibleHost(authority string) bool {
	host := authority[strings.LastIndexByte(authority, '@')+1:]
	if strings.HasPrefix(host, "[") {
		return true // an IPv6 literal
	}
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	for i := 0; i < len(host); i++ {
		if c := host[i]; c < utf8.RuneSelf && !isHostByte(c) && c != '_' && c != '%' {
			return false
		}
	}
	return host != ""
}

// hostRun is the length of the host name characters starting s (more
// than 253 is no host name: 254 is returned).
func hostRun(s string) int {
	n := 0
	for n < len(s) && n <= 253 {
		r, size := utf8.DecodeRuneInString(s[n:])
		if r < utf8.RuneSelf && !isHostByte(byte(r)) || r >= utf8.RuneSelf && !isHostRune(r) {
			break
		}
		n += size
	}
	return n
}

// hasPrefixFold is strings.HasPrefix ignoring ASCII case.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// knownTLD reports whether host has at least two labels and its last is
// a top-level domain ICANN delegates (so "e.g" and "index.html" are not
// host names).
func knownTLD(host string) bool {
	i := strings.LastIndexByte(host, '.')
	if i <= 0 || i == len(host)-1 || host[i-1] == '.' || host[0] == '.' || host[0] == '-' {
		return false
	}
	tld := strings.ToLower(host[i+1:])
	if !allASCII(tld) {
		a, err := idna.Lookup.ToASCII(tld)
		if err != nil {
			return false
		}
		tld = a
	}
	ps, icann := publicsuffix.PublicSuffix(tld)
	return icann && ps == tld
}

func allASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// urlEnd is where a URL starting at text[i:] stops: at white space, a
// control character, a quote or angle bracket, or MaxURLLength bytes on
// (at a character's start).
func (sc *linkScanner) urlEnd(i int) int {
	limit := min(len(sc.text), i+MaxURLLength)
	if sc.stop < i {
		sc.stop = -1
		j := max(i, sc.clear)
		for j < limit {
			c := sc.text[j]
			if c < utf8.RuneSelf {
				if asciiURLStop[c] {
					sc.stop = j
					break
				}
				j++
				continue
			}
			r, size := utf8.DecodeRuneInString(sc.text[j:])
			if unicode.IsSpace(r) || unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError ||
				strings.ContainsRune("“”‘’«»「」『』【】〈〉《》", r) {
				sc.stop = j
				break
			}
			j += size
		}
		sc.clear = j
		if sc.stop < 0 {
			return j // limit, or past it by the last character's length
		}
	}
	end := min(sc.stop, limit)
	for end < len(sc.text) && end > i && !utf8.RuneStart(sc.text[end]) {
		end-- // a whole character
	}
	return end
}

// trimLinkTail returns the length of s without the punctuation that ends
// the sentence around a URL rather than the URL: trailing ".,:;!?'*_~",
// other trailing punctuation outside ASCII ("…", "。"), and closing
// brackets that close nothing in the URL.
func trimLinkTail(s string) int {
	var open [3]int // ( [ {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			open[0]++
		case ')':
			open[0]--
		case '[':
			open[1]++
		case ']':
			open[1]--
		case '{':
			open[2]++
		case '}':
			open[2]--
		}
	}
	for len(s) > 0 {
		r, size := utf8.DecodeLastRuneInString(s)
		if k := strings.IndexRune(")]}", r); k >= 0 {
			if open[k] >= 0 {
				return len(s)
			}
			open[k]++
		} else if !strings.ContainsRune(".,:;!?'*_~", r) && !(r >= utf8.RuneSelf && unicode.IsPunct(r)) {
			return len(s)
		}
		s = s[:len(s)-size]
	}
	return 0
}

// Web reports whether the link leads to a web page: an http or https
// URL, or a host name without scheme, that Parse reads. Links with
// another scheme (mailto:, tel:, javascript:) and relative ones are not
// (Parse would read "mailto:x@evil.test" as a user name at evil.test).
func (l Link) Web() bool {
	_, ok := l.ParseWeb()
	return ok
}

// ParseWeb returns the link's URL as Parse reads it, and whether the
// link leads to a web page (see Web).
func (l Link) ParseWeb() (URL, bool) {
	h := strings.TrimSpace(l.Href)
	if i := strings.IndexAny(h, ":/?#"); i >= 0 && h[i] == ':' && !hasPrefixFold(h, "http:") && !hasPrefixFold(h, "https:") {
		// A scheme, unless it is a host name and port ("shop.example:8080/x").
		port := h[i+1:]
		if j := strings.IndexAny(port, "/?#"); j >= 0 {
			port = port[:j]
		}
		if port == "" || strings.Trim(port, "0123456789") != "" {
			return URL{}, false
		}
	}
	u, err := Parse(l.Href)
	return u, err == nil
}

// Mismatch reports whether the link's displayed text names another site
// than the one the link leads to: the text reads
// "https://shop.example/account" but the link goes to evil.test. shown
// and real are the hosts as a reader sees them. Sites are compared by
// registered domain; a text that names no host ("Click here") is no
// mismatch, nor is a link whose redirect parameters lead to the site
// the text names (a mailing service's click tracker), nor a mailto:,
// tel: or sms: link. A text naming a site on a javascript:, data:,
// vbscript: or file: link is one (real is then the scheme).
func (l Link) Mismatch() (shown, real string, ok bool) {
	if l.Text == "" || l.Text == l.Href {
		return "", "", false
	}
	names := shownSites(l.Text)
	if len(names) == 0 {
		return "", "", false
	}
	href := strings.TrimSpace(l.Href)
	for _, scheme := range []string{"javascript:", "data:", "vbscript:", "file:"} {
		if hasPrefixFold(href, scheme) {
			return displayHost(names[0]), scheme, true
		}
	}
	for _, scheme := range []string{"mailto:", "tel:", "sms:", "callto:", "cid:", "#"} {
		if hasPrefixFold(href, scheme) {
			return "", "", false // not a web page
		}
	}
	r, err := Parse(href)
	if err != nil {
		return "", "", false
	}
	targets := r.Targets(maxTargets)
	for _, n := range names {
		if sameSite(n, r) {
			return "", "", false
		}
		for _, t := range targets {
			if sameSite(n, t) {
				return "", "", false
			}
		}
	}
	return displayHost(names[0]), displayHost(r), true
}

// shownSites are the sites a link's text names: the links written in
// it, or the text itself when it is a host name under a real top-level
// domain ("shop.example.com").
func shownSites(text string) []URL {
	t := strings.TrimSpace(text)
	var out []URL
	found, _ := appendTextLinks(nil, t, 0, LinkText, 5)
	for _, l := range found {
		if u, err := Parse(l.Href); err == nil {
			out = append(out, u)
		}
	}
	if len(out) == 0 && !strings.ContainsAny(t, " \t\n@/") {
		if host := strings.TrimRight(t, ".,:;!?"); knownTLD(host) {
			if u, err := Parse(host); err == nil && u.RegisteredDomain != "" {
				out = append(out, u)
			}
		}
	}
	return out
}

// ExtractHTMLLinks finds the links of an HTML document (an e-mail's HTML
// part): every <a href> and <area href> with the text the reader sees,
// every <form action>, and URLs written in the text outside links (mail
// clients make those clickable). A <base href> resolves relative links.
// At most MaxLinks are returned.
func ExtractHTMLLinks(doc string) []Link {
	return scanHTML(doc, false, MaxLinks).links
}

// htmlRawText are elements whose content the reader does not see.
var htmlRawText = map[string]bool{"script": true, "style": true, "title": true, "template": true, "noscript": true,
	"iframe": true, "noembed": true, "noframes": true}

// htmlBlock are elements that start a new line of text (1) or a new
// paragraph (2).
var htmlBlock = map[string]int{"p": 2, "div": 1, "br": 1, "tr": 1, "li": 1, "ul": 2, "ol": 2, "table": 2, "h1": 2, "h2": 2,
	"h3": 2, "h4": 2, "h5": 2, "h6": 2, "blockquote": 2, "hr": 2, "section": 2, "article": 2, "header": 1, "footer": 1,
	"center": 1, "dd": 1, "dt": 1, "pre": 2, "address": 1}

// htmlVoid are elements without content or end tag.
var htmlVoid = map[string]bool{"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true, "img": true,
	"input": true, "link": true, "meta": true, "source": true, "track": true, "wbr": true}

// htmlScan is what one reading of an HTML document found.
type htmlScan struct {
	links []Link
	text  string
	// linksCut and textCut report links and text left out at a limit.
	linksCut, textCut bool
}

// scanHTML reads an HTML document once for its links (at most limit)
// and, when wantText is set, the text a reader sees (at most
// maxTextSize bytes): no scripts, styles or hidden elements, blocks on
// lines of their own, white space collapsed.
func scanHTML(doc string, wantText bool, limit int) htmlScan {
	z := html.NewTokenizer(strings.NewReader(doc))
	var (
		links      []Link
		truncated  bool
		tw         = textWriter{max: maxTextSize}
		pos        int
		skip       string // the raw-text element being skipped
		hidden     string // the hidden element being skipped (for the text)
		hiddenN    int
		anchor     = -1 // index in links of the open <a>, -1 for none
		anchorText strings.Builder
		base       *url.URL
	)
	add := func(l Link) bool {
		if len(links) >= limit {
			truncated = true
			return false
		}
		links = append(links, l)
		return true
	}
	closeAnchor := func(end int) {
		if anchor >= 0 {
			links[anchor].Text = clipLinkText(anchorText.String())
			links[anchor].End = end
			anchor = -1
			anchorText.Reset()
		}
	}
	for {
		tt := z.Next()
		start := pos
		pos += len(z.Raw())
		switch tt {
		case html.ErrorToken:
			closeAnchor(len(doc))
			return htmlScan{links: links, text: tw.String(), linksCut: truncated, textCut: tw.cut}
		case html.TextToken:
			if skip != "" {
				continue
			}
			t := string(z.Text())
			if anchor >= 0 {
				if anchorText.Len() < maxLinkText {
					anchorText.WriteString(t[:min(len(t), maxLinkText)])
				}
			} else {
				n := len(links)
				var cut bool
				links, cut = appendTextLinks(links, doc[start:pos], start, LinkHTMLText, limit)
				truncated = truncated || cut
				for i := n; i < len(links); i++ {
					links[i].Href = html.UnescapeString(links[i].Href)
					links[i].Text = links[i].Href
				}
			}
			if wantText && hidden == "" {
				tw.words(t)
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			tag := string(name)
			var attrs map[string]string
			if hasAttr {
				attrs = readAttrs(z)
			}
			if skip != "" {
				continue
			}
			// Browsers ignore "/>" on elements that are not void.
			if htmlRawText[tag] {
				skip = tag
				continue
			}
			if wantText {
				switch {
				case hidden != "":
					if tag == hidden {
						hiddenN++
					}
				case !htmlVoid[tag] && hiddenElement(attrs):
					hidden, hiddenN = tag, 1
				case htmlBlock[tag] > 0:
					tw.newline(htmlBlock[tag])
				case tag == "td" || tag == "th":
					tw.space()
				}
			}
			switch tag {
			case "base":
				if b, err := url.Parse(strings.TrimSpace(attrs["href"])); err == nil && b.IsAbs() && base == nil {
					base = b
				}
			case "a":
				closeAnchor(start)
				if href, ok := attrs["href"]; ok && add(Link{Href: resolveHref(base, href), Start: start, End: pos, Kind: LinkAnchor}) {
					anchor = len(links) - 1
				}
			case "img":
				if anchor >= 0 && attrs["alt"] != "" && anchorText.Len() < maxLinkText {
					anchorText.WriteString(" " + attrs["alt"] + " ")
				}
			case "area":
				if href, ok := attrs["href"]; ok {
					add(Link{Href: resolveHref(base, href), Text: clipLinkText(attrs["alt"]), Start: start, End: pos, Kind: LinkArea})
				}
			case "form":
				if action := strings.TrimSpace(attrs["action"]); action != "" {
					add(Link{Href: resolveHref(base, action), Start: start, End: pos, Kind: LinkForm})
				}
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			tag := string(name)
			if skip != "" {
				if tag == skip {
					skip = ""
				}
				continue
			}
			if tag == "a" {
				closeAnchor(pos)
			}
			if wantText {
				switch {
				case hidden != "":
					if tag == hidden {
						if hiddenN--; hiddenN == 0 {
							hidden = ""
						}
					}
				case htmlBlock[tag] > 0:
					tw.newline(htmlBlock[tag])
				}
			}
		}
	}
}

// readAttrs reads the current tag's attributes (the first of each name).
func readAttrs(z *html.Tokenizer) map[string]string {
	attrs := map[string]string{}
	for {
		k, v, more := z.TagAttr()
		if _, dup := attrs[string(k)]; !dup {
			attrs[string(k)] = string(v)
		}
		if !more {
			return attrs
		}
	}
}

// hiddenElement reports whether an element's attributes hide it from the
// reader (hidden, display:none, visibility:hidden, a zero font size):
// text phishing mails hide to mislead filters.
func hiddenElement(attrs map[string]string) bool {
	if _, ok := attrs["hidden"]; ok {
		return true
	}
	style := strings.ToLower(strings.Join(strings.Fields(attrs["style"]), ""))
	if strings.Contains(style, "display:none") || strings.Contains(style, "visibility:hidden") {
		return true
	}
	for rest := style; ; {
		i := strings.Index(rest, "font-size:0")
		if i < 0 {
			return false
		}
		rest = rest[i+len("font-size:0"):]
		if rest == "" || rest[0] != '.' && (rest[0] < '0' || rest[0] > '9') {
			return true
		}
	}
}

// resolveHref writes href against the document's <base href>, if any.
func resolveHref(base *url.URL, href string) string {
	href = strings.TrimSpace(href)
	if base == nil {
		return href
	}
	ref, err := url.Parse(href)
	if err != nil || ref.IsAbs() {
		return href
	}
	return base.ResolveReference(ref).String()
}

// clipLinkText cuts s to at most maxLinkText bytes, white space collapsed.
func clipLinkText(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > maxLinkText {
		s = strings.ToValidUTF8(s[:maxLinkText], "")
	}
	return s
}

// textWriter collects readable text, at most max bytes (0: no limit):
// runs of white space become one space, at most one empty line between
// blocks.
type textWriter struct {
	b        strings.Builder
	max      int
	cut      bool // text was left out past max
	pending  bool // a space is due before the next word
	newlines int  // newlines written at the end of b
}

func (w *textWriter) words(s string) {
	for _, r := range s {
		if unicode.IsSpace(r) {
			w.pending = true
			continue
		}
		if w.max > 0 && w.b.Len()+utf8.RuneLen(r)+1 > w.max {
			w.cut = true
			return
		}
		if w.pending && w.b.Len() > 0 && w.newlines == 0 {
			w.b.WriteByte(' ')
		}
		w.b.WriteRune(r)
		w.pending, w.newlines = false, 0
	}
}

func (w *textWriter) space() { w.pending = true }

// newline ends the line, and leaves n-1 empty lines (at most one).
func (w *textWriter) newline(n int) {
	for w.b.Len() > 0 && w.newlines < n && (w.max == 0 || w.b.Len() < w.max) {
		w.b.WriteByte('\n')
		w.newlines++
	}
	w.pending = false
}

func (w *textWriter) String() string { return strings.TrimSpace(w.b.String()) }
