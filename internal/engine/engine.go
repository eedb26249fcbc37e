// Package engine is the one decision path every capability uses: typed
// input -> entities -> features -> (models) -> rules and lists -> assessment
// -> store. Capabilities (fraud, account, content, ...) plug in by
// implementing Kind and Input; transports (api, gateway) call Decide.
package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sort"
	"sync"
	"time"

	"github.com/shopguard/shopguard/internal/features"
	"github.com/shopguard/shopguard/internal/geo"
	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/rules"
	"github.com/shopguard/shopguard/internal/storage"
)

// Sentinel errors of the engine. Transports map them to HTTP statuses.
var (
	// ErrUnknownKind means no capability is registered for an event kind.
	ErrUnknownKind = errors.New("engine: unknown event kind")
	// ErrDuplicate means an event with the same kind and external id was
	// already assessed with different content.
	ErrDuplicate = errors.New("engine: event id already used with different content")
)

// Input is one validated event, ready to be assessed.
type Input interface {
	// Kind is the event's kind.
	Kind() risk.EventKind
	// ExternalID is the caller's id for the event (unique per tenant and kind).
	ExternalID() string
	// OccurredAt is the event's own time; features are computed at it.
	OccurredAt() time.Time
	// Money returns the amount involved in minor units and its currency ("" for none).
	Money() (amountMinor int64, currency string)
	// Observations appends the event's feature-store observations for tenant.
	Observations(tenant string, buf []features.Observation) []features.Observation
	// Entities appends the entities lists are matched against.
	Entities(buf []risk.Entity) []risk.Entity
	// LabelScope is the feature-store scope in which the engine counts, per
	// entity of Observations, the fraud labels of earlier events as they
	// become known ("" when the kind keeps no label counts).
	LabelScope() string
	// Env returns the rule environment built from aggs, the feature store's
	// answer to Observations (same order), and labels, the label counts of
	// the same keys in LabelScope (nil when LabelScope is ""): Count is the
	// number of labels that changed the entity's fraud count, Sum the net
	// number of its events known to be fraud. The environment must be
	// JSON-encodable and of the type Kind.NewEnv returns.
	Env(aggs, labels []features.Aggregates) any
}

// Locator says where an IP address is routed from (a *geo.DB).
type Locator interface {
	Lookup(ip netip.Addr) geo.Location
}

// Locatable is an input that carries an IP address: the engine has it
// located before its features and environment are computed.
type Locatable interface {
	Locate(l Locator)
}

// Peeker is an input that reads feature-store keys without recording
// anything, as they were before the event (a login asks whether its device
// is among the account's confirmed ones without making it so). The engine
// reads PeekKeys before counting the event and hands the answers, in the
// same order, to SetPeeks before Env; the slice is only valid during the call.
type Peeker interface {
	PeekKeys(tenant string, buf []features.Key) []features.Key
	SetPeeks(aggs []features.Aggregates)
}

// Confirmable is an input that a label as legitimate (legit or
// false_positive) confirms: a sign-in an analyst marks as the customer's
// joins the account's history. When such a label first marks the event
// legitimate, the engine records ConfirmObservations at the label's time
// (again when it rebuilds features from stored labels).
type Confirmable interface {
	// ConfirmObservations appends the observations that record the input
	// as confirmed (none when there is nothing to confirm).
	ConfirmObservations(tenant string, buf []features.Observation) []features.Observation
}

// LabelSkipper is an input whose environment does not use the label
// counts of some of its observations' keys (shop-wide counters, keys a
// Peeker already read): the engine does not read those, and hands Env a
// zero Aggregates for them.
type LabelSkipper interface {
	SkipsLabels(o *features.Observation) bool
}

// Preparer is a Kind that prepares each of its inputs before it is
// assessed, e.g. hands it the kind's configuration.
type Preparer interface {
	Prepare(in Input)
}

// ListAware is an input that looks its values up in the tenant's lists
// (any list, whatever its effect) before its environment is built (Env).
// lists is only valid during the call.
type ListAware interface {
	SetLists(lists *rules.Lists)
}

// Kind describes an event kind to the engine.
type Kind interface {
	// Kind is the event kind this capability handles.
	Kind() risk.EventKind
	// NewEnv returns a pointer to a zero rule environment: the schema rules
	// compile against and the value stored environments decode into.
	NewEnv() any
	// Decode turns a stored payload (the JSON of an Input) back into an Input.
	Decode(payload []byte) (Input, error)
	// DefaultRules returns the rules a new tenant starts with for this kind.
	DefaultRules() []rules.Rule
}

// Model is a trained model that scores an event kind before the rules run.
type Model interface {
	// Version names the model (recorded with every assessment it scored).
	Version() string
	// Assess returns the score (0-100) for a rule environment of the
	// kind and, for high scores, the reasons.
	Assess(env any) (score float64, reasons []risk.Reason)
}

// ChallengerCode starts the code of the shadow reason that records a
// challenger model's score (its weight).
const ChallengerCode = "challenger:"

// modelSetter is implemented by environments that show the model's score
// to rules (model.score).
type modelSetter interface {
	SetModel(score float64, version string)
}

// Store is the storage the engine needs.
type Store interface {
	storage.EventWriter
	storage.EventReader
	storage.EventScanner
	storage.LabelStore
	storage.RuleStore
	storage.ListStore
}

// Observer receives a note of every decision, e.g. for metrics.
type Observer interface {
	ObserveDecision(kind risk.EventKind, action risk.Action, latency time.Duration)
}

// LabelObserver is told of every label stored, after it is stored (for
// what learns from a customer's own behaviour and must unlearn what an
// attacker taught it). It runs on the labelling request: keep it short.
type LabelObserver interface {
	ObserveLabel(ctx context.Context, ev storage.Event, l storage.Label)
}

// Config configures an Engine. It is passed by value; zero values take defaults.
type Config struct {
	// Thresholds maps an event kind's score to an action; kinds without an
	// entry use DefaultThresholds.
	Thresholds map[risk.EventKind]risk.Thresholds
	// BuiltinLists are read-only lists every tenant's rules can use
	// (e.g. the shipped throw-away e-mail domains).
	BuiltinLists []rules.ListEntries
	// Now returns the wall-clock time (default time.Now).
	Now func() time.Time
	// Logger receives operational messages (default slog.Default()).
	Logger *slog.Logger
	// Observer, if set, is told of every decision.
	Observer Observer
	// Labels, if set, is told of every label stored.
	Labels LabelObserver
	// Geo, if set, locates the IP addresses of Locatable inputs.
	Geo Locator
	// RecentIDs is how many recently assessed event ids are remembered to
	// recognise retries without a storage query (default 1,048,576; about
	// 40 MB).
	RecentIDs int
}

// DefaultThresholds is used for kinds without configured thresholds.
var DefaultThresholds = risk.Thresholds{Review: 50, Challenge: 70, Block: 90}

// Engine assesses events. It is safe for concurrent use.
type Engine struct {
	cfg     Config
	store   Store
	feats   features.Store
	kinds   map[risk.EventKind]Kind
	schemas rules.Schemas
	builtin *rules.Lists
	log     *slog.Logger

	// gate keeps feature snapshots consistent with the event log: a
	// decision holds it shared from feature update to durable save; a
	// snapshot holds it exclusively (see Snapshot).
	gate sync.RWMutex

	tenantsMu sync.Mutex
	tenants   map[string]*tenant

	recent *recentIDs

	// follow counts other instances' decisions and labels (Follow).
	follow follower

	// labelMu serialises feedback, so that two labels of the same event
	// cannot both count it as a new fraud.
	labelMu sync.Mutex

	scratch sync.Pool
}

// Decision is the answer to one event.
type Decision struct {
	// ID is shopguard's id for the event.
	ID         string
	Kind       risk.EventKind
	ExternalID string
	risk.Assessment
	// LatencyMicros is the time the decision took.
	LatencyMicros int64
	// Replayed is true when the event had been assessed before and the
	// stored decision was returned instead of assessing it again.
	Replayed bool
}

// scratch holds per-decision buffers, pooled to keep the hot path cheap.
type scratch struct {
	obs    []features.Observation
	aggs   []features.Aggregates
	lkeys  []features.Key
	labels []features.Aggregates
	pkeys  []features.Key
	peeks  []features.Aggregates
	ents   []risk.Entity
	hits   []rules.Hit
	res    rules.Result
	buf    bytes.Buffer
	envB   bytes.Buffer
	envA   []byte
}

// JSONAppender is implemented by environments that encode themselves
// faster than encoding/json does (the engine stores every environment).
type JSONAppender interface {
	AppendJSON(b []byte) []byte
}

// encodeEnv returns env as JSON in a buffer owned by sc.
func (sc *scratch) encodeEnv(env any) ([]byte, error) {
	if a, ok := env.(JSONAppender); ok {
		sc.envA = a.AppendJSON(sc.envA[:0])
		return sc.envA, nil
	}
	sc.envB.Reset()
	if err := json.NewEncoder(&sc.envB).Encode(env); err != nil {
		return nil, fmt.Errorf("engine: encode environment: %w", err)
	}
	return bytes.TrimRight(sc.envB.Bytes(), "\n"), nil
}

// New returns an engine over store and the feature store, with the given
// capabilities registered.
func New(cfg Config, store Store, feats features.Store, kinds ...Kind) (*Engine, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.RecentIDs <= 0 {
		cfg.RecentIDs = 1 << 20
	}
	e := &Engine{
		cfg:     cfg,
		store:   store,
		feats:   feats,
		kinds:   map[risk.EventKind]Kind{},
		schemas: rules.Schemas{},
		log:     cfg.Logger,
		tenants: map[string]*tenant{},
		recent:  newRecentIDs(cfg.RecentIDs),
	}
	e.scratch.New = func() any { return &scratch{} }
	for _, k := range kinds {
		if _, dup := e.kinds[k.Kind()]; dup {
			return nil, fmt.Errorf("engine: event kind %q registered twice", k.Kind())
		}
		e.kinds[k.Kind()] = k
		e.schemas[k.Kind()] = k.NewEnv()
	}
	for kind, th := range cfg.Thresholds {
		if err := th.Validate(); err != nil {
			return nil, fmt.Errorf("engine: thresholds for %s: %w", kind, err)
		}
	}
	b, err := rules.NewLists(cfg.BuiltinLists)
	if err != nil {
		return nil, fmt.Errorf("engine: builtin lists: %w", err)
	}
	e.builtin = b
	return e, nil
}

// Kinds returns the registered capabilities' event kinds.
func (e *Engine) Kinds() []risk.EventKind {
	out := make([]risk.EventKind, 0, len(e.kinds))
	for k := range e.kinds {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func (e *Engine) thresholds(k risk.EventKind) risk.Thresholds {
	if th, ok := e.cfg.Thresholds[k]; ok {
		return th
	}
	return DefaultThresholds
}

// Decide assesses in for tenant, stores the event with its assessment and
// returns the decision. When the tenant already has an event of the same
// kind and external id with the same content, the stored decision is
// returned (Replayed); with different content the error wraps
// ErrDuplicate. A retry of an event this process assessed recently is
// recognised before its features are counted (see recentIDs). Once Decide
// returns a decision, the event is durably stored.
func (e *Engine) Decide(ctx context.Context, tenantID string, in Input) (Decision, error) {
	start := time.Now()
	kind := in.Kind()
	if _, ok := e.kinds[kind]; !ok {
		return Decision{}, fmt.Errorf("%w: %q", ErrUnknownKind, kind)
	}
	t, err := e.tenant(ctx, tenantID)
	if err != nil {
		return Decision{}, err
	}
	sc := e.scratch.Get().(*scratch)
	defer e.scratch.Put(sc)

	sc.buf.Reset()
	if err := json.NewEncoder(&sc.buf).Encode(in); err != nil {
		return Decision{}, fmt.Errorf("engine: encode %s: %w", kind, err)
	}
	payload := bytes.TrimRight(sc.buf.Bytes(), "\n")

	if e.recent.seen(tenantID, kind, in.ExternalID()) {
		if d, ok, err := e.previous(ctx, tenantID, in, payload); ok || err != nil {
			return d, err
		}
	}

	ev, err := e.assess(ctx, t, tenantID, in, payload, sc, start)
	if errors.Is(err, storage.ErrConflict) {
		// A concurrent request with the same external id won the race.
		if d, ok, perr := e.previous(ctx, tenantID, in, payload); ok || perr != nil {
			return d, perr
		}
	}
	if err != nil {
		return Decision{}, fmt.Errorf("engine: store event: %w", err)
	}
	e.recent.add(tenantID, kind, ev.ExternalID)
	d := Decision{ID: ev.ID, Kind: kind, ExternalID: ev.ExternalID, Assessment: ev.Assessment, LatencyMicros: time.Since(start).Microseconds()}
	if e.cfg.Observer != nil {
		e.cfg.Observer.ObserveDecision(kind, ev.Assessment.Action, time.Since(start))
	}
	return d, nil
}

// assess counts the event in the feature store, runs rules and lists, and
// saves the event with its assessment. It holds the snapshot gate shared
// from the feature update to the durable save (see WriteSnapshot).
func (e *Engine) assess(ctx context.Context, t *tenant, tenantID string, in Input, payload []byte, sc *scratch, start time.Time) (storage.Event, error) {
	e.gate.RLock()
	defer e.gate.RUnlock()
	kind := in.Kind()
	at := in.OccurredAt()
	if l, ok := in.(Locatable); ok && e.cfg.Geo != nil {
		l.Locate(e.cfg.Geo)
	}
	if p, ok := e.kinds[kind].(Preparer); ok {
		p.Prepare(in)
	}
	if p, ok := in.(Peeker); ok {
		sc.pkeys = p.PeekKeys(tenantID, sc.pkeys[:0])
		if cap(sc.peeks) < len(sc.pkeys) {
			sc.peeks = make([]features.Aggregates, len(sc.pkeys))
		}
		peeks := sc.peeks[:len(sc.pkeys)]
		if err := e.feats.Read(ctx, at, sc.pkeys, nil, peeks); err != nil {
			return storage.Event{}, fmt.Errorf("engine: peek features: %w", err)
		}
		p.SetPeeks(peeks)
	}
	sc.obs = in.Observations(tenantID, sc.obs[:0])
	if cap(sc.aggs) < len(sc.obs) {
		sc.aggs = make([]features.Aggregates, len(sc.obs))
	}
	sc.aggs = sc.aggs[:len(sc.obs)]
	// The label counts of the observed keys are read after observing,
	// in the same call when the store can (one round trip to Redis).
	var labels []features.Aggregates
	if scope := in.LabelScope(); scope != "" {
		sc.lkeys = LabelKeys(sc.obs, scope, sc.lkeys[:0])
		if ls, ok := in.(LabelSkipper); ok {
			for i := range sc.obs {
				if ls.SkipsLabels(&sc.obs[i]) {
					sc.lkeys[i] = features.Key{} // reads as zero without a lookup
				}
			}
		}
		if cap(sc.labels) < len(sc.lkeys) {
			sc.labels = make([]features.Aggregates, len(sc.lkeys))
		}
		labels = sc.labels[:len(sc.lkeys)]
	}
	if or, ok := e.feats.(features.ObserveReader); ok && labels != nil {
		if err := or.ObserveRead(ctx, at, sc.obs, sc.aggs, sc.lkeys, labels); err != nil {
			return storage.Event{}, fmt.Errorf("engine: features: %w", err)
		}
	} else {
		if err := e.feats.Observe(ctx, at, sc.obs, sc.aggs); err != nil {
			return storage.Event{}, fmt.Errorf("engine: features: %w", err)
		}
		if labels != nil {
			if err := e.feats.Read(ctx, at, sc.lkeys, nil, labels); err != nil {
				return storage.Event{}, fmt.Errorf("engine: label features: %w", err)
			}
		}
	}
	if la, ok := in.(ListAware); ok {
		la.SetLists(t.lists.Load())
	}
	env := in.Env(sc.aggs, labels)
	var scored modelResult
	if m := t.model(kind); m != nil {
		scored.score, scored.reasons = m.Assess(env)
		scored.version = m.Version()
		if s, ok := env.(modelSetter); ok {
			s.SetModel(scored.score, scored.version)
		}
	}

	rs := t.rules.Load()
	rs.Evaluate(kind, env, &sc.res)
	for _, ee := range sc.res.Errors {
		e.log.Warn("rule failed at evaluation", "tenant", tenantID, "error", ee)
	}
	sc.ents = in.Entities(sc.ents[:0])
	sc.hits = t.lists.Load().Match(sc.ents, sc.hits[:0])
	ass := compose(e.thresholds(kind), &sc.res, sc.hits, scored)
	ass.RulesVersion = rs.Version()
	ass.ModelVersion = scored.version
	if c := t.challenger(kind); c != nil {
		cs, _ := c.Assess(env)
		ass.Shadow = append(ass.Shadow, risk.Reason{Code: ChallengerCode + c.Version(), Weight: cs,
			Message: fmt.Sprintf("challenger model %s rates this %.0f out of 100", c.Version(), cs)})
	}

	envJSON, err := sc.encodeEnv(env)
	if err != nil {
		return storage.Event{}, err
	}
	amount, currency := in.Money()
	now := e.cfg.Now()
	ev := storage.Event{
		Tenant:      tenantID,
		ID:          NewID("ev_", now),
		Kind:        kind,
		ExternalID:  in.ExternalID(),
		OccurredAt:  at.UTC().Truncate(time.Microsecond),
		ReceivedAt:  now.UTC().Truncate(time.Microsecond),
		AmountMinor: amount,
		Currency:    currency,
		Payload:     payload,
		Env:         envJSON,
		Assessment:  ass,
	}
	ev.LatencyMicros = time.Since(start).Microseconds()
	return ev, e.store.SaveEvent(ctx, &ev)
}

// previous looks for an earlier assessment of the same event. It returns the
// stored decision (ok) when the payload is the same, ErrDuplicate when not.
func (e *Engine) previous(ctx context.Context, tenantID string, in Input, payload []byte) (Decision, bool, error) {
	old, err := e.store.EventByExternalID(ctx, tenantID, in.Kind(), in.ExternalID())
	if errors.Is(err, storage.ErrNotFound) {
		return Decision{}, false, nil
	}
	if err != nil {
		return Decision{}, false, fmt.Errorf("engine: look up earlier event: %w", err)
	}
	if !bytes.Equal(old.Payload, payload) {
		return Decision{}, false, fmt.Errorf("%w: %s %q was assessed on %s as event %s",
			ErrDuplicate, in.Kind(), in.ExternalID(), old.ReceivedAt.Format(time.RFC3339), old.ID)
	}
	return Decision{ID: old.ID, Kind: old.Kind, ExternalID: old.ExternalID, Assessment: old.Assessment,
		LatencyMicros: old.LatencyMicros, Replayed: true}, true, nil
}

// modelResult is a model's verdict on one event.
type modelResult struct {
	score   float64
	reasons []risk.Reason
	version string
}

// compose turns the model's score, rule matches and list hits into the
// assessment: the score is the model's score (0 without a model) plus the
// matched active rules' points (clamped to 0..100) and maps to
// an action through th; rules and lists that demand an action raise it to at
// least that action; an allow rule or allow list wins over everything (as
// in Stripe Radar, an explicit allow overrides block rules).
func compose(th risk.Thresholds, res *rules.Result, hits []rules.Hit, model modelResult) risk.Assessment {
	var a risk.Assessment
	score := model.score
	if model.version != "" && model.score >= 1 {
		a.Reasons = append(a.Reasons, risk.Reason{Code: "model", Weight: model.score,
			Message: fmt.Sprintf("the model (%s) rates this %.0f out of 100", model.version, model.score)})
	}
	a.Reasons = append(a.Reasons, model.reasons...)
	demanded := risk.ActionAllow
	allowed := false
	for _, m := range res.Active {
		r := reasonOf(m)
		score += float64(m.Rule.Score)
		if m.Rule.Action != "" {
			if m.Rule.Action == risk.ActionAllow {
				allowed = true
			}
			demanded = risk.Max(demanded, m.Rule.Action)
		}
		a.Reasons = append(a.Reasons, r)
	}
	for _, h := range hits {
		act, ok := h.List.Effect.Action()
		if !ok {
			continue
		}
		if act == risk.ActionAllow {
			allowed = true
		}
		demanded = risk.Max(demanded, act)
		a.Reasons = append(a.Reasons, risk.Reason{
			Code:    "list:" + h.List.Name,
			Message: fmt.Sprintf("%s %s is on the %s list %q", h.Entity.Kind, h.Entity.Value, h.List.Effect, h.List.Name),
			Action:  act,
		})
	}
	for _, m := range res.Shadow {
		a.Shadow = append(a.Shadow, reasonOf(m))
	}
	a.Score = risk.ClampScore(score)
	a.Action = risk.Max(th.Action(a.Score), demanded)
	if allowed {
		a.Action = risk.ActionAllow
	}
	sortReasons(a.Reasons)
	sortReasons(a.Shadow)
	if a.Reasons == nil {
		a.Reasons = []risk.Reason{}
	}
	return a
}

func reasonOf(m rules.Match) risk.Reason {
	return risk.Reason{Code: "rule:" + m.Rule.Name, Message: m.Message, Weight: float64(m.Rule.Score), Action: m.Rule.Action}
}

// sortReasons puts reasons that demand an action first (most severe first),
// then the rest by decreasing weight.
func sortReasons(rs []risk.Reason) {
	sort.SliceStable(rs, func(i, j int) bool {
		si, sj := rs[i].Action.Severity(), rs[j].Action.Severity()
		if si != sj {
			return si > sj
		}
		wi, wj := rs[i].Weight, rs[j].Weight
		if wi < 0 {
			wi = -wi
		}
		if wj < 0 {
			wj = -wj
		}
		return wi > wj
	})
}
