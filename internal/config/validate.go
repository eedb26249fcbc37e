package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopguard/shopguard/internal/risk"
)

// ErrInvalid matches (with errors.Is) every Problems error: the
// configuration was read but is not acceptable.
var ErrInvalid = errors.New("config: invalid configuration")

// Limits that Validate enforces.
const (
	minBodyBytes     = 1 << 10
	maxBodyBytes     = 64 << 20
	maxKeyCacheTTL   = 10 * time.Minute
	minCommitBatch   = 1
	maxCommitBatch   = 10000
	minSnapshotEvery = time.Second
)

// Problem is one thing wrong with a configuration.
type Problem struct {
	// Key is the dotted config key the problem is about, e.g.
	// "server.max_body_bytes", or the environment variable's name for an
	// unknown SHOPGUARD_* variable.
	Key string
	// Message says what is wrong, in words an operator can act on.
	Message string
}

// String returns "key: message".
func (p Problem) String() string { return p.Key + ": " + p.Message }

// Problems is every problem found in a configuration. It is the error Load
// and Validate return when the configuration is not acceptable; a nil or
// empty Problems is never returned as an error.
type Problems []Problem

// Error lists the problems, one "key: message" per line.
func (ps Problems) Error() string {
	if len(ps) == 0 {
		return "config: no problems"
	}
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Is reports whether target is ErrInvalid, so that errors.Is(err,
// ErrInvalid) holds for every Problems value.
func (ps Problems) Is(target error) bool { return target == ErrInvalid }

// err returns ps as an error, or nil when there is no problem.
func (ps Problems) err() error {
	if len(ps) == 0 {
		return nil
	}
	return ps
}

// Validate checks every setting and returns a Problems error listing every
// problem found, or nil when the configuration is acceptable.
func (c Config) Validate() error {
	return c.problems().err()
}

// problems returns every problem with c, in a stable order.
func (c Config) problems() Problems {
	var ps Problems
	add := func(key, format string, args ...any) {
		ps = append(ps, Problem{Key: key, Message: fmt.Sprintf(format, args...)})
	}

	if msg := checkAddr(c.Server.Addr); msg != "" {
		add("server.addr", "%s", msg)
	}
	for _, t := range []struct {
		key string
		d   time.Duration
	}{
		{"server.read_header_timeout", c.Server.ReadHeaderTimeout},
		{"server.read_timeout", c.Server.ReadTimeout},
		{"server.write_timeout", c.Server.WriteTimeout},
		{"server.idle_timeout", c.Server.IdleTimeout},
		{"server.shutdown_timeout", c.Server.ShutdownTimeout},
	} {
		if t.d <= 0 {
			add(t.key, "must be a positive duration, got %s", t.d)
		}
	}
	if n := c.Server.MaxBodyBytes; n < minBodyBytes || n > maxBodyBytes {
		add("server.max_body_bytes", "%d is outside %d..%d (1 KiB..64 MiB)", n, minBodyBytes, maxBodyBytes)
	}
	if _, err := ParseGateways(c.Server.Gateways); err != nil {
		add("server.gateways", "%v", err)
	}
	if d := c.Server.SessionTTL; d < 5*time.Minute || d > 30*24*time.Hour {
		add("server.session_ttl", "%s is outside 5m0s..720h0m0s", d)
	}
	if d := c.Server.KeyCacheTTL; d < 0 || d > maxKeyCacheTTL {
		add("server.key_cache_ttl", "%s is outside 0s..%s (0 disables the cache)", d, maxKeyCacheTTL)
	}

	if msg := oneOf(c.Storage.Driver, DriverSQLite, DriverPostgres, DriverMemory); msg != "" {
		add("storage.driver", "%s", msg)
	}
	switch u := c.Storage.URL; {
	case c.Storage.Driver == DriverPostgres && u == "":
		add("storage.url", "is required when storage.driver is %s", DriverPostgres)
	case c.Storage.Driver == DriverPostgres && !strings.HasPrefix(u, "postgres://") && !strings.HasPrefix(u, "postgresql://"):
		add("storage.url", "%q is not a postgres:// or postgresql:// URL", redactURL(u))
	case c.Storage.Driver != DriverPostgres && u != "":
		add("storage.url", "is set but storage.driver is %s, not %s", c.Storage.Driver, DriverPostgres)
	}
	if c.Storage.Driver == DriverSQLite && strings.TrimSpace(c.Storage.DataDir) == "" {
		add("storage.data_dir", "is required when storage.driver is %s", DriverSQLite)
	}
	if u := c.State.URL; u != "" && !strings.HasPrefix(u, "redis://") && !strings.HasPrefix(u, "rediss://") {
		add("state.url", "%q is not a redis:// or rediss:// URL", redactURL(u))
	}
	if d := c.State.Timeout; d < time.Millisecond || d > 10*time.Second {
		add("state.timeout", "%s is outside 1ms..10s", d)
	}
	if p := c.State.Prefix; p == "" || len(p) > 64 || strings.ContainsAny(p, "{} \t\r\n") {
		add("state.prefix", "%q must be 1..64 characters without spaces or braces", p)
	}
	if msg := oneOf(c.Storage.Synchronous, SynchronousNormal, SynchronousFull); msg != "" {
		add("storage.synchronous", "%s", msg)
	}
	if n := c.Storage.CommitBatch; n < minCommitBatch || n > maxCommitBatch {
		add("storage.commit_batch", "%d is outside %d..%d", n, minCommitBatch, maxCommitBatch)
	}
	if d := c.Storage.CommitDelay; d < 0 || d > 10*time.Millisecond {
		add("storage.commit_delay", "%s is outside 0..10ms", d)
	}

	switch c.Features.Store {
	case FeaturesMemory:
	case FeaturesRedis:
		if c.State.URL == "" {
			add("features.store", "is %s but state.url names no Redis", FeaturesRedis)
		}
	default:
		add("features.store", "%q is not %s or %s", c.Features.Store, FeaturesMemory, FeaturesRedis)
	}
	if d := c.Features.SnapshotInterval; d < minSnapshotEvery {
		add("features.snapshot_interval", "%s is shorter than the minimum of %s", d, minSnapshotEvery)
	}
	if d := c.Models.RetrainInterval; d != 0 && d < time.Hour {
		add("models.retrain_interval", "%s: use 0 (off) or at least 1h0m0s", d)
	}
	if n := c.Models.RetrainDays; n < 1 || n > 3650 {
		add("models.retrain_days", "%d is outside 1..3650", n)
	}
	if msg := oneOf(c.Models.Promote, PromoteIfBetter, PromoteAlways, PromoteNever); msg != "" {
		add("models.promote", "%s", msg)
	}
	if d := c.Account.History; d < MinHistory || d > MaxHistory {
		add("account.history", "%s is outside %s..%s (30..400 days)", d, MinHistory, MaxHistory)
	}
	if _, err := c.Account.ReputationTable(); err != nil {
		add("account.reputation_lists", "%s", err)
	}
	if d := c.Webhooks.Timeout; d < time.Second || d > time.Minute {
		add("webhooks.timeout", "%s is outside 1s..1m0s", d)
	}
	if u := c.Assistant.LLMURL; u != "" {
		if p, err := url.Parse(u); err != nil || p.Scheme != "http" && p.Scheme != "https" || p.Host == "" {
			add("assistant.llm_url", "%q is not an http(s) URL", redactURL(u))
		}
		if c.Assistant.LLMModel == "" {
			add("assistant.llm_model", "is required with assistant.llm_url")
		}
	}
	if d := c.Assistant.LLMTimeout; d < 100*time.Millisecond || d > time.Minute {
		add("assistant.llm_timeout", "%s is outside 100ms..1m0s", d)
	}
	if n := c.Webhooks.Attempts; n < 1 || n > 30 {
		add("webhooks.attempts", "%d is outside 1..30", n)
	}
	if d := c.Webhooks.Retention; d < 24*time.Hour || d > 365*24*time.Hour {
		add("webhooks.retention", "%s is outside 24h..8760h", d)
	}
	if u := c.Authn.PublicURL; u != "" {
		p, err := url.Parse(u)
		switch {
		case err != nil || p.Host == "" || (p.Scheme != "https" && p.Scheme != "http"):
			add("authn.public_url", "%q is not an absolute http(s) URL such as https://auth.shop.example", u)
		case p.RawQuery != "" || p.Fragment != "" || p.User != nil:
			add("authn.public_url", "%q must not have a query, fragment or user", u)
		}
	}

	kinds := make([]string, 0, len(c.Decisions.Thresholds))
	for k := range c.Decisions.Thresholds {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	for _, k := range kinds {
		key := thresholdsKey + "." + k
		if _, err := risk.ParseEventKind(k); err != nil {
			add(key, "%q is not an event kind; known kinds: %s", k, eventKindList())
			continue
		}
		for _, msg := range thresholdMessages(c.Decisions.Thresholds[k].Validate()) {
			add(key, "%s", msg)
		}
	}

	c.Gateway.problems(add)

	if msg := oneOf(c.Log.Level, "debug", "info", "warn", "error"); msg != "" {
		add("log.level", "%s", msg)
	}
	if msg := oneOf(c.Log.Format, FormatText, FormatJSON); msg != "" {
		add("log.format", "%s", msg)
	}
	return ps
}

// checkAddr returns why addr is not a valid listen address, or "".
func checkAddr(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Sprintf("%q is not host:port (e.g. 127.0.0.1:8080, or :8080 for all interfaces)", addr)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return fmt.Sprintf("port %q in %q is not a number in 0..65535 (0 picks a free port)", port, addr)
	}
	return ""
}

// oneOf returns why v is not one of allowed, or "".
func oneOf(v string, allowed ...string) string {
	if slices.Contains(allowed, v) {
		return ""
	}
	return fmt.Sprintf("%q is not one of %s", v, strings.Join(allowed, ", "))
}

// thresholdMessages splits the (possibly joined) error of
// risk.Thresholds.Validate into one message per problem, without the risk
// package's prefix.
func thresholdMessages(err error) []string {
	if err == nil {
		return nil
	}
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = strings.TrimPrefix(e.Error(), risk.ErrInvalid.Error()+": ")
	}
	return msgs
}

// eventKindList returns the known event kinds, comma separated.
func eventKindList() string {
	names := make([]string, len(risk.EventKinds))
	for i, k := range risk.EventKinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

// problems adds every problem of the gateway section. An empty upstream
// is no problem here (only shopguard gateway needs one, and says so).
func (g Gateway) problems(add func(key, format string, args ...any)) {
	if msg := checkAddr(g.Addr); msg != "" {
		add("gateway.addr", "%s", msg)
	}
	if g.AdminAddr != "" {
		if msg := checkAddr(g.AdminAddr); msg != "" {
			add("gateway.admin_addr", "%s", msg)
		}
	}
	if g.Upstream != "" {
		if _, err := ParseUpstream(g.Upstream); err != nil {
			add("gateway.upstream", "%v", err)
		}
	}
	if _, err := ParseCIDRs(g.TrustedProxies); err != nil {
		add("gateway.trusted_proxies", "%v", err)
	}
	if (g.TLSCert == "") != (g.TLSKey == "") {
		add("gateway.tls_key", "give gateway.tls_cert and gateway.tls_key both, or neither")
	}
	for _, t := range []struct {
		key string
		d   time.Duration
	}{
		{"gateway.read_header_timeout", g.ReadHeaderTimeout}, {"gateway.idle_timeout", g.IdleTimeout},
		{"gateway.body_grace", g.BodyGrace}, {"gateway.upstream_timeout", g.UpstreamTimeout},
		{"gateway.health_interval", g.HealthInterval}, {"gateway.shutdown_timeout", g.ShutdownTimeout},
	} {
		if t.d <= 0 {
			add(t.key, "must be a positive duration, got %s", t.d)
		}
	}
	if g.HealthTimeout <= 0 || g.HealthTimeout > g.HealthInterval {
		add("gateway.health_timeout", "%s must be positive and at most gateway.health_interval (%s)", g.HealthTimeout, g.HealthInterval)
	}
	for _, n := range []struct {
		key      string
		v, least int64
	}{
		{"gateway.min_body_rate", int64(g.MinBodyRate), 1}, {"gateway.max_header_bytes", int64(g.MaxHeaderBytes), 1024},
		{"gateway.max_body_bytes", g.MaxBodyBytes, 1}, {"gateway.max_conns", int64(g.MaxConns), 1},
		{"gateway.max_conns_per_ip", int64(g.MaxConnsPerIP), 1}, {"gateway.health_failures", int64(g.HealthFailures), 1},
		{"gateway.max_limit_keys", int64(g.MaxLimitKeys), 1},
	} {
		if n.v < n.least {
			add(n.key, "%d is less than %d", n.v, n.least)
		}
	}
	if g.MaxLimitKeys > 10_000_000 {
		add("gateway.max_limit_keys", "%d is more than 10000000", g.MaxLimitKeys)
	}
	if g.MaxConnsPerIP > g.MaxConns {
		add("gateway.max_conns_per_ip", "%d is more than gateway.max_conns (%d)", g.MaxConnsPerIP, g.MaxConns)
	}
	if g.HealthPath != "" && !strings.HasPrefix(g.HealthPath, "/") {
		add("gateway.health_path", "%q must start with /", g.HealthPath)
	}
	if g.RiskURL != "" {
		if u, err := url.Parse(g.RiskURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("gateway.risk_url", "%q must be http(s)://host[:port]", g.RiskURL)
		}
		if g.RiskKeyFile == "" {
			add("gateway.risk_key_file", "required with gateway.risk_url")
		}
		if g.RiskTimeout <= 0 || g.RiskTimeout > time.Minute {
			add("gateway.risk_timeout", "%s must be positive and at most 1m", g.RiskTimeout)
		}
	}
}

// ParseUpstream reads gateway.upstream: an absolute http or https URL
// with a host and no query or fragment.
func ParseUpstream(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%q is not a URL: %w", s, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("%q is not an http or https URL", s)
	case u.Host == "":
		return nil, fmt.Errorf("%q has no host", s)
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return nil, fmt.Errorf("%q has a query, fragment or user; give the shop's base URL", s)
	}
	return u, nil
}

// ParseCIDRs reads a comma-separated list of CIDRs ("10.0.0.0/8,
// 2001:db8::/32"); a bare address counts as its own /32 or /128.
func ParseCIDRs(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil || a.Zone() != "" {
				return nil, fmt.Errorf("%q is not a CIDR such as 10.0.0.0/8 or an address", f)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// ParseGateways reads server.gateways: comma-separated http(s) base URLs
// of gateways' admin addresses (at most 16).
func ParseGateways(s string) ([]string, error) {
	var out []string
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimRight(strings.TrimSpace(part), "/")
		if part == "" {
			continue
		}
		u, err := url.Parse(part)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
			return nil, fmt.Errorf("%q is not an http(s)://host[:port] URL", part)
		}
		out = append(out, part)
	}
	if len(out) > 16 {
		return nil, fmt.Errorf("%d gateways, at most 16", len(out))
	}
	return out, nil
}

// redactURL returns u without its password, for error messages.
func redactURL(u string) string {
	if parsed, err := url.Parse(u); err == nil {
		return parsed.Redacted()
	}
	if i := strings.LastIndexByte(u, '@'); i >= 0 {
		return "…" + u[i:]
	}
	return u
}
