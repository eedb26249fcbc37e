// Package storage holds the contracts between shopguard and its storage
// backends: small role interfaces sized to their callers, the records they
// exchange, and sentinel errors. Concrete backends live beneath it (memory,
// sqlite) and all of them pass the same suite in storagetest.
package storage

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/shopguard/shopguard/internal/risk"
)

// Sentinel errors every backend returns (wrapped) so callers can use errors.Is.
var (
	// ErrNotFound means the record asked for does not exist (for this tenant).
	ErrNotFound = errors.New("storage: not found")
	// ErrConflict means the write clashes with an existing record: a duplicate
	// event id, an existing name, or a stale version.
	ErrConflict = errors.New("storage: conflict")
	// ErrClosed means the backend was closed.
	ErrClosed = errors.New("storage: closed")
	// ErrUnavailable means the backend cannot be reached now (a shared
	// Redis that is down): the caller may try again later.
	ErrUnavailable = errors.New("storage: unavailable")
)

// Event is one assessed event with its assessment, as stored.
type Event struct {
	// Seq is assigned by the backend when the event is saved; it increases
	// with every save across all tenants and orders replay.
	Seq int64 `json:"-"`
	// Tenant is the shop the event belongs to.
	Tenant string `json:"-"`
	// ID is shopguard's id for the event, unique per tenant.
	ID string `json:"id"`
	// Kind is the event kind.
	Kind risk.EventKind `json:"kind"`
	// ExternalID is the caller's id for the event (its order id), unique per tenant and kind.
	ExternalID string `json:"external_id"`
	// OccurredAt is the event's own time (microsecond precision).
	OccurredAt time.Time `json:"occurred_at"`
	// ReceivedAt is when shopguard received it (microsecond precision).
	ReceivedAt time.Time `json:"received_at"`
	// AmountMinor and Currency give the money involved, if any (0 and "" otherwise).
	AmountMinor int64  `json:"amount_minor,omitempty"`
	Currency    string `json:"currency,omitempty"`
	// Payload is the validated input as JSON.
	Payload json.RawMessage `json:"payload"`
	// Env is the rule environment (event fields and features) the decision saw, as JSON.
	Env json.RawMessage `json:"features"`
	// Assessment is the decision.
	Assessment risk.Assessment `json:"assessment"`
	// LatencyMicros is how long the decision took.
	LatencyMicros int64 `json:"latency_us"`
	// Labels are the feedback labels attached to the event, oldest first.
	// Readers fill it except where a method says otherwise.
	Labels []Label `json:"labels"`
}

// Label is a piece of feedback about an event.
type Label struct {
	// ID is assigned by the backend.
	ID int64 `json:"id"`
	// Tenant and EventID name the event.
	Tenant  string `json:"-"`
	EventID string `json:"event_id"`
	// Label is the outcome.
	Label risk.Label `json:"label"`
	// Source says where the label came from ("api", "chargeback-feed", "analyst:ana").
	Source string `json:"source"`
	// Note is free text.
	Note string `json:"note,omitempty"`
	// OccurredAt is when the outcome happened (the chargeback date), CreatedAt when it was recorded.
	OccurredAt time.Time `json:"occurred_at"`
	CreatedAt  time.Time `json:"created_at"`
}

// EventQuery selects events for a scan.
type EventQuery struct {
	Tenant string
	Kind   risk.EventKind
	// From and To bound OccurredAt: From <= OccurredAt < To.
	From, To time.Time
	// Limit caps the number of events (0 = no limit).
	Limit int
}

// RuleSet is one version of a tenant's rules, kept forever so that every
// assessment's rules_version can be looked up.
type RuleSet struct {
	Tenant    string
	Version   int64
	CreatedAt time.Time
	// Rules is the JSON array of rules; backends store it opaquely.
	Rules json.RawMessage
	// Author names who made the change ("api key sgk_..." or "cli").
	Author string
}

// List is a named list of values belonging to a tenant (metadata only).
type List struct {
	Tenant      string
	Name        string
	Kind        string
	Effect      string
	Description string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// APIKey is a stored API key. The secret itself is never stored, only its hash.
type APIKey struct {
	// ID is the key's public identifier (shown in listings and logs).
	ID string
	// Tenant is the shop the key acts for.
	Tenant string
	// Hash is the hex SHA-256 of the secret key.
	Hash string
	// Name is a human label.
	Name string
	// Scopes lists what the key may do.
	Scopes    []string
	CreatedAt time.Time
	// RevokedAt is zero while the key is valid.
	RevokedAt time.Time
}

// EventWriter saves assessed events.
type EventWriter interface {
	// SaveEvent stores e durably and sets e.Seq. It returns an error wrapping
	// ErrConflict when the tenant already has an event with e.ID or with the
	// same Kind and ExternalID. When SaveEvent returns nil the event survives
	// a crash of the process.
	SaveEvent(ctx context.Context, e *Event) error
}

// EventReader reads single events.
type EventReader interface {
	// Event returns the tenant's event with shopguard id id, labels included.
	Event(ctx context.Context, tenant, id string) (Event, error)
	// EventByExternalID returns the tenant's event of kind with the caller's id, labels included.
	EventByExternalID(ctx context.Context, tenant string, kind risk.EventKind, externalID string) (Event, error)
}

// EventScanner walks many events.
type EventScanner interface {
	// ScanEvents calls fn for each event matching q in order of OccurredAt
	// (then Seq), labels included, stopping at the first error fn returns.
	// fn must not keep the event after it returns: backends reuse it.
	ScanEvents(ctx context.Context, q EventQuery, fn func(*Event) error) error
	// EventsAfter calls fn for every event of every tenant with Seq > seq in
	// Seq order, without labels; replay after a restart uses it. fn must not
	// keep the event after it returns.
	EventsAfter(ctx context.Context, seq int64, fn func(*Event) error) error
	// MaxSeq returns the highest Seq saved so far (0 when empty).
	MaxSeq(ctx context.Context) (int64, error)
}

// LabelStore records feedback.
type LabelStore interface {
	// AddLabel attaches l to its event and sets l.ID; it returns an error
	// wrapping ErrNotFound when the tenant has no such event.
	AddLabel(ctx context.Context, l *Label) error
	// LabelsAfter calls fn for every label of every tenant with ID > id,
	// in ID order (the order they were added); replay after a restart uses
	// it. fn must not keep the label after it returns.
	LabelsAfter(ctx context.Context, id int64, fn func(*Label) error) error
	// MaxLabelID returns the highest label ID added so far (0 when none).
	MaxLabelID(ctx context.Context) (int64, error)
}

// RuleStore keeps every version of every tenant's rules.
type RuleStore interface {
	// SaveRuleSet stores rs; rs.Version must be exactly one more than the
	// tenant's latest version (1 for the first), else the error wraps ErrConflict.
	SaveRuleSet(ctx context.Context, rs RuleSet) error
	// LatestRuleSet returns the tenant's newest rule set, or ErrNotFound.
	LatestRuleSet(ctx context.Context, tenant string) (RuleSet, error)
	// RuleSetVersion returns one version of the tenant's rule set, or ErrNotFound.
	RuleSetVersion(ctx context.Context, tenant string, version int64) (RuleSet, error)
}

// ListStore keeps tenants' allow and block lists.
type ListStore interface {
	// CreateList stores a new list; ErrConflict if the name is taken.
	CreateList(ctx context.Context, l List) error
	// UpdateList changes a list's kind-independent metadata (effect,
	// description, UpdatedAt); ErrNotFound if it does not exist.
	UpdateList(ctx context.Context, l List) error
	// DeleteList removes a list and its entries; ErrNotFound if it does not exist.
	DeleteList(ctx context.Context, tenant, name string) error
	// AddListEntries adds values (already normalised) and returns how many
	// were new; ErrNotFound if the list does not exist.
	AddListEntries(ctx context.Context, tenant, name string, values []string) (int, error)
	// RemoveListEntries removes values and returns how many were present.
	RemoveListEntries(ctx context.Context, tenant, name string, values []string) (int, error)
	// Lists returns the tenant's lists sorted by name.
	Lists(ctx context.Context, tenant string) ([]List, error)
	// ListEntries returns a list's values sorted; ErrNotFound if the list does not exist.
	ListEntries(ctx context.Context, tenant, name string) ([]string, error)
}

// KeyStore keeps API keys.
type KeyStore interface {
	// CreateKey stores k; ErrConflict if its ID or Hash exists.
	CreateKey(ctx context.Context, k APIKey) error
	// KeyByHash returns the key with the given hash, revoked or not, or ErrNotFound.
	KeyByHash(ctx context.Context, hash string) (APIKey, error)
	// Keys returns the tenant's keys ("" = every tenant) sorted by creation.
	Keys(ctx context.Context, tenant string) ([]APIKey, error)
	// RevokeKey marks the key revoked at time at; ErrNotFound if there is no such key.
	RevokeKey(ctx context.Context, id string, at time.Time) error
}

// Change says that a tenant's cached state changed in shared storage, for
// instances that cache it to reload: possibly by another instance.
type Change struct {
	// Topic is what changed: ChangeRules, ChangeLists, ChangeEvents,
	// ChangeLabels or ChangeModels; "" means anything may have changed meanwhile (the watch
	// was interrupted), so reload all.
	Topic string
	// Tenant is the tenant whose state changed ("" with Topic "", "*" for
	// new events and labels of any tenant).
	Tenant string
}

// The topics of a Change.
const (
	ChangeRules  = "rules"
	ChangeLists  = "lists"
	ChangeEvents = "events"
	ChangeLabels = "labels"
	ChangeModels = "models"
)

// Backend is everything a complete storage backend provides. Only the
// composition root and the shared test suite use the whole of it; everyone
// else asks for the role interfaces above.
type Backend interface {
	EventWriter
	EventReader
	EventScanner
	LabelStore
	RuleStore
	ListStore
	KeyStore
	UserStore
	SessionStore
	AuditLog
	CaseStore
	EventSearcher
	StatsReader
	WebhookStore
	AuthnStore
	ChallengeStore
	PasskeyStore
	URLListStore
	PhishingProfileStore
	PhishingReportStore
	OutboundStore
	// Ping reports whether the backend can serve requests (for /readyz).
	Ping(ctx context.Context) error
	// Close flushes pending writes and releases resources.
	Close() error
}
