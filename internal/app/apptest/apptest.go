// Package apptest starts a real shopguard for tests in other packages: the
// app on SQLite in a temporary directory behind an httptest server.
package apptest

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/shopguard/shopguard/internal/apikey"
	"github.com/shopguard/shopguard/internal/app"
	"github.com/shopguard/shopguard/internal/config"
)

// Start runs shopguard with its data in dataDir ("" for a fresh temporary
// directory) and serves its API and dashboard; both are closed, and a
// failing close reported, when the test ends.
func Start(t testing.TB, dataDir string) (*app.App, *httptest.Server) {
	t.Helper()
	return StartWith(t, dataDir, nil)
}

// StartWith is Start with change applied to the default configuration
// first (nil: none).
func StartWith(t testing.TB, dataDir string, change func(*config.Config)) (*app.App, *httptest.Server) {
	t.Helper()
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	cfg := config.Default()
	cfg.Storage.DataDir = dataDir
	if change != nil {
		change(&cfg)
	}
	a, err := app.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() {
		srv.Close()
		if err := a.Close(); err != nil {
			t.Error(err)
		}
	})
	return a, srv
}

// Key creates an API key for tenant with the scopes (all when none).
func Key(t testing.TB, a *app.App, tenant string, scopes ...apikey.Scope) string {
	t.Helper()
	if len(scopes) == 0 {
		scopes = apikey.AllScopes
	}
	key, err := a.CreateKey(context.Background(), tenant, "test", scopes)
	if err != nil {
		t.Fatal(err)
	}
	return key
}
