package storage

import (
	"context"
	"time"
)

// Passkey is a customer's passkey: a WebAuthn public-key credential the
// customer's device (phone, laptop, security key) created for the shop
// and unlocks with a fingerprint, a face or a PIN. Every field the
// WebAuthn credential record needs is kept, so that later sign-ins verify
// exactly as the first did.
type Passkey struct {
	Tenant string
	// ID is the passkey's public identifier ("pk_...").
	ID     string
	UserID string
	// RPID is the relying party (the shop's domain) it was created for.
	RPID string
	// CredentialID is the authenticator's id of the credential; unique per
	// tenant and RPID.
	CredentialID []byte
	// UserHandle is the opaque customer handle the authenticator keeps
	// (the same for all of a customer's passkeys under one RPID).
	UserHandle []byte
	// PublicKey is the COSE-encoded public key; Algorithm its COSE id.
	PublicKey []byte
	Algorithm int64
	// AttestationType and AttestationFormat describe the attestation
	// ("none" by default); Attestation is the raw attestation record
	// (JSON), kept to re-verify against authenticator metadata later.
	AttestationType   string
	AttestationFormat string
	Attestation       []byte
	// Transports are the ways the browser can reach the authenticator
	// ("internal", "hybrid", "usb", ...).
	Transports []string
	// Flags is the authenticator-data flags octet as last seen: user
	// present, user verified, backup eligible, backup state.
	Flags byte
	// SignCount is the signature counter as last seen; CloneWarning is
	// set once it went backwards.
	SignCount    uint32
	CloneWarning bool
	// AAGUID identifies the authenticator model (16 bytes, zero if not told).
	AAGUID []byte
	// Attachment is "platform" or "cross-platform" if the browser said.
	Attachment string
	// Extensions are the durable extension results of registration (JSON).
	Extensions []byte
	// Name is what the customer calls it ("iPhone", "YubiKey").
	Name       string
	CreatedAt  time.Time
	LastUsedAt time.Time
	// Version increases with every change (UpdatePasskey compares it).
	Version int64
}

// Ceremony is the server-side state of a WebAuthn ceremony between its
// two steps (the options sent to the browser, the response coming back):
// the whole session data, kept until it expires or is used once.
type Ceremony struct {
	Tenant string
	// ID is the ceremony's public identifier ("wc_...").
	ID     string
	UserID string
	// Kind is "registration" or "assertion".
	Kind string
	// ChallengeID is the step-up challenge an assertion answers, if any.
	ChallengeID string
	// Name is the name a registration gives the new passkey.
	Name string
	// Session is the WebAuthn session data (JSON), kept whole.
	Session   []byte
	CreatedAt time.Time
	ExpiresAt time.Time
}

// RelyingParty is how a tenant's passkeys are scoped: the shop's domain
// and the web origins its pages are served from.
type RelyingParty struct {
	Tenant string
	// ID is the RP ID, the shop's registrable domain ("shop.example").
	ID string
	// Name is the shop's name as the device shows it.
	Name string
	// Origins are the origins ceremonies may come from
	// ("https://shop.example", "https://auth.shop.example").
	Origins   []string
	UpdatedAt time.Time
}

// PasskeyStore keeps customers' passkeys, WebAuthn ceremonies in
// progress and the tenants' relying-party settings.
type PasskeyStore interface {
	// CreatePasskey stores p; ErrConflict if the tenant already has a
	// passkey with its ID, or with its CredentialID under its RPID.
	CreatePasskey(ctx context.Context, p Passkey) error
	// Passkeys returns the customer's passkeys, oldest first.
	Passkeys(ctx context.Context, tenant, userID string) ([]Passkey, error)
	// PasskeyByCredential returns the tenant's passkey with credentialID
	// under rpID, or ErrNotFound.
	PasskeyByCredential(ctx context.Context, tenant, rpID string, credentialID []byte) (Passkey, error)
	// UpdatePasskey replaces the passkey (found by Tenant, UserID and ID)
	// with p if the stored one's Version is p.Version-1; ErrConflict if it
	// changed meanwhile, ErrNotFound if it is gone.
	UpdatePasskey(ctx context.Context, p Passkey) error
	// DeletePasskey removes the customer's passkey id; ErrNotFound if
	// there is none.
	DeletePasskey(ctx context.Context, tenant, userID, id string) error

	// CreateCeremony stores c; ErrConflict if its ID exists.
	CreateCeremony(ctx context.Context, c Ceremony) error
	// TakeCeremony removes the tenant's ceremony and returns it, so that
	// it is used once: of two concurrent takes one gets ErrNotFound. It
	// returns expired ceremonies too (the caller checks ExpiresAt).
	TakeCeremony(ctx context.Context, tenant, id string) (Ceremony, error)
	// DeleteExpiredCeremonies removes ceremonies that expired before
	// before and returns how many.
	DeleteExpiredCeremonies(ctx context.Context, before time.Time) (int, error)

	// RelyingParty returns the tenant's settings, or ErrNotFound.
	RelyingParty(ctx context.Context, tenant string) (RelyingParty, error)
	// PutRelyingParty stores the tenant's settings, replacing earlier ones.
	PutRelyingParty(ctx context.Context, rp RelyingParty) error
}
