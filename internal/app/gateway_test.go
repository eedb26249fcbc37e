package app

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/config"
)

func TestGatewayConfig(t *testing.T) {
	c := config.Default().Gateway
	if _, err := GatewayConfig(c); !errors.Is(err, ErrNoUpstream) {
		t.Errorf("no upstream: %v", err)
	}
	c.Upstream, c.TrustedProxies, c.HealthPath = "http://127.0.0.1:3000/shop", "10.0.0.0/8, 192.0.2.7", "/healthz"
	g, err := GatewayConfig(c)
	if err != nil {
		t.Fatalf("the defaults with an upstream: %v", err)
	}
	if g.Upstream.Host != "127.0.0.1:3000" || g.Upstream.Path != "/shop" || len(g.Trusted) != 2 ||
		g.Trusted[1].String() != "192.0.2.7/32" || g.MinBodyRate != 512 || g.Health.Path != "/healthz" ||
		g.Health.Interval != 5*time.Second || g.MaxConnsPerIP != 64 || g.ShutdownTimeout != 30*time.Second {
		t.Errorf("config %+v", g)
	}
	c.PolicyFile = "../gateway/testdata/policy.yaml"
	if g, err = GatewayConfig(c); err != nil || len(g.Policy.Routes) != 3 || g.MaxLimitKeys != 100000 {
		t.Errorf("with the example policy: %d routes, %v", len(g.Policy.Routes), err)
	}
	c.PolicyFile = "no-such-policy.yaml"
	if _, err := GatewayConfig(c); err == nil || !strings.Contains(err.Error(), "gateway.policy_file") {
		t.Errorf("missing policy file: %v", err)
	}
	c.PolicyFile, c.Upstream = "", "ftp://shop"
	if _, err := GatewayConfig(c); err == nil {
		t.Error("ftp upstream accepted")
	}
}
