package phishing_test

import (
	"encoding/hex"
	"slices"
	"strings"
	"testing"

	"github.com/shopguard/shopguard/internal/phishing"
)

func TestExpressions(t *testing.T) {
	tests := []struct {
		url  string
		want []string // most specific first
	}{
		// The examples of Google's Safe Browsing v4 "URLs and Hashing".
		{"http://a.b.c/1/2.html?param=1", []string{"a.b.c/1/2.html?param=1", "a.b.c/1/2.html", "a.b.c/1/", "a.b.c/",
			"b.c/1/2.html?param=1", "b.c/1/2.html", "b.c/1/", "b.c/"}},
		{"http://a.b.c.d.e.f.g/1.html", []string{"a.b.c.d.e.f.g/1.html", "a.b.c.d.e.f.g/", "c.d.e.f.g/1.html", "c.d.e.f.g/",
			"d.e.f.g/1.html", "d.e.f.g/", "e.f.g/1.html", "e.f.g/", "f.g/1.html", "f.g/"}},
		{"http://1.2.3.4/1/", []string{"1.2.3.4/1/", "1.2.3.4/"}},
		// More: deep paths keep 4 prefixes from the root, the query stays
		// out of the prefixes, exactly 5 components, IP hosts have no
		// suffixes, a bare name, ports and schemes do not count.
		{"http://a.b.c/1/2/3/4/5/", []string{"a.b.c/1/2/3/4/5/", "a.b.c/1/2/3/", "a.b.c/1/2/", "a.b.c/1/", "a.b.c/",
			"b.c/1/2/3/4/5/", "b.c/1/2/3/", "b.c/1/2/", "b.c/1/", "b.c/"}},
		{"http://a.b.c.d.e/1.html", []string{"a.b.c.d.e/1.html", "a.b.c.d.e/", "b.c.d.e/1.html", "b.c.d.e/", "c.d.e/1.html",
			"c.d.e/", "d.e/1.html", "d.e/"}},
		{"https://b.c/1/2/3.html?param=1/2", []string{"b.c/1/2/3.html?param=1/2", "b.c/1/2/3.html", "b.c/1/2/", "b.c/1/", "b.c/"}},
		{"http://a.b.c.d.e.f.g.h.i/", []string{"a.b.c.d.e.f.g.h.i/", "e.f.g.h.i/", "f.g.h.i/", "g.h.i/", "h.i/"}},
		{"http://a.b.c/1/2/3/4/5/6/7.html?x", []string{"a.b.c/1/2/3/4/5/6/7.html?x", "a.b.c/1/2/3/4/5/6/7.html", "a.b.c/1/2/3/",
			"a.b.c/1/2/", "a.b.c/1/", "a.b.c/", "b.c/1/2/3/4/5/6/7.html?x", "b.c/1/2/3/4/5/6/7.html", "b.c/1/2/3/", "b.c/1/2/",
			"b.c/1/", "b.c/"}},
		{"http://a.b/?", []string{"a.b/"}},
		{"http://a.b/", []string{"a.b/"}},
		{"http://b/", []string{"b/"}},
		{"evil.test", []string{"evil.test/"}},
		{"http://[2001:470:1:18::114]/a/b", []string{"[2001:470:1:18::114]/a/b", "[2001:470:1:18::114]/a/", "[2001:470:1:18::114]/"}},
		{"http://3279880203/blah", []string{"195.127.0.11/blah", "195.127.0.11/"}},
		{"https://www.evil.test:8443/Login.php?id=1#frag", []string{"www.evil.test/Login.php?id=1", "www.evil.test/Login.php",
			"www.evil.test/", "evil.test/Login.php?id=1", "evil.test/Login.php", "evil.test/"}},
		{"http://evil.test/a b/c?d e", []string{"evil.test/a%20b/c?d%20e", "evil.test/a%20b/c", "evil.test/a%20b/", "evil.test/"}},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			u, err := phishing.Parse(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			got := phishing.Expressions(u)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Expressions(%s) =\n%s\nwant\n%s", tt.url, strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if e := phishing.URLExpression(u); e != tt.want[0] {
				t.Errorf("URLExpression(%s) = %q, want %q", tt.url, e, tt.want[0])
			}
		})
	}
}

func TestHashExpression(t *testing.T) {
	// The hash examples of "URLs and Hashing" (plain SHA-256).
	for in, want := range map[string]string{
		"abc": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq": "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
	} {
		if h := phishing.HashExpression(in); hex.EncodeToString(h[:]) != want {
			t.Errorf("HashExpression(%q) = %x, want %s", in, h, want)
		}
	}
}

func FuzzExpressions(f *testing.F) {
	for _, s := range []string{"http://a.b.c/1/2.html?param=1", "http://a.b.c.d.e.f.g/1.html", "http://1.2.3.4/1/", "http://[::1]/a/b",
		"evil.test", "http://a.b/?", "http://x.test/%2e%2e/%2F/a?b#c", "http://a.b.c/1/2/3/4/5/6/", "http://.../", "http://a..b/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := phishing.Parse(raw)
		if err != nil {
			return
		}
		es := phishing.Expressions(u)
		if len(es) == 0 || len(es) > phishing.MaxExpressions {
			t.Fatalf("Expressions(%.200q) gave %d expressions", raw, len(es))
		}
		if es[0] != phishing.URLExpression(u) {
			t.Fatalf("Expressions(%.200q)[0] = %.200q, URLExpression %.200q", raw, es[0], phishing.URLExpression(u))
		}
		exactHost, _, _ := strings.Cut(es[0], "/")
		seen := map[string]bool{}
		hosts := map[string]bool{}
		for _, e := range es {
			if seen[e] {
				t.Fatalf("Expressions(%.200q) repeats %.200q", raw, e)
			}
			seen[e] = true
			host, _, ok := strings.Cut(e, "/")
			if !ok || host == "" {
				t.Fatalf("expression %.200q of %.200q has no host and path", e, raw)
			}
			if host != exactHost && !strings.HasSuffix(exactHost, "."+host) {
				t.Fatalf("expression %.200q of %.200q is not for a suffix of its host %.200q", e, raw, exactHost)
			}
			hosts[host] = true
			if strings.ContainsAny(e, " #\t\r\n") {
				t.Fatalf("expression %.200q of %.200q is not escaped", e, raw)
			}
			// Every expression of the exact host is itself a URL whose
			// most specific expression it is: lists and lookups agree.
			// (A suffix may read as an IP address: "0.0" of "a.0.0".)
			if host != exactHost {
				continue
			}
			again, err := phishing.Parse("http://" + e)
			if err != nil {
				t.Fatalf("expression %.200q of %.200q does not parse: %v", e, raw, err)
			}
			if got := phishing.URLExpression(again); got != e {
				t.Fatalf("expression %.200q of %.200q reparses as %.200q", e, raw, got)
			}
		}
		if len(hosts) > 5 || len(es) > 6*len(hosts) {
			t.Fatalf("Expressions(%.200q): %d hosts, %d expressions", raw, len(hosts), len(es))
		}
	})
}
