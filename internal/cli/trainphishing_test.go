package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shopguard/shopguard/internal/app"
	"github.com/shopguard/shopguard/internal/ml/text"
	"github.com/shopguard/shopguard/internal/phishing"
)

// runShopguard runs the CLI with args and returns its exit code and output.
func runShopguard(args ...string) (int, string) {
	var out bytes.Buffer
	code := Run(Env{Args: args, Stdout: &out, Stderr: &out, Context: context.Background()})
	return code, out.String()
}

// TestTrainPhishingModels trains both phishing models into a data
// directory, where a running shopguard would load them.
func TestTrainPhishingModels(t *testing.T) {
	dir := t.TempDir()
	var csv strings.Builder
	csv.WriteString("url,status\n")
	for i := range 40 {
		if i%2 == 0 {
			fmt.Fprintf(&csv, "https://www.shop%d.example/products/%d,legitimate\n", i, i)
		} else {
			fmt.Fprintf(&csv, "http://secure-login-%d.verify-account.test/update/%x/index.php,phishing\n", i, i*7919)
		}
	}
	urls := filepath.Join(dir, "urls.csv")
	if err := os.WriteFile(urls, []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out := runShopguard("train", "urls", "--data", dir, "--input", urls)
	if code != 0 || !strings.Contains(out, "40 (20 phishing") {
		t.Fatalf("train urls: %d\n%s", code, out)
	}
	b, err := os.ReadFile(app.URLModelPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	if m, err := phishing.DecodeURLModel(b); err != nil || m.Info.Examples != 40 {
		t.Fatalf("saved URL model: %v", err)
	}

	var tsv strings.Builder
	for i := range 20 {
		fmt.Fprintf(&tsv, "spam\tWIN a free prize %d, claim now\nham\tsee you at lunch on day %d\n", i, i)
	}
	msgs := filepath.Join(dir, "messages.tsv")
	if err := os.WriteFile(msgs, []byte(tsv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out = runShopguard("train", "messages", "--data", dir, "--input", msgs)
	if code != 0 || !strings.Contains(out, "40 (20 spam or phishing)") {
		t.Fatalf("train messages: %d\n%s", code, out)
	}
	b, err = os.ReadFile(app.MessageModelPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	m, err := text.DecodeModel(b)
	if err != nil || m.Score("WIN a free prize, claim now") < 0.5 {
		t.Fatalf("saved message model: %v", err)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "urls", "--data", dir}, "--input FILE or --reports is required"},
		{[]string{"train", "messages", "--data", dir}, "--input FILE or --reports is required"},
		{[]string{"train", "messages", "--data", dir, "--reports"}, "both classes"},     // no reviewed reports yet
		{[]string{"train", "urls", "--data", dir, "--reports"}, "at least 10 phishing"}, // no reviewed reports yet
		{[]string{"train", "urls", "--data", dir, "--input", msgs}, "header"},
		{[]string{"train", "messages", "--data", dir, "--input", urls}, "line 1"},
	} {
		if code, out := runShopguard(tc.args...); code == 0 || !strings.Contains(out, tc.want) {
			t.Errorf("%v: exit %d, output %q; want a failure saying %q", tc.args, code, out, tc.want)
		}
	}
}
