package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeCorpus makes a small corpus in the layout of Ott et al.'s: per
// polarity, deceptive and truthful directories of fold1..fold5.
func writeCorpus(t *testing.T, dir string, perFold int) {
	t.Helper()
	texts := map[string]string{
		"deceptive_from_MTurk":      "My husband and I stayed here for our anniversary and it was amazing, luxurious and perfect %d",
		"truthful_from_TripAdvisor": "Room 1204 faced the el tracks; the bathroom was small but the location near Michigan Ave worked %d",
	}
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
		!strings.Contains(out, "nested     100.00%") || strings.Count(out, "  fold 5: 100.00 % with ") != 2 {
		t.Fatalf("eval content: %d\n%s", code, out)
	}
	if _, err := os.Stat(svg); err != nil {
		t.Fatal(err)
	}

	// Bad corpora are refused with the reason.
	if err := os.WriteFile(filepath.Join(dir, "negative_polarity", "truthful_from_TripAdvisor", "fold2", "bad.txt"), []byte("\xff\xfe"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out := runShopguard("eval", "content", "--data", dir); code == 0 || !strings.Contains(out, "not UTF-8") {
		t.Errorf("invalid UTF-8: exit %d, %s", code, out)
	}
	if code, out := runShopguard("eval", "content", "--data", t.TempDir()); code == 0 || !strings.Contains(out, "positive_polarity") {
		t.Errorf("empty directory: exit %d, %s", code, out)
	}
	if code, out := runShopguard("eval", "content"); code == 0 || !strings.Contains(out, "--data DIR is required") {
		t.Errorf("no --data: exit %d, %s", code, out)
	}
}

func reviewLabels(rs []review) []bool {
	out := make([]bool, len(rs))
	for i, r := range rs {
		out[i] = r.deceptive
	}
	return out
}
