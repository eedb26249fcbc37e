package account_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/account"
	"github.com/shopguard/shopguard/internal/engine"
	"github.com/shopguard/shopguard/internal/features"
	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/rules"
	"github.com/shopguard/shopguard/internal/storage/memory"
	"github.com/shopguard/shopguard/internal/storage/storagetest"
)

// TestFloodOnOneAccount floods one account with failed logins from a few
// addresses, 2,000 and then 20,000 in the same 10 minutes, and checks
// that the feature store's state is the same size either way (per key it
// is bounded by the windows' buckets and the capped distinct counts: it
// grows with time, never with the number of attempts) and that the real
// customer can still sign in afterwards.
func TestFloodOnOneAccount(t *testing.T) {
	flood := func(n int) (size, keys int, customer engine.Decision) {
		now := t0
		feats := features.NewMemory(features.MemoryConfig{})
		eng, err := engine.New(engine.Config{BuiltinLists: rules.BuiltinLists(), Now: func() time.Time { return now }},
			&storagetest.DiscardEvents{Backend: memory.New()}, feats, account.LoginKind{})
		if err != nil {
			t.Fatal(err)
		}
		attempt := func(i int, ip, device, outcome string) engine.Decision {
			l := &account.Login{ID: fmt.Sprintf("f%d", i), CreatedAt: now.Format(time.RFC3339Nano), UserID: "victim",
				IP: ip, DeviceID: device, Outcome: outcome}
			if err := l.Validate(now); err != nil {
				t.Fatal(err)
			}
			d, err := eng.Decide(context.Background(), "shop", l)
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
		attempt(0, "198.51.100.1", "home", account.OutcomeSuccess)
		step := 10 * time.Minute / time.Duration(n)
		for i := 1; i <= n; i++ {
			now = now.Add(step)
			attempt(i, fmt.Sprintf("203.0.113.%d", i%5), fmt.Sprintf("bot%d", i%3), account.OutcomeBadPassword)
		}
		now = now.Add(time.Second)
		customer = attempt(n+1, "198.51.100.1", "home", account.OutcomeAttempt)
		var b bytes.Buffer
		if err := feats.Snapshot(&b); err != nil {
			t.Fatal(err)
		}
		return b.Len(), feats.Len(), customer
	}
	small, smallKeys, _ := flood(2_000)
	big, bigKeys, customer := flood(20_000)
	t.Logf("state after 2,000 attempts: %d bytes, %d keys; after 20,000: %d bytes, %d keys", small, smallKeys, big, bigKeys)
	if bigKeys != smallKeys || float64(big) > 1.05*float64(small) {
		t.Errorf("state grows with the number of attempts: %d bytes (%d keys) vs %d bytes (%d keys)", big, bigKeys, small, smallKeys)
	}
	if customer.Action == risk.ActionBlock {
		t.Errorf("the real customer is locked out: %s %v", customer.Action, customer.Reasons)
	}
}
