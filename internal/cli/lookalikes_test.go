package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/shopguard/shopguard/internal/phishing"
)

// runLookalikes runs the lookalikes command with args and stdin.
func runLookalikes(t *testing.T, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	env := &Env{Stdout: &out, Stderr: &errOut}
	cmd := newLookalikes(env)
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err = cmd.Execute()
	return out.String(), errOut.String(), err
}

func lookalikesData(name string) string { return filepath.Join("testdata", "lookalikes", name) }

// TestLookalikesPermutations prints permutations as a table with counts.
func TestLookalikesPermutations(t *testing.T) {
	out, _, err := runLookalikes(t, "", "shopping-example.com", "--fuzzers", "omission, tld-swap,omission", "--tlds", lookalikesData("tlds.txt"))
	if err != nil {
		t.Fatal(err)
	}
	table, summary, ok := strings.Cut(out, "\nPer fuzzer (shopping-example.com):\n")
	if !ok {
		t.Fatalf("no summary in\n%s", out)
	}
	lines := strings.Split(table, "\n")
	if lines[0] != "shopping-example.com: 17 permutations" || strings.Join(strings.Fields(lines[2]), " ") != "FUZZER DOMAIN UNICODE" {
		t.Errorf("first lines %q", lines[:3])
	}
	var rows []string
	for _, l := range lines[3:] {
		if l != strings.TrimRight(l, " ") {
			t.Errorf("trailing space in %q", l)
		}
		if l != "" {
			rows = append(rows, strings.Join(strings.Fields(l), " "))
		}
	}
	for _, want := range []string{"omission hopping-example.com", "omission shopping-exampl.com", "omission shoping-example.com", "tld-swap shopping-example.shop", "tld-swap shopping-example.co.uk"} {
		if !slices.Contains(rows, want) {
			t.Errorf("no row %q in\n%s", want, out)
		}
	}
	if len(rows) != 17 {
		t.Errorf("%d rows", len(rows))
	}
	var counts []string
	for _, l := range strings.Split(strings.TrimSpace(summary), "\n") {
		counts = append(counts, strings.Join(strings.Fields(l), " "))
	}
	if want := []string{"omission 15", "tld-swap 2", "total 17"}; !slices.Equal(counts, want) {
		t.Errorf("summary %q, want %q", counts, want)
	}
	if strings.Contains(out, "homoglyph") {
		t.Errorf("a fuzzer not asked for:\n%s", out)
	}
}

// TestLookalikesJSON prints JSON whose counts add up, with Unicode forms,
// and warns of a cut list.
func TestLookalikesJSON(t *testing.T) {
	out, stderr, err := runLookalikes(t, "", "paypal.com", "bücher.de", "--json", "--dictionary", lookalikesData("words.txt"), "--max", "500")
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Lookalikes []struct {
			Domain       string                 `json:"domain"`
			Permutations []phishing.Permutation `json:"permutations"`
			Counts       map[string]int         `json:"counts"`
			Total        int                    `json:"total"`
			Truncated    string                 `json:"truncated"`
		} `json:"lookalikes"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Lookalikes) != 2 || got.Lookalikes[1].Domain != "bücher.de" {
		t.Fatalf("%+v", got)
	}
	for _, l := range got.Lookalikes {
		counts := map[string]int{}
		unicode := 0
		for _, p := range l.Permutations {
			counts[p.Fuzzer]++
			if p.Unicode != "" {
				unicode++
			}
		}
		if l.Total != 500 || len(l.Permutations) != 500 || !strings.Contains(l.Truncated, "truncated") || unicode == 0 || len(counts) != len(l.Counts) {
			t.Errorf("%s: total %d, %d permutations, %d Unicode, truncated %q, counts %v", l.Domain, l.Total, len(l.Permutations), unicode, l.Truncated, l.Counts)
		}
		for k, v := range counts {
			if l.Counts[k] != v {
				t.Errorf("%s: count of %s %d, listed %d", l.Domain, k, l.Counts[k], v)
			}
		}
		if l.Counts[phishing.FuzzerDictionary] != 8 {
			t.Errorf("%s: %d dictionary permutations from two words", l.Domain, l.Counts[phishing.FuzzerDictionary])
		}
	}
	if strings.Count(stderr, "truncated") != 2 {
		t.Errorf("stderr %q", stderr)
	}
}

// TestLookalikesScan scans a CT export, a feed and a zone file.
func TestLookalikesScan(t *testing.T) {
	files := []string{"--scan", lookalikesData("crtsh.json"), "--scan", lookalikesData("newly-registered.txt"), "--scan", lookalikesData("com.zone")}
	out, _, err := runLookalikes(t, "", append([]string{"shopping-example.com", "--json"}, files...)...)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Permutations int `json:"permutations"`
		Files        []struct {
			File, Format          string
			Records, Domains, Bad int
			BadSamples            []phishing.BadRecord `json:"bad_samples"`
		} `json:"files"`
		Scanned int `json:"scanned"`
		Matches []struct {
			Domain, Brand, Fuzzer, Source string
			Lookalike                     *phishing.Lookalike
			Why                           []string
		} `json:"matches"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	wantFiles := []struct {
		format                string
		records, domains, bad int
	}{{phishing.ObservedCT, 3, 4, 1}, {phishing.ObservedPlain, 5, 4, 0}, {phishing.ObservedZone, 7, 3, 1}}
	if len(rep.Files) != 3 || rep.Permutations < 1000 || rep.Scanned != 10 {
		t.Fatalf("%+v", rep)
	}
	for i, w := range wantFiles {
		f := rep.Files[i]
		if f.Format != w.format || f.Records != w.records || f.Domains != w.domains || f.Bad != w.bad || len(f.BadSamples) != w.bad {
			t.Errorf("file %d: %+v, want %+v", i, f, w)
		}
	}
	type match struct{ domain, fuzzer, kind, source string }
	var got []match
	for _, m := range rep.Matches {
		kind := ""
		if m.Lookalike != nil {
			kind = m.Lookalike.Kind
		}
		if m.Brand != "shopping-example.com" || len(m.Why) == 0 {
			t.Errorf("%+v", m)
		}
		got = append(got, match{m.Domain, m.Fuzzer, kind, filepath.Base(m.Source)})
	}
	want := []match{
		{"shopping-examp1e.com", phishing.FuzzerHomoglyph, phishing.KindHomoglyph, "crtsh.json"},
		{"www.shopping-examp1e.com", phishing.FuzzerHomoglyph, phishing.KindHomoglyph, "crtsh.json"},
		{"shopping-example.shop", phishing.FuzzerTLDSwap, phishing.KindTLDSwap, "crtsh.json"},
		{"shopping-example-login.com", phishing.FuzzerDictionary, phishing.KindAddedWord, "newly-registered.txt"},
		{"shopping-example.com.account-verify.net", "", phishing.KindSubdomain, "newly-registered.txt"},
		{"shoping-example.com", phishing.FuzzerOmission, phishing.KindOmission, "com.zone"},
		{"shopping-exampel.com", phishing.FuzzerTransposition, phishing.KindTransposition, "com.zone"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("matches\n%+v\nwant\n%+v", got, want)
	}

	// The same as text.
	text, _, err := runLookalikes(t, "", append([]string{"shopping-example.com"}, files...)...)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		"crtsh.json (ct): 3 records, 9 names, 4 distinct domains, 1 bad.\n    record 3: \"192.0.2.9\" is an IP address, not a domain\n",
		"com.zone (zone): 7 records, 3 names, 3 distinct domains, 1 bad.\n    record 7: no record type",
		"\n7 of 10 distinct domains imitate shopping-example.com:\n",
		"\nshoping-example.com imitates shopping-example.com [" + lookalikesData("com.zone") + "]\n    shoping-example.com is an omission permutation of shopping-example.com\n    it imitates shopping-example.com (omission): \"p\" left out\n",
	} {
		if !strings.Contains(text, w) {
			t.Errorf("no %q in\n%s", w, text)
		}
	}
}

// TestLookalikesScanStdin reads "-" from standard input, in the format
// given.
func TestLookalikesScanStdin(t *testing.T) {
	out, _, err := runLookalikes(t, "paypa1.com. 1 IN NS ns.example.\n", "paypal.com", "--scan", "-", "--format", "zone")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "- (zone): 1 records, 1 names, 1 distinct domains, 0 bad.") || !strings.Contains(out, "paypa1.com is a homoglyph permutation of paypal.com") {
		t.Errorf("%s", out)
	}
}

// TestLookalikesErrors: mistakes in the call are usage errors naming the
// problem; unreadable files are errors.
func TestLookalikesErrors(t *testing.T) {
	dir := t.TempDir()
	badTLDs := filepath.Join(dir, "tlds")
	if err := os.WriteFile(badTLDs, []byte("com\nnot a tld\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args  []string
		usage bool
		err   string
	}{
		{nil, true, "needs a DOMAIN"},
		{[]string{"paypal.com", "--fuzzers", "addition,typo"}, true, `unknown fuzzer "typo"`},
		{[]string{"paypal.com", "--format", "zone"}, true, "--format is the format of the --scan files"},
		{[]string{"paypal.com", "--scan", "x", "--format", "xml"}, true, `--format "xml"`},
		{[]string{"paypal.com", "--max", "-1"}, true, "--max -1"},
		{[]string{"localhost"}, true, "not a domain name"},
		{[]string{"localhost", "--scan", lookalikesData("crtsh.json")}, true, "not a domain name"},
		{[]string{"paypal.com", "--tlds", badTLDs}, false, "--tlds " + badTLDs + ": line 2"},
		{[]string{"paypal.com", "--dictionary", filepath.Join(dir, "missing")}, false, "--dictionary"},
		{[]string{"paypal.com", "--scan", filepath.Join(dir, "missing")}, false, "--scan " + filepath.Join(dir, "missing")},
	}
	for _, tt := range tests {
		_, _, err := runLookalikes(t, "", tt.args...)
		if err == nil || !strings.Contains(err.Error(), tt.err) || errors.As(err, new(usageError)) != tt.usage {
			t.Errorf("%q: %v (usage %v), want %q", tt.args, err, errors.As(err, new(usageError)), tt.err)
		}
	}
}
