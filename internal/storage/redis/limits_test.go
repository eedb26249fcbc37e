package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/shopguard/shopguard/internal/gateway/limit"
	"github.com/shopguard/shopguard/internal/gateway/limit/limittest"
)

// testState opens the Redis of SHOPGUARD_TEST_REDIS_URL under a prefix of
// its own, whose keys are deleted when the test ends; it skips the test
// without one.
func testState(t *testing.T) *State {
	t.Helper()
	url := os.Getenv("SHOPGUARD_TEST_REDIS_URL")
	if url == "" {
		t.Skip("set SHOPGUARD_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/15) to run the Redis tests; .ci/run sets it when Redis runs on 127.0.0.1:6379")
	}
	return openPrefixed(t, url, "shopguard-test:"+randomHex(t)+":")
}

// openPrefixed opens url under prefix and deletes the prefix's keys at the
// end of the test.
func openPrefixed(t *testing.T, url, prefix string) *State {
	t.Helper()
	s, err := Open(Options{URL: url, Prefix: prefix, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("SHOPGUARD_TEST_REDIS_URL: %v", err)
	}
	t.Cleanup(func() {
		if _, err := s.Purge(context.Background()); err != nil {
			t.Errorf("purge: %v", err)
		}
		s.Close()
	})
	return s
}

// TestPurge: Purge deletes the prefix's keys and no others, even when the
// prefix holds SCAN's pattern characters.
func TestPurge(t *testing.T) {
	s := testState(t)
	other := openPrefixed(t, os.Getenv("SHOPGUARD_TEST_REDIS_URL"), s.prefix[:len(s.prefix)-1]+"*?[x]:")
	ctx := context.Background()
	for i := range 3 {
		s.rdb.Set(ctx, fmt.Sprint(s.prefix, i), "v", time.Minute)
		s.rdb.Set(ctx, fmt.Sprint(other.prefix, i), "v", time.Minute)
	}
	if n, err := other.Purge(ctx); err != nil || n != 3 {
		t.Fatalf("purged %d, %v; want 3", n, err)
	}
	if n, err := s.rdb.Exists(ctx, s.prefix+"0", s.prefix+"1", s.prefix+"2").Result(); err != nil || n != 3 {
		t.Fatalf("%d of the other prefix's keys left, %v; want 3", n, err)
	}
}

func randomHex(t *testing.T) string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// TestLimitsSuite: the shared buckets pass the suite of the in-memory
// ones.
func TestLimitsSuite(t *testing.T) {
	limittest.Run(t, func(t *testing.T) limittest.Limits {
		l, err := testState(t).Limits(limittest.Rules, 1024, nil)
		if err != nil {
			t.Fatal(err)
		}
		return l
	})
}

// TestLimitsShared: two gateways with their own connections share each
// bucket: a burst spent half through one and half through the other is
// spent, and failures counted by one refuse sign-ins at the other.
func TestLimitsShared(t *testing.T) {
	url := os.Getenv("SHOPGUARD_TEST_REDIS_URL")
	a := testState(t)
	b := openPrefixed(t, url, a.prefix)
	la, err := a.Limits(limittest.Rules, 1024, nil)
	if err != nil {
		t.Fatal(err)
	}
	lb, err := b.Limits(limittest.Rules, 1024, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range []*Limits{la, lb, la} {
		if d, err := l.Allow("requests", "203.0.113.9"); err != nil || !d.Allowed {
			t.Fatalf("request %d: %+v %v", i, d, err)
		}
	}
	if d, err := lb.Allow("requests", "203.0.113.9"); err != nil || d.Allowed {
		t.Fatalf("fourth request, through the other gateway: %+v %v", d, err)
	}
	for _, l := range []*Limits{la, lb} {
		if err := l.Observe("failures", "bob", 401); err != nil {
			t.Fatal(err)
		}
	}
	if d, err := la.Allow("failures", "bob"); err != nil || d.Allowed {
		t.Fatalf("sign-in after a failure at each gateway: %+v %v", d, err)
	}
	if la.Degraded() || lb.Degraded() || la.Len() != 0 || lb.Len() != 0 {
		t.Errorf("degraded %v/%v, local keys %d/%d: Redis should have answered everything", la.Degraded(), lb.Degraded(), la.Len(), lb.Len())
	}
}

// TestLimitsTTL: a bucket in Redis expires when it would be full again;
// a full one is not kept at all.
func TestLimitsTTL(t *testing.T) {
	s := testState(t)
	rules := []limit.Rule{{Name: "fast", Key: limit.KeyIP, Rate: 10, Burst: 5, Counts: limit.CountRequests}}
	l, err := s.Limits(rules, 1024, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Allow("fast", "a"); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ttl, err := s.rdb.PTTL(ctx, s.prefix+"limit:fast:a").Result()
	if err != nil {
		t.Fatal(err)
	}
	// One token at 10 a second comes back in 100 ms, plus a second's grace.
	if ttl <= 0 || ttl > 1100*time.Millisecond {
		t.Errorf("TTL %v, want (0, 1.1s]", ttl)
	}
	if _, err := l.Allow("fast", "b"); err != nil {
		t.Fatal(err)
	}
	// Nobody steps b again: its TTL removes it once it is full.
	deadline := time.Now().Add(3 * time.Second)
	for {
		n, err := s.rdb.Exists(ctx, s.prefix+"limit:fast:b").Result()
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a refilled bucket is still in Redis after 3 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestLimitsRedisDown: with Redis stopped the gateway's own buckets
// answer at once, without errors; once Redis is back the shared buckets
// answer again. Runs a redis-server of its own and stops and starts it.
func TestLimitsRedisDown(t *testing.T) {
	port, srv, s := ownRedis(t)
	start := func() *exec.Cmd { return startRedis(t, port) }
	l, err := s.Limits(limittest.Rules, 1024, nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		l.Allow("requests", "a")
	}
	if d, _ := l.Allow("requests", "a"); d.Allowed || l.Degraded() {
		t.Fatalf("fourth request with Redis up: %+v, degraded %v", d, l.Degraded())
	}

	srv.Process.Kill()
	srv.Wait()
	began := time.Now()
	for i := range 100 {
		d, err := l.Allow("requests", "a")
		if err != nil {
			t.Fatalf("request %d with Redis down: %v", i, err)
		}
		if want := i < 3; d.Allowed != want {
			t.Fatalf("request %d with Redis down: allowed %v, want %v (the gateway's own bucket)", i, d.Allowed, want)
		}
		if err := l.Observe("failures", "bob", 401); err != nil {
			t.Fatal(err)
		}
	}
	if took := time.Since(began); took > 2*time.Second {
		t.Errorf("100 decisions with Redis down took %v: the backoff should spare most of them the timeout", took)
	}
	if !l.Degraded() || l.Len() == 0 {
		t.Fatalf("degraded %v with %d local keys, want degraded with local buckets", l.Degraded(), l.Len())
	}

	start() // empty: nothing was saved
	deadline := time.Now().Add(10 * time.Second)
	for l.Degraded() {
		if time.Now().After(deadline) {
			t.Fatal("still degraded 10 s after Redis came back")
		}
		l.Allow("requests", "b")
		time.Sleep(50 * time.Millisecond)
	}
	if d, err := l.Allow("requests", "a"); err != nil || !d.Allowed || d.Remaining != 2 {
		t.Errorf("first request to the restarted Redis: %+v %v, want a fresh shared bucket", d, err)
	}
}

// startRedis runs a redis-server of the test's own on port, without
// persistence, and waits until it answers; the test ends it. It skips the
// test when redis-server is not installed.
func startRedis(t *testing.T, port int) *exec.Cmd {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server is not installed (apt-get install -y redis-server): the fault test starts and stops one of its own")
	}
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	c := goredis.NewClient(&goredis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port)})
	defer c.Close()
	for deadline := time.Now().Add(10 * time.Second); c.Ping(context.Background()).Err() != nil; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("redis-server did not start")
		}
	}
	return cmd
}

// ownRedis starts a redis-server of the test's own (see startRedis) and
// returns its port, its process and a State on it that gives up on a
// call after 100 ms; the test's cleanup closes them.
func ownRedis(t *testing.T) (int, *exec.Cmd, *State) {
	t.Helper()
	port := freePort(t)
	srv := startRedis(t, port)
	s, err := Open(Options{URL: fmt.Sprintf("redis://127.0.0.1:%d/0", port), Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return port, srv, s
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
