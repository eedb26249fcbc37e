package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/shopguard/shopguard/internal/apikey"
	"github.com/shopguard/shopguard/internal/authn"
	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/storage"
)

// Passkeys registers and manages customers' passkeys (an *authn.Passkeys).
type Passkeys interface {
	PutRelyingParty(ctx context.Context, tenant string, in authn.RelyingPartyInput) (storage.RelyingParty, error)
	RelyingParty(ctx context.Context, tenant string) (storage.RelyingParty, error)
	BeginRegistration(ctx context.Context, tenant, userID string, in authn.RegistrationInput) (authn.CeremonyStart, error)
	FinishRegistration(ctx context.Context, tenant, userID, ceremonyID string, response []byte) (storage.Passkey, error)
	List(ctx context.Context, tenant, userID string) ([]storage.Passkey, error)
	Count(ctx context.Context, tenant, userID string) (int, error)
	Rename(ctx context.Context, tenant, userID, id, name string) (storage.Passkey, error)
	Revoke(ctx context.Context, tenant, userID, id string) error
	CheckReturnURL(ctx context.Context, tenant, field, u string) *risk.FieldError
}

// HostedLinks signs links to the hosted pages (an *authn.Links).
type HostedLinks interface {
	ChallengePath(tenant, id, returnURL string) string
	EnrolmentPath(e authn.EnrolLink) string
}

// SetLinks gives challenges links to their hosted page and serves
// /v1/users/{user}/enrolment-links (without it, that route answers 404).
func (s *Server) SetLinks(l HostedLinks) { s.links = l }

// errNoLinks answers the enrolment-link route of a server without links.
var errNoLinks = newStatusError(http.StatusNotFound, "not_found", "", "hosted pages are not available in this shopguard")

// SetPasskeys serves /v1/passkeys and /v1/users/{user}/passkeys (without
// it, those routes answer 404).
func (s *Server) SetPasskeys(p Passkeys) { s.passkeys = p }

// errNoPasskeys answers the passkey routes of a server without passkeys.
var errNoPasskeys = newStatusError(http.StatusNotFound, "not_found", "", "passkeys are not available in this shopguard")

// relyingPartyJSON is a tenant's passkey domain as the API shows it.
type relyingPartyJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Origins   []string  `json:"origins"`
	UpdatedAt time.Time `json:"updated_at"`
}

// passkeyFlagsJSON are a passkey's authenticator flags as last seen.
type passkeyFlagsJSON struct {
	UserPresent    bool `json:"user_present"`
	UserVerified   bool `json:"user_verified"`
	BackupEligible bool `json:"backup_eligible"`
	BackupState    bool `json:"backup_state"`
}

// passkeyJSON is a passkey as the API shows it (never its key material).
type passkeyJSON struct {
	ID           string           `json:"id"`
	UserID       string           `json:"user_id"`
	Name         string           `json:"name"`
	RPID         string           `json:"rp_id"`
	CredentialID string           `json:"credential_id"`
	AAGUID       string           `json:"aaguid"`
	Algorithm    int64            `json:"algorithm"`
	Transports   []string         `json:"transports"`
	Attachment   string           `json:"attachment,omitempty"`
	Attestation  string           `json:"attestation_format,omitempty"`
	Flags        passkeyFlagsJSON `json:"flags"`
	SignCount    uint32           `json:"sign_count"`
	CloneWarning bool             `json:"clone_warning"`
	CreatedAt    time.Time        `json:"created_at"`
	LastUsedAt   *time.Time       `json:"last_used_at,omitempty"`
}

// passkeysJSON lists a customer's passkeys.
type passkeysJSON struct {
	Passkeys []passkeyJSON `json:"passkeys"`
}

// Authenticator-data flag bits (WebAuthn §6.1).
const (
	flagUP = 0x01
	flagUV = 0x04
	flagBE = 0x08
	flagBS = 0x10
)

func toPasskeyJSON(k storage.Passkey) passkeyJSON {
	out := passkeyJSON{ID: k.ID, UserID: k.UserID, Name: k.Name, RPID: k.RPID,
		CredentialID: base64.RawURLEncoding.EncodeToString(k.CredentialID), AAGUID: formatAAGUID(k.AAGUID),
		Algorithm: k.Algorithm, Transports: k.Transports, Attachment: k.Attachment, Attestation: k.AttestationFormat,
		Flags: passkeyFlagsJSON{UserPresent: k.Flags&flagUP != 0, UserVerified: k.Flags&flagUV != 0,
			BackupEligible: k.Flags&flagBE != 0, BackupState: k.Flags&flagBS != 0},
		SignCount: k.SignCount, CloneWarning: k.CloneWarning, CreatedAt: k.CreatedAt, LastUsedAt: optTime(k.LastUsedAt)}
	if out.Transports == nil {
		out.Transports = []string{}
	}
	return out
}

// formatAAGUID writes an authenticator model id as a UUID.
func formatAAGUID(b []byte) string {
	if len(b) != 16 {
		return "00000000-0000-0000-0000-000000000000"
	}
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// finishBody is the request of POST /v1/users/{user}/passkeys.
type finishBody struct {
	CeremonyID string          `json:"ceremony_id"`
	Credential json.RawMessage `json:"credential"`
}

// renameBody is the request of PATCH /v1/users/{user}/passkeys/{id}.
type renameBody struct {
	Name string `json:"name"`
}

func (s *Server) getRelyingParty(w http.ResponseWriter, r *http.Request, key apikey.Key, p Passkeys) error {
	rp, err := p.RelyingParty(r.Context(), key.Tenant)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, relyingPartyJSON{ID: rp.ID, Name: rp.Name, Origins: rp.Origins, UpdatedAt: rp.UpdatedAt})
	return nil
}

func (s *Server) putRelyingParty(w http.ResponseWriter, r *http.Request, key apikey.Key, p Passkeys) error {
	var in authn.RelyingPartyInput
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &in); err != nil {
		return err
	}
	rp, err := p.PutRelyingParty(r.Context(), key.Tenant, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, relyingPartyJSON{ID: rp.ID, Name: rp.Name, Origins: rp.Origins, UpdatedAt: rp.UpdatedAt})
	return nil
}

func (s *Server) beginPasskeyRegistration(w http.ResponseWriter, r *http.Request, key apikey.Key, p Passkeys) error {
	var in authn.RegistrationInput
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &in); err != nil {
		return err
	}
	start, err := p.BeginRegistration(r.Context(), key.Tenant, r.PathValue("user"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, start)
	return nil
}

func (s *Server) postPasskey(w http.ResponseWriter, r *http.Request, key apikey.Key, p Passkeys) error {
	var body finishBody
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &body); err != nil {
		return err
	}
	k, err := p.FinishRegistration(r.Context(), key.Tenant, r.PathValue("user"), body.CeremonyID, body.Credential)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toPasskeyJSON(k))
	return nil
}

func (s *Server) getPasskeys(w http.ResponseWriter, r *http.Request, key apikey.Key, p Passkeys) error {
	keys, err := p.List(r.Context(), key.Tenant, r.PathValue("user"))
	if err != nil {
		return err
	}
	out := passkeysJSON{Passkeys: make([]passkeyJSON, 0, len(keys))}
	for _, k := range keys {
		out.Passkeys = append(out.Passkeys, toPasskeyJSON(k))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) patchPasskey(w http.ResponseWriter, r *http.Request, key apikey.Key, p Passkeys) error {
	var body renameBody
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &body); err != nil {
		return err
	}
	k, err := p.Rename(r.Context(), key.Tenant, r.PathValue("user"), r.PathValue("id"), body.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toPasskeyJSON(k))
	return nil
}

// enrolmentLinkBody is the request of POST /v1/users/{user}/enrolment-links.
type enrolmentLinkBody struct {
	// AccountName is how the customer's device and app show the account.
	AccountName string `json:"account_name,omitempty"`
	// ReturnURL is the shop's page the enrolment page links back to.
	ReturnURL string `json:"return_url,omitempty"`
	// TTLSeconds is how long the link works (60..86400, default 900).
	TTLSeconds int `json:"ttl_seconds,omitempty"`
}

// enrolmentLinkJSON is a link to the enrolment page.
type enrolmentLinkJSON struct {
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Bounds of an enrolment link's life.
const (
	defaultLinkTTL = 15 * time.Minute
	minLinkTTL     = time.Minute
	maxLinkTTL     = 24 * time.Hour
)

// postEnrolmentLink makes a link to the hosted page where the customer
// adds a passkey or an authenticator app. The shop hands it only to the
// signed-in customer: whoever holds it can add factors until it expires.
func (s *Server) postEnrolmentLink(w http.ResponseWriter, r *http.Request, key apikey.Key, l HostedLinks) error {
	var body enrolmentLinkBody
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &body); err != nil {
		return err
	}
	user := r.PathValue("user")
	var ps []error
	add := func(e *risk.FieldError) {
		if e != nil {
			ps = append(ps, e)
		}
	}
	if user == "" {
		add(risk.Missing("user_id"))
	}
	add(risk.CheckText("user_id", user, 128))
	add(risk.CheckText("account_name", body.AccountName, 128))
	ttl := defaultLinkTTL
	if body.TTLSeconds != 0 {
		ttl = time.Duration(body.TTLSeconds) * time.Second
		if ttl < minLinkTTL || ttl > maxLinkTTL {
			add(risk.Invalid("ttl_seconds", "%d is outside 60..86400", body.TTLSeconds))
		}
	}
	if body.ReturnURL != "" {
		if s.passkeys == nil {
			add(risk.Invalid("return_url", "return URLs need the shop's origins, and passkeys are not available"))
		} else {
			add(s.passkeys.CheckReturnURL(r.Context(), key.Tenant, "return_url", body.ReturnURL))
		}
	}
	if len(ps) > 0 {
		return errors.Join(ps...)
	}
	exp := s.now().Add(ttl).Truncate(time.Second).UTC()
	path := l.EnrolmentPath(authn.EnrolLink{Tenant: key.Tenant, UserID: user, AccountName: body.AccountName,
		Expires: exp.Unix(), ReturnURL: body.ReturnURL})
	writeJSON(w, http.StatusCreated, enrolmentLinkJSON{URL: s.cfg.PublicURL + path, ExpiresAt: exp})
	return nil
}

func (s *Server) deletePasskey(w http.ResponseWriter, r *http.Request, key apikey.Key, p Passkeys) error {
	if err := p.Revoke(r.Context(), key.Tenant, r.PathValue("user"), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
