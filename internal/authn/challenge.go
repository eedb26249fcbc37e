package authn

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shopguard/shopguard/internal/engine"
	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/storage"
)

// Errors of step-up challenges. Transports map them to statuses.
var (
	// ErrNoFactor means the customer has no second factor to answer a
	// challenge with.
	ErrNoFactor = errors.New("authn: the customer has no second factor enrolled")
	// ErrChallengeExpired means the challenge can no longer be answered.
	ErrChallengeExpired = errors.New("authn: the challenge has expired")
	// ErrChallengeClosed means the challenge was already passed or failed.
	ErrChallengeClosed = errors.New("authn: the challenge is no longer open")
)

// Challenge statuses.
const (
	StatusPending = "pending"
	StatusPassed  = "passed"
	StatusFailed  = "failed"
	StatusExpired = "expired"
)

// Methods that answer a challenge.
const (
	MethodTOTP     = "totp"
	MethodRecovery = "recovery_code"
)

// ActionTypes lists the kinds of action a challenge can guard.
var ActionTypes = []string{"login", "payment", "change_email", "change_password", "change_phone", "change_address",
	"change_payout", "disclose_order", "other"}

// Action is what the customer approves, as the shop describes it. The
// approval is bound to all of it: a token for one order does not verify
// for another.
type Action struct {
	// Type is one of ActionTypes.
	Type string `json:"type"`
	// Description is what the customer is shown ("Pay 129.00 EUR to
	// Northwind Outfitters for order 8812").
	Description string `json:"description"`
	// AmountMinor and Currency give the money involved, if any.
	AmountMinor int64  `json:"amount_minor,omitempty"`
	Currency    string `json:"currency,omitempty"`
	// Reference is the shop's identifier of what is acted on (an order
	// id, the hash of a new e-mail address).
	Reference string `json:"reference,omitempty"`
}

// check validates the action; prefix names it in field errors.
func (a *Action) check(prefix string) []error {
	var ps []error
	add := func(e *risk.FieldError) {
		if e != nil {
			ps = append(ps, e)
		}
	}
	switch {
	case a.Type == "":
		add(risk.Missing(prefix + ".type"))
	case !slices.Contains(ActionTypes, a.Type):
		add(risk.Invalid(prefix+".type", "%q is not one of %s", a.Type, strings.Join(ActionTypes, ", ")))
	}
	if a.Description == "" {
		add(risk.Missing(prefix + ".description"))
	} else {
		add(risk.CheckText(prefix+".description", a.Description, 256))
	}
	if a.AmountMinor < 0 {
		add(risk.Invalid(prefix+".amount_minor", "must not be negative"))
	}
	if a.Currency != "" && (len(a.Currency) != 3 || strings.ToUpper(a.Currency) != a.Currency || strings.Trim(a.Currency, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "") {
		add(risk.Invalid(prefix+".currency", "must be an ISO 4217 code such as EUR"))
	}
	if (a.AmountMinor != 0) != (a.Currency != "") {
		add(risk.Invalid(prefix+".currency", "give amount_minor and currency together"))
	}
	add(risk.CheckText(prefix+".reference", a.Reference, 128))
	return ps
}

// hash returns the hex SHA-256 an approval of the action by userID is
// bound to: over the canonical JSON of the action (fields in a fixed
// order) and the customer.
func (a Action) hash(userID string) string {
	b, _ := json.Marshal(struct {
		User string `json:"user_id"`
		Action
	}{userID, a})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// ChallengeInput is a step-up the shop asks for.
type ChallengeInput struct {
	UserID string `json:"user_id"`
	Action Action `json:"action"`
	// EventID is the assessment that asked for the step-up, if any.
	EventID string `json:"event_id,omitempty"`
	// DeviceID is the shop's id of the device the customer answers on (the
	// device_id of its sign-ins): a passed challenge can then remember it.
	DeviceID string `json:"device_id,omitempty"`
	// ReturnURL is where the hosted page sends the customer afterwards,
	// with the challenge id and approval token added to its query; it
	// must be on one of the shop's passkey origins.
	ReturnURL string `json:"return_url,omitempty"`
}

// ChallengeStore is the storage challenges need.
type ChallengeStore interface {
	CreateChallenge(ctx context.Context, c storage.Challenge) error
	Challenge(ctx context.Context, tenant, id string) (storage.Challenge, error)
	UpdateChallenge(ctx context.Context, c storage.Challenge) error
}

// ChallengeConfig configures step-up challenges. Zero values take defaults.
type ChallengeConfig struct {
	// TTL is how long a challenge can be answered (default 5 minutes).
	TTL time.Duration
	// TokenTTL is how long an approval token is valid (default 5 minutes).
	TokenTTL time.Duration
	// MaxFailures wrong answers fail a challenge (default 5).
	MaxFailures int
	// Now returns the time (default time.Now).
	Now func() time.Time
}

// Challenges runs step-up challenges answered with the customer's
// factors and signs the approvals. It is safe for concurrent use.
type Challenges struct {
	cfg      ChallengeConfig
	store    ChallengeStore
	factors  *Authenticators
	passkeys *Passkeys
	devices  *Devices
	key      ed25519.PrivateKey
	kid      string
}

// ChallengeFactors are what answers challenges and what a passed one can
// give: the authenticator apps and recovery codes, the passkeys (nil:
// none) and remembered devices (nil: none).
type ChallengeFactors struct {
	Apps     *Authenticators
	Passkeys *Passkeys
	Devices  *Devices
}

// NewChallenges returns challenges over store, answered with f, their
// approvals signed with a key derived from sealKey (so that instances
// sharing the sealing key share the signing key).
func NewChallenges(cfg ChallengeConfig, store ChallengeStore, f ChallengeFactors, sealKey []byte) *Challenges {
	if cfg.TTL <= 0 {
		cfg.TTL = 5 * time.Minute
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = 5 * time.Minute
	}
	if cfg.MaxFailures <= 0 {
		cfg.MaxFailures = 5
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	key := ed25519.NewKeyFromSeed(deriveKey(sealKey, "shopguard challenge signing key v1"))
	sum := sha256.Sum256(key.Public().(ed25519.PublicKey))
	return &Challenges{cfg: cfg, store: store, factors: f.Apps, passkeys: f.Passkeys, devices: f.Devices, key: key,
		kid: base64.RawURLEncoding.EncodeToString(sum[:12])}
}

// Create starts a challenge for the customer and the action, answerable
// with the factors the customer has (ErrNoFactor if none).
func (c *Challenges) Create(ctx context.Context, tenant string, in ChallengeInput) (storage.Challenge, error) {
	var ps []error
	if e := checkUserID(in.UserID); e != nil {
		ps = append(ps, e)
	}
	ps = append(ps, in.Action.check("action")...)
	if e := risk.CheckText("event_id", in.EventID, 128); e != nil {
		ps = append(ps, e)
	}
	if e := risk.CheckText("device_id", in.DeviceID, 128); e != nil {
		ps = append(ps, e)
	}
	if in.ReturnURL != "" {
		if e := c.checkReturnURL(ctx, tenant, in.ReturnURL); e != nil {
			ps = append(ps, e)
		}
	}
	if len(ps) > 0 {
		return storage.Challenge{}, errors.Join(ps...)
	}
	f, err := c.factors.Factors(ctx, tenant, in.UserID)
	if err != nil {
		return storage.Challenge{}, err
	}
	var methods []string
	if c.passkeys != nil {
		n, err := c.passkeys.Count(ctx, tenant, in.UserID)
		if err != nil {
			return storage.Challenge{}, err
		}
		if n > 0 {
			methods = append(methods, MethodPasskey)
		}
	}
	if f.TOTP == "active" {
		methods = append(methods, MethodTOTP)
	}
	if f.RecoveryCodesLeft > 0 {
		methods = append(methods, MethodRecovery)
	}
	if len(methods) == 0 {
		return storage.Challenge{}, ErrNoFactor
	}
	action, err := json.Marshal(in.Action)
	if err != nil {
		return storage.Challenge{}, fmt.Errorf("authn: encode action: %w", err)
	}
	now := c.cfg.Now().UTC().Truncate(time.Microsecond)
	ch := storage.Challenge{ID: engine.NewID("ch_", now), Tenant: tenant, UserID: in.UserID, Action: action,
		ActionHash: in.Action.hash(in.UserID), Methods: methods, EventID: in.EventID, DeviceID: in.DeviceID, CreatedAt: now,
		ExpiresAt: now.Add(c.cfg.TTL), Status: StatusPending, Version: 1}
	if err := c.store.CreateChallenge(ctx, ch); err != nil {
		return storage.Challenge{}, fmt.Errorf("authn: store challenge: %w", err)
	}
	return ch, nil
}

// checkReturnURL validates a return URL against the tenant's origins.
func (c *Challenges) checkReturnURL(ctx context.Context, tenant, u string) *risk.FieldError {
	if c.passkeys == nil {
		return risk.Invalid("return_url", "return URLs need the shop's origins, and passkeys are not available")
	}
	return c.passkeys.CheckReturnURL(ctx, tenant, "return_url", u)
}

// Get returns the tenant's challenge, its status brought up to date
// (StatusExpired once it can no longer be answered).
func (c *Challenges) Get(ctx context.Context, tenant, id string) (storage.Challenge, error) {
	ch, err := c.store.Challenge(ctx, tenant, id)
	if err != nil {
		return storage.Challenge{}, fmt.Errorf("authn: %w", err)
	}
	if ch.Status == StatusPending && !c.cfg.Now().Before(ch.ExpiresAt) {
		ch.Status = StatusExpired
	}
	return ch, nil
}

// Answer is the outcome of answering a challenge.
type Answer struct {
	Challenge storage.Challenge
	// Token is the signed approval when the challenge passed.
	Token string
	// AttemptsLeft is how many wrong answers the challenge still takes.
	AttemptsLeft int
	// Reason says why a passkey answer was refused.
	Reason string
}

// AnswerInput is the customer's answer to a challenge.
type AnswerInput struct {
	// Method is one of the challenge's methods.
	Method string `json:"method"`
	// Code is the one-time or recovery code (totp, recovery_code).
	Code string `json:"code,omitempty"`
	// CeremonyID and Credential answer with a passkey: the ceremony
	// PasskeyOptions began and the browser's response to it.
	CeremonyID string          `json:"ceremony_id,omitempty"`
	Credential json.RawMessage `json:"credential,omitempty"`
}

// PasskeyOptions begins the passkey check of a challenge: the options for
// navigator.credentials.get, over a WebAuthn challenge that is a fresh
// random nonce followed by the SHA-256 of what is approved, so the
// passkey's signature covers the action (dynamic linking).
func (c *Challenges) PasskeyOptions(ctx context.Context, tenant, id string) (CeremonyStart, error) {
	ch, err := c.open(ctx, tenant, id)
	if err != nil {
		return CeremonyStart{}, err
	}
	if c.passkeys == nil || !slices.Contains(ch.Methods, MethodPasskey) {
		return CeremonyStart{}, risk.Invalid("method", "a passkey cannot answer this challenge (it takes %s)", strings.Join(ch.Methods, ", "))
	}
	return c.passkeys.BeginAssertion(ctx, tenant, ch.UserID, ch.ID, webauthnChallenge(ch.ActionHash))
}

// webauthnChallenge returns a WebAuthn challenge bound to actionHash: 32
// random bytes, then the hash's 32 bytes.
func webauthnChallenge(actionHash string) []byte {
	out := make([]byte, 32, 64)
	_, _ = rand.Read(out)
	h, _ := hex.DecodeString(actionHash)
	return append(out, h...)
}

// Answer checks the customer's answer to the challenge. A right one
// passes it and returns the signed approval; a wrong one (a wrong code, a
// passkey response that does not verify) counts, and MaxFailures of them
// fail the challenge. The factor's own limits (a code accepted once, rate
// limiting, a passkey ceremony used once) apply too.
func (c *Challenges) Answer(ctx context.Context, tenant, id string, in AnswerInput) (Answer, error) {
	ch, err := c.open(ctx, tenant, id)
	if err != nil {
		return Answer{}, err
	}
	if in.Method == "" {
		return Answer{}, risk.Missing("method")
	}
	if !slices.Contains(ch.Methods, in.Method) {
		return Answer{}, risk.Invalid("method", "%q cannot answer this challenge (it takes %s)", in.Method, strings.Join(ch.Methods, ", "))
	}
	// The answer is checked once (a right code is spent by it, a passkey
	// ceremony used up); the outcome is then recorded, again if another
	// answer changed the challenge.
	var reason string
	switch in.Method {
	case MethodTOTP:
		err = c.factors.Verify(ctx, tenant, ch.UserID, in.Code)
	case MethodRecovery:
		err = c.factors.UseRecoveryCode(ctx, tenant, ch.UserID, in.Code)
	case MethodPasskey:
		reason, err = c.passkeyAnswer(ctx, ch, in)
	}
	passed := err == nil && reason == ""
	if err != nil && !errors.Is(err, ErrWrongCode) {
		return Answer{}, err // malformed, rate-limited: nothing to count here
	}
	for range 5 {
		now := c.cfg.Now().UTC().Truncate(time.Microsecond)
		ch.Version++
		if passed {
			ch.Status, ch.PassedAt, ch.Method = StatusPassed, now, in.Method
		} else if ch.Failures++; ch.Failures >= c.cfg.MaxFailures {
			ch.Status = StatusFailed
		}
		err := c.store.UpdateChallenge(ctx, ch)
		if errors.Is(err, storage.ErrConflict) {
			if ch, err = c.open(ctx, tenant, id); err != nil {
				return Answer{}, err
			}
			continue
		}
		if err != nil {
			return Answer{}, fmt.Errorf("authn: update challenge: %w", err)
		}
		out := Answer{Challenge: ch, AttemptsLeft: max(0, c.cfg.MaxFailures-ch.Failures), Reason: reason}
		if passed {
			out.Token = c.sign(ch, now)
		}
		return out, nil
	}
	return Answer{}, fmt.Errorf("authn: the challenge kept changing; try again: %w", storage.ErrConflict)
}

// passkeyAnswer checks a passkey answer to ch: the reason it was refused
// ("" if it verified), or an error for a malformed answer.
func (c *Challenges) passkeyAnswer(ctx context.Context, ch storage.Challenge, in AnswerInput) (string, error) {
	_, signed, err := c.passkeys.FinishAssertion(ctx, ch.Tenant, ch.UserID, ch.ID, in.CeremonyID, in.Credential)
	var re *RejectedError
	if errors.As(err, &re) {
		return re.Reason, nil
	}
	if err != nil {
		return "", err
	}
	h, _ := hex.DecodeString(ch.ActionHash)
	if len(signed) != 64 || !bytes.Equal(signed[32:], h) {
		return "the passkey signed over another action", nil
	}
	return "", nil
}

// open returns the challenge if it can still be answered.
func (c *Challenges) open(ctx context.Context, tenant, id string) (storage.Challenge, error) {
	ch, err := c.Get(ctx, tenant, id)
	if err != nil {
		return storage.Challenge{}, err
	}
	switch ch.Status {
	case StatusExpired:
		return storage.Challenge{}, ErrChallengeExpired
	case StatusPassed, StatusFailed:
		return storage.Challenge{}, ErrChallengeClosed
	}
	return ch, nil
}

// TokenClaims are the claims of an approval token (a JWT signed with
// EdDSA, verifiable offline with the key PublicKeys publishes).
type TokenClaims struct {
	Issuer string `json:"iss"`
	// Subject is the customer; Audience the tenant; ID the challenge.
	Subject  string `json:"sub"`
	Audience string `json:"aud"`
	ID       string `json:"jti"`
	IssuedAt int64  `json:"iat"`
	Expires  int64  `json:"exp"`
	// ActionHash is what was approved (see Verify).
	ActionHash string `json:"act"`
	// Methods says how the customer proved themselves.
	Methods []string `json:"amr"`
}

// tokenIssuer is the iss of every approval token.
const tokenIssuer = "shopguard"

func (c *Challenges) sign(ch storage.Challenge, now time.Time) string {
	header, _ := json.Marshal(map[string]string{"alg": "EdDSA", "typ": "JWT", "kid": c.kid})
	claims, _ := json.Marshal(TokenClaims{Issuer: tokenIssuer, Subject: ch.UserID, Audience: ch.Tenant, ID: ch.ID,
		IssuedAt: now.Unix(), Expires: now.Add(c.cfg.TokenTTL).Unix(), ActionHash: ch.ActionHash, Methods: []string{ch.Method}})
	signing := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(claims)
	return signing + "." + base64.RawURLEncoding.EncodeToString(ed25519.Sign(c.key, []byte(signing)))
}

// JWK is a public key as RFC 8037 writes Ed25519 keys.
type JWK struct {
	KeyType string `json:"kty"`
	Curve   string `json:"crv"`
	X       string `json:"x"`
	KeyID   string `json:"kid"`
	Use     string `json:"use"`
	Alg     string `json:"alg"`
}

// PublicKeys returns the keys approval tokens are signed with (a JWKS's keys).
func (c *Challenges) PublicKeys() []JWK {
	return []JWK{{KeyType: "OKP", Curve: "Ed25519", X: base64.RawURLEncoding.EncodeToString(c.key.Public().(ed25519.PublicKey)),
		KeyID: c.kid, Use: "sig", Alg: "EdDSA"}}
}

// Verification says whether an approval token lets the action go ahead.
type Verification struct {
	Valid bool `json:"valid"`
	// Reason says why not ("" when valid).
	Reason string `json:"reason,omitempty"`
	// ChallengeID, UserID and Method describe a valid approval.
	ChallengeID string `json:"challenge_id,omitempty"`
	UserID      string `json:"user_id,omitempty"`
	Method      string `json:"method,omitempty"`
	// DeviceToken remembers the device the challenge was passed on, when
	// asked for (set it as a long-lived cookie of that device and send it
	// as remembered_device with its sign-ins), until DeviceTokenExpiresAt.
	DeviceToken          string     `json:"device_token,omitempty"`
	DeviceTokenExpiresAt *time.Time `json:"device_token_expires_at,omitempty"`
}

// VerifyInput is an approval the shop checks right before it acts.
type VerifyInput struct {
	Token  string `json:"token"`
	UserID string `json:"user_id"`
	Action Action `json:"action"`
	// RememberDevice asks for a token that remembers the device the
	// challenge was passed on (it needs the challenge's device_id; not
	// given for a recovery code, the sign of a lost device) for
	// RememberDays (0: the default, 30).
	RememberDevice bool `json:"remember_device,omitempty"`
	RememberDays   int  `json:"remember_days,omitempty"`
}

// Verify checks an approval token for the tenant, the customer and the
// action the shop is about to perform, and redeems it: a token verifies
// once. A token for another action, customer or shop, an expired or
// forged one, or one already redeemed is not valid, with the reason.
func (c *Challenges) Verify(ctx context.Context, tenant string, in VerifyInput) (Verification, error) {
	var ps []error
	if in.Token == "" {
		ps = append(ps, risk.Missing("token"))
	} else if len(in.Token) > 4096 {
		ps = append(ps, risk.Invalid("token", "is longer than 4096 characters"))
	}
	if e := checkUserID(in.UserID); e != nil {
		ps = append(ps, e)
	}
	ps = append(ps, in.Action.check("action")...)
	days := 0
	if in.RememberDevice {
		if c.devices == nil {
			ps = append(ps, risk.Invalid("remember_device", "remembered devices are not available in this shopguard"))
		} else if d, e := c.devices.checkDays(in.RememberDays); e != nil {
			ps = append(ps, e)
		} else {
			days = d
		}
	} else if in.RememberDays != 0 {
		ps = append(ps, risk.Invalid("remember_days", "give it with remember_device: true"))
	}
	if len(ps) > 0 {
		return Verification{}, errors.Join(ps...)
	}
	claims, reason := c.parse(in.Token)
	switch {
	case reason != "":
	case claims.Audience != tenant:
		reason = "the token is another shop's"
	case claims.Subject != in.UserID:
		reason = "the token is another customer's"
	case claims.ActionHash != in.Action.hash(in.UserID):
		reason = "the token approves another action"
	case c.cfg.Now().Unix() >= claims.Expires:
		reason = "the token has expired"
	}
	if reason != "" {
		return Verification{Valid: false, Reason: reason}, nil
	}
	for range 3 {
		ch, err := c.store.Challenge(ctx, tenant, claims.ID)
		if errors.Is(err, storage.ErrNotFound) {
			return Verification{Valid: false, Reason: "the challenge no longer exists"}, nil
		}
		if err != nil {
			return Verification{}, fmt.Errorf("authn: read challenge: %w", err)
		}
		if !ch.ConsumedAt.IsZero() {
			return Verification{Valid: false, Reason: "the token was already used"}, nil
		}
		if ch.Status != StatusPassed {
			return Verification{Valid: false, Reason: "the challenge was not passed"}, nil
		}
		if in.RememberDevice && ch.DeviceID == "" {
			return Verification{}, risk.Invalid("remember_device", "the challenge was started without a device_id: there is no device to remember")
		}
		ch.ConsumedAt = c.cfg.Now().UTC().Truncate(time.Microsecond)
		ch.Version++
		err = c.store.UpdateChallenge(ctx, ch)
		if errors.Is(err, storage.ErrConflict) {
			continue
		}
		if err != nil {
			return Verification{}, fmt.Errorf("authn: redeem challenge: %w", err)
		}
		v := Verification{Valid: true, ChallengeID: ch.ID, UserID: ch.UserID, Method: ch.Method}
		if in.RememberDevice && ch.Method != MethodRecovery {
			token, exp := c.devices.remember(tenant, ch.UserID, ch.DeviceID, ch.ID, days)
			v.DeviceToken, v.DeviceTokenExpiresAt = token, &exp
		}
		return v, nil
	}
	return Verification{}, fmt.Errorf("authn: the challenge kept changing; try again: %w", storage.ErrConflict)
}

// parse checks the token's form and signature and returns its claims, or
// the reason it is not one of ours.
func (c *Challenges) parse(token string) (TokenClaims, string) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return TokenClaims{}, "the token is not a signed approval"
	}
	var header struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	hb, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	sig, err2 := base64.RawURLEncoding.DecodeString(parts[2])
	if err1 != nil || err2 != nil || json.Unmarshal(hb, &header) != nil || header.Alg != "EdDSA" {
		return TokenClaims{}, "the token is not a signed approval"
	}
	if header.Kid != c.kid || !ed25519.Verify(c.key.Public().(ed25519.PublicKey), []byte(parts[0]+"."+parts[1]), sig) {
		return TokenClaims{}, "the token's signature does not verify"
	}
	cb, err := base64.RawURLEncoding.DecodeString(parts[1])
	var claims TokenClaims
	if err != nil || json.Unmarshal(cb, &claims) != nil || claims.Issuer != tokenIssuer {
		return TokenClaims{}, "the token is not a signed approval"
	}
	return claims, ""
}
