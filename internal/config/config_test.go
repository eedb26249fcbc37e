package config

import (
	"errors"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/risk"
)

func TestDefaultIsValid(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
}

func TestDefaultValues(t *testing.T) {
	c := Default()
	checks := []struct {
		name      string
		got, want any
	}{
		{"server.addr", c.Server.Addr, "127.0.0.1:8080"},
		{"server.read_header_timeout", c.Server.ReadHeaderTimeout, 5 * time.Second},
		{"server.read_timeout", c.Server.ReadTimeout, 15 * time.Second},
		{"server.write_timeout", c.Server.WriteTimeout, 30 * time.Second},
		{"server.idle_timeout", c.Server.IdleTimeout, 120 * time.Second},
		{"server.shutdown_timeout", c.Server.ShutdownTimeout, 30 * time.Second},
		{"server.max_body_bytes", c.Server.MaxBodyBytes, int64(1 << 20)},
		{"server.key_cache_ttl", c.Server.KeyCacheTTL, 10 * time.Second},
		{"server.session_ttl", c.Server.SessionTTL, 12 * time.Hour},
		{"storage.driver", c.Storage.Driver, "sqlite"},
		{"storage.data_dir", c.Storage.DataDir, "./shopguard-data"},
		{"storage.synchronous", c.Storage.Synchronous, "normal"},
		{"storage.commit_batch", c.Storage.CommitBatch, 256},
		{"features.snapshot_interval", c.Features.SnapshotInterval, 5 * time.Minute},
		{"log.level", c.Log.Level, "info"},
		{"log.format", c.Log.Format, "text"},
		{"len(decisions.thresholds)", len(c.Decisions.Thresholds), len(risk.EventKinds)},
	}
	for _, k := range risk.EventKinds {
		checks = append(checks, struct {
			name      string
			got, want any
		}{"decisions.thresholds." + string(k), c.Decisions.Thresholds[string(k)], risk.Thresholds{Review: 50, Challenge: 70, Block: 90}})
	}
	for _, tc := range checks {
		if tc.got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}

func TestDefaultReturnsFreshMap(t *testing.T) {
	a := Default()
	a.Decisions.Thresholds["login"] = risk.Thresholds{Review: 1, Challenge: 2, Block: 3}
	if got := Default().Decisions.Thresholds["login"]; got != DefaultThresholds() {
		t.Fatalf("mutating one Default() changed another: login = %+v", got)
	}
}

func TestDecisionsFor(t *testing.T) {
	custom := risk.Thresholds{Review: 10, Challenge: 20, Block: 30}
	d := Decisions{Thresholds: map[string]risk.Thresholds{"login": custom}}
	tests := []struct {
		kind risk.EventKind
		want risk.Thresholds
	}{
		{risk.EventLogin, custom},
		{risk.EventTransaction, DefaultThresholds()},
	}
	for _, tc := range tests {
		if got := d.For(tc.kind); got != tc.want {
			t.Errorf("For(%s) = %+v, want %+v", tc.kind, got, tc.want)
		}
	}
	if got := (Decisions{}).For(risk.EventLogin); got != DefaultThresholds() {
		t.Errorf("For on a nil map = %+v, want defaults", got)
	}
}

func TestSlogLevel(t *testing.T) {
	tests := []struct {
		level string
		want  slog.Level
	}{
		{"debug", slog.LevelDebug},
		{"info", slog.LevelInfo},
		{"warn", slog.LevelWarn},
		{"error", slog.LevelError},
		{"bogus", slog.LevelInfo},
	}
	for _, tc := range tests {
		c := Default()
		c.Log.Level = tc.level
		if got := c.SlogLevel(); got != tc.want {
			t.Errorf("SlogLevel(%q) = %v, want %v", tc.level, got, tc.want)
		}
	}
}

func TestFileFromEnv(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		want string
	}{
		{"nil", nil, ""},
		{"unset", []string{"HOME=/root", "SHOPGUARD_CONFIGX=/no"}, ""},
		{"set", []string{"HOME=/root", "SHOPGUARD_CONFIG=/etc/shopguard.yaml"}, "/etc/shopguard.yaml"},
		{"last wins", []string{"SHOPGUARD_CONFIG=/a", "SHOPGUARD_CONFIG=/b"}, "/b"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := FileFromEnv(tc.env); got != tc.want {
				t.Errorf("FileFromEnv = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestKeys(t *testing.T) {
	keys := Keys()
	if !slices.IsSorted(keys) {
		t.Errorf("Keys() is not sorted: %v", keys)
	}
	if want := 32 + 28 + 3 + 3*len(risk.EventKinds) + 2 + 5 + 1; len(keys) != want { // ... + state + assistant + features.store
		t.Errorf("len(Keys()) = %d, want %d", len(keys), want)
	}
	for _, k := range []string{"server.addr", "storage.commit_batch", "geo.country_db", "geo.asn_db", "account.history", "decisions.thresholds.transaction.review", "log.format"} {
		if !slices.Contains(keys, k) {
			t.Errorf("Keys() lacks %s", k)
		}
	}
	seen := make(map[string]string)
	for _, k := range keys {
		name := EnvName(k)
		if other, dup := seen[name]; dup {
			t.Errorf("keys %s and %s share the environment variable %s", k, other, name)
		}
		seen[name] = k
		if strings.HasPrefix(name, EnvTestPrefix) || name == EnvConfigFile {
			t.Errorf("key %s maps to the reserved variable %s", k, name)
		}
	}
}

func TestEnvName(t *testing.T) {
	tests := map[string]string{
		"server.max_body_bytes":                   "SHOPGUARD_SERVER_MAX_BODY_BYTES",
		"decisions.thresholds.transaction.review": "SHOPGUARD_DECISIONS_THRESHOLDS_TRANSACTION_REVIEW",
		"log.level": "SHOPGUARD_LOG_LEVEL",
	}
	for key, want := range tests {
		if got := EnvName(key); got != want {
			t.Errorf("EnvName(%q) = %q, want %q", key, got, want)
		}
	}
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"abc", "", 3},
		{"", "abc", 3},
		{"addr", "addr", 0},
		{"adress", "addr", 4},
		{"reveiw", "review", 2},
		{"kitten", "sitting", 3},
	}
	for _, tc := range tests {
		if got := editDistance(tc.a, tc.b); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

// TestEverySectionDocumented keeps Sample's section comments complete.
func TestEverySectionDocumented(t *testing.T) {
	docs := sectionDocs()
	for _, f := range fields() {
		section, _, _ := strings.Cut(f.key, ".")
		if docs[section] == "" {
			t.Errorf("section %q (of %s) has no comment in sectionDocs", section, f.key)
		}
	}
}

func TestReputationTable(t *testing.T) {
	tests := []struct {
		in      string
		want    map[string]float64
		wantErr string
	}{
		{"", nil, ""},
		{" tor-exits=30 , known_proxies = 10", map[string]float64{"tor-exits": 30, "known_proxies": 10}, ""},
		{"tor-exits", nil, "want name=factor"},
		{"Tor=3", nil, "want name=factor"},
		{"-x=3", nil, "want name=factor"},
		{"x=0.5", nil, "1..1000"},
		{"x=1001", nil, "1..1000"},
		{"x=NaN", nil, "1..1000"},
		{"x=2,x=3", nil, "appears twice"},
	}
	for _, tc := range tests {
		got, err := Account{ReputationLists: tc.in}.ReputationTable()
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: error %v, want one with %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	c := Default()
	c.Account.ReputationLists = "x=5000"
	var ps Problems
	if err := c.Validate(); !errors.As(err, &ps) || len(ps) != 1 || ps[0].Key != "account.reputation_lists" {
		t.Errorf("Validate = %v, want one problem about account.reputation_lists", err)
	}
}
