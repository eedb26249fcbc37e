package account_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/account"
	"github.com/shopguard/shopguard/internal/engine"
	"github.com/shopguard/shopguard/internal/features"
	"github.com/shopguard/shopguard/internal/rules"
	"github.com/shopguard/shopguard/internal/storage/memory"
	"github.com/shopguard/shopguard/internal/storage/storagetest"
)

// BenchmarkLogin is one login assessment in process without storage: 7
// feature-store observations, the label-count read, the environment, the
// default login rules, list matching and encoding the event (target ≤ 30 µs).
func BenchmarkLogin(b *testing.B) {
	now := t0
	eng, err := engine.New(engine.Config{BuiltinLists: rules.BuiltinLists(), Now: func() time.Time { return now }},
		&storagetest.DiscardEvents{Backend: memory.New()}, features.NewMemory(features.MemoryConfig{}), account.LoginKind{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	outcomes := []string{account.OutcomeSuccess, account.OutcomeBadPassword, account.OutcomeAttempt, account.OutcomeUnknownUser}
	mk := func(i int) *account.Login {
		l := &account.Login{ID: "w" + strconv.Itoa(i), CreatedAt: now.Add(time.Duration(i) * time.Millisecond).Format(time.RFC3339Nano),
			UserID: fmt.Sprintf("u%d", i%20000), IP: fmt.Sprintf("198.51.%d.%d", i%200, i%250), DeviceID: fmt.Sprintf("d%d", i%30000),
			Outcome: outcomes[i%len(outcomes)], PasswordHashPrefix: fmt.Sprintf("%05x", i%4096)}
		if err := l.Validate(now.Add(time.Hour)); err != nil {
			b.Fatal(err)
		}
		return l
	}
	for i := range 50_000 { // warm the feature store
		if _, err := eng.Decide(ctx, "shop", mk(i)); err != nil {
			b.Fatal(err)
		}
	}
	logins := make([]*account.Login, 4096)
	for i := range logins {
		logins[i] = mk(50_000 + i)
	}
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		l := logins[i%len(logins)]
		l.ID = "b" + strconv.Itoa(i)
		start := time.Now()
		if _, err := eng.Decide(ctx, "shop", l); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
}
