package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/shopguard/shopguard/internal/risk"
)

func fixture(name string) string { return filepath.Join("testdata", name) }

// testFlags returns a flag set like the CLI's, parsed from args. Its flag
// defaults differ from the config defaults on purpose: an unset flag must
// never override anything.
func testFlags(t *testing.T, args ...string) *pflag.FlagSet {
	t.Helper()
	fset := pflag.NewFlagSet("test", pflag.ContinueOnError)
	fset.String("config", "", "config file")
	fset.String("addr", "0.0.0.0:1", "listen address")
	fset.String("data", "/nowhere", "data directory")
	fset.Int64("max-body", 7, "max body bytes")
	fset.Duration("read-timeout", time.Hour, "read timeout")
	fset.Int("commit-batch", 3, "commit batch")
	fset.String("level", "error", "log level")
	fset.Int("login-block", 1, "login block threshold")
	if err := fset.Parse(args); err != nil {
		t.Fatalf("parsing flags %v: %v", args, err)
	}
	return fset
}

func testFlagKeys() map[string]string {
	return map[string]string{
		"addr":         "server.addr",
		"data":         "storage.data_dir",
		"max-body":     "server.max_body_bytes",
		"read-timeout": "server.read_timeout",
		"commit-batch": "storage.commit_batch",
		"level":        "log.level",
		"login-block":  "decisions.thresholds.login.block",
	}
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name  string
		file  string
		env   []string
		flags []string // nil means no flag set at all
		want  func(c *Config)
	}{
		{name: "defaults without sources", want: func(*Config) {}},
		{name: "empty file", file: "empty.yaml", want: func(*Config) {}},
		{
			name: "file overrides",
			file: "overrides.yaml",
			want: func(c *Config) {
				c.Server.Addr = ":9090"
				c.Server.ReadTimeout = 20 * time.Second
				c.Server.IdleTimeout = 90 * time.Second
				c.Server.MaxBodyBytes = 2048
				c.Server.KeyCacheTTL = 0
				c.Storage = Storage{Driver: "memory", DataDir: "", Synchronous: "full", CommitBatch: 512, CommitDelay: time.Millisecond, MigrateOnStart: true}
				c.Features.SnapshotInterval = time.Minute
				c.Log = Log{Level: "debug", Format: "json"}
			},
		},
		{
			name: "partial thresholds keep the other defaults",
			file: "partial_thresholds.yaml",
			want: func(c *Config) {
				c.Decisions.Thresholds["login"] = risk.Thresholds{Review: 50, Challenge: 70, Block: 95}
				c.Decisions.Thresholds["transaction"] = risk.Thresholds{Review: 40, Challenge: 60, Block: 90}
			},
		},
		{
			name: "env overrides",
			env: []string{
				"HOME=/root",
				"NOT_AN_ASSIGNMENT",
				"SHOPGUARD_SERVER_ADDR=:8181",
				"SHOPGUARD_SERVER_MAX_BODY_BYTES=4096",
				"SHOPGUARD_SERVER_READ_TIMEOUT=1m30s",
				"SHOPGUARD_SERVER_KEY_CACHE_TTL=0s",
				"SHOPGUARD_STORAGE_COMMIT_BATCH= 100 ",
				"SHOPGUARD_STORAGE_DATA_DIR=/var/lib/shop=guard",
				"SHOPGUARD_DECISIONS_THRESHOLDS_TRANSACTION_REVIEW=30",
				"SHOPGUARD_LOG_FORMAT=json",
			},
			want: func(c *Config) {
				c.Server.Addr = ":8181"
				c.Server.MaxBodyBytes = 4096
				c.Server.ReadTimeout = 90 * time.Second
				c.Server.KeyCacheTTL = 0
				c.Storage.CommitBatch = 100
				c.Storage.DataDir = "/var/lib/shop=guard"
				c.Decisions.Thresholds["transaction"] = risk.Thresholds{Review: 30, Challenge: 70, Block: 90}
				c.Log.Format = "json"
			},
		},
		{
			name: "reserved and foreign env vars are ignored",
			env: []string{
				"SHOPGUARD_CONFIG=/etc/shopguard.yaml",
				"SHOPGUARD_TEST_POSTGRES_URL=postgres://localhost/test",
				"SHOPGUARD_TEST_REDIS_URL=redis://localhost",
				"SHOPGUARD_REQUIRE_BROWSER=1",
				"SHOPGUARD_SCREENSHOTS=/tmp/shots",
				"shopguard_server_addr=:1",
				"OTHER_SHOPGUARD_SERVER_ADDR=:1",
			},
			want: func(*Config) {},
		},
		{
			name: "env overrides file",
			file: "precedence.yaml",
			env:  []string{"SHOPGUARD_SERVER_ADDR=:8000"},
			want: func(c *Config) {
				c.Server.Addr = ":8000"
				c.Server.ReadTimeout = 20 * time.Second
				c.Server.MaxBodyBytes = 4096
				c.Log.Level = "warn"
			},
		},
		{
			name:  "flags override",
			flags: []string{"--addr", ":6000", "--max-body=8192", "--read-timeout", "45s", "--commit-batch", "64", "--login-block", "99", "--data", "/var/sg"},
			want: func(c *Config) {
				c.Server.Addr = ":6000"
				c.Server.MaxBodyBytes = 8192
				c.Server.ReadTimeout = 45 * time.Second
				c.Storage.CommitBatch = 64
				c.Storage.DataDir = "/var/sg"
				c.Decisions.Thresholds["login"] = risk.Thresholds{Review: 50, Challenge: 70, Block: 99}
			},
		},
		{
			name:  "unset and unmapped flags change nothing",
			flags: []string{"--config", "other.yaml"},
			want:  func(*Config) {},
		},
		{
			name:  "defaults < file < env < flags",
			file:  "precedence.yaml",
			env:   []string{"SHOPGUARD_SERVER_ADDR=:8000", "SHOPGUARD_SERVER_MAX_BODY_BYTES=5000", "SHOPGUARD_LOG_LEVEL=error"},
			flags: []string{"--addr=:9000"},
			want: func(c *Config) {
				c.Server.Addr = ":9000"                 // flag beats env and file
				c.Server.MaxBodyBytes = 5000            // env beats file
				c.Server.ReadTimeout = 20 * time.Second // file beats default
				c.Log.Level = "error"                   // env beats file
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := Options{Env: tc.env}
			if tc.file != "" {
				opts.File = fixture(tc.file)
			}
			if tc.flags != nil {
				opts.Flags = testFlags(t, tc.flags...)
				opts.FlagKeys = testFlagKeys()
			}
			got, err := Load(opts)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			want := Default()
			tc.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Load =\n%s\nwant\n%s", got.YAML(), want.YAML())
			}
		})
	}
}

func TestLoadProblems(t *testing.T) {
	tests := []struct {
		name     string
		file     string
		env      []string
		flags    []string
		flagKeys map[string]string
		want     []Problem // Message is a substring of the reported message
	}{
		{
			name: "unknown file keys",
			file: "unknown_keys.yaml",
			want: []Problem{
				{"server.adress", "unknown key; did you mean server.addr? [from file testdata/unknown_keys.yaml]"},
				{"decisions.thresholds.foo.review", `"foo" is not an event kind; known kinds: transaction, login`},
				{"decisions.thresholds.logn.block", "did you mean decisions.thresholds.login?"},
				{"decisions.thresholds.login.reveiw", "did you mean decisions.thresholds.login.review?"},
			},
		},
		{
			name: "bad types in file",
			file: "bad_types.yaml",
			want: []Problem{
				{"server.addr", "must be a string, got the number 8080"},
				{"server.max_body_bytes", `"abc" is not an integer [from file testdata/bad_types.yaml]`},
				{"server.read_timeout", `"5 minutes" is not a duration`},
				{"server.write_timeout", "must be a duration with a unit"},
				{"storage.commit_batch", "1.5 is not an integer"},
				{"features", "is a section, not a value"},
				{"log.level", "must be a string, got a list"},
			},
		},
		{
			name: "unknown env vars",
			env:  []string{"SHOPGUARD_SERVER_ADRESS=:1", "SHOPGUARD_BOGUS=1", "SHOPGUARD_server_addr=:1"},
			want: []Problem{
				{"SHOPGUARD_SERVER_ADRESS", "unknown environment variable; did you mean SHOPGUARD_SERVER_ADDR?"},
				{"SHOPGUARD_BOGUS", "unknown environment variable (besides config keys only SHOPGUARD_CONFIG, SHOPGUARD_REQUIRE_BROWSER, SHOPGUARD_SCREENSHOTS and SHOPGUARD_TEST_* are allowed)"},
				{"SHOPGUARD_server_addr", "did you mean SHOPGUARD_SERVER_ADDR?"},
			},
		},
		{
			name: "bad types in env",
			env: []string{
				"SHOPGUARD_SERVER_MAX_BODY_BYTES=abc",
				"SHOPGUARD_FEATURES_SNAPSHOT_INTERVAL=5 minutes",
				"SHOPGUARD_STORAGE_COMMIT_BATCH=",
				"SHOPGUARD_DECISIONS_THRESHOLDS_LOGIN_BLOCK=high",
			},
			want: []Problem{
				{"server.max_body_bytes", `"abc" is not an integer [from environment variable SHOPGUARD_SERVER_MAX_BODY_BYTES]`},
				{"features.snapshot_interval", `"5 minutes" is not a duration`},
				{"storage.commit_batch", `"" is not an integer`},
				{"decisions.thresholds.login.block", `"high" is not an integer`},
			},
		},
		{
			name:     "validation problems name their source",
			env:      []string{"SHOPGUARD_STORAGE_COMMIT_BATCH=0", "SHOPGUARD_DECISIONS_THRESHOLDS_LOGIN_REVIEW=80"},
			flags:    []string{"--max-body", "10"},
			flagKeys: testFlagKeys(),
			want: []Problem{
				{"server.max_body_bytes", "10 is outside 1024..67108864 (1 KiB..64 MiB) [from flag --max-body]"},
				{"storage.commit_batch", "0 is outside 1..10000 [from environment variable SHOPGUARD_STORAGE_COMMIT_BATCH]"},
				{"decisions.thresholds.login", "review (80) <= challenge (70) <= block (90) [from environment variable SHOPGUARD_DECISIONS_THRESHOLDS_LOGIN_REVIEW]"},
			},
		},
		{
			name:     "several problems at once",
			file:     "many_problems.yaml",
			env:      []string{"SHOPGUARD_NOPE=1", "SHOPGUARD_LOG_FORMAT=xml"},
			flags:    []string{"--read-timeout=-1s"},
			flagKeys: testFlagKeys(),
			want: []Problem{
				{"server.adress", "did you mean server.addr?"},
				{"server.read_timeout", `"soon" is not a duration`},
				{"SHOPGUARD_NOPE", "unknown environment variable"},
				{"server.read_timeout", "must be a positive duration, got -1s [from flag --read-timeout]"},
				{"server.max_body_bytes", "10 is outside"},
				{"storage.commit_batch", "0 is outside 1..10000 [from file testdata/many_problems.yaml]"},
				{"decisions.thresholds.login", "review (80) <= challenge (70)"},
				{"log.level", `"loud" is not one of debug, info, warn, error`},
				{"log.format", `"xml" is not one of text, json [from environment variable SHOPGUARD_LOG_FORMAT]`},
			},
		},
		{
			name:     "flag mapped to an unknown key",
			flags:    []string{},
			flagKeys: map[string]string{"addr": "server.adres"},
			want:     []Problem{{"server.adres", "flag --addr maps to an unknown config key"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := Options{Env: tc.env, FlagKeys: tc.flagKeys}
			if tc.file != "" {
				opts.File = fixture(tc.file)
			}
			if tc.flags != nil {
				opts.Flags = testFlags(t, tc.flags...)
			}
			_, err := Load(opts)
			var got Problems
			if !errors.As(err, &got) {
				t.Fatalf("Load error = %v, want Problems", err)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("errors.Is(err, ErrInvalid) = false")
			}
			if len(got) != len(tc.want) {
				t.Errorf("got %d problems, want %d:\n%v", len(got), len(tc.want), err)
			}
			for _, w := range tc.want {
				if !hasProblem(got, w) {
					t.Errorf("missing problem %s: ...%s...\ngot:\n%v", w.Key, w.Message, err)
				}
			}
		})
	}
}

// hasProblem reports whether ps holds a problem with want's key whose
// message contains want's message.
func hasProblem(ps Problems, want Problem) bool {
	for _, p := range ps {
		if p.Key == want.Key && strings.Contains(p.Message, want.Message) {
			return true
		}
	}
	return false
}

func TestLoadFileErrors(t *testing.T) {
	tests := []struct {
		name     string
		file     string
		notExist bool
	}{
		{"missing file", fixture("does_not_exist.yaml"), true},
		{"malformed YAML", fixture("malformed.yaml"), false},
		{"not a mapping", fixture("not_a_mapping.yaml"), false},
		{"a directory", "testdata", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Load(Options{File: tc.file})
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			if errors.Is(err, ErrInvalid) {
				t.Errorf("error %v is a Problems error, want an I/O or parse error", err)
			}
			if !strings.Contains(err.Error(), tc.file) {
				t.Errorf("error %q does not name the path %s", err, tc.file)
			}
			if got := errors.Is(err, fs.ErrNotExist); got != tc.notExist {
				t.Errorf("errors.Is(err, fs.ErrNotExist) = %v, want %v", got, tc.notExist)
			}
			if !reflect.DeepEqual(cfg, Config{}) {
				t.Errorf("Config with an I/O error = %+v, want the zero value", cfg)
			}
		})
	}
}

func FuzzLoadFile(f *testing.F) {
	for _, name := range []string{"overrides.yaml", "partial_thresholds.yaml", "unknown_keys.yaml", "bad_types.yaml", "many_problems.yaml"} {
		b, err := os.ReadFile(fixture(name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(Sample()))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "config.yaml")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := Load(Options{File: path})
		var ps Problems
		switch {
		case err == nil:
			if verr := cfg.Validate(); verr != nil {
				t.Fatalf("Load accepted a config that Validate rejects: %v", verr)
			}
		case errors.As(err, &ps):
			for _, p := range ps {
				if p.Key == "" || p.Message == "" {
					t.Fatalf("problem with an empty key or message: %+v", p)
				}
			}
		}
	})
}
