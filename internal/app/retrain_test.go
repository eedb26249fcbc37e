package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/app"
	"github.com/shopguard/shopguard/internal/config"
	"github.com/shopguard/shopguard/internal/engine"
	"github.com/shopguard/shopguard/internal/fraud"
	"github.com/shopguard/shopguard/internal/ml/gbdt"
	"github.com/shopguard/shopguard/internal/risk"
)

// labelledHistory makes n decisions for tenant over the last days, with
// chargebacks on the fraud-like ones (large orders from unseen devices).
func labelledHistory(t *testing.T, a *app.App, tenant string, n int) {
	t.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(3, 3))
	now := time.Now()
	for i := range n {
		at := now.Add(-time.Duration(n-i) * 10 * time.Minute)
		cust := rng.IntN(300)
		dev, amount, bad := fmt.Sprintf("d%d", cust), 1000+rng.IntN(9000), rng.Float64() < 0.08
		if bad {
			dev, amount = fmt.Sprintf("x%d", i), 50000+rng.IntN(50000)
		}
		doc := fmt.Sprintf(`{"id":"o%d","created_at":%q,"amount_minor":%d,"currency":"EUR","user":{"id":"u%d"},"device_id":%q,"ip":"198.51.100.%d","payment":{"method":"card","card_fingerprint":"c%d"}}`,
			i, at.Format(time.RFC3339Nano), amount, cust, dev, cust%200, cust)
		var tx fraud.Transaction
		if err := json.Unmarshal([]byte(doc), &tx); err != nil {
			t.Fatal(err)
		}
		if err := tx.Validate(now); err != nil {
			t.Fatal(err)
		}
		d, err := a.Engine().Decide(ctx, tenant, &tx)
		if err != nil {
			t.Fatal(err)
		}
		if bad {
			if _, err := a.Engine().AddFeedback(ctx, tenant, engine.Feedback{EventID: d.ID, Label: "chargeback"}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestScheduledRetraining checks Retrain: a tenant with labels gets a new
// champion (none before), a tenant without enough frauds keeps its state
// with a clear reason, and with models.promote never the next model only
// scores in shadow.
func TestScheduledRetraining(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Default()
	cfg.Storage.DataDir = filepath.Join(dir, "data")
	e := startConfig(t, cfg)
	e.client(t, "shop")
	e.client(t, "quiet")
	labelledHistory(t, e.app, "shop", 1500)
	ctx := context.Background()
	kind := risk.EventTransaction

	byTenant := map[string]app.RetrainResult{}
	for _, r := range e.app.Retrain(ctx) {
		byTenant[r.Tenant] = r
	}
	shop, quiet := byTenant["shop"], byTenant["quiet"]
	if shop.Err != nil || shop.Version == "" || !shop.Promoted || shop.Champion != "" || shop.Report.AUC < 0.9 {
		t.Fatalf("shop: %+v", shop)
	}
	if !errors.Is(quiet.Err, gbdt.ErrTooFewPositives) || quiet.Version != "" {
		t.Errorf("quiet tenant: %+v, want ErrTooFewPositives", quiet)
	}
	if v, _ := e.app.Engine().ModelVersion(ctx, "shop", kind); v != shop.Version {
		t.Errorf("champion scoring %q, want %q", v, shop.Version)
	}
	if v, _ := e.app.Engine().ModelVersion(ctx, "quiet", kind); v != "" {
		t.Errorf("quiet tenant got a model: %q", v)
	}

	// The same data under the policy "never": the new model is measured
	// against the champion and scores only in shadow.
	if err := e.app.Close(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // a new version name (they are per second)
	cfg.Models.Promote = config.PromoteNever
	a2, err := app.New(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a2.Close()
	var second app.RetrainResult
	for _, r := range a2.Retrain(ctx) {
		if r.Tenant == "shop" {
			second = r
		}
	}
	if second.Err != nil || second.Promoted || second.Champion != shop.Version || !second.Report.HasBaseline {
		t.Fatalf("second retraining: %+v", second)
	}
	if second.Report.BaselineAP != second.Report.AP {
		t.Errorf("same data, same settings: champion AP %v, new AP %v", second.Report.BaselineAP, second.Report.AP)
	}
	if v, _ := a2.Engine().ModelVersion(ctx, "shop", kind); v != shop.Version {
		t.Errorf("champion changed to %q under promote=never", v)
	}
	if v, _ := a2.Engine().ChallengerVersion(ctx, "shop", kind); v != second.Version {
		t.Errorf("challenger %q, want %q", v, second.Version)
	}
}
