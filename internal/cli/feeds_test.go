package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// feedSample is a sample feed of the phishing package.
func feedSample(name string) string {
	return filepath.Join("..", "phishing", "testdata", "feeds", name)
}

// runFeeds runs "shopguard --data dir feeds args..." and returns its
// standard output and error.
func runFeeds(t *testing.T, dir, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	env := &Env{Stdout: &out, Stderr: &errOut, Context: context.Background()}
	g := &globals{}
	root := &cobra.Command{Use: "shopguard", SilenceUsage: true, SilenceErrors: true}
	root.PersistentFlags().StringVar(&g.data, "data", "", "data directory")
	root.AddCommand(newFeeds(env, g))
	root.SetArgs(append([]string{"--data", dir, "feeds"}, args...))
	root.SetIn(strings.NewReader(stdin))
	root.SetOut(&out)
	root.SetErr(&errOut)
	err := root.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

func mustRunFeeds(t *testing.T, dir, stdin string, args ...string) (string, string) {
	t.Helper()
	out, errOut, err := runFeeds(t, dir, stdin, args...)
	if err != nil {
		t.Fatalf("feeds %s: %v\n%s", strings.Join(args, " "), err, errOut)
	}
	return out, errOut
}

func TestFeeds(t *testing.T) {
	dir := t.TempDir()
	steps := []struct {
		args   []string
		stdin  string
		out    []string // lines of standard output, in order
		errOut []string // substrings of standard error
	}{
		{args: []string{"list"}, errOut: []string{"no URL lists"}},
		{args: []string{"import", "--source", "urlhaus", feedSample("urlhaus.csv")},
			out: []string{"urlhaus (block, every tenant): 10 read, 7 distinct, 7 added, 0 already present, 3 bad"},
			errOut: []string{"urlhaus.csv: urlhaus, 10 read, 7 listed, 0 unverified skipped, 3 bad",
				`  line 14: "ftp://198.51.100.40/pub/payload.exe": only http and https links are analysed`}},
		{args: []string{"import", "--source", "urlhaus", "--format", "urlhaus", feedSample("urlhaus.csv")},
			out: []string{"urlhaus (block, every tenant): 10 read, 7 distinct, 0 added, 7 already present, 3 bad"}},
		// Two files, one from standard input; what both list counts once.
		{args: []string{"import", "--source", "lists.local", "--format", "plain", feedSample("openphish.txt"), "-"},
			stdin: "evil.test\nhttps://bank-verify.example.com/online/Login.aspx\n",
			out:   []string{"lists.local (block, every tenant): 8 read, 7 distinct, 7 added, 0 already present, 0 bad"}},
		{args: []string{"import", "--source", "phishtank", "--tenant", "t2", feedSample("phishtank.json")},
			out:    []string{"phishtank (block, tenant t2): 8 read, 4 distinct, 4 added, 0 already present, 3 bad"},
			errOut: []string{"phishtank-json, 8 read, 4 listed, 1 unverified skipped, 3 bad", "  element 4: not an object with a url string"}},
		{args: []string{"import", "--source", "operator", "--tenant", "t1", "--allow", "-"}, stdin: "evil.test # ours, in fact\n",
			out: []string{"operator (allow, tenant t1): 1 read, 1 distinct, 1 added, 0 already present, 0 bad"}},
		{args: []string{"list"}, out: []string{
			"TENANT  SOURCE       EFFECT  ENTRIES",
			"*       lists.local  block   7",
			"*       urlhaus      block   7",
			"t1      operator     allow   1",
			"t2      phishtank    block   4",
		}},
		{args: []string{"check", "--tenant", "t2", "http://www.evil.test/a/b", "https://cdn.files-update.test/download/invoice_8841.zip?x=1",
			"http://203.0.113.9/~user/office365/index.html", "https://shop.example/", "ftp://x.test/"}, out: []string{
			"http://www.evil.test/a/b: blocked by lists.local (every tenant) at evil.test/",
			"https://cdn.files-update.test/download/invoice_8841.zip?x=1: blocked by urlhaus (every tenant) at cdn.files-update.test/download/invoice_8841.zip",
			"http://203.0.113.9/~user/office365/index.html: blocked by phishtank (tenant t2) at 203.0.113.9/~user/office365/index.html",
			"https://shop.example/: not listed",
			"ftp://x.test/: phishing: not a URL: only http and https links are analysed",
		}},
		{args: []string{"check", "--tenant", "t1", "http://www.evil.test/a/b", "http://203.0.113.9/~user/office365/index.html"}, out: []string{
			"http://www.evil.test/a/b: allowed by operator (tenant t1) at evil.test/",
			"http://203.0.113.9/~user/office365/index.html: not listed",
		}},
		// The online export lists 3 of the 7: --replace removes the others.
		{args: []string{"import", "--source", "urlhaus", "--replace", feedSample("urlhaus_online.csv")},
			out: []string{"urlhaus (block, every tenant): 3 read, 3 distinct, 0 added, 3 already present, 0 bad, 4 removed"}},
		{args: []string{"check", "http://203.0.113.77/bins/sora.arm7", "http://198.51.100.23:47211/i"}, out: []string{
			"http://203.0.113.77/bins/sora.arm7: not listed",
			"http://198.51.100.23:47211/i: blocked by urlhaus (every tenant) at 198.51.100.23/i",
		}},
		{args: []string{"remove", "--source", "lists.local"}, out: []string{"lists.local (every tenant): 7 removed"}},
		{args: []string{"remove", "--source", "phishtank"}, out: []string{"phishtank (every tenant): 0 removed"}},
		{args: []string{"remove", "--source", "phishtank", "--tenant", "t2"}, out: []string{"phishtank (tenant t2): 4 removed"}},
		{args: []string{"list"}, out: []string{
			"TENANT  SOURCE    EFFECT  ENTRIES",
			"*       urlhaus   block   3",
			"t1      operator  allow   1",
		}},
	}
	for _, s := range steps {
		out, errOut := mustRunFeeds(t, dir, s.stdin, s.args...)
		if got := strings.Split(strings.TrimRight(out, "\n"), "\n"); (len(s.out) > 0 || out != "") && strings.Join(got, "\n") != strings.Join(s.out, "\n") {
			t.Errorf("feeds %s printed\n%s\nwant\n%s", strings.Join(s.args, " "), out, strings.Join(s.out, "\n"))
		}
		for _, want := range s.errOut {
			if !strings.Contains(errOut, want) {
				t.Errorf("feeds %s: standard error lacks %q:\n%s", strings.Join(s.args, " "), want, errOut)
			}
		}
	}
}

func TestFeedsRefuses(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`[{"url":"http://a.test/"},`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args  []string
		usage bool
		want  string
	}{
		{[]string{"import", "--source", "x", "--allow", bad}, true, "--allow needs --tenant"},
		{[]string{"import", "--source", "X Feed", bad}, true, "--source"},
		{[]string{"import", "--source", "x", "--tenant", "T 1", bad}, true, "--tenant"},
		{[]string{"import", "--source", "x", "--format", "csv", bad}, true, `format "csv" is not one of`},
		{[]string{"import", "--source", "x"}, false, "requires at least 1 arg"},
		{[]string{"import", bad}, false, `"source" not set`},
		{[]string{"import", "--source", "x", filepath.Join(dir, "missing.txt")}, false, "no such file"},
		{[]string{"import", "--source", "x", bad}, false, "unreadable feed"},
		{[]string{"remove"}, false, `"source" not set`},
		{[]string{"check", "--tenant", "T 1", "http://a.test/"}, true, "--tenant"},
	}
	for _, tt := range tests {
		_, _, err := runFeeds(t, dir, "", tt.args...)
		if err == nil || !strings.Contains(err.Error(), tt.want) || errors.As(err, new(usageError)) != tt.usage {
			t.Errorf("feeds %s: %v; want an error saying %q (usage error: %v)", strings.Join(tt.args, " "), err, tt.want, tt.usage)
		}
	}
	// Nothing was written by the refused imports.
	out, errOut := mustRunFeeds(t, dir, "", "list")
	if out != "" || !strings.Contains(errOut, "no URL lists") {
		t.Errorf("after refused imports: %q, %q", out, errOut)
	}
}
