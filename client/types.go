package client

import (
	"encoding/json"
	"time"
)

// Login outcomes.
const (
	LoginAttempt     = "attempt" // before the password is checked
	LoginSuccess     = "success"
	LoginBadPassword = "bad_password"
	LoginUnknownUser = "unknown_user"
	LoginMFAFailed   = "mfa_failed"
	LoginLocked      = "locked"
	LoginSession     = "session" // what CheckSession sends
)

// Login is a login attempt to score (POST /v1/logins). Never put the
// password in it: for password-spraying detection send PasswordHashPrefix.
type Login struct {
	// ID is the shop's id for this attempt (the idempotency key).
	ID        string    `json:"id"`
	CreatedAt time.Time `json:"created_at"`
	// UserID is the account when one matches; otherwise set Identifier.
	UserID string `json:"user_id,omitempty"`
	// Identifier is what was typed when no account matches (shopguard
	// keeps only its hash).
	Identifier string `json:"identifier,omitempty"`
	IP         string `json:"ip"`
	UserAgent  string `json:"user_agent,omitempty"`
	DeviceID   string `json:"device_id,omitempty"`
	// Outcome is LoginAttempt before the password check, else the result.
	Outcome string `json:"outcome"`
	// PasswordHashPrefix is the first 5 hex characters of the SHA-1 of the
	// typed password (see PasswordHashPrefix).
	PasswordHashPrefix string `json:"password_hash_prefix,omitempty"`
	// SessionID is the session a successful sign-in starts (shopguard keeps
	// only its hash), for later session checks.
	SessionID string `json:"session_id,omitempty"`
	// Keystrokes is the password field's typing rhythm, if measured.
	Keystrokes *Keystrokes `json:"keystrokes,omitempty"`
	// RememberedDevice is the token a passed step-up gave this device
	// (ApprovalCheck.DeviceToken), if the shop kept one for it.
	RememberedDevice string `json:"remembered_device,omitempty"`
}

// Keystrokes is the typing rhythm of one password entry, timings only:
// HoldMS has how long each key was held (0..2000 ms), FlightMS, one fewer,
// the time from releasing each key to pressing the next (-2000..5000 ms).
type Keystrokes struct {
	HoldMS   []float64 `json:"hold_ms"`
	FlightMS []float64 `json:"flight_ms"`
}

// SessionCheck is a signed-in request whose IP, device or browser changed
// (POST /v1/sessions/check). Send the same SessionID with the successful
// Login so that the session knows where it started.
type SessionCheck struct {
	ID        string    `json:"id"`
	CreatedAt time.Time `json:"created_at"`
	UserID    string    `json:"user_id"`
	SessionID string    `json:"session_id"`
	IP        string    `json:"ip"`
	DeviceID  string    `json:"device_id,omitempty"`
	UserAgent string    `json:"user_agent,omitempty"`
}

// Signup is a new account to score (POST /v1/signups).
type Signup struct {
	// ID is the shop's id for this sign-up (the idempotency key).
	ID        string    `json:"id"`
	CreatedAt time.Time `json:"created_at"`
	UserID    string    `json:"user_id,omitempty"`
	Email     string    `json:"email"`
	IP        string    `json:"ip"`
	DeviceID  string    `json:"device_id,omitempty"`
	UserAgent string    `json:"user_agent,omitempty"`
	Name      string    `json:"name,omitempty"`
}

// Transaction is an order or payment attempt to score (POST /v1/transactions).
// Never put a card number, CVV or password in it: cards are identified by
// the payment processor's fingerprint or token plus BIN and last four digits.
type Transaction struct {
	// ID is the shop's own order or payment id; re-sending the same
	// transaction returns the first decision instead of counting it twice.
	ID string `json:"id"`
	// CreatedAt is when the attempt happened; features are computed at this time.
	CreatedAt time.Time `json:"created_at"`
	// AmountMinor is the amount in minor units (cents) of Currency.
	AmountMinor int64 `json:"amount_minor"`
	// Currency is an ISO 4217 code such as "EUR".
	Currency        string   `json:"currency"`
	User            *User    `json:"user,omitempty"`
	IP              string   `json:"ip,omitempty"`
	DeviceID        string   `json:"device_id,omitempty"`
	UserAgent       string   `json:"user_agent,omitempty"`
	Payment         *Payment `json:"payment,omitempty"`
	BillingAddress  *Address `json:"billing_address,omitempty"`
	ShippingAddress *Address `json:"shipping_address,omitempty"`
	Items           []Item   `json:"items,omitempty"`
	// MerchantID names the seller on a marketplace.
	MerchantID string `json:"merchant_id,omitempty"`
}

// User is the customer (omit it for guest checkouts).
type User struct {
	ID        string    `json:"id,omitempty"`
	Email     string    `json:"email,omitempty"`
	CreatedAt time.Time `json:"created_at,omitzero"`
}

// Payment describes how the order is paid.
type Payment struct {
	// Method is one of card, wallet, paypal, bank_transfer, bnpl, cod, gift_card, crypto, other.
	Method          string `json:"method"`
	CardFingerprint string `json:"card_fingerprint,omitempty"`
	BIN             string `json:"bin,omitempty"`
	Last4           string `json:"last4,omitempty"`
	// CardCountry is the issuing country, ISO 3166-1 alpha-2.
	CardCountry string `json:"card_country,omitempty"`
}

// Address is a postal address; Country is ISO 3166-1 alpha-2.
type Address struct {
	Line1      string `json:"line1,omitempty"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city,omitempty"`
	Region     string `json:"region,omitempty"`
	PostalCode string `json:"postal_code,omitempty"`
	Country    string `json:"country,omitempty"`
}

// Item is an order line.
type Item struct {
	SKU        string `json:"sku,omitempty"`
	Name       string `json:"name,omitempty"`
	PriceMinor int64  `json:"price_minor"`
	Quantity   int64  `json:"quantity"`
}

// Action is what the shop should do with the event.
type Action string

// The actions.
const (
	ActionAllow     Action = "allow"
	ActionReview    Action = "review"
	ActionChallenge Action = "challenge"
	ActionBlock     Action = "block"
)

// Reason explains part of a decision.
type Reason struct {
	Code    string  `json:"code"`
	Message string  `json:"message"`
	Weight  float64 `json:"weight"`
	Action  Action  `json:"action,omitempty"`
}

// Decision is shopguard's answer for one event.
type Decision struct {
	// ID is shopguard's id for the event (use it for feedback and lookups).
	ID         string `json:"id"`
	Kind       string `json:"kind"`
	ExternalID string `json:"external_id"`
	// Score is 0 (no risk seen) to 100.
	Score         int      `json:"score"`
	Action        Action   `json:"action"`
	Reasons       []Reason `json:"reasons"`
	RulesVersion  int64    `json:"rules_version"`
	ModelVersion  string   `json:"model_version"`
	LatencyMicros int64    `json:"latency_us"`
	// Replayed is true when the event had been scored before and this is the stored decision.
	Replayed bool `json:"replayed,omitempty"`
	// Challenge is the step-up shopguard started when Action is challenge
	// and the customer has a second factor: have the customer answer it
	// (AnswerChallenge), then verify the approval (VerifyApproval).
	Challenge *Challenge `json:"challenge,omitempty"`
}

// Assessment is a stored decision.
type Assessment struct {
	Score        int      `json:"score"`
	Action       Action   `json:"action"`
	Reasons      []Reason `json:"reasons"`
	Shadow       []Reason `json:"shadow,omitempty"`
	RulesVersion int64    `json:"rules_version"`
	ModelVersion string   `json:"model_version"`
}

// Event is a stored event with its decision and labels (GET /v1/events/{id}).
type Event struct {
	ID            string          `json:"id"`
	Kind          string          `json:"kind"`
	ExternalID    string          `json:"external_id"`
	OccurredAt    time.Time       `json:"occurred_at"`
	ReceivedAt    time.Time       `json:"received_at"`
	AmountMinor   int64           `json:"amount_minor,omitempty"`
	Currency      string          `json:"currency,omitempty"`
	Payload       json.RawMessage `json:"payload"`
	Features      json.RawMessage `json:"features"`
	Assessment    Assessment      `json:"assessment"`
	LatencyMicros int64           `json:"latency_us"`
	Labels        []Label         `json:"labels"`
}

// Label is feedback attached to an event.
type Label struct {
	ID         int64     `json:"id"`
	EventID    string    `json:"event_id"`
	Label      string    `json:"label"`
	Source     string    `json:"source"`
	Note       string    `json:"note,omitempty"`
	OccurredAt time.Time `json:"occurred_at"`
	CreatedAt  time.Time `json:"created_at"`
}

// Feedback labels an event, named by EventID or by Kind and ExternalID.
type Feedback struct {
	EventID    string `json:"event_id,omitempty"`
	Kind       string `json:"kind,omitempty"`
	ExternalID string `json:"external_id,omitempty"`
	// Label is one of fraud, chargeback, account_takeover, spam, abuse, legit, false_positive.
	Label  string `json:"label"`
	Source string `json:"source,omitempty"`
	Note   string `json:"note,omitempty"`
	// OccurredAt is when the outcome happened (zero: now).
	OccurredAt time.Time `json:"occurred_at,omitzero"`
}

// Rule is an operator rule. Exactly one of Action and Score is set.
type Rule struct {
	Name        string `json:"name"`
	Kind        string `json:"kind"`
	Expression  string `json:"expression"`
	Action      Action `json:"action,omitempty"`
	Score       int    `json:"score,omitempty"`
	Description string `json:"description"`
	// Mode is active (default), shadow or disabled.
	Mode string `json:"mode,omitempty"`
}

// RuleSet is one version of the tenant's rules.
type RuleSet struct {
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	Author    string    `json:"author"`
	Rules     []Rule    `json:"rules"`
}

// RuleVersion is a rule with the rule-set version holding it.
type RuleVersion struct {
	Version int64 `json:"version"`
	Rule    Rule  `json:"rule"`
}

// BacktestRequest runs draft rules over stored events.
type BacktestRequest struct {
	Kind  string    `json:"kind,omitempty"`
	From  time.Time `json:"from"`
	To    time.Time `json:"to"`
	Rules []Rule    `json:"rules"`
	Limit int       `json:"limit,omitempty"`
}

// LabelCounts counts events by label class.
type LabelCounts struct {
	Bad        int `json:"bad"`
	Good       int `json:"good"`
	Unlabelled int `json:"unlabelled"`
}

// RuleReport is one rule's backtest result.
type RuleReport struct {
	Name              string           `json:"name"`
	Matched           LabelCounts      `json:"matched"`
	MatchedTotal      int              `json:"matched_total"`
	Precision         *float64         `json:"precision"`
	Recall            *float64         `json:"recall"`
	AmountsMatched    map[string]int64 `json:"amounts_matched_minor"`
	AmountsBadMatched map[string]int64 `json:"amounts_bad_matched_minor"`
	Examples          []string         `json:"examples"`
}

// BacktestReport is the outcome of a backtest.
type BacktestReport struct {
	Kind      string           `json:"kind"`
	From      time.Time        `json:"from"`
	To        time.Time        `json:"to"`
	Events    int              `json:"events"`
	Truncated bool             `json:"truncated"`
	Labels    LabelCounts      `json:"labels"`
	Amounts   map[string]int64 `json:"amounts_minor"`
	Rules     []RuleReport     `json:"rules"`
	Any       RuleReport       `json:"any"`
	Errors    int              `json:"errors"`
}

// List is a named allow/block list.
type List struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	// Kind is user, email, email_domain, ip, card, bin, device, country or string.
	Kind string `json:"kind"`
	// Effect is none, allow, review, challenge or block.
	Effect string `json:"effect"`
	// Size is the number of values on the list.
	Size      int       `json:"size"`
	Builtin   bool      `json:"builtin"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// ListValues is a list with its values.
type ListValues struct {
	List
	Values []string `json:"values"`
}

// NewList creates a list, optionally with values.
type NewList struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Kind        string   `json:"kind"`
	Effect      string   `json:"effect,omitempty"`
	Values      []string `json:"values,omitempty"`
}

// ListUpdate changes a list's effect or description; nil fields stay.
type ListUpdate struct {
	Effect      *string `json:"effect,omitempty"`
	Description *string `json:"description,omitempty"`
}

// Champion is the model version scoring a kind of event.
type Champion struct {
	Kind    string `json:"kind"`
	Version string `json:"version"`
}
