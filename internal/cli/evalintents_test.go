package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEvalIntents(t *testing.T) {
	dir := t.TempDir()
	overlap := filepath.Join(dir, "overlap.tsv")
	if err := os.WriteFile(overlap, []byte("greeting\thi\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.tsv")
	if err := os.WriteFile(bad, []byte("nonsense\thi there\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"eval", "intents", "--test", "../assistant/testdata/intents_test.tsv"}, 0, "top-1 accuracy      0.9"},
		{[]string{"eval", "intents"}, 2, "--test FILE is required"},
		{[]string{"eval", "intents", "--test", overlap}, 1, "also a training utterance"},
		{[]string{"eval", "intents", "--test", bad}, 1, "unknown intent"},
		{[]string{"eval", "intents", "--test", filepath.Join(dir, "missing.tsv")}, 1, "no such file"},
	} {
		var stdout, stderr bytes.Buffer
		code := Run(Env{Args: c.args, Stdout: &stdout, Stderr: &stderr, Context: context.Background()})
		if code != c.code || !strings.Contains(stdout.String()+stderr.String(), c.want) {
			t.Errorf("%v: exit %d, want %d with %q\nstdout: %s\nstderr: %s", c.args, code, c.code, c.want, stdout.String(), stderr.String())
		}
	}
}
