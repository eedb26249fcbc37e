// Package pgtest gives tests a PostgreSQL schema of their own in the
// database SHOPGUARD_TEST_POSTGRES_URL names, or skips them.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

// URL returns the database the tests may use, or skips the test.
func URL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("SHOPGUARD_TEST_POSTGRES_URL")
	if u == "" {
		t.Skip("PostgreSQL tests skipped: set SHOPGUARD_TEST_POSTGRES_URL=postgres://user@127.0.0.1:5432/db " +
			"(a database the tests may create schemas in) to run them; .ci/run sets it")
	}
	return u
}

// Schema makes an empty schema, dropped when the test ends, and returns
// the test database's URL with its search_path pointing there.
func Schema(t testing.TB) string {
	t.Helper()
	base := URL(t)
	ctx := context.Background()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "sgtest_" + hex.EncodeToString(b)
	exec := func(sql string) error {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if err := exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("SHOPGUARD_TEST_POSTGRES_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
