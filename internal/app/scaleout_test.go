package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/shopguard/shopguard/client"
	"github.com/shopguard/shopguard/internal/apikey"
	"github.com/shopguard/shopguard/internal/app"
	"github.com/shopguard/shopguard/internal/app/apptest"
	"github.com/shopguard/shopguard/internal/botscore"
	"github.com/shopguard/shopguard/internal/config"
	"github.com/shopguard/shopguard/internal/gateway"
	"github.com/shopguard/shopguard/internal/storage/postgres/pgtest"
	"github.com/shopguard/shopguard/internal/storage/redis"
)

// TestTwoAPIsTwoGateways is the deployment of docs/scale-out.md in small:
// two API instances on one PostgreSQL, two gateways sharing limits through
// one Redis, each gateway asking its own API instance about sign-ins. A
// credential-stuffing run against one account, alternating between the
// gateways, is caught as one: the shop sees no more failures than the
// account's limit allows in all, both gateways refuse it after that, and
// both API instances hold the same history of the account.
func TestTwoAPIsTwoGateways(t *testing.T) {
	st := sharedState(t)
	pgURL := pgtest.Schema(t)
	usePG := func(c *config.Config) { c.Storage.Driver, c.Storage.URL = config.DriverPostgres, pgURL }
	a, apiA := apptest.StartWith(t, "", usePG)
	b, apiB := apptest.StartWith(t, "", usePG)
	key := apptest.Key(t, a, "shop", apikey.ScopeEventsWrite, apikey.ScopeEventsRead)
	shop := &inlineShop{}
	up := httptest.NewServer(shop)
	defer up.Close()

	const burst = 5
	policy, err := gateway.ReadPolicy(strings.NewReader(fmt.Sprintf(`
limits:
  - {name: failed_logins_per_account, key: account, rate: 5/1h, burst: %d, counts: responses, statuses: [401]}
routes:
  - {name: login, methods: [POST], path: /login, account_field: email, protect: login, limits: [failed_logins_per_account]}
  - {name: checkout, path: /checkout/*, challenge: wait}
`, burst)))
	if err != nil {
		t.Fatal(err)
	}
	var fronts []string
	for _, api := range []string{apiA.URL, apiB.URL} {
		gc := config.Default().Gateway
		gc.Upstream = up.URL
		cfg, err := app.GatewayConfig(gc)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Policy = policy
		cfg.Risk = gateway.RiskAPI{URL: api, Key: key, Timeout: 5 * time.Second}
		state, err := app.GatewayState(context.Background(), st, &cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { state.Close() })
		g, err := gateway.New(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		front := httptest.NewServer(g)
		t.Cleanup(front.Close)
		fronts = append(fronts, front.URL)
	}

	reachedShop, refused := 0, []int{0, 0}
	for i := range 12 {
		form := url.Values{"email": {"victim@example.com"}, "password": {fmt.Sprint("guess", i)}}
		resp, err := http.Post(fronts[i%2]+"/login", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusUnauthorized:
			reachedShop++
		case http.StatusTooManyRequests, http.StatusForbidden:
			if i >= 2*burst {
				refused[i%2]++
			}
		default:
			t.Errorf("attempt %d: status %d", i+1, resp.StatusCode)
		}
	}
	if reachedShop > burst {
		t.Errorf("%d wrong passwords reached the shop through the two gateways, want at most %d in all", reachedShop, burst)
	}
	if refused[0] == 0 || refused[1] == 0 {
		t.Errorf("late attempts refused per gateway: %v, want both gateways refusing", refused)
	}

	// A client that never clears its challenge, going round both
	// gateways, is served the challenge-loop bucket's burst of pages in
	// all, then refused by both.
	pages, late := 0, []int{0, 0}
	for i := range 2*gateway.ChallengeLoopRule.Burst + 2 {
		switch code := pageView(t, fronts[i%2]+"/checkout/cart"); code {
		case http.StatusForbidden:
			pages++
		case http.StatusTooManyRequests:
			if i >= 2*gateway.ChallengeLoopRule.Burst {
				late[i%2]++
			}
		default:
			t.Errorf("challenge request %d: status %d", i+1, code)
		}
	}
	if pages > gateway.ChallengeLoopRule.Burst || late[0] == 0 || late[1] == 0 {
		t.Errorf("%d challenge pages through the two gateways (want at most %d in all), late refusals per gateway %v",
			pages, gateway.ChallengeLoopRule.Burst, late)
	}

	// Both API instances hold one history of the account: a failure scored
	// on each after the other has caught up counts every earlier one.
	ca, _ := client.New(apiA.URL, key, client.WithRetries(0))
	cb, _ := client.New(apiB.URL, key, client.WithRetries(0))
	waitFollowed(t, b, a)
	waitFollowed(t, a, b)
	// The gateways sent what was typed; the API counts it by its hash.
	now := time.Now().UTC()
	fa := accountFailures(t, ca, client.Login{ID: "check-a", Identifier: "victim@example.com", CreatedAt: now})
	waitFollowed(t, b, a)
	fb := accountFailures(t, cb, client.Login{ID: "check-b", Identifier: "victim@example.com", CreatedAt: now})
	if fa < 2 || fb != fa+1 {
		t.Errorf("the account's failures in the last hour: %d on A, then %d on B; want B to count A's and one more", fa, fb)
	}
	t.Logf("shop saw %d failures; refused late attempts per gateway %v; failures_1h A %d, B %d", reachedShop, refused, fa, fb)
}

// TestInstancesShareFeaturesInRedis runs two API instances on one
// PostgreSQL with features.store redis: a decision on one counts in the
// next decision on the other at once, without following the log; failed
// sign-ins alternating between them are one run; a chargeback recorded
// through one counts on the other's next order.
func TestInstancesShareFeaturesInRedis(t *testing.T) {
	st := sharedState(t)
	pgURL := pgtest.Schema(t)
	use := func(c *config.Config) {
		c.Storage.Driver, c.Storage.URL = config.DriverPostgres, pgURL
		c.State = st
		c.Features.Store = config.FeaturesRedis
	}
	a, srvA := apptest.StartWith(t, "", use)
	b, srvB := apptest.StartWith(t, "", use)
	key := apptest.Key(t, a, "shop")
	ca, _ := client.New(srvA.URL, key, client.WithRetries(0))
	cb, _ := client.New(srvB.URL, key, client.WithRetries(0))
	for i := range 6 {
		c, name := ca, "A"
		if i%2 == 1 {
			c, name = cb, "B"
		}
		if n := cardCount(t, c, fmt.Sprintf("ord-%d", i), at); n != float64(i+1) {
			t.Fatalf("order %d on %s: card count %v, want %d", i+1, name, n, i+1)
		}
		if n := accountFailures(t, c, client.Login{ID: fmt.Sprintf("login-%d", i), UserID: "victim"}); n != int64(i+1) {
			t.Fatalf("failed sign-in %d on %s: the account's failures_1h %d, want %d", i+1, name, n, i+1)
		}
	}
	if a.Engine().Followed() != 0 || b.Engine().Followed() != 0 {
		t.Errorf("instances followed the log (%d, %d): with shared features they must not count each other twice", a.Engine().Followed(), b.Engine().Followed())
	}
	if _, err := ca.SendFeedback(context.Background(), client.Feedback{Kind: "transaction", ExternalID: "ord-0", Label: "chargeback"}); err != nil {
		t.Fatal(err)
	}
	if f := cardFeatures(t, cb, "ord-after", time.Now().UTC()); f.Frauds30d != 1 {
		t.Errorf("B's order right after A's chargeback: card frauds_30d %v, want 1", f.Frauds30d)
	}
	resp, err := http.Get(srvA.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "\nshopguard_features_shared_degraded 0\n") {
		t.Error("A's /metrics lacks shopguard_features_shared_degraded 0")
	}
}

// afterRequests scores a client 100 once it has made more than n
// requests, 0 before: the gateways' sharing is under test, not a model.
type afterRequests struct{ n float64 }

func (s afterRequests) Score(f botscore.Features) int {
	if f[botscore.FRequests] > s.n {
		return 100
	}
	return 0
}

// TestGatewaysShareBotVerdicts: a client one gateway found to be a bot is
// challenged by the other from its first request there, although that
// gateway has no history of it; a gateway without the sharing serves it.
func TestGatewaysShareBotVerdicts(t *testing.T) {
	st := sharedState(t)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "shop") }))
	defer up.Close()
	policy, err := gateway.ReadPolicy(strings.NewReader("bot_score: {challenge_above: 90}"))
	if err != nil {
		t.Fatal(err)
	}
	start := func(share bool) (string, *redis.BotVerdicts) {
		gc := config.Default().Gateway
		gc.Upstream = up.URL
		cfg, err := app.GatewayConfig(gc)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Policy, cfg.BotModel = policy, afterRequests{n: 3}
		cfg.ChallengeSecret = []byte(strings.Repeat("v", 32))
		var shared *redis.BotVerdicts
		if share {
			state, err := app.GatewayState(context.Background(), st, &cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { state.Close() })
			shared = cfg.BotVerdicts.(*redis.BotVerdicts)
		}
		g, err := gateway.New(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		front := httptest.NewServer(g)
		t.Cleanup(front.Close)
		return front.URL, shared
	}
	page := func(front string) int {
		t.Helper()
		return pageView(t, front+"/products")
	}
	a, _ := start(true)
	b, vb := start(true)
	alone, _ := start(false)
	var codes []int
	for range 5 {
		codes = append(codes, page(a))
	}
	if codes[0] != http.StatusOK || codes[4] != http.StatusForbidden {
		t.Fatalf("gateway A's answers %v: want pages, then a challenge", codes)
	}
	for deadline := time.Now().Add(time.Second); vb.Verdict("127.0.0.1") < 90; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("gateway B has not heard A's verdict a second later")
		}
	}
	if code := page(b); code != http.StatusForbidden {
		t.Errorf("the client's first request to gateway B: %d, want 403 (challenged on A's verdict)", code)
	}
	if code := page(alone); code != http.StatusOK {
		t.Errorf("the client's first request to a gateway that shares nothing: %d, want 200", code)
	}
}

// sharedState returns the state configuration of a Redis of the test's
// own: SHOPGUARD_TEST_REDIS_URL under a prefix named after the test,
// emptied before and after it. It skips the test without a Redis.
func sharedState(t *testing.T) config.State {
	t.Helper()
	url := os.Getenv("SHOPGUARD_TEST_REDIS_URL")
	if url == "" {
		t.Skip("set SHOPGUARD_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/15), and SHOPGUARD_TEST_POSTGRES_URL, to run the scale-out tests; .ci/run sets both")
	}
	st := config.Default().State
	st.URL, st.Prefix = url, fmt.Sprintf("shopguard-test:%s:", t.Name())
	shared, err := redis.Open(redis.Options{URL: url, Prefix: st.Prefix})
	if err != nil {
		t.Fatal(err)
	}
	purge := func() {
		if _, err := shared.Purge(context.Background()); err != nil {
			t.Error(err)
		}
	}
	purge()
	t.Cleanup(func() {
		purge()
		shared.Close()
	})
	return st
}

// pageView asks for u as a browser navigating to a page does, without
// cookies, and returns the status.
func pageView(t *testing.T, u string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	req.Header.Set("User-Agent", "Mozilla/5.0 test")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
