package app

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/config"
	"github.com/shopguard/shopguard/internal/gateway"
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
	c.PolicyFile = ""
	dir := t.TempDir()
	for _, tc := range []struct{ content, want string }{
		{strings.Repeat("s", 40) + "\n", ""},
		{"short\n", "challenge_secret"},
		{"  \n", "empty"},
	} {
		c.ChallengeSecretFile = filepath.Join(dir, "secret")
		if err := os.WriteFile(c.ChallengeSecretFile, []byte(tc.content), 0o600); err != nil {
			t.Fatal(err)
		}
		g, err := GatewayConfig(c)
		if tc.want == "" && (err != nil || string(g.ChallengeSecret) != strings.Repeat("s", 40)) {
			t.Errorf("secret file: %q, %v", g.ChallengeSecret, err)
		}
		if tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("secret %q: %v, want %q", tc.content, err, tc.want)
		}
	}
	c.ChallengeSecretFile = filepath.Join(dir, "missing")
	if _, err := GatewayConfig(c); err == nil || !strings.Contains(err.Error(), "gateway.challenge_secret_file") {
		t.Errorf("missing secret file: %v", err)
	}
	c.ChallengeSecretFile = ""
	c.RiskURL, c.RiskKeyFile = "http://127.0.0.1:8080", filepath.Join(dir, "key")
	if err := os.WriteFile(c.RiskKeyFile, []byte("sg_key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if g, err := GatewayConfig(c); err != nil || g.Risk != (gateway.RiskAPI{URL: c.RiskURL, Key: "sg_key", Timeout: 500 * time.Millisecond}) {
		t.Errorf("risk API: %+v, %v", g.Risk, err)
	}
	c.RiskKeyFile = filepath.Join(dir, "no-key")
	if _, err := GatewayConfig(c); err == nil || !strings.Contains(err.Error(), "gateway.risk_key_file") {
		t.Errorf("missing key file: %v", err)
	}
	c.RiskURL, c.RiskKeyFile = "", ""
	c.PolicyFile, c.Upstream = "", "ftp://shop"
	if _, err := GatewayConfig(c); err == nil {
		t.Error("ftp upstream accepted")
	}
}
