package offline

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/engine"
	"github.com/shopguard/shopguard/internal/features"
	"github.com/shopguard/shopguard/internal/fraud"
	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/rules"
	"github.com/shopguard/shopguard/internal/storage/memory"
)

// TestReplayLiveMatchesEngine feeds the same transactions through the
// real engine (decisions, then fraud feedback when each label is revealed)
// and through ReplayLive, and checks that the model inputs are the same:
// the evaluation measures exactly what live decisions see.
func TestReplayLiveMatchesEngine(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2018, 7, 25, 8, 0, 0, 0, time.UTC)
	const delay = 48 * time.Hour
	var txs []Tx
	for i := range 60 {
		txs = append(txs, Tx{
			ID:       fmt.Sprintf("t%d", i),
			At:       t0.Add(time.Duration(i) * 3 * time.Hour),
			Customer: fmt.Sprintf("c%d", i%7),
			Merchant: fmt.Sprintf("m%d", i%3),
			Amount:   float64(10 + i%13*7),
			Fraud:    i%3 == 0 && i < 40, // merchant m0 is compromised for a while
		})
	}
	rows, err := ReplayLive(ctx, txs, delay)
	if err != nil {
		t.Fatal(err)
	}

	now := t0
	store := memory.New()
	eng, err := engine.New(engine.Config{BuiltinLists: rules.BuiltinLists(), Now: func() time.Time { return now }},
		store, features.NewMemory(features.MemoryConfig{}), fraud.Kind{})
	if err != nil {
		t.Fatal(err)
	}
	names := fraud.ModelFeatureNames()
	ids := make([]string, len(txs))
	next := 0
	sawRisk := false
	for i, tx := range txs {
		for ; next < i && !txs[next].At.Add(delay).After(tx.At); next++ {
			if txs[next].Fraud {
				now = txs[next].At.Add(delay)
				if _, err := eng.AddFeedback(ctx, liveTenant, engine.Feedback{EventID: ids[next], Label: string(risk.LabelChargeback)}); err != nil {
					t.Fatal(err)
				}
			}
		}
		in, err := liveTransaction(tx)
		if err != nil {
			t.Fatal(err)
		}
		now = tx.At
		d, err := eng.Decide(ctx, liveTenant, in)
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = d.ID
		ev, err := eng.Event(ctx, liveTenant, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		env := fraud.NewEnv()
		if err := json.Unmarshal(ev.Env, env); err != nil {
			t.Fatal(err)
		}
		live := fraud.ModelRow(env, nil)
		got := rows[i*len(names) : (i+1)*len(names)]
		for j := range names {
			if !same(live[j], got[j]) {
				t.Errorf("transaction %d, %s: engine %v, replay %v", i, names[j], live[j], got[j])
			}
		}
		if env.Features.Merchant.Frauds30d > 0 {
			sawRisk = true
		}
	}
	if !sawRisk {
		t.Error("no transaction saw a known fraud on its merchant: the test does not exercise label counting")
	}
}

func same(a, b float64) bool {
	return a == b || (math.IsNaN(a) && math.IsNaN(b)) || math.Abs(a-b) < 1e-9
}
