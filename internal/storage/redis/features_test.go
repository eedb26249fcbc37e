package redis

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/features"
	"github.com/shopguard/shopguard/internal/features/featurestest"
	"github.com/shopguard/shopguard/internal/risk"
)

// openFeatures is the suite's Opener: a Features store under a prefix of
// its own.
func openFeatures(t *testing.T, cfg features.MemoryConfig) features.Store {
	return testState(t).Features(cfg, nil)
}

func TestFeaturesSuite(t *testing.T) { featurestest.Run(t, openFeatures) }

func TestFeaturesMatchMemory(t *testing.T) { featurestest.Differential(t, openFeatures) }

// decision is the observations of one payment: the keys a transaction
// updates, with the distinct dimensions the fraud features use.
func decision(i int) []features.Observation {
	ob := func(kind risk.EntityKind, v string, dims ...features.Dim) features.Observation {
		o := features.Observation{Key: features.Key{Tenant: "shop", Scope: "transaction", Kind: kind, Value: v}, Amount: float64(i%500) + 0.99}
		copy(o.Distinct[:], dims)
		return o
	}
	user, card, dev, ip := fmt.Sprint("u", i%5000), fmt.Sprint("c", i%7000), fmt.Sprint("d", i%6000), fmt.Sprint("10.0.", i%250, ".", i%200)
	return []features.Observation{
		ob(risk.EntityUser, user, features.Dim{Kind: risk.EntityCard, Value: card}, features.Dim{Kind: risk.EntityDevice, Value: dev}),
		ob(risk.EntityCard, card, features.Dim{Kind: risk.EntityDevice, Value: dev}, features.Dim{Kind: risk.EntityUser, Value: user}),
		ob(risk.EntityDevice, dev, features.Dim{Kind: risk.EntityCard, Value: card}),
		ob(risk.EntityIP, ip, features.Dim{Kind: risk.EntityCard, Value: card}),
		ob(risk.EntityEmail, user+"@example.com"),
		ob(risk.EntityEmailDomain, "example.com"),
		ob(risk.EntityIPPrefix, fmt.Sprint("10.0.", i%250, ".0/24")),
		ob(risk.EntityAddress, fmt.Sprint("addr", i%4000)),
		ob(risk.EntityMerchant, "m1"),
		ob(risk.EntityUser, user+":hour"),
	}
}

// TestFeaturesShared: what one instance observes, another reads at once.
func TestFeaturesShared(t *testing.T) {
	a := testState(t)
	b := openPrefixed(t, os.Getenv("SHOPGUARD_TEST_REDIS_URL"), a.prefix)
	fa, fb := a.Features(features.MemoryConfig{}, nil), b.Features(features.MemoryConfig{}, nil)
	ctx := context.Background()
	at := time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC)
	for i := range 6 {
		f := fa
		if i%2 == 1 {
			f = fb
		}
		obs := decision(7) // the same customer, card and device every time
		out := make([]features.Aggregates, len(obs))
		if err := f.Observe(ctx, at.Add(time.Duration(i)*time.Second), obs, out); err != nil {
			t.Fatal(err)
		}
		if out[1].Count[features.W1m] != int64(i+1) {
			t.Fatalf("observation %d on instance %d: card count %d, want %d", i, i%2, out[1].Count[features.W1m], i+1)
		}
	}
	var out [1]features.Aggregates
	if err := fb.Read(ctx, at.Add(10*time.Second), []features.Key{decision(7)[1].Key}, nil, out[:]); err != nil {
		t.Fatal(err)
	}
	if out[0].Count[features.W1h] != 6 || fa.Degraded() || fb.Degraded() {
		t.Errorf("read on the second instance: %+v (degraded %v %v)", out[0], fa.Degraded(), fb.Degraded())
	}
}

// TestFeaturesRedisDown: with Redis stopped the instance's own store
// answers at once, without errors; once Redis is back the shared keys
// answer again. Runs a redis-server of its own and stops and starts it.
func TestFeaturesRedisDown(t *testing.T) {
	port, srv, s := ownRedis(t)
	f := s.Features(features.MemoryConfig{}, nil)
	ctx := context.Background()
	at := time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC)
	observe := func(i int) features.Aggregates {
		t.Helper()
		obs := decision(3)
		out := make([]features.Aggregates, len(obs))
		if err := f.Observe(ctx, at.Add(time.Duration(i)*time.Second), obs, out); err != nil {
			t.Fatalf("observation %d: %v", i, err)
		}
		return out[1]
	}
	for i := range 3 {
		observe(i)
	}
	srv.Process.Kill()
	srv.Wait()
	began := time.Now()
	for i := range 100 {
		a := observe(3 + i)
		// The local store counts from the outage on.
		if a.Count[features.W1h] != int64(i+1) {
			t.Fatalf("observation %d with Redis down: card count %d, want %d", i, a.Count[features.W1h], i+1)
		}
	}
	if took := time.Since(began); took > 2*time.Second {
		t.Errorf("100 observations with Redis down took %v: the backoff should spare most of them the timeout", took)
	}
	if !f.Degraded() {
		t.Fatal("not degraded with Redis down")
	}
	startRedis(t, port) // empty: nothing was saved
	deadline := time.Now().Add(10 * time.Second)
	for f.Degraded() {
		if time.Now().After(deadline) {
			t.Fatal("still degraded 10 s after Redis came back")
		}
		var out [1]features.Aggregates
		f.Read(ctx, at, []features.Key{decision(3)[0].Key}, nil, out[:])
		time.Sleep(50 * time.Millisecond)
	}
	if a := observe(200); a.Count[features.W1h] != 1 || !a.New {
		t.Errorf("first observation on the restarted Redis: %+v, want a new key", a)
	}
	// The next outage starts its own counts afresh.
	if local := f.local.Load(); local.Len() != 0 {
		t.Errorf("the local store kept %d keys of the last outage", local.Len())
	}
}

// BenchmarkFeaturesObserve is one decision's feature update (ten keys,
// four of them with distinct dimensions) against the Redis of
// SHOPGUARD_TEST_REDIS_URL: one round trip. Compare
// features.BenchmarkObserve10 (in memory).
func BenchmarkFeaturesObserve(b *testing.B) {
	url := os.Getenv("SHOPGUARD_TEST_REDIS_URL")
	if url == "" {
		b.Skip("set SHOPGUARD_TEST_REDIS_URL")
	}
	s, err := Open(Options{URL: url, Prefix: "shopguard-bench:" + strconv.Itoa(os.Getpid()) + ":", Timeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { s.Purge(context.Background()); s.Close() }()
	f := s.Features(features.MemoryConfig{}, nil)
	ctx := context.Background()
	at := time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC)
	out := make([]features.Aggregates, 10)
	used0 := usedMemory(b, s)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := f.Observe(ctx, at.Add(time.Duration(i)*20*time.Millisecond), decision(i), out); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	var keys int
	iter := s.rdb.Scan(ctx, 0, s.prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		keys++
	}
	if keys > 0 {
		b.ReportMetric(float64(usedMemory(b, s)-used0)/float64(keys), "redis-B/key")
	}
}

// usedMemory returns Redis's used_memory in bytes.
func usedMemory(b *testing.B, s *State) int64 {
	info, err := s.rdb.Info(context.Background(), "memory").Result()
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory:"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return n
		}
	}
	b.Fatal("no used_memory in INFO memory")
	return 0
}
