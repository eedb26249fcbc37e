package phishing

import (
	"math"
	"slices"
	"strings"
	"unicode"
)

// Features are what a URL shows about itself, before any list or model.
type Features struct {
	Length         int     `json:"length"`
	HostLength     int     `json:"host_length"`
	PathDepth      int     `json:"path_depth"`
	SubdomainDepth int     `json:"subdomain_depth"`
	Digits         int     `json:"digits"`
	Hyphens        int     `json:"hyphens"`
	HostEntropy    float64 `json:"host_entropy"`
	IPHost         bool    `json:"ip_host"`
	Port           bool    `json:"port"`
	Userinfo       bool    `json:"userinfo"`
	HTTPS          bool    `json:"https"`
	Punycode       bool    `json:"punycode"`
	MixedScript    bool    `json:"mixed_script"`
	Shortener      bool    `json:"shortener"`
	FreeHosting    bool    `json:"free_hosting"`
	// SuspiciousWords are words phishing pages use in their links (login,
	// verify, ...); Brands names of much-imitated brands that appear
	// outside the registered domain.
	SuspiciousWords []string `json:"suspicious_words,omitempty"`
	Brands          []string `json:"brands_outside_domain,omitempty"`
	Decodings       int      `json:"decodings"`
}

// shorteners hide where a link leads.
var shorteners = []string{"bit.ly", "tinyurl.com", "t.co", "goo.gl", "ow.ly", "is.gd", "buff.ly", "rebrand.ly", "cutt.ly",
	"shorturl.at", "t.ly", "rb.gy", "tiny.cc", "bitly.com", "s.id", "v.gd", "shorte.st", "adf.ly", "bl.ink", "lnkd.in", "qr.ae"}

// freeHosting lets anyone publish a page under a trusted-looking name;
// registered domains of platforms where each customer has a subdomain.
var freeHosting = []string{"000webhostapp.com", "weebly.com", "wixsite.com", "blogspot.com", "firebaseapp.com", "web.app",
	"netlify.app", "vercel.app", "herokuapp.com", "github.io", "glitch.me", "repl.co", "pages.dev", "workers.dev",
	"sites.google.com", "godaddysites.com", "webflow.io", "square.site", "carrd.co", "ngrok.io", "ngrok-free.app",
	"duckdns.org", "no-ip.org", "azurewebsites.net", "appspot.com", "surge.sh", "myshopify.com", "jimdosite.com", "webnode.page"}

// suspiciousWords appear in phishing links far more than in others.
var suspiciousWords = []string{"login", "log-in", "signin", "sign-in", "verify", "verification", "account", "update", "secure",
	"security", "confirm", "banking", "password", "wallet", "unlock", "suspended", "billing", "invoice", "payment", "recover",
	"webscr", "authenticate", "validation", "support", "helpdesk", "refund", "claim", "bonus", "free", "gift"}

// brands are much-imitated names: seen outside their own registered
// domain, they are bait.
var brands = []string{"paypal", "apple", "icloud", "amazon", "microsoft", "office365", "outlook", "netflix", "google", "gmail",
	"facebook", "instagram", "whatsapp", "dhl", "fedex", "ups", "usps", "ebay", "binance", "coinbase", "metamask", "chase",
	"wellsfargo", "bankofamerica", "santander", "hsbc", "barclays", "revolut", "wise", "stripe", "shopify", "steam", "roblox"}

// Extract measures the URL's features.
func Extract(u URL) Features {
	f := Features{Length: len(u.Canonical), HostLength: len(u.Host), IPHost: u.IP.IsValid(), Port: u.Port != "",
		Userinfo: u.Userinfo, HTTPS: u.Scheme == "https", Decodings: u.Decodings}
	if u.Subdomain != "" {
		f.SubdomainDepth = strings.Count(u.Subdomain, ".") + 1
	}
	f.PathDepth = strings.Count(strings.Trim(u.Path, "/"), "/")
	if strings.Trim(u.Path, "/") != "" {
		f.PathDepth++
	}
	for _, c := range u.Canonical {
		switch {
		case c >= '0' && c <= '9':
			f.Digits++
		case c == '-':
			f.Hyphens++
		}
	}
	f.HostEntropy = entropy(u.Host)
	f.Punycode = strings.Contains(u.Host, "xn--")
	if u.UnicodeHost != "" {
		f.MixedScript = mixedScript(u.UnicodeHost)
	}
	f.Shortener = slices.Contains(shorteners, u.RegisteredDomain) || slices.Contains(shorteners, u.Host)
	for _, h := range freeHosting {
		if u.RegisteredDomain == h || strings.HasSuffix(u.Host, "."+h) {
			f.FreeHosting = true
		}
	}
	// The link's own words: a URL it carries in a parameter is judged on
	// its own (Targets), not counted here too.
	text := strings.ToLower(u.Subdomain + "/" + u.Path + "?" + ownQuery(u.Query))
	for _, w := range suspiciousWords {
		if strings.Contains(text, w) {
			f.SuspiciousWords = append(f.SuspiciousWords, w)
		}
	}
	own := label(u.RegisteredDomain, u.PublicSuffix)
	for _, b := range brands {
		if own != b && strings.Contains(text, b) {
			f.Brands = append(f.Brands, b)
		}
	}
	return f
}

// ownQuery is the query without the values that are URLs.
func ownQuery(q string) string {
	parts := strings.Split(q, "&")
	for i, p := range parts {
		if k, v, ok := strings.Cut(p, "="); ok {
			lv := strings.ToLower(v)
			if strings.HasPrefix(lv, "http:") || strings.HasPrefix(lv, "https:") || strings.HasPrefix(lv, "//") || strings.HasPrefix(lv, "www.") {
				parts[i] = k + "="
			}
		}
	}
	return strings.Join(parts, "&")
}

// entropy is the Shannon entropy of s, in bits per character.
func entropy(s string) float64 {
	if s == "" {
		return 0
	}
	counts := map[rune]int{}
	n := 0
	for _, r := range s {
		counts[r]++
		n++
	}
	var h float64
	for _, c := range counts {
		p := float64(c) / float64(n)
		h -= p * math.Log2(p)
	}
	return math.Round(h*1000) / 1000
}

// mixedScript reports whether a label of the name mixes writing systems
// (Latin with Cyrillic or Greek: the homograph attack).
func mixedScript(host string) bool {
	for _, lbl := range strings.Split(host, ".") {
		scripts := map[string]bool{}
		for _, r := range lbl {
			switch {
			case unicode.Is(unicode.Latin, r):
				scripts["latin"] = true
			case unicode.Is(unicode.Cyrillic, r):
				scripts["cyrillic"] = true
			case unicode.Is(unicode.Greek, r):
				scripts["greek"] = true
			case unicode.IsLetter(r):
				scripts["other"] = true
			}
		}
		if len(scripts) > 1 {
			return true
		}
	}
	return false
}

// Verdicts of a URL check.
const (
	VerdictSafe       = "safe"
	VerdictSuspicious = "suspicious"
	VerdictPhishing   = "phishing"
)

// Verdicts lists the verdicts, least alarming first.
var Verdicts = []string{VerdictSafe, VerdictSuspicious, VerdictPhishing}

// Result is the judgement of one URL.
type Result struct {
	URL              string   `json:"url"`
	Canonical        string   `json:"canonical,omitempty"`
	Host             string   `json:"host,omitempty"`
	UnicodeHost      string   `json:"unicode_host,omitempty"`
	RegisteredDomain string   `json:"registered_domain,omitempty"`
	Score            int      `json:"score"`
	Verdict          string   `json:"verdict"`
	Reasons          []Reason `json:"reasons"`
	// Lookalike is set when the domain imitates a protected one.
	Lookalike *Lookalike `json:"lookalike,omitempty"`
	// Targets are where the link's redirect parameters lead, in turn.
	Targets  []string `json:"targets,omitempty"`
	Features Features `json:"features"`
	// ModelVersion names the learned URL model that judged the link
	// ("" when none is loaded).
	ModelVersion string `json:"model_version,omitempty"`
}

// Reason is one thing that moved a URL's score.
type Reason struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Weight  int    `json:"weight"`
}

// maxTargets bounds how many redirects a check follows.
const maxTargets = 3

// Check judges raw against the protected domains (the shop's own and
// its brands'): what the link really points to, whether that imitates a
// protected domain, and what the link shows about itself. A link the
// protected domains themselves serve is safe unless it redirects
// elsewhere. A text that is not a URL is a field error.
func Check(raw string, protected []string) (Result, error) {
	return (&Checker{}).Check("", raw, protected)
}

// displayHost is the host as a reader sees it.
func displayHost(u URL) string {
	if u.UnicodeHost != "" {
		return u.UnicodeHost
	}
	return u.Host
}

// judge adds the reasons one URL gives.
func judge(u URL, f Features, brands []URL, add func(code string, weight int, format string, args ...any), look **Lookalike) {
	for _, b := range brands {
		if b.RegisteredDomain == u.RegisteredDomain {
			add("protected_domain", -30, "%s is one of the shop's own domains", u.RegisteredDomain)
			return
		}
	}
	if l, ok := findLookalike(u, brands); ok {
		weight := 75
		if l.Kind == KindAddedWord || l.Kind == KindSubdomain || l.Kind == KindTLDSwap {
			weight = 60
		}
		add("lookalike_"+l.Kind, weight, "%s", l)
		if *look == nil {
			*look = &l
		}
	}
	if f.Userinfo {
		add("userinfo", 40, "the text before @ is not where the link goes: it goes to %s", displayHost(u))
	}
	if f.IPHost {
		add("ip_host", 30, "the link goes to a bare IP address (%s), not a name", u.Host)
	}
	if f.MixedScript {
		add("mixed_script", 45, "the name %s mixes writing systems (a homograph)", u.UnicodeHost)
	} else if f.Punycode {
		add("punycode", 10, "the name is written in another script (%s)", u.UnicodeHost)
	}
	if len(f.Brands) > 0 {
		add("brand_outside_domain", 35, "%s named outside the site's own domain %s", strings.Join(f.Brands, ", "), u.RegisteredDomain)
	}
	if len(f.SuspiciousWords) > 0 {
		add("suspicious_words", min(30, 10*len(f.SuspiciousWords)), "words phishing links use: %s", strings.Join(f.SuspiciousWords, ", "))
	}
	if f.FreeHosting {
		add("free_hosting", 15, "a page anyone can put up on %s", u.RegisteredDomain)
	}
	if f.Shortener {
		add("shortener", 20, "a short link (%s) hides where it goes", u.RegisteredDomain)
	}
	if f.Port {
		add("port", 10, "an unusual port (%s)", u.Port)
	}
	if f.SubdomainDepth >= 4 {
		add("deep_subdomains", 10, "%d levels of subdomains", f.SubdomainDepth)
	}
	if f.Decodings >= 2 {
		add("nested_encoding", 15, "encoded %d times over to hide what it says", f.Decodings)
	}
	if f.Length > 150 {
		add("long", 5, "%d characters long", f.Length)
	}
}
