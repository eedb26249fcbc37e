package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/shopguard/shopguard/internal/features"
	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/storage"
)

// LabelKeys appends the label-count keys of obs: the same entities, in
// the label scope. Decisions read them; offline replays use it to read
// exactly what a live decision reads.
func LabelKeys(obs []features.Observation, scope string, buf []features.Key) []features.Key {
	for _, o := range obs {
		k := o.Key
		k.Scope = scope
		buf = append(buf, k)
	}
	return buf
}

// fraudVerdict says what a label means for fraud counting: fraud (true),
// legitimate (false), or nothing (ok false: spam, abuse).
func fraudVerdict(l risk.Label) (fraud, ok bool) {
	switch l {
	case risk.LabelFraud, risk.LabelChargeback, risk.LabelAccountTakeover:
		return true, true
	case risk.LabelLegit, risk.LabelFalsePositive:
		return false, true
	}
	return false, false
}

// labelDelta is how adding l changes the number of the event's entities'
// events known to be fraud: +1 when l first marks the event fraud, -1 when
// it clears an earlier fraud verdict, 0 otherwise. prior are the event's
// labels; only those added before l (lower ID, or all when l has no ID
// yet) count.
func labelDelta(prior []storage.Label, l storage.Label) float64 {
	was := false
	for _, p := range prior {
		if l.ID != 0 && p.ID >= l.ID {
			continue
		}
		if f, ok := fraudVerdict(p.Label); ok {
			was = f
		}
	}
	now, ok := fraudVerdict(l.Label)
	switch {
	case !ok || now == was:
		return 0
	case now:
		return 1
	default:
		return -1
	}
}

// confirms reports whether adding l marks the event legitimate when the
// labels before it (see labelDelta) did not: the moment a Confirmable
// input is confirmed.
func confirms(prior []storage.Label, l storage.Label) bool {
	if f, ok := fraudVerdict(l.Label); !ok || f {
		return false
	}
	legit := false
	for _, p := range prior {
		if l.ID != 0 && p.ID >= l.ID {
			continue
		}
		if f, ok := fraudVerdict(p.Label); ok {
			legit = !f
		}
	}
	return !legit
}

// countLabel records in the feature store what label l says about ev, at
// the time the label was recorded (when it became known): the change in
// the fraud count of ev's entities and, for a Confirmable input newly
// labelled legitimate, its confirmation. prior are ev's labels. It does
// nothing for labels that change nothing, and reports whether it recorded
// anything.
func (e *Engine) countLabel(ctx context.Context, ev *storage.Event, prior []storage.Label, l storage.Label) (bool, error) {
	delta := labelDelta(prior, l)
	confirm := confirms(prior, l)
	if delta == 0 && !confirm {
		return false, nil
	}
	k, ok := e.kinds[ev.Kind]
	if !ok {
		return false, nil
	}
	in, err := k.Decode(ev.Payload)
	if err != nil {
		return false, fmt.Errorf("engine: label of event %s: %w", ev.ID, err)
	}
	var obs []features.Observation
	if delta != 0 {
		obs = LabelObservations(in, ev.Tenant, delta)
	}
	if c, ok := in.(Confirmable); ok && confirm {
		obs = c.ConfirmObservations(ev.Tenant, obs)
	}
	if len(obs) == 0 {
		return false, nil
	}
	at := l.CreatedAt
	if at.IsZero() {
		at = time.Now()
	}
	return true, e.feats.Apply(ctx, at, obs)
}

// LabelObservations returns the feature-store observations that add delta
// known frauds to every entity of in (nil when its kind keeps no label
// counts). Feedback records them when a label arrives; offline replays
// use it to count labels exactly as live traffic does.
func LabelObservations(in Input, tenant string, delta float64) []features.Observation {
	scope := in.LabelScope()
	if scope == "" {
		return nil
	}
	obs := in.Observations(tenant, nil)
	for i := range obs {
		obs[i] = features.Observation{Key: obs[i].Key, Amount: delta}
		obs[i].Key.Scope = scope
	}
	return obs
}

// replayLabels counts every label added after id, in order, as
// AddFeedback did (Restore uses it), and returns the last label's id.
func (e *Engine) replayLabels(ctx context.Context, id int64) (n int, last int64, err error) {
	last = id
	var labels []storage.Label
	if err := e.store.LabelsAfter(ctx, id, func(l *storage.Label) error {
		last = l.ID
		if _, ok := fraudVerdict(l.Label); ok {
			labels = append(labels, *l)
		}
		return nil
	}); err != nil {
		return 0, last, err
	}
	for _, l := range labels {
		counted, err := e.replayLabel(ctx, l)
		if err != nil {
			return n, last, err
		}
		if counted {
			n++
		}
	}
	return n, last, nil
}

// replayLabel counts a stored label as AddFeedback did; a label that
// cannot be counted is logged and skipped.
func (e *Engine) replayLabel(ctx context.Context, l storage.Label) (bool, error) {
	ev, err := e.store.Event(ctx, l.Tenant, l.EventID)
	if err != nil {
		return false, fmt.Errorf("label %d: %w", l.ID, err)
	}
	counted, err := e.countLabel(ctx, &ev, ev.Labels, l)
	if err != nil {
		e.log.Warn("stored label cannot be replayed", "label", l.ID, "event", l.EventID, "error", err)
		return false, nil
	}
	return counted, nil
}
