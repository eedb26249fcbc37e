package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"time"
)

// RelyingParty is the shop's passkey domain: the RP ID passkeys are made
// for and the web origins ceremonies may run on.
type RelyingParty struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Origins   []string  `json:"origins"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// CeremonyStart is the first step of a passkey ceremony: Options go to
// navigator.credentials.create or .get in the customer's browser, and the
// browser's answer comes back with the ID.
type CeremonyStart struct {
	ID        string          `json:"ceremony_id"`
	Options   json.RawMessage `json:"options"`
	ExpiresAt time.Time       `json:"expires_at"`
}

// PasskeyFlags are a passkey's authenticator flags as last seen.
type PasskeyFlags struct {
	UserPresent    bool `json:"user_present"`
	UserVerified   bool `json:"user_verified"`
	BackupEligible bool `json:"backup_eligible"`
	BackupState    bool `json:"backup_state"`
}

// Passkey is one of a customer's passkeys.
type Passkey struct {
	ID           string       `json:"id"`
	UserID       string       `json:"user_id"`
	Name         string       `json:"name"`
	RPID         string       `json:"rp_id"`
	CredentialID string       `json:"credential_id"`
	AAGUID       string       `json:"aaguid"`
	Algorithm    int64        `json:"algorithm"`
	Transports   []string     `json:"transports"`
	Attachment   string       `json:"attachment,omitempty"`
	Attestation  string       `json:"attestation_format,omitempty"`
	Flags        PasskeyFlags `json:"flags"`
	SignCount    uint32       `json:"sign_count"`
	CloneWarning bool         `json:"clone_warning"`
	CreatedAt    time.Time    `json:"created_at"`
	LastUsedAt   *time.Time   `json:"last_used_at,omitempty"`
}

// SetRelyingParty sets the shop's passkey domain (id, name, origins).
func (c *Client) SetRelyingParty(ctx context.Context, rp RelyingParty) (*RelyingParty, error) {
	var out RelyingParty
	return &out, c.do(ctx, http.MethodPut, "/v1/passkeys/relying-party",
		map[string]any{"id": rp.ID, "name": rp.Name, "origins": rp.Origins}, &out, true)
}

// RelyingParty returns the shop's passkey domain.
func (c *Client) RelyingParty(ctx context.Context) (*RelyingParty, error) {
	var out RelyingParty
	return &out, c.do(ctx, http.MethodGet, "/v1/passkeys/relying-party", nil, &out, true)
}

// BeginPasskeyRegistration starts registering a passkey for the customer;
// userName and displayName are how the device shows the account, name
// how the shop lists the passkey ("" for defaults).
func (c *Client) BeginPasskeyRegistration(ctx context.Context, userID, userName, displayName, name string) (*CeremonyStart, error) {
	var out CeremonyStart
	return &out, c.do(ctx, http.MethodPost, userPath(userID, "/passkeys/registrations"),
		map[string]string{"user_name": userName, "display_name": displayName, "passkey_name": name}, &out, false)
}

// FinishPasskeyRegistration sends the browser's answer (the JSON of the
// PublicKeyCredential) to the registration ceremony and returns the passkey.
func (c *Client) FinishPasskeyRegistration(ctx context.Context, userID, ceremonyID string, credential json.RawMessage) (*Passkey, error) {
	var out Passkey
	return &out, c.do(ctx, http.MethodPost, userPath(userID, "/passkeys"),
		map[string]any{"ceremony_id": ceremonyID, "credential": credential}, &out, false)
}

// Passkeys lists the customer's passkeys, oldest first.
func (c *Client) Passkeys(ctx context.Context, userID string) ([]Passkey, error) {
	var out struct {
		Passkeys []Passkey `json:"passkeys"`
	}
	err := c.do(ctx, http.MethodGet, userPath(userID, "/passkeys"), nil, &out, true)
	return out.Passkeys, err
}

// RenamePasskey renames the customer's passkey id.
func (c *Client) RenamePasskey(ctx context.Context, userID, id, name string) (*Passkey, error) {
	var out Passkey
	return &out, c.do(ctx, http.MethodPatch, userPath(userID, "/passkeys/"+url.PathEscape(id)),
		map[string]string{"name": name}, &out, true)
}

// RevokePasskey removes the customer's passkey id.
func (c *Client) RevokePasskey(ctx context.Context, userID, id string) error {
	return c.do(ctx, http.MethodDelete, userPath(userID, "/passkeys/"+url.PathEscape(id)), nil, nil, true)
}

// ChallengePasskeyOptions begins answering challenge id with a passkey:
// the options sign over the action the challenge approves.
func (c *Client) ChallengePasskeyOptions(ctx context.Context, id string) (*CeremonyStart, error) {
	var out CeremonyStart
	return &out, c.do(ctx, http.MethodPost, "/v1/challenges/"+url.PathEscape(id)+"/passkey-options", nil, &out, false)
}

// AnswerChallengeWithPasskey answers challenge id with the browser's
// answer to the ceremony ChallengePasskeyOptions began.
func (c *Client) AnswerChallengeWithPasskey(ctx context.Context, id, ceremonyID string, credential json.RawMessage) (*ChallengeAnswer, error) {
	var out ChallengeAnswer
	return &out, c.do(ctx, http.MethodPost, "/v1/challenges/"+url.PathEscape(id)+"/answer",
		map[string]any{"method": "passkey", "ceremony_id": ceremonyID, "credential": credential}, &out, false)
}

// EnrolmentLink is a link to shopguard's page where a customer adds a
// passkey or an authenticator app.
type EnrolmentLink struct {
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
}

// EnrolmentLinkInput describes an enrolment link.
type EnrolmentLinkInput struct {
	// AccountName is how the customer's device and app show the account.
	AccountName string `json:"account_name,omitempty"`
	// ReturnURL is the shop's page the enrolment page links back to.
	ReturnURL string `json:"return_url,omitempty"`
	// TTLSeconds is how long the link works (60..86400; 0: 900).
	TTLSeconds int `json:"ttl_seconds,omitempty"`
}

// CreateEnrolmentLink makes a link for the signed-in customer to add a
// passkey or an authenticator app (whoever holds it can, until it expires).
func (c *Client) CreateEnrolmentLink(ctx context.Context, userID string, in EnrolmentLinkInput) (*EnrolmentLink, error) {
	var out EnrolmentLink
	return &out, c.do(ctx, http.MethodPost, userPath(userID, "/enrolment-links"), in, &out, false)
}
