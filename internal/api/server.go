// Package api serves shopguard's JSON HTTP API under /v1, plus /healthz,
// /readyz, /metrics and the OpenAPI description. Every /v1 route needs an
// API key; a key acts for one tenant and sees only that tenant's data.
// Handlers return errors and errors.go maps them to statuses in one place.
package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/shopguard/shopguard/internal/apikey"
	"github.com/shopguard/shopguard/internal/content"
	"github.com/shopguard/shopguard/internal/engine"
	"github.com/shopguard/shopguard/internal/phishing"
	"github.com/shopguard/shopguard/internal/rules"
	"github.com/shopguard/shopguard/internal/storage"
)

// Engine is what the API needs from the decision engine.
type Engine interface {
	Decide(ctx context.Context, tenant string, in engine.Input) (engine.Decision, error)
	Event(ctx context.Context, tenant, id string) (storage.Event, error)
	AddFeedback(ctx context.Context, tenant string, f engine.Feedback) (storage.Label, error)
	Rules(ctx context.Context, tenant string) (engine.RuleSet, error)
	RuleSetVersion(ctx context.Context, tenant string, version int64) (engine.RuleSet, error)
	ChangeRules(ctx context.Context, tenant, author string, change func([]rules.Rule) ([]rules.Rule, error)) (engine.RuleSet, error)
	Backtest(ctx context.Context, tenant string, req engine.BacktestRequest) (engine.BacktestReport, error)
	Lists(ctx context.Context, tenant string) ([]engine.ListInfo, error)
	List(ctx context.Context, tenant, name string) (engine.ListInfo, []string, error)
	CreateList(ctx context.Context, tenant string, l rules.List) error
	UpdateList(ctx context.Context, tenant string, l rules.List) error
	DeleteList(ctx context.Context, tenant, name string) error
	EditEntries(ctx context.Context, tenant, name string, values []string, remove bool) (int, error)
	ValidateRules(ctx context.Context, tenant string, rs []rules.Rule) error
}

// Authenticator verifies API keys.
type Authenticator interface {
	Authenticate(ctx context.Context, header string) (apikey.Key, error)
}

// Metrics records request metrics and serves them.
type Metrics interface {
	ObserveRequest(route, method string, code int, latency time.Duration)
	InFlight(delta float64)
	Handler() http.Handler
}

// Pinger reports readiness of a dependency.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Store is the storage the API uses directly: readiness and the audit log
// (every change to rules and lists made through the API is recorded).
type Store interface {
	Pinger
	AppendAudit(ctx context.Context, e *storage.AuditEntry) error
}

// Config configures the API server.
type Config struct {
	// MaxBodyBytes caps request bodies.
	MaxBodyBytes int64
	// OpenAPI is the API description served at /v1/openapi.yaml.
	OpenAPI []byte
	// Version is shopguard's version, reported by /healthz.
	Version string
	// Passwords answers GET /v1/passwords/range/{prefix} (nil: 404).
	Passwords PasswordRanges
	// PublicURL prefixes links to the hosted pages ("" gives paths).
	PublicURL string
}

// PasswordRanges answers k-anonymity range queries over known-bad
// passwords (an *account.Passwords).
type PasswordRanges interface {
	Range(prefix string) ([]string, error)
}

// Server is the HTTP API.
type Server struct {
	cfg        Config
	eng        Engine
	auth       Authenticator
	metrics    Metrics
	ready      Store
	models     ModelAdmin
	hooks      Webhooks
	factors    Authenticators
	challenges Challenges
	passkeys   Passkeys
	links      HostedLinks
	devices    RememberedDevices
	typing     Typing
	urls       URLChecker
	phishing   phishingDeps
	messages   MessageChecker
	content    ContentAnalyzer
	assistant  assistantDeps
	log        *slog.Logger
	mux        *http.ServeMux
	now        func() time.Time
}

// New returns the API server.
func New(cfg Config, eng Engine, auth Authenticator, metrics Metrics, ready Store, log *slog.Logger) *Server {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	checker := phishing.NewChecker(nil)
	s := &Server{cfg: cfg, eng: eng, auth: auth, metrics: metrics, ready: ready, log: log, mux: http.NewServeMux(), now: time.Now,
		urls: checker, messages: checker, content: content.NewAnalyzer(checker)}
	s.routes()
	return s
}

// handlerFunc is a handler that returns its error for writeError.
type handlerFunc func(w http.ResponseWriter, r *http.Request, key apikey.Key) error

func (s *Server) routes() {
	v1 := func(pattern string, scope apikey.Scope, h handlerFunc) {
		s.mux.Handle(pattern, s.authenticated(scope, h))
	}
	v1("POST /v1/transactions", apikey.ScopeEventsWrite, s.postTransaction)
	v1("POST /v1/logins", apikey.ScopeEventsWrite, s.postLogin)
	v1("POST /v1/signups", apikey.ScopeEventsWrite, s.postSignup)
	v1("POST /v1/sessions/check", apikey.ScopeEventsWrite, s.postSessionCheck)
	v1("POST /v1/urls/check", apikey.ScopeEventsWrite, s.postURLCheck)
	v1("POST /v1/messages/check", apikey.ScopeEventsWrite, s.postMessageCheck)
	v1("POST /v1/content", apikey.ScopeEventsWrite, s.postContent)
	// Perspective's path and ?key= authentication, for its clients.
	s.mux.Handle("POST /v1alpha1/comments:analyze", keyParam(s.authenticated(apikey.ScopeEventsWrite, s.postCommentsAnalyze)))
	s.phishingRoutes(v1)
	s.assistantRoutes(v1)
	v1("GET /v1/passwords/range/{prefix}", apikey.ScopeEventsWrite, s.getPasswordRange)
	v1("GET /v1/events/{id}", apikey.ScopeEventsRead, s.getEvent)
	v1("POST /v1/feedback", apikey.ScopeFeedbackWrite, s.postFeedback)

	v1("GET /v1/rules", apikey.ScopeRulesRead, s.getRules)
	v1("POST /v1/rules", apikey.ScopeRulesWrite, s.audited("rule.create", s.postRule))
	v1("POST /v1/rules/validate", apikey.ScopeRulesRead, s.validateRules)
	v1("GET /v1/rules/versions/{version}", apikey.ScopeRulesRead, s.getRuleVersion)
	v1("GET /v1/rules/{name}", apikey.ScopeRulesRead, s.getRule)
	v1("PUT /v1/rules/{name}", apikey.ScopeRulesWrite, s.audited("rule.put", s.putRule))
	v1("DELETE /v1/rules/{name}", apikey.ScopeRulesWrite, s.audited("rule.delete", s.deleteRule))
	v1("POST /v1/backtests", apikey.ScopeRulesRead, s.postBacktest)

	v1("GET /v1/lists", apikey.ScopeRulesRead, s.getLists)
	v1("POST /v1/lists", apikey.ScopeRulesWrite, s.audited("list.create", s.postList))
	v1("GET /v1/lists/{name}", apikey.ScopeRulesRead, s.getList)
	v1("PATCH /v1/lists/{name}", apikey.ScopeRulesWrite, s.audited("list.update", s.patchList))
	v1("DELETE /v1/lists/{name}", apikey.ScopeRulesWrite, s.audited("list.delete", s.deleteList))
	v1("POST /v1/lists/{name}/entries", apikey.ScopeRulesWrite, s.audited("list.add", s.addEntries))
	v1("DELETE /v1/lists/{name}/entries", apikey.ScopeRulesWrite, s.audited("list.remove", s.removeEntries))

	v1("POST /v1/models/{kind}/promote", apikey.ScopeRulesWrite, s.audited("model.promote", s.promoteModel))

	v1("GET /v1/users/{user}/factors", apikey.ScopeEventsRead, needs(&s.factors, errNoAuthn, s.getFactors))
	v1("POST /v1/users/{user}/totp", apikey.ScopeEventsWrite, needs(&s.factors, errNoAuthn, s.postTOTP))
	v1("POST /v1/users/{user}/totp/confirm", apikey.ScopeEventsWrite, needs(&s.factors, errNoAuthn, s.confirmTOTP))
	v1("POST /v1/users/{user}/totp/verify", apikey.ScopeEventsWrite, needs(&s.factors, errNoAuthn, s.verifyTOTP))
	v1("DELETE /v1/users/{user}/totp", apikey.ScopeEventsWrite, needs(&s.factors, errNoAuthn, s.deleteTOTP))
	v1("POST /v1/users/{user}/recovery-codes", apikey.ScopeEventsWrite, needs(&s.factors, errNoAuthn, s.postRecoveryCodes))
	v1("POST /v1/users/{user}/recovery-codes/verify", apikey.ScopeEventsWrite, needs(&s.factors, errNoAuthn, s.verifyRecoveryCode))

	v1("GET /v1/passkeys/relying-party", apikey.ScopeRulesRead, needs(&s.passkeys, errNoPasskeys, s.getRelyingParty))
	v1("PUT /v1/passkeys/relying-party", apikey.ScopeRulesWrite, s.audited("passkeys.relying_party", needs(&s.passkeys, errNoPasskeys, s.putRelyingParty)))
	v1("POST /v1/users/{user}/passkeys/registrations", apikey.ScopeEventsWrite, needs(&s.passkeys, errNoPasskeys, s.beginPasskeyRegistration))
	v1("POST /v1/users/{user}/passkeys", apikey.ScopeEventsWrite, needs(&s.passkeys, errNoPasskeys, s.postPasskey))
	v1("GET /v1/users/{user}/passkeys", apikey.ScopeEventsRead, needs(&s.passkeys, errNoPasskeys, s.getPasskeys))
	v1("PATCH /v1/users/{user}/passkeys/{id}", apikey.ScopeEventsWrite, needs(&s.passkeys, errNoPasskeys, s.patchPasskey))
	v1("DELETE /v1/users/{user}/passkeys/{id}", apikey.ScopeEventsWrite, needs(&s.passkeys, errNoPasskeys, s.deletePasskey))
	v1("DELETE /v1/users/{user}/remembered-devices", apikey.ScopeEventsWrite, needs(&s.devices, errNoDevices, s.deleteRememberedDevices))
	v1("POST /v1/users/{user}/enrolment-links", apikey.ScopeEventsWrite, needs(&s.links, errNoLinks, s.postEnrolmentLink))

	v1("POST /v1/challenges", apikey.ScopeEventsWrite, needs(&s.challenges, errNoChallenges, s.postChallenge))
	v1("GET /v1/challenges/keys", apikey.ScopeEventsRead, needs(&s.challenges, errNoChallenges, s.getChallengeKeys))
	v1("POST /v1/challenges/verify", apikey.ScopeEventsWrite, needs(&s.challenges, errNoChallenges, s.verifyChallenge))
	v1("GET /v1/challenges/{id}", apikey.ScopeEventsRead, needs(&s.challenges, errNoChallenges, s.getChallenge))
	v1("POST /v1/challenges/{id}/answer", apikey.ScopeEventsWrite, needs(&s.challenges, errNoChallenges, s.answerChallenge))
	v1("POST /v1/challenges/{id}/passkey-options", apikey.ScopeEventsWrite, needs(&s.challenges, errNoChallenges, s.challengePasskeyOptions))

	v1("GET /v1/webhooks", apikey.ScopeRulesRead, needs(&s.hooks, errNoWebhooks, s.getWebhooks))
	v1("POST /v1/webhooks", apikey.ScopeRulesWrite, s.audited("webhook.create", needs(&s.hooks, errNoWebhooks, s.postWebhook)))
	v1("GET /v1/webhooks/types", apikey.ScopeRulesRead, needs(&s.hooks, errNoWebhooks, s.getWebhookTypes))
	v1("GET /v1/webhooks/{id}", apikey.ScopeRulesRead, needs(&s.hooks, errNoWebhooks, s.getWebhook))
	v1("PATCH /v1/webhooks/{id}", apikey.ScopeRulesWrite, s.audited("webhook.update", needs(&s.hooks, errNoWebhooks, s.patchWebhook)))
	v1("DELETE /v1/webhooks/{id}", apikey.ScopeRulesWrite, s.audited("webhook.delete", needs(&s.hooks, errNoWebhooks, s.deleteWebhook)))
	v1("POST /v1/webhooks/{id}/rotate-secret", apikey.ScopeRulesWrite, s.audited("webhook.rotate", needs(&s.hooks, errNoWebhooks, s.rotateWebhook)))
	v1("POST /v1/webhooks/{id}/test", apikey.ScopeRulesWrite, needs(&s.hooks, errNoWebhooks, s.testWebhook))
	v1("GET /v1/webhooks/{id}/deliveries", apikey.ScopeRulesRead, needs(&s.hooks, errNoWebhooks, s.getDeliveries))
	v1("POST /v1/webhooks/{id}/deliveries/{delivery}/retry", apikey.ScopeRulesWrite, needs(&s.hooks, errNoWebhooks, s.retryDelivery))

	s.mux.HandleFunc("GET /v1/openapi.yaml", s.openAPI)
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /readyz", s.readyz)
	if s.metrics != nil {
		s.mux.Handle("GET /metrics", s.metrics.Handler())
	}
}

// needs runs h with the optional component *dep (set after New, before
// serving), or answers unavailable when it is not set.
func needs[T comparable](dep *T, unavailable error, h func(http.ResponseWriter, *http.Request, apikey.Key, T) error) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, key apikey.Key) error {
		var none T
		if *dep == none {
			return unavailable
		}
		return h(w, r, key, *dep)
	}
}

// audited records a successful change in the audit log: who (the key),
// what and where. The change itself is already made; a failure to record
// it is logged as an error, never reported to the caller as a failed change.
func (s *Server) audited(action string, h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, key apikey.Key) error {
		if err := h(w, r, key); err != nil {
			return err
		}
		target := r.PathValue("name")
		if target == "" {
			target = r.URL.Path
		}
		e := storage.AuditEntry{Tenant: key.Tenant, At: s.now(), Actor: author(key), Action: action, Target: target,
			Detail: r.Method + " " + r.URL.Path}
		if err := s.ready.AppendAudit(r.Context(), &e); err != nil {
			s.log.Error("audit entry lost", "action", action, "target", target, "error", err)
		}
		return nil
	}
}

// SetModelAdmin lets the API promote trained models (without it, the
// promotion route answers 409).
func (s *Server) SetModelAdmin(m ModelAdmin) { s.models = m }

// Handler returns the server's root handler with recovery, request ids,
// metrics and JSON 404/405 answers.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(s.serveHTTP)
}

// methods probed to tell a 405 from a 404.
var methods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := r.Header.Get("X-Request-Id")
	if !validRequestID(id) {
		var b [8]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	r = r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id))
	w.Header().Set("X-Request-Id", id)
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	if s.metrics != nil {
		s.metrics.InFlight(1)
	}
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("panic serving request", "method", r.Method, "path", r.URL.Path, "request_id", id,
				"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			if !rec.wrote {
				s.writeError(rec, r, fmt.Errorf("panic: %v", p))
			}
		}
		if s.metrics != nil {
			s.metrics.InFlight(-1)
			s.metrics.ObserveRequest(r.Pattern, r.Method, rec.status, time.Since(start))
		}
	}()
	if _, pattern := s.mux.Handler(r); pattern == "" {
		s.writeError(rec, r, s.unrouted(r))
		return
	}
	s.mux.ServeHTTP(rec, r) // sets r.Pattern and the path values
}

// unrouted returns the 404 or 405 error for a request no route matched.
func (s *Server) unrouted(r *http.Request) error {
	var allowed []string
	for _, m := range methods {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, p := s.mux.Handler(probe); p != "" {
			allowed = append(allowed, m)
		}
	}
	if len(allowed) > 0 {
		return newStatusError(http.StatusMethodNotAllowed, "method_not_allowed", "",
			fmt.Sprintf("%s is not allowed on %s; use %s", r.Method, r.URL.Path, strings.Join(allowed, ", ")))
	}
	return newStatusError(http.StatusNotFound, "not_found", "", fmt.Sprintf("no route %s %s; see /v1/openapi.yaml", r.Method, r.URL.Path))
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

type requestIDKey struct{}

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// recorder remembers the status written, for metrics and recovery.
type recorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// authenticated wraps h with API-key authentication and a scope check.
func (s *Server) authenticated(scope apikey.Scope, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, err := s.auth.Authenticate(r.Context(), r.Header.Get("Authorization"))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if !key.Allows(scope) {
			s.writeError(w, r, newStatusError(http.StatusForbidden, "forbidden", "",
				fmt.Sprintf("this API key lacks the scope %s", scope)))
			return
		}
		if err := h(w, r, key); err != nil {
			s.writeError(w, r, err)
		}
	})
}

func (s *Server) openAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	_, _ = w.Write(s.cfg.OpenAPI)
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": s.cfg.Version})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if s.ready != nil {
		if err := s.ready.Ping(ctx); err != nil {
			s.log.Warn("not ready", "error", err)
			writeJSON(w, http.StatusServiceUnavailable, errorBody{apiError{Code: "unavailable",
				Message: "storage is not reachable; see shopguard's log", RequestID: requestID(r.Context())}})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
