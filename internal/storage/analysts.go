package storage

import (
	"context"
	"time"

	"github.com/shopguard/shopguard/internal/risk"
)

// User is an analyst's account for the dashboard. Names are unique across
// tenants (they are what people sign in with); each user works for one tenant.
type User struct {
	Name   string
	Tenant string
	// Role is "admin" or "analyst"; the dashboard defines what each may do.
	Role string
	// PasswordHash is a bcrypt hash; the password itself is never stored.
	PasswordHash string
	CreatedAt    time.Time
	// DisabledAt is zero while the user may sign in.
	DisabledAt time.Time
}

// UserStore keeps dashboard users.
type UserStore interface {
	// CreateUser stores u; ErrConflict if the name is taken.
	CreateUser(ctx context.Context, u User) error
	// UserByName returns the user, or ErrNotFound.
	UserByName(ctx context.Context, name string) (User, error)
	// Users returns the tenant's users ("" = every tenant) sorted by name.
	Users(ctx context.Context, tenant string) ([]User, error)
	// UpdateUser replaces the role, password hash and disabled time of an
	// existing user; ErrNotFound if there is none.
	UpdateUser(ctx context.Context, u User) error
}

// Session is a signed-in dashboard session. Only a hash of the session
// token is stored, so a copy of the database cannot be used to sign in.
type Session struct {
	IDHash   string
	UserName string
	Tenant   string
	// CSRF is the token every form of the session must carry.
	CSRF      string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// SessionStore keeps dashboard sessions.
type SessionStore interface {
	// CreateSession stores s; ErrConflict if its IDHash exists.
	CreateSession(ctx context.Context, s Session) error
	// Session returns the session with the hash, expired or not, or ErrNotFound.
	Session(ctx context.Context, idHash string) (Session, error)
	// DeleteSession removes a session (no error if it is gone).
	DeleteSession(ctx context.Context, idHash string) error
	// DeleteUserSessions signs a user out everywhere.
	DeleteUserSessions(ctx context.Context, userName string) error
	// DeleteExpiredSessions removes sessions expired at now and returns how many.
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error)
}

// AuditEntry records one change or verdict: who did what to what, when.
type AuditEntry struct {
	// ID is assigned by the backend and increases with every entry.
	ID     int64
	Tenant string
	At     time.Time
	// Actor is who did it ("user:ana", "api key sgk_…", "cli").
	Actor string
	// Action names the change ("rule.update", "list.add", "verdict", ...).
	Action string
	// Target names what changed (a rule, a list, an event id, a key id).
	Target string
	// Detail is free text or JSON with the specifics.
	Detail string
}

// AuditLog keeps the audit trail. Entries are never changed or removed.
type AuditLog interface {
	// AppendAudit stores e and sets e.ID.
	AppendAudit(ctx context.Context, e *AuditEntry) error
	// Audit returns up to limit of the tenant's entries with ID < beforeID
	// (0: from the newest), newest first.
	Audit(ctx context.Context, tenant string, beforeID int64, limit int) ([]AuditEntry, error)
}

// CaseNote is an analyst's note on a case.
type CaseNote struct {
	Author string
	Text   string
	At     time.Time
}

// Case is the review state of an event: who works on it and their notes.
// The verdict itself is a label on the event.
type Case struct {
	Tenant    string
	EventID   string
	Assignee  string // "" when unassigned
	UpdatedAt time.Time
	UpdatedBy string
	Notes     []CaseNote // oldest first
}

// CaseStore keeps review cases.
type CaseStore interface {
	// AssignCase sets (or, with "", clears) the case's assignee.
	AssignCase(ctx context.Context, tenant, eventID, assignee, by string, at time.Time) error
	// AddCaseNote appends a note to the case.
	AddCaseNote(ctx context.Context, tenant, eventID string, n CaseNote) error
	// Cases returns the cases of the given events that have any state, by event id.
	Cases(ctx context.Context, tenant string, eventIDs []string) (map[string]Case, error)
}

// EventSearch selects events for the dashboard: newest first (or oldest
// first) within the most recent ScanLimit events of the store.
type EventSearch struct {
	Tenant string
	// Kind restricts to one kind ("" for all).
	Kind risk.EventKind
	// Actions restricts to these actions (none: all).
	Actions []risk.Action
	// MinScore and MaxScore bound the score (inclusive); MaxScore 0 means 100.
	MinScore, MaxScore int
	// From and To bound OccurredAt (From <= t < To); zero values do not bound.
	From, To time.Time
	// Contains keeps events whose input (payload JSON) contains this text:
	// pass a JSON string such as `"203.0.113.7"` to find an entity's events.
	Contains string
	// Unlabelled keeps events without any label.
	Unlabelled bool
	// BeforeSeq and AfterSeq page through results (0: unbounded).
	BeforeSeq, AfterSeq int64
	// OldestFirst orders by Seq ascending instead of descending.
	OldestFirst bool
	// Limit caps the results (required, at most 1000).
	Limit int
	// ScanLimit bounds the search to the newest ScanLimit events of the
	// store (all tenants), so that a search costs the same however large
	// the store grows; 0 searches everything.
	ScanLimit int64
}

// EventSearcher finds events for people (the dashboard).
type EventSearcher interface {
	// SearchEvents returns the matching events, labels included.
	SearchEvents(ctx context.Context, q EventSearch) ([]Event, error)
}

// MinuteStat counts one minute's decisions (by the time they were made)
// of one kind, action and currency.
type MinuteStat struct {
	Minute      time.Time
	Kind        risk.EventKind
	Action      risk.Action
	Currency    string
	Count       int64
	AmountMinor int64
}

// StatsReader reads decision counts kept up to date as events are saved.
type StatsReader interface {
	// MinuteStats returns the tenant's counts for minutes in [from, to),
	// ordered by minute.
	MinuteStats(ctx context.Context, tenant string, from, to time.Time) ([]MinuteStat, error)
}
