// Package dashboard is the analysts' web application: sign-in, the live
// overview, events and their entities, the review queue, rules with
// backtests, lists, API keys, users and the audit log. Pages are rendered
// on the server (html/template); a little JavaScript refreshes the live
// parts. Every page needs a session, every form a CSRF token, and every
// query is scoped to the signed-in user's tenant.
package dashboard

import (
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/shopguard/shopguard/internal/authn/webauthnjs"
	"github.com/shopguard/shopguard/internal/engine"
	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/rules"
	"github.com/shopguard/shopguard/internal/storage"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Prefix is where the dashboard is mounted.
const Prefix = "/dashboard"

// Engine is what the dashboard needs of the decision engine.
type Engine interface {
	Event(ctx context.Context, tenant, id string) (storage.Event, error)
	AddFeedback(ctx context.Context, tenant string, f engine.Feedback) (storage.Label, error)
	Rules(ctx context.Context, tenant string) (engine.RuleSet, error)
	RuleSetVersion(ctx context.Context, tenant string, version int64) (engine.RuleSet, error)
	ChangeRules(ctx context.Context, tenant, author string, change func([]rules.Rule) ([]rules.Rule, error)) (engine.RuleSet, error)
	ValidateRules(ctx context.Context, tenant string, rs []rules.Rule) error
	Backtest(ctx context.Context, tenant string, req engine.BacktestRequest) (engine.BacktestReport, error)
	Lists(ctx context.Context, tenant string) ([]engine.ListInfo, error)
	List(ctx context.Context, tenant, name string) (engine.ListInfo, []string, error)
	CreateList(ctx context.Context, tenant string, l rules.List) error
	DeleteList(ctx context.Context, tenant, name string) error
	EditEntries(ctx context.Context, tenant, name string, values []string, remove bool) (int, error)
	Kinds() []risk.EventKind
}

// Store is what the dashboard reads and writes directly.
type Store interface {
	storage.UserStore
	storage.SessionStore
	storage.AuditLog
	storage.CaseStore
	storage.EventSearcher
	storage.StatsReader
	storage.KeyStore
}

// Config configures the dashboard.
type Config struct {
	// SessionTTL is how long a sign-in lasts (default 12h).
	SessionTTL time.Duration
	// SecureCookies marks cookies Secure (set it when TLS terminates in
	// front of shopguard; requests over TLS get it anyway).
	SecureCookies bool
	// ScanLimit bounds searches to the newest events of the store (default 200,000).
	ScanLimit int64
	// Gateways are the admin base URLs of the gateways the Gateways page
	// shows (see config.ParseGateways).
	Gateways []string
	// Now returns the time (time.Now when nil).
	Now func() time.Time
}

// Server serves the dashboard under Prefix.
type Server struct {
	cfg       Config
	reports   PhishingReports
	confirmer ReportConfirmer
	passkeys  Passkeys
	eng       Engine
	store     Store
	log       *slog.Logger
	pages     map[string]*template.Template
	mux       *http.ServeMux
	limiter   *limiter
	// gatewayClient reads the gateways' admin addresses.
	gatewayClient *http.Client
}

// New returns the dashboard over eng and store.
func New(cfg Config, eng Engine, store Store, log *slog.Logger) (*Server, error) {
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.ScanLimit <= 0 {
		cfg.ScanLimit = 200_000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{cfg: cfg, eng: eng, store: store, log: log, pages: map[string]*template.Template{},
		mux: http.NewServeMux(), limiter: newLimiter(5, 15*time.Minute, cfg.Now),
		gatewayClient: &http.Client{Timeout: gatewayTimeout, Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 2}}}
	if err := s.parseTemplates(); err != nil {
		return nil, err
	}
	s.routes()
	return s, nil
}

func (s *Server) parseTemplates() error {
	entries, err := templateFS.ReadDir("templates")
	if err != nil {
		return fmt.Errorf("dashboard: templates: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		if name == "layout.html" || strings.HasPrefix(name, "_") {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).Funcs(moderationFuncs()).ParseFS(templateFS, "templates/layout.html", "templates/_*.html", "templates/"+name)
		if err != nil {
			return fmt.Errorf("dashboard: template %s: %w", name, err)
		}
		s.pages[strings.TrimSuffix(name, ".html")] = t
	}
	return nil
}

// role requirements of routes.
const (
	anyone    = ""
	adminOnly = "admin"
)

func (s *Server) routes() {
	static, _ := fs.Sub(staticFS, "static")
	s.mux.Handle("GET "+Prefix+"/static/", http.StripPrefix(Prefix+"/static/", http.FileServerFS(static)))
	s.mux.HandleFunc("GET "+Prefix+"/signin", s.signInPage)
	s.mux.HandleFunc("POST "+Prefix+"/signin", s.signIn)
	s.mux.Handle("GET "+Prefix+"/static/webauthn.js", webauthnjs.Handler())
	s.mux.HandleFunc("POST "+Prefix+"/signin/passkey/options", s.passkeySignInOptions)
	s.mux.HandleFunc("POST "+Prefix+"/signin/passkey", s.passkeySignIn)
	s.mux.HandleFunc("GET "+Prefix+"/account", s.page(anyone, s.accountPage))
	s.mux.HandleFunc("POST "+Prefix+"/account/passkeys/options", s.jsonPage(s.passkeyOptions))
	s.mux.HandleFunc("POST "+Prefix+"/account/passkeys", s.jsonPage(s.passkeyAdd))
	s.mux.HandleFunc("POST "+Prefix+"/account/passkeys/{id}/delete", s.page(anyone, s.passkeyRemove))
	s.mux.HandleFunc("GET "+Prefix+"/{$}", s.page(anyone, s.overview))
	s.mux.HandleFunc("GET "+Prefix+"/live", s.page(anyone, s.live))
	s.mux.HandleFunc("POST "+Prefix+"/signout", s.page(anyone, s.signOut))
	s.mux.HandleFunc("GET "+Prefix+"/events", s.page(anyone, s.events))
	s.mux.HandleFunc("GET "+Prefix+"/events/{id}", s.page(anyone, s.event))
	s.mux.HandleFunc("POST "+Prefix+"/events/{id}/verdict", s.page(anyone, s.verdict))
	s.mux.HandleFunc("POST "+Prefix+"/events/{id}/assign", s.page(anyone, s.assign))
	s.mux.HandleFunc("POST "+Prefix+"/events/{id}/note", s.page(anyone, s.note))
	s.mux.HandleFunc("GET "+Prefix+"/review", s.page(anyone, s.review))
	s.moderationRoutes()
	s.reportRoutes()
	s.mux.HandleFunc("GET "+Prefix+"/rules", s.page(anyone, s.rulesPage))
	s.mux.HandleFunc("GET "+Prefix+"/rules/new", s.page(adminOnly, s.ruleForm))
	s.mux.HandleFunc("GET "+Prefix+"/rules/edit/{name}", s.page(adminOnly, s.ruleForm))
	s.mux.HandleFunc("POST "+Prefix+"/rules/edit", s.page(adminOnly, s.ruleSubmit))
	s.mux.HandleFunc("POST "+Prefix+"/rules/mode/{name}", s.page(adminOnly, s.ruleMode))
	s.mux.HandleFunc("POST "+Prefix+"/rules/delete/{name}", s.page(adminOnly, s.ruleDelete))
	s.mux.HandleFunc("GET "+Prefix+"/rules/versions", s.page(anyone, s.ruleVersions))
	s.mux.HandleFunc("GET "+Prefix+"/rules/versions/{version}", s.page(anyone, s.ruleVersion))
	s.mux.HandleFunc("GET "+Prefix+"/lists", s.page(anyone, s.listsPage))
	s.mux.HandleFunc("POST "+Prefix+"/lists", s.page(adminOnly, s.listCreate))
	s.mux.HandleFunc("GET "+Prefix+"/lists/{name}", s.page(anyone, s.listPage))
	s.mux.HandleFunc("POST "+Prefix+"/lists/{name}/entries", s.page(adminOnly, s.listEntries))
	s.mux.HandleFunc("POST "+Prefix+"/lists/{name}/delete", s.page(adminOnly, s.listDelete))
	s.mux.HandleFunc("GET "+Prefix+"/keys", s.page(adminOnly, s.keysPage))
	s.mux.HandleFunc("POST "+Prefix+"/keys", s.page(adminOnly, s.keyCreate))
	s.mux.HandleFunc("POST "+Prefix+"/keys/{id}/revoke", s.page(adminOnly, s.keyRevoke))
	s.mux.HandleFunc("GET "+Prefix+"/users", s.page(adminOnly, s.usersPage))
	s.mux.HandleFunc("POST "+Prefix+"/users", s.page(adminOnly, s.userCreate))
	s.mux.HandleFunc("POST "+Prefix+"/users/{name}/disable", s.page(adminOnly, s.userDisable))
	s.mux.HandleFunc("GET "+Prefix+"/gateways", s.page(anyone, s.gatewaysPage))
	s.mux.HandleFunc("POST "+Prefix+"/gateways/mode", s.page(adminOnly, s.gatewayMode))
	s.mux.HandleFunc("GET "+Prefix+"/audit", s.page(anyone, s.auditPage))
	s.mux.HandleFunc("GET "+Prefix+"/audit.csv", s.page(anyone, s.auditCSV))
	s.mux.HandleFunc(Prefix+"/", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := s.current(r); !ok {
			http.Redirect(w, r, Prefix+"/signin", http.StatusSeeOther)
			return
		}
		s.fail(w, r, nil, http.StatusNotFound, "There is no such page.")
	})
}

// ServeHTTP serves the dashboard with its security headers.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	s.mux.ServeHTTP(w, r)
}

// view is what every page template gets.
type view struct {
	Title   string
	Nav     string
	User    *storage.User
	CSRF    string
	Flash   string
	Error   string
	Errors  map[string]string
	Now     time.Time
	Data    any
	Prefix  string
	IsAdmin bool
}

func (s *Server) render(w http.ResponseWriter, status int, name string, v view) {
	v.Prefix, v.Now = Prefix, s.cfg.Now()
	if v.User != nil {
		v.IsAdmin = v.User.Role == RoleAdmin
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if len(v.Errors) > 0 {
		w.Header().Set("X-Error-Fields", strings.Join(slices.Sorted(maps.Keys(v.Errors)), ","))
	}
	w.WriteHeader(status)
	t := s.pages[name]
	if t == nil {
		s.log.Error("dashboard: no template", "name", name)
		return
	}
	if err := t.Execute(w, v); err != nil {
		s.log.Error("dashboard: render", "page", name, "error", err)
	}
}

// fail renders an error page.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, sess *session, status int, msg string) {
	v := view{Title: http.StatusText(status), Error: msg}
	if sess != nil {
		v.User, v.CSRF = &sess.user, sess.csrf
	}
	s.render(w, status, "error", v)
}

// audit records a change; a failure is logged, never hidden from the log.
func (s *Server) audit(ctx context.Context, sess *session, action, target, detail string) {
	e := storage.AuditEntry{Tenant: sess.user.Tenant, At: s.cfg.Now(), Actor: "user:" + sess.user.Name,
		Action: action, Target: target, Detail: detail}
	if err := s.store.AppendAudit(ctx, &e); err != nil {
		s.log.Error("dashboard: audit entry lost", "action", action, "target", target, "error", err)
	}
}
