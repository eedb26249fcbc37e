package offline

import (
	"context"
	"math"
	"slices"
	"testing"
	"time"
)

// TestReplayRevealsLabelsAfterTheDelay: a merchant whose every
// transaction is fraud shows no risk until the first label is revealed,
// then full risk; the customer's history counts its own transactions.
func TestReplayRevealsLabelsAfterTheDelay(t *testing.T) {
	t0 := time.Date(2018, 7, 25, 12, 0, 0, 0, time.UTC)
	var txs []Tx
	for d := range 10 {
		txs = append(txs, Tx{ID: string(rune('a' + d)), At: t0.Add(time.Duration(d) * 24 * time.Hour), Customer: "c1", Merchant: "m1", Amount: 10, Fraud: true})
	}
	rows, err := Replay(context.Background(), txs, 7*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	nf := len(FeatureNames)
	col := func(name string, r int) float64 { return rows[r*nf+slices.Index(FeatureNames, name)] }
	for d := range 10 {
		risk := col("merch_risk_7d", d)
		switch {
		case d < 7 && !math.IsNaN(risk):
			t.Errorf("day %d: merchant risk %v before any label is known", d, risk)
		case d >= 7 && risk != 1:
			t.Errorf("day %d: merchant risk %v, want 1 once labels are known", d, risk)
		}
		if got := col("cust_count_7d", d); got != float64(min(d+1, 7)) {
			t.Errorf("day %d: customer count over 7 days %v", d, got)
		}
	}
	if got := col("cust_seconds_since_last", 3); got != 86400 {
		t.Errorf("seconds since last %v", got)
	}
	if _, err := Replay(context.Background(), []Tx{txs[1], txs[0]}, time.Hour); err == nil {
		t.Error("transactions out of order accepted")
	}
}
