package phishing

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// permuteTestOptions are the options the dnstwist reference files were
// made with (bench/dnstwist/testdata.sh).
func permuteTestOptions(t testing.TB) PermuteOptions {
	t.Helper()
	read := func(name string, f func(*os.File) ([]string, error)) []string {
		fh, err := os.Open(filepath.Join("testdata", "permute", name))
		if err != nil {
			t.Fatal(err)
		}
		defer fh.Close()
		l, err := f(fh)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return l
	}
	return PermuteOptions{
		TLDs:       read("tlds.txt", func(f *os.File) ([]string, error) { return ReadTLDs(f) }),
		Dictionary: read("words.txt", func(f *os.File) ([]string, error) { return ReadDictionary(f) }),
	}
}

// permuteExtensions are the classes that make, beyond dnstwist 20221213, names
// it credits to a later class: addition before a hyphen, insertion
// before the first character, plural.
var permuteExtensions = []string{FuzzerAddition, FuzzerInsertion, FuzzerPlural}

// TestPermutationsCoverDnstwist checks Permutations against Debian
// dnstwist's output for the same domain, TLDs and words: every name
// dnstwist makes is made, credited to the same class or to an earlier
// class that makes more than dnstwist 20221213's.
func TestPermutationsCoverDnstwist(t *testing.T) {
	opts := permuteTestOptions(t)
	tests := []struct{ domain, file string }{
		{"paypal.com", "dnstwist-paypal.com.txt"},
		{"ab.com", "dnstwist-ab.com.txt"},
		{"bücher.de", "dnstwist-xn--bcher-kva.de.txt"},
		{"https://www.my-shop.co.uk/login", "dnstwist-www.my-shop.co.uk.txt"},
	}
	for _, tt := range tests {
		t.Run(tt.domain, func(t *testing.T) {
			fh, err := os.Open(filepath.Join("testdata", "permute", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			defer fh.Close()
			perms, err := Permutations(tt.domain, opts)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, p := range perms {
				got[p.Domain] = p.Fuzzer
			}
			sc := bufio.NewScanner(fh)
			n := 0
			for sc.Scan() {
				fuzzer, domain, ok := strings.Cut(sc.Text(), " ")
				if !ok {
					t.Fatalf("bad line %q", sc.Text())
				}
				n++
				g, ok := got[domain]
				switch {
				case !ok:
					t.Errorf("%s (%s) not generated", domain, fuzzer)
				case g != fuzzer && !(slices.Contains(permuteExtensions, g) && fuzzerRank(g) < fuzzerRank(fuzzer)):
					t.Errorf("%s credited to %s, dnstwist says %s", domain, g, fuzzer)
				}
			}
			if n < 100 {
				t.Fatalf("only %d reference names", n)
			}
			checkPermutations(t, tt.domain, perms)
		})
	}
}

// checkPermutations checks what holds of any output: known classes,
// valid ASCII names, Unicode forms that differ, no duplicates, not the
// domain itself, sorted by class and name.
func checkPermutations(t *testing.T, domain string, perms []Permutation) {
	t.Helper()
	u, _ := Parse(domain)
	seen := map[string]bool{}
	for i, p := range perms {
		if !slices.Contains(FuzzerNames, p.Fuzzer) {
			t.Fatalf("%+v: unknown class", p)
		}
		if !validFQDN(p.Domain) || p.Domain == u.Host || seen[p.Domain] {
			t.Fatalf("%+v: invalid, the domain itself or repeated", p)
		}
		seen[p.Domain] = true
		if p.Unicode == p.Domain || (p.Unicode != "") != strings.Contains("."+p.Domain, ".xn--") {
			t.Fatalf("%+v: Unicode form", p)
		}
		if i > 0 {
			q := perms[i-1]
			if fuzzerRank(q.Fuzzer) > fuzzerRank(p.Fuzzer) || (q.Fuzzer == p.Fuzzer && q.Domain >= p.Domain) {
				t.Fatalf("%+v before %+v", q, p)
			}
		}
	}
}

// TestPermutationClasses runs each class alone on names that show what
// it does.
func TestPermutationClasses(t *testing.T) {
	opts := permuteTestOptions(t)
	tests := []struct {
		domain, fuzzer string
		want, not      []string // ASCII or Unicode forms
	}{
		{"paypal.com", FuzzerAddition, []string{"paypala.com", "paypal0.com", "paypalz.com"}, []string{"apaypal.com"}},
		{"my-shop.com", FuzzerAddition, []string{"my-shop1.com", "my1-shop.com", "myx-shop.com"}, nil},
		{"paypal.com", FuzzerBitsquatting, []string{"qaypal.com", "paypam.com", "0aypal.com"}, []string{"paypa.com"}},
		{"paypal.com", FuzzerCyrillic, []string{"раураӏ.com", "xn--80aa0cbo65f.com"}, nil},
		{"shop-example.com", FuzzerCyrillic, nil, []string{"ѕһор-ехамрӏе.com"}}, // n has no Cyrillic lookalike
		{"paypal.com", FuzzerHomoglyph, []string{"paypa1.com", "pàypal.com", "pàypàl.com", "ƿaypaɫ.com", "paypai.com"}, []string{"paypal.net"}},
		{"ab.com", FuzzerHomoglyph, []string{"àb.com", "ad.com", "alb.com"}, nil},
		{"paypal.com", FuzzerHyphenation, []string{"p-aypal.com", "pay-pal.com", "paypa-l.com"}, []string{"-paypal.com", "paypal-.com"}},
		{"paypal.com", FuzzerInsertion, []string{"payp0al.com", "playpal.com", "0paypal.com"}, nil},
		{"paypal.com", FuzzerOmission, []string{"aypal.com", "paypl.com", "paypa.com"}, nil},
		{"paypal.com", FuzzerPlural, []string{"payspal.com", "paypsal.com"}, []string{"paypals.com"}},
		{"boxshop.com", FuzzerPlural, []string{"boxesshop.com", "boxseshop.com", "boxshsop.com"}, nil},
		{"paypal.com", FuzzerRepetition, []string{"ppaypal.com", "paypall.com"}, nil},
		{"paypal.com", FuzzerReplacement, []string{"oaypal.com", "paypak.com", "paypam.com", "0aypal.com"}, nil},
		{"paypal.com", FuzzerSubdomain, []string{"p.aypal.com", "pay.pal.com", "payp.al.com"}, []string{"paypa.l.com"}},
		{"my-shop.com", FuzzerSubdomain, []string{"m.y-shop.com", "my-sh.op.com"}, []string{"my.-shop.com", "my-.shop.com"}},
		{"paypal.com", FuzzerTransposition, []string{"apypal.com", "paypla.com"}, nil},
		{"paypal.com", FuzzerVowelSwap, []string{"peypal.com", "paypul.com"}, []string{"paypal.com", "pyypal.com"}},
		{"paypal.com", FuzzerDictionary, []string{"paypal-login.com", "paypallogin.com", "login-paypal.com", "securepaypal.com"}, nil},
		{"my-shop.com", FuzzerDictionary, []string{"my-login.com", "login-shop.com", "my-shopsecure.com"}, nil},
		{"paypal.com", FuzzerTLDSwap, []string{"paypal.net", "paypal.co.uk", "paypal.shop"}, []string{"paypal.com"}},
		{"paypal.com", FuzzerVarious, []string{"paypalcom.com"}, nil},
		{"bücher.de", FuzzerVarious, []string{"bücherde.de", "bücher-de.com", "bücherde.com"}, nil},
		{"www.paypal.co.uk", FuzzerVarious, []string{"www.paypal.uk", "www.paypalco.uk", "wwwpaypal.co.uk", "www-paypal.co.uk"}, nil},
		{"www.paypal.co.uk", FuzzerOmission, []string{"www.aypal.co.uk"}, []string{"ww.paypal.co.uk"}},
	}
	for _, tt := range tests {
		t.Run(tt.domain+"/"+tt.fuzzer, func(t *testing.T) {
			o := opts
			o.Fuzzers = []string{tt.fuzzer}
			perms, err := Permutations(tt.domain, o)
			if err != nil {
				t.Fatal(err)
			}
			checkPermutations(t, tt.domain, perms)
			got := map[string]bool{}
			for _, p := range perms {
				if p.Fuzzer != tt.fuzzer {
					t.Fatalf("%+v from fuzzer %s alone", p, tt.fuzzer)
				}
				got[p.Domain], got[p.Unicode] = true, true
			}
			for _, w := range tt.want {
				if !got[w] {
					t.Errorf("%s missing", w)
				}
			}
			for _, w := range tt.not {
				if got[w] {
					t.Errorf("%s generated", w)
				}
			}
		})
	}
}

// mixWindows is dnstwist's homoglyph step as written in Python: every
// window shorter than the name, every character of it, every glyph.
func mixWindows(name string) map[string]bool {
	d := []rune(name)
	out := map[string]bool{}
	for w := 1; w < len(d); w++ {
		for i := 0; i+w <= len(d); i++ {
			win := string(d[i : i+w])
			for _, c := range d[i : i+w] {
				for _, g := range glyphs[c] {
					out[string(d[:i])+strings.ReplaceAll(win, string(c), g)+string(d[i+w:])] = true
				}
			}
		}
	}
	return out
}

// TestMixGlyphs checks that trying each run of occurrences once makes
// what dnstwist's windows make.
func TestMixGlyphs(t *testing.T) {
	for _, name := range []string{"paypal", "aaa", "abca", "a", "shop-example", "1l1", "rnm", "bücher", "xn--zz", "mississippi"} {
		want := mixWindows(name)
		got := map[string]bool{}
		mixGlyphs(name, func(s string) bool { got[s] = true; return true })
		for s := range want {
			if !got[s] {
				t.Errorf("%s: %s missing", name, s)
			}
		}
		for s := range got {
			if !want[s] {
				t.Errorf("%s: %s extra", name, s)
			}
		}
	}
}

// TestPermutationsBound checks that Max bounds the output, that every
// other class gets its share before homoglyph, and that long names end
// in bounded time.
func TestPermutationsBound(t *testing.T) {
	all, err := Permutations("paypal.com", PermuteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var others int
	for _, p := range all {
		if p.Fuzzer != FuzzerHomoglyph {
			others++
		}
	}
	tests := []struct {
		domain    string
		max       int
		truncated bool
		want      int // -1: any up to max
	}{
		{"paypal.com", 10, true, 10},
		{"paypal.com", others, true, others},
		{"paypal.com", len(all), false, len(all)},
		{strings.Repeat("a", 50) + ".com", 5000, true, 5000},
		{strings.Repeat("ab", 25) + ".com", 20000, true, 20000},
		{strings.Repeat("a", 63) + ".com", 0, false, -1}, // punycode leaves no glyph room: none tried twice
		// Glyphs leave almost no name short enough: the bound on the
		// candidates tried stops it.
		{strings.Repeat("x", 63) + "." + strings.Repeat("y", 63) + "." + strings.Repeat("z", 63) + "." + strings.Repeat("w", 50) + ".com", 20000, true, -1},
		{strings.Repeat("x", 63) + "." + strings.Repeat("y", 63) + "." + strings.Repeat("z", 63) + "." + strings.Repeat("w", 51) + ".com", 20000, true, -1},
	}
	for _, tt := range tests {
		perms, err := Permutations(tt.domain, PermuteOptions{Max: tt.max})
		if errors.Is(err, ErrTruncated) != tt.truncated || (err != nil && !tt.truncated) {
			t.Errorf("%s max %d: error %v", tt.domain, tt.max, err)
		}
		if (tt.want >= 0 && len(perms) != tt.want) || (tt.max > 0 && len(perms) > tt.max) {
			t.Errorf("%s max %d: %d permutations, want %d", tt.domain, tt.max, len(perms), tt.want)
		}
		if tt.max == others {
			for _, p := range perms {
				if p.Fuzzer == FuzzerHomoglyph {
					t.Errorf("%+v before the other classes were done", p)
				}
			}
		}
		checkPermutations(t, tt.domain, perms)
	}
}

// TestPermutationsDeterministic: the same call, the same output.
func TestPermutationsDeterministic(t *testing.T) {
	a, err := Permutations("shop-example.co.uk", PermuteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Permutations("shop-example.co.uk", PermuteOptions{})
	if !slices.Equal(a, b) {
		t.Fatal("two runs differ")
	}
}

// TestPermutationsErrors: bad domains and options are errors naming
// what is wrong; the caller's lists are not changed.
func TestPermutationsErrors(t *testing.T) {
	tests := []struct {
		domain string
		opts   PermuteOptions
		err    string
	}{
		{"", PermuteOptions{}, "empty"},
		{"192.0.2.1", PermuteOptions{}, "not a domain name"},
		{"localhost", PermuteOptions{}, "not a domain name"},
		{"com", PermuteOptions{}, "not a domain name"},
		{"ftp://paypal.com", PermuteOptions{}, "only http and https"},
		{"ex--ample.com", PermuteOptions{}, "not a name valid for registration"},
		{"_dmarc.paypal.com", PermuteOptions{}, "not a name valid for registration"},
		{"paypal.com", PermuteOptions{Fuzzers: []string{"addition", "typo"}}, `unknown fuzzer "typo"`},
		{"paypal.com", PermuteOptions{TLDs: []string{"com", "a"}}, `TLD 2: "a"`},
		{"paypal.com", PermuteOptions{TLDs: []string{"x.y.z"}}, "more than two labels"},
		{"paypal.com", PermuteOptions{TLDs: []string{"c_m"}}, `TLD 1`},
		{"paypal.com", PermuteOptions{Dictionary: []string{"login", "log in"}}, `dictionary word 2: "log in" has ' '`},
		{"paypal.com", PermuteOptions{Dictionary: []string{"-x"}}, "hyphen"},
		{"paypal.com", PermuteOptions{Max: -1}, "negative"},
	}
	for _, tt := range tests {
		_, err := Permutations(tt.domain, tt.opts)
		if err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%q %+v: %v, want %q", tt.domain, tt.opts, err, tt.err)
		}
	}
	tlds, words := []string{"COM", ".Shop"}, []string{"Login"}
	perms, err := Permutations("paypal.net", PermuteOptions{TLDs: tlds, Dictionary: words, Fuzzers: []string{FuzzerTLDSwap, FuzzerDictionary}})
	if err != nil || tlds[0] != "COM" || words[0] != "Login" {
		t.Fatalf("%v; lists now %v %v", err, tlds, words)
	}
	if len(perms) != 2+4 {
		t.Errorf("%d permutations: %+v", len(perms), perms)
	}
	if perms, _ := Permutations("paypal.com", PermuteOptions{TLDs: []string{}, Fuzzers: []string{FuzzerTLDSwap}}); len(perms) != 0 {
		t.Errorf("an empty TLD list made %+v", perms)
	}
}

// TestReadLists reads TLD and word files.
func TestReadLists(t *testing.T) {
	tests := []struct {
		name, body string
		read       func(*strings.Reader) ([]string, error)
		want       []string
		err        string
	}{
		{"tlds", "// Source: somewhere\n# note\ncom\n\n CO.UK \n.shop\nрф\ncom\n", readTLDs, []string{"com", "co.uk", "shop", "xn--p1ai"}, ""},
		{"tld too short", "com\nx\n", readTLDs, nil, "line 2"},
		{"tld three labels", "a.b.cc\n", readTLDs, nil, "line 1: \"a.b.cc\""},
		{"tld long line", "com\n" + strings.Repeat("a", 2000) + "\n", readTLDs, nil, "line 2: longer than"},
		{"words", "login\n# c\nSecure\nmój\nlog-in\n", readWords, []string{"login", "secure", "mój", "log-in"}, ""},
		{"word with space", "login\nsign in\n", readWords, nil, "line 2: \"sign in\""},
		{"empty", "", readWords, []string{}, ""},
	}
	for _, tt := range tests {
		got, err := tt.read(strings.NewReader(tt.body))
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: %v, want %q", tt.name, err, tt.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("%s: %q %v, want %q", tt.name, got, err, tt.want)
		}
	}
	// The defaults are valid lists.
	if _, err := Permutations("paypal.com", PermuteOptions{Fuzzers: []string{FuzzerTLDSwap, FuzzerDictionary}}); err != nil {
		t.Fatal(err)
	}
}

func readTLDs(r *strings.Reader) ([]string, error)  { return ReadTLDs(r) }
func readWords(r *strings.Reader) ([]string, error) { return ReadDictionary(r) }

// FuzzPermutations: any domain gives valid permutations or an error,
// never a crash, and the output stays within Max.
func FuzzPermutations(f *testing.F) {
	for _, s := range []string{"paypal.com", "bücher.de", "www.my-shop.co.uk", "a.b", "xn--80ak6aa92e.com", "https://ex-ample.com:8080/x", "ʙ.com", "1.2.3.4", "-a-.com"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, domain string) {
		if !utf8.ValidString(domain) || len(domain) > 300 {
			return
		}
		const max = 3000
		perms, err := Permutations(domain, PermuteOptions{Max: max, TLDs: []string{"com", "co.uk"}, Dictionary: []string{"login"}})
		if err != nil && !errors.Is(err, ErrTruncated) {
			if len(perms) != 0 {
				t.Fatalf("%d permutations with %v", len(perms), err)
			}
			return
		}
		if len(perms) > max {
			t.Fatalf("%d permutations, at most %d", len(perms), max)
		}
		checkPermutations(t, domain, perms)
	})
}

// FuzzReadLists: any file is a list or an error naming a line.
func FuzzReadLists(f *testing.F) {
	f.Add("com\nco.uk\n# c\n")
	f.Add("login\n\xff\n")
	f.Fuzz(func(t *testing.T, body string) {
		for _, read := range []func(*strings.Reader) ([]string, error){readTLDs, readWords} {
			l, err := read(strings.NewReader(body))
			if err != nil {
				if !strings.HasPrefix(err.Error(), "line ") {
					t.Fatalf("error %q names no line", err)
				}
				continue
			}
			for _, s := range l {
				if s == "" || strings.TrimSpace(s) != s {
					t.Fatalf("entry %q", s)
				}
			}
		}
	})
}
