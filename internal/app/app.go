// Package app is shopguard's composition root: it builds every component
// from the configuration, runs them and shuts them down. It is the only
// package that imports concrete storage backends.
package app

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/shopguard/shopguard/docs"
	"github.com/shopguard/shopguard/internal/account"
	"github.com/shopguard/shopguard/internal/api"
	"github.com/shopguard/shopguard/internal/apikey"
	"github.com/shopguard/shopguard/internal/assistant"
	"github.com/shopguard/shopguard/internal/authn"
	"github.com/shopguard/shopguard/internal/config"
	"github.com/shopguard/shopguard/internal/content"
	"github.com/shopguard/shopguard/internal/dashboard"
	"github.com/shopguard/shopguard/internal/engine"
	"github.com/shopguard/shopguard/internal/features"
	"github.com/shopguard/shopguard/internal/fraud"
	"github.com/shopguard/shopguard/internal/geo"
	"github.com/shopguard/shopguard/internal/http1"
	"github.com/shopguard/shopguard/internal/notify"
	"github.com/shopguard/shopguard/internal/reference"
	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/rules"
	"github.com/shopguard/shopguard/internal/stepup"
	"github.com/shopguard/shopguard/internal/storage"
	"github.com/shopguard/shopguard/internal/storage/memory"
	"github.com/shopguard/shopguard/internal/storage/postgres"
	"github.com/shopguard/shopguard/internal/storage/redis"
	"github.com/shopguard/shopguard/internal/storage/sqlite"
	"github.com/shopguard/shopguard/internal/telemetry"
)

// snapshotFile is the feature-store snapshot inside the data directory.
const snapshotFile = "features.snap"

// OpenStorage opens the storage backend the configuration names, creating
// the data directory if needed.
func OpenStorage(ctx context.Context, cfg config.Config) (storage.Backend, error) {
	switch cfg.Storage.Driver {
	case config.DriverMemory:
		return memory.New(), nil
	}
	if cfg.Storage.DataDir != "" {
		if err := os.MkdirAll(cfg.Storage.DataDir, 0o750); err != nil {
			return nil, fmt.Errorf("app: data directory: %w", err)
		}
	}
	switch cfg.Storage.Driver {
	case config.DriverSQLite:
		return sqlite.Open(ctx, filepath.Join(cfg.Storage.DataDir, "shopguard.db"), sqlite.Options{
			Synchronous: cfg.Storage.Synchronous,
			CommitBatch: cfg.Storage.CommitBatch,
			CommitDelay: cfg.Storage.CommitDelay,
		})
	case config.DriverPostgres:
		return postgres.Open(ctx, cfg.Storage.URL, postgres.Options{
			NoMigrate:   !cfg.Storage.MigrateOnStart,
			CommitBatch: cfg.Storage.CommitBatch,
			CommitDelay: cfg.Storage.CommitDelay,
		})
	}
	return nil, fmt.Errorf("app: unknown storage driver %q", cfg.Storage.Driver)
}

// Migrate brings the configured database's schema up to this build and
// says what it did, for `shopguard migrate`. The memory driver has no
// schema; SQLite migrates whenever it is opened.
func Migrate(ctx context.Context, cfg config.Config) (string, error) {
	switch cfg.Storage.Driver {
	case config.DriverMemory:
		return "", errors.New("the memory storage driver has no schema to migrate")
	case config.DriverPostgres:
		before, after, err := postgres.MigrateURL(ctx, cfg.Storage.URL)
		if err != nil {
			return "", err
		}
		if before == after {
			return fmt.Sprintf("postgres: schema version %d, up to date", after), nil
		}
		return fmt.Sprintf("postgres: schema version %d -> %d (%d migrations applied)", before, after, after-before), nil
	}
	st, err := OpenStorage(ctx, cfg)
	if err != nil {
		return "", err
	}
	if err := st.Close(); err != nil {
		return "", err
	}
	return "sqlite: schema up to date in " + cfg.Storage.DataDir, nil
}

// App is a running shopguard: storage, feature store, engine and API.
type App struct {
	cfg   config.Config
	log   *slog.Logger
	store storage.Backend
	// state is the shared Redis (state.url), if any.
	state *redis.State
	feats *features.Memory // nil with features.store redis
	// shared is the feature store in Redis (features.store redis), else nil.
	shared  *redis.Features
	engine  *engine.Engine
	geo     *geo.DB // nil-safe: knows nothing without databases
	metrics *telemetry.Metrics
	auth    *apikey.Authenticator
	api     *api.Server
	dash    *dashboard.Server
	stepup  *stepup.Server
	// typing and devices learn from customers' sign-ins; a takeover label
	// makes them unlearn (ObserveLabel).
	typing  *authn.Typing
	devices *authn.Devices
	notify  *notify.Notifier
	urls    *urlChecks
	content *contentModels

	snapMu sync.Mutex // one snapshot at a time

	// With a shared store, the engine counts other instances' decisions:
	// kick asks the follow loop for a catch-up, stopFollow ends it.
	kick       chan struct{}
	stopFollow chan struct{}
	followDone chan struct{}
}

// changeWatcher is a storage backend that several instances share and
// that tells of changes made through any of them.
type changeWatcher interface {
	WatchChanges(fn func(storage.Change), onErr func(error))
}

// applyChange takes in what another instance changed: new decisions and
// labels are counted by the follow loop, a tenant's rules and lists are
// reloaded, and everything when changes may have been missed.
func (a *App) applyChange(c storage.Change) {
	if c.Topic == "" || c.Topic == storage.ChangeModels {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		a.ReloadModels(ctx)
		cancel()
		if c.Topic != "" {
			return
		}
	}
	if c.Topic == "" || c.Topic == storage.ChangeEvents || c.Topic == storage.ChangeLabels {
		if a.kick != nil {
			select {
			case a.kick <- struct{}{}:
			default: // a catch-up is already due
			}
		}
		if c.Topic != "" {
			return
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.engine.Reload(ctx, c.Tenant); err != nil {
		a.log.Error("reloading rules and lists changed elsewhere", "tenant", c.Tenant, "error", err)
	}
}

// announcer is a shared store that can tell every instance of a change
// made outside it (a model promoted in the shared model directory).
type announcer interface {
	Announce(ctx context.Context, topic, tenant string) error
}

// announce tells the other instances sharing the store of a change, when
// the store can; they also notice models by polling, within modelPoll.
func (a *App) announce(ctx context.Context, topic, tenant string) {
	if an, ok := a.store.(announcer); ok {
		if err := an.Announce(ctx, topic, tenant); err != nil {
			a.log.Warn("telling the other instances of a change failed; they poll for it", "topic", topic, "error", err)
		}
	}
}

// followInterval is how often the follow loop catches up without being
// told of new decisions (a missed notification costs at most this long).
const followInterval = time.Second

// follow counts other instances' decisions and labels into this one's
// feature store whenever told of new ones, and every followInterval,
// until stopFollow is closed.
func (a *App) follow() {
	defer close(a.followDone)
	t := time.NewTicker(followInterval)
	defer t.Stop()
	for {
		select {
		case <-a.stopFollow:
			return
		case <-a.kick:
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		events, labels, err := a.engine.CatchUp(ctx)
		cancel()
		a.metrics.ObserveCatchUp(events, labels, err)
		if err != nil {
			a.log.Warn("counting other instances' decisions; will retry", "error", err)
		}
	}
}

// Version is shopguard's version string, reported by /healthz.
func Version() string { return version() }

// New opens storage, restores the feature store (snapshot plus replay of
// later events) and builds the engine and API. Close releases it all.
func New(ctx context.Context, cfg config.Config, log *slog.Logger) (*App, error) {
	gdb, err := geo.Open(cfg.Geo.Paths()...)
	if err != nil {
		return nil, fmt.Errorf("app: geolocation (geo.country_db, geo.asn_db): %w", err)
	}
	if paths := cfg.Geo.Paths(); len(paths) > 0 {
		log.Info("geolocation databases opened", "databases", gdb.Describe())
	}
	store, err := OpenStorage(ctx, cfg)
	if err != nil {
		gdb.Close()
		return nil, err
	}
	a := &App{cfg: cfg, log: log, store: store, geo: gdb, metrics: telemetry.NewMetrics()}
	if cfg.State.URL != "" {
		// Fast state shared by every instance: the assistant's
		// conversations and, with features.store redis, the features.
		st, err := redis.Open(redis.Options{URL: cfg.State.URL, Timeout: cfg.State.Timeout, Prefix: cfg.State.Prefix})
		if err != nil {
			a.closeAll()
			return nil, fmt.Errorf("state.url: %w", err)
		}
		a.state = st
		if err := st.Ping(ctx); err != nil {
			log.Warn("shared state unreachable at start: each instance answers from its own until it is back", "error", err)
		}
	}
	if err := a.restore(ctx); err != nil {
		a.closeAll()
		return nil, err
	}
	a.ReloadModels(ctx)
	if err := a.startURLChecks(ctx); err != nil {
		a.closeAll()
		return nil, err
	}
	a.startContent()
	a.auth = apikey.NewAuthenticator(store, cfg.Server.KeyCacheTTL)
	a.api = api.New(api.Config{MaxBodyBytes: cfg.Server.MaxBodyBytes, OpenAPI: docs.OpenAPI, Version: version(),
		Passwords: account.NewPasswords(reference.CommonPasswords()), PublicURL: strings.TrimSuffix(cfg.Authn.PublicURL, "/")},
		a.engine, a.auth, a.metrics, store, log)
	if _, ok := Models(cfg, store); ok {
		a.api.SetModelAdmin(a)
	}
	if w, ok := store.(changeWatcher); ok {
		// Decisions, labels, rules and lists of other instances reach this
		// one; with features in Redis every instance counts there already.
		if log, ok := store.(engine.OthersLog); ok && a.feats != nil {
			a.engine.Follow(log)
			a.kick, a.stopFollow, a.followDone = make(chan struct{}, 1), make(chan struct{}), make(chan struct{})
			go a.follow()
		}
		w.WatchChanges(a.applyChange, func(err error) {
			log.Warn("shared storage: not hearing other instances' changes; retrying", "error", err)
		})
	}
	a.notify, err = notify.New(notify.Config{Sources: []notify.Source{account.NotificationSource()},
		Timeout: cfg.Webhooks.Timeout, Attempts: cfg.Webhooks.Attempts, Retention: cfg.Webhooks.Retention,
		AllowHTTP: cfg.Webhooks.AllowHTTP, UserAgent: "shopguard-webhooks/" + version(), Logger: log, Observer: a.metrics}, store)
	if err != nil {
		a.closeAll()
		return nil, err
	}
	a.api.SetWebhooks(a.notify)
	a.api.SetURLChecker(a.urls.checker)
	a.api.SetMessageChecker(a.urls.checker)
	a.api.SetContentAnalyzer(a.content.analyzer)
	a.api.SetPhishing(a.store)
	a.api.SetReportConfirmer(a)
	sealKey, err := sealingKey(cfg, log)
	if err != nil {
		a.closeAll()
		return nil, err
	}
	seal, err := authn.NewSealer(sealKey)
	if err != nil {
		a.closeAll()
		return nil, err
	}
	factors := authn.NewAuthenticators(authn.TOTPConfig{}, store, seal)
	a.api.SetAuthenticators(factors)
	passkeys := authn.NewPasskeys(authn.PasskeyConfig{}, store, sealKey)
	a.api.SetPasskeys(passkeys)
	a.devices = authn.NewDevices(authn.DevicesConfig{}, store, sealKey)
	a.api.SetDevices(a.devices)
	challenges := authn.NewChallenges(authn.ChallengeConfig{}, store,
		authn.ChallengeFactors{Apps: factors, Passkeys: passkeys, Devices: a.devices}, sealKey)
	a.api.SetChallenges(challenges)
	links := authn.NewLinks(sealKey)
	a.api.SetLinks(links)
	if a.stepup, err = stepup.New(stepup.Config{MaxBodyBytes: cfg.Server.MaxBodyBytes}, challenges, passkeys, factors, links, a.api.WriteError, log); err != nil {
		a.closeAll()
		return nil, err
	}
	answers, err := loadAnswers(cfg.Assistant.AnswersFile)
	if err != nil {
		a.closeAll()
		return nil, err
	}
	writer, err := newWriter(cfg.Assistant)
	if err != nil {
		a.closeAll()
		return nil, err
	}
	var convs assistant.Conversations
	if a.state != nil {
		// Conversations shared by every instance of the API.
		convs = a.state.Conversations(24 * time.Hour)
	}
	bot, err := assistant.New(assistant.Config{Answers: answers}, assistant.Deps{Writer: writer, Conversations: convs, Messages: a.urls.checker, Shops: a.api.ShopProfiles(), Reports: store,
		Registry: store, StepUps: challenges, Pages: hostedPages{publicURL: strings.TrimSuffix(cfg.Authn.PublicURL, "/"), links: links}})
	if err != nil {
		a.closeAll()
		return nil, err
	}
	a.api.SetAssistant(bot, assistant.NewTokens(sealKey), store)
	a.typing = authn.NewTyping(authn.TypingConfig{}, store)
	a.api.SetTyping(a.typing)
	gateways, err := config.ParseGateways(cfg.Server.Gateways)
	if err != nil {
		a.closeAll()
		return nil, fmt.Errorf("server.gateways: %w", err)
	}
	a.dash, err = dashboard.New(dashboard.Config{SessionTTL: cfg.Server.SessionTTL, Gateways: gateways}, a.engine, store, log)
	if err != nil {
		a.closeAll()
		return nil, err
	}
	a.dash.SetPasskeys(passkeys)
	a.dash.SetPhishingReports(store, a)
	return a, nil
}

// loadAnswers reads the shop's own answers for the assistant
// (assistant.answers_file): a YAML mapping of intent to text.
func loadAnswers(path string) (map[string]string, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("app: assistant.answers_file: %w", err)
	}
	var answers map[string]string
	if err := yaml.Unmarshal(b, &answers); err != nil {
		return nil, fmt.Errorf("app: assistant.answers_file %s: want a mapping of intent to text: %w", path, err)
	}
	return answers, nil
}

// newWriter returns the assistant's language model (assistant.llm_url),
// or nil when none is configured.
func newWriter(c config.Assistant) (assistant.Writer, error) {
	if c.LLMURL == "" {
		return nil, nil
	}
	var key string
	if c.LLMKeyFile != "" {
		b, err := os.ReadFile(c.LLMKeyFile)
		if err != nil {
			return nil, fmt.Errorf("app: assistant.llm_key_file: %w", err)
		}
		key = strings.TrimSpace(string(b))
	}
	w, err := assistant.NewOpenAI(assistant.OpenAIConfig{URL: c.LLMURL, Model: c.LLMModel, Key: key, Timeout: c.LLMTimeout})
	if err != nil {
		return nil, fmt.Errorf("app: assistant.llm_url: %w", err)
	}
	return w, nil
}

// hostedPages makes the addresses of the hosted step-up pages.
type hostedPages struct {
	publicURL string
	links     *authn.Links
}

// ChallengeURL implements assistant.HostedPages.
func (p hostedPages) ChallengeURL(tenant, id, returnURL string) string {
	return p.publicURL + p.links.ChallengePath(tenant, id, returnURL)
}

// sealingKey returns the key that seals customers' authenticator secrets
// (and from which approval tokens' signing key is derived): the key in
// authn.key_file, or in authn.key in the data directory (made on the
// first start); memory storage, which forgets everything anyway, gets a
// new key each start.
func sealingKey(cfg config.Config, log *slog.Logger) ([]byte, error) {
	path := cfg.Authn.KeyFile
	if path == "" && cfg.Storage.Driver != config.DriverMemory && cfg.Storage.DataDir != "" {
		path = filepath.Join(cfg.Storage.DataDir, "authn.key")
	}
	var key []byte
	if path == "" {
		key = make([]byte, authn.KeySize)
		_, _ = rand.Read(key)
		log.Debug("authn: memory storage, a new sealing key for this run")
	} else {
		k, err := authn.LoadOrCreateKey(path)
		if err != nil {
			return nil, fmt.Errorf("app: authn.key_file: %w", err)
		}
		key = k
	}
	return key, nil
}

// closeAll releases storage and the geolocation databases.
func (a *App) closeAll() error {
	if a.stopFollow != nil {
		close(a.stopFollow)
		<-a.followDone
		a.stopFollow = nil
	}
	var serr error
	if a.state != nil {
		serr = a.state.Close()
	}
	return errors.Join(a.store.Close(), a.geo.Close(), serr)
}

// buildEngine makes a fresh feature store (or, with features.store
// redis, opens the shared one) and an engine over it.
func (a *App) buildEngine() error {
	var feats features.Store
	if a.cfg.Features.Store == config.FeaturesRedis {
		a.feats = nil
		if a.shared == nil {
			a.shared = a.state.Features(featuresConfig(a.cfg), a.log)
			a.metrics.Gauge("shopguard_features_shared_degraded",
				"1 while the shared feature store (Redis, features.store redis) is unreachable and this instance's own counters answer.",
				func() float64 { return b2f(a.shared.Degraded()) })
		}
		feats = a.shared
	} else {
		a.feats = newFeatures(a.cfg)
		feats = a.feats
	}
	var locator engine.Locator
	if len(a.cfg.Geo.Paths()) > 0 {
		locator = a.geo
	}
	eng, err := newEngine(a.cfg, a.store, feats, engine.Config{Logger: a.log, Observer: a.metrics, Geo: locator, Labels: a})
	if err != nil {
		return err
	}
	a.engine = eng
	return nil
}

// newFeatures returns the in-memory feature store cfg asks for.
func newFeatures(cfg config.Config) *features.Memory {
	return features.NewMemory(featuresConfig(cfg))
}

// featuresConfig is the configuration of the feature store cfg asks for.
func featuresConfig(cfg config.Config) features.MemoryConfig {
	return features.MemoryConfig{History: account.HistoryScopes(cfg.Account.History)}
}

// newEngine returns an engine over store and feats with every event kind,
// cfg's thresholds and the built-in lists; ec gives the rest.
func newEngine(cfg config.Config, store engine.Store, feats features.Store, ec engine.Config) (*engine.Engine, error) {
	ec.Thresholds = map[risk.EventKind]risk.Thresholds{}
	for _, k := range risk.EventKinds {
		ec.Thresholds[k] = cfg.Decisions.For(k)
	}
	ec.BuiltinLists = rules.BuiltinLists()
	reputation, err := cfg.Account.ReputationTable()
	if err != nil {
		return nil, fmt.Errorf("app: account.reputation_lists: %w", err)
	}
	return engine.New(ec, store, feats, fraud.Kind{}, account.LoginKind{Reputation: reputation}, account.SignupKind{}, content.Kind{})
}

// scratchEvents is how many recent events a scratch engine's storage keeps.
const scratchEvents = 20_000

// NewScratchEngine returns an engine over fresh in-memory storage and
// feature store, with cfg's thresholds and IP addresses located by loc
// (nil: none), and its storage: for simulations and evaluations that must
// leave the data directory alone. The storage keeps only the latest
// 20,000 to 40,000 events, so that a long simulation runs in bounded
// memory.
func NewScratchEngine(cfg config.Config, loc engine.Locator, log *slog.Logger) (*engine.Engine, storage.Backend, error) {
	store := memory.NewBounded(scratchEvents)
	eng, err := newEngine(cfg, store, newFeatures(cfg), engine.Config{Geo: loc, Logger: log})
	if err != nil {
		return nil, nil, errors.Join(err, store.Close())
	}
	return eng, store, nil
}

// restore rebuilds the feature store: from the snapshot plus the events
// after it, or, if the snapshot is missing or unreadable, from every event.
func (a *App) restore(ctx context.Context) error {
	if err := a.buildEngine(); err != nil {
		return err
	}
	if a.feats == nil {
		a.log.Info("features are shared in Redis (features.store redis): nothing to restore")
		return nil
	}
	path := a.snapshotPath()
	if path != "" {
		f, err := os.Open(path)
		switch {
		case err == nil:
			st, rerr := a.engine.Restore(ctx, f)
			f.Close()
			if rerr == nil {
				a.log.Info("features restored", "snapshot_seq", st.SnapshotSeq, "replayed", st.Replayed,
					"skipped", st.Skipped, "keys", a.feats.Len(), "took", st.Duration.Round(time.Millisecond))
				return nil
			}
			a.log.Warn("feature snapshot unreadable; rebuilding features from the event log", "path", path, "error", rerr)
			if err := a.buildEngine(); err != nil {
				return err
			}
		case !errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("app: open feature snapshot: %w", err)
		}
	}
	st, err := a.engine.Restore(ctx, nil)
	if err != nil {
		return fmt.Errorf("app: rebuild features: %w", err)
	}
	if st.Replayed > 0 {
		a.log.Info("features rebuilt from the event log", "replayed", st.Replayed, "skipped", st.Skipped,
			"keys", a.feats.Len(), "took", st.Duration.Round(time.Millisecond))
	}
	return nil
}

// sweepLateness is how far behind the wall clock the snapshot's sweep
// stays. A sweep at t drops what no window ending at or after t counts,
// but an order may arrive with its own time (created_at) in the past:
// sweeping at the wall clock made every restart forget an hour-old
// order's card in its 1-minute and 1-hour windows. Events more than this
// late still see their short windows without buckets swept meanwhile.
const sweepLateness = 24 * time.Hour

func (a *App) snapshotPath() string {
	if a.cfg.Storage.Driver == config.DriverMemory || a.cfg.Storage.DataDir == "" {
		return ""
	}
	return filepath.Join(a.cfg.Storage.DataDir, snapshotFile)
}

// Snapshot writes the feature store to the data directory atomically (a
// temporary file renamed over the old one). It drops idle keys first.
func (a *App) Snapshot(ctx context.Context) error {
	path := a.snapshotPath()
	if path == "" || a.feats == nil {
		return nil
	}
	a.snapMu.Lock()
	defer a.snapMu.Unlock()
	start := time.Now()
	dropped := a.feats.Sweep(time.Now().Add(-sweepLateness))
	tmp, err := os.CreateTemp(filepath.Dir(path), snapshotFile+".*.tmp")
	if err != nil {
		return fmt.Errorf("app: snapshot: %w", err)
	}
	defer os.Remove(tmp.Name())
	seq, err := a.engine.WriteSnapshot(ctx, tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("app: snapshot: %w", err)
	}
	if dir, err := os.Open(filepath.Dir(path)); err == nil {
		_ = dir.Sync()
		dir.Close()
	}
	a.log.Debug("features snapshot written", "seq", seq, "keys", a.feats.Len(), "dropped_idle", dropped, "took", time.Since(start))
	return nil
}

// Handler returns the HTTP handler of the API and the dashboard (under
// /dashboard/; / redirects there).
func (a *App) Handler() http.Handler {
	apiHandler := a.api.Handler()
	widget := assistant.Widget()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch p := r.URL.Path; {
		case strings.HasPrefix(p, dashboard.Prefix+"/"):
			a.dash.ServeHTTP(w, r)
		case strings.HasPrefix(p, authn.HostedPrefix+"/"):
			a.stepup.ServeHTTP(w, r)
		case p == assistant.WidgetPrefix+"widget.js" || p == assistant.WidgetPrefix+"widget.css":
			widget.ServeHTTP(w, r)
		case (p == "/" || p == dashboard.Prefix) && (r.Method == http.MethodGet || r.Method == http.MethodHead):
			http.Redirect(w, r, dashboard.Prefix+"/", http.StatusSeeOther)
		default:
			apiHandler.ServeHTTP(w, r)
		}
	})
}

// ObserveLabel implements engine.LabelObserver: an account takeover
// label makes what learns from the customer's own sign-ins unlearn the
// attacker's (the typing sample of a labelled sign-in) and forgets the
// customer's remembered devices (the attacker may have earned one).
func (a *App) ObserveLabel(ctx context.Context, ev storage.Event, l storage.Label) {
	if l.Label != risk.LabelAccountTakeover {
		return
	}
	// Sign-ins name the customer as user_id, payments as user.id.
	var who struct {
		UserID string `json:"user_id"`
		User   *struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	if json.Unmarshal(ev.Payload, &who) != nil {
		return
	}
	if who.UserID == "" && who.User != nil {
		who.UserID = who.User.ID
	}
	if who.UserID == "" {
		return
	}
	if a.typing != nil {
		if _, err := a.typing.Forget(ctx, l.Tenant, who.UserID, ev.ID); err != nil {
			a.log.Error("unlearning a takeover's typing rhythm failed", "tenant", l.Tenant, "event", ev.ID, "error", err)
		}
	}
	if a.devices != nil {
		if err := a.devices.Forget(ctx, l.Tenant, who.UserID); err != nil {
			a.log.Error("forgetting a taken-over customer's devices failed", "tenant", l.Tenant, "event", ev.ID, "error", err)
		}
	}
}

// Engine returns the decision engine.
func (a *App) Engine() *engine.Engine { return a.engine }

// Serve listens on the configured address and serves until ctx is done,
// then shuts down gracefully: it stops accepting connections, lets every
// accepted request finish (each answered decision is already durable),
// writes a feature snapshot and closes storage. ready, if not nil, receives
// the bound address once listening.
func (a *App) Serve(ctx context.Context, ready func(addr net.Addr)) error {
	ln, err := net.Listen("tcp", a.cfg.Server.Addr)
	if err != nil {
		return fmt.Errorf("app: listen: %w", err)
	}
	// HTTP/1.x on one goroutine per connection (internal/http1): at
	// thousands of decisions a second net/http's per-request goroutines
	// were a fifth of the server's CPU (bench/README.md).
	srv := &http1.Server{
		Handler:           a.Handler(),
		ReadHeaderTimeout: a.cfg.Server.ReadHeaderTimeout,
		ReadTimeout:       a.cfg.Server.ReadTimeout,
		WriteTimeout:      a.cfg.Server.WriteTimeout,
		IdleTimeout:       a.cfg.Server.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		Log:               a.log,
	}
	a.log.Info("shopguard serving", "addr", ln.Addr().String(), "storage", a.cfg.Storage.Driver,
		"data_dir", a.cfg.Storage.DataDir, "version", version())
	if keys, err := a.store.Keys(ctx, ""); err == nil && len(keys) == 0 {
		a.log.Warn("no API keys exist yet: create one with `shopguard keys create --tenant myshop`")
	}
	if ready != nil {
		ready(ln.Addr())
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	snapDone := make(chan struct{})
	go func() {
		defer close(snapDone)
		a.snapshotLoop(ctx)
	}()
	notifyDone := make(chan struct{})
	go func() {
		defer close(notifyDone)
		_ = a.RunNotifications(ctx)
	}()
	retrainDone := make(chan struct{})
	go func() {
		defer close(retrainDone)
		a.retrainLoop(ctx)
	}()

	select {
	case err = <-errc:
	case <-ctx.Done():
		a.log.Info("shutting down: finishing in-flight requests", "timeout", a.cfg.Server.ShutdownTimeout)
		sctx, cancel := context.WithTimeout(context.Background(), a.cfg.Server.ShutdownTimeout)
		err = srv.Shutdown(sctx)
		cancel()
		if err != nil {
			err = fmt.Errorf("app: shutdown: %w", err)
		}
		<-errc
	}
	<-snapDone
	<-retrainDone
	<-notifyDone
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// RunNotifications makes and delivers webhook notifications until ctx is
// done (Serve runs it).
func (a *App) RunNotifications(ctx context.Context) error { return a.notify.Run(ctx) }

// outboundRetention is how long the register of messages the shop sent
// keeps each one: a little over a year, for a customer who asks about
// last year's order confirmation.
const outboundRetention = 400 * 24 * time.Hour

// modelPoll is how often a running shopguard looks for a newly promoted model.
const modelPoll = 15 * time.Second

func (a *App) snapshotLoop(ctx context.Context) {
	t := time.NewTicker(a.cfg.Features.SnapshotInterval)
	defer t.Stop()
	models := time.NewTicker(modelPoll)
	defer models.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-models.C:
			a.ReloadModels(ctx)
			a.RefreshURLChecks(ctx)
		case <-t.C:
			if err := a.Snapshot(context.Background()); err != nil {
				a.log.Error("feature snapshot failed", "error", err)
			}
			// Challenges are kept a day after they expire, for the record.
			if _, err := a.store.DeleteExpiredChallenges(ctx, time.Now().Add(-24*time.Hour)); err != nil && ctx.Err() == nil {
				a.log.Error("deleting expired challenges failed", "error", err)
			}
			if _, err := a.store.DeleteExpiredCeremonies(ctx, time.Now()); err != nil && ctx.Err() == nil {
				a.log.Error("deleting expired passkey ceremonies failed", "error", err)
			}
			if _, err := a.store.PurgeOutbound(ctx, time.Now().Add(-outboundRetention)); err != nil && ctx.Err() == nil {
				a.log.Error("purging the outbound-message register failed", "error", err)
			}
		}
	}
}

// retrainLoop runs Retrain every models.retrain_interval (not at all when
// it is 0) until ctx ends; a retraining in progress stops with ctx.
func (a *App) retrainLoop(ctx context.Context) {
	every := a.cfg.Models.RetrainInterval
	if every <= 0 {
		return
	}
	a.log.Info("models: scheduled retraining", "every", every, "days", a.cfg.Models.RetrainDays, "promote", a.cfg.Models.Promote)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			a.Retrain(ctx)
		}
	}
}

// Close writes a final feature snapshot and closes storage.
func (a *App) Close() error {
	serr := a.Snapshot(context.Background())
	if serr != nil {
		a.log.Error("final feature snapshot failed; features will be rebuilt from events on start", "error", serr)
	}
	return errors.Join(serr, a.closeAll())
}

// CreateKey makes and stores a new API key for tenant and returns its secret.
func (a *App) CreateKey(ctx context.Context, tenant, name string, scopes []apikey.Scope) (string, error) {
	secret, rec, err := apikey.New(tenant, name, scopes, time.Now())
	if err != nil {
		return "", err
	}
	if err := a.store.CreateKey(ctx, rec); err != nil {
		return "", fmt.Errorf("app: create key: %w", err)
	}
	return secret, nil
}

// CreateUser makes a dashboard user for tenant with a generated password,
// or, if the user exists, gives it the role, a new password and enables
// it. It returns the password (to show once).
func (a *App) CreateUser(ctx context.Context, tenant, name, role string) (string, error) {
	password := dashboard.NewPassword()
	u, err := dashboard.NewUser(name, tenant, role, password, time.Now())
	if err != nil {
		return "", err
	}
	err = a.store.CreateUser(ctx, u)
	if errors.Is(err, storage.ErrConflict) {
		old, gerr := a.store.UserByName(ctx, name)
		if gerr != nil || old.Tenant != tenant {
			return "", fmt.Errorf("app: create user: %w", err)
		}
		old.Role, old.PasswordHash, old.DisabledAt = role, u.PasswordHash, time.Time{}
		err = a.store.UpdateUser(ctx, old)
	}
	if err != nil {
		return "", fmt.Errorf("app: create user: %w", err)
	}
	entry := storage.AuditEntry{Tenant: tenant, At: time.Now(), Actor: "cli", Action: "user.create", Target: name, Detail: "role " + role}
	if err := a.store.AppendAudit(ctx, &entry); err != nil {
		return "", fmt.Errorf("app: audit: %w", err)
	}
	return password, nil
}

// b2f is 1 for true, 0 for false.
func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
