package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/shopguard/shopguard/internal/botscore"
)

// runCommand runs one command as Run would run it from the command line:
// exit code 0, 1, or 2 for a usage error, with its output.
func runCommand(newCmd func(*Env) *cobra.Command, args ...string) (int, string) {
	var out bytes.Buffer
	env := Env{Args: args, Stdout: &out, Stderr: &out, Context: context.Background()}
	cmd := newCmd(&env)
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	err := cmd.ExecuteContext(env.Context)
	switch {
	case err == nil:
		return 0, out.String()
	case errors.As(err, new(usageError)):
		return 2, out.String() + err.Error()
	}
	return 1, out.String() + err.Error()
}

func TestTrainAndEvalTraffic(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "bot.gbdt")
	args := []string{"--out", model, "--sessions", "600", "--trees", "30", "--seed", "2"}
	code, out := runCommand(newTrainTraffic, args...)
	if code != 0 || !strings.Contains(out, "valid ROC AUC") || !strings.Contains(out, "600 sessions") {
		t.Fatalf("train traffic: %d\n%s", code, out)
	}
	first, err := os.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	m, err := botscore.LoadModel(first)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, m.Version()) {
		t.Errorf("train traffic does not name the version %s:\n%s", m.Version(), out)
	}
	if code, out = runCommand(newTrainTraffic, args...); code != 0 {
		t.Fatalf("train traffic again: %d\n%s", code, out)
	}
	if again, _ := os.ReadFile(model); !bytes.Equal(first, again) {
		t.Error("the same command made another model file")
	}

	export := filepath.Join(dir, "rows.csv")
	code, out = runCommand(newEvalTraffic, "--model", model, "--sessions", "600", "--seed", "2", "--export", export)
	if code != 0 {
		t.Fatalf("eval traffic: %d\n%s", code, out)
	}
	for _, want := range append([]string{m.Version(), "ROC AUC", "people's sessions flagged", "bots' sessions caught", "model@90", "rule@50"},
		append(botscore.PersonaNames(false), botscore.PersonaNames(true)...)...) {
		if !strings.Contains(out, want) {
			t.Errorf("eval traffic output lacks %q:\n%s", want, out)
		}
	}
	fh, err := os.Open(export)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	head, err := csv.NewReader(fh).Read()
	if err != nil || head[0] != "split" || head[len(head)-2] != "score_model" || head[len(head)-1] != "score_rule" {
		t.Errorf("export header %q (%v)", head, err)
	}

	// The built-in model, when none is named.
	code, out = runCommand(newEvalTraffic, "--sessions", "300")
	if code != 0 || !strings.Contains(out, botscore.DefaultModel().Version()) {
		t.Errorf("eval traffic with the built-in model: %d\n%s", code, out)
	}
}

func TestTrafficUsage(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.gbdt")
	if err := os.WriteFile(bad, []byte("not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		newCmd   func(*Env) *cobra.Command
		args     []string
		code     int
		wantText string
	}{
		{newTrainTraffic, nil, 2, "--out FILE is required"},
		{newTrainTraffic, []string{"--out", filepath.Join(dir, "m"), "--sessions", "5"}, 2, "--sessions 5 outside"},
		{newTrainTraffic, []string{"--out", filepath.Join(dir, "m"), "--trees", "0"}, 2, "--trees 0 outside"},
		{newTrainTraffic, []string{"--out", filepath.Join(dir, "m"), "--seed", "x"}, 2, "invalid argument"},
		{newEvalTraffic, []string{"--sessions", "2000000"}, 2, "--sessions 2000000 outside"},
		{newEvalTraffic, []string{"--model", bad, "--sessions", "100"}, 1, "unusable model"},
		{newEvalTraffic, []string{"--model", filepath.Join(dir, "missing")}, 1, "no such file"},
	} {
		code, out := runCommand(tc.newCmd, tc.args...)
		if code != tc.code || !strings.Contains(out, tc.wantText) {
			t.Errorf("%v: exit %d, want %d with %q:\n%s", tc.args, code, tc.code, tc.wantText, out)
		}
	}
}
