package offline

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/shopguard/shopguard/internal/features"
	"github.com/shopguard/shopguard/internal/risk"
)

// FeatureNames are the model's inputs, in order. Customer and merchant
// history come from the streaming feature store; the *_risk features are
// the share of the merchant's (or customer's) past transactions labelled
// fraud, counting only labels known at scoring time (revealed Delay after
// the transaction).
var FeatureNames = []string{
	"amount", "hour", "weekend", "night",
	"cust_count_1h", "cust_count_24h", "cust_count_7d", "cust_count_30d",
	"cust_avg_24h", "cust_avg_7d", "cust_avg_30d", "cust_amount_vs_avg_30d",
	"cust_seconds_since_last", "cust_age_days", "cust_merchants_7d",
	"merch_count_1h", "merch_count_24h", "merch_count_7d", "merch_count_30d",
	"merch_customers_24h", "merch_avg_7d",
	"merch_risk_24h", "merch_risk_7d", "merch_risk_30d", "merch_labelled_7d",
	"cust_risk_30d",
}

// Scopes of the feature-store keys: transactions, and labels (observed at
// the time they become known).
const (
	scopeTx    = "tx"
	scopeLabel = "tx_label"
)

// Replay computes every transaction's features by feeding the transactions,
// in time order, through a fresh streaming feature store, with each label
// observed delay after its transaction. It returns one row per
// transaction (len(FeatureNames) values each, NaN where undefined).
func Replay(ctx context.Context, txs []Tx, delay time.Duration) ([]float64, error) {
	store := features.NewMemory(features.MemoryConfig{})
	nf := len(FeatureNames)
	out := make([]float64, 0, len(txs)*nf)
	obs := make([]features.Observation, 2)
	aggs := make([]features.Aggregates, 2)
	labelKeys := make([]features.Key, 2)
	labelAggs := make([]features.Aggregates, 2)
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
		// Reveal the labels known by now.
		for ; next < i && !txs[next].At.Add(delay).After(tx.At); next++ {
			l := txs[next]
			fraud := 0.0
			if l.Fraud {
				fraud = 1
			}
			if err := store.Apply(ctx, l.At.Add(delay), []features.Observation{
				{Key: key(scopeLabel, risk.EntityMerchant, l.Merchant), Amount: fraud},
				{Key: key(scopeLabel, risk.EntityUser, l.Customer), Amount: fraud},
			}); err != nil {
				return nil, err
			}
		}
		obs[0] = features.Observation{Key: key(scopeTx, risk.EntityUser, tx.Customer), Amount: tx.Amount,
			Distinct:        [features.MaxDistinct]features.Dim{{Kind: risk.EntityMerchant, Value: tx.Merchant}},
			DistinctWindows: features.Windows(features.W7d)}
		obs[1] = features.Observation{Key: key(scopeTx, risk.EntityMerchant, tx.Merchant), Amount: tx.Amount,
			Distinct:        [features.MaxDistinct]features.Dim{{Kind: risk.EntityUser, Value: tx.Customer}},
			DistinctWindows: features.Windows(features.W24h)}
		if err := store.Observe(ctx, tx.At, obs, aggs); err != nil {
			return nil, err
		}
		labelKeys[0] = key(scopeLabel, risk.EntityMerchant, tx.Merchant)
		labelKeys[1] = key(scopeLabel, risk.EntityUser, tx.Customer)
		if err := store.Read(ctx, tx.At, labelKeys, nil, labelAggs); err != nil {
			return nil, err
		}
		out = appendRow(out, tx, &aggs[0], &aggs[1], &labelAggs[0], &labelAggs[1])
	}
	return out, nil
}

func key(scope string, kind risk.EntityKind, value string) features.Key {
	return features.Key{Tenant: "offline", Scope: scope, Kind: kind, Value: value}
}

func ratio(num, den float64) float64 {
	if den == 0 {
		return math.NaN()
	}
	return num / den
}

func appendRow(out []float64, tx Tx, cust, merch, merchLabels, custLabels *features.Aggregates) []float64 {
	const (
		h1  = features.W1h
		d1  = features.W24h
		d7  = features.W7d
		d30 = features.W30d
	)
	hour := tx.At.Hour()
	wd := tx.At.Weekday()
	weekend, night := 0.0, 0.0
	if wd == time.Saturday || wd == time.Sunday {
		weekend = 1
	}
	if hour < 6 {
		night = 1
	}
	since := math.NaN()
	if !cust.PrevSeen.IsZero() {
		since = tx.At.Sub(cust.PrevSeen).Seconds()
	}
	// The customer's average before this transaction.
	before := ratio(cust.Sum[d30]-tx.Amount, float64(cust.Count[d30]-1))
	return append(out,
		tx.Amount, float64(hour), weekend, night,
		float64(cust.Count[h1]), float64(cust.Count[d1]), float64(cust.Count[d7]), float64(cust.Count[d30]),
		cust.Mean(d1), cust.Mean(d7), cust.Mean(d30), ratio(tx.Amount, before),
		since, tx.At.Sub(cust.FirstSeen).Hours()/24, float64(cust.Distinct[0][d7]),
		float64(merch.Count[h1]), float64(merch.Count[d1]), float64(merch.Count[d7]), float64(merch.Count[d30]),
		float64(merch.Distinct[0][d1]), merch.Mean(d7),
		ratio(merchLabels.Sum[d1], float64(merchLabels.Count[d1])),
		ratio(merchLabels.Sum[d7], float64(merchLabels.Count[d7])),
		ratio(merchLabels.Sum[d30], float64(merchLabels.Count[d30])),
		float64(merchLabels.Count[d7]),
		ratio(custLabels.Sum[d30], float64(custLabels.Count[d30])),
	)
}
