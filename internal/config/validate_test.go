package config

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/risk"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(c *Config)
		want   []Problem // nil means valid; Message is a substring
	}{
		{"empty host listens everywhere", func(c *Config) { c.Server.Addr = ":8080" }, nil},
		{"ipv6 host", func(c *Config) { c.Server.Addr = "[::1]:443" }, nil},
		{"addr without port", func(c *Config) { c.Server.Addr = "localhost" }, []Problem{{"server.addr", "is not host:port"}}},
		{"addr empty", func(c *Config) { c.Server.Addr = "" }, []Problem{{"server.addr", "is not host:port"}}},
		{"negative port", func(c *Config) { c.Server.Addr = ":-1" }, []Problem{{"server.addr", `port "-1"`}}},
		{"port too big", func(c *Config) { c.Server.Addr = "127.0.0.1:65536" }, []Problem{{"server.addr", "0..65535"}}},
		{"port not a number", func(c *Config) { c.Server.Addr = "127.0.0.1:http" }, []Problem{{"server.addr", `port "http"`}}},
		{"zero read header timeout", func(c *Config) { c.Server.ReadHeaderTimeout = 0 }, []Problem{{"server.read_header_timeout", "must be a positive duration"}}},
		{"negative read timeout", func(c *Config) { c.Server.ReadTimeout = -time.Second }, []Problem{{"server.read_timeout", "must be a positive duration, got -1s"}}},
		{"zero write timeout", func(c *Config) { c.Server.WriteTimeout = 0 }, []Problem{{"server.write_timeout", "positive"}}},
		{"zero idle timeout", func(c *Config) { c.Server.IdleTimeout = 0 }, []Problem{{"server.idle_timeout", "positive"}}},
		{"zero shutdown timeout", func(c *Config) { c.Server.ShutdownTimeout = 0 }, []Problem{{"server.shutdown_timeout", "positive"}}},
		{"body at minimum", func(c *Config) { c.Server.MaxBodyBytes = 1024 }, nil},
		{"language model", func(c *Config) { c.Assistant.LLMURL, c.Assistant.LLMModel = "http://127.0.0.1:8000/v1", "qwen2.5-7b" }, nil},
		{"language model without a model, not http", func(c *Config) { c.Assistant.LLMURL = "ftp://models.example" },
			[]Problem{{"assistant.llm_url", "not an http(s) URL"}, {"assistant.llm_model", "is required"}}},
		{"language model timeout too long", func(c *Config) { c.Assistant.LLMTimeout = 2 * time.Minute }, []Problem{{"assistant.llm_timeout", "outside 100ms..1m0s"}}},
		{"body at maximum", func(c *Config) { c.Server.MaxBodyBytes = 64 << 20 }, nil},
		{"body too small", func(c *Config) { c.Server.MaxBodyBytes = 1023 }, []Problem{{"server.max_body_bytes", "1023 is outside 1024..67108864"}}},
		{"body too big", func(c *Config) { c.Server.MaxBodyBytes = 64<<20 + 1 }, []Problem{{"server.max_body_bytes", "is outside"}}},
		{"key cache disabled", func(c *Config) { c.Server.KeyCacheTTL = 0 }, nil},
		{"session too short", func(c *Config) { c.Server.SessionTTL = time.Minute }, []Problem{{"server.session_ttl", "1m0s is outside 5m0s..720h0m0s"}}},
		{"key cache at maximum", func(c *Config) { c.Server.KeyCacheTTL = 10 * time.Minute }, nil},
		{"key cache too long", func(c *Config) { c.Server.KeyCacheTTL = 11 * time.Minute }, []Problem{{"server.key_cache_ttl", "11m0s is outside 0s..10m0s"}}},
		{"key cache negative", func(c *Config) { c.Server.KeyCacheTTL = -time.Second }, []Problem{{"server.key_cache_ttl", "is outside"}}},
		{"memory needs no data dir", func(c *Config) { c.Storage.Driver = "memory"; c.Storage.DataDir = "" }, nil},
		{"unknown driver", func(c *Config) { c.Storage.Driver = "mysql" }, []Problem{{"storage.driver", `"mysql" is not one of sqlite, postgres, memory`}}},
		{"postgres needs url", func(c *Config) { c.Storage.Driver = "postgres" }, []Problem{{"storage.url", "is required when storage.driver is postgres"}}},
		{"postgres url", func(c *Config) { c.Storage.Driver = "postgres"; c.Storage.URL = "postgres://sg@db:5432/shop" }, nil},
		{"postgres url not postgres", func(c *Config) { c.Storage.Driver = "postgres"; c.Storage.URL = "mysql://u:secret@db/shop" },
			[]Problem{{"storage.url", `"mysql://u:xxxxx@db/shop" is not a postgres:// or postgresql:// URL`}}},
		{"url without postgres", func(c *Config) { c.Storage.URL = "postgres://db/shop" }, []Problem{{"storage.url", "is set but storage.driver is sqlite"}}},
		{"redis features need state.url", func(c *Config) { c.Features.Store = "redis" }, []Problem{{"features.store", "is redis but state.url names no Redis"}}},
		{"unknown feature store", func(c *Config) { c.Features.Store = "disk" }, []Problem{{"features.store", `"disk" is not memory or redis`}}},
		{"redis features", func(c *Config) { c.Features.Store = "redis"; c.State.URL = "redis://127.0.0.1:6379/0" }, nil},
		{"sqlite needs data dir", func(c *Config) { c.Storage.DataDir = " " }, []Problem{{"storage.data_dir", "is required when storage.driver is sqlite"}}},
		{"synchronous full", func(c *Config) { c.Storage.Synchronous = "full" }, nil},
		{"synchronous off", func(c *Config) { c.Storage.Synchronous = "off" }, []Problem{{"storage.synchronous", `"off" is not one of normal, full`}}},
		{"commit batch bounds", func(c *Config) { c.Storage.CommitBatch = 10000 }, nil},
		{"commit batch zero", func(c *Config) { c.Storage.CommitBatch = 0 }, []Problem{{"storage.commit_batch", "0 is outside 1..10000"}}},
		{"commit batch too big", func(c *Config) { c.Storage.CommitBatch = 10001 }, []Problem{{"storage.commit_batch", "10001 is outside"}}},
		{"commit delay negative", func(c *Config) { c.Storage.CommitDelay = -time.Millisecond }, []Problem{{"storage.commit_delay", "outside 0..10ms"}}},
		{"commit delay too long", func(c *Config) { c.Storage.CommitDelay = time.Second }, []Problem{{"storage.commit_delay", "outside 0..10ms"}}},
		{"snapshot at minimum", func(c *Config) { c.Features.SnapshotInterval = time.Second }, nil},
		{"snapshot too often", func(c *Config) { c.Features.SnapshotInterval = 999 * time.Millisecond }, []Problem{{"features.snapshot_interval", "shorter than the minimum of 1s"}}},
		{"retraining daily", func(c *Config) { c.Models.RetrainInterval = 24 * time.Hour }, nil},
		{"retraining too often", func(c *Config) { c.Models.RetrainInterval = 30 * time.Minute },
			[]Problem{{"models.retrain_interval", "30m0s: use 0 (off) or at least 1h0m0s"}}},
		{"retraining window empty", func(c *Config) { c.Models.RetrainDays = 0 }, []Problem{{"models.retrain_days", "0 is outside 1..3650"}}},
		{"promotion policy", func(c *Config) { c.Models.Promote = "sometimes" },
			[]Problem{{"models.promote", `"sometimes" is not one of if_better, always, never`}}},
		{"threshold 101 disables", func(c *Config) {
			c.Decisions.Thresholds["login"] = risk.Thresholds{Review: 101, Challenge: 101, Block: 101}
		}, nil},
		{"missing kind falls back to defaults", func(c *Config) { delete(c.Decisions.Thresholds, "login") }, nil},
		{"threshold out of range", func(c *Config) {
			c.Decisions.Thresholds["login"] = risk.Thresholds{Review: 50, Challenge: 70, Block: 102}
		},
			[]Problem{{"decisions.thresholds.login", "block threshold 102 is outside 1..101"}}},
		{"thresholds out of order and range", func(c *Config) {
			c.Decisions.Thresholds["signup"] = risk.Thresholds{Review: 0, Challenge: 90, Block: 70}
		},
			[]Problem{{"decisions.thresholds.signup", "review threshold 0"}, {"decisions.thresholds.signup", "review (0) <= challenge (90) <= block (70)"}}},
		{"unknown event kind", func(c *Config) { c.Decisions.Thresholds["refund"] = DefaultThresholds() },
			[]Problem{{"decisions.thresholds.refund", `"refund" is not an event kind`}}},
		{"state url", func(c *Config) { c.State.URL = "http://u:secret@cache:6379" },
			[]Problem{{"state.url", `"http://u:xxxxx@cache:6379" is not a redis:// or rediss:// URL`}}},
		{"state redis url", func(c *Config) { c.State.URL = "rediss://cache:6380/2" }, nil},
		{"state timeout", func(c *Config) { c.State.Timeout = time.Minute }, []Problem{{"state.timeout", "1m0s is outside 1ms..10s"}}},
		{"state prefix", func(c *Config) { c.State.Prefix = "a{b}" }, []Problem{{"state.prefix", "without spaces or braces"}}},
		{"level", func(c *Config) { c.Log.Level = "INFO" }, []Problem{{"log.level", `"INFO" is not one of debug, info, warn, error`}}},
		{"format", func(c *Config) { c.Log.Format = "logfmt" }, []Problem{{"log.format", `"logfmt" is not one of text, json`}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			tc.change(&c)
			err := c.Validate()
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			var got Problems
			if !errors.As(err, &got) {
				t.Fatalf("Validate = %v, want Problems", err)
			}
			if len(got) != len(tc.want) {
				t.Errorf("got %d problems, want %d:\n%v", len(got), len(tc.want), err)
			}
			for _, w := range tc.want {
				if !hasProblem(got, w) {
					t.Errorf("missing problem %s: ...%s...\ngot:\n%v", w.Key, w.Message, err)
				}
			}
			for _, p := range got {
				if strings.Contains(p.Message, "risk: invalid value") {
					t.Errorf("message keeps the risk package prefix: %q", p.Message)
				}
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	var c Config // the zero value breaks nearly every rule
	err := c.Validate()
	var got Problems
	if !errors.As(err, &got) {
		t.Fatalf("Validate = %v, want Problems", err)
	}
	wantKeys := []string{
		"server.addr", "server.read_header_timeout", "server.read_timeout", "server.write_timeout",
		"server.idle_timeout", "server.shutdown_timeout", "server.max_body_bytes", "server.session_ttl", "storage.driver",
		"state.timeout", "state.prefix", "storage.synchronous", "storage.commit_batch", "features.store", "features.snapshot_interval", "models.retrain_days", "models.promote",
		"account.history", "webhooks.timeout", "assistant.llm_timeout", "webhooks.attempts", "webhooks.retention",
		"gateway.addr", "gateway.read_header_timeout", "gateway.idle_timeout", "gateway.body_grace", "gateway.upstream_timeout",
		"gateway.health_interval", "gateway.shutdown_timeout", "gateway.health_timeout", "gateway.min_body_rate",
		"gateway.max_header_bytes", "gateway.max_body_bytes", "gateway.max_conns", "gateway.max_conns_per_ip", "gateway.health_failures",
		"gateway.max_limit_keys",
		"log.level", "log.format",
	}
	if len(got) != len(wantKeys) {
		t.Errorf("got %d problems, want %d:\n%v", len(got), len(wantKeys), err)
	}
	for i, k := range wantKeys {
		if i < len(got) && got[i].Key != k {
			t.Errorf("problem %d is about %s, want %s (stable order)", i, got[i].Key, k)
		}
	}
}

func TestProblemsError(t *testing.T) {
	ps := Problems{
		{Key: "server.addr", Message: "is wrong"},
		{Key: "log.level", Message: "is loud"},
	}
	if got, want := ps.Error(), "server.addr: is wrong\nlog.level: is loud"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	var err error = ps
	if !errors.Is(err, ErrInvalid) {
		t.Error("errors.Is(Problems, ErrInvalid) = false")
	}
	if errors.Is(err, risk.ErrInvalid) {
		t.Error("errors.Is(Problems, risk.ErrInvalid) = true")
	}
	if Default().Validate() != nil {
		t.Error("a valid config returned a non-nil error (typed nil Problems?)")
	}
}
