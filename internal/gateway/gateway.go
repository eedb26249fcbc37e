// Package gateway is shopguard's reverse proxy in front of a shop: it
// forwards HTTP/1.1, HTTP/2, streaming bodies and WebSockets to the
// upstream shop, terminates TLS, sets X-Forwarded-* headers believing only
// trusted proxies, and keeps slow and greedy clients from exhausting the
// shop's connections (header and body deadlines, a minimum body rate,
// per-client connection caps, request size limits). It watches the
// upstream's health so that a down shop is answered at once instead of
// piling requests on it.
package gateway

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shopguard/shopguard/internal/botscore"
	"github.com/shopguard/shopguard/internal/gateway/challenge"
	"github.com/shopguard/shopguard/internal/gateway/tlsprint"
	"github.com/shopguard/shopguard/internal/http1"
	"github.com/shopguard/shopguard/internal/risk"
)

// Config is a gateway's configuration, passed by value (config.Gateway
// holds the operator's settings and their defaults; app turns them into
// a Config). Zero durations and sizes are invalid (Validate says so), not
// "unlimited".
type Config struct {
	// Upstream is the shop's base URL (http or https).
	Upstream *url.URL
	// Trusted are the proxies in front of the gateway whose
	// X-Forwarded-For is believed.
	Trusted Trusted
	// TLSCert and TLSKey are PEM files; both empty serves plain HTTP.
	TLSCert, TLSKey string

	// ReadHeaderTimeout bounds reading a request's headers (slowloris).
	ReadHeaderTimeout time.Duration
	// IdleTimeout closes a keep-alive connection idle that long.
	IdleTimeout time.Duration
	// BodyGrace and MinBodyRate: a request body's n-th byte is due
	// BodyGrace + n/MinBodyRate after the headers (slow POST).
	BodyGrace   time.Duration
	MinBodyRate float64 // bytes per second
	// MaxHeaderBytes bounds a request's headers, MaxBodyBytes its body
	// (413 beyond it).
	MaxHeaderBytes int
	MaxBodyBytes   int64
	// MaxConns caps the connections open at once; MaxConnsPerIP those of
	// one client address (trusted proxies exempt).
	MaxConns, MaxConnsPerIP int
	// UpstreamTimeout bounds the wait for the upstream's response headers.
	UpstreamTimeout time.Duration
	// Health is the upstream's active health check.
	Health HealthCheck
	// Policy holds the rate limits per route (none: no limits), and
	// MaxLimitKeys the most client keys they keep at once (an attacker
	// with a million addresses evicts idle keys, not limited ones).
	Policy       Policy
	MaxLimitKeys int
	// SharedLimits, when set, holds the token buckets of Policy.Limits
	// where several gateways share them (Redis; see Limits); nil keeps
	// them in this process.
	SharedLimits Limits
	// SharedChallengeLoop, when set, holds the ChallengeLoopRule bucket of
	// each client address where several gateways share it, so that a
	// client going round them is refused after the rule's burst in all;
	// nil keeps it in this process.
	SharedChallengeLoop Limits
	// ChallengeSecret signs challenges and clearances (at least 32 bytes);
	// gateways sharing it accept each other's clearances. Empty: a random
	// secret, so clearances end when the gateway restarts.
	ChallengeSecret []byte
	// ShutdownTimeout bounds the graceful shutdown.
	ShutdownTimeout time.Duration
	// Risk is the shopguard API that routes with a protection send their
	// requests to (see ProtectLogin, ProtectContent).
	Risk RiskAPI
	// BotModel scores clients' behaviour (nil: no bot score); the
	// policy's bot_score says what the score does. MaxBotClients bounds
	// the clients whose history is kept (0: 200,000).
	BotModel      BotScorer
	MaxBotClients int
	// BotVerdicts, when set, shares doubtful clients' bot scores with the
	// other gateways (Redis; see BotVerdicts); nil keeps each gateway's
	// scores to itself.
	BotVerdicts BotVerdicts
	// DecisionLog receives a JSON line per request the gateway refused,
	// challenged, blocked or shed (nil: none; see Decision).
	DecisionLog io.Writer
}

// ErrConfig means a gateway configuration is invalid.
var ErrConfig = errors.New("gateway: invalid configuration")

// Validate reports every problem of c, each naming its setting.
func (c Config) Validate() error {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	switch {
	case c.Upstream == nil:
		add("upstream: required (the shop's URL, e.g. http://127.0.0.1:3000)")
	case c.Upstream.Scheme != "http" && c.Upstream.Scheme != "https":
		add("upstream: %q is not an http or https URL", c.Upstream.Redacted())
	case c.Upstream.Host == "":
		add("upstream: %q has no host", c.Upstream.Redacted())
	case c.Upstream.RawQuery != "" || c.Upstream.Fragment != "":
		add("upstream: %q has a query or fragment; give the shop's base URL", c.Upstream.Redacted())
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		add("tls_cert, tls_key: give both or neither")
	}
	for name, d := range map[string]time.Duration{"read_header_timeout": c.ReadHeaderTimeout, "idle_timeout": c.IdleTimeout,
		"body_grace": c.BodyGrace, "upstream_timeout": c.UpstreamTimeout, "shutdown_timeout": c.ShutdownTimeout} {
		if d <= 0 {
			add("%s: %v, must be positive", name, d)
		}
	}
	if !(c.MinBodyRate > 0) {
		add("min_body_rate: %v bytes/s, must be positive", c.MinBodyRate)
	}
	if c.MaxHeaderBytes < 1024 {
		add("max_header_bytes: %d, at least 1024", c.MaxHeaderBytes)
	}
	if c.MaxBodyBytes < 1 {
		add("max_body_bytes: %d, must be positive", c.MaxBodyBytes)
	}
	if c.MaxConns < 1 || c.MaxConnsPerIP < 1 || c.MaxConnsPerIP > c.MaxConns {
		add("max_conns %d, max_conns_per_ip %d: both positive, per IP at most the total", c.MaxConns, c.MaxConnsPerIP)
	}
	if h := c.Health; h.Path != "" {
		if !strings.HasPrefix(h.Path, "/") {
			add("health.path: %q must start with /", h.Path)
		}
		if h.Interval <= 0 || h.Timeout <= 0 || h.Timeout > h.Interval || h.Failures < 1 {
			add("health: interval %v, timeout %v (positive, at most the interval), failures %d (at least 1)", h.Interval, h.Timeout, h.Failures)
		}
	}
	if n := len(c.ChallengeSecret); n > 0 && n < challenge.MinKeyLen {
		add("challenge_secret: %d bytes, at least %d", n, challenge.MinKeyLen)
	}
	if c.Risk.URL != "" && (c.Risk.Timeout <= 0 || c.Risk.Timeout > time.Minute) {
		add("risk_timeout: %v, must be positive and at most 1m", c.Risk.Timeout)
	}
	if c.Risk.URL != "" && c.Risk.Key == "" {
		add("risk_key_file: required with risk_url (an API key with the events:write scope)")
	}
	for _, rt := range c.Policy.Routes {
		if rt.Protect != "" && c.Risk.URL == "" {
			add("risk_url: required by route %q (protect: %s): the shopguard API to send its requests to", rt.Name, rt.Protect)
		}
	}
	if len(c.Policy.Limits) > 0 && c.MaxLimitKeys < 1 {
		add("max_limit_keys: %d, must be positive with a policy", c.MaxLimitKeys)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrConfig, strings.Join(problems, "; "))
	}
	return nil
}

// Gateway is a running reverse proxy's request path. It is an
// http.Handler; Serve runs it on a listener with the connection hygiene
// of its configuration.
type Gateway struct {
	cfg    Config
	log    *slog.Logger
	proxy  *httputil.ReverseProxy
	health health
	client *http.Client // the health check's
	limits *limiter     // nil without a policy
	// challenges is nil when no route challenges.
	challenges *challenges
	// admit is nil without an admission bound.
	admit *admitter
	// inline is nil without a risk API.
	inline *inline
	// bots keeps clients' histories for the bot score (nil without a
	// model).
	bots *botscore.Tracker
	// shared publishes and reads bot verdicts of other gateways (nil:
	// Config.BotVerdicts unset, or no bot score).
	shared *sharedVerdicts
	// decisions logs and counts what the gateway did instead of passing
	// requests; decisionLogFailed is set once writing it failed.
	decisions         *decisionLog
	decisionLogFailed atomic.Bool
	// underAttack: every page view of a route that does not say never is
	// challenged. sentinel switches it (see AutoAttack) and keeps the
	// operator's choice.
	underAttack atomic.Bool
	// autoAttack: under-attack mode is on by the automatic switch, not
	// held on by an operator: clients the bot score does not doubt pass.
	autoAttack atomic.Bool
	sentinel   *sentinel

	// upstream forwards what it takes (nil: everything goes through
	// proxy); buffers lends both their copy buffers.
	upstream *upstreamPool
	buffers  *copyBuffers

	stats   Stats
	metrics *metrics
}

// Stats counts what the gateway did; read it with Snapshot.
type Stats struct {
	Requests, Proxied, TooLarge, TooSlow, UpstreamDown, UpstreamErrors, ConnsDropped, RateLimited, Shed atomic.Int64
}

// StatsSnapshot is a copy of Stats.
type StatsSnapshot struct {
	Requests, Proxied, TooLarge, TooSlow, UpstreamDown, UpstreamErrors, ConnsDropped, RateLimited, Shed int64
}

// Snapshot returns the counts so far.
func (g *Gateway) Snapshot() StatsSnapshot {
	s := &g.stats
	return StatsSnapshot{s.Requests.Load(), s.Proxied.Load(), s.TooLarge.Load(), s.TooSlow.Load(),
		s.UpstreamDown.Load(), s.UpstreamErrors.Load(), s.ConnsDropped.Load(), s.RateLimited.Load(), s.Shed.Load()}
}

// New returns a gateway for cfg (which must pass Validate); log receives
// its warnings.
func New(cfg Config, log *slog.Logger) (*Gateway, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	transport := &http.Transport{
		Proxy:                 nil, // the upstream is reached directly, whatever the environment says
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: cfg.UpstreamTimeout,
		ExpectContinueTimeout: time.Second,
	}
	g := &Gateway{cfg: cfg, log: log, metrics: newMetrics(), client: &http.Client{Transport: transport, Timeout: cfg.Health.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	if len(cfg.Policy.Limits) > 0 {
		var err error
		if g.limits, err = newLimiter(cfg.Policy, cfg.MaxLimitKeys, cfg.SharedLimits); err != nil {
			return nil, err
		}
	}
	if cfg.Policy.Admission != nil {
		g.admit = newAdmitter(*cfg.Policy.Admission)
	}
	g.decisions = newDecisionLog(cfg.DecisionLog)
	if cfg.BotModel != nil {
		n := cfg.BotClients()
		g.bots = botscore.NewTracker(n)
		if cfg.BotVerdicts != nil {
			g.shared = newSharedVerdicts(cfg.BotVerdicts, n)
		}
	}
	var err error
	if g.inline, err = newInline(cfg.Risk); err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	// Challenges are always ready: under-attack mode may start any time.
	if g.challenges, err = newChallenges(cfg); err != nil {
		return nil, err
	}
	g.underAttack.Store(cfg.Policy.UnderAttack)
	g.sentinel = newSentinel(cfg.Policy.AutoAttack, cfg.Policy.UnderAttack)
	if len(cfg.ChallengeSecret) == 0 && (cfg.Policy.UnderAttack || slices.ContainsFunc(cfg.Policy.Routes, func(r Route) bool {
		return r.Challenge == ChallengePoW || r.Challenge == ChallengeWait
	})) {
		g.warnNoSecret()
	}
	upstream := cfg.Upstream
	g.buffers = &copyBuffers{}
	g.proxy = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(upstream)
			pr.Out.Host = pr.In.Host // the shop sees the host its customers asked for
			for _, h := range gatewayHeaders {
				pr.Out.Header.Del(h)
			}
			st, _ := pr.In.Context().Value(stateKey{}).(*requestState)
			g.upstreamHeaders(pr.In, st, pr.Out.Header.Set)
		},
		Transport: transport,
		ModifyResponse: func(resp *http.Response) error {
			st, ok := resp.Request.Context().Value(stateKey{}).(*requestState)
			if !ok {
				return nil
			}
			return g.responded(st, resp.StatusCode)
		},
		ErrorHandler: g.proxyError,
		ErrorLog:     slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BufferPool:   g.buffers, // without one, every response allocates a 32 KiB copy buffer
	}
	g.upstream = newUpstreamPool(upstream, cfg.UpstreamTimeout, g.buffers)
	return g, nil
}

// Healthy reports whether the upstream passes its health check (always
// true without one).
func (g *Gateway) Healthy() bool { return g.health.Healthy() }

// ServeHTTP proxies one request to the upstream, within the gateway's
// limits.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.stats.Requests.Add(1)
	if strings.HasPrefix(r.URL.Path, challengePrefix) {
		g.serveChallenge(w, r, newClientKeys(r, g.cfg.Trusted))
		return
	}
	if r.ContentLength > g.cfg.MaxBodyBytes {
		g.stats.TooLarge.Add(1)
		g.decided(r, nil, "", ActionRefused, http.StatusRequestEntityTooLarge, "body larger than max_body_bytes")
		refuse(w, http.StatusRequestEntityTooLarge, "request body too large", 0)
		return
	}
	if !g.health.Healthy() {
		g.stats.UpstreamDown.Add(1)
		refuse(w, http.StatusServiceUnavailable, "the shop is unavailable; try again shortly", 5*time.Second)
		return
	}
	st := &requestState{start: time.Now(), botScore: -1}
	if r.Body != nil && r.Body != http.NoBody {
		// Wrapped first: the limits may read a sign-in's body, and a slow
		// client must not hold them either.
		st.body = &minRateBody{ReadCloser: http.MaxBytesReader(w, r.Body, g.cfg.MaxBodyBytes), ctl: http.NewResponseController(w),
			start: st.start, grace: g.cfg.BodyGrace, rate: g.cfg.MinBodyRate}
		r.Body = st.body
	}
	rt := g.cfg.Policy.route(r)
	var keys clientKeys
	if rt != nil || len(g.cfg.Policy.GoodBots) > 0 || g.bots != nil {
		keys = newClientKeys(r, g.cfg.Trusted)
	}
	if g.limits != nil {
		lt, refusedBy, retry := g.limits.check(r, rt, keys, g.metrics.shadowRefused)
		if st.body != nil && st.body.failure() != nil {
			g.failed(w, r, st, st.body.failure())
			return
		}
		if refusedBy != "" {
			g.stats.RateLimited.Add(1)
			g.decided(r, st, rt.Name, ActionRefused, http.StatusTooManyRequests, "limit "+refusedBy)
			retry = min(retry, 24*time.Hour) // a rate of one a fortnight is no reason for a week-long header
			refuse(w, http.StatusTooManyRequests, "too many requests; slow down", max(time.Second, (retry+time.Second-1).Truncate(time.Second)))
			return
		}
		st.limited = lt
	}
	if bot, verified := g.cfg.Policy.goodBot(r.UserAgent(), keys.addr); bot != nil {
		g.metrics.goodBot(bot.Name, verified)
		if verified {
			st.bot = bot.Name
		} else {
			st.mismatch = "claims " + bot.Name + " from outside its networks"
		}
	} else {
		if _, ja4 := Fingerprints(r); ja4 != "" {
			st.mismatch = mismatch(r.UserAgent(), ja4)
		}
		if st.mismatch == "" {
			st.mismatch = headerAnomaly(r.UserAgent(), r.Method, r.Header, g.cfg.Trusted.proto(r) == "https")
		}
		if st.mismatch == "" {
			if peer := peerOf(r); !peer.ok || !g.cfg.Trusted.trusts(peer.addr) { // a trusted proxy's order is its own
				st.mismatch = orderAnomaly(r.UserAgent(), http1.HeaderOrder(r), r.Header)
			}
		}
		if st.mismatch != "" {
			g.metrics.mismatch(claimOf(r.UserAgent()))
		}
	}
	if st.bot == "" {
		st.botScore = g.scoreBot(r, keys, st)
	}
	ch := g.challengeOf(rt)
	if bs := g.cfg.Policy.BotScore; ch == nil && bs.ChallengeAbove > 0 && g.scoreCounts(st) && st.botScore >= bs.ChallengeAbove &&
		(rt == nil || rt.Challenge != ChallengeNever) {
		ch = &botChallengeRoute
	}
	if ch == &underAttackRoute && (g.trusted(st) || g.autoAttack.Load() && g.undoubted(st)) {
		// A customer with a good history shopping on during an attack; or,
		// when the gateway switched the mode on itself, a client nothing
		// is known against yet.
		ch = nil
	}
	if ch != nil && st.bot == "" && (!ch.ChallengeMismatchOnly || st.mismatch != "") {
		if rt == nil {
			keys = newClientKeys(r, g.cfg.Trusted)
		}
		if !g.challenges.cleared(r, g.challenges.client(r, keys)) {
			why := "challenge of route " + ch.Name
			switch {
			case ch == &botChallengeRoute:
				why = fmt.Sprintf("bot score %d", st.botScore)
			case ch == &underAttackRoute:
				why = "under attack"
			case ch.ChallengeMismatchOnly:
				why = "user agent mismatch on route " + ch.Name
			}
			g.decided(r, st, ch.Name, ActionChallenged, http.StatusForbidden, why)
			g.challenge(w, r, tunedChallenge(ch, st), keys)
			return
		}
	}
	if rt != nil && rt.Protect != "" && g.inline != nil && !g.protect(w, r, rt, keys, st) {
		return
	}
	if g.admit != nil {
		if !g.prefetch(w, r, st) {
			return
		}
		if keys.ip == "" {
			keys = newClientKeys(r, g.cfg.Trusted)
		}
		var class, prio int
		order := func() (int, int) {
			class, prio = g.classOf(r, st, keys), requestPriority(rt)
			return class, prio
		}
		client := keys.ip
		if err := g.admit.acquire(r.Context(), admissionTicket{client: client, order: order}); err != nil {
			if errors.Is(err, errShed) {
				g.stats.Shed.Add(1)
				g.decided(r, st, routeName(rt), ActionShed, http.StatusServiceUnavailable,
					"concurrency limit, "+classNames[class]+" client, priority "+priorityNames[prio])
				g.metrics.shed(classNames[class], priorityNames[prio])
				refuse(w, http.StatusServiceUnavailable, "the shop is busy; try again in a moment", 2*time.Second)
			}
			return
		}
		st.admitted = time.Now()
		defer func() {
			took := st.headersTook
			if took == 0 { // no answer from the shop: the whole wait counts
				took = time.Since(st.admitted)
			}
			g.admit.release(client, took)
		}()
	}
	g.stats.Proxied.Add(1)
	if g.upstream.takes(r) {
		g.forward(w, r, st)
		return
	}
	g.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), stateKey{}, st)))
}

// prefetch reads a small request body (up to maxAccountBody: a form, a
// sign-in, a checkout) before the request asks for a slot at the shop, so
// that a client sending its body slowly waits without holding one; a
// larger body streams as it comes. It reports whether the request goes
// on; if not, it has answered.
func (g *Gateway) prefetch(w http.ResponseWriter, r *http.Request, st *requestState) bool {
	if st.body == nil || r.ContentLength > maxAccountBody {
		return true
	}
	buf, err := io.ReadAll(io.LimitReader(r.Body, maxAccountBody+1))
	r.Body = readCloser{io.MultiReader(bytes.NewReader(buf), r.Body), r.Body}
	switch {
	case err == nil:
		return true
	case st.body.failure() != nil: // too slow or too large: 408 or 413
		g.failed(w, r, st, st.body.failure())
	case r.Context().Err() == nil: // a broken chunked encoding, say
		g.decided(r, st, "", ActionRefused, http.StatusBadRequest, "unreadable body")
		refuse(w, http.StatusBadRequest, "the request body could not be read", 0)
	}
	return false
}

// challengeOf returns the route whose challenge a request of route rt
// (nil: none) faces: rt's own, or in under-attack mode, for routes without
// one (and requests of no route), every client's; nil for none.
func (g *Gateway) challengeOf(rt *Route) *Route {
	switch {
	case rt != nil && rt.Challenge == ChallengeNever:
		return nil
	case rt != nil && rt.Challenge != "" && !(rt.ChallengeMismatchOnly && g.underAttack.Load()):
		return rt
	case g.underAttack.Load():
		return &underAttackRoute
	}
	return nil
}

// SetUnderAttack holds under-attack mode on or off, as an operator does
// (SetAttackMode "on" or "off"): while it is on, every page view of a
// route that does not say challenge: never (and of no route) is challenged
// as on a challenge: pow route, whatever its own setting; clients keep the
// clearances they earn.
func (g *Gateway) SetUnderAttack(on bool) {
	mode := ModeOff
	if on {
		mode = ModeOn
	}
	_, _ = g.SetAttackMode(mode) // on and off are always valid
}

// SetAttackMode sets how under-attack mode is switched: held on or off by
// an operator, or auto, switched by the gateway from the shop's health and
// the traffic (which needs the policy's auto_under_attack; see
// AutoAttack). It returns the resulting state.
func (g *Gateway) SetAttackMode(mode string) (AttackState, error) {
	st, changed, err := g.sentinel.setMode(mode, time.Now())
	if err != nil {
		return st, fmt.Errorf("gateway: %w", err)
	}
	if changed {
		g.applyAttackState(st, "operator")
	}
	return st, nil
}

// AttackState returns under-attack mode's state.
func (g *Gateway) AttackState() AttackState { return g.sentinel.snapshot() }

func (g *Gateway) warnNoSecret() {
	g.log.Warn("no gateway challenge secret: clearances end when the gateway restarts and other gateways do not accept them")
}

// UnderAttack reports whether under-attack mode is on.
func (g *Gateway) UnderAttack() bool { return g.underAttack.Load() }

// requestPriority is the priority of a request of route rt (nil: none):
// the route's, or normal.
func requestPriority(rt *Route) int {
	if rt != nil {
		return rt.Priority
	}
	return PriorityNormal
}

// trusted reports whether the client of a request in state st has a
// customer's history: a bot score (not in shadow mode) below the
// admission's trusted_below over at least trusted_after requests, and a
// user agent its handshake and headers do not belie. Under attack such a
// client is not challenged, and at the concurrency limit it is served
// first.
func (g *Gateway) trusted(st *requestState) bool {
	below, after := defaultTrustedBelow, defaultTrustedAfter
	if adm := g.cfg.Policy.Admission; adm != nil {
		below, after = adm.TrustedBelow, adm.TrustedAfter
	}
	return g.scoreCounts(st) && st.mismatch == "" && st.botScore < below && st.botSeen >= after
}

// scoreCounts reports whether the bot score of a request in state st may
// change what happens to it: there is one, and it is not in shadow mode.
func (g *Gateway) scoreCounts(st *requestState) bool {
	return st.botScore >= 0 && !g.cfg.Policy.BotScore.Shadow
}

// undoubted reports whether the bot score (not in shadow mode) has
// nothing against the client of a request in state st: a score below
// doubtfulFrom and a user agent its handshake and headers do not belie.
// In automatic under-attack mode such clients are not challenged: a
// flood's clients are doubted from their second or third request, a
// person's new visit is not.
func (g *Gateway) undoubted(st *requestState) bool {
	return g.scoreCounts(st) && st.mismatch == "" && st.botScore < doubtfulFrom
}

// classOf is the class of r's client at the concurrency limit (see
// Admission): what its user agent, its bot score over its history and its
// clearance say of it. A bot score in shadow mode says nothing.
func (g *Gateway) classOf(r *http.Request, st *requestState, keys clientKeys) int {
	bs := g.cfg.Policy.BotScore
	scored := g.scoreCounts(st)
	switch {
	case st.mismatch != "" || scored && bs.LowPriorityAbove > 0 && st.botScore >= bs.LowPriorityAbove:
		return ClassSuspect
	case st.bot != "" || scored && st.botScore >= doubtfulFrom:
		return ClassDoubtful
	case g.trusted(st):
		return ClassTrusted
	case g.challenges.cleared(r, g.challenges.client(r, keys)):
		return ClassCleared
	}
	return ClassNew
}

// requestState is what the response path needs to know of a request:
// when it started, its body (which may have been cut off) and what its
// response counts against.
type requestState struct {
	start   time.Time
	body    *minRateBody
	limited limited
	// mismatch says how the user agent and the TLS handshake (or a good
	// bot's networks) disagree ("" if they do not).
	mismatch string
	// bot names the verified good bot the request comes from ("" none).
	bot string
	// admitted is when the request got its admission slot, and
	// headersTook how long the shop then took to answer (0 until it did).
	admitted    time.Time
	headersTook time.Duration
	// decision, eventID and moderation are the risk API's answer for a
	// protected request ("" for none); protected is set for a sign-in
	// whose outcome is reported.
	decision, eventID, moderation string
	protected                     *protectedRequest
	// botScore is the client's bot score (-1: none); tracked says the
	// request is in its client's history as botTicket.
	botScore int
	// botSeen is how many of the client's requests the score looked at.
	botSeen   int
	tracked   bool
	botTicket botscore.Ticket
}

// stateKey keys a request's *requestState in its context.
type stateKey struct{}

// proxyError answers a request the upstream could not serve: 413 for a
// body over the limit, 408 for one too slow, 502 or 504 for the upstream.
func (g *Gateway) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	st, _ := r.Context().Value(stateKey{}).(*requestState)
	g.failed(w, r, st, err)
}

// failed answers a request with state st (nil: none known) that the
// upstream could not serve, as proxyError says.
func (g *Gateway) failed(w http.ResponseWriter, r *http.Request, st *requestState, err error) {
	if st != nil && st.body != nil && st.body.failure() != nil {
		// The body was cut off: that is the story, however the transport
		// told it (a broken upstream write, a canceled request).
		err = st.body.failure()
	}
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		g.stats.TooLarge.Add(1)
		refuse(w, http.StatusRequestEntityTooLarge, "request body too large", 0)
	case errors.Is(err, errTooSlow):
		g.stats.TooSlow.Add(1)
		w.Header().Set("Connection", "close")
		refuse(w, http.StatusRequestTimeout, "request body too slow", 0)
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		// The client went away: nobody to answer.
	default:
		g.stats.UpstreamErrors.Add(1)
		g.sentinel.answered(0, true)
		status := http.StatusBadGateway
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
			status = http.StatusGatewayTimeout
		}
		g.log.Warn("upstream request failed", "method", r.Method, "path", r.URL.Path, "error", err)
		refuse(w, status, "the shop did not answer", 0)
	}
}

// refuse answers with a short plain-text message (the gateway's own
// answers are read by people and by scripts alike).
func refuse(w http.ResponseWriter, status int, msg string, retryAfter time.Duration) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	if retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(int(retryAfter/time.Second)))
	}
	w.WriteHeader(status)
	fmt.Fprintln(w, msg)
}

// Serve runs the gateway on ln until ctx ends, then shuts down gracefully
// (requests in flight finish within ShutdownTimeout). It terminates TLS
// when the configuration names a certificate, and runs the upstream's
// health check when it names a path.
func (g *Gateway) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           g,
		ReadHeaderTimeout: g.cfg.ReadHeaderTimeout,
		IdleTimeout:       g.cfg.IdleTimeout,
		MaxHeaderBytes:    g.cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(g.log.Handler(), slog.LevelDebug),
	}
	ln = limitConns(ln, g.cfg.MaxConns, g.cfg.MaxConnsPerIP, g.cfg.Trusted, func() { g.stats.ConnsDropped.Add(1) })
	srv.ConnContext = withConnInfo
	if g.cfg.TLSCert != "" {
		ln = tlsprint.NewListener(ln, tlsprint.ListenerConfig{}) // captures each ClientHello for the fingerprints
		cert, err := tls.LoadX509KeyPair(g.cfg.TLSCert, g.cfg.TLSKey)
		if err != nil {
			return fmt.Errorf("gateway: tls_cert, tls_key: %w", err)
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}
		ln = tls.NewListener(ln, srv.TLSConfig)
	}
	// HTTP/1.x is served on one goroutine per connection by http1, which
	// also keeps each request's header order; TLS connections that
	// negotiate HTTP/2 go to net/http.
	h1 := &http1.Server{Handler: g, ReadHeaderTimeout: g.cfg.ReadHeaderTimeout, IdleTimeout: g.cfg.IdleTimeout,
		MaxHeaderBytes: g.cfg.MaxHeaderBytes, ConnContext: withConnInfo, Log: g.log}
	if g.cfg.TLSCert != "" {
		h1.HTTP2 = srv
	}
	hctx, stopHealth := context.WithCancel(ctx)
	defer stopHealth()
	defer g.flushDecisionLog() // after the shutdown: the last requests' decisions
	go g.flushDecisions(hctx.Done())
	if g.sentinel.auto {
		go g.watch(hctx)
	}
	if g.cfg.Health.Path != "" {
		u := *g.cfg.Upstream
		u.Path = strings.TrimSuffix(u.Path, "/") + g.cfg.Health.Path
		go g.health.run(hctx, g.client, u.String(), g.cfg.Health, g.log)
	}
	served := make(chan error, 1)
	go func() { served <- h1.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("gateway: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), g.cfg.ShutdownTimeout)
	defer cancel()
	if err := h1.Shutdown(sctx); err != nil {
		return fmt.Errorf("gateway: shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("gateway: %w", err)
	}
	if g.inline != nil {
		g.inline.wg.Wait() // the outcomes of the last sign-ins
	}
	if g.upstream != nil {
		g.upstream.close()
	}
	return nil
}

// connInfo is what the gateway knows of one client connection; its TLS
// fingerprints are computed once, for the first request that asks.
type connInfo struct {
	conn     net.Conn
	once     sync.Once
	ja3, ja4 string
	// The peer's address as its requests' RemoteAddr says it (remote),
	// parsed once for all of them (see peerOf).
	remote string
	peer   peerAddr
}

// peerAddr is a peer's address, parsed, with its text and its prefix.
type peerAddr struct {
	addr   netip.Addr
	text   string // addr.String()
	prefix string // risk.IPPrefix(addr)
	ok     bool   // the peer had an address
}

// parsePeer parses remote (a RemoteAddr).
func parsePeer(remote string) peerAddr {
	var p peerAddr
	if p.addr, p.ok = peerIP(remote); p.ok {
		p.text, p.prefix = p.addr.String(), risk.IPPrefix(p.addr)
	}
	return p
}

// connInfoKey keys a connection's *connInfo in its requests' contexts.
type connInfoKey struct{}

// withConnInfo is the server's ConnContext: every request on c carries
// c's *connInfo.
func withConnInfo(ctx context.Context, c net.Conn) context.Context {
	remote := c.RemoteAddr().String()
	return context.WithValue(ctx, connInfoKey{}, &connInfo{conn: c, remote: remote, peer: parsePeer(remote)})
}

// peerOf returns r's peer (r.RemoteAddr parsed), from r's connection
// when it was parsed there already.
func peerOf(r *http.Request) peerAddr {
	if ci, found := r.Context().Value(connInfoKey{}).(*connInfo); found && ci.remote == r.RemoteAddr {
		return ci.peer
	}
	return parsePeer(r.RemoteAddr)
}

// Fingerprints returns the JA3 hash and the JA4 fingerprint of the TLS
// connection r came on ("" for plain HTTP or a request not served by
// Serve).
func Fingerprints(r *http.Request) (ja3, ja4 string) {
	ci, ok := r.Context().Value(connInfoKey{}).(*connInfo)
	if !ok {
		return "", ""
	}
	ci.once.Do(func() {
		if h, ok := tlsprint.FromConn(ci.conn); ok {
			_, ci.ja3 = h.JA3()
			ci.ja4 = h.JA4(tlsprint.ProtocolTCP)
		}
	})
	return ci.ja3, ci.ja4
}

// The headers that tell the shop the client's TLS fingerprints. A
// client's own copies are always dropped: only the gateway says.
const (
	HeaderJA3 = "X-Shopguard-Ja3"
	HeaderJA4 = "X-Shopguard-Ja4"
)

// gatewayHeaders are the headers only the gateway sets on a request to
// the shop (canonical names): a client's own copies are dropped.
var gatewayHeaders = [...]string{"Forwarded", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host",
	HeaderJA3, HeaderJA4, HeaderHeaderOrder, HeaderMismatch, HeaderBot, HeaderBotScore, HeaderDecision, HeaderEventID, HeaderModeration}

// upstreamHeaders calls set with every header the gateway tells the shop
// about in (st is nil for a request that was not decided): how the
// client reached the gateway, its TLS and header order fingerprints, the user agent
// mismatch, the verified good bot, the bot score and the risk API's
// decision.
func (g *Gateway) upstreamHeaders(in *http.Request, st *requestState, set func(name, value string)) {
	g.cfg.Trusted.forwarded(in, set)
	if ja3, ja4 := Fingerprints(in); ja4 != "" {
		set(HeaderJA3, ja3)
		set(HeaderJA4, ja4)
	}
	if p := headerOrderPrint(in); p != "" {
		set(HeaderHeaderOrder, p)
	}
	if st == nil {
		return
	}
	decisionHeaders(st, set)
	if st.botScore >= 0 {
		set(HeaderBotScore, strconv.Itoa(st.botScore))
	}
	if st.mismatch != "" {
		set(HeaderMismatch, st.mismatch)
	}
	if st.bot != "" {
		set(HeaderBot, st.bot)
	}
}

// responded records the shop's answer to a request: its status counts
// against the request's limits (failed sign-ins, declined payments, 404s),
// in the metrics, the attack sentinel, the sign-in's outcome and the
// client's bot history. It returns the body's failure when the request's
// body was cut off: then the client hears why, not what the shop made of
// a truncated request.
func (g *Gateway) responded(st *requestState, status int) error {
	if st.body != nil && st.body.failure() != nil {
		return st.body.failure()
	}
	if st.limited.route != nil {
		g.limits.observe(st.limited, status)
	}
	if !st.admitted.IsZero() {
		st.headersTook = time.Since(st.admitted)
	}
	took := time.Since(st.start)
	g.metrics.observe(st, status, took)
	g.sentinel.answered(took, status >= 500)
	if st.protected != nil {
		g.reportOutcome(st.protected, status)
	}
	if st.tracked {
		g.bots.Answered(st.botTicket, status)
	}
	return nil
}

// copyBuffers lends the proxy the buffers it copies response bodies
// through, instead of a new 32 KiB slice per response.
type copyBuffers struct{ pool sync.Pool }

// Get returns a 32 KiB buffer.
func (b *copyBuffers) Get() []byte {
	if p, ok := b.pool.Get().(*[]byte); ok {
		return *p
	}
	return make([]byte, 32<<10)
}

// Put takes a buffer back.
func (b *copyBuffers) Put(buf []byte) {
	if cap(buf) == 32<<10 {
		buf = buf[:cap(buf)]
		b.pool.Put(&buf)
	}
}
