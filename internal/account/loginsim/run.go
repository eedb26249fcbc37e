package loginsim

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/shopguard/shopguard/internal/account"
	"github.com/shopguard/shopguard/internal/engine"
	"github.com/shopguard/shopguard/internal/ml/metrics"
	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/storage"
)

// Outcomes the shop reports after checking the password.
const (
	outcomeSuccess     = account.OutcomeSuccess
	outcomeBadPassword = account.OutcomeBadPassword
	outcomeUnknownUser = account.OutcomeUnknownUser
)

// Tenant is the shop the simulation's sign-ins belong to.
const Tenant = "loginsim"

// Config sizes a simulation. Zero fields take the defaults.
type Config struct {
	// Seed makes the simulation repeatable (default 1).
	Seed uint64
	// Customers is the number of customer accounts (default 20,000).
	Customers int
	// Days is the simulated time (default 28); the first WarmupDays only
	// build the customers' history and are not measured (default 14).
	Days, WarmupDays int
	// Takeovers is the number of account-takeover attempts per attacker
	// model (default 1,000).
	Takeovers int
	// Begin is the first simulated instant (default 2026-03-02 00:00 UTC).
	Begin time.Time
}

func (c Config) withDefaults() Config {
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.Customers <= 0 {
		c.Customers = 20000
	}
	if c.Days <= 0 {
		c.Days = 28
	}
	if c.WarmupDays <= 0 || c.WarmupDays >= c.Days {
		c.WarmupDays = max(1, min(14, c.Days/2))
	}
	if c.Takeovers <= 0 {
		c.Takeovers = 1000
	}
	if c.Begin.IsZero() {
		c.Begin = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	}
	return c
}

// attempt is one sign-in attempt: what the shop sends before checking the
// password, and what checking it gives.
type attempt struct {
	userID, identifier string
	ip                 netip.Addr
	ua, device         string
	password           string // the password's SHA-1 prefix, when the shop sends it
	result             string // success, bad_password or unknown_user
}

// flow is one sign-in: a customer's tries (a mistyped password, then the
// right one) or one attacker attempt.
type flow struct {
	at       time.Time
	scenario string
	tries    []attempt
	legit    bool
	measured bool
	wave     int // index of its wave; -1 for none
}

// Gaps of the simulated protocol.
const (
	tryGap     = 20 * time.Second // between a customer's tries
	outcomeGap = 2 * time.Second  // between the pre-authentication call and the outcome
)

// Sim is one seeded simulation: its world, customers and sign-ins.
type Sim struct {
	cfg       Config
	world     *World
	customers []*customer
	flows     []flow
	waves     []wave
	measure   time.Time
}

// New draws the simulation. Its World must locate the engine's IP
// addresses (engine.Config.Geo) for the run to mean anything.
func New(cfg Config) *Sim {
	cfg = cfg.withDefaults()
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x6c6f67696e))
	s := &Sim{cfg: cfg, world: NewWorld(cfg.Seed)}
	begin, end := cfg.Begin, cfg.Begin.Add(time.Duration(cfg.Days)*24*time.Hour)
	s.measure = begin.Add(time.Duration(cfg.WarmupDays) * 24 * time.Hour)
	s.customers = newCustomers(rng, s.world, cfg.Customers, begin, s.measure, end)

	for _, c := range s.customers {
		for t := c.start; t.Before(end); t = t.Add(time.Duration(rng.ExpFloat64() * float64(c.every))) {
			tries, kind := c.signIn(rng, t)
			s.flows = append(s.flows, flow{at: t, scenario: scenarioLegitimatePref + kind, tries: tries, legit: true,
				measured: !t.Before(s.measure), wave: -1})
		}
	}
	var established []*customer // accounts with history before the measured weeks
	for _, c := range s.customers {
		if c.start.Before(s.measure) {
			established = append(established, c)
		}
	}
	for model, name := range takeoverScenarios {
		for range cfg.Takeovers {
			victim := established[rng.IntN(len(established))]
			t := s.measure.Add(time.Duration(rng.Float64() * float64(end.Sub(s.measure))))
			s.flows = append(s.flows, flow{at: t, scenario: name, measured: true, wave: -1,
				tries: []attempt{takeover(rng, s.world, model, victim, t)}})
		}
	}
	s.waves = attackWaves(rng, s.world, established, s.measure, end)
	for wi, w := range s.waves {
		for i, a := range w.attempts {
			s.flows = append(s.flows, flow{at: w.start.Add(time.Duration(i) * w.every), scenario: w.scenario,
				tries: []attempt{a}, measured: true, wave: wi})
		}
	}
	slices.SortStableFunc(s.flows, func(a, b flow) int { return a.at.Compare(b.at) })
	return s
}

// World is the simulation's Internet, to locate IP addresses with.
func (s *Sim) World() *World { return s.world }

// Attempts returns how many sign-in flows the simulation holds.
func (s *Sim) Attempts() int { return len(s.flows) }

// Decider assesses one input (an *engine.Engine).
type Decider interface {
	Decide(ctx context.Context, tenant string, in engine.Input) (engine.Decision, error)
}

// EventReader reads a stored event back, for the rule environment the
// decision saw.
type EventReader interface {
	Event(ctx context.Context, tenant, id string) (storage.Event, error)
}

// MassAttackRules are the default login rules that recognise a mass
// attack (as opposed to one unfamiliar sign-in): a wave counts as flagged
// from its first attempt that one of them matched.
var MassAttackRules = []string{"account_ip_brute_force", "account_brute_force", "ip_brute_force", "credential_stuffing_ip",
	"credential_stuffing_network", "unknown_accounts_from_ip", "login_accounts_per_device", "password_spraying",
	"distributed_stuffing_user_agent", "distributed_stuffing_asn", "distributed_stuffing_unknown_accounts",
	"stuffing_wave_unfamiliar_device"}

// Stats is what one scenario's attempts got.
type Stats struct {
	Scenario string
	// Attempts counts sign-ins (a customer's tries together) or attacker
	// attempts; the others count them by the strongest action any of
	// their pre-authentication calls got.
	Attempts, Reviewed, Challenged, Blocked int
	// Takeovers counts attacker attempts that were let in with the right
	// password.
	Takeovers int
	// FirstFlagged and FirstStopped are, for mass attacks, the event time
	// from the first attempt to the first attempt that a mass-attack rule
	// (MassAttackRules) matched, and that it challenged or blocked (-1:
	// never).
	FirstFlagged, FirstStopped time.Duration
	// StoppedBy counts, per rule, the attempts it helped challenge or
	// block (a rule matched a challenged or blocked call of the attempt).
	StoppedBy map[string]int
	wave      bool
}

// TopRules returns the n rules that stopped most attempts, most first
// (ties by name).
func (s Stats) TopRules(n int) []string {
	names := slices.Collect(maps.Keys(s.StoppedBy))
	slices.SortFunc(names, func(a, b string) int {
		if c := cmp.Compare(s.StoppedBy[b], s.StoppedBy[a]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	return names[:min(n, len(names))]
}

// StoppedShare is the share of attempts challenged or blocked.
func (s Stats) StoppedShare() float64 { return s.Share(s.Challenged + s.Blocked) }

// Share returns n as a share of the attempts (0 without attempts).
func (s Stats) Share(n int) float64 {
	if s.Attempts == 0 {
		return 0
	}
	return float64(n) / float64(s.Attempts)
}

// Result is a run's measurements.
type Result struct {
	// Legitimate sums every measured customer sign-in; LegitimateKinds
	// splits them by kind.
	Legitimate      Stats
	LegitimateKinds []Stats
	// Attacks holds each attack scenario, in report order.
	Attacks []Stats
	// Curves are ROC curves of signals.login_risk, each takeover model's
	// attempts against the customers' measured sign-ins with the right
	// password; AUC is each curve's area.
	Curves []metrics.Curve
	AUC    []float64
	// Decisions is the number of engine decisions; Elapsed their time.
	Decisions int
	Elapsed   time.Duration
}

// Run plays the simulation through eng in time order, the way a shop
// calls shopguard: a pre-authentication call (outcome attempt) for every
// try and, unless it was blocked, the outcome after the password check —
// after a step-up for a challenged try, which customers pass and
// attackers fail (reported as mfa_failed). events reads back each scored
// sign-in's environment for the ROC curves. progress, if not nil, is
// called with the flows done so far.
func (s *Sim) Run(ctx context.Context, eng Decider, events EventReader, progress func(done int)) (*Result, error) {
	r := runner{ctx: ctx, eng: eng, events: events, stats: map[string]*Stats{}}
	start := time.Now()
	risks := map[string][]float64{}
	for i := range s.flows {
		f := &s.flows[i]
		p, err := r.play(i, f)
		if err != nil {
			return nil, err
		}
		if progress != nil && i%1024 == 0 {
			progress(i)
		}
		if !f.measured {
			continue
		}
		st := r.stat(f.scenario, f.wave >= 0)
		r.count(st, &p)
		if p.takenOver {
			st.Takeovers++
		}
		if f.wave >= 0 && p.mass != "" {
			since := f.at.Sub(s.waves[f.wave].start)
			if st.FirstFlagged < 0 {
				st.FirstFlagged = since
			}
			if (p.massAction == risk.ActionChallenge || p.massAction == risk.ActionBlock) && st.FirstStopped < 0 {
				st.FirstStopped = since
			}
		}
		if f.legit {
			r.count(r.stat("", false), &p)
		}
		if f.wave < 0 { // takeovers and customers' sign-ins
			key := f.scenario
			if f.legit {
				key = ""
			}
			risks[key] = append(risks[key], p.loginRisk)
		}
	}
	res := &Result{Decisions: r.decisions, Elapsed: time.Since(start)}
	for name, st := range r.stats {
		switch {
		case name == "":
			res.Legitimate = *st
			res.Legitimate.Scenario = "legitimate sign-ins"
		case !st.wave && len(name) > len(scenarioLegitimatePref) && name[:len(scenarioLegitimatePref)] == scenarioLegitimatePref:
			res.LegitimateKinds = append(res.LegitimateKinds, *st)
		default:
			res.Attacks = append(res.Attacks, *st)
		}
	}
	slices.SortFunc(res.LegitimateKinds, func(a, b Stats) int { return cmp.Compare(b.Attempts, a.Attempts) })
	order := []string{ScenarioNaive, ScenarioVPN, ScenarioTargeted, ScenarioStuffing, ScenarioDistributed, ScenarioSpraying, ScenarioBruteForce, ScenarioDistributedBF}
	slices.SortFunc(res.Attacks, func(a, b Stats) int {
		return cmp.Compare(slices.Index(order, a.Scenario), slices.Index(order, b.Scenario))
	})
	for _, name := range takeoverScenarios {
		pos, neg := risks[name], risks[""]
		scores := append(slices.Clone(pos), neg...)
		labels := make([]bool, len(scores))
		for i := range pos {
			labels[i] = true
		}
		pts, err := metrics.ROC(scores, labels)
		if err != nil {
			return nil, fmt.Errorf("loginsim: ROC of %s: %w", name, err)
		}
		auc, err := metrics.AUC(scores, labels)
		if err != nil {
			return nil, fmt.Errorf("loginsim: AUC of %s: %w", name, err)
		}
		res.Curves = append(res.Curves, metrics.Curve{Name: name, Points: pts})
		res.AUC = append(res.AUC, auc)
	}
	return res, nil
}

// runner plays flows.
type runner struct {
	ctx       context.Context
	eng       Decider
	events    EventReader
	stats     map[string]*Stats
	decisions int
}

func (r *runner) stat(name string, wave bool) *Stats {
	st := r.stats[name]
	if st == nil {
		st = &Stats{Scenario: name, FirstFlagged: -1, FirstStopped: -1, wave: wave}
		r.stats[name] = st
	}
	return st
}

func (r *runner) count(st *Stats, p *played) {
	st.Attempts++
	switch p.worst {
	case risk.ActionReview:
		st.Reviewed++
	case risk.ActionChallenge:
		st.Challenged++
	case risk.ActionBlock:
		st.Blocked++
	}
	for _, name := range p.stoppedBy {
		if st.StoppedBy == nil {
			st.StoppedBy = map[string]int{}
		}
		st.StoppedBy[name]++
	}
}

// played is what one flow got.
type played struct {
	// worst is the strongest action of its pre-authentication calls.
	worst risk.Action
	// loginRisk is signals.login_risk of the try with the right password
	// (0 when none was scored).
	loginRisk float64
	// takenOver is true when an attacker got in.
	takenOver bool
	// mass names a mass-attack rule that matched a pre-authentication
	// call, and massAction is that call's action.
	mass       string
	massAction risk.Action
	// stoppedBy names the rules of its challenged or blocked calls.
	stoppedBy []string
}

// play runs flow i: every try's pre-authentication call and outcome.
func (r *runner) play(i int, f *flow) (played, error) {
	p := played{worst: risk.ActionAllow}
	for n, a := range f.tries {
		t := f.at.Add(time.Duration(n) * tryGap)
		d, err := r.decide(fmt.Sprintf("f%d-%d", i, n), t, a, account.OutcomeAttempt)
		if err != nil {
			return p, err
		}
		p.worst = risk.Max(p.worst, d.Action)
		if d.Action == risk.ActionChallenge || d.Action == risk.ActionBlock {
			for _, r := range d.Reasons {
				if name, ok := strings.CutPrefix(r.Code, "rule:"); ok && !slices.Contains(p.stoppedBy, name) {
					p.stoppedBy = append(p.stoppedBy, name)
				}
			}
		}
		if p.mass == "" {
			if rule := massRule(d.Reasons); rule != "" {
				p.mass, p.massAction = rule, d.Action
			}
		}
		if a.result == outcomeSuccess && a.userID != "" {
			if p.loginRisk, err = r.loginRisk(d.ID); err != nil {
				return p, err
			}
		}
		outcome := a.result
		switch {
		case d.Action == risk.ActionBlock:
			continue // the shop refuses the try; a customer tries again later, a bot goes on
		case d.Action == risk.ActionChallenge && !f.legit:
			outcome = account.OutcomeMFAFailed
		}
		if _, err := r.decide(fmt.Sprintf("f%d-%d-o", i, n), t.Add(outcomeGap), a, outcome); err != nil {
			return p, err
		}
		if !f.legit && outcome == outcomeSuccess {
			p.takenOver = true
		}
	}
	return p, nil
}

// massRule returns the first mass-attack rule among reasons ("" for none).
func massRule(reasons []risk.Reason) string {
	for _, r := range reasons {
		if name, ok := strings.CutPrefix(r.Code, "rule:"); ok && slices.Contains(MassAttackRules, name) {
			return name
		}
	}
	return ""
}

func (r *runner) decide(id string, t time.Time, a attempt, outcome string) (engine.Decision, error) {
	l := &account.Login{ID: id, CreatedAt: t.Format(time.RFC3339Nano), UserID: a.userID, Identifier: a.identifier,
		IP: a.ip.String(), UserAgent: a.ua, DeviceID: a.device, Outcome: outcome, PasswordHashPrefix: a.password}
	if err := l.Validate(t); err != nil {
		return engine.Decision{}, fmt.Errorf("loginsim: sign-in %s: %w", id, err)
	}
	r.decisions++
	d, err := r.eng.Decide(r.ctx, Tenant, l)
	if err != nil {
		return d, fmt.Errorf("loginsim: sign-in %s: %w", id, err)
	}
	return d, nil
}

// loginRisk reads signals.login_risk from the stored decision's environment.
func (r *runner) loginRisk(id string) (float64, error) {
	ev, err := r.events.Event(r.ctx, Tenant, id)
	if err != nil {
		return 0, fmt.Errorf("loginsim: read back %s: %w", id, err)
	}
	var env struct {
		Signals struct {
			LoginRisk float64 `json:"login_risk"`
		} `json:"signals"`
	}
	if err := json.Unmarshal(ev.Env, &env); err != nil {
		return 0, fmt.Errorf("loginsim: environment of %s: %w", id, err)
	}
	return env.Signals.LoginRisk, nil
}
