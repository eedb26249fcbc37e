package authn

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"image/png"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/storage"
)

// Errors of the authenticator-app factor. Transports map them to statuses.
var (
	// ErrEnrolled means the customer already has a confirmed authenticator
	// app: remove it before enrolling another.
	ErrEnrolled = errors.New("authn: an authenticator app is already enrolled")
	// ErrNotEnrolled means there is no enrolment to confirm.
	ErrNotEnrolled = errors.New("authn: no authenticator app enrolment to confirm")
	// ErrWrongCode means the code did not verify.
	ErrWrongCode = errors.New("authn: the code is wrong, expired or already used")
)

// RateLimitedError means too many wrong codes: verification is refused
// until RetryAt, whatever the code.
type RateLimitedError struct {
	RetryAt time.Time
}

func (e *RateLimitedError) Error() string {
	return "authn: too many wrong codes; try again after " + e.RetryAt.UTC().Format(time.RFC3339)
}

// TOTP parameters every authenticator app understands (RFC 6238 defaults).
const (
	totpPeriod = 30
	totpDigits = otp.DigitsSix
	// totpSkew is how many steps either side of now a code may be from:
	// one, for clocks a little off and codes typed as they change.
	totpSkew = 1
)

// TOTPStore is the storage the authenticator-app factor needs.
type TOTPStore interface {
	PutTOTP(ctx context.Context, f storage.TOTPFactor) error
	TOTP(ctx context.Context, tenant, userID string) (storage.TOTPFactor, error)
	UpdateTOTP(ctx context.Context, f storage.TOTPFactor) error
	DeleteTOTP(ctx context.Context, tenant, userID string) error
	ReplaceRecoveryCodes(ctx context.Context, tenant, userID string, hashes []string, at time.Time) error
	UseRecoveryCode(ctx context.Context, tenant, userID, hash string, at time.Time) error
	RecoveryCodesLeft(ctx context.Context, tenant, userID string) (int, error)
}

// TOTPConfig configures the authenticator-app factor. Zero values take defaults.
type TOTPConfig struct {
	// MaxFailures wrong codes within FailureWindow lock verification
	// until the window has passed (default 5 in 15 minutes).
	MaxFailures   int
	FailureWindow time.Duration
	// RecoveryCodes is how many recovery codes a set has (default 10).
	RecoveryCodes int
	// Now returns the time (default time.Now).
	Now func() time.Time
}

// Authenticators enrols and verifies customers' authenticator apps and
// recovery codes. It is safe for concurrent use.
type Authenticators struct {
	cfg   TOTPConfig
	store TOTPStore
	seal  *Sealer
}

// NewAuthenticators returns the factor over store, sealing secrets with seal.
func NewAuthenticators(cfg TOTPConfig, store TOTPStore, seal *Sealer) *Authenticators {
	if cfg.MaxFailures <= 0 {
		cfg.MaxFailures = 5
	}
	if cfg.FailureWindow <= 0 {
		cfg.FailureWindow = 15 * time.Minute
	}
	if cfg.RecoveryCodes <= 0 {
		cfg.RecoveryCodes = 10
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Authenticators{cfg: cfg, store: store, seal: seal}
}

// Enrolment is a new authenticator app's secret, as the customer adds it.
type Enrolment struct {
	// Secret is the base32 secret to type in by hand.
	Secret string
	// URL is the otpauth:// URL the QR code holds.
	URL string
	// QRCode is a PNG of the QR code to scan.
	QRCode []byte
}

// EnrolInput names the shop and the customer as the app will show them.
type EnrolInput struct {
	// Issuer is the shop's name ("Northwind Outfitters").
	Issuer string `json:"issuer"`
	// AccountName is how the customer knows the account (an e-mail).
	AccountName string `json:"account_name"`
}

// sealContext binds a sealed secret to its tenant and customer.
func sealContext(tenant, userID string) string { return "totp\x00" + tenant + "\x00" + userID }

// checkUserID validates a customer id as the shop sends it.
func checkUserID(userID string) *risk.FieldError {
	if userID == "" {
		return risk.Missing("user_id")
	}
	return risk.CheckText("user_id", userID, 128)
}

// Enrol makes a new secret for the customer's authenticator app. An
// unconfirmed earlier enrolment is replaced; a confirmed one must be
// removed first (ErrEnrolled). The factor is usable once Confirm accepted
// a first code.
func (a *Authenticators) Enrol(ctx context.Context, tenant, userID string, in EnrolInput) (Enrolment, error) {
	var ps []error
	if e := checkUserID(userID); e != nil {
		ps = append(ps, e)
	}
	if in.Issuer == "" {
		ps = append(ps, risk.Missing("issuer"))
	} else if e := risk.CheckText("issuer", in.Issuer, 64); e != nil {
		ps = append(ps, e)
	} else if strings.Contains(in.Issuer, ":") {
		ps = append(ps, risk.Invalid("issuer", "must not contain a colon (authenticator apps split the label there)"))
	}
	if in.AccountName == "" {
		ps = append(ps, risk.Missing("account_name"))
	} else if e := risk.CheckText("account_name", in.AccountName, 128); e != nil {
		ps = append(ps, e)
	}
	if len(ps) > 0 {
		return Enrolment{}, errors.Join(ps...)
	}
	old, err := a.store.TOTP(ctx, tenant, userID)
	switch {
	case err == nil && !old.ConfirmedAt.IsZero():
		return Enrolment{}, ErrEnrolled
	case err != nil && !errors.Is(err, storage.ErrNotFound):
		return Enrolment{}, fmt.Errorf("authn: read factor: %w", err)
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: in.Issuer, AccountName: in.AccountName, Period: totpPeriod,
		SecretSize: 20, Digits: totpDigits, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return Enrolment{}, fmt.Errorf("authn: make secret: %w", err)
	}
	img, err := key.Image(256, 256)
	if err != nil {
		return Enrolment{}, fmt.Errorf("authn: QR code: %w", err)
	}
	var qr bytes.Buffer
	if err := png.Encode(&qr, img); err != nil {
		return Enrolment{}, fmt.Errorf("authn: QR code: %w", err)
	}
	now := a.cfg.Now().UTC().Truncate(time.Microsecond)
	f := storage.TOTPFactor{Tenant: tenant, UserID: userID, SealedSecret: a.seal.Seal([]byte(key.Secret()), sealContext(tenant, userID)),
		CreatedAt: now, Version: old.Version + 1}
	if err := a.store.PutTOTP(ctx, f); err != nil {
		return Enrolment{}, fmt.Errorf("authn: store factor: %w", err)
	}
	return Enrolment{Secret: key.Secret(), URL: key.URL(), QRCode: qr.Bytes()}, nil
}

// normalizeCode checks a code as typed: six digits, spaces ignored.
func normalizeCode(code string) (string, *risk.FieldError) {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if code == "" {
		return "", risk.Missing("code")
	}
	if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
		return "", risk.Invalid("code", "must be the 6 digits the authenticator app shows")
	}
	return code, nil
}

// Confirm accepts the first code of a new enrolment, which makes the
// factor usable, and returns a fresh set of recovery codes (shown once).
func (a *Authenticators) Confirm(ctx context.Context, tenant, userID, code string) ([]string, error) {
	if _, err := a.check(ctx, tenant, userID, code, true); err != nil {
		return nil, err
	}
	return a.NewRecoveryCodes(ctx, tenant, userID)
}

// Verify checks a code of the customer's confirmed authenticator app. A
// customer without one gets ErrWrongCode like a wrong code, so the answer
// does not tell who has an app; too many wrong codes return a
// *RateLimitedError whatever the code.
func (a *Authenticators) Verify(ctx context.Context, tenant, userID, code string) error {
	_, err := a.check(ctx, tenant, userID, code, false)
	return err
}

// check verifies code against the customer's factor (pending when
// confirming, confirmed otherwise), records the step it used or the
// failure, and returns the updated factor.
func (a *Authenticators) check(ctx context.Context, tenant, userID, code string, confirming bool) (storage.TOTPFactor, error) {
	if e := checkUserID(userID); e != nil {
		return storage.TOTPFactor{}, e
	}
	code, fe := normalizeCode(code)
	if fe != nil {
		return storage.TOTPFactor{}, fe
	}
	for range 3 { // another request may change the factor meanwhile
		f, err := a.store.TOTP(ctx, tenant, userID)
		if errors.Is(err, storage.ErrNotFound) {
			if confirming {
				return storage.TOTPFactor{}, ErrNotEnrolled
			}
			return storage.TOTPFactor{}, ErrWrongCode
		}
		if err != nil {
			return storage.TOTPFactor{}, fmt.Errorf("authn: read factor: %w", err)
		}
		switch {
		case confirming && !f.ConfirmedAt.IsZero():
			return storage.TOTPFactor{}, ErrEnrolled
		case !confirming && f.ConfirmedAt.IsZero():
			return storage.TOTPFactor{}, ErrWrongCode
		}
		now := a.cfg.Now()
		limited := f.Failures >= a.cfg.MaxFailures && now.Sub(f.FailuresSince) < a.cfg.FailureWindow
		if limited {
			return storage.TOTPFactor{}, &RateLimitedError{RetryAt: f.FailuresSince.Add(a.cfg.FailureWindow)}
		}
		secret, err := a.seal.Open(f.SealedSecret, sealContext(tenant, userID))
		if err != nil {
			return storage.TOTPFactor{}, fmt.Errorf("authn: open secret: %w", err)
		}
		step, ok := matchStep(string(secret), code, now, f.LastStep)
		f.Version++
		if ok {
			f.LastStep, f.Failures, f.FailuresSince = step, 0, time.Time{}
			if confirming {
				f.ConfirmedAt = now.UTC().Truncate(time.Microsecond)
			}
		} else {
			if now.Sub(f.FailuresSince) >= a.cfg.FailureWindow {
				f.Failures, f.FailuresSince = 0, now.UTC().Truncate(time.Microsecond)
			}
			f.Failures++
		}
		err = a.store.UpdateTOTP(ctx, f)
		if errors.Is(err, storage.ErrConflict) {
			continue
		}
		if err != nil {
			return storage.TOTPFactor{}, fmt.Errorf("authn: update factor: %w", err)
		}
		if !ok {
			return storage.TOTPFactor{}, ErrWrongCode
		}
		return f, nil
	}
	return storage.TOTPFactor{}, fmt.Errorf("authn: the factor kept changing; try again: %w", storage.ErrConflict)
}

// matchStep returns the time step within totpSkew of now whose code is
// code and which is later than after (a step's code is accepted once).
func matchStep(secret, code string, now time.Time, after int64) (int64, bool) {
	s0 := now.Unix() / totpPeriod
	opts := totp.ValidateOpts{Period: totpPeriod, Digits: totpDigits, Algorithm: otp.AlgorithmSHA1}
	for d := int64(-totpSkew); d <= totpSkew; d++ {
		step := s0 + d
		if step <= after {
			continue
		}
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*totpPeriod, 0), opts)
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return step, true
		}
	}
	return 0, false
}

// Remove deletes the customer's authenticator app and recovery codes.
func (a *Authenticators) Remove(ctx context.Context, tenant, userID string) error {
	if e := checkUserID(userID); e != nil {
		return e
	}
	if err := a.store.DeleteTOTP(ctx, tenant, userID); err != nil {
		return fmt.Errorf("authn: %w", err)
	}
	if err := a.store.ReplaceRecoveryCodes(ctx, tenant, userID, nil, a.cfg.Now()); err != nil {
		return fmt.Errorf("authn: drop recovery codes: %w", err)
	}
	return nil
}

// recoveryAlphabet writes recovery codes: lower-case base32 without
// padding, 10 characters (50 bits) shown as two groups of five.
var recoveryAlphabet = base32.StdEncoding.WithPadding(base32.NoPadding)

// normalizeRecovery reduces a recovery code as typed to its canonical form.
func normalizeRecovery(code string) string {
	return strings.ToLower(strings.NewReplacer("-", "", " ", "").Replace(strings.TrimSpace(code)))
}

func recoveryHash(code string) string {
	sum := sha256.Sum256([]byte("recovery\x00" + normalizeRecovery(code)))
	return hex.EncodeToString(sum[:])
}

// NewRecoveryCodes makes a fresh set of one-time recovery codes for the
// customer, replacing the earlier set, and returns them (only their
// hashes are kept: show them to the customer once).
func (a *Authenticators) NewRecoveryCodes(ctx context.Context, tenant, userID string) ([]string, error) {
	if e := checkUserID(userID); e != nil {
		return nil, e
	}
	codes := make([]string, a.cfg.RecoveryCodes)
	hashes := make([]string, len(codes))
	for i := range codes {
		var b [7]byte
		_, _ = rand.Read(b[:])
		s := strings.ToLower(recoveryAlphabet.EncodeToString(b[:]))[:10]
		codes[i] = s[:5] + "-" + s[5:]
		hashes[i] = recoveryHash(codes[i])
	}
	if err := a.store.ReplaceRecoveryCodes(ctx, tenant, userID, hashes, a.cfg.Now()); err != nil {
		return nil, fmt.Errorf("authn: store recovery codes: %w", err)
	}
	return codes, nil
}

// UseRecoveryCode accepts one of the customer's unused recovery codes
// once; a wrong or used code returns ErrWrongCode.
func (a *Authenticators) UseRecoveryCode(ctx context.Context, tenant, userID, code string) error {
	if e := checkUserID(userID); e != nil {
		return e
	}
	n := normalizeRecovery(code)
	if n == "" {
		return risk.Missing("code")
	}
	if len(n) != 10 || strings.Trim(n, "abcdefghijklmnopqrstuvwxyz234567") != "" {
		return risk.Invalid("code", "must be a recovery code such as abcde-fgh23")
	}
	err := a.store.UseRecoveryCode(ctx, tenant, userID, recoveryHash(n), a.cfg.Now())
	if errors.Is(err, storage.ErrNotFound) {
		return ErrWrongCode
	}
	if err != nil {
		return fmt.Errorf("authn: use recovery code: %w", err)
	}
	return nil
}

// Factors says what the customer has enrolled.
type Factors struct {
	// TOTP is "none", "pending" (enrolled, not confirmed) or "active".
	TOTP string `json:"totp"`
	// RecoveryCodesLeft counts unused recovery codes.
	RecoveryCodesLeft int `json:"recovery_codes_left"`
	// Passkeys counts the passkeys usable on the shop's current domain
	// (filled in by whoever also knows the passkeys).
	Passkeys int `json:"passkeys"`
}

// Factors returns what the customer has enrolled.
func (a *Authenticators) Factors(ctx context.Context, tenant, userID string) (Factors, error) {
	if e := checkUserID(userID); e != nil {
		return Factors{}, e
	}
	out := Factors{TOTP: "none"}
	f, err := a.store.TOTP(ctx, tenant, userID)
	switch {
	case err == nil && f.ConfirmedAt.IsZero():
		out.TOTP = "pending"
	case err == nil:
		out.TOTP = "active"
	case !errors.Is(err, storage.ErrNotFound):
		return Factors{}, fmt.Errorf("authn: read factor: %w", err)
	}
	if out.RecoveryCodesLeft, err = a.store.RecoveryCodesLeft(ctx, tenant, userID); err != nil {
		return Factors{}, fmt.Errorf("authn: count recovery codes: %w", err)
	}
	return out, nil
}
