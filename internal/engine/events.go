package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/storage"
)

// Event returns the tenant's event with its assessment, labels and the
// features its decision saw (in readable form); the error wraps
// storage.ErrNotFound when there is none.
func (e *Engine) Event(ctx context.Context, tenantID, id string) (storage.Event, error) {
	ev, err := e.store.Event(ctx, tenantID, id)
	if err != nil {
		return ev, fmt.Errorf("engine: event: %w", err)
	}
	// Environments are stored compactly; show them in their readable form.
	if k, ok := e.kinds[ev.Kind]; ok {
		env := k.NewEnv()
		if err := json.Unmarshal(ev.Env, env); err != nil {
			return ev, fmt.Errorf("engine: event %s: decode features: %w", id, err)
		}
		if ev.Env, err = json.Marshal(env); err != nil {
			return ev, fmt.Errorf("engine: event %s: encode features: %w", id, err)
		}
	}
	if ev.Labels == nil {
		ev.Labels = []storage.Label{}
	}
	return ev, nil
}

// Feedback is a label for an event, named either by shopguard's EventID or
// by the caller's Kind and ExternalID.
type Feedback struct {
	EventID    string         `json:"event_id,omitempty"`
	Kind       risk.EventKind `json:"kind,omitempty"`
	ExternalID string         `json:"external_id,omitempty"`
	Label      string         `json:"label"`
	Source     string         `json:"source,omitempty"`
	Note       string         `json:"note,omitempty"`
	// OccurredAt is when the outcome happened, RFC 3339; empty means now.
	OccurredAt string `json:"occurred_at,omitempty"`
}

// validate checks the feedback and returns its parsed label and time.
func (f *Feedback) validate(now time.Time) (risk.Label, time.Time, error) {
	var errs []error
	switch {
	case f.EventID == "" && f.ExternalID == "":
		errs = append(errs, &risk.FieldError{Field: "event_id", Code: "missing_field",
			Message: "name the event by event_id, or by kind and external_id"})
	case f.EventID != "" && (f.ExternalID != "" || f.Kind != ""):
		errs = append(errs, risk.Invalid("event_id", "give either event_id or kind and external_id, not both"))
	case f.EventID != "":
	case f.Kind == "":
		errs = append(errs, &risk.FieldError{Field: "kind", Code: "missing_field", Message: "is required with external_id"})
	default:
		if _, err := risk.ParseEventKind(string(f.Kind)); err != nil {
			errs = append(errs, risk.Invalid("kind", "%q is not an event kind", f.Kind))
		}
	}
	for _, c := range []struct {
		field, v string
		max      int
	}{{"event_id", f.EventID, 128}, {"external_id", f.ExternalID, 128}, {"source", f.Source, 128}, {"note", f.Note, 2000}} {
		if fe := risk.CheckText(c.field, c.v, c.max); fe != nil {
			errs = append(errs, fe)
		}
	}
	label, lerr := risk.ParseLabel(f.Label)
	if f.Label == "" {
		errs = append(errs, risk.Missing("label"))
	} else if lerr != nil {
		names := make([]string, len(risk.Labels))
		for i, l := range risk.Labels {
			names[i] = string(l)
		}
		errs = append(errs, risk.Invalid("label", "%q is not one of %s", f.Label, strings.Join(names, ", ")))
	}
	at := now
	if f.OccurredAt != "" {
		t, err := time.Parse(time.RFC3339Nano, f.OccurredAt)
		switch {
		case err != nil:
			errs = append(errs, risk.Invalid("occurred_at", "%q is not an RFC 3339 timestamp", f.OccurredAt))
		case t.Year() < 2000:
			errs = append(errs, risk.Invalid("occurred_at", "lies before 2000-01-01"))
		case t.After(now.Add(24 * time.Hour)):
			errs = append(errs, risk.Invalid("occurred_at", "lies more than 24h in the future"))
		default:
			at = t
		}
	}
	return label, at.UTC().Truncate(time.Microsecond), errors.Join(errs...)
}

// AddFeedback validates f and attaches its label to the event. Validation
// problems come back as *risk.FieldError; an unknown event wraps
// storage.ErrNotFound.
func (e *Engine) AddFeedback(ctx context.Context, tenantID string, f Feedback) (storage.Label, error) {
	now := e.cfg.Now()
	label, at, err := f.validate(now)
	if err != nil {
		return storage.Label{}, err
	}
	// The gate keeps the label and its feature counts together in
	// snapshots; labelMu makes reading the event's earlier labels and
	// adding this one atomic.
	e.gate.RLock()
	defer e.gate.RUnlock()
	e.labelMu.Lock()
	defer e.labelMu.Unlock()
	var ev storage.Event
	if f.EventID != "" {
		ev, err = e.store.Event(ctx, tenantID, f.EventID)
	} else {
		ev, err = e.store.EventByExternalID(ctx, tenantID, f.Kind, f.ExternalID)
	}
	if err != nil {
		return storage.Label{}, fmt.Errorf("engine: feedback: %w", err)
	}
	source := f.Source
	if source == "" {
		source = "api"
	}
	l := storage.Label{Tenant: tenantID, EventID: ev.ID, Label: label, Source: source, Note: f.Note,
		OccurredAt: at, CreatedAt: now.UTC().Truncate(time.Microsecond)}
	if err := e.store.AddLabel(ctx, &l); err != nil {
		return storage.Label{}, fmt.Errorf("engine: feedback: %w", err)
	}
	// The label is stored: a failure to count it must not fail the call
	// (a restart replays it).
	if _, err := e.countLabel(ctx, &ev, ev.Labels, l); err != nil {
		e.log.Warn("label not counted in the features", "tenant", tenantID, "event", ev.ID, "error", err)
	}
	if e.cfg.Labels != nil {
		e.cfg.Labels.ObserveLabel(ctx, ev, l)
	}
	return l, nil
}
