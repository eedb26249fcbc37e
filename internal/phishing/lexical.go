package phishing

import (
	"slices"
	"strings"
)

// LexicalNames names the columns Lexical fills, in order: what the
// learned URL model sees of a link besides its character n-grams.
var LexicalNames = []string{
	"length", "host_length", "path_length", "query_length", "registered_label_length", "tld_length",
	"host_dots", "host_hyphens", "hyphens", "host_digits_ratio", "digits_ratio", "registered_label_digits",
	"subdomain_depth", "path_depth", "at_signs", "question_marks", "ampersands", "equals", "underscores",
	"tildes", "percents", "dots_in_path", "ip_host", "port", "https", "punycode", "www_count", "com_count",
	"double_slash_in_path", "http_in_path", "host_entropy", "path_entropy", "longest_host_word",
	"longest_path_word", "mean_word_length", "words", "suspicious_words", "brands_outside_domain",
	"shortener", "free_hosting", "ext_php", "ext_html", "ext_executable", "trailing_slash", "max_char_run",
	"host_vowel_ratio", "host_consonant_run", "uppercase", "distinct_host_chars", "userinfo", "decodings",
	"tld_in_path", "tld_in_subdomain", "hex_run",
}

// commonTLDs appear inside phishing paths and subdomains ("paypal.com-
// secure.example"): a TLD outside its place is a tell.
var commonTLDs = []string{"com", "net", "org", "info", "biz", "co", "io", "de", "uk", "ru", "br"}

// Lexical appends u's lexical features (the columns of LexicalNames) to
// dst and returns it.
func Lexical(u URL, dst []float64) []float64 {
	f := Extract(u)
	host := u.Host
	lbl := label(u.RegisteredDomain, u.PublicSuffix)
	path, query := u.Path, u.Query
	raw := strings.TrimSpace(u.Raw)
	b2f := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	ratio := func(n, d int) float64 {
		if d == 0 {
			return 0
		}
		return float64(n) / float64(d)
	}
	digits := func(s string) int {
		n := 0
		for i := 0; i < len(s); i++ {
			if s[i] >= '0' && s[i] <= '9' {
				n++
			}
		}
		return n
	}
	lowerPath := strings.ToLower(path)
	words := urlWords(strings.ToLower(raw))
	var longestHost, longestPath, total int
	for _, w := range urlWords(host) {
		longestHost = max(longestHost, len(w))
	}
	for _, w := range urlWords(lowerPath + " " + strings.ToLower(query)) {
		longestPath = max(longestPath, len(w))
	}
	for _, w := range words {
		total += len(w)
	}
	ext := strings.ToLower(path[strings.LastIndex(path, "/")+1:])
	if i := strings.LastIndex(ext, "."); i >= 0 {
		ext = ext[i+1:]
	} else {
		ext = ""
	}
	var upper int
	for i := 0; i < len(raw); i++ {
		if raw[i] >= 'A' && raw[i] <= 'Z' {
			upper++
		}
	}
	distinct := map[byte]bool{}
	for i := 0; i < len(host); i++ {
		distinct[host[i]] = true
	}
	var vowels, letters, consonantRun, run int
	for i := 0; i < len(lbl); i++ {
		c := lbl[i]
		if c < 'a' || c > 'z' {
			run = 0
			continue
		}
		letters++
		if strings.IndexByte("aeiouy", c) >= 0 {
			vowels++
			run = 0
		} else {
			run++
			consonantRun = max(consonantRun, run)
		}
	}
	var tldInPath, tldInSub bool
	for _, t := range commonTLDs {
		if strings.Contains(lowerPath, "."+t+"/") || strings.Contains(lowerPath, "."+t+"-") || strings.HasSuffix(lowerPath, "."+t) {
			tldInPath = true
		}
		if strings.Contains(u.Subdomain+".", "."+t+".") || strings.Contains(u.Subdomain, "."+t+"-") || strings.HasPrefix(u.Subdomain, t+".") {
			tldInSub = true
		}
	}
	return append(dst,
		float64(len(raw)), float64(len(host)), float64(len(path)), float64(len(query)), float64(len(lbl)), float64(len(u.PublicSuffix)),
		float64(strings.Count(host, ".")), float64(strings.Count(host, "-")), float64(strings.Count(raw, "-")),
		ratio(digits(host), len(host)), ratio(digits(raw), len(raw)), float64(digits(lbl)),
		float64(f.SubdomainDepth), float64(f.PathDepth), float64(strings.Count(raw, "@")), float64(strings.Count(raw, "?")),
		float64(strings.Count(raw, "&")), float64(strings.Count(raw, "=")), float64(strings.Count(raw, "_")),
		float64(strings.Count(raw, "~")), float64(strings.Count(raw, "%")), float64(strings.Count(path, ".")),
		b2f(f.IPHost), b2f(f.Port), b2f(f.HTTPS), b2f(f.Punycode), float64(strings.Count(strings.ToLower(raw), "www")),
		float64(strings.Count(strings.ToLower(raw), ".com")), b2f(strings.Contains(path, "//")),
		b2f(strings.Contains(lowerPath, "http")), f.HostEntropy, entropy(path), float64(longestHost),
		float64(longestPath), ratio(total, len(words)), float64(len(words)), float64(len(f.SuspiciousWords)),
		float64(len(f.Brands)), b2f(f.Shortener), b2f(f.FreeHosting), b2f(ext == "php"),
		b2f(ext == "html" || ext == "htm"), b2f(slices.Contains([]string{"exe", "apk", "zip", "rar", "scr", "js", "jar", "bin", "msi"}, ext)),
		b2f(strings.HasSuffix(path, "/") && len(path) > 1), float64(maxRun(raw)),
		ratio(vowels, letters), float64(consonantRun), float64(upper), float64(len(distinct)), b2f(f.Userinfo),
		float64(f.Decodings), b2f(tldInPath), b2f(tldInSub), float64(hexRun(raw)),
	)
}

// urlWords splits a URL into its runs of letters and digits.
func urlWords(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127)
	})
}

// maxRun is the longest run of one repeated byte.
func maxRun(s string) int {
	best, run := 0, 0
	for i := 0; i < len(s); i++ {
		if i > 0 && s[i] == s[i-1] {
			run++
		} else {
			run = 1
		}
		best = max(best, run)
	}
	return best
}

// hexRun is the longest run of hexadecimal digits (tokens, hashes and
// tracking ids that phishing kits put in their links).
func hexRun(s string) int {
	best, run := 0, 0
	for i := 0; i < len(s); i++ {
		if isHex(s[i]) {
			run++
			best = max(best, run)
		} else {
			run = 0
		}
	}
	return best
}
