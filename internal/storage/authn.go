package storage

import (
	"context"
	"time"
)

// TOTPFactor is a customer's authenticator app (time-based one-time
// codes, RFC 6238), enrolled through the shop.
type TOTPFactor struct {
	Tenant string
	// UserID is the shop's id of the customer.
	UserID string
	// SealedSecret is the shared secret, sealed with the instance's key:
	// a copy of the database alone does not give the codes away.
	SealedSecret []byte
	CreatedAt    time.Time
	// ConfirmedAt is zero until the customer proved the app works by
	// entering a first code; only a confirmed factor can be used.
	ConfirmedAt time.Time
	// LastStep is the time step (Unix seconds / period) of the last code
	// accepted: a code of that step or an earlier one is refused (replay).
	LastStep int64
	// Failures counts wrong codes since FailuresSince (rate limiting).
	Failures      int
	FailuresSince time.Time
	// Version increases with every change (UpdateTOTP compares it).
	Version int64
}

// AuthnStore keeps what strong customer authentication needs.
type AuthnStore interface {
	// PutTOTP stores f as the user's factor, replacing any earlier one
	// (f.Version is stored as given).
	PutTOTP(ctx context.Context, f TOTPFactor) error
	// TOTP returns the user's factor, or ErrNotFound.
	TOTP(ctx context.Context, tenant, userID string) (TOTPFactor, error)
	// UpdateTOTP replaces the user's factor with f if the stored one's
	// Version is f.Version-1; ErrConflict if it changed meanwhile (another
	// request accepted a code or counted a failure), ErrNotFound if gone.
	UpdateTOTP(ctx context.Context, f TOTPFactor) error
	// DeleteTOTP removes the user's factor; ErrNotFound if there is none.
	DeleteTOTP(ctx context.Context, tenant, userID string) error

	// ReplaceRecoveryCodes makes hashes the user's unused recovery codes
	// (the earlier ones, used or not, are dropped).
	ReplaceRecoveryCodes(ctx context.Context, tenant, userID string, hashes []string, at time.Time) error
	// UseRecoveryCode marks the user's unused code with hash used at at;
	// ErrNotFound if there is no such unused code.
	UseRecoveryCode(ctx context.Context, tenant, userID, hash string, at time.Time) error
	// RecoveryCodesLeft counts the user's unused recovery codes.
	RecoveryCodesLeft(ctx context.Context, tenant, userID string) (int, error)

	// TypingProfile returns the user's typing profile, or ErrNotFound.
	TypingProfile(ctx context.Context, tenant, userID string) (TypingProfile, error)
	// PutTypingProfile stores p if the stored profile's Version is
	// p.Version-1 (none stored counts as 0); ErrConflict otherwise.
	PutTypingProfile(ctx context.Context, p TypingProfile) error

	// ForgetDevices records that the customer's remembered devices were
	// forgotten at at (a later time replaces an earlier one).
	ForgetDevices(ctx context.Context, tenant, userID string, at time.Time) error
	// DevicesForgottenAt returns when the customer's remembered devices
	// were last forgotten (zero if never).
	DevicesForgottenAt(ctx context.Context, tenant, userID string) (time.Time, error)
}

// TypingProfile is how a customer types their password: the timing
// vectors of their latest confirmed sign-ins and the template trained on
// them (never the characters).
type TypingProfile struct {
	Tenant string
	UserID string
	// Samples are feature vectors, oldest first.
	Samples [][]float64
	// SampleEvents are the sign-ins (event ids) the samples came from,
	// parallel to Samples ("" where not known).
	SampleEvents []string
	// Template is the encoded keystroke template (nil until there are
	// enough samples).
	Template  []byte
	UpdatedAt time.Time
	// Version increases with every change (PutTypingProfile compares it).
	Version int64
}

// Challenge is a step-up a shop asked for: a customer must prove
// themselves with a second factor before one action (a payment, a change
// of e-mail, a sign-in) goes ahead. What is approved is bound to the
// action, so an approval for one order cannot be used for another.
type Challenge struct {
	// ID is the challenge's public identifier ("ch_...").
	ID     string
	Tenant string
	UserID string
	// Action is the action as the shop described it (JSON, kept as sent);
	// ActionHash the hex SHA-256 the approval is bound to.
	Action     []byte
	ActionHash string
	// Methods lists the factors that may answer it ("totp", "recovery_code").
	Methods []string
	// EventID is the assessment that asked for it, if any.
	EventID string
	// DeviceID is the shop's id of the device the customer answers on, if
	// the shop gave it: a passed challenge can remember the device.
	DeviceID  string
	CreatedAt time.Time
	ExpiresAt time.Time
	// Status is pending, passed or failed.
	Status string
	// Failures counts wrong answers.
	Failures int
	// PassedAt and Method say when and how it was passed.
	PassedAt time.Time
	Method   string
	// ConsumedAt is when the shop redeemed the approval (once).
	ConsumedAt time.Time
	// Version increases with every change (UpdateChallenge compares it).
	Version int64
}

// ChallengeStore keeps step-up challenges.
type ChallengeStore interface {
	// CreateChallenge stores c; ErrConflict if its ID exists.
	CreateChallenge(ctx context.Context, c Challenge) error
	// Challenge returns the tenant's challenge, or ErrNotFound.
	Challenge(ctx context.Context, tenant, id string) (Challenge, error)
	// UpdateChallenge replaces the challenge with c if the stored one's
	// Version is c.Version-1; ErrConflict if it changed meanwhile.
	UpdateChallenge(ctx context.Context, c Challenge) error
	// DeleteExpiredChallenges removes challenges that expired before
	// before and returns how many.
	DeleteExpiredChallenges(ctx context.Context, before time.Time) (int, error)
}
