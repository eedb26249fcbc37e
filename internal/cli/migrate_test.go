package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/shopguard/shopguard/internal/storage/postgres/pgtest"
)

func TestMigrate(t *testing.T) {
	runEnv := func(environ []string, args ...string) (int, string) {
		var out bytes.Buffer
		code := Run(Env{Args: args, Stdout: &out, Stderr: &out, Environ: environ, Context: context.Background()})
		return code, out.String()
	}
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		for range 2 {
			if code, out := runEnv(nil, "migrate", "--data", dir); code != 0 || !strings.Contains(out, "sqlite: schema up to date") {
				t.Fatalf("migrate = %d, %q", code, out)
			}
		}
	})
	t.Run("memory", func(t *testing.T) {
		if code, out := runEnv([]string{"SHOPGUARD_STORAGE_DRIVER=memory"}, "migrate"); code != 2 || !strings.Contains(out, "no schema") {
			t.Fatalf("migrate with memory storage = %d, %q; want a usage error", code, out)
		}
	})
	t.Run("postgres", func(t *testing.T) {
		env := []string{"SHOPGUARD_STORAGE_DRIVER=postgres", "SHOPGUARD_STORAGE_URL=" + pgtest.Schema(t)}
		code, out := runEnv(env, "migrate")
		if code != 0 || !strings.Contains(out, "postgres: schema version 0 -> ") {
			t.Fatalf("first migrate = %d, %q", code, out)
		}
		if code, out := runEnv(env, "migrate"); code != 0 || !strings.Contains(out, "up to date") {
			t.Fatalf("second migrate = %d, %q", code, out)
		}
	})
}
