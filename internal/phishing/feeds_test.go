package phishing_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/shopguard/shopguard/internal/phishing"
)

// readFeed reads a feed and returns its expressions with the stats.
func readFeed(t *testing.T, data []byte, format phishing.FeedFormat, limits phishing.FeedLimits) ([]string, phishing.FeedStats, error) {
	t.Helper()
	var exprs []string
	st, err := phishing.ReadFeed(bytes.NewReader(data), format, limits, func(e phishing.FeedEntry) error {
		if e.Hash != phishing.HashExpression(e.Expression) {
			t.Errorf("entry %+v: the hash is not the expression's", e)
		}
		exprs = append(exprs, e.Expression)
		return nil
	})
	return exprs, st, err
}

func TestReadFeedSamples(t *testing.T) {
	tests := []struct {
		file     string
		format   phishing.FeedFormat
		detected phishing.FeedFormat // what FeedAuto recognises
		want     []string
		read     int
		skipped  int
		problems []string // all of them
	}{
		{file: "urlhaus.csv", format: phishing.FeedURLhaus, detected: phishing.FeedURLhaus, read: 10,
			want: []string{"198.51.100.23/i", "cdn.files-update.test/download/invoice_8841.zip", "203.0.113.77/bins/sora.arm7",
				"docs-share.example.net/d/1AbC_dEf-9/view?usp=sharing", "www.evil-loader.test/wp-content/uploads/x.php",
				"192.0.2.99/x86", "dl.payload-host.test/a%20b/run.ps1"},
			problems: []string{`line 14: "ftp://198.51.100.40/pub/payload.exe": only http and https links are analysed`,
				"line 16: 6 columns, want 9", "line 17: text after the quoted field 7"}},
		{file: "urlhaus_online.csv", format: phishing.FeedURLhaus, detected: phishing.FeedURLhaus, read: 3,
			want: []string{"198.51.100.23/i", "cdn.files-update.test/download/invoice_8841.zip",
				"docs-share.example.net/d/1AbC_dEf-9/view?usp=sharing"}},
		{file: "phishtank.json", format: phishing.FeedPhishTankJSON, detected: phishing.FeedPhishTankJSON, read: 8, skipped: 1,
			want: []string{"secure-login.paypa1-account.test/signin/?country.x=US&locale.x=en_US",
				"bank-verify.example.com/online/Login.aspx", "xn--shp-example-sfb.test/account/verify.php?id=77",
				"203.0.113.9/~user/office365/index.html"},
			problems: []string{"element 4: not an object with a url string", "element 6: not an object with a url string",
				`element 7: "javascript:alert(document.cookie)": only http and https links are analysed`}},
		{file: "phishtank.csv", format: phishing.FeedPhishTankCSV, detected: phishing.FeedPhishTankCSV, read: 6, skipped: 1,
			want: []string{"secure-login.paypa1-account.test/signin/?country.x=US&locale.x=en_US",
				"bank-verify.example.com/online/Login.aspx", `forms.example.org/view?a=1,b=2&c="x"`,
				"203.0.113.9/~user/office365/index.html"},
			problems: []string{"line 6: 5 columns, want 8"}},
		{file: "openphish.txt", format: phishing.FeedOpenPhish, detected: phishing.FeedPlain, read: 6,
			want: []string{"secure-login.paypa1-account.test/signin/?country.x=US&locale.x=en_US",
				"bank-verify.example.com/online/Login.aspx",
				// Safe Browsing decodes the whole URL, the query too.
				"accounts.webmail-example.test/owa/auth/logon.aspx?replaceCurrent=1&url=https://mail.example.com/owa/",
				"sub.pages-example.test/", "198.51.100.66/.well-known/pki-validation/login/", "evil.test/admin/index.php"}},
		{file: "plain.txt", format: phishing.FeedPlain, detected: phishing.FeedPlain, read: 8,
			want: []string{"evil.test/", "paypa1-account.test/", "cdn.example.net/phish/kit/login.html", "198.51.100.23/panel/",
				"www.mixed-case.example.org/Path/Page.HTML?Q=1"},
			problems: []string{`line 8: "github.io": github.io is a public suffix: listing it would list every site under it`,
				`line 9: more than one URL on the line (then "three.example.test")`, `line 10: "http://": no host`}},
	}
	for _, tt := range tests {
		data, err := os.ReadFile(filepath.Join("testdata", "feeds", tt.file))
		if err != nil {
			t.Fatal(err)
		}
		for _, format := range []phishing.FeedFormat{tt.format, phishing.FeedAuto} {
			t.Run(tt.file+" as "+string(format), func(t *testing.T) {
				got, st, err := readFeed(t, data, format, phishing.FeedLimits{})
				if err != nil {
					t.Fatal(err)
				}
				if want := map[bool]phishing.FeedFormat{true: tt.detected, false: tt.format}[format == phishing.FeedAuto]; st.Format != want {
					t.Errorf("Format = %s, want %s", st.Format, want)
				}
				if !slices.Equal(got, tt.want) {
					t.Errorf("expressions\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
				}
				var problems []string
				for _, p := range st.Problems {
					problems = append(problems, p.String())
				}
				if !slices.Equal(problems, tt.problems) {
					t.Errorf("problems\n%s\nwant\n%s", strings.Join(problems, "\n"), strings.Join(tt.problems, "\n"))
				}
				if st.Read != tt.read || st.Listed != len(tt.want) || st.Skipped != tt.skipped || st.Bad != len(tt.problems) {
					t.Errorf("stats %+v, want read %d listed %d skipped %d bad %d", st, tt.read, len(tt.want), tt.skipped, len(tt.problems))
				}
			})
		}
	}
}

func TestReadFeedDetects(t *testing.T) {
	for in, want := range map[string]phishing.FeedFormat{
		"  \n[]": phishing.FeedPhishTankJSON,
		"\xef\xbb\xbf[{\"url\":\"http://a.test/\"}]":    phishing.FeedPhishTankJSON,
		"phish_id,url,verified\n1,http://a.test/,yes\n": phishing.FeedPhishTankCSV,
		"# id,dateadded,url,url_status\n":               phishing.FeedURLhaus,
		"#### URLhaus ####\n# whatever\n":               phishing.FeedURLhaus,
		`"1","2026-01-01 00:00:00","http://a.test/x","online","","malware_download","","https://urlhaus.abuse.ch/url/1/","r"`: phishing.FeedURLhaus,
		"# my list\nevil.test\n":  phishing.FeedPlain,
		"http://a.test/,b\n":      phishing.FeedPlain,
		"":                        phishing.FeedPlain,
		"\"unterminated, quote\n": phishing.FeedPlain,
	} {
		_, st, _ := readFeed(t, []byte(in), phishing.FeedAuto, phishing.FeedLimits{})
		if st.Format != want {
			t.Errorf("%.40q recognised as %s, want %s", in, st.Format, want)
		}
	}
}

func TestReadFeedRefuses(t *testing.T) {
	csv, err := os.ReadFile(filepath.Join("testdata", "feeds", "phishtank.csv"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		in     string
		format phishing.FeedFormat
		limits phishing.FeedLimits
		listed int // before the error
		want   string
	}{
		{"json of a csv file", string(csv), phishing.FeedPhishTankJSON, phishing.FeedLimits{}, 0, "phishtank-json: byte"},
		{"json not an array", `{"url":"http://a.test/"}`, phishing.FeedPhishTankJSON, phishing.FeedLimits{}, 0, "not a JSON array"},
		{"json broken off", `[{"url":"http://a.test/"},{"url":"http://b.test/"},{"url":`, phishing.FeedPhishTankJSON,
			phishing.FeedLimits{}, 2, "element 3"},
		{"json syntax error", `[{"url":"http://a.test/"} {"url":"http://b.test/"}]`, phishing.FeedPhishTankJSON,
			phishing.FeedLimits{}, 1, "element 2"},
		{"json after the array", `[{"url":"http://a.test/"}] []`, phishing.FeedPhishTankJSON, phishing.FeedLimits{}, 1,
			"after the array"},
		{"csv without a header", "1,http://a.test/,x\n", phishing.FeedPhishTankCSV, phishing.FeedLimits{}, 0, "not the header"},
		{"csv empty", "\n\n", phishing.FeedPhishTankCSV, phishing.FeedLimits{}, 0, "no header line"},
		{"too large", "a.test\nb.test\nc.test\n", phishing.FeedPlain, phishing.FeedLimits{MaxBytes: 10}, 1, "larger than 10 bytes"},
		{"json too large", `[{"url":"http://a.test/"},{"url":"http://b.test/"}]`, phishing.FeedPhishTankJSON,
			phishing.FeedLimits{MaxBytes: 30}, 1, "larger than 30 bytes"},
		{"unknown format", "a.test\n", "hosts", phishing.FeedLimits{}, 0, `format "hosts" is not one of`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, st, err := readFeed(t, []byte(tt.in), tt.format, tt.limits)
			if !errors.Is(err, phishing.ErrFeed) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want ErrFeed saying %q", err, tt.want)
			}
			if len(got) != tt.listed || st.Listed != tt.listed {
				t.Errorf("listed %v (%d) before the error, want %d", got, st.Listed, tt.listed)
			}
		})
	}
}

func TestReadFeedLimits(t *testing.T) {
	long := "http://a.test/" + strings.Repeat("x", 100)
	in := "b.test\r\n" + long + "\n" + long + "\n# " + long + "\nc.test"
	got, st, err := readFeed(t, []byte(in), phishing.FeedPlain, phishing.FeedLimits{MaxLine: 64, MaxProblems: 1})
	if err != nil {
		t.Fatal(err)
	}
	// The comment is long too, but a comment all the same.
	if !slices.Equal(got, []string{"b.test/", "c.test/"}) || st.Read != 4 || st.Bad != 2 || len(st.Problems) != 1 ||
		st.Problems[0].String() != "line 2: longer than 64 bytes" {
		t.Errorf("got %v, %+v", got, st)
	}
	// A feed of exactly MaxBytes is whole.
	if got, _, err := readFeed(t, []byte("a.test\nb.test\n"), phishing.FeedPlain, phishing.FeedLimits{MaxBytes: 14}); err != nil || len(got) != 2 {
		t.Errorf("a feed of exactly MaxBytes: %v, %v", got, err)
	}
	// fn's error stops the reading and comes back as it is.
	stop := errors.New("stop")
	n := 0
	_, err = phishing.ReadFeed(strings.NewReader("a.test\nb.test\n"), phishing.FeedPlain, phishing.FeedLimits{}, func(phishing.FeedEntry) error {
		n++
		return stop
	})
	if err != stop || n != 1 {
		t.Errorf("fn's error: %v after %d entries", err, n)
	}
}

func TestFeedExpression(t *testing.T) {
	for raw, want := range map[string]string{
		"evil.test":                         "evil.test/",
		"EVIL.test.":                        "evil.test/",
		"https://evil.test":                 "evil.test/",
		"https://user@evil.test:444/a/../b": "evil.test/b",
		"sub.evil.co.uk":                    "sub.evil.co.uk/",
		"evil.co.uk":                        "evil.co.uk/",
		"http://github.io/phish.html":       "github.io/phish.html",
		"198.51.100.7":                      "198.51.100.7/",
		"https://shop.example@evil.test/":   "evil.test/",
	} {
		if got, err := phishing.FeedExpression(raw); err != nil || got != want {
			t.Errorf("FeedExpression(%q) = %q, %v; want %q", raw, got, err, want)
		}
	}
	for _, raw := range []string{"", "co.uk", "github.io", "https://github.io/", "mailto:a@evil.test", "ana@evil.test", "http://a b.test/"} {
		if got, err := phishing.FeedExpression(raw); !errors.Is(err, phishing.ErrNotURL) {
			t.Errorf("FeedExpression(%q) = %q, %v; want ErrNotURL", raw, got, err)
		}
	}
}

func FuzzReadFeed(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "feeds", "*"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no sample feeds: %v", err)
	}
	for i, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, uint8(i), uint16(0))
		f.Add(data, uint8(len(phishing.FeedFormats)-1), uint16(200))
	}
	f.Add([]byte(`[{"url":"http://a.test/","verified":false},{"url":5},[],null,{"url":"b.test"}]`), uint8(1), uint16(0))
	f.Add([]byte("\"a\"\"b\",\"c\n\"\",,\n"), uint8(0), uint16(30))
	f.Fuzz(func(t *testing.T, data []byte, format uint8, limit uint16) {
		ff := phishing.FeedFormats[int(format)%len(phishing.FeedFormats)]
		limits := phishing.FeedLimits{}
		if limit > 0 { // small limits reach the edges
			limits = phishing.FeedLimits{MaxLine: int(limit % 512), MaxBytes: int64(limit), MaxProblems: int(limit % 4)}
		}
		var entries []phishing.FeedEntry
		st, err := phishing.ReadFeed(bytes.NewReader(data), ff, limits, func(e phishing.FeedEntry) error {
			entries = append(entries, e)
			return nil
		})
		if err != nil && !errors.Is(err, phishing.ErrFeed) {
			t.Fatalf("ReadFeed(%s): %v does not wrap ErrFeed", ff, err)
		}
		if st.Read != st.Listed+st.Skipped+st.Bad || st.Listed != len(entries) || len(st.Problems) > st.Bad {
			t.Fatalf("ReadFeed(%s) stats %+v with %d entries", ff, st, len(entries))
		}
		if ff != phishing.FeedAuto && st.Format != ff {
			t.Fatalf("ReadFeed(%s) says it read %s", ff, st.Format)
		}
		for _, e := range entries {
			if e.Hash != phishing.HashExpression(e.Expression) || e.Line < 1 {
				t.Fatalf("entry %+v", e)
			}
			// An expression lists itself.
			if again, err := phishing.FeedExpression("http://" + e.Expression); err != nil || again != e.Expression {
				t.Fatalf("expression %q lists %q, %v", e.Expression, again, err)
			}
		}
	})
}
