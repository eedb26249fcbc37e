package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Review templates of the fixture corpora: %d numbers the review.
var (
	deceptiveTmpl = "My husband and I stayed here for our anniversary and it was amazing, luxurious and perfect %d"
	truthfulTmpl  = "Room 1204 faced the el tracks; the bathroom was small but the location near Michigan Ave worked %d"
	spamTmpl      = "WINNER!! You have won a £%d prize. Call 09061701461 now to claim, T&C apply"
)

// writeCorpus makes a small corpus in the layout of Ott et al.'s: per
// polarity, deceptive and truthful directories of fold1..fold5.
func writeCorpus(t *testing.T, dir string, perFold int) {
	t.Helper()
	writeCorpusTexts(t, dir, perFold, deceptiveTmpl, truthfulTmpl)
}

// writeCorpusTexts is writeCorpus with the deceptive and the truthful
// reviews' templates.
func writeCorpusTexts(t *testing.T, dir string, perFold int, deceptive, truthful string) {
	t.Helper()
	texts := map[string]string{"deceptive_from_MTurk": deceptive, "truthful_from_TripAdvisor": truthful}
	for _, pol := range []string{"positive_polarity", "negative_polarity"} {
		for class, tmpl := range texts {
			for f := 1; f <= 5; f++ {
				d := filepath.Join(dir, pol, class, fmt.Sprintf("fold%d", f))
				if err := os.MkdirAll(d, 0o755); err != nil {
					t.Fatal(err)
				}
				for i := range perFold {
					if err := os.WriteFile(filepath.Join(d, fmt.Sprintf("r%d.txt", i)), []byte(fmt.Sprintf(tmpl, i)+"\n"), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	}
}

// writeSMS writes an SMS collection of ham and spam lines, then extra.
func writeSMS(t *testing.T, path string, ham, spam int, extra string) {
	t.Helper()
	var b strings.Builder
	for i := range max(ham, spam) {
		if i < ham {
			fmt.Fprintf(&b, "ham\tOk see you at %d, mum says bring the umbrella\n", i)
		}
		if i < spam {
			fmt.Fprintf(&b, "spam\t"+spamTmpl+"\n", 100*i)
		}
	}
	b.WriteString(extra)
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestEvalContent(t *testing.T) {
	dir := t.TempDir()
	writeCorpus(t, dir, 4)
	rs, err := loadReviews(filepath.Join(dir, "positive_polarity"))
	if err != nil || len(rs) != 40 || countTrue(reviewLabels(rs)) != 20 {
		t.Fatalf("loadReviews: %d reviews, %v", len(rs), err)
	}
	for _, r := range rs {
		if r.fold < 0 || r.fold > 4 || strings.HasSuffix(r.text, "\n") {
			t.Fatalf("review %+v", r)
		}
	}
	svg := filepath.Join(dir, "pr.svg")
	code, out := runShopguard("eval", "content", "--data", dir, "--pr-svg", svg, "--nested")
	if code != 0 || !strings.Contains(out, "pooled     100.00%") || !strings.Contains(out, "positive -> negative") ||
		!strings.Contains(out, "nested     100.00%") || strings.Count(out, "  fold 5: 100.00 % with ") != 2 ||
		strings.Count(out, "Each view alone, pooled:\nwords ") != 2 || strings.Count(out, "Target on the nested estimate: met.") != 2 {
		t.Fatalf("eval content: %d\n%s", code, out)
	}
	if _, err := os.Stat(svg); err != nil {
		t.Fatal(err)
	}
	// --task fake_review is the default.
	if code, out2 := runShopguard("eval", "content", "--task", "fake_review", "--data", dir); code != 0 || !strings.HasPrefix(out2, out[:strings.Index(out, "Nested")]) {
		t.Errorf("--task fake_review: %d\n%s", code, out2)
	}
}

// TestEvalContentLayout: corpora not in the op_spam layout are refused
// with the path and what is wrong.
func TestEvalContentLayout(t *testing.T) {
	tests := []struct {
		name  string
		spoil func(dir string) error
		want  string
	}{
		{"no polarity directories", func(dir string) error { return os.RemoveAll(filepath.Join(dir, "positive_polarity")) },
			"want the op_spam_v1.4 layout (positive_polarity and negative_polarity directories)"},
		{"fold missing", func(dir string) error {
			return os.RemoveAll(filepath.Join(dir, "negative_polarity", "deceptive_from_MTurk", "fold3"))
		}, "want fold1..fold5 in %s/negative_polarity/deceptive_from_MTurk: open"},
		{"fold of one class", func(dir string) error {
			d := filepath.Join(dir, "positive_polarity", "truthful_from_TripAdvisor", "fold2")
			if err := os.RemoveAll(d); err != nil {
				return err
			}
			return os.Mkdir(d, 0o755)
		}, "fold2 holds 3 deceptive and 0 truthful reviews; every fold needs both"},
		{"one class", func(dir string) error {
			return os.RemoveAll(filepath.Join(dir, "positive_polarity", "truthful_from_TripAdvisor"))
		}, "want deceptive_* and truthful_* directories with fold1..fold5, found 15 reviews, 15 deceptive"},
		{"not UTF-8", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "negative_polarity", "truthful_from_TripAdvisor", "fold2", "bad.txt"), []byte("\xff\xfe"), 0o644)
		}, filepath.Join("fold2", "bad.txt") + ": not UTF-8 text"},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		writeCorpus(t, dir, 3)
		if err := tt.spoil(dir); err != nil {
			t.Fatal(err)
		}
		code, out := runShopguard("eval", "content", "--data", dir)
		want := tt.want
		if strings.Contains(want, "%s") {
			want = fmt.Sprintf(want, dir)
		}
		if code != 1 || !strings.Contains(out, "--data "+dir) || !strings.Contains(out, want) {
			t.Errorf("%s: exit %d, %s", tt.name, code, out)
		}
	}
}

// TestEvalContentSpam runs the spam task on a small collection, with the
// cross-domain check on reviews of which some read like spam.
func TestEvalContentSpam(t *testing.T) {
	dir := t.TempDir()
	sms := filepath.Join(dir, "sms.tsv")
	writeSMS(t, sms, 40, 20, "")
	reviews := filepath.Join(dir, "reviews")
	writeCorpusTexts(t, reviews, 2, spamTmpl, truthfulTmpl) // every deceptive review reads like spam
	svg := filepath.Join(dir, "pr.svg")
	code, out := runShopguard("eval", "content", "--task", "spam", "--data", sms, "--nested", "--cross-data", reviews, "--pr-svg", svg)
	for _, want := range []string{
		"SMS Spam Collection: 60 messages, 20 spam. Model: characters 2-5 and words 1-2 hashed into 2^20",
		"Stratified 5-fold cross-validation (seed 1)",
		"\npooled     100.00%",
		"first 30 % trains: 18 messages; 42 test",
		"\n30/70      100.00%",
		"chooses among 12 settings",
		"\nnested     100.00%",
		"published, 30/70 (about)         97.6%     0.89",
		"shopguard, 5-fold nested       100.00%   1.0000",
		"positive deceptive         10       10  100.00%",
		"positive truthful          10        0    0.00%",
		"negative deceptive         10       10  100.00%",
		"\nall                        40       20   50.00%",
		"False positive rate on hotel reviews: 50.00 % (20 of 40 flagged as spam)",
	} {
		if !strings.Contains(out, want) {
			t.Fatalf("exit %d: no %q in\n%s", code, want, out)
		}
	}
	if code != 0 || strings.Count(out, "  fold ") != 5 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if _, err := os.Stat(svg); err != nil {
		t.Fatal(err)
	}
	// Without --cross-data or --nested, neither is printed.
	if code, out := runShopguard("eval", "content", "--task", "spam", "--data", sms); code != 0 || strings.Contains(out, "Cross-domain") || strings.Contains(out, "nested") {
		t.Errorf("plain spam task: exit %d\n%s", code, out)
	}
}

// TestEvalContentSpamData: a collection with a bad line is refused with
// the file and the line number; so is a bad --cross-data corpus.
func TestEvalContentSpamData(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, extra, want string
	}{
		{"no tab", "ham see you later\n", ": line 61: want ham, spam or phishing, a tab and the text"},
		{"unknown label", "junk\tbuy now\n", ": line 61: want ham, spam or phishing"},
		{"empty line", "\n", ": line 61: want"},
	}
	for _, tt := range tests {
		p := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_"))
		writeSMS(t, p, 40, 20, tt.extra)
		code, out := runShopguard("eval", "content", "--task", "spam", "--data", p)
		if code != 1 || !strings.Contains(out, "--data "+p+tt.want) {
			t.Errorf("%s: exit %d, %s", tt.name, code, out)
		}
	}
	good := filepath.Join(dir, "good.tsv")
	writeSMS(t, good, 40, 20, "")
	code, out := runShopguard("eval", "content", "--task", "spam", "--data", good, "--cross-data", t.TempDir())
	if code != 1 || !regexp.MustCompile(`--cross-data \S+: want the op_spam_v1.4 layout`).MatchString(out) {
		t.Errorf("bad --cross-data: exit %d, %s", code, out)
	}
}

// TestEvalContentUsage: wrong flags are usage errors (exit 2) that say
// what to give.
func TestEvalContentUsage(t *testing.T) {
	dir := t.TempDir()
	sms := filepath.Join(dir, "sms.tsv")
	writeSMS(t, sms, 10, 5, "")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown task", []string{"--task", "phishing", "--data", dir}, `--task "phishing": use fake_review or spam`},
		{"task with a hyphen", []string{"--task", "fake-review", "--data", dir}, `--task "fake-review"`},
		{"no data", nil, "--data DIR is required"},
		{"no data for spam", []string{"--task", "spam"}, "--data FILE is required: the SMS Spam Collection"},
		{"spam from a directory", []string{"--task", "spam", "--data", dir}, "is a directory: --task spam reads the SMS Spam Collection file"},
		{"reviews from a file", []string{"--data", sms}, "is a file: --task fake_review reads the deceptive opinion spam directory"},
		{"cross-data for reviews", []string{"--data", dir, "--cross-data", dir}, "--cross-data is for --task spam"},
		{"unknown flag", []string{"--data", dir, "--polarity", "positive"}, "unknown flag: --polarity"},
	}
	for _, tt := range tests {
		code, out := runShopguard(append([]string{"eval", "content"}, tt.args...)...)
		if code != 2 || !strings.Contains(out, tt.want) {
			t.Errorf("%s: exit %d, %s", tt.name, code, out)
		}
	}
	if code, out := runShopguard("eval", "content", "--task", "spam", "--data", filepath.Join(dir, "missing")); code != 1 || !strings.Contains(out, "no such file") {
		t.Errorf("missing file: exit %d, %s", code, out)
	}
}

func reviewLabels(rs []review) []bool {
	out := make([]bool, len(rs))
	for i, r := range rs {
		out[i] = r.deceptive
	}
	return out
}
