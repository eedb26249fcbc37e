package engine_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/engine"
	"github.com/shopguard/shopguard/internal/fraud"
	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/rules"
	"github.com/shopguard/shopguard/internal/storage/memory"
	"github.com/shopguard/shopguard/internal/storage/sqlite"
	"github.com/shopguard/shopguard/internal/storage/storagetest"
)

// extraRules brings the tenant's rule set to 20 rules: the 12 defaults plus
// 8 typical operator rules (comparisons, string tests, a list lookup).
var extraRules = []rules.Rule{
	{Name: "big_order", Expression: "amount_minor > 50000 && features.card.count_1h > 3", Score: 30, Description: "big order, busy card"},
	{Name: "night_guest", Expression: "user.guest && hour_utc < 5 && amount > 200", Score: 10, Description: "guest at night"},
	{Name: "many_items", Expression: "items.quantity > 20 || items.max_quantity > 10", Score: 15, Description: "{{ items.quantity }} items"},
	{Name: "ip_busy", Expression: "features.ip.count_1m > 20", Score: 20, Description: "busy IP"},
	{Name: "fresh_card_big", Expression: "features.card.new && amount >= 1000", Score: 15, Description: "new card, big amount"},
	{Name: "risky_bin", Expression: `payment.bin in ["400000", "411111", "555555"]`, Score: 10, Description: "test BIN"},
	{Name: "email_many_cards", Expression: "features.email.cards_24h >= 3", Score: 20, Description: "e-mail with many cards"},
	{Name: "blocked_country", Expression: `in_list("blocked-countries", shipping.country)`, Action: risk.ActionReview, Description: "ships to {{ shipping.country }}"},
}

// population makes n validated transactions from a realistic mix of
// customers (each with a few cards, devices and IPs) at increasing times.
func population(b *testing.B, n int, start time.Time) []*fraud.Transaction {
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([]*fraud.Transaction, n)
	for i := range out {
		u := rng.IntN(50_000)
		amount := int64(500 + rng.IntN(20_000))
		at := start.Add(time.Duration(i) * 10 * time.Millisecond)
		tx := &fraud.Transaction{
			ID: "o" + strconv.Itoa(i), CreatedAt: at.Format(time.RFC3339Nano), AmountMinor: &amount, Currency: "EUR",
			User:      &fraud.User{ID: fmt.Sprintf("u%d", u), Email: fmt.Sprintf("c%d@example.com", u), CreatedAt: "2024-01-01T00:00:00Z"},
			IP:        fmt.Sprintf("10.%d.%d.%d", u>>16, (u>>8)&255, u&255),
			DeviceID:  fmt.Sprintf("d%d-%d", u, rng.IntN(2)),
			UserAgent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605.1.15",
			Payment: &fraud.Payment{Method: "card", CardFingerprint: fmt.Sprintf("card%d-%d", u, rng.IntN(2)),
				BIN: "424242", Last4: "4242", CardCountry: "DE"},
			BillingAddress:  &fraud.Address{Line1: fmt.Sprintf("Street %d", u), City: "Berlin", PostalCode: "10115", Country: "DE"},
			ShippingAddress: &fraud.Address{Line1: fmt.Sprintf("Street %d", u), City: "Berlin", PostalCode: "10115", Country: "DE"},
			Items:           []fraud.Item{{SKU: "sku" + strconv.Itoa(rng.IntN(500)), PriceMinor: amount, Quantity: 1}},
		}
		if err := tx.Validate(at); err != nil {
			b.Fatal(err)
		}
		out[i] = tx
	}
	return out
}

// benchEngine returns an engine over store with 20 rules and a feature
// store warmed with warm earlier transactions.
func benchEngine(b *testing.B, store engine.Store, warm int) (*engine.Engine, []*fraud.Transaction) {
	h := &harness{now: t0}
	eng, err := engine.New(engine.Config{BuiltinLists: rules.BuiltinLists(), Now: func() time.Time { return h.now }}, store, newFeatures(), fraud.Kind{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if err := eng.CreateList(ctx, "shop", rules.List{Name: "blocked-countries", Kind: rules.ListCountry}); err != nil {
		b.Fatal(err)
	}
	if _, err := eng.EditEntries(ctx, "shop", "blocked-countries", []string{"KP", "IR"}, false); err != nil {
		b.Fatal(err)
	}
	if _, err := eng.ChangeRules(ctx, "shop", "bench", func(cur []rules.Rule) ([]rules.Rule, error) {
		for _, r := range extraRules[:max(0, min(len(extraRules), 20-len(cur)))] {
			r.Kind = risk.EventTransaction
			cur = append(cur, r)
		}
		if len(cur) != 20 {
			return nil, fmt.Errorf("%d rules, want 20", len(cur))
		}
		return cur, nil
	}); err != nil {
		b.Fatal(err)
	}
	txs := population(b, warm+200_000, t0)
	for _, tx := range txs[:warm] {
		if _, err := eng.Decide(ctx, "shop", tx); err != nil {
			b.Fatal(err)
		}
	}
	return eng, txs[warm:]
}

// runDecide scores transactions b.N times and reports latency percentiles.
func runDecide(b *testing.B, eng *engine.Engine, txs []*fraud.Transaction) {
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		tx := txs[i%len(txs)]
		tx.ID = "b" + strconv.Itoa(i) // unique, so every decision does the full work
		start := time.Now()
		if _, err := eng.Decide(ctx, "shop", tx); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
}

// BenchmarkDecideCore is the decision without storage: 8 feature-store
// observations, building the environment, 20 rules, list matching, the
// assessment and encoding the event and its features for storage.
func BenchmarkDecideCore(b *testing.B) {
	eng, txs := benchEngine(b, &storagetest.DiscardEvents{Backend: memory.New()}, 20_000)
	runDecide(b, eng, txs)
}

// BenchmarkDecide is one in-process decision: idempotency lookup, 8
// feature-store observations, 20 rules, list matching, assessment, and the
// event with its features stored in the in-memory backend.
func BenchmarkDecide(b *testing.B) {
	eng, txs := benchEngine(b, memory.New(), 20_000)
	runDecide(b, eng, txs)
}

// BenchmarkDecideSQLite is the same decision stored durably in SQLite (one
// caller at a time, so every decision waits for its own commit).
func BenchmarkDecideSQLite(b *testing.B) {
	st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), sqlite.Options{CommitDelay: time.Millisecond})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	eng, txs := benchEngine(b, st, 2_000)
	runDecide(b, eng, txs)
}

// BenchmarkDecideSQLiteParallel decides from many goroutines, so SQLite
// commits are grouped as under real traffic.
func BenchmarkDecideSQLiteParallel(b *testing.B) {
	st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), sqlite.Options{CommitDelay: time.Millisecond})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	eng, txs := benchEngine(b, st, 2_000)
	ctx := context.Background()
	var next atomicCounter
	b.ReportAllocs()
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.add()
			tx := *txs[i%int64(len(txs))] // a copy per goroutine: ids differ
			tx.ID = "p" + strconv.FormatInt(i, 10)
			if _, err := eng.Decide(ctx, "shop", &tx); err != nil {
				b.Fatal(err)
			}
		}
	})
}
