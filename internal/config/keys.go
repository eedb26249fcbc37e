package config

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopguard/shopguard/internal/risk"
)

// thresholdsKey is the section under which each event kind has its
// thresholds, e.g. decisions.thresholds.login.block.
const thresholdsKey = "decisions.thresholds"

// kind is the type of a config key's value.
type kind int

const (
	kindString kind = iota
	kindInt
	kindInt64
	kindDuration
	kindBool
)

// field describes one dotted config key: its type, its documentation (used
// by Sample) and how to read and write it in a Config.
type field struct {
	key  string
	kind kind
	doc  string
	get  func(*Config) any
	set  func(*Config, any)
}

// fields returns every config key in the order Sample prints them. The
// table is built on each call so that no package state can be mutated.
func fields() []field {
	fs := []field{
		stringField("server.addr", "Address to listen on, host:port; an empty host listens on all interfaces.",
			func(c *Config) *string { return &c.Server.Addr }),
		durationField("server.read_header_timeout", "Time allowed to read a request's headers.",
			func(c *Config) *time.Duration { return &c.Server.ReadHeaderTimeout }),
		durationField("server.read_timeout", "Time allowed to read a whole request, body included.",
			func(c *Config) *time.Duration { return &c.Server.ReadTimeout }),
		durationField("server.write_timeout", "Time allowed to write a response.",
			func(c *Config) *time.Duration { return &c.Server.WriteTimeout }),
		durationField("server.idle_timeout", "Time a keep-alive connection may wait for its next request.",
			func(c *Config) *time.Duration { return &c.Server.IdleTimeout }),
		durationField("server.shutdown_timeout", "Time a graceful shutdown waits for in-flight requests.",
			func(c *Config) *time.Duration { return &c.Server.ShutdownTimeout }),
		int64Field("server.max_body_bytes", "Largest request body accepted, in bytes (1024..67108864).",
			func(c *Config) *int64 { return &c.Server.MaxBodyBytes }),
		durationField("server.key_cache_ttl", "How long a verified API key is cached; 0 disables the cache; at most 10m.",
			func(c *Config) *time.Duration { return &c.Server.KeyCacheTTL }),
		stringField("server.gateways", "Comma-separated admin URLs of shopguard gateways (their gateway.admin_addr, e.g. http://127.0.0.1:8001) the dashboard's Gateway page shows; empty: none.",
			func(c *Config) *string { return &c.Server.Gateways }),
		durationField("server.session_ttl", "How long a dashboard sign-in lasts (5m..720h).",
			func(c *Config) *time.Duration { return &c.Server.SessionTTL }),
		stringField("storage.driver", "Storage backend: sqlite (one machine), postgres (several instances share storage.url) or memory (nothing survives a restart).",
			func(c *Config) *string { return &c.Storage.Driver }),
		stringField("storage.url", "PostgreSQL database for the postgres driver: postgres://user:password@host:port/db (pool size: ?pool_max_conns=N). Migrations are applied on start; see `shopguard migrate`.",
			func(c *Config) *string { return &c.Storage.URL }),
		boolField("storage.migrate_on_start", "Apply missing PostgreSQL migrations when an instance starts (default true); false: run `shopguard migrate` before starting new versions.",
			func(c *Config) *bool { return &c.Storage.MigrateOnStart }),
		stringField("storage.data_dir", "Directory that holds the SQLite database and, for every driver but memory, the files kept beside it (models, keys).",
			func(c *Config) *string { return &c.Storage.DataDir }),
		stringField("storage.synchronous", "SQLite durability: normal (may lose the last commits on power loss) or full.",
			func(c *Config) *string { return &c.Storage.Synchronous }),
		intField("storage.commit_batch", "Most decisions written in one group commit (1..10000).",
			func(c *Config) *int { return &c.Storage.CommitBatch }),
		durationField("storage.commit_delay", "How long a group commit waits for more decisions (0..10ms); batching cuts bytes written per decision.",
			func(c *Config) *time.Duration { return &c.Storage.CommitDelay }),
		stringField("state.url", "Redis that instances share fast state through (gateway rate limits, the assistant's conversations): redis://[user:password@]host:port/db or rediss:// for TLS. Empty: each instance keeps its own in memory.",
			func(c *Config) *string { return &c.State.URL }),
		durationField("state.timeout", "Longest wait for Redis per call (1ms..10s); past it, and while Redis is down, an instance answers from its own state.",
			func(c *Config) *time.Duration { return &c.State.Timeout }),
		stringField("state.prefix", "Start of every key shopguard writes to Redis; instances that share state use the same prefix.",
			func(c *Config) *string { return &c.State.Prefix }),
		stringField("features.store", "Where the feature store's counters live: memory (each instance its own, snapshotted to disk; with storage.driver postgres instances count each other's decisions from the shared log within a second) or redis (in the Redis of state.url, shared by every instance at once; one round trip per decision).",
			func(c *Config) *string { return &c.Features.Store }),
		durationField("features.snapshot_interval", "How often the in-memory feature store is persisted (at least 1s).",
			func(c *Config) *time.Duration { return &c.Features.SnapshotInterval }),
		stringField("geo.country_db", "MaxMind-format .mmdb file giving IP countries (GeoLite2-Country, or GeoLite2-City or ip-location-db's city file, which also give cities and coordinates for impossible-travel detection); empty: none.",
			func(c *Config) *string { return &c.Geo.CountryDB }),
		stringField("geo.asn_db", "MaxMind-format .mmdb file giving IP networks' owners (GeoLite2-ASN or ip-location-db's asn file); empty: none.",
			func(c *Config) *string { return &c.Geo.ASNDB }),
		stringField("models.dir", "Directory of trained models; empty: in the database with storage.driver postgres (shared by every instance), else models/ under storage.data_dir. Instances sharing a models.dir must share it as a volume.",
			func(c *Config) *string { return &c.Models.Dir }),
		durationField("models.retrain_interval", "How often serve retrains each tenant's transaction model on its labelled decisions; 0 disables (at least 1h).",
			func(c *Config) *time.Duration { return &c.Models.RetrainInterval }),
		intField("models.retrain_days", "Days of decisions a retraining learns from (1..3650).",
			func(c *Config) *int { return &c.Models.RetrainDays }),
		stringField("models.promote", "What a retrained model becomes: if_better (champion when its average precision on the newest decisions matches or beats the champion's, else challenger), always, or never (challenger).",
			func(c *Config) *string { return &c.Models.Promote }),
		durationField("account.history", "How far back a customer's confirmed sign-ins count for the login-risk model (720h..9600h, i.e. 30..400 days; default 4320h, six months).",
			func(c *Config) *time.Duration { return &c.Account.History }),
		stringField("account.reputation_lists", "The login-risk model's reputation table: IP or device lists of attack sources (create them per tenant) and how many times likelier a sign-in from a listed source is an attacker's, e.g. \"tor-exits=30,known-proxies=10\" (factors 1..1000); empty: none.",
			func(c *Config) *string { return &c.Account.ReputationLists }),
		durationField("webhooks.timeout", "How long one webhook delivery attempt may take (1s..60s).",
			func(c *Config) *time.Duration { return &c.Webhooks.Timeout }),
		intField("webhooks.attempts", "How many times a notification is tried before it is given up (1..30; default 12, spread over about two days).",
			func(c *Config) *int { return &c.Webhooks.Attempts }),
		durationField("webhooks.retention", "How long delivered and given-up notifications are kept for the delivery log (24h..8760h).",
			func(c *Config) *time.Duration { return &c.Webhooks.Retention }),
		boolField("webhooks.allow_http", "Let webhook endpoints use plain http:// on any host (default false: https only, http only on loopback).",
			func(c *Config) *bool { return &c.Webhooks.AllowHTTP }),
		stringField("authn.key_file", "File with the key (64 hex characters) that seals customers' authenticator-app secrets; empty: authn.key in storage.data_dir, made on the first start. Instances sharing a database must share it.",
			func(c *Config) *string { return &c.Authn.KeyFile }),
		stringField("authn.public_url", "Where customers' browsers reach shopguard's hosted step-up and enrolment pages (e.g. https://auth.shop.example); empty: links are paths under /stepup/ for the shop to serve from its own origin.",
			func(c *Config) *string { return &c.Authn.PublicURL }),
		stringField("assistant.answers_file", "YAML file of the shop's own answers for the support assistant, by intent (order_status, return_refund, cancel_order, shipping_info, payment_problem, account_security, goodbye: \"text\"); empty: generic answers.",
			func(c *Config) *string { return &c.Assistant.AnswersFile }),
		stringField("assistant.llm_url", "OpenAI-compatible API (e.g. http://127.0.0.1:8000/v1 of a local llama.cpp, vLLM or Ollama) whose model words the assistant's answers to questions that need only words, from the shop's answers; never asked about identity, phishing or anything sensitive. Empty: off.",
			func(c *Config) *string { return &c.Assistant.LLMURL }),
		stringField("assistant.llm_model", "The model's name at assistant.llm_url.",
			func(c *Config) *string { return &c.Assistant.LLMModel }),
		stringField("assistant.llm_key_file", "File with the bearer key of assistant.llm_url, if it needs one.",
			func(c *Config) *string { return &c.Assistant.LLMKeyFile }),
		durationField("assistant.llm_timeout", "Longest wait for the model's answer (100ms..1m); past it the shop's own answer is given.",
			func(c *Config) *time.Duration { return &c.Assistant.LLMTimeout }),
	}
	for _, k := range risk.EventKinds {
		fs = append(fs,
			thresholdField(string(k), "review", func(t *risk.Thresholds) *int { return &t.Review }),
			thresholdField(string(k), "challenge", func(t *risk.Thresholds) *int { return &t.Challenge }),
			thresholdField(string(k), "block", func(t *risk.Thresholds) *int { return &t.Block }),
		)
	}
	fs = append(fs,
		stringField("gateway.addr", "Address the gateway listens on, host:port.",
			func(c *Config) *string { return &c.Gateway.Addr }),
		stringField("gateway.admin_addr", "Address of the gateway's /metrics and /healthz, host:port, for operators only; empty: none.",
			func(c *Config) *string { return &c.Gateway.AdminAddr }),
		stringField("gateway.upstream", "The shop's base URL (http or https); required by shopguard gateway.",
			func(c *Config) *string { return &c.Gateway.Upstream }),
		stringField("gateway.trusted_proxies", "Comma-separated CIDRs of proxies in front of the gateway whose X-Forwarded-For is believed; empty: none.",
			func(c *Config) *string { return &c.Gateway.TrustedProxies }),
		stringField("gateway.tls_cert", "PEM certificate file; with gateway.tls_key the gateway serves HTTPS (and HTTP/2).",
			func(c *Config) *string { return &c.Gateway.TLSCert }),
		stringField("gateway.tls_key", "PEM private key file of gateway.tls_cert.",
			func(c *Config) *string { return &c.Gateway.TLSKey }),
		durationField("gateway.read_header_timeout", "Time allowed to read a request's headers (slowloris).",
			func(c *Config) *time.Duration { return &c.Gateway.ReadHeaderTimeout }),
		durationField("gateway.idle_timeout", "Time a keep-alive connection may wait for its next request.",
			func(c *Config) *time.Duration { return &c.Gateway.IdleTimeout }),
		durationField("gateway.body_grace", "Time before a request body must keep up gateway.min_body_rate (slow POST).",
			func(c *Config) *time.Duration { return &c.Gateway.BodyGrace }),
		intField("gateway.min_body_rate", "Slowest request body accepted after the grace, in bytes per second (at least 1).",
			func(c *Config) *int { return &c.Gateway.MinBodyRate }),
		intField("gateway.max_header_bytes", "Largest request headers accepted, in bytes (at least 1024).",
			func(c *Config) *int { return &c.Gateway.MaxHeaderBytes }),
		int64Field("gateway.max_body_bytes", "Largest request body passed to the shop, in bytes (413 beyond).",
			func(c *Config) *int64 { return &c.Gateway.MaxBodyBytes }),
		intField("gateway.max_conns", "Most connections open at once.",
			func(c *Config) *int { return &c.Gateway.MaxConns }),
		intField("gateway.max_conns_per_ip", "Most connections open at once from one client address (trusted proxies exempt).",
			func(c *Config) *int { return &c.Gateway.MaxConnsPerIP }),
		durationField("gateway.upstream_timeout", "Time the shop has to start answering a request.",
			func(c *Config) *time.Duration { return &c.Gateway.UpstreamTimeout }),
		stringField("gateway.health_path", "Path of the shop to GET as a health check (e.g. /healthz); empty: no check.",
			func(c *Config) *string { return &c.Gateway.HealthPath }),
		durationField("gateway.health_interval", "Time between health checks.",
			func(c *Config) *time.Duration { return &c.Gateway.HealthInterval }),
		durationField("gateway.health_timeout", "Time one health check may take (at most the interval).",
			func(c *Config) *time.Duration { return &c.Gateway.HealthTimeout }),
		intField("gateway.health_failures", "Failed checks in a row after which the gateway answers 503 itself.",
			func(c *Config) *int { return &c.Gateway.HealthFailures }),
		durationField("gateway.shutdown_timeout", "Time a graceful shutdown waits for in-flight requests.",
			func(c *Config) *time.Duration { return &c.Gateway.ShutdownTimeout }),
		stringField("gateway.policy_file", "YAML file of rate limits per route (docs/gateway.md); empty: no limits.",
			func(c *Config) *string { return &c.Gateway.PolicyFile }),
		intField("gateway.max_limit_keys", "Most client keys (addresses, networks, sessions) the limits keep at once (1..10000000); idle ones are evicted first.",
			func(c *Config) *int { return &c.Gateway.MaxLimitKeys }),
		stringField("gateway.challenge_secret_file", "File holding the secret (at least 32 bytes) that signs challenges and clearances; gateways sharing it accept each other's clearances. Empty: a random secret per start.",
			func(c *Config) *string { return &c.Gateway.ChallengeSecretFile }),
		stringField("gateway.bot_model", "The bot score's model: empty for the built-in one, off for none, else a file written by shopguard train traffic.",
			func(c *Config) *string { return &c.Gateway.BotModel }),
		stringField("gateway.decision_log", "File the gateway appends a JSON line to for every request it refuses, challenges, blocks or sheds; - for standard output; empty: none.",
			func(c *Config) *string { return &c.Gateway.DecisionLog }),
		stringField("gateway.risk_url", "Base URL of the shopguard API (shopguard serve) that routes with protect: login or content send their requests to; empty: none.",
			func(c *Config) *string { return &c.Gateway.RiskURL }),
		stringField("gateway.risk_key_file", "File holding the API key (scope events:write) the gateway uses with gateway.risk_url.",
			func(c *Config) *string { return &c.Gateway.RiskKeyFile }),
		durationField("gateway.risk_timeout", "Longest wait for the risk API's answer; past it the request passes (fail open), counted.",
			func(c *Config) *time.Duration { return &c.Gateway.RiskTimeout }),
		stringField("log.level", "Least severe level logged: debug, info, warn or error.",
			func(c *Config) *string { return &c.Log.Level }),
		stringField("log.format", "Log line format: text or json.",
			func(c *Config) *string { return &c.Log.Format }),
	)
	return fs
}

// sectionDocs documents the sections (non-leaf keys) for Sample.
func sectionDocs() map[string]string {
	return map[string]string{
		"server":      "HTTP server of the risk API and the dashboard.",
		"storage":     "Where events, decisions and state are kept.",
		"state":       "Fast state shared by several instances (Redis): see docs/gateway.md.",
		"features":    "Feature store (velocity counters and profiles).",
		"geo":         "IP geolocation from .mmdb files you download (none ships with shopguard).",
		"models":      "Scheduled retraining of the transaction model.",
		"account":     "Account protection: sign-ins and sign-ups.",
		"authn":       "Strong customer authentication (authenticator apps, recovery codes).",
		"assistant":   "The support assistant (chat widget): the shop's own answers.",
		"webhooks":    "Signed notifications to the shop (\"was this you?\"); endpoints are set per shop through /v1/webhooks.",
		"decisions":   "How scores (0-100) become actions.",
		"gateway":     "shopguard gateway: the reverse proxy in front of the shop.",
		thresholdsKey: "Per event kind: a score at or above block blocks, at or above challenge\nchallenges, at or above review reviews; lower scores are allowed.\nEach value lies in 1..101 (101 disables the action) and review <= challenge <= block.\nAn entry may give only some of the three; the others keep their defaults.",
		"log":         "Logging.",
	}
}

func stringField(key, doc string, p func(*Config) *string) field {
	return field{key: key, kind: kindString, doc: doc,
		get: func(c *Config) any { return *p(c) },
		set: func(c *Config, v any) { *p(c) = v.(string) }}
}

func intField(key, doc string, p func(*Config) *int) field {
	return field{key: key, kind: kindInt, doc: doc,
		get: func(c *Config) any { return *p(c) },
		set: func(c *Config, v any) { *p(c) = v.(int) }}
}

func int64Field(key, doc string, p func(*Config) *int64) field {
	return field{key: key, kind: kindInt64, doc: doc,
		get: func(c *Config) any { return *p(c) },
		set: func(c *Config, v any) { *p(c) = v.(int64) }}
}

func boolField(key, doc string, p func(*Config) *bool) field {
	return field{key: key, kind: kindBool, doc: doc,
		get: func(c *Config) any { return *p(c) },
		set: func(c *Config, v any) { *p(c) = v.(bool) }}
}

func durationField(key, doc string, p func(*Config) *time.Duration) field {
	return field{key: key, kind: kindDuration, doc: doc,
		get: func(c *Config) any { return *p(c) },
		set: func(c *Config, v any) { *p(c) = v.(time.Duration) }}
}

// thresholdField describes decisions.thresholds.<eventKind>.<name>. Map
// values are not addressable, so set copies the entry out, changes one
// field and stores it back (creating the map and the entry as needed).
func thresholdField(eventKind, name string, p func(*risk.Thresholds) *int) field {
	return field{key: thresholdsKey + "." + eventKind + "." + name, kind: kindInt,
		get: func(c *Config) any {
			t := c.Decisions.For(risk.EventKind(eventKind))
			return *p(&t)
		},
		set: func(c *Config, v any) {
			if c.Decisions.Thresholds == nil {
				c.Decisions.Thresholds = make(map[string]risk.Thresholds)
			}
			t := c.Decisions.For(risk.EventKind(eventKind))
			*p(&t) = v.(int)
			c.Decisions.Thresholds[eventKind] = t
		}}
}

// Keys returns every known dotted config key, sorted.
func Keys() []string {
	fs := fields()
	keys := make([]string, len(fs))
	for i, f := range fs {
		keys[i] = f.key
	}
	slices.Sort(keys)
	return keys
}

// EnvName returns the environment variable that sets key: EnvPrefix
// followed by the key upper-cased with dots replaced by underscores, e.g.
// SHOPGUARD_SERVER_MAX_BODY_BYTES for server.max_body_bytes.
func EnvName(key string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// convert turns a raw value from YAML, the environment (always a string)
// or a flag (typed by pflag) into the Go type of k, or explains why it
// cannot.
func convert(k kind, v any) (any, error) {
	if v == nil {
		return nil, fmt.Errorf("has no value")
	}
	switch k {
	case kindString:
		switch s := v.(type) {
		case string:
			return s, nil
		case map[string]any, []any:
			return nil, fmt.Errorf("must be a string, got %s", describe(v))
		}
		return nil, fmt.Errorf("must be a string, got %s (quote it in YAML)", describe(v))
	case kindInt, kindInt64:
		n, err := toInt64(v)
		if err != nil {
			return nil, err
		}
		if k == kindInt {
			if n < math.MinInt || n > math.MaxInt {
				return nil, fmt.Errorf("%d is out of range", n)
			}
			return int(n), nil
		}
		return n, nil
	case kindDuration:
		switch d := v.(type) {
		case time.Duration:
			return d, nil
		case string:
			p, err := time.ParseDuration(strings.TrimSpace(d))
			if err != nil {
				return nil, fmt.Errorf("%q is not a duration; use Go syntax such as 5s, 1m30s or 2h", d)
			}
			return p, nil
		}
		if n, err := toInt64(v); err == nil && n == 0 {
			return time.Duration(0), nil
		}
		return nil, fmt.Errorf("must be a duration with a unit such as 5s, 1m30s or 2h, got %s", describe(v))
	case kindBool:
		switch b := v.(type) {
		case bool:
			return b, nil
		case string:
			if p, err := strconv.ParseBool(strings.TrimSpace(b)); err == nil {
				return p, nil
			}
			return nil, fmt.Errorf("%q is not true or false", b)
		}
		return nil, fmt.Errorf("must be true or false, got %s", describe(v))
	}
	return nil, fmt.Errorf("has an unsupported type")
}

// toInt64 accepts any integer type, an integral float (YAML reads 1e6 as a
// float) or a string holding a decimal integer.
func toInt64(v any) (int64, error) {
	switch n := v.(type) {
	case int:
		return int64(n), nil
	case int8:
		return int64(n), nil
	case int16:
		return int64(n), nil
	case int32:
		return int64(n), nil
	case int64:
		return n, nil
	case uint:
		return uintToInt64(uint64(n))
	case uint8:
		return int64(n), nil
	case uint16:
		return int64(n), nil
	case uint32:
		return int64(n), nil
	case uint64:
		return uintToInt64(n)
	case float32:
		return floatToInt64(float64(n))
	case float64:
		return floatToInt64(n)
	case string:
		i, err := strconv.ParseInt(strings.TrimSpace(n), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not an integer", n)
		}
		return i, nil
	}
	return 0, fmt.Errorf("must be an integer, got %s", describe(v))
}

func uintToInt64(n uint64) (int64, error) {
	if n > math.MaxInt64 {
		return 0, fmt.Errorf("%d is out of range", n)
	}
	return int64(n), nil
}

func floatToInt64(f float64) (int64, error) {
	if f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
		return 0, fmt.Errorf("%v is not an integer", f)
	}
	return int64(f), nil
}

// describe names the YAML type of v for error messages.
func describe(v any) string {
	switch x := v.(type) {
	case bool:
		return fmt.Sprintf("the boolean %v", x)
	case string:
		return fmt.Sprintf("the string %q", x)
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		return fmt.Sprintf("the number %v", x)
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	}
	return fmt.Sprintf("a value of type %T", v)
}

// closest returns the candidate nearest to s by edit distance, or "" when
// none is within limit edits (too far to be a plausible typo of s).
func closest(s string, candidates []string, limit int) string {
	best, bestDist := "", limit+1
	for _, c := range candidates {
		if d := editDistance(s, c); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
