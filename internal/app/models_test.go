package app_test

import (
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shopguard/shopguard/client"
	"github.com/shopguard/shopguard/internal/apikey"
	"github.com/shopguard/shopguard/internal/app"
	"github.com/shopguard/shopguard/internal/app/apptest"
	"github.com/shopguard/shopguard/internal/config"
	"github.com/shopguard/shopguard/internal/fraud"
	"github.com/shopguard/shopguard/internal/ml/gbdt"
	"github.com/shopguard/shopguard/internal/risk"
)

// smallModel trains a quick model on the fraud inputs (random rows).
func smallModel(t *testing.T) *gbdt.Model {
	t.Helper()
	names := fraud.ModelFeatureNames()
	rng := rand.New(rand.NewPCG(1, 2))
	d := &gbdt.Dataset{Features: names}
	for range 600 {
		for range names {
			d.X = append(d.X, rng.Float64())
		}
		d.Y = append(d.Y, d.X[len(d.X)-len(names)] > 0.7)
	}
	m, err := gbdt.Train(context.Background(), gbdt.Params{Trees: 10, Seed: 1}, d, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestChampionModelScoresAndBrokenOnesAreRefused(t *testing.T) {
	dir := t.TempDir()
	reg := app.NewModelRegistry(dir)
	kind := risk.EventTransaction
	v1 := app.NewVersion(kind, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	if _, err := reg.Save("shop", kind, v1, smallModel(t)); err != nil {
		t.Fatal(err)
	}
	if err := reg.Promote("shop", kind, v1); err != nil {
		t.Fatal(err)
	}
	// A damaged file cannot be promoted.
	bad := filepath.Join(dir, "models", "shop", "transaction", "transaction-broken.sgm")
	if err := os.WriteFile(bad, []byte("SGGBDT garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := reg.Promote("shop", kind, "transaction-broken"); err == nil {
		t.Error("a corrupt model was promoted")
	}
	if vs, _ := reg.Versions("shop", kind); len(vs) != 2 {
		t.Errorf("versions %v", vs)
	}

	cfg := config.Default()
	cfg.Storage.DataDir = dir
	a, err := app.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := a.Engine().ModelVersion(context.Background(), "shop", kind); v != v1 {
		a.Close()
		t.Fatalf("champion scoring: %q, want %q", v, v1)
	}
	// Someone points the champion at the broken file by hand: the running
	// model keeps scoring, and a fresh start has no model rather than a
	// broken one.
	if err := os.WriteFile(filepath.Join(dir, "models", "shop", "transaction", "champion"), []byte("transaction-broken\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a.ReloadModels(context.Background())
	if v, _ := a.Engine().ModelVersion(context.Background(), "shop", kind); v != v1 {
		t.Errorf("after a broken promotion the running model is %q, want %q kept", v, v1)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	a2, err := app.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("a broken champion stopped shopguard from starting: %v", err)
	}
	defer a2.Close()
	if v, _ := a2.Engine().ModelVersion(context.Background(), "shop", kind); v != "" {
		t.Errorf("a broken champion is scoring: %q", v)
	}
}

func TestChallengerScoresInShadowThenIsPromoted(t *testing.T) {
	dir := t.TempDir()
	reg := app.NewModelRegistry(dir)
	kind := risk.EventTransaction
	for _, v := range []string{"transaction-v1", "transaction-v2"} {
		if _, err := reg.Save("shop", kind, v, smallModel(t)); err != nil {
			t.Fatal(err)
		}
	}
	if err := reg.Promote("shop", kind, "transaction-v1"); err != nil {
		t.Fatal(err)
	}
	if err := reg.Challenge("shop", kind, "transaction-nope"); err == nil {
		t.Error("a missing model became the challenger")
	}
	if err := reg.Challenge("shop", kind, "transaction-v2"); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Storage.DataDir = dir
	a, err := app.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx := context.Background()
	versions := func() (string, string) {
		m, _ := a.Engine().ModelVersion(ctx, "shop", kind)
		c, _ := a.Engine().ChallengerVersion(ctx, "shop", kind)
		return m, c
	}
	if m, c := versions(); m != "transaction-v1" || c != "transaction-v2" {
		t.Fatalf("champion %q, challenger %q", m, c)
	}
	if err := reg.Promote("shop", kind, "transaction-v2"); err != nil {
		t.Fatal(err)
	}
	a.ReloadModels(ctx)
	if m, c := versions(); m != "transaction-v2" || c != "" {
		t.Errorf("after promoting the challenger: champion %q, challenger %q", m, c)
	}
}

func TestPromoteThroughTheAPI(t *testing.T) {
	dir := t.TempDir()
	reg := app.NewModelRegistry(dir)
	if _, err := reg.Save("shop", risk.EventTransaction, "transaction-v1", smallModel(t)); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a, srv := apptest.Start(t, dir)
	key := apptest.Key(t, a, "shop")
	readOnly := apptest.Key(t, a, "shop", apikey.ScopeRulesRead)
	post := func(k, path, body string) (int, string) {
		req, _ := http.NewRequest("POST", srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+k)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	tests := []struct {
		name, key, path, body string
		status                int
		want                  string
	}{
		{"unknown version", key, "/v1/models/transaction/promote", `{"version":"transaction-nope"}`, 404, "not_found"},
		{"empty version", key, "/v1/models/transaction/promote", `{"version":""}`, 400, `"field":"version"`},
		{"unknown field", key, "/v1/models/transaction/promote", `{"version":"transaction-v1","force":true}`, 400, "force"},
		{"unknown kind", key, "/v1/models/refund/promote", `{"version":"transaction-v1"}`, 404, "kind"},
		{"without rules:write", readOnly, "/v1/models/transaction/promote", `{"version":"transaction-v1"}`, 403, "rules:write"},
		{"promoted", key, "/v1/models/transaction/promote", `{"version":"transaction-v1"}`, 200, `"version":"transaction-v1"`},
	}
	for _, tc := range tests {
		status, body := post(tc.key, tc.path, tc.body)
		if status != tc.status || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d %s, want %d with %q", tc.name, status, body, tc.status, tc.want)
		}
	}
	if v, _ := a.Engine().ModelVersion(ctx, "shop", risk.EventTransaction); v != "transaction-v1" {
		t.Errorf("after the API promotion the model is %q", v)
	}
	if c, _ := reg.Champion("shop", risk.EventTransaction); c != "transaction-v1" {
		t.Errorf("champion file says %q", c)
	}
	// The Go client does the same.
	cl, err := client.New(srv.URL, key)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := cl.PromoteModel(ctx, "transaction", "transaction-v1")
	if err != nil || ch.Version != "transaction-v1" || ch.Kind != "transaction" {
		t.Errorf("client promotion: %+v, %v", ch, err)
	}
	if _, err := cl.PromoteModel(ctx, "transaction", "transaction-nope"); !client.IsStatus(err, 404) {
		t.Errorf("client promotion of an unknown version: %v", err)
	}
}
