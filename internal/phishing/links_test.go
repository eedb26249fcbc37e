package phishing_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shopguard/shopguard/internal/phishing"
)

func TestExtractLinks(t *testing.T) {
	tests := []struct {
		text string
		want []string // the links' text, in order
	}{
		{"Visit https://shop.example/a?b=c.", []string{"https://shop.example/a?b=c"}},
		{"USPS: Your package is on hold. Update: https://usps.trackpkgs.top/us?id=9 Reply STOP to opt out",
			[]string{"https://usps.trackpkgs.top/us?id=9"}},
		{"(see https://en.wikipedia.org/wiki/Foo_(bar)) and (https://evil.test/x), [link](https://evil.test/md)",
			[]string{"https://en.wikipedia.org/wiki/Foo_(bar)", "https://evil.test/x", "https://evil.test/md"}},
		{"go to www.northwind.shop! or WWW.NORTHWIND.SHOP:8443/x.", []string{"www.northwind.shop", "WWW.NORTHWIND.SHOP:8443/x"}},
		{"Your parcel: shopp1ng-example.com/login?id=3, today", []string{"shopp1ng-example.com/login?id=3"}},
		{"Paketbenachrichtigung: nоrthwind.shop/dhl?id=1 (Cyrillic o)", []string{"nоrthwind.shop/dhl?id=1"}},
		{"setup.zip/download is a link now that .zip is a TLD", []string{"setup.zip/download"}},
		{"e.g. this, i.e. that; see index.html/x or v1.2/3 or example.com alone", nil},
		{"mail bob@northwind.shop/x or write to bob@www.northwind.shop", nil},
		{"URL:https://evil.test/x\tnext=http://evil.test/y", []string{"https://evil.test/x", "http://evil.test/y"}},
		{"«https://evil.test/a» “https://evil.test/b” <https://evil.test/c> 'https://evil.test/d'",
			[]string{"https://evil.test/a", "https://evil.test/b", "https://evil.test/c", "https://evil.test/d"}},
		{"Klicken Sie: https://nörthwind.shop/konto… danke。", []string{"https://nörthwind.shop/konto"}},
		{"HTTPS://EVIL.TEST/A?x=1&y=2#frag!", []string{"HTTPS://EVIL.TEST/A?x=1&y=2#frag"}},
		{"https://northwind.shop@evil.test/pay now", []string{"https://northwind.shop@evil.test/pay"}},
		{"http:// and https://. and www. and http://evil.test:99999/x", nil},
		{"xhttps://evil.test/a is inside a word", nil},
		{"two on a line: https://a.example/1,https://b.example/2", []string{"https://a.example/1,https://b.example/2"}},
		{"a zero\u200bwidth space ends it: https://evil.test/a\u200bb", []string{"https://evil.test/a"}},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			links := phishing.ExtractLinks(tt.text)
			var got []string
			for _, l := range links {
				got = append(got, l.Text)
				if tt.text[l.Start:l.End] != l.Text || l.Href != l.Text || l.Kind != phishing.LinkText {
					t.Errorf("link %+v: text[%d:%d] = %q", l, l.Start, l.End, tt.text[l.Start:l.End])
				}
				if _, err := phishing.Parse(l.Href); err != nil {
					t.Errorf("link %q does not parse: %v", l.Href, err)
				}
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("ExtractLinks = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestExtractLinksLimit(t *testing.T) {
	text := strings.Repeat("https://evil.test/x ", phishing.MaxLinks+10)
	if n := len(phishing.ExtractLinks(text)); n != phishing.MaxLinks {
		t.Errorf("%d links, want MaxLinks %d", n, phishing.MaxLinks)
	}
}

func TestExtractHTMLLinks(t *testing.T) {
	tests := []struct {
		name, doc string
		want      []string // kind href "text"
	}{
		{"anchor with markup", `<p>Go <a href="https://n0rthwind.shop/x" class=btn>https://<b>northwind.shop</b>/account</a> now</p>`,
			[]string{`anchor https://n0rthwind.shop/x "https://northwind.shop/account"`}},
		{"image button", `<a href="http://evil.test/pay"><img src="b.png" alt="Pay now"></a>`,
			[]string{`anchor http://evil.test/pay "Pay now"`}},
		{"area, form, and a URL in the text", `<map><area href="https://evil.test/m" alt="Map"></map>` +
			`<form action=" https://evil.test/post "><input></form><p>Or copy https://evil.test/p?a=1&amp;b=2.</p>`,
			[]string{`area https://evil.test/m "Map"`, `form https://evil.test/post ""`, `html_text https://evil.test/p?a=1&b=2 "https://evil.test/p?a=1&b=2"`}},
		{"base resolves relative links", `<base href="https://evil.test/kit/"><a href="login.php">Sign in</a><a href="#top">Top</a>`,
			[]string{`anchor https://evil.test/kit/login.php "Sign in"`, `anchor https://evil.test/kit/#top "Top"`}},
		{"no href, scripts and styles", `<a name="x">x</a><script>var u="https://evil.test/s"</script><style>a{background:url(https://evil.test/c)}</style>`, nil},
		{"unclosed anchor", `<a href="https://evil.test/a">never closed <p>text`, []string{`anchor https://evil.test/a "never closed text"`}},
		{"entities in href", `<a href="https://evil.test/?a=1&amp;b=&#x32;">x</a>`, []string{`anchor https://evil.test/?a=1&b=2 "x"`}},
		{"javascript", `<a href="javascript:alert(1)">https://northwind.shop</a>`, []string{`anchor javascript:alert(1) "https://northwind.shop"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, l := range phishing.ExtractHTMLLinks(tt.doc) {
				got = append(got, fmt.Sprintf("%s %s %q", l.Kind, l.Href, l.Text))
				if l.Start < 0 || l.End > len(tt.doc) || l.Start >= l.End {
					t.Errorf("link %+v: offsets outside the document", l)
				} else if l.Kind != phishing.LinkHTMLText && tt.doc[l.Start] != '<' {
					t.Errorf("link %+v: doc[Start:] = %.20q, not a tag", l, tt.doc[l.Start:])
				}
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("ExtractHTMLLinks =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestLinkMismatch(t *testing.T) {
	tests := []struct {
		text, href  string
		shown, real string // "" for no mismatch
	}{
		{"https://northwind.shop/account", "https://n0rthwind.shop/account/verify", "northwind.shop", "n0rthwind.shop"},
		{"Visit www.northwind.shop today", "http://evil.test/", "www.northwind.shop", "evil.test"},
		{"NORTHWIND.SHOP", "https://evil.test/", "northwind.shop", "evil.test"},
		{"https://northwind.shop", "https://northwind.shop@evil.test/", "northwind.shop", "evil.test"},
		{"https://northwind.shop", "javascript:location='//evil.test'", "northwind.shop", "javascript:"},
		{"https://northwind.shop", "https://xn--nrthwind-n4a.shop/", "northwind.shop", "nörthwind.shop"},
		{"Click here", "https://evil.test/", "", ""},
		{"northwind.shop", "https://www.northwind.shop/", "", ""},
		{"https://northwind.shop/orders", "https://click.mailer.test/c?url=https%3A%2F%2Fnorthwind.shop%2Forders", "", ""},
		{"support@northwind.shop", "mailto:support@northwind.shop", "", ""},
		{"https://northwind.shop", "mailto:x@evil.test", "", ""},
		{"invoice.pdf", "https://files.evil.test/i.pdf", "", ""},
		{"https://nörthwind.shop", "https://xn--nrthwind-n4a.shop/", "", ""},
		{"https://northwind.shop", "/relative", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.text+" "+tt.href, func(t *testing.T) {
			shown, real, ok := phishing.Link{Href: tt.href, Text: tt.text, Kind: phishing.LinkAnchor}.Mismatch()
			if ok != (tt.shown != "") || shown != tt.shown || real != tt.real {
				t.Errorf("Mismatch = %q, %q, %v; want %q, %q", shown, real, ok, tt.shown, tt.real)
			}
		})
	}
}

func TestLinkWeb(t *testing.T) {
	for href, want := range map[string]bool{
		"https://evil.test/x": true, "HTTP://evil.test": true, "www.evil.test/x": true, "evil.test:8080/x": true, "//evil.test/x": true,
		"mailto:x@evil.test": false, "tel:+4930123": false, "javascript:alert(1)": false, "sms:+1555?body=x": false, "/relative": false,
		"#top": false, "cid:logo@x": false, "data:text/html,x": false, "ftp://evil.test/": false, "": false,
	} {
		if got := (phishing.Link{Href: href}).Web(); got != want {
			t.Errorf("Link{Href: %q}.Web() = %v, want %v", href, got, want)
		}
	}
}

func FuzzExtractLinks(f *testing.F) {
	for _, s := range []string{"Visit https://shop.example/a?b=c.", "(https://evil.test/x)", "www.northwind.shop!", "shopp1ng-example.com/login",
		"nоrthwind.shop/dhl", "«https://evil.test/a»", "http://a(http://a(http://", "www.a(www.a(", "https://x.test/)))))",
		`<a href="https://n0rthwind.shop/x">https://northwind.shop</a><form action=/p>`, "<base href=//evil.test/><a href=x>y</a>"} {
		f.Add(s)
	}
	files, _ := filepath.Glob("testdata/email/*.eml")
	for _, file := range files {
		if raw, err := os.ReadFile(file); err == nil {
			f.Add(string(raw))
		}
	}
	f.Fuzz(func(t *testing.T, text string) {
		last := 0
		for _, l := range phishing.ExtractLinks(text) {
			if l.Start < last || l.End <= l.Start || l.End > len(text) || text[l.Start:l.End] != l.Href {
				t.Fatalf("link %+v out of place in %.200q", l, text)
			}
			if _, err := phishing.Parse(l.Href); err != nil {
				t.Fatalf("link %q does not parse: %v", l.Href, err)
			}
			last = l.End
			if !l.Web() {
				t.Fatalf("link %q is no web link", l.Href)
			}
			_, _, _ = l.Mismatch()
		}
		for _, l := range phishing.ExtractHTMLLinks(text) {
			if l.Start < 0 || l.End > len(text) || l.End < l.Start {
				t.Fatalf("HTML link %+v outside %d bytes", l, len(text))
			}
			if l.Kind != phishing.LinkHTMLText && text[l.Start] != '<' {
				t.Fatalf("HTML link %+v does not start at a tag in %.200q", l, text)
			}
			_ = l.Web()
			_, _, _ = l.Mismatch()
		}
	})
}

func BenchmarkExtractLinks(b *testing.B) {
	sms := "USPS: Your package is on hold due to an incomplete address. Update now: https://usps.trackpkgs.top/us?id=9 or shopp1ng-example.com/login. Reply STOP to opt out."
	long := strings.Repeat("Lorem ipsum dolor sit amet, e.g. consectetur adipiscing elit; see www.northwind.shop/help and https://northwind.shop/orders/10452/track. ", 100)
	html, err := os.ReadFile("testdata/email/phish_display_name.eml")
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name, text string
		extract    func(string) []phishing.Link
	}{{"sms", sms, phishing.ExtractLinks}, {"text_13KiB", long, phishing.ExtractLinks}, {"html_eml", string(html), phishing.ExtractHTMLLinks}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.text)))
			for b.Loop() {
				bc.extract(bc.text)
			}
		})
	}
}
