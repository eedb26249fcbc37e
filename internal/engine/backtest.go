package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/rules"
	"github.com/shopguard/shopguard/internal/storage"
)

// Backtest limits.
const (
	// DefaultBacktestLimit caps how many events one backtest reads unless asked otherwise.
	DefaultBacktestLimit = 1_000_000
	// MaxBacktestRules caps the number of draft rules in one backtest.
	MaxBacktestRules = 100
	maxExamples      = 10
)

// BacktestRequest asks how draft rules would have done on stored events.
type BacktestRequest struct {
	// Kind selects the events (and the rules' environment).
	Kind risk.EventKind
	// From and To bound the events' time: From <= occurred_at < To.
	From, To time.Time
	// Rules are the draft rules. Their modes are ignored except that
	// disabled rules are skipped: every rule is counted as if it were active.
	Rules []rules.Rule
	// Limit caps how many events are read (0 = DefaultBacktestLimit).
	Limit int
}

// BacktestReport is the outcome of a backtest.
type BacktestReport struct {
	Kind risk.EventKind `json:"kind"`
	From time.Time      `json:"from"`
	To   time.Time      `json:"to"`
	// Events is how many events were evaluated; Truncated is true when the
	// limit stopped the scan before To.
	Events    int  `json:"events"`
	Truncated bool `json:"truncated"`
	// Labels counts the events by their latest label: bad (fraud,
	// chargeback, takeover, spam, abuse), good (legit, false positive) or none.
	Labels LabelCounts `json:"labels"`
	// Amounts sums the events' amounts per currency, in minor units.
	Amounts map[string]int64 `json:"amounts_minor"`
	// Rules reports each draft rule; Any reports events that any of them matched.
	Rules []RuleReport `json:"rules"`
	Any   RuleReport   `json:"any"`
	// Errors counts evaluation errors (rule failures on individual events).
	Errors int `json:"errors"`
}

// LabelCounts counts events by label class.
type LabelCounts struct {
	Bad        int `json:"bad"`
	Good       int `json:"good"`
	Unlabelled int `json:"unlabelled"`
}

// RuleReport is how one rule (or the union) would have done.
type RuleReport struct {
	Name string `json:"name"`
	// Matched splits the matched events by label class.
	Matched LabelCounts `json:"matched"`
	// MatchedTotal is the number of matched events.
	MatchedTotal int `json:"matched_total"`
	// Precision is bad / (bad + good) among matched labelled events; nil
	// when no labelled event matched.
	Precision *float64 `json:"precision"`
	// Recall is the share of all bad events that matched; nil when there
	// were no bad events.
	Recall *float64 `json:"recall"`
	// AmountsMatched and AmountsBadMatched sum matched money per currency.
	AmountsMatched    map[string]int64 `json:"amounts_matched_minor"`
	AmountsBadMatched map[string]int64 `json:"amounts_bad_matched_minor"`
	// Examples are the ids of the first matched events.
	Examples []string `json:"examples"`
}

func newRuleReport(name string) RuleReport {
	return RuleReport{Name: name, AmountsMatched: map[string]int64{}, AmountsBadMatched: map[string]int64{}, Examples: []string{}}
}

func (r *RuleReport) add(ev *storage.Event, class int) {
	r.MatchedTotal++
	switch class {
	case classBad:
		r.Matched.Bad++
		r.AmountsBadMatched[ev.Currency] += ev.AmountMinor
	case classGood:
		r.Matched.Good++
	default:
		r.Matched.Unlabelled++
	}
	if ev.Currency != "" {
		r.AmountsMatched[ev.Currency] += ev.AmountMinor
	}
	if len(r.Examples) < maxExamples {
		r.Examples = append(r.Examples, ev.ID)
	}
}

func (r *RuleReport) finish(totalBad int) {
	if n := r.Matched.Bad + r.Matched.Good; n > 0 {
		p := float64(r.Matched.Bad) / float64(n)
		r.Precision = &p
	}
	if totalBad > 0 {
		rc := float64(r.Matched.Bad) / float64(totalBad)
		r.Recall = &rc
	}
	delete(r.AmountsBadMatched, "")
}

const (
	classNone = iota
	classBad
	classGood
)

// labelClass classifies an event by its latest label.
func labelClass(ev *storage.Event) int {
	if len(ev.Labels) == 0 {
		return classNone
	}
	if ev.Labels[len(ev.Labels)-1].Label.Bad() {
		return classBad
	}
	return classGood
}

// Backtest evaluates draft rules over the tenant's stored events of one
// kind, on the environment each event's live decision saw (its features at
// that moment), using the tenant's current lists. Compile problems come
// back as rules.CompileErrors; validation problems as *risk.FieldError.
func (e *Engine) Backtest(ctx context.Context, tenantID string, req BacktestRequest) (BacktestReport, error) {
	k, ok := e.kinds[req.Kind]
	if !ok {
		return BacktestReport{}, risk.Invalid("kind", "%q is not an event kind with rules (known: %v)", req.Kind, e.Kinds())
	}
	var errs []error
	if req.From.IsZero() {
		errs = append(errs, risk.Missing("from"))
	}
	if req.To.IsZero() {
		errs = append(errs, risk.Missing("to"))
	}
	if !req.From.IsZero() && !req.To.IsZero() && !req.From.Before(req.To) {
		errs = append(errs, risk.Invalid("to", "must lie after from"))
	}
	if len(req.Rules) == 0 {
		errs = append(errs, risk.Missing("rules"))
	}
	if len(req.Rules) > MaxBacktestRules {
		errs = append(errs, risk.Invalid("rules", "has %d rules; at most %d per backtest", len(req.Rules), MaxBacktestRules))
	}
	if req.Limit < 0 || req.Limit > 10*DefaultBacktestLimit {
		errs = append(errs, risk.Invalid("limit", "must be from 0 to %d", 10*DefaultBacktestLimit))
	}
	if err := errors.Join(errs...); err != nil {
		return BacktestReport{}, err
	}
	if req.Limit == 0 {
		req.Limit = DefaultBacktestLimit
	}
	t, err := e.tenant(ctx, tenantID)
	if err != nil {
		return BacktestReport{}, err
	}
	draft := make([]rules.Rule, 0, len(req.Rules))
	for _, r := range req.Rules {
		if r.Kind == "" {
			r.Kind = req.Kind
		}
		if r.Mode == rules.ModeShadow {
			r.Mode = rules.ModeActive
		}
		draft = append(draft, r)
	}
	set, err := rules.Compile(0, draft, e.schemas, t)
	if err != nil {
		return BacktestReport{}, err
	}

	rep := BacktestReport{Kind: req.Kind, From: req.From.UTC(), To: req.To.UTC(), Amounts: map[string]int64{}, Any: newRuleReport("any")}
	index := map[string]int{}
	for _, r := range set.Rules() {
		if r.Kind == req.Kind && r.EffectiveMode() != rules.ModeDisabled {
			index[r.Name] = len(rep.Rules)
			rep.Rules = append(rep.Rules, newRuleReport(r.Name))
		}
	}
	var res rules.Result
	err = e.store.ScanEvents(ctx, storage.EventQuery{Tenant: tenantID, Kind: req.Kind, From: req.From, To: req.To, Limit: req.Limit + 1},
		func(ev *storage.Event) error {
			if rep.Events == req.Limit {
				rep.Truncated = true
				return errStopScan
			}
			rep.Events++
			class := labelClass(ev)
			switch class {
			case classBad:
				rep.Labels.Bad++
			case classGood:
				rep.Labels.Good++
			default:
				rep.Labels.Unlabelled++
			}
			if ev.Currency != "" {
				rep.Amounts[ev.Currency] += ev.AmountMinor
			}
			env := k.NewEnv()
			if err := json.Unmarshal(ev.Env, env); err != nil {
				rep.Errors++
				return nil
			}
			set.Evaluate(req.Kind, env, &res)
			rep.Errors += len(res.Errors)
			for _, m := range res.Active {
				rep.Rules[index[m.Rule.Name]].add(ev, class)
			}
			if len(res.Active) > 0 {
				rep.Any.add(ev, class)
			}
			return ctx.Err()
		})
	if err != nil && !errors.Is(err, errStopScan) {
		return BacktestReport{}, fmt.Errorf("engine: backtest: %w", err)
	}
	for i := range rep.Rules {
		rep.Rules[i].finish(rep.Labels.Bad)
	}
	rep.Any.finish(rep.Labels.Bad)
	if rep.Rules == nil {
		rep.Rules = []RuleReport{}
	}
	return rep, nil
}

var errStopScan = errors.New("engine: stop scan")
