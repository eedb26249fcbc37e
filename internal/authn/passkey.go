package authn

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/shopguard/shopguard/internal/engine"
	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/storage"
)

// Errors of passkeys. Transports map them to statuses.
var (
	// ErrNoRelyingParty means the shop has not said which domain its
	// passkeys belong to (PutRelyingParty) yet.
	ErrNoRelyingParty = errors.New("authn: passkeys are not set up for this shop: set its relying party (domain and origins) first")
	// ErrCeremony means the ceremony is unknown, another customer's, was
	// already used or has expired: start a new one.
	ErrCeremony = errors.New("authn: the passkey ceremony is unknown, used or expired: start a new one")
	// ErrTooManyPasskeys means the customer has as many passkeys as allowed.
	ErrTooManyPasskeys = errors.New("authn: the customer has the most passkeys allowed: revoke one first")
)

// RejectedError means the browser's passkey response did not verify: a
// wrong origin or relying party, a bad signature, a replayed or cloned
// authenticator, a missing user verification. Reason says which.
type RejectedError struct {
	Reason string
}

func (e *RejectedError) Error() string { return "authn: the passkey was refused: " + e.Reason }

// rejected turns a go-webauthn error into a RejectedError with its details.
func rejected(err error) *RejectedError {
	var pe *protocol.Error
	if errors.As(err, &pe) {
		// go-webauthn formats a nil cause as "<nil>": leave it out.
		reason := strings.TrimSuffix(strings.TrimSuffix(pe.Details, "<nil>"), ": ")
		if pe.DevInfo != "" && pe.DevInfo != "<nil>" {
			reason += ": " + pe.DevInfo
		}
		return &RejectedError{Reason: reason}
	}
	return &RejectedError{Reason: err.Error()}
}

// Ceremony kinds.
const (
	ceremonyRegistration = "registration"
	ceremonyAssertion    = "assertion"
)

// MethodPasskey answers a challenge with a passkey.
const MethodPasskey = "passkey"

// PasskeyStore is the storage passkeys need.
type PasskeyStore interface {
	CreatePasskey(ctx context.Context, p storage.Passkey) error
	Passkeys(ctx context.Context, tenant, userID string) ([]storage.Passkey, error)
	PasskeyByCredential(ctx context.Context, tenant, rpID string, credentialID []byte) (storage.Passkey, error)
	UpdatePasskey(ctx context.Context, p storage.Passkey) error
	DeletePasskey(ctx context.Context, tenant, userID, id string) error
	CreateCeremony(ctx context.Context, c storage.Ceremony) error
	TakeCeremony(ctx context.Context, tenant, id string) (storage.Ceremony, error)
	RelyingParty(ctx context.Context, tenant string) (storage.RelyingParty, error)
	PutRelyingParty(ctx context.Context, rp storage.RelyingParty) error
}

// PasskeyConfig configures passkeys. Zero values take defaults.
type PasskeyConfig struct {
	// CeremonyTTL is how long a ceremony's second step is accepted after
	// its first (default 5 minutes).
	CeremonyTTL time.Duration
	// MaxPerUser is how many passkeys a customer may have (default 20).
	MaxPerUser int
	// Now returns the time (default time.Now).
	Now func() time.Time
}

// Passkeys registers customers' passkeys and checks them: WebAuthn
// ceremonies with the shop's domain as relying party, discoverable
// credentials, user verification (fingerprint, face, PIN) required and
// no attestation asked for. It is safe for concurrent use.
type Passkeys struct {
	cfg       PasskeyConfig
	store     PasskeyStore
	handleKey []byte
}

// NewPasskeys returns passkeys over store; customer handles are derived
// from sealKey (opaque, stable, the same on every instance).
func NewPasskeys(cfg PasskeyConfig, store PasskeyStore, sealKey []byte) *Passkeys {
	if cfg.CeremonyTTL <= 0 {
		cfg.CeremonyTTL = 5 * time.Minute
	}
	if cfg.MaxPerUser <= 0 {
		cfg.MaxPerUser = 20
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Passkeys{cfg: cfg, store: store, handleKey: deriveKey(sealKey, "shopguard passkey user handle key v1")}
}

// RelyingPartyInput is the shop's passkey domain as the shop sets it.
type RelyingPartyInput struct {
	// ID is the shop's registrable domain ("shop.example"); passkeys
	// work on it and its subdomains.
	ID string `json:"id"`
	// Name is the shop's name shown by the device.
	Name string `json:"name"`
	// Origins are the web origins ceremonies run on: the shop's pages and
	// shopguard's hosted page ("https://shop.example").
	Origins []string `json:"origins"`
}

// maxOrigins bounds a relying party's origins.
const maxOrigins = 20

// check validates the input.
func (in RelyingPartyInput) check() []error {
	var ps []error
	add := func(e *risk.FieldError) {
		if e != nil {
			ps = append(ps, e)
		}
	}
	id := in.ID
	switch {
	case id == "":
		add(risk.Missing("id"))
	case !validDomain(id):
		add(risk.Invalid("id", "%q is not a domain name such as shop.example (lower case, no scheme, port or path)", id))
	}
	if in.Name == "" {
		add(risk.Missing("name"))
	} else {
		add(risk.CheckText("name", in.Name, 64))
	}
	if len(in.Origins) == 0 {
		add(risk.Missing("origins"))
	}
	if len(in.Origins) > maxOrigins {
		add(risk.Invalid("origins", "has %d origins; at most %d are accepted", len(in.Origins), maxOrigins))
	}
	for i, o := range in.Origins {
		if e := checkOrigin(fmt.Sprintf("origins[%d]", i), o, id); e != nil {
			add(e)
		}
	}
	return ps
}

// validDomain reports whether s is a lower-case DNS name (or localhost).
func validDomain(s string) bool {
	if len(s) > 253 || s != strings.ToLower(s) || net.ParseIP(s) != nil {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		if strings.Trim(label, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
			return false
		}
	}
	return true
}

// checkOrigin validates an origin of relying party rpID: https (http only
// on localhost), no path, its host the RP ID or a subdomain of it.
func checkOrigin(field, o, rpID string) *risk.FieldError {
	u, err := url.Parse(o)
	if err != nil || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return risk.Invalid(field, "%q is not an origin such as https://shop.example", o)
	}
	host := u.Hostname()
	switch {
	case u.Scheme == "http" && host != "localhost":
		return risk.Invalid(field, "%q: passkeys need https (http only on localhost)", o)
	case u.Scheme != "https" && u.Scheme != "http":
		return risk.Invalid(field, "%q: passkeys need https", o)
	case rpID != "" && host != rpID && !strings.HasSuffix(host, "."+rpID):
		return risk.Invalid(field, "%q is not on %s or one of its subdomains", o, rpID)
	}
	return nil
}

// PutRelyingParty sets the domain and origins of the tenant's passkeys.
// Passkeys already registered keep the RP ID they were made for: a new
// ID only finds passkeys registered under it.
func (p *Passkeys) PutRelyingParty(ctx context.Context, tenant string, in RelyingPartyInput) (storage.RelyingParty, error) {
	if ps := in.check(); len(ps) > 0 {
		return storage.RelyingParty{}, errors.Join(ps...)
	}
	origins := make([]string, 0, len(in.Origins))
	for _, o := range in.Origins {
		if o = strings.TrimSuffix(strings.ToLower(o), "/"); !slices.Contains(origins, o) {
			origins = append(origins, o)
		}
	}
	rp := storage.RelyingParty{Tenant: tenant, ID: in.ID, Name: in.Name, Origins: origins,
		UpdatedAt: p.cfg.Now().UTC().Truncate(time.Microsecond)}
	if err := p.store.PutRelyingParty(ctx, rp); err != nil {
		return storage.RelyingParty{}, fmt.Errorf("authn: store relying party: %w", err)
	}
	return rp, nil
}

// RelyingParty returns the tenant's passkey domain (ErrNoRelyingParty if unset).
func (p *Passkeys) RelyingParty(ctx context.Context, tenant string) (storage.RelyingParty, error) {
	rp, err := p.store.RelyingParty(ctx, tenant)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.RelyingParty{}, ErrNoRelyingParty
	}
	if err != nil {
		return storage.RelyingParty{}, fmt.Errorf("authn: read relying party: %w", err)
	}
	return rp, nil
}

// CheckReturnURL validates u, a page of the shop that a hosted page sends
// the customer back to: an absolute URL on one of the tenant's origins
// (so shopguard's pages never redirect anywhere else). field names it.
func (p *Passkeys) CheckReturnURL(ctx context.Context, tenant, field, u string) *risk.FieldError {
	if e := risk.CheckText(field, u, 1024); e != nil {
		return e
	}
	parsed, err := url.Parse(u)
	if err != nil || parsed.Host == "" || (parsed.Scheme != "https" && parsed.Scheme != "http") || parsed.User != nil {
		return risk.Invalid(field, "%q is not an absolute URL of the shop's site", u)
	}
	rp, err := p.store.RelyingParty(ctx, tenant)
	if err != nil {
		return risk.Invalid(field, "set the shop's origins first (PUT /v1/passkeys/relying-party): customers are only sent back to them")
	}
	origin := strings.ToLower(parsed.Scheme + "://" + parsed.Host)
	if !slices.Contains(rp.Origins, origin) {
		return risk.Invalid(field, "%s is not one of the shop's origins (%s)", origin, strings.Join(rp.Origins, ", "))
	}
	return nil
}

// webAuthn returns the tenant's relying party and its go-webauthn setup.
func (p *Passkeys) webAuthn(ctx context.Context, tenant string) (storage.RelyingParty, *webauthn.WebAuthn, error) {
	rp, err := p.RelyingParty(ctx, tenant)
	if err != nil {
		return storage.RelyingParty{}, nil, err
	}
	w, err := p.webAuthnFor(rp)
	return rp, w, err
}

// webAuthnFor returns go-webauthn set up for rp: discoverable credentials
// and user verification required, no attestation asked for.
func (p *Passkeys) webAuthnFor(rp storage.RelyingParty) (*webauthn.WebAuthn, error) {
	w, err := webauthn.New(&webauthn.Config{
		RPID: rp.ID, RPDisplayName: rp.Name, RPOrigins: rp.Origins,
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey: protocol.ResidentKeyRequirementRequired, RequireResidentKey: protocol.ResidentKeyRequired(),
			UserVerification: protocol.VerificationRequired,
		},
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Timeout: p.cfg.CeremonyTTL, TimeoutUVD: p.cfg.CeremonyTTL},
			Registration: webauthn.TimeoutConfig{Timeout: p.cfg.CeremonyTTL, TimeoutUVD: p.cfg.CeremonyTTL},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("authn: relying party %s: %w", rp.ID, err)
	}
	return w, nil
}

// customer is a shop's customer as go-webauthn sees them.
type customer struct {
	handle      []byte
	name        string
	displayName string
	creds       []webauthn.Credential
}

func (c customer) WebAuthnID() []byte                         { return c.handle }
func (c customer) WebAuthnName() string                       { return c.name }
func (c customer) WebAuthnDisplayName() string                { return c.displayName }
func (c customer) WebAuthnCredentials() []webauthn.Credential { return c.creds }

// customerOf returns the customer with their passkeys under rp.
func (p *Passkeys) customerOf(ctx context.Context, tenant, userID string, rp storage.RelyingParty) (customer, []storage.Passkey, error) {
	all, err := p.store.Passkeys(ctx, tenant, userID)
	if err != nil {
		return customer{}, nil, fmt.Errorf("authn: read passkeys: %w", err)
	}
	c := customer{name: userID, displayName: userID}
	var keys []storage.Passkey
	for _, k := range all {
		if k.RPID != rp.ID {
			continue
		}
		keys = append(keys, k)
		c.creds = append(c.creds, toCredential(k))
		if c.handle == nil {
			c.handle = k.UserHandle
		}
	}
	if c.handle == nil {
		m := hmac.New(sha256.New, p.handleKey)
		m.Write([]byte(tenant + "\x00" + rp.ID + "\x00" + userID))
		c.handle = m.Sum(nil)
	}
	return c, keys, nil
}

// toCredential returns the stored passkey as go-webauthn's credential
// record: every field as registration left it, the flags from their octet.
func toCredential(k storage.Passkey) webauthn.Credential {
	c := webauthn.Credential{ID: k.CredentialID, PublicKey: k.PublicKey, AttestationType: k.AttestationType,
		AttestationFormat: k.AttestationFormat, Flags: webauthn.NewCredentialFlags(protocol.AuthenticatorFlags(k.Flags)),
		Authenticator: webauthn.Authenticator{AAGUID: k.AAGUID, SignCount: k.SignCount, CloneWarning: k.CloneWarning,
			Attachment: protocol.AuthenticatorAttachment(k.Attachment)}}
	for _, t := range k.Transports {
		c.Transport = append(c.Transport, protocol.AuthenticatorTransport(t))
	}
	if len(k.Attestation) > 0 {
		_ = json.Unmarshal(k.Attestation, &c.Attestation) // written by us from the same type
	}
	if len(k.Extensions) > 0 {
		_ = json.Unmarshal(k.Extensions, &c.Extensions)
	}
	return c
}

// CeremonyStart is the first step of a ceremony: the options the browser
// passes to navigator.credentials (create or get), and the id to finish
// it with.
type CeremonyStart struct {
	ID string `json:"ceremony_id"`
	// Options is {"publicKey": {...}} as the browser takes it.
	Options   json.RawMessage `json:"options"`
	ExpiresAt time.Time       `json:"expires_at"`
}

// RegistrationInput describes the customer as their device will show
// the passkey.
type RegistrationInput struct {
	// UserName is how the customer signs in (an e-mail); DisplayName
	// their name. Both default to the user id.
	UserName    string `json:"user_name,omitempty"`
	DisplayName string `json:"display_name,omitempty"`
	// Name is what the passkey is called in the shop's list ("iPhone").
	Name string `json:"passkey_name,omitempty"`
}

// BeginRegistration starts registering a passkey for the customer and
// returns the options for navigator.credentials.create. Passkeys the
// customer already has on this relying party are excluded, so a device
// does not register twice.
func (p *Passkeys) BeginRegistration(ctx context.Context, tenant, userID string, in RegistrationInput) (CeremonyStart, error) {
	rp, err := p.RelyingParty(ctx, tenant)
	if err != nil {
		return CeremonyStart{}, err
	}
	return p.BeginRegistrationAt(ctx, rp, tenant, userID, in)
}

// BeginRegistrationAt is BeginRegistration on the relying party rp rather
// than the tenant's (the dashboard's own, for its users).
func (p *Passkeys) BeginRegistrationAt(ctx context.Context, rp storage.RelyingParty, tenant, userID string, in RegistrationInput) (CeremonyStart, error) {
	var ps []error
	add := func(e *risk.FieldError) {
		if e != nil {
			ps = append(ps, e)
		}
	}
	add(checkUserID(userID))
	add(risk.CheckText("user_name", in.UserName, 128))
	add(risk.CheckText("display_name", in.DisplayName, 128))
	add(risk.CheckText("passkey_name", in.Name, 64))
	if len(ps) > 0 {
		return CeremonyStart{}, errors.Join(ps...)
	}
	w, err := p.webAuthnFor(rp)
	if err != nil {
		return CeremonyStart{}, err
	}
	c, keys, err := p.customerOf(ctx, tenant, userID, rp)
	if err != nil {
		return CeremonyStart{}, err
	}
	if len(keys) >= p.cfg.MaxPerUser {
		return CeremonyStart{}, ErrTooManyPasskeys
	}
	if in.UserName != "" {
		c.name = in.UserName
	}
	if in.DisplayName != "" {
		c.displayName = in.DisplayName
	}
	var exclude []protocol.CredentialDescriptor
	for _, cr := range c.creds {
		exclude = append(exclude, cr.Descriptor())
	}
	creation, session, err := w.BeginRegistration(c, webauthn.WithExclusions(exclude))
	if err != nil {
		return CeremonyStart{}, fmt.Errorf("authn: begin registration: %w", err)
	}
	return p.startCeremony(ctx, storage.Ceremony{Tenant: tenant, UserID: userID, Kind: ceremonyRegistration, Name: in.Name}, creation, session)
}

// startCeremony stores the ceremony with its whole session data and
// returns its start.
func (p *Passkeys) startCeremony(ctx context.Context, c storage.Ceremony, options any, session *webauthn.SessionData) (CeremonyStart, error) {
	now := p.cfg.Now().UTC().Truncate(time.Microsecond)
	opts, err := json.Marshal(options)
	if err != nil {
		return CeremonyStart{}, fmt.Errorf("authn: encode options: %w", err)
	}
	if c.Session, err = json.Marshal(session); err != nil {
		return CeremonyStart{}, fmt.Errorf("authn: encode session: %w", err)
	}
	c.ID, c.CreatedAt, c.ExpiresAt = engine.NewID("wc_", now), now, now.Add(p.cfg.CeremonyTTL)
	if err := p.store.CreateCeremony(ctx, c); err != nil {
		return CeremonyStart{}, fmt.Errorf("authn: store ceremony: %w", err)
	}
	return CeremonyStart{ID: c.ID, Options: opts, ExpiresAt: c.ExpiresAt}, nil
}

// takeCeremony returns the open ceremony id of the customer, of kind, and
// its session data; it can be taken once.
func (p *Passkeys) takeCeremony(ctx context.Context, tenant, userID, id, kind string) (storage.Ceremony, webauthn.SessionData, error) {
	if id == "" {
		return storage.Ceremony{}, webauthn.SessionData{}, risk.Missing("ceremony_id")
	}
	if e := risk.CheckText("ceremony_id", id, 64); e != nil {
		return storage.Ceremony{}, webauthn.SessionData{}, e
	}
	c, err := p.store.TakeCeremony(ctx, tenant, id)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.Ceremony{}, webauthn.SessionData{}, ErrCeremony
	}
	if err != nil {
		return storage.Ceremony{}, webauthn.SessionData{}, fmt.Errorf("authn: take ceremony: %w", err)
	}
	if c.UserID != userID || c.Kind != kind || !p.cfg.Now().Before(c.ExpiresAt) {
		return storage.Ceremony{}, webauthn.SessionData{}, ErrCeremony
	}
	var s webauthn.SessionData
	if err := json.Unmarshal(c.Session, &s); err != nil {
		return storage.Ceremony{}, webauthn.SessionData{}, fmt.Errorf("authn: decode ceremony session: %w", err)
	}
	return c, s, nil
}

// maxResponseBytes bounds a browser's credential response.
const maxResponseBytes = 64 << 10

// checkResponse validates the raw browser response's presence and size.
func checkResponse(response []byte) *risk.FieldError {
	switch {
	case len(bytes.TrimSpace(response)) == 0 || string(bytes.TrimSpace(response)) == "null":
		return risk.Missing("credential")
	case len(response) > maxResponseBytes:
		return risk.Invalid("credential", "is %d bytes long; at most %d are accepted", len(response), maxResponseBytes)
	}
	return nil
}

// ParseRegistration decodes a browser's registration response (the JSON
// of the PublicKeyCredential navigator.credentials.create returned).
func ParseRegistration(response []byte) (*protocol.ParsedCredentialCreationData, error) {
	return parseResponse(response, "registration", protocol.ParseCredentialCreationResponseBytes)
}

// ParseAssertion decodes a browser's authentication response (the JSON
// of the PublicKeyCredential navigator.credentials.get returned).
func ParseAssertion(response []byte) (*protocol.ParsedCredentialAssertionData, error) {
	return parseResponse(response, "sign-in", protocol.ParseCredentialRequestResponseBytes)
}

// parseResponse checks a response's size and decodes it with parse; what
// names the ceremony in the field error.
func parseResponse[T any](response []byte, what string, parse func([]byte) (T, error)) (T, error) {
	var zero T
	if e := checkResponse(response); e != nil {
		return zero, e
	}
	parsed, err := parse(response)
	if err != nil {
		return zero, risk.Invalid("credential", "is not a passkey %s response: %s", what, rejected(err).Reason)
	}
	return parsed, nil
}

// FinishRegistration checks the browser's response to the registration
// ceremony and stores the new passkey. The ceremony is used up either way.
func (p *Passkeys) FinishRegistration(ctx context.Context, tenant, userID, ceremonyID string, response []byte) (storage.Passkey, error) {
	rp, err := p.RelyingParty(ctx, tenant)
	if err != nil {
		return storage.Passkey{}, err
	}
	return p.FinishRegistrationAt(ctx, rp, tenant, userID, ceremonyID, response)
}

// FinishRegistrationAt is FinishRegistration on the relying party rp.
func (p *Passkeys) FinishRegistrationAt(ctx context.Context, rp storage.RelyingParty, tenant, userID, ceremonyID string, response []byte) (storage.Passkey, error) {
	if e := checkUserID(userID); e != nil {
		return storage.Passkey{}, e
	}
	parsed, err := ParseRegistration(response)
	if err != nil {
		return storage.Passkey{}, err
	}
	cer, session, err := p.takeCeremony(ctx, tenant, userID, ceremonyID, ceremonyRegistration)
	if err != nil {
		return storage.Passkey{}, err
	}
	w, err := p.webAuthnFor(rp)
	if err != nil {
		return storage.Passkey{}, err
	}
	if session.RelyingPartyID != rp.ID {
		return storage.Passkey{}, &RejectedError{Reason: "the shop's passkey domain changed during the ceremony"}
	}
	c, keys, err := p.customerOf(ctx, tenant, userID, rp)
	if err != nil {
		return storage.Passkey{}, err
	}
	if len(keys) >= p.cfg.MaxPerUser {
		return storage.Passkey{}, ErrTooManyPasskeys
	}
	c.handle = session.UserID
	cred, err := w.CreateCredential(c, session, parsed)
	if err != nil {
		return storage.Passkey{}, rejected(err)
	}
	att, err := json.Marshal(cred.Attestation)
	if err != nil {
		return storage.Passkey{}, fmt.Errorf("authn: encode attestation: %w", err)
	}
	ext, err := json.Marshal(cred.Extensions)
	if err != nil {
		return storage.Passkey{}, fmt.Errorf("authn: encode extensions: %w", err)
	}
	now := p.cfg.Now().UTC().Truncate(time.Microsecond)
	name := cer.Name
	if name == "" {
		name = fmt.Sprintf("Passkey %d", len(keys)+1)
	}
	k := storage.Passkey{Tenant: tenant, ID: engine.NewID("pk_", now), UserID: userID, RPID: rp.ID,
		CredentialID: cred.ID, UserHandle: session.UserID, PublicKey: cred.PublicKey,
		Algorithm: cred.Attestation.PublicKeyAlgorithm, AttestationType: cred.AttestationType,
		AttestationFormat: cred.AttestationFormat, Attestation: att, Flags: byte(cred.Flags.ProtocolValue()),
		SignCount: cred.Authenticator.SignCount, AAGUID: cred.Authenticator.AAGUID,
		Attachment: string(cred.Authenticator.Attachment), Extensions: ext, Name: name, CreatedAt: now, Version: 1}
	for _, t := range cred.Transport {
		k.Transports = append(k.Transports, string(t))
	}
	if err := p.store.CreatePasskey(ctx, k); errors.Is(err, storage.ErrConflict) {
		return storage.Passkey{}, &RejectedError{Reason: "this passkey is already registered"}
	} else if err != nil {
		return storage.Passkey{}, fmt.Errorf("authn: store passkey: %w", err)
	}
	return k, nil
}

// List returns the customer's passkeys, oldest first.
func (p *Passkeys) List(ctx context.Context, tenant, userID string) ([]storage.Passkey, error) {
	if e := checkUserID(userID); e != nil {
		return nil, e
	}
	keys, err := p.store.Passkeys(ctx, tenant, userID)
	if err != nil {
		return nil, fmt.Errorf("authn: read passkeys: %w", err)
	}
	return keys, nil
}

// Count returns how many passkeys the customer can use under the tenant's
// current relying party (0 if none is set).
func (p *Passkeys) Count(ctx context.Context, tenant, userID string) (int, error) {
	rp, err := p.store.RelyingParty(ctx, tenant)
	if errors.Is(err, storage.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("authn: read relying party: %w", err)
	}
	_, keys, err := p.customerOf(ctx, tenant, userID, rp)
	return len(keys), err
}

// Rename gives the customer's passkey id a new name.
func (p *Passkeys) Rename(ctx context.Context, tenant, userID, id, name string) (storage.Passkey, error) {
	var ps []error
	if e := checkUserID(userID); e != nil {
		ps = append(ps, e)
	}
	if name == "" {
		ps = append(ps, risk.Missing("name"))
	} else if e := risk.CheckText("name", name, 64); e != nil {
		ps = append(ps, e)
	}
	if len(ps) > 0 {
		return storage.Passkey{}, errors.Join(ps...)
	}
	return p.update(ctx, tenant, userID, id, func(k *storage.Passkey) error {
		k.Name = name
		return nil
	})
}

// update applies change to the customer's passkey id, retrying when a
// concurrent change got there first.
func (p *Passkeys) update(ctx context.Context, tenant, userID, id string, change func(*storage.Passkey) error) (storage.Passkey, error) {
	for range 5 {
		keys, err := p.store.Passkeys(ctx, tenant, userID)
		if err != nil {
			return storage.Passkey{}, fmt.Errorf("authn: read passkeys: %w", err)
		}
		i := slices.IndexFunc(keys, func(k storage.Passkey) bool { return k.ID == id })
		if i < 0 {
			return storage.Passkey{}, fmt.Errorf("authn: passkey %q: %w", id, storage.ErrNotFound)
		}
		k := keys[i]
		if err := change(&k); err != nil {
			return storage.Passkey{}, err
		}
		k.Version++
		err = p.store.UpdatePasskey(ctx, k)
		if errors.Is(err, storage.ErrConflict) {
			continue
		}
		if err != nil {
			return storage.Passkey{}, fmt.Errorf("authn: update passkey: %w", err)
		}
		return k, nil
	}
	return storage.Passkey{}, fmt.Errorf("authn: the passkey kept changing; try again: %w", storage.ErrConflict)
}

// Revoke removes the customer's passkey id: it no longer answers anything.
func (p *Passkeys) Revoke(ctx context.Context, tenant, userID, id string) error {
	if e := checkUserID(userID); e != nil {
		return e
	}
	if err := p.store.DeletePasskey(ctx, tenant, userID, id); err != nil {
		return fmt.Errorf("authn: revoke passkey %q: %w", id, err)
	}
	return nil
}

// BeginAssertion starts a passkey check of the customer over challenge
// (which the caller derives from what is approved) and returns the
// options for navigator.credentials.get, listing the customer's passkeys.
func (p *Passkeys) BeginAssertion(ctx context.Context, tenant, userID, challengeID string, challenge []byte) (CeremonyStart, error) {
	rp, w, err := p.webAuthn(ctx, tenant)
	if err != nil {
		return CeremonyStart{}, err
	}
	c, keys, err := p.customerOf(ctx, tenant, userID, rp)
	if err != nil {
		return CeremonyStart{}, err
	}
	if len(keys) == 0 {
		return CeremonyStart{}, ErrNoFactor
	}
	assertion, session, err := w.BeginLogin(c, webauthn.WithChallenge(challenge))
	if err != nil {
		return CeremonyStart{}, fmt.Errorf("authn: begin passkey check: %w", err)
	}
	return p.startCeremony(ctx, storage.Ceremony{Tenant: tenant, UserID: userID, Kind: ceremonyAssertion, ChallengeID: challengeID}, assertion, session)
}

// FinishAssertion checks the browser's answer to an assertion ceremony
// begun for challengeID and returns the passkey that signed it, its sign
// count and flags brought up to date. A response that does not verify is
// a *RejectedError; the ceremony is used up either way. It also returns
// the challenge the ceremony signed over, for the caller to check.
func (p *Passkeys) FinishAssertion(ctx context.Context, tenant, userID, challengeID, ceremonyID string, response []byte) (storage.Passkey, []byte, error) {
	parsed, err := ParseAssertion(response)
	if err != nil {
		return storage.Passkey{}, nil, err
	}
	cer, session, err := p.takeCeremony(ctx, tenant, userID, ceremonyID, ceremonyAssertion)
	if err != nil {
		return storage.Passkey{}, nil, err
	}
	if cer.ChallengeID != challengeID {
		return storage.Passkey{}, nil, ErrCeremony
	}
	rp, w, err := p.webAuthn(ctx, tenant)
	if err != nil {
		return storage.Passkey{}, nil, err
	}
	k, err := p.verifyAssertion(ctx, w, rp, tenant, userID, session, parsed, false)
	if err != nil {
		return storage.Passkey{}, nil, err
	}
	signed, err := base64.RawURLEncoding.DecodeString(session.Challenge)
	if err != nil {
		return storage.Passkey{}, nil, fmt.Errorf("authn: decode ceremony challenge: %w", err)
	}
	return k, signed, nil
}

// verifyAssertion checks parsed, the answer to the assertion ceremony
// session (discoverable: begun without a user), as the customer's under
// rp, and brings the passkey's sign count, flags and last use up to date.
// A clone (the signature counter went backwards) fails closed and flags
// the passkey for good.
func (p *Passkeys) verifyAssertion(ctx context.Context, w *webauthn.WebAuthn, rp storage.RelyingParty, tenant, userID string,
	session webauthn.SessionData, parsed *protocol.ParsedCredentialAssertionData, discoverable bool) (storage.Passkey, error) {
	if session.RelyingPartyID != rp.ID {
		return storage.Passkey{}, &RejectedError{Reason: "the passkey domain changed during the ceremony"}
	}
	c, keys, err := p.customerOf(ctx, tenant, userID, rp)
	if err != nil {
		return storage.Passkey{}, err
	}
	i := slices.IndexFunc(keys, func(k storage.Passkey) bool { return bytes.Equal(k.CredentialID, parsed.RawID) })
	if i < 0 {
		return storage.Passkey{}, &RejectedError{Reason: "the passkey is not one of the customer's (revoked, or another account's)"}
	}
	var cred *webauthn.Credential
	if discoverable {
		_, cred, err = w.ValidatePasskeyLogin(func(rawID, userHandle []byte) (webauthn.User, error) { return c, nil }, session, parsed)
	} else {
		cred, err = w.ValidateLogin(c, session, parsed)
	}
	if err != nil {
		return storage.Passkey{}, rejected(err)
	}
	clone := cred.Authenticator.CloneWarning && !keys[i].CloneWarning
	k, err := p.update(ctx, tenant, userID, keys[i].ID, func(k *storage.Passkey) error {
		k.Flags = byte(cred.Flags.ProtocolValue())
		k.CloneWarning = k.CloneWarning || cred.Authenticator.CloneWarning
		if !cred.Authenticator.CloneWarning {
			k.SignCount = max(k.SignCount, cred.Authenticator.SignCount)
			k.LastUsedAt = p.cfg.Now().UTC().Truncate(time.Microsecond)
		}
		return nil
	})
	if err != nil {
		return storage.Passkey{}, err
	}
	if k.CloneWarning {
		why := "the passkey's signature counter went backwards: the authenticator may have been cloned"
		if !clone {
			why = "the passkey was flagged as possibly cloned: revoke it and register a new one"
		}
		return storage.Passkey{}, &RejectedError{Reason: why}
	}
	return k, nil
}

// ceremonyDiscoverable is a sign-in without a user name: the passkey the
// browser picks says who it is.
const ceremonyDiscoverable = "discoverable"

// BeginDiscoverableAt starts a sign-in on rp with any of the tenant's
// passkeys (the browser lists the ones it holds for rp): the options for
// navigator.credentials.get, user verification required.
func (p *Passkeys) BeginDiscoverableAt(ctx context.Context, rp storage.RelyingParty, tenant string) (CeremonyStart, error) {
	w, err := p.webAuthnFor(rp)
	if err != nil {
		return CeremonyStart{}, err
	}
	assertion, session, err := w.BeginDiscoverableLogin()
	if err != nil {
		return CeremonyStart{}, fmt.Errorf("authn: begin passkey sign-in: %w", err)
	}
	return p.startCeremony(ctx, storage.Ceremony{Tenant: tenant, Kind: ceremonyDiscoverable}, assertion, session)
}

// FinishDiscoverableAt checks the browser's answer to a sign-in begun by
// BeginDiscoverableAt and returns the passkey that signed it, which names
// the user. A response that does not verify, or a passkey that is not
// the tenant's, is a *RejectedError.
func (p *Passkeys) FinishDiscoverableAt(ctx context.Context, rp storage.RelyingParty, tenant, ceremonyID string, response []byte) (storage.Passkey, error) {
	parsed, err := ParseAssertion(response)
	if err != nil {
		return storage.Passkey{}, err
	}
	_, session, err := p.takeCeremony(ctx, tenant, "", ceremonyID, ceremonyDiscoverable)
	if err != nil {
		return storage.Passkey{}, err
	}
	k, err := p.store.PasskeyByCredential(ctx, tenant, rp.ID, parsed.RawID)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.Passkey{}, &RejectedError{Reason: "the passkey is not registered here (revoked, or another site's)"}
	}
	if err != nil {
		return storage.Passkey{}, fmt.Errorf("authn: find passkey: %w", err)
	}
	if h := parsed.Response.UserHandle; len(h) > 0 && !bytes.Equal(h, k.UserHandle) {
		return storage.Passkey{}, &RejectedError{Reason: "the passkey's user handle is not its owner's"}
	}
	w, err := p.webAuthnFor(rp)
	if err != nil {
		return storage.Passkey{}, err
	}
	return p.verifyAssertion(ctx, w, rp, tenant, k.UserID, session, parsed, true)
}
