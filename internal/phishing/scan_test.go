package phishing

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestReadObserved reads the formats from testdata/scan, told and
// sniffed.
func TestReadObserved(t *testing.T) {
	tests := []struct {
		file, format, want  string // format given, format read
		domains             []string
		records, names, bad int
		reasons             []string // in the bad samples, in order
	}{
		{"observed.txt", ObservedAuto, ObservedPlain,
			[]string{"paypa1.com", "login.paypa1.com", "paypal-support.net", "paypal.com", "xn--80aa0cbo65f.com", "example.org"},
			11, 9, 3, []string{`"not" has no registered domain`, `"192.0.2.1" is an IP address`, `"com" has no registered domain`}},
		{"observed.zone", ObservedAuto, ObservedZone,
			[]string{"paypa1.com", "www.paypa1.com", "paypal-secure.com", "shoppingexample.com", "wild.com", "shopping-example.shop", "txt.shop", "relative.example"},
			19, 9, 2, []string{"no record type", "$INCLUDE is not followed"}},
		{"crtsh.json", ObservedAuto, ObservedCT,
			[]string{"paypa1.com", "www.paypa1.com", "xn--pypal-rqa.com", "paypal.com.secure-login.net", "paypal.com", "www.paypal.com", "shopping-example.shop", "example.org"},
			8, 15, 3, []string{`"192.0.2.7" is an IP address`, "entry 7: json: cannot unmarshal number", "entry 8 has no name_value nor common_name"}},
		{"crtsh.ndjson", ObservedCT, ObservedCT,
			[]string{"paypa1.com", "shoppingexample.com", "www.shoppingexample.com"},
			3, 6, 1, []string{`"bad_name@@": phishing: not a URL: no host`}},
		{"crtsh.csv", ObservedAuto, ObservedCT,
			[]string{"paypa1.com", "www.paypa1.com", "paypal-login.com", "shopping-example.com", "www.shopping-example.com"},
			4, 9, 1, []string{"2 fields: no name_value nor common_name"}},
		// Told the wrong format, the records are bad, not fatal.
		{"observed.zone", ObservedPlain, ObservedPlain, []string{"www.paypa1", "paypal-secure.com", "relative.example"}, 19, 19, 16, []string{`";": phishing: not a URL`}},
		{"observed.txt", ObservedZone, ObservedZone, nil, 11, 0, 10, []string{"no record type"}},
	}
	for _, tt := range tests {
		t.Run(tt.file+"/"+tt.format, func(t *testing.T) {
			fh, err := os.Open(filepath.Join("testdata", "scan", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			defer fh.Close()
			o, err := ReadObserved(fh, ReadOptions{Format: tt.format})
			if err != nil {
				t.Fatal(err)
			}
			if o.Format != tt.want || !slices.Equal(o.Domains, tt.domains) || o.Records != tt.records || o.Names != tt.names || o.Bad != tt.bad || o.Stopped != "" {
				t.Fatalf("got %s %q, %d records, %d names, %d bad %+v, stopped %q", o.Format, o.Domains, o.Records, o.Names, o.Bad, o.BadSamples, o.Stopped)
			}
			for i, r := range tt.reasons {
				if i >= len(o.BadSamples) || !strings.Contains(o.BadSamples[i].Reason, r) {
					t.Errorf("bad sample %d: %+v, want %q", i, o.BadSamples, r)
				}
			}
		})
	}
}

// TestReadObservedRecords checks the record numbers of bad records, the
// bounds, and the errors.
func TestReadObservedRecords(t *testing.T) {
	long := strings.Repeat("a", 5000) + ".com"
	tests := []struct {
		name, body string
		opts       ReadOptions
		domains    []string
		bad        []BadRecord
		stopped    string
		err        string
	}{
		{"long line", "a.com\n" + long + "\nb.com\r\nc.com", ReadOptions{}, []string{"a.com", "b.com", "c.com"}, []BadRecord{{2, "line longer than 4096 bytes"}}, "", ""},
		{"line bound", "a.com\nabcdefghijk.com\n", ReadOptions{MaxLineBytes: 10}, []string{"a.com"}, []BadRecord{{2, "line longer than 10 bytes"}}, "", ""},
		{"records bound", "a.com\nb.com\nc.com\n", ReadOptions{MaxRecords: 2}, []string{"a.com", "b.com"}, nil, "more than 2 records", ""},
		{"domains bound", "a.com\na.com\nb.com\nc.com\n", ReadOptions{MaxDomains: 2}, []string{"a.com", "b.com"}, nil, "more than 2 distinct domains", ""},
		{"not utf-8", "a.com\n\xff\xfe.com\n", ReadOptions{}, []string{"a.com"}, []BadRecord{{2, "not UTF-8"}}, "", ""},
		{"bom", "\ufeffa.com\n", ReadOptions{}, []string{"a.com"}, nil, "", ""},
		{"zone relative", "www IN A 192.0.2.1\n", ReadOptions{Format: ObservedZone}, nil, []BadRecord{{1, `owner: relative name "www" with no $ORIGIN`}}, "", ""},
		{"zone blank first", "  IN A 192.0.2.1\n", ReadOptions{Format: ObservedZone}, nil, []BadRecord{{1, "no owner and no previous one"}}, "", ""},
		{"zone parens", "$ORIGIN example.\na ( IN\n A 192.0.2.1 )\nb ) IN A 192.0.2.2\n", ReadOptions{Format: ObservedZone}, nil,
			[]BadRecord{{2, "no record type"}, {4, "unbalanced )"}}, "", ""},
		{"zone quote", "a.com. IN TXT \"open\n", ReadOptions{Format: ObservedZone}, nil, []BadRecord{{1, "unterminated quoted string"}}, "", ""},
		{"json broken", `[{"name_value":"a.com"},{"name_value":"b.com"`, ReadOptions{}, []string{"a.com"}, []BadRecord{{2, "broken JSON"}}, "broken JSON: unexpected EOF", ""},
		{"json not entries", `{"name_value":"a.com"} [1]`, ReadOptions{}, []string{"a.com"}, []BadRecord{{2, "cannot unmarshal array"}}, "", ""},
		{"json entry too long", `[{"name_value":"` + strings.Repeat("a.com ", maxRecordBytes/6+20000) + `"},{"name_value":"b.com"}]`, ReadOptions{Format: ObservedCT}, nil,
			[]BadRecord{{1, "longer than"}}, "broken JSON: an entry longer than", ""},
		{"csv no column", "id,name\n1,a.com\n", ReadOptions{Format: ObservedCT}, nil, nil, "", "no name_value or common_name column"},
		{"csv quote", "name_value\n\"a.com\nb.com\"\nc.com\n", ReadOptions{Format: ObservedCT}, []string{"a.com", "b.com", "c.com"}, nil, "", ""},
		{"unknown format", "a.com\n", ReadOptions{Format: "xml"}, nil, nil, "", `unknown format "xml"`},
		{"empty", "", ReadOptions{}, nil, nil, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := ReadObserved(strings.NewReader(tt.body), tt.opts)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("%v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(o.Domains, tt.domains) || !strings.HasPrefix(o.Stopped, tt.stopped) || len(o.BadSamples) != len(tt.bad) || o.Bad != len(tt.bad) {
				t.Fatalf("got %q, bad %+v, stopped %q", o.Domains, o.BadSamples, o.Stopped)
			}
			for i, b := range tt.bad {
				if o.BadSamples[i].Record != b.Record || !strings.Contains(o.BadSamples[i].Reason, b.Reason) {
					t.Errorf("bad %+v, want %+v", o.BadSamples[i], b)
				}
			}
		})
	}
}

// TestScanner scans the observed domains of testdata/scan against two
// protected domains.
func TestScanner(t *testing.T) {
	s, err := NewLookalikeScanner([]string{"paypal.com", "https://shopping-example.com/"}, PermuteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Permutations() < 10000 || len(s.Truncated()) != 0 {
		t.Fatalf("%d permutations, truncated %v", s.Permutations(), s.Truncated())
	}
	tests := []struct {
		domain, brand, fuzzer, permutation, kind string // fuzzer, kind "" for none
		why                                      string // in Why
	}{
		{"paypa1.com", "paypal.com", FuzzerHomoglyph, "paypa1.com", KindHomoglyph, "paypa1.com is a homoglyph permutation of paypal.com"},
		{"https://login.paypa1.com/x", "paypal.com", FuzzerHomoglyph, "paypa1.com", KindHomoglyph, "its registered domain paypa1.com is a homoglyph permutation of paypal.com"},
		// Unicode's confusables do not fold diacritics: FindLookalike calls it a replacement.
		{"xn--pypal-rqa.com", "paypal.com", FuzzerHomoglyph, "xn--pypal-rqa.com", KindReplacement, "pàypal.com (xn--pypal-rqa.com) is a homoglyph permutation"},
		{"xn--80aa0cbo65f.com", "paypal.com", FuzzerCyrillic, "xn--80aa0cbo65f.com", KindHomoglyph, "it imitates paypal.com (homoglyph): Cyrillic р (U+0440) for letter p"},
		{"paypal.com.secure-login.net", "paypal.com", "", "", KindSubdomain, `paypal.com is only the subdomain "paypal.com" of secure-login.net`},
		{"paypal-support.net", "paypal.com", "", "", KindAddedWord, `the brand with "support" added`},
		{"paypal-login.com", "paypal.com", FuzzerDictionary, "paypal-login.com", KindAddedWord, "a dictionary permutation"},
		{"shopping-example.shop", "shopping-example.com", FuzzerTLDSwap, "shopping-example.shop", KindTLDSwap, "under .shop instead of .com"},
		{"shoppingexample.com", "shopping-example.com", FuzzerOmission, "shoppingexample.com", KindHyphenation, "an omission permutation"},
		{"pay.pal.com", "paypal.com", FuzzerSubdomain, "pay.pal.com", "", "pay.pal.com is a subdomain permutation of paypal.com"},
		{"paypal.com", "", "", "", "", ""},
		{"www.paypal.com", "", "", "", "", ""},
		{"secure.shopping-example.com", "", "", "", "", ""},
		{"example.org", "", "", "", "", ""},
		{"192.0.2.1", "", "", "", "", ""},
		{"not a domain", "", "", "", "", ""},
	}
	var domains []string
	var want []string
	for _, tt := range tests {
		domains = append(domains, tt.domain)
		m, ok := s.Check(tt.domain)
		if ok != (tt.brand != "") {
			t.Errorf("%s: %+v, %v", tt.domain, m, ok)
			continue
		}
		if !ok {
			continue
		}
		want = append(want, m.Domain)
		kind := ""
		if m.Lookalike != nil {
			kind = m.Lookalike.Kind
		}
		if m.Brand != tt.brand || m.Fuzzer != tt.fuzzer || m.Permutation != tt.permutation || kind != tt.kind || !strings.Contains(strings.Join(m.Why, "; "), tt.why) {
			t.Errorf("%s: %+v (lookalike %+v)", tt.domain, m, m.Lookalike)
		}
	}
	var got []string
	for _, m := range s.Scan(domains) {
		got = append(got, m.Domain)
	}
	if !slices.Equal(got, want) {
		t.Errorf("Scan: %q, want %q", got, want)
	}
	// Scanning a file end to end.
	fh, err := os.Open(filepath.Join("testdata", "scan", "crtsh.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	o, err := ReadObserved(fh, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got = nil
	for _, m := range s.Scan(o.Domains) {
		got = append(got, m.Domain)
	}
	if w := []string{"paypa1.com", "www.paypa1.com", "xn--pypal-rqa.com", "paypal.com.secure-login.net", "shopping-example.shop"}; !slices.Equal(got, w) {
		t.Errorf("crtsh.json: %q, want %q", got, w)
	}
}

// TestNewScannerErrors: bad protected domains and options are errors; a
// truncated protected domain is scanned with what was made.
func TestNewScannerErrors(t *testing.T) {
	for _, tt := range []struct {
		protected []string
		opts      PermuteOptions
		err       string
	}{
		{nil, PermuteOptions{}, "no protected domain"},
		{[]string{"paypal.com", "localhost"}, PermuteOptions{}, `"localhost" is not a domain name`},
		{[]string{"paypal.com"}, PermuteOptions{Fuzzers: []string{"x"}}, `unknown fuzzer "x"`},
	} {
		if _, err := NewLookalikeScanner(tt.protected, tt.opts); err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%v: %v, want %q", tt.protected, err, tt.err)
		}
	}
	s, err := NewLookalikeScanner([]string{"paypal.com"}, PermuteOptions{Max: 50})
	if err != nil || s.Permutations() != 50 || !slices.Equal(s.Truncated(), []string{"paypal.com"}) {
		t.Fatalf("%v, %d permutations, truncated %v", err, s.Permutations(), s.Truncated())
	}
}

// FuzzReadObserved: any input in any format is read or refused, never a
// crash, and what is read holds together.
func FuzzReadObserved(f *testing.F) {
	for _, name := range []string{"observed.txt", "observed.zone", "crtsh.json", "crtsh.ndjson", "crtsh.csv"} {
		b, err := os.ReadFile(filepath.Join("testdata", "scan", name))
		if err != nil {
			f.Fatal(err)
		}
		for i := range ObservedFormats {
			f.Add(b, uint8(i))
		}
	}
	f.Add([]byte("$ORIGIN .\n@ IN A 1.2.3.4\n( ( ) ) )\n\"\\"), uint8(2))
	f.Add([]byte("[{\"name_value\":\"*.*.a.com\\n\\u00e9.com\"}]"), uint8(3))
	f.Add([]byte("name_value,common_name\n\"a.com,b.com\",\"\n"), uint8(3))
	f.Fuzz(func(t *testing.T, b []byte, format uint8) {
		opts := ReadOptions{Format: ObservedFormats[int(format)%len(ObservedFormats)], MaxLineBytes: 200, MaxRecords: 500, MaxDomains: 100}
		o, err := ReadObserved(bytes.NewReader(b), opts)
		if err != nil {
			if len(o.Domains) != 0 {
				t.Fatal("domains with an error")
			}
			return
		}
		if o.Format == ObservedAuto || o.Records > opts.MaxRecords || len(o.Domains) > opts.MaxDomains || len(o.BadSamples) > maxBadSamples || o.Bad < len(o.BadSamples) {
			t.Fatalf("%s: %d records, %d domains, %d bad, %d samples", o.Format, o.Records, len(o.Domains), o.Bad, len(o.BadSamples))
		}
		seen := map[string]bool{}
		for _, d := range o.Domains {
			if d == "" || seen[d] || strings.ContainsAny(d, " \t\n*") {
				t.Fatalf("domain %q", d)
			}
			seen[d] = true
		}
	})
}
