package offline

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/shopguard/shopguard/internal/engine"
	"github.com/shopguard/shopguard/internal/features"
	"github.com/shopguard/shopguard/internal/fraud"
)

// liveTenant is the tenant the live replay's feature keys belong to.
const liveTenant = "offline"

// ReplayLive computes every transaction's inputs of the live fraud model
// (fraud.ModelFeatureNames) through the code live decisions run: each
// transaction becomes a fraud.Transaction (customer as the user, terminal
// as the merchant), its observations go through a fresh streaming feature
// store, its known-fraud counts are read from the label keys a decision
// reads, and its environment is built by fraud's BuildEnv. A fraud label
// is counted, as feedback is, delay after its transaction. It returns one
// row per transaction.
func ReplayLive(ctx context.Context, txs []Tx, delay time.Duration) ([]float64, error) {
	store := features.NewMemory(features.MemoryConfig{})
	nf := len(fraud.ModelFeatureNames())
	out := make([]float64, 0, len(txs)*nf)
	ins := make([]*fraud.Transaction, len(txs))
	env := fraud.NewEnv()
	var (
		obs    []features.Observation
		keys   []features.Key
		aggs   []features.Aggregates
		labels []features.Aggregates
	)
	next := 0 // next transaction whose label is still to be revealed
	for i, tx := range txs {
		if i > 0 && tx.At.Before(txs[i-1].At) {
			return nil, fmt.Errorf("offline: transactions out of time order at %s", tx.ID)
		}
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		for ; next < i && !txs[next].At.Add(delay).After(tx.At); next++ {
			if !txs[next].Fraud {
				continue
			}
			if err := store.Apply(ctx, txs[next].At.Add(delay), engine.LabelObservations(ins[next], liveTenant, 1)); err != nil {
				return nil, err
			}
		}
		in, err := liveTransaction(tx)
		if err != nil {
			return nil, err
		}
		ins[i] = in
		obs = in.Observations(liveTenant, obs[:0])
		aggs = grow(aggs, len(obs))
		if err := store.Observe(ctx, tx.At, obs, aggs); err != nil {
			return nil, err
		}
		keys = engine.LabelKeys(obs, in.LabelScope(), keys[:0])
		labels = grow(labels, len(keys))
		if err := store.Read(ctx, tx.At, keys, nil, labels); err != nil {
			return nil, err
		}
		in.BuildEnv(aggs, labels, env)
		out = fraud.ModelRow(env, out)
	}
	return out, nil
}

func grow(a []features.Aggregates, n int) []features.Aggregates {
	if cap(a) < n {
		return make([]features.Aggregates, n)
	}
	return a[:n]
}

// liveTransaction turns a data set row into the transaction a shop would
// send: the customer as the user, the terminal as the merchant.
func liveTransaction(tx Tx) (*fraud.Transaction, error) {
	doc := map[string]any{
		"id": tx.ID, "created_at": tx.At.Format(time.RFC3339Nano),
		"amount_minor": int64(math.Round(tx.Amount * 100)), "currency": "EUR",
		"user": map[string]any{"id": tx.Customer}, "merchant_id": tx.Merchant,
	}
	payload, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	in, err := fraud.Kind{}.Decode(payload)
	if err != nil {
		return nil, fmt.Errorf("offline: transaction %s: %w", tx.ID, err)
	}
	return in.(*fraud.Transaction), nil
}
