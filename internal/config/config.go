// Package config holds shopguard's typed configuration: the Config value
// every component receives, the defaults (set in Default and nowhere else),
// Load, which layers a YAML file, SHOPGUARD_* environment variables and
// command-line flags over the defaults, and Validate, which reports every
// problem at once so an operator can fix a configuration in one pass.
package config

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/rules"
)

// Environment variable names with a meaning to shopguard.
const (
	// EnvPrefix starts every environment variable that sets a config key.
	// The variable for a key is EnvName(key), e.g. SHOPGUARD_SERVER_ADDR.
	EnvPrefix = "SHOPGUARD_"
	// EnvConfigFile names the environment variable that holds the path of
	// the config file. The CLI reads it (see FileFromEnv); Load ignores it.
	EnvConfigFile = "SHOPGUARD_CONFIG"
	// EnvTestPrefix starts environment variables that belong to the test
	// harness (e.g. SHOPGUARD_TEST_POSTGRES_URL); Load ignores them.
	EnvTestPrefix = "SHOPGUARD_TEST_"
	// EnvRequireBrowser, set to 1 (CI sets it), makes the browser tests
	// fail instead of skipping when Chromium is missing; Load ignores it.
	EnvRequireBrowser = "SHOPGUARD_REQUIRE_BROWSER"
	// EnvScreenshots names a directory for the browser tests' screenshots; Load ignores it.
	EnvScreenshots = "SHOPGUARD_SCREENSHOTS"
)

// The values the enumerated settings accept.
const (
	// DriverSQLite stores everything in an embedded SQLite database under
	// Storage.DataDir.
	DriverSQLite = "sqlite"
	// DriverMemory keeps everything in memory; nothing survives a restart.
	DriverMemory = "memory"
	// DriverPostgres stores everything in the PostgreSQL database at
	// Storage.URL, which several instances share.
	DriverPostgres = "postgres"

	// SynchronousNormal is SQLite's synchronous=NORMAL: in WAL mode a power
	// loss may lose the last commits but never corrupts the database.
	SynchronousNormal = "normal"
	// SynchronousFull is SQLite's synchronous=FULL: every commit is durable.
	SynchronousFull = "full"

	// FormatText writes human-readable key=value log lines.
	FormatText = "text"
	// FormatJSON writes one JSON object per log line.
	FormatJSON = "json"
)

// Config is shopguard's whole configuration. It is passed down by value;
// Default returns the defaults and Load layers the operator's settings over
// them. A Config from Load has passed Validate.
type Config struct {
	Server    Server    `koanf:"server"`
	Storage   Storage   `koanf:"storage"`
	State     State     `koanf:"state"`
	Features  Features  `koanf:"features"`
	Geo       Geo       `koanf:"geo"`
	Models    Models    `koanf:"models"`
	Account   Account   `koanf:"account"`
	Webhooks  Webhooks  `koanf:"webhooks"`
	Authn     Authn     `koanf:"authn"`
	Assistant Assistant `koanf:"assistant"`
	Decisions Decisions `koanf:"decisions"`
	Gateway   Gateway   `koanf:"gateway"`
	Log       Log       `koanf:"log"`
}

// Server configures the HTTP server that serves the API and the dashboard.
type Server struct {
	// Addr is the host:port to listen on; an empty host listens on every
	// interface.
	Addr string `koanf:"addr"`
	// ReadHeaderTimeout bounds reading a request's headers.
	ReadHeaderTimeout time.Duration `koanf:"read_header_timeout"`
	// ReadTimeout bounds reading a whole request, body included.
	ReadTimeout time.Duration `koanf:"read_timeout"`
	// WriteTimeout bounds writing a response.
	WriteTimeout time.Duration `koanf:"write_timeout"`
	// IdleTimeout bounds how long a keep-alive connection waits for the
	// next request.
	IdleTimeout time.Duration `koanf:"idle_timeout"`
	// ShutdownTimeout bounds how long a graceful shutdown waits for
	// in-flight requests.
	ShutdownTimeout time.Duration `koanf:"shutdown_timeout"`
	// MaxBodyBytes is the largest request body accepted, 1 KiB..64 MiB.
	MaxBodyBytes int64 `koanf:"max_body_bytes"`
	// KeyCacheTTL is how long a verified API key is cached; 0 disables the
	// cache. At most 10 minutes, so a revoked key stops working quickly.
	KeyCacheTTL time.Duration `koanf:"key_cache_ttl"`
	// SessionTTL is how long a dashboard sign-in lasts, 5m..30 days.
	SessionTTL time.Duration `koanf:"session_ttl"`
	// Gateways lists the admin base URLs (gateway.admin_addr) of the
	// gateways the dashboard shows, comma-separated.
	Gateways string `koanf:"gateways"`
}

// Storage configures where shopguard keeps events, decisions and state.
type Storage struct {
	// Driver is DriverSQLite, DriverPostgres or DriverMemory.
	Driver string `koanf:"driver"`
	// URL is the PostgreSQL database for DriverPostgres:
	// postgres://user:password@host:port/db?sslmode=...
	URL string `koanf:"url"`
	// MigrateOnStart applies missing PostgreSQL migrations when an
	// instance starts (under a lock, so instances may start together);
	// false leaves that to `shopguard migrate` and refuses to start on an
	// older schema.
	MigrateOnStart bool `koanf:"migrate_on_start"`
	// DataDir is the directory that holds the database (DriverSQLite) and
	// the files kept beside it: models, the feature snapshot, keys.
	DataDir string `koanf:"data_dir"`
	// Synchronous is SynchronousNormal or SynchronousFull.
	Synchronous string `koanf:"synchronous"`
	// CommitBatch is the largest number of decisions written in one group
	// commit, 1..10000.
	CommitBatch int `koanf:"commit_batch"`
	// CommitDelay is how long the writer waits for more decisions after the
	// first of a group commit, 0..10ms (0 commits at once).
	CommitDelay time.Duration `koanf:"commit_delay"`
}

// State configures where several shopguard instances keep the fast state
// they share (rate limits now; counters and sessions as they move there):
// a Redis. Empty URL: each instance keeps its own, in memory.
type State struct {
	// URL is the Redis: redis://[user:password@]host:port/db, or
	// rediss:// for TLS ("" none).
	URL string `koanf:"url"`
	// MigrateOnStart applies missing PostgreSQL migrations when an
	// instance starts (under a lock, so instances may start together);
	// false leaves that to `shopguard migrate` and refuses to start on an
	// older schema.
	MigrateOnStart bool `koanf:"migrate_on_start"`
	// Timeout bounds each call to it; past it an instance answers from
	// its own state (1ms..10s).
	Timeout time.Duration `koanf:"timeout"`
	// Prefix starts every key shopguard writes there; instances that
	// share state use the same one.
	Prefix string `koanf:"prefix"`
}

// Gateway configures `shopguard gateway`, the reverse proxy in front of
// the shop (internal/gateway says what each limit guards against).
type Gateway struct {
	// Addr is the host:port the gateway listens on.
	Addr string `koanf:"addr"`
	// AdminAddr is the host:port of the gateway's /metrics and /healthz,
	// for operators only ("" none).
	AdminAddr string `koanf:"admin_addr"`
	// Upstream is the shop's base URL; the gateway command requires it.
	Upstream string `koanf:"upstream"`
	// TrustedProxies lists, comma-separated, the CIDRs of proxies in
	// front of the gateway whose X-Forwarded-For is believed.
	TrustedProxies string `koanf:"trusted_proxies"`
	// TLSCert and TLSKey are PEM files; both empty serves plain HTTP.
	TLSCert string `koanf:"tls_cert"`
	TLSKey  string `koanf:"tls_key"`
	// ReadHeaderTimeout, IdleTimeout, BodyGrace and MinBodyRate (bytes/s)
	// keep slow clients from holding connections.
	ReadHeaderTimeout time.Duration `koanf:"read_header_timeout"`
	IdleTimeout       time.Duration `koanf:"idle_timeout"`
	BodyGrace         time.Duration `koanf:"body_grace"`
	MinBodyRate       int           `koanf:"min_body_rate"`
	// MaxHeaderBytes and MaxBodyBytes bound a request.
	MaxHeaderBytes int   `koanf:"max_header_bytes"`
	MaxBodyBytes   int64 `koanf:"max_body_bytes"`
	// MaxConns and MaxConnsPerIP cap open connections.
	MaxConns      int `koanf:"max_conns"`
	MaxConnsPerIP int `koanf:"max_conns_per_ip"`
	// UpstreamTimeout bounds the wait for the shop's response headers.
	UpstreamTimeout time.Duration `koanf:"upstream_timeout"`
	// HealthPath ("" none), HealthInterval, HealthTimeout, HealthFailures
	// configure the active health check of the shop.
	HealthPath      string        `koanf:"health_path"`
	HealthInterval  time.Duration `koanf:"health_interval"`
	HealthTimeout   time.Duration `koanf:"health_timeout"`
	HealthFailures  int           `koanf:"health_failures"`
	ShutdownTimeout time.Duration `koanf:"shutdown_timeout"`
	// PolicyFile is the YAML file of rate limits per route ("" none);
	// MaxLimitKeys the most client keys the limits keep at once.
	PolicyFile   string `koanf:"policy_file"`
	MaxLimitKeys int    `koanf:"max_limit_keys"`
	// ChallengeSecretFile holds the secret that signs challenges and
	// clearances ("" = a random one per start); gateways sharing it accept
	// each other's clearances.
	ChallengeSecretFile string `koanf:"challenge_secret_file"`
	// RiskURL is the shopguard API protected routes send sign-ins and
	// posts to ("" none), RiskKeyFile the file of its API key and
	// RiskTimeout the longest a call may take (the request then passes).
	RiskURL     string        `koanf:"risk_url"`
	RiskKeyFile string        `koanf:"risk_key_file"`
	RiskTimeout time.Duration `koanf:"risk_timeout"`
	// DecisionLog is the file the gateway appends a JSON line to for each
	// request it refuses, challenges, blocks or sheds ("" none, "-"
	// standard output).
	DecisionLog string `koanf:"decision_log"`
	// BotModel is the bot score's model: "" the built-in one (trained on
	// simulated traffic by shopguard train traffic), "off" none, else a
	// model file.
	BotModel string `koanf:"bot_model"`
}

// Features configures the feature store.
type Features struct {
	// Store is where the feature store's counters live: FeaturesMemory
	// (each instance in its own memory, snapshotted to disk) or
	// FeaturesRedis (in the Redis of state.url, shared by every instance).
	Store string `koanf:"store"`
	// SnapshotInterval is how often the in-memory feature store is
	// persisted; at least one second.
	SnapshotInterval time.Duration `koanf:"snapshot_interval"`
}

// The feature stores (features.store).
const (
	// FeaturesMemory keeps each instance's counters in its own memory;
	// with storage.driver postgres, instances count each other's
	// decisions by following the shared event log (within a second).
	FeaturesMemory = "memory"
	// FeaturesRedis keeps the counters in the Redis of state.url, where
	// every instance reads what the others observed at once.
	FeaturesRedis = "redis"
)

// Geo names the IP geolocation databases (MaxMind-format .mmdb files the
// operator downloads: GeoLite2-Country/City/ASN or the CC0 ip-location-db
// files). Empty paths mean no geolocation: IP country and network owner
// stay unknown.
type Geo struct {
	// CountryDB gives each IP address its country; a city database
	// (GeoLite2-City, ip-location-db's city file) also gives its city and
	// coordinates, which impossible-travel detection needs.
	CountryDB string `koanf:"country_db"`
	// ASNDB gives each IP address its autonomous system (network owner).
	ASNDB string `koanf:"asn_db"`
}

// Paths returns the configured database paths.
func (g Geo) Paths() []string {
	var out []string
	for _, p := range []string{g.CountryDB, g.ASNDB} {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Models configures where trained models live and their scheduled
// retraining.
type Models struct {
	// Dir is the directory of trained models; empty: "models" under
	// Storage.DataDir. Instances sharing a PostgreSQL share it (a shared
	// volume), so that a model trained or promoted on one serves on all.
	Dir string `koanf:"dir"`
	// RetrainInterval is how often serve retrains every tenant's model on
	// its labelled decisions; 0 disables it (at least 1h otherwise).
	RetrainInterval time.Duration `koanf:"retrain_interval"`
	// RetrainDays is how many days of decisions a retraining learns from.
	RetrainDays int `koanf:"retrain_days"`
	// Promote says what becomes of a retrained model: PromoteIfBetter,
	// PromoteAlways or PromoteNever (it scores in shadow as the challenger).
	Promote string `koanf:"promote"`
}

// Account configures account protection.
type Account struct {
	// History is how far back a customer's confirmed sign-ins count for
	// the login-risk model (Wiefling et al. found six months enough);
	// MinHistory..MaxHistory.
	History time.Duration `koanf:"history"`
	// ReputationLists is the login-risk model's reputation table: the
	// tenant's IP or device lists of attack sources with how many times
	// likelier a sign-in from a listed address, network or device is an
	// attacker's, as "name=factor" pairs separated by commas
	// ("tor-exits=30,known-proxies=10"); factors 1..1000. Use
	// ReputationTable to read it.
	ReputationLists string `koanf:"reputation_lists"`
}

// ReputationTable parses ReputationLists (nil when empty). Validate
// reports what it cannot parse.
func (a Account) ReputationTable() (map[string]float64, error) {
	if strings.TrimSpace(a.ReputationLists) == "" {
		return nil, nil
	}
	table := map[string]float64{}
	for _, pair := range strings.Split(a.ReputationLists, ",") {
		name, val, ok := strings.Cut(strings.TrimSpace(pair), "=")
		name = strings.TrimSpace(name)
		if !ok || !rules.ValidName(name) {
			return nil, fmt.Errorf("%q: want name=factor with a list name of a-z, 0-9, _ and - (up to 64, starting with a letter or digit)", pair)
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil || !(f >= 1 && f <= 1000) {
			return nil, fmt.Errorf("%q: the factor must be a number in 1..1000", pair)
		}
		if _, dup := table[name]; dup {
			return nil, fmt.Errorf("list %q appears twice", name)
		}
		table[name] = f
	}
	return table, nil
}

// Webhooks configures the delivery of notifications to shops' endpoints.
type Webhooks struct {
	// Timeout bounds one delivery attempt (1s..60s).
	Timeout time.Duration `koanf:"timeout"`
	// Attempts is how many times a notification is tried (1..30).
	Attempts int `koanf:"attempts"`
	// Retention is how long finished deliveries are kept (24h..8760h).
	Retention time.Duration `koanf:"retention"`
	// AllowHTTP lets endpoints use plain http:// on any host.
	AllowHTTP bool `koanf:"allow_http"`
}

// Assistant configures the support assistant.
type Assistant struct {
	// AnswersFile is a YAML file of the shop's own answers to the
	// questions that need only words, by intent (order_status,
	// return_refund, cancel_order, shipping_info, payment_problem,
	// account_security, goodbye); empty: generic answers.
	AnswersFile string `koanf:"answers_file"`
	// LLMURL is an OpenAI-compatible API ("http://127.0.0.1:8000/v1")
	// whose model words the answers to questions that need only words,
	// from the shop's answers; empty (the default): none. It is never
	// asked about identity, phishing or anything sensitive.
	LLMURL string `koanf:"llm_url"`
	// LLMModel names its model; LLMKeyFile holds its bearer key, if any.
	LLMModel   string `koanf:"llm_model"`
	LLMKeyFile string `koanf:"llm_key_file"`
	// LLMTimeout bounds one answer (100ms..1m); past it the shop's answer
	// is given.
	LLMTimeout time.Duration `koanf:"llm_timeout"`
}

// Authn configures strong customer authentication.
type Authn struct {
	// KeyFile holds the key (64 hex characters) that seals customers'
	// authenticator-app secrets at rest. Empty: authn.key in the data
	// directory, made on the first start (with memory storage, a new key
	// each start). Instances sharing a database must share the key.
	KeyFile string `koanf:"key_file"`
	// PublicURL is where customers' browsers reach shopguard's hosted
	// step-up and enrolment pages (https://auth.shop.example, through the
	// gateway or a reverse proxy). Empty: links are given as paths for the
	// shop to put behind its own origin.
	PublicURL string `koanf:"public_url"`
}

// Bounds of Account.History: the feature store's longest window, and 400
// days.
const (
	MinHistory = 30 * 24 * time.Hour
	MaxHistory = 400 * 24 * time.Hour
)

// Promotion policies for retrained models.
const (
	// PromoteIfBetter makes the new model the champion when its average
	// precision on the newest labelled decisions is at least the
	// champion's on the same decisions; otherwise it becomes the challenger.
	PromoteIfBetter = "if_better"
	PromoteAlways   = "always"
	PromoteNever    = "never"
)

// Decisions configures how scores become actions.
type Decisions struct {
	// Thresholds maps an event kind (a name risk.ParseEventKind accepts) to
	// the thresholds that turn its scores into actions. Use For to read it.
	Thresholds map[string]risk.Thresholds `koanf:"thresholds"`
}

// Log configures logging.
type Log struct {
	// Level is "debug", "info", "warn" or "error".
	Level string `koanf:"level"`
	// Format is FormatText or FormatJSON.
	Format string `koanf:"format"`
}

// Default returns the default configuration. It is the one place defaults
// live; every call returns a fresh value (its map is not shared).
func Default() Config {
	thresholds := make(map[string]risk.Thresholds, len(risk.EventKinds))
	for _, k := range risk.EventKinds {
		thresholds[string(k)] = DefaultThresholds()
	}
	return Config{
		Server: Server{
			Addr:              "127.0.0.1:8080",
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       15 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       120 * time.Second,
			ShutdownTimeout:   30 * time.Second,
			MaxBodyBytes:      1 << 20,
			KeyCacheTTL:       10 * time.Second,
			SessionTTL:        12 * time.Hour,
		},
		Storage: Storage{
			Driver:         DriverSQLite,
			MigrateOnStart: true,
			DataDir:        "./shopguard-data",
			Synchronous:    SynchronousNormal,
			CommitBatch:    256,
			CommitDelay:    time.Millisecond,
		},
		State: State{
			Timeout: 50 * time.Millisecond,
			Prefix:  "shopguard:",
		},
		Features: Features{
			Store:            FeaturesMemory,
			SnapshotInterval: 5 * time.Minute,
		},
		Models: Models{
			RetrainDays: 90,
			Promote:     PromoteIfBetter,
		},
		Account:   Account{History: 180 * 24 * time.Hour},
		Webhooks:  Webhooks{Timeout: 10 * time.Second, Attempts: 12, Retention: 30 * 24 * time.Hour},
		Assistant: Assistant{LLMTimeout: 5 * time.Second},
		Decisions: Decisions{Thresholds: thresholds},
		Gateway: Gateway{
			Addr:              "127.0.0.1:8000",
			AdminAddr:         "127.0.0.1:8001",
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       90 * time.Second,
			BodyGrace:         10 * time.Second,
			MinBodyRate:       512,
			MaxHeaderBytes:    32 << 10,
			MaxBodyBytes:      16 << 20,
			MaxConns:          10000,
			MaxConnsPerIP:     64,
			UpstreamTimeout:   60 * time.Second,
			HealthInterval:    5 * time.Second,
			HealthTimeout:     2 * time.Second,
			HealthFailures:    3,
			ShutdownTimeout:   30 * time.Second,
			MaxLimitKeys:      100000,
			RiskTimeout:       500 * time.Millisecond,
		},
		Log: Log{
			Level:  "info",
			Format: FormatText,
		},
	}
}

// DefaultThresholds returns the thresholds every event kind gets unless the
// configuration says otherwise: review at 50, challenge at 70, block at 90.
func DefaultThresholds() risk.Thresholds {
	return risk.Thresholds{Review: 50, Challenge: 70, Block: 90}
}

// For returns the thresholds for kind, or DefaultThresholds when the map
// has no entry for it (a Config from Load always has an entry for every
// kind in risk.EventKinds).
func (d Decisions) For(kind risk.EventKind) risk.Thresholds {
	if t, ok := d.Thresholds[string(kind)]; ok {
		return t
	}
	return DefaultThresholds()
}

// SlogLevel returns the slog level named by Log.Level, or slog.LevelInfo
// when the name is not one Validate accepts.
func (c Config) SlogLevel() slog.Level {
	switch c.Log.Level {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// FileFromEnv returns the config file path that env (as os.Environ returns
// it) gives in EnvConfigFile, or "" when the variable is unset. When the
// variable appears more than once the last occurrence wins.
func FileFromEnv(env []string) string {
	path := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, EnvConfigFile+"="); ok {
			path = v
		}
	}
	return path
}
