package offline

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/engine"
	"github.com/shopguard/shopguard/internal/features"
	"github.com/shopguard/shopguard/internal/fraud"
	"github.com/shopguard/shopguard/internal/ml/gbdt"
	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/rules"
	"github.com/shopguard/shopguard/internal/storage/memory"
)

// TestTrainFromDecisionsAndScoreLive is the model's whole loop: decisions
// are made on rules alone, labels arrive as feedback, a model trains on the
// stored decisions' features, and new decisions are scored and explained
// by it (and rules can read model.score).
func TestTrainFromDecisionsAndScoreLive(t *testing.T) {
	ctx := context.Background()
	store := memory.New()
	eng, err := engine.New(engine.Config{BuiltinLists: rules.BuiltinLists(), Logger: slog.New(slog.DiscardHandler)},
		store, features.NewMemory(features.MemoryConfig{}), fraud.Kind{})
	if err != nil {
		t.Fatal(err)
	}
	// No default rules: the model must find the pattern on its own.
	if _, err := eng.ChangeRules(ctx, "shop", "test", func([]rules.Rule) ([]rules.Rule, error) { return nil, nil }); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	start := time.Now().Add(-20 * 24 * time.Hour)
	// Fraud: a big order by a customer on a device never seen with them.
	order := func(i int, at time.Time, fraudulent bool) *fraud.Transaction {
		cust := rng.IntN(400)
		dev := fmt.Sprintf("dev-%d", cust)
		amount := int64(2000 + rng.IntN(8000))
		if fraudulent {
			dev = fmt.Sprintf("dev-x%d", i)
			amount = int64(40000 + rng.IntN(60000))
		} else if rng.Float64() < 0.05 {
			amount = int64(40000 + rng.IntN(60000)) // some big legit orders too
		}
		body := fmt.Sprintf(`{"id":"o%d","created_at":%q,"amount_minor":%d,"currency":"EUR","user":{"id":"u%d","email":"u%d@example.com","created_at":"2024-01-01T00:00:00Z"},"ip":"198.51.100.%d","device_id":%q,"payment":{"method":"card","card_fingerprint":"fp%d","bin":"424242","last4":"4242","card_country":"DE"}}`,
			i, at.Format(time.RFC3339Nano), amount, cust, cust, cust%250, dev, cust)
		var tx fraud.Transaction
		if err := json.Unmarshal([]byte(body), &tx); err != nil {
			t.Fatal(err)
		}
		if err := tx.Validate(at.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		return &tx
	}
	for i := range 3000 {
		at := start.Add(time.Duration(i) * 6 * time.Minute)
		bad := rng.Float64() < 0.06
		d, err := eng.Decide(ctx, "shop", order(i, at, bad))
		if err != nil {
			t.Fatal(err)
		}
		if bad {
			if _, err := eng.AddFeedback(ctx, "shop", engine.Feedback{EventID: d.ID, Label: "chargeback"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	m, rep, err := TrainFromEvents(ctx, store, "shop", start.Add(-time.Hour), time.Now().Add(time.Hour), 0.25,
		gbdt.Params{Trees: 200, LearningRate: 0.1, MinDataInLeaf: 10, Seed: 1}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", rep)
	if rep.Events != 3000 || rep.AUC < 0.95 {
		t.Errorf("report %+v: want 3000 events and a test AUC of at least 0.95", rep)
	}
	fm, err := fraud.NewModel(m, "v1")
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.SetModel(ctx, "shop", risk.EventTransaction, fm); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.ChangeRules(ctx, "shop", "test", func([]rules.Rule) ([]rules.Rule, error) {
		return []rules.Rule{{Name: "model_says_block", Kind: risk.EventTransaction, Expression: "model.score >= 90", Action: risk.ActionBlock, Description: "model score {{ model.score }}"}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().Add(-time.Minute)
	bad, err := eng.Decide(ctx, "shop", order(100001, now, true))
	if err != nil {
		t.Fatal(err)
	}
	good, err := eng.Decide(ctx, "shop", order(100002, now, false))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("fraud-like: %d %s %+v", bad.Score, bad.Action, bad.Reasons)
	t.Logf("normal: %d %s", good.Score, good.Action)
	if bad.ModelVersion != "v1" || bad.Score < 70 || good.Score > 30 {
		t.Errorf("model scores: fraud-like %d (version %q), normal %d", bad.Score, bad.ModelVersion, good.Score)
	}
	var explained bool
	for _, r := range bad.Reasons {
		explained = explained || strings.HasPrefix(r.Code, "model:features.device") || r.Code == "model:amount" || strings.HasPrefix(r.Code, "model:signals.new_device")
	}
	if !explained {
		t.Errorf("the fraud-like order is not explained by its device or amount: %+v", bad.Reasons)
	}
	if bad.Score >= 90 && bad.Action != risk.ActionBlock {
		t.Errorf("rule on model.score did not fire: %s", bad.Action)
	}

	// A challenger scores in shadow beside the champion; after more
	// labelled traffic the two are compared on the same decisions.
	m2, rep2, err := TrainFromEvents(ctx, store, "shop", start.Add(-time.Hour), time.Now().Add(time.Hour), 0.25,
		gbdt.Params{Trees: 50, LearningRate: 0.2, MaxLeaves: 4, MinDataInLeaf: 10, Seed: 2}, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The champion is measured on the challenger's test events: the two
	// newest decisions joined them, so its figures are close to its own.
	if !rep2.HasBaseline || rep2.BaselineAUC < 0.9 || rep2.BaselineAP <= 0 {
		t.Errorf("baseline figures %+v", rep2)
	}
	challenger, err := fraud.NewModel(m2, "v2")
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.SetChallenger(ctx, "shop", risk.EventTransaction, challenger); err != nil {
		t.Fatal(err)
	}
	from := time.Now().Add(-30 * time.Minute)
	for i := range 400 {
		bad := rng.Float64() < 0.1
		d, err := eng.Decide(ctx, "shop", order(200000+i, from.Add(time.Duration(i)*time.Second), bad))
		if err != nil {
			t.Fatal(err)
		}
		if d.ModelVersion != "v1" {
			t.Fatalf("model version %q while a challenger runs", d.ModelVersion)
		}
		if bad {
			if _, err := eng.AddFeedback(ctx, "shop", engine.Feedback{EventID: d.ID, Label: "fraud"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	cmp, err := CompareModels(ctx, store, "shop", "v2", from.Add(-time.Second), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", cmp)
	if cmp.Events != 400 || cmp.Champion != "v1" || cmp.ChampionAUC < 0.9 || cmp.ChallengerAUC < 0.9 || cmp.Positives == 0 {
		t.Errorf("comparison %+v: want 400 decisions scored by both, and both models good", cmp)
	}
}
