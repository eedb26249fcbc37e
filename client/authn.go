package client

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// TOTPEnrolment is a new authenticator-app secret for a customer: show
// the QR code (or the secret, to type in), then confirm with a first code.
type TOTPEnrolment struct {
	UserID string `json:"user_id"`
	// Secret is the base32 secret, for typing in by hand.
	Secret string `json:"secret"`
	// URL is the otpauth:// URL the QR code holds.
	URL string `json:"otpauth_url"`
	// QRCodePNG is the QR code as a PNG image.
	QRCodePNG []byte `json:"qr_code_png"`
}

// Factors says what second factors a customer has.
type Factors struct {
	// TOTP is "none", "pending" (enrolled, not confirmed) or "active".
	TOTP              string `json:"totp"`
	RecoveryCodesLeft int    `json:"recovery_codes_left"`
	// Passkeys counts the passkeys usable on the shop's current domain.
	Passkeys int `json:"passkeys"`
}

func userPath(userID, rest string) string { return "/v1/users/" + url.PathEscape(userID) + rest }

// EnrolTOTP starts enrolling the customer's authenticator app. issuer is
// the shop's name and accountName the customer's (an e-mail), as the app
// shows them.
func (c *Client) EnrolTOTP(ctx context.Context, userID, issuer, accountName string) (*TOTPEnrolment, error) {
	var out TOTPEnrolment
	return &out, c.do(ctx, http.MethodPost, userPath(userID, "/totp"),
		map[string]string{"issuer": issuer, "account_name": accountName}, &out, false)
}

// ConfirmTOTP completes the enrolment with the first code the app shows
// and returns the customer's recovery codes (shown once).
func (c *Client) ConfirmTOTP(ctx context.Context, userID, code string) ([]string, error) {
	var out struct {
		RecoveryCodes []string `json:"recovery_codes"`
	}
	return out.RecoveryCodes, c.do(ctx, http.MethodPost, userPath(userID, "/totp/confirm"), map[string]string{"code": code}, &out, false)
}

// VerifyTOTP checks a code of the customer's authenticator app: true when
// it is right and not used before. Too many wrong codes are an *Error with
// status 429.
func (c *Client) VerifyTOTP(ctx context.Context, userID, code string) (bool, error) {
	var out struct {
		Verified bool `json:"verified"`
	}
	return out.Verified, c.do(ctx, http.MethodPost, userPath(userID, "/totp/verify"), map[string]string{"code": code}, &out, false)
}

// RemoveTOTP removes the customer's authenticator app and recovery codes.
func (c *Client) RemoveTOTP(ctx context.Context, userID string) error {
	return c.do(ctx, http.MethodDelete, userPath(userID, "/totp"), nil, nil, false)
}

// NewRecoveryCodes replaces the customer's recovery codes with a new set (returned once).
func (c *Client) NewRecoveryCodes(ctx context.Context, userID string) ([]string, error) {
	var out struct {
		RecoveryCodes []string `json:"recovery_codes"`
	}
	return out.RecoveryCodes, c.do(ctx, http.MethodPost, userPath(userID, "/recovery-codes"), nil, &out, false)
}

// UseRecoveryCode accepts one of the customer's unused recovery codes once.
func (c *Client) UseRecoveryCode(ctx context.Context, userID, code string) (bool, error) {
	var out struct {
		Verified bool `json:"verified"`
	}
	return out.Verified, c.do(ctx, http.MethodPost, userPath(userID, "/recovery-codes/verify"), map[string]string{"code": code}, &out, false)
}

// Factors returns the second factors the customer has.
func (c *Client) Factors(ctx context.Context, userID string) (*Factors, error) {
	var out Factors
	return &out, c.do(ctx, http.MethodGet, userPath(userID, "/factors"), nil, &out, true)
}

// ChallengeAction is what a customer approves in a step-up challenge: the
// approval is bound to every field, so one for order A does not verify
// for order B.
type ChallengeAction struct {
	// Type is login, payment, change_email, change_password, change_phone,
	// change_address, change_payout, disclose_order or other.
	Type string `json:"type"`
	// Description is what the customer is shown.
	Description string `json:"description"`
	AmountMinor int64  `json:"amount_minor,omitempty"`
	Currency    string `json:"currency,omitempty"`
	// Reference is the shop's id of what is acted on (an order id).
	Reference string `json:"reference,omitempty"`
}

// Challenge is a step-up for one customer and one action.
type Challenge struct {
	ID         string          `json:"id"`
	UserID     string          `json:"user_id"`
	Action     ChallengeAction `json:"action"`
	ActionHash string          `json:"action_hash"`
	Methods    []string        `json:"methods"`
	EventID    string          `json:"event_id,omitempty"`
	DeviceID   string          `json:"device_id,omitempty"`
	Status     string          `json:"status"` // pending, passed, failed, expired
	Failures   int             `json:"failures"`
	CreatedAt  time.Time       `json:"created_at"`
	ExpiresAt  time.Time       `json:"expires_at"`
	PassedAt   *time.Time      `json:"passed_at,omitempty"`
	Method     string          `json:"method,omitempty"`
	ConsumedAt *time.Time      `json:"consumed_at,omitempty"`
	// HostedURL is shopguard's page where the customer answers it (while
	// pending): open it with ShopGuard.stepUp or send the customer there.
	HostedURL string `json:"hosted_url,omitempty"`
}

// ChallengeAnswer is the outcome of answering a challenge.
type ChallengeAnswer struct {
	Challenge Challenge `json:"challenge"`
	// Token is the signed approval (a JWT, EdDSA) once the challenge passed.
	Token        string `json:"token,omitempty"`
	AttemptsLeft int    `json:"attempts_left"`
	// Reason says why a passkey answer was refused.
	Reason string `json:"reason,omitempty"`
}

// ApprovalCheck says whether an approval token lets the action go ahead.
type ApprovalCheck struct {
	Valid       bool   `json:"valid"`
	Reason      string `json:"reason,omitempty"`
	ChallengeID string `json:"challenge_id,omitempty"`
	UserID      string `json:"user_id,omitempty"`
	Method      string `json:"method,omitempty"`
	// DeviceToken remembers the device the challenge was passed on (when
	// asked for): keep it in a long-lived cookie of that device and send
	// it as Login.RememberedDevice, until DeviceTokenExpiresAt.
	DeviceToken          string     `json:"device_token,omitempty"`
	DeviceTokenExpiresAt *time.Time `json:"device_token_expires_at,omitempty"`
}

// ChallengeInput is a step-up the shop asks for.
type ChallengeInput struct {
	UserID string          `json:"user_id"`
	Action ChallengeAction `json:"action"`
	// EventID is the decision that asked for it, if any.
	EventID string `json:"event_id,omitempty"`
	// DeviceID is the shop's id of the device the customer answers on: a
	// passed challenge can then remember it (VerifyAndRemember).
	DeviceID string `json:"device_id,omitempty"`
	// ReturnURL is the shop's page the hosted page sends the customer
	// back to, with shopguard_challenge and shopguard_token added.
	ReturnURL string `json:"return_url,omitempty"`
}

// StartChallenge starts a step-up.
func (c *Client) StartChallenge(ctx context.Context, in ChallengeInput) (*Challenge, error) {
	var out Challenge
	return &out, c.do(ctx, http.MethodPost, "/v1/challenges", in, &out, false)
}

// CreateChallenge starts a step-up for the customer and the action
// (eventID: the decision that asked for it, or "").
func (c *Client) CreateChallenge(ctx context.Context, userID string, action ChallengeAction, eventID string) (*Challenge, error) {
	return c.StartChallenge(ctx, ChallengeInput{UserID: userID, Action: action, EventID: eventID})
}

// Challenge returns a challenge's state.
func (c *Client) Challenge(ctx context.Context, id string) (*Challenge, error) {
	var out Challenge
	return &out, c.do(ctx, http.MethodGet, "/v1/challenges/"+url.PathEscape(id), nil, &out, true)
}

// ChallengeReturning returns a challenge whose HostedURL sends the
// customer back to returnURL (a page on one of the shop's origins) with
// shopguard_challenge and shopguard_token added: for a challenge a
// decision started.
func (c *Client) ChallengeReturning(ctx context.Context, id, returnURL string) (*Challenge, error) {
	var out Challenge
	return &out, c.do(ctx, http.MethodGet, "/v1/challenges/"+url.PathEscape(id)+"?return_url="+url.QueryEscape(returnURL), nil, &out, true)
}

// AnswerChallenge answers with a code of method ("totp" or "recovery_code").
func (c *Client) AnswerChallenge(ctx context.Context, id, method, code string) (*ChallengeAnswer, error) {
	var out ChallengeAnswer
	return &out, c.do(ctx, http.MethodPost, "/v1/challenges/"+url.PathEscape(id)+"/answer",
		map[string]string{"method": method, "code": code}, &out, false)
}

// VerifyAndRemember is VerifyApproval that also asks for a token
// remembering the device the challenge was passed on (started with its
// DeviceID) for days (0: 30).
func (c *Client) VerifyAndRemember(ctx context.Context, token, userID string, action ChallengeAction, days int) (*ApprovalCheck, error) {
	var out ApprovalCheck
	return &out, c.do(ctx, http.MethodPost, "/v1/challenges/verify",
		map[string]any{"token": token, "user_id": userID, "action": action, "remember_device": true, "remember_days": days}, &out, false)
}

// ForgetRememberedDevices voids every remembered-device token of the
// customer (shopguard also does so on an account_takeover label).
func (c *Client) ForgetRememberedDevices(ctx context.Context, userID string) error {
	return c.do(ctx, http.MethodDelete, userPath(userID, "/remembered-devices"), nil, nil, true)
}

// VerifyApproval checks and redeems (once) an approval token for the
// customer and the action the shop is about to perform.
func (c *Client) VerifyApproval(ctx context.Context, token, userID string, action ChallengeAction) (*ApprovalCheck, error) {
	var out ApprovalCheck
	return &out, c.do(ctx, http.MethodPost, "/v1/challenges/verify",
		map[string]any{"token": token, "user_id": userID, "action": action}, &out, false)
}
