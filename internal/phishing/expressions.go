package phishing

import "crypto/sha256"

// Limits of the suffix/prefix expressions of one URL, as Safe Browsing
// sets them.
const (
	// maxHostSuffixes is how many host names a URL is looked up under:
	// the exact host and up to 4 suffixes.
	maxHostSuffixes = 5
	// maxPathPrefixes is how many paths: the exact path with and without
	// the query, and up to 4 prefixes from the root.
	maxPathPrefixes = 6
	// MaxExpressions bounds how many expressions Expressions returns.
	MaxExpressions = maxHostSuffixes * maxPathPrefixes
)

// Expressions returns the Safe Browsing (v4, "URLs and Hashing")
// suffix/prefix expressions of u, under which lists of known-bad URLs
// are looked up: every combination of
//
//   - a host: the exact host, then (for a name, not an IP address) up to
//     4 suffixes formed from the host's last 5 components by removing the
//     leading one in turn, the top-level domain alone excepted;
//   - a path: the exact path with the query, the exact path without it,
//     then up to 4 prefixes from the root "/" adding one directory at a
//     time, each with its trailing slash.
//
// The expressions have neither scheme nor port ("a.b.c/1/2.html?param=1");
// an IPv6 host is in brackets; path and query are escaped as in
// u.Canonical. They are ordered most specific first (hosts from the exact
// one down, and for each host the paths from the longest down) and never
// repeat, so the first is the expression that lists exactly u. u comes
// from Parse; an empty query is no query (so "http://a.b/?" is "a.b/").
func Expressions(u URL) []string {
	hosts := hostSuffixes(u)
	paths := pathPrefixes(u)
	out := make([]string, 0, len(hosts)*len(paths))
	for _, h := range hosts {
		for _, p := range paths {
			out = append(out, h+p)
		}
	}
	return out
}

// HashExpression returns the SHA-256 of an expression: what lists store
// and compare in place of the URL.
func HashExpression(e string) [32]byte {
	return sha256.Sum256([]byte(e))
}

// expressionHost is u's host as expressions write it.
func expressionHost(u URL) string {
	if u.IP.Is6() {
		return "[" + u.Host + "]"
	}
	return u.Host
}

// hostSuffixes returns the hosts of u's expressions, the exact host first.
func hostSuffixes(u URL) []string {
	host := expressionHost(u)
	out := make([]string, 1, maxHostSuffixes)
	out[0] = host
	if u.IP.IsValid() {
		return out
	}
	// Up to 4 suffixes of the last 5 components, longest first: the
	// suffix of k+1 components follows the k-th dot from the right
	// (dots[k]), and is shorter than the host when that dot exists. The
	// top-level domain alone (k = 0) is not looked up.
	var dots [5]int
	n := 0
	for i := len(host) - 1; i >= 0 && n < len(dots); i-- {
		if host[i] == '.' {
			dots[n] = i
			n++
		}
	}
	for k := n - 1; k >= 1; k-- {
		out = append(out, host[dots[k]+1:])
	}
	return out
}

// pathPrefixes returns the paths of u's expressions, the exact path with
// its query first.
func pathPrefixes(u URL) []string {
	path := escape(u.Path)
	if path == "" {
		path = "/"
	}
	out := make([]string, 0, maxPathPrefixes)
	if u.Query != "" {
		out = append(out, path+"?"+escape(u.Query))
	}
	out = append(out, path)
	// Directories from the root: "/", "/a/", "/a/b/", "/a/b/c/".
	var prefixes [4]string
	n := 0
	for i := 0; i < len(path) && n < len(prefixes); i++ {
		if path[i] == '/' {
			prefixes[n] = path[:i+1]
			n++
		}
	}
	for i := n - 1; i >= 0; i-- {
		if prefixes[i] != path {
			out = append(out, prefixes[i])
		}
	}
	return out
}

// URLExpression returns the one expression that lists exactly u: its
// host, path and query ("evil.test/login.php?id=1"), the first of
// Expressions(u). A bare host name parses to the path "/", and so lists
// the whole host ("evil.test/"), with its subdomains.
func URLExpression(u URL) string {
	p := escape(u.Path)
	if p == "" {
		p = "/"
	}
	if u.Query != "" {
		p += "?" + escape(u.Query)
	}
	return expressionHost(u) + p
}
