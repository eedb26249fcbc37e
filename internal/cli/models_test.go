package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/shopguard/shopguard/internal/storage/postgres/pgtest"
)

// TestModelsInPostgres: with storage.driver postgres the models commands
// work on the models in the database (no data directory is involved).
func TestModelsInPostgres(t *testing.T) {
	env := []string{"SHOPGUARD_STORAGE_DRIVER=postgres", "SHOPGUARD_STORAGE_URL=" + pgtest.Schema(t)}
	run := func(args ...string) (int, string) {
		var out bytes.Buffer
		code := Run(Env{Args: args, Stdout: &out, Stderr: &out, Environ: env, Context: context.Background()})
		return code, out.String()
	}
	if code, out := run("migrate"); code != 0 {
		t.Fatalf("migrate = %d, %q", code, out)
	}
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"models", "list", "--tenant", "shop"}, 0, ""},
		{[]string{"models", "promote", "--tenant", "shop", "transaction-nope"}, 1, "transaction-nope"},
		{[]string{"models", "challenge", "--tenant", "shop", "transaction-nope"}, 1, "transaction-nope"},
		{[]string{"models", "challenge", "--tenant", "shop", "--stop"}, 0, "challenger stopped"},
		{[]string{"models", "compare", "--tenant", "shop"}, 1, "no challenger"},
	}
	for _, tc := range tests {
		code, out := run(tc.args...)
		if code != tc.code || !strings.Contains(out, tc.want) {
			t.Errorf("%v = %d, %q; want %d with %q", tc.args, code, out, tc.code, tc.want)
		}
	}
}
