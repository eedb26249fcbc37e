package app

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shopguard/shopguard/internal/config"
	"github.com/shopguard/shopguard/internal/gateway"
	"github.com/shopguard/shopguard/internal/storage/redis"
)

// TestGatewaysShareLimits: two gateways on one Redis (state.url) catch a
// credential-stuffing run spread across both as one: the failures each
// lets through count against the same account, and the account is
// refused after its burst in all, not after its burst at each.
func TestGatewaysShareLimits(t *testing.T) {
	redisURL := os.Getenv("SHOPGUARD_TEST_REDIS_URL")
	if redisURL == "" {
		t.Skip("set SHOPGUARD_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/15) to run the shared-state tests; .ci/run sets it when Redis runs on 127.0.0.1:6379")
	}
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "wrong password", http.StatusUnauthorized)
	}))
	defer shop.Close()
	dir := t.TempDir()
	policy := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(policy, []byte(`limits:
  - {name: failed_logins_per_account, key: account, rate: 5/1h, burst: 5, counts: responses, statuses: [401]}
routes:
  - {name: login, methods: [POST], path: /login, account_field: email, limits: [failed_logins_per_account]}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Gateway.Upstream, cfg.Gateway.PolicyFile = shop.URL, policy
	cfg.State.URL, cfg.State.Prefix = redisURL, fmt.Sprintf("shopguard-test:%s:", strings.ReplaceAll(t.Name(), "/", "_"))
	var bases []string
	for range 2 {
		gc, err := GatewayConfig(cfg.Gateway)
		if err != nil {
			t.Fatal(err)
		}
		state, err := GatewayState(context.Background(), cfg.State, &gc, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { state.Close() })
		if gc.SharedLimits == nil {
			t.Fatal("state.url set, yet the limits are not shared")
		}
		g, err := gateway.New(gc, nil)
		if err != nil {
			t.Fatal(err)
		}
		front := httptest.NewServer(g)
		t.Cleanup(front.Close)
		bases = append(bases, front.URL)
	}
	t.Cleanup(func() { flushPrefix(t, redisURL, cfg.State.Prefix) })
	flushPrefix(t, redisURL, cfg.State.Prefix)
	statuses := make([]int, 0, 10)
	for i := range 10 {
		// Every attempt from another address, alternating gateways: only
		// the account ties them together.
		form := url.Values{"email": {"victim@example.com"}, "password": {fmt.Sprint("guess", i)}}
		resp, err := http.Post(bases[i%2]+"/login", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		statuses = append(statuses, resp.StatusCode)
	}
	want := []int{401, 401, 401, 401, 401, 429, 429, 429, 429, 429}
	if fmt.Sprint(statuses) != fmt.Sprint(want) {
		t.Errorf("statuses %v, want %v (five failures across both gateways, then refused at both)", statuses, want)
	}
}

// flushPrefix deletes the shared state under prefix.
func flushPrefix(t *testing.T, url, prefix string) {
	t.Helper()
	s, err := redis.Open(redis.Options{URL: url, Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Purge(context.Background()); err != nil {
		t.Fatal(err)
	}
}
