// Package virtualkey is a software WebAuthn authenticator together with the
// browser's (client's) part of the registration and authentication ceremonies.
//
// It lets Go tests and the shop demo register and use passkeys exactly as a
// browser with a platform authenticator would: [Authenticator.Create] takes the
// PublicKeyCredentialCreationOptions a relying party emits (for instance the
// JSON of go-webauthn's protocol.CredentialCreation) and returns the
// RegistrationResponseJSON a browser would POST back, and [Authenticator.Get]
// does the same for PublicKeyCredentialRequestOptions and the
// AuthenticationResponseJSON.
//
// Credentials are ES256 (ECDSA P-256 with SHA-256) keys, always discoverable
// (resident), and attested with the "none" attestation format, which is what
// synced passkey providers return. The client-side checks a browser performs
// (secure origin, RP ID versus origin, supported algorithms, excluded
// credentials) are applied; refusals wrap one of the sentinel errors
// [ErrInvalidOptions], [ErrSecurity], [ErrNotSupported], [ErrInvalidState] or
// [ErrNotAllowed], named after the DOMExceptions a browser would raise.
//
// The authenticator deliberately does not refuse to answer when the relying
// party requires user verification but the authenticator is configured with
// [Options.SkipUserVerification]: it then answers with the UV flag clear, so
// that the relying party's own check can be exercised.
package virtualkey

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/fxamacker/cbor/v2"
)

// Sentinel errors. Every refusal by a browser-side or authenticator check
// wraps one of them so callers can use errors.Is; only unexpected failures
// (random source, encoding) wrap other errors.
var (
	// ErrInvalidOptions reports options JSON that is malformed or lacks a
	// required member (a browser would throw a TypeError).
	ErrInvalidOptions = errors.New("invalid options")
	// ErrSecurity reports an origin that is not a secure context or whose host
	// is neither the RP ID nor a subdomain of it (a browser's SecurityError).
	ErrSecurity = errors.New("security error")
	// ErrNotSupported reports that none of the requested public key credential
	// algorithms is supported; this authenticator only does ES256 (-7).
	ErrNotSupported = errors.New("not supported")
	// ErrInvalidState reports that the authenticator already holds one of the
	// credentials in excludeCredentials.
	ErrInvalidState = errors.New("invalid state")
	// ErrNotAllowed reports that the ceremony cannot be completed, for instance
	// because no credential for the RP ID is available.
	ErrNotAllowed = errors.New("not allowed")
)

// AlgES256 is the COSE algorithm identifier of ECDSA with P-256 and SHA-256,
// the only algorithm this authenticator supports.
const AlgES256 = -7

// Authenticator data flags (WebAuthn §6.1).
const (
	flagUP byte = 0x01 // user present
	flagUV byte = 0x04 // user verified
	flagBE byte = 0x08 // backup eligible
	flagBS byte = 0x10 // backup state
	flagAT byte = 0x40 // attested credential data included
)

const (
	credentialIDLength = 32
	maxUserHandle      = 64
)

// ctap2 encodes CBOR in the CTAP2 canonical form WebAuthn requires.
var ctap2 = func() cbor.EncMode {
	em, err := cbor.CTAP2EncOptions().EncMode()
	if err != nil {
		panic(fmt.Sprintf("virtualkey: cbor encoder: %v", err))
	}
	return em
}()

// DefaultTransports are the transports reported when [Options.Transports] is
// nil: those of a platform passkey provider that can also be used from
// another device.
var DefaultTransports = []string{"internal", "hybrid"}

// DefaultAttachment is the authenticator attachment reported when
// [Options.Attachment] is empty.
const DefaultAttachment = "platform"

// Options configures an [Authenticator]. The zero value is a platform
// authenticator that verifies the user, is not backup eligible, has no AAGUID
// and keeps its signature counter at zero.
type Options struct {
	// AAGUID is reported in the attested credential data at registration.
	AAGUID [16]byte
	// BackupEligible sets the BE flag on every response.
	BackupEligible bool
	// BackupState sets the BS flag on every response.
	BackupState bool
	// SkipUserVerification clears the UV flag on every response. By default
	// the authenticator reports that it verified the user.
	SkipUserVerification bool
	// Counter makes the signature counter increment on every assertion. When
	// false it stays at zero, as synced passkeys do.
	Counter bool
	// Transports are reported in registration responses. Nil means
	// [DefaultTransports]; an empty non-nil slice reports no transports.
	Transports []string
	// Attachment is reported as authenticatorAttachment ("platform" or
	// "cross-platform"). Empty means [DefaultAttachment].
	Attachment string
}

// Credential describes a credential held by an [Authenticator]. It is a copy;
// changing it does not affect the authenticator.
type Credential struct {
	// ID is the credential id (32 random bytes).
	ID []byte
	// UserHandle is the user.id the relying party sent at registration.
	UserHandle []byte
	// UserName is the user.name the relying party sent at registration.
	UserName string
	// RPID is the relying party id the credential is scoped to.
	RPID string
	// SignCount is the last signature counter value the credential reported.
	SignCount uint32
}

// credential is the authenticator's private record of a credential.
type credential struct {
	id         []byte
	userHandle []byte
	userName   string
	rpID       string
	key        *ecdsa.PrivateKey
	signCount  uint32
}

// Authenticator is a software WebAuthn authenticator holding ES256
// credentials. It is safe for concurrent use.
type Authenticator struct {
	mu    sync.Mutex
	opts  Options
	creds []*credential // in creation order, oldest first
}

// New returns an authenticator without credentials configured by opts.
func New(opts Options) *Authenticator {
	if opts.Transports == nil {
		opts.Transports = slices.Clone(DefaultTransports)
	} else {
		opts.Transports = slices.Clone(opts.Transports)
	}
	if opts.Attachment == "" {
		opts.Attachment = DefaultAttachment
	}
	return &Authenticator{opts: opts}
}

// SetFlags changes the BE and BS flags reported by subsequent responses, for
// instance to simulate a credential whose backup eligibility changed after
// registration.
func (a *Authenticator) SetFlags(backupEligible, backupState bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.opts.BackupEligible = backupEligible
	a.opts.BackupState = backupState
}

// Credentials returns copies of the credentials the authenticator holds, in
// creation order.
func (a *Authenticator) Credentials() []Credential {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]Credential, 0, len(a.creds))
	for _, c := range a.creds {
		out = append(out, Credential{
			ID:         slices.Clone(c.id),
			UserHandle: slices.Clone(c.userHandle),
			UserName:   c.userName,
			RPID:       c.rpID,
			SignCount:  c.signCount,
		})
	}
	return out
}

// Remove deletes the credential with the given id. It reports whether such a
// credential existed.
func (a *Authenticator) Remove(credentialID []byte) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, c := range a.creds {
		if bytes.Equal(c.id, credentialID) {
			a.creds = slices.Delete(a.creds, i, i+1)
			return true
		}
	}
	return false
}

// SetSignCount sets the stored signature counter of a credential, for
// instance to simulate a cloned authenticator. With [Options.Counter] the next
// assertion reports n+1; without it the next assertions report n. It returns
// an error wrapping [ErrNotAllowed] if the credential is unknown.
func (a *Authenticator) SetSignCount(credentialID []byte, n uint32) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, c := range a.creds {
		if bytes.Equal(c.id, credentialID) {
			c.signCount = n
			return nil
		}
	}
	return fmt.Errorf("virtualkey: set sign count: unknown credential: %w", ErrNotAllowed)
}

// ---------------------------------------------------------------------------
// Options JSON (the subset a browser's parseCreationOptionsFromJSON /
// parseRequestOptionsFromJSON would read).

type credentialDescriptorJSON struct {
	Type       string   `json:"type"`
	ID         string   `json:"id"`
	Transports []string `json:"transports,omitempty"`
}

type pubKeyCredParamJSON struct {
	Type string `json:"type"`
	Alg  int64  `json:"alg"`
}

type creationOptionsJSON struct {
	RP struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"rp"`
	User *struct {
		ID          json.RawMessage `json:"id"`
		Name        string          `json:"name"`
		DisplayName string          `json:"displayName"`
	} `json:"user"`
	Challenge              *string                    `json:"challenge"`
	PubKeyCredParams       []pubKeyCredParamJSON      `json:"pubKeyCredParams"`
	ExcludeCredentials     []credentialDescriptorJSON `json:"excludeCredentials"`
	AuthenticatorSelection struct {
		AuthenticatorAttachment string `json:"authenticatorAttachment"`
		ResidentKey             string `json:"residentKey"`
		UserVerification        string `json:"userVerification"`
	} `json:"authenticatorSelection"`
}

type requestOptionsJSON struct {
	Challenge        *string                    `json:"challenge"`
	RPID             string                     `json:"rpId"`
	AllowCredentials []credentialDescriptorJSON `json:"allowCredentials"`
	UserVerification string                     `json:"userVerification"`
}

// unwrapOptions returns the inner options object of {"publicKey":{...}}, or
// the input itself if it is already the bare inner object.
func unwrapOptions(optionsJSON []byte) ([]byte, error) {
	var outer map[string]json.RawMessage
	if err := json.Unmarshal(optionsJSON, &outer); err != nil {
		return nil, fmt.Errorf("options are not a JSON object: %w: %w", err, ErrInvalidOptions)
	}
	if outer == nil {
		return nil, fmt.Errorf("options are null: %w", ErrInvalidOptions)
	}
	inner, ok := outer["publicKey"]
	if !ok {
		return optionsJSON, nil
	}
	if bytes.Equal(bytes.TrimSpace(inner), []byte("null")) {
		return nil, fmt.Errorf("publicKey member is null: %w", ErrInvalidOptions)
	}
	return inner, nil
}

// decodeB64URL decodes base64url, tolerating padding as go-webauthn does.
func decodeB64URL(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// decodeChallenge decodes the mandatory challenge member.
func decodeChallenge(ch *string) ([]byte, error) {
	if ch == nil {
		return nil, fmt.Errorf("missing challenge: %w", ErrInvalidOptions)
	}
	raw, err := decodeB64URL(*ch)
	if err != nil {
		return nil, fmt.Errorf("challenge is not base64url: %w: %w", err, ErrInvalidOptions)
	}
	if len(raw) == 0 {
		return nil, fmt.Errorf("empty challenge: %w", ErrInvalidOptions)
	}
	return raw, nil
}

// decodeUserID decodes user.id. A browser decodes it as base64url; relying
// parties that send the handle as a plain string (go-webauthn's
// EncodeUserIDAsString) are accommodated by falling back to the string's
// UTF-8 bytes when it is not valid base64url.
func decodeUserID(raw json.RawMessage) ([]byte, error) {
	var s string
	if len(raw) == 0 || json.Unmarshal(raw, &s) != nil {
		return nil, fmt.Errorf("user.id must be a string: %w", ErrInvalidOptions)
	}
	id, err := decodeB64URL(s)
	if err != nil {
		id = []byte(s)
	}
	if len(id) == 0 || len(id) > maxUserHandle {
		return nil, fmt.Errorf("user.id must be 1 to %d bytes, got %d: %w", maxUserHandle, len(id), ErrInvalidOptions)
	}
	return id, nil
}

// decodeDescriptorIDs returns the ids of the public-key descriptors; entries
// of other types are ignored as browsers do.
func decodeDescriptorIDs(list []credentialDescriptorJSON, member string) ([][]byte, error) {
	ids := make([][]byte, 0, len(list))
	for i, d := range list {
		if d.Type != "public-key" {
			continue
		}
		id, err := decodeB64URL(d.ID)
		if err != nil {
			return nil, fmt.Errorf("%s[%d].id is not base64url: %w: %w", member, i, err, ErrInvalidOptions)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// ---------------------------------------------------------------------------
// Origin and RP ID checks.

// callerOrigin is a parsed, serialised caller origin.
type callerOrigin struct {
	serialized string // scheme://host[:port], default port omitted
	host       string // effective domain, lower case
}

// parseOrigin validates the caller origin like a browser would: it must be a
// secure context (https, or http on localhost) with a domain host. A full URL
// is accepted and reduced to its origin.
func parseOrigin(origin string) (callerOrigin, error) {
	u, err := url.Parse(origin)
	if err != nil {
		return callerOrigin{}, fmt.Errorf("origin %q: %w: %w", origin, err, ErrSecurity)
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	if host == "" || u.User != nil {
		return callerOrigin{}, fmt.Errorf("origin %q has no host: %w", origin, ErrSecurity)
	}
	if net.ParseIP(host) != nil {
		return callerOrigin{}, fmt.Errorf("origin %q: an IP address is not a valid domain: %w", origin, ErrSecurity)
	}
	switch scheme {
	case "https":
	case "http":
		if !isLocalhost(host) {
			return callerOrigin{}, fmt.Errorf("origin %q is not a secure context (http is only allowed for localhost): %w", origin, ErrSecurity)
		}
	default:
		return callerOrigin{}, fmt.Errorf("origin %q: scheme must be https: %w", origin, ErrSecurity)
	}
	serialized := scheme + "://" + host
	if port := u.Port(); port != "" && (scheme != "https" || port != "443") && (scheme != "http" || port != "80") {
		serialized += ":" + port
	}
	return callerOrigin{serialized: serialized, host: host}, nil
}

func isLocalhost(host string) bool {
	return host == "localhost" || strings.HasSuffix(host, ".localhost")
}

// resolveRPID returns the RP ID to use: the requested one, or the origin's
// effective domain if none was given. The RP ID must equal the origin's host
// or be a registrable suffix of it.
func resolveRPID(rpID string, o callerOrigin) (string, error) {
	if rpID == "" {
		return o.host, nil
	}
	id := strings.ToLower(rpID)
	if id != o.host && !strings.HasSuffix(o.host, "."+id) {
		return "", fmt.Errorf("rp id %q is not a registrable domain suffix of origin %q: %w", rpID, o.serialized, ErrSecurity)
	}
	// Approximation of the public suffix check: a single-label RP ID other
	// than localhost would be a top-level domain.
	if !strings.Contains(id, ".") && id != "localhost" {
		return "", fmt.Errorf("rp id %q is a public suffix: %w", rpID, ErrSecurity)
	}
	return id, nil
}

// ---------------------------------------------------------------------------
// Ceremonies.

type clientDataJSON struct {
	Type        string `json:"type"`
	Challenge   string `json:"challenge"`
	Origin      string `json:"origin"`
	CrossOrigin bool   `json:"crossOrigin"`
}

func marshalClientData(typ string, challenge []byte, origin string) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(clientDataJSON{Type: typ, Challenge: b64(challenge), Origin: origin}); err != nil {
		return nil, fmt.Errorf("encode client data: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

type coseEC2Key struct {
	Kty int    `cbor:"1,keyasint"`
	Alg int    `cbor:"3,keyasint"`
	Crv int    `cbor:"-1,keyasint"`
	X   []byte `cbor:"-2,keyasint"`
	Y   []byte `cbor:"-3,keyasint"`
}

type attestationObject struct {
	Fmt      string         `cbor:"fmt"`
	AttStmt  map[string]any `cbor:"attStmt"`
	AuthData []byte         `cbor:"authData"`
}

type registrationResponseJSON struct {
	ID                      string                  `json:"id"`
	RawID                   string                  `json:"rawId"`
	Type                    string                  `json:"type"`
	AuthenticatorAttachment string                  `json:"authenticatorAttachment,omitempty"`
	Response                attestationResponseJSON `json:"response"`
	ClientExtensionResults  struct{}                `json:"clientExtensionResults"`
}

type attestationResponseJSON struct {
	ClientDataJSON     string   `json:"clientDataJSON"`
	AttestationObject  string   `json:"attestationObject"`
	AuthenticatorData  string   `json:"authenticatorData"`
	Transports         []string `json:"transports"`
	PublicKey          string   `json:"publicKey"`
	PublicKeyAlgorithm int64    `json:"publicKeyAlgorithm"`
}

type authenticationResponseJSON struct {
	ID                      string                `json:"id"`
	RawID                   string                `json:"rawId"`
	Type                    string                `json:"type"`
	AuthenticatorAttachment string                `json:"authenticatorAttachment,omitempty"`
	Response                assertionResponseJSON `json:"response"`
	ClientExtensionResults  struct{}              `json:"clientExtensionResults"`
}

type assertionResponseJSON struct {
	ClientDataJSON    string `json:"clientDataJSON"`
	AuthenticatorData string `json:"authenticatorData"`
	Signature         string `json:"signature"`
	UserHandle        string `json:"userHandle,omitempty"`
}

// flagsLocked returns the flags byte for a response; a.mu must be held.
func (a *Authenticator) flagsLocked() byte {
	f := flagUP
	if !a.opts.SkipUserVerification {
		f |= flagUV
	}
	if a.opts.BackupEligible {
		f |= flagBE
	}
	if a.opts.BackupState {
		f |= flagBS
	}
	return f
}

// Create performs navigator.credentials.create() from origin with the given
// PublicKeyCredentialCreationOptions JSON (either {"publicKey":{...}} as
// go-webauthn's protocol.CredentialCreation marshals, or the bare inner
// object). It creates a new discoverable ES256 credential and returns the
// RegistrationResponseJSON to send to the relying party.
func (a *Authenticator) Create(origin string, optionsJSON []byte) ([]byte, error) {
	resp, err := a.create(origin, optionsJSON)
	if err != nil {
		return nil, fmt.Errorf("virtualkey: create: %w", err)
	}
	return resp, nil
}

func (a *Authenticator) create(origin string, optionsJSON []byte) ([]byte, error) {
	inner, err := unwrapOptions(optionsJSON)
	if err != nil {
		return nil, err
	}
	var opts creationOptionsJSON
	if err := json.Unmarshal(inner, &opts); err != nil {
		return nil, fmt.Errorf("decode creation options: %w: %w", err, ErrInvalidOptions)
	}
	challenge, err := decodeChallenge(opts.Challenge)
	if err != nil {
		return nil, err
	}
	if opts.User == nil {
		return nil, fmt.Errorf("missing user: %w", ErrInvalidOptions)
	}
	userHandle, err := decodeUserID(opts.User.ID)
	if err != nil {
		return nil, err
	}
	excluded, err := decodeDescriptorIDs(opts.ExcludeCredentials, "excludeCredentials")
	if err != nil {
		return nil, err
	}
	o, err := parseOrigin(origin)
	if err != nil {
		return nil, err
	}
	rpID, err := resolveRPID(opts.RP.ID, o)
	if err != nil {
		return nil, err
	}
	// An empty pubKeyCredParams means the defaults ES256 and RS256 (§5.1.3).
	if len(opts.PubKeyCredParams) > 0 && !slices.ContainsFunc(opts.PubKeyCredParams, func(p pubKeyCredParamJSON) bool {
		return p.Type == "public-key" && p.Alg == AlgES256
	}) {
		return nil, fmt.Errorf("pubKeyCredParams does not include ES256 (%d): %w", AlgES256, ErrNotSupported)
	}

	cd, err := marshalClientData("webauthn.create", challenge, o.serialized)
	if err != nil {
		return nil, err
	}

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	point, err := key.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil {
		return nil, fmt.Errorf("encode public key: %w", err)
	}
	coseKey, err := ctap2.Marshal(coseEC2Key{Kty: 2, Alg: AlgES256, Crv: 1, X: point[1:33], Y: point[33:65]})
	if err != nil {
		return nil, fmt.Errorf("encode COSE key: %w", err)
	}
	spki, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("encode SubjectPublicKeyInfo: %w", err)
	}
	credID := make([]byte, credentialIDLength)
	if _, err := rand.Read(credID); err != nil {
		return nil, fmt.Errorf("generate credential id: %w", err)
	}

	a.mu.Lock()
	defer a.mu.Unlock()

	if want := opts.AuthenticatorSelection.AuthenticatorAttachment; (want == "platform" || want == "cross-platform") && want != a.opts.Attachment {
		return nil, fmt.Errorf("relying party requires a %s authenticator, this one is %s: %w", want, a.opts.Attachment, ErrNotAllowed)
	}
	for _, c := range a.creds {
		if c.rpID == rpID && slices.ContainsFunc(excluded, func(id []byte) bool { return bytes.Equal(id, c.id) }) {
			return nil, fmt.Errorf("authenticator already holds excluded credential %s for %s: %w", b64(c.id), rpID, ErrInvalidState)
		}
	}

	rpHash := sha256.Sum256([]byte(rpID))
	authData := make([]byte, 0, 37+16+2+len(credID)+len(coseKey))
	authData = append(authData, rpHash[:]...)
	authData = append(authData, a.flagsLocked()|flagAT)
	authData = binary.BigEndian.AppendUint32(authData, 0)
	authData = append(authData, a.opts.AAGUID[:]...)
	authData = binary.BigEndian.AppendUint16(authData, uint16(len(credID)))
	authData = append(authData, credID...)
	authData = append(authData, coseKey...)

	attObj, err := ctap2.Marshal(attestationObject{Fmt: "none", AttStmt: map[string]any{}, AuthData: authData})
	if err != nil {
		return nil, fmt.Errorf("encode attestation object: %w", err)
	}

	out, err := json.Marshal(registrationResponseJSON{
		ID:                      b64(credID),
		RawID:                   b64(credID),
		Type:                    "public-key",
		AuthenticatorAttachment: a.opts.Attachment,
		Response: attestationResponseJSON{
			ClientDataJSON:     b64(cd),
			AttestationObject:  b64(attObj),
			AuthenticatorData:  b64(authData),
			Transports:         slices.Clone(a.opts.Transports),
			PublicKey:          b64(spki),
			PublicKeyAlgorithm: AlgES256,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("encode registration response: %w", err)
	}

	a.creds = append(a.creds, &credential{
		id:         credID,
		userHandle: userHandle,
		userName:   opts.User.Name,
		rpID:       rpID,
		key:        key,
	})
	return out, nil
}

// Get performs navigator.credentials.get() from origin with the given
// PublicKeyCredentialRequestOptions JSON (either {"publicKey":{...}} as
// go-webauthn's protocol.CredentialAssertion marshals, or the bare inner
// object). It picks a credential for the RP ID — among allowCredentials if
// that list is given, otherwise any discoverable one; if several match, the
// most recently created — signs the assertion and returns the
// AuthenticationResponseJSON to send to the relying party. It fails with
// [ErrNotAllowed] if no credential matches.
func (a *Authenticator) Get(origin string, optionsJSON []byte) ([]byte, error) {
	resp, err := a.get(origin, optionsJSON)
	if err != nil {
		return nil, fmt.Errorf("virtualkey: get: %w", err)
	}
	return resp, nil
}

func (a *Authenticator) get(origin string, optionsJSON []byte) ([]byte, error) {
	inner, err := unwrapOptions(optionsJSON)
	if err != nil {
		return nil, err
	}
	var opts requestOptionsJSON
	if err := json.Unmarshal(inner, &opts); err != nil {
		return nil, fmt.Errorf("decode request options: %w: %w", err, ErrInvalidOptions)
	}
	challenge, err := decodeChallenge(opts.Challenge)
	if err != nil {
		return nil, err
	}
	allowed, err := decodeDescriptorIDs(opts.AllowCredentials, "allowCredentials")
	if err != nil {
		return nil, err
	}
	o, err := parseOrigin(origin)
	if err != nil {
		return nil, err
	}
	rpID, err := resolveRPID(opts.RPID, o)
	if err != nil {
		return nil, err
	}
	cd, err := marshalClientData("webauthn.get", challenge, o.serialized)
	if err != nil {
		return nil, err
	}

	a.mu.Lock()
	defer a.mu.Unlock()

	var cred *credential
	for i := len(a.creds) - 1; i >= 0; i-- {
		c := a.creds[i]
		if c.rpID != rpID {
			continue
		}
		if len(opts.AllowCredentials) > 0 && !slices.ContainsFunc(allowed, func(id []byte) bool { return bytes.Equal(id, c.id) }) {
			continue
		}
		cred = c
		break
	}
	if cred == nil {
		return nil, fmt.Errorf("no credential for rp id %q: %w", rpID, ErrNotAllowed)
	}

	if a.opts.Counter {
		cred.signCount++
	}
	rpHash := sha256.Sum256([]byte(rpID))
	authData := make([]byte, 0, 37)
	authData = append(authData, rpHash[:]...)
	authData = append(authData, a.flagsLocked())
	authData = binary.BigEndian.AppendUint32(authData, cred.signCount)

	cdHash := sha256.Sum256(cd)
	digest := sha256.Sum256(slices.Concat(authData, cdHash[:]))
	sig, err := ecdsa.SignASN1(rand.Reader, cred.key, digest[:])
	if err != nil {
		return nil, fmt.Errorf("sign assertion: %w", err)
	}

	out, err := json.Marshal(authenticationResponseJSON{
		ID:                      b64(cred.id),
		RawID:                   b64(cred.id),
		Type:                    "public-key",
		AuthenticatorAttachment: a.opts.Attachment,
		Response: assertionResponseJSON{
			ClientDataJSON:    b64(cd),
			AuthenticatorData: b64(authData),
			Signature:         b64(sig),
			UserHandle:        b64(cred.userHandle),
		},
	})
	if err != nil {
		return nil, fmt.Errorf("encode authentication response: %w", err)
	}
	return out, nil
}
