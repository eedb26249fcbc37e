package client

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// shopguard signs its webhooks as the Standard Webhooks specification
// (standardwebhooks.com) says, so any of its libraries verifies them too:
// three headers, and an HMAC-SHA256 over "<id>.<timestamp>.<body>" keyed
// with the base64-decoded part of the endpoint's "whsec_" secret.
const (
	// WebhookIDHeader carries the notification's id, the same on every
	// retry: receivers use it to ignore a notification they already handled.
	WebhookIDHeader = "Webhook-Id"
	// WebhookTimestampHeader carries when the attempt was signed (Unix seconds).
	WebhookTimestampHeader = "Webhook-Timestamp"
	// WebhookSignatureHeader carries one or more space-separated
	// signatures "v1,<base64>" (two while a rotated secret is still valid).
	WebhookSignatureHeader = "Webhook-Signature"
	// WebhookSecretPrefix starts every webhook secret.
	WebhookSecretPrefix = "whsec_"
	// WebhookTolerance is how far a signature's timestamp may be from the
	// receiver's clock before VerifyWebhook refuses it as a replay.
	WebhookTolerance = 5 * time.Minute
)

// Errors of VerifyWebhook (wrapped; check with errors.Is).
var (
	// ErrWebhookSignature means the headers are missing or malformed, or
	// no signature matches: the request is not from shopguard or was changed.
	ErrWebhookSignature = errors.New("shopguard: webhook signature does not match")
	// ErrWebhookTimestamp means the signature is too old or too far in the
	// future: a replay, or a clock that is wrong.
	ErrWebhookTimestamp = errors.New("shopguard: webhook timestamp outside the tolerance")
)

// webhookKey decodes a "whsec_" secret into its HMAC key.
func webhookKey(secret string) ([]byte, error) {
	raw, ok := strings.CutPrefix(secret, WebhookSecretPrefix)
	if !ok {
		return nil, fmt.Errorf("shopguard: webhook secret must start with %q", WebhookSecretPrefix)
	}
	key, err := base64.StdEncoding.DecodeString(raw)
	if err != nil || len(key) == 0 {
		return nil, fmt.Errorf("shopguard: webhook secret is not %s followed by base64", WebhookSecretPrefix)
	}
	return key, nil
}

func webhookMAC(key []byte, id string, at int64, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write([]byte(strconv.FormatInt(at, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// SignWebhook returns the Webhook-Signature header value for a
// notification with id and body sent at at: one "v1,<base64>" signature
// per secret, space-separated.
func SignWebhook(id string, at time.Time, body []byte, secrets ...string) (string, error) {
	sigs := make([]string, 0, len(secrets))
	for _, s := range secrets {
		key, err := webhookKey(s)
		if err != nil {
			return "", err
		}
		sigs = append(sigs, "v1,"+base64.StdEncoding.EncodeToString(webhookMAC(key, id, at.Unix(), body)))
	}
	return strings.Join(sigs, " "), nil
}

// VerifyWebhook checks a webhook request's headers against its raw body
// (read it before parsing: re-encoded JSON no longer matches) with the
// endpoint's secret, at now. It returns nil when one signature matches and
// the timestamp is within WebhookTolerance of now.
func VerifyWebhook(h http.Header, body []byte, secret string, now time.Time) error {
	key, err := webhookKey(secret)
	if err != nil {
		return err
	}
	id, ts, sigs := h.Get(WebhookIDHeader), h.Get(WebhookTimestampHeader), h.Get(WebhookSignatureHeader)
	if id == "" || ts == "" || sigs == "" {
		return fmt.Errorf("%w: a %s, %s or %s header is missing", ErrWebhookSignature, WebhookIDHeader, WebhookTimestampHeader, WebhookSignatureHeader)
	}
	at, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %s %q is not Unix seconds", ErrWebhookSignature, WebhookTimestampHeader, ts)
	}
	if d := now.Sub(time.Unix(at, 0)); d > WebhookTolerance || d < -WebhookTolerance {
		return fmt.Errorf("%w: signed at %s, %s from now", ErrWebhookTimestamp, time.Unix(at, 0).UTC().Format(time.RFC3339), d.Round(time.Second))
	}
	want := webhookMAC(key, id, at, body)
	for _, s := range strings.Fields(sigs) {
		v, ok := strings.CutPrefix(s, "v1,")
		if !ok {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(v)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return ErrWebhookSignature
}

// Notification is the body of every webhook shopguard sends.
type Notification struct {
	// Type says what happened (NotificationLoginUnrecognized, ...).
	Type string `json:"type"`
	// Timestamp is when the notification was made.
	Timestamp time.Time `json:"timestamp"`
	// Data is the type's own content (LoginNotice for login types).
	Data json.RawMessage `json:"data"`
}

// Notification types.
const (
	// NotificationLoginUnrecognized: a successful sign-in from a device or
	// country the account had not used. Ask the customer "was this you?".
	NotificationLoginUnrecognized = "login.unrecognized"
	// NotificationLoginStepUpFailed: a sign-in on the account failed the
	// step-up (outcome mfa_failed); if the shop checks the password first,
	// someone else knows it.
	NotificationLoginStepUpFailed = "login.step_up_failed"
	// NotificationTest is sent by POST /v1/webhooks/{id}/test.
	NotificationTest = "webhook.test"
)

// LoginNotice is the data of the login notification types: what the shop
// needs to write to its customer, and the event to label with the answer
// (legit when the customer says it was them, account_takeover when not).
type LoginNotice struct {
	EventID    string    `json:"event_id"`
	ExternalID string    `json:"external_id"`
	UserID     string    `json:"user_id"`
	OccurredAt time.Time `json:"occurred_at"`
	IP         string    `json:"ip"`
	Country    string    `json:"country,omitempty"`
	City       string    `json:"city,omitempty"`
	ASN        int64     `json:"asn,omitempty"`
	DeviceID   string    `json:"device_id,omitempty"`
	Browser    string    `json:"browser,omitempty"`
	OS         string    `json:"os,omitempty"`
	// New lists what the account had not used before: "device",
	// "country", "network".
	New []string `json:"new,omitempty"`
	// Action and Score are shopguard's decision on the sign-in.
	Action Action `json:"action"`
	Score  int    `json:"score"`
}

// Webhook is an endpoint that receives the shop's notifications.
type Webhook struct {
	ID          string   `json:"id"`
	URL         string   `json:"url"`
	Types       []string `json:"types"`
	Description string   `json:"description"`
	Enabled     bool     `json:"enabled"`
	// Secret verifies the endpoint's notifications (VerifyWebhook). It is
	// only returned by CreateWebhook and RotateWebhookSecret: keep it then.
	Secret    string    `json:"secret,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// NewWebhook is an endpoint to create.
type NewWebhook struct {
	URL         string   `json:"url"`
	Types       []string `json:"types"`
	Description string   `json:"description,omitempty"`
}

// WebhookUpdate changes an endpoint; nil fields stay.
type WebhookUpdate struct {
	URL         *string   `json:"url,omitempty"`
	Types       *[]string `json:"types,omitempty"`
	Description *string   `json:"description,omitempty"`
	Enabled     *bool     `json:"enabled,omitempty"`
}

// Delivery is one notification to one endpoint and how its delivery went.
type Delivery struct {
	ID        string `json:"id"`
	WebhookID string `json:"webhook_id"`
	Type      string `json:"type"`
	EventID   string `json:"event_id,omitempty"`
	// Status is pending, delivered or failed (given up).
	Status        string          `json:"status"`
	Attempts      int             `json:"attempts"`
	CreatedAt     time.Time       `json:"created_at"`
	NextAttemptAt *time.Time      `json:"next_attempt_at,omitempty"`
	LastAttemptAt *time.Time      `json:"last_attempt_at,omitempty"`
	LastStatus    int             `json:"last_status,omitempty"`
	LastError     string          `json:"last_error,omitempty"`
	DeliveredAt   *time.Time      `json:"delivered_at,omitempty"`
	FailedAt      *time.Time      `json:"failed_at,omitempty"`
	Payload       json.RawMessage `json:"payload"`
}

// CreateWebhook adds an endpoint; the answer carries its secret.
func (c *Client) CreateWebhook(ctx context.Context, w NewWebhook) (*Webhook, error) {
	var out Webhook
	return &out, c.do(ctx, http.MethodPost, "/v1/webhooks", w, &out, false)
}

// Webhooks lists the shop's endpoints (without secrets).
func (c *Client) Webhooks(ctx context.Context) ([]Webhook, error) {
	var out struct {
		Webhooks []Webhook `json:"webhooks"`
	}
	return out.Webhooks, c.do(ctx, http.MethodGet, "/v1/webhooks", nil, &out, true)
}

// UpdateWebhook changes an endpoint.
func (c *Client) UpdateWebhook(ctx context.Context, id string, u WebhookUpdate) (*Webhook, error) {
	var out Webhook
	return &out, c.do(ctx, http.MethodPatch, "/v1/webhooks/"+url.PathEscape(id), u, &out, false)
}

// DeleteWebhook removes an endpoint and its delivery log.
func (c *Client) DeleteWebhook(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/v1/webhooks/"+url.PathEscape(id), nil, nil, false)
}

// RotateWebhookSecret gives an endpoint a new secret (returned); the old
// one keeps signing alongside it for a day.
func (c *Client) RotateWebhookSecret(ctx context.Context, id string) (*Webhook, error) {
	var out Webhook
	return &out, c.do(ctx, http.MethodPost, "/v1/webhooks/"+url.PathEscape(id)+"/rotate-secret", nil, &out, false)
}

// TestWebhook sends the endpoint a webhook.test notification.
func (c *Client) TestWebhook(ctx context.Context, id string) (*Delivery, error) {
	var out Delivery
	return &out, c.do(ctx, http.MethodPost, "/v1/webhooks/"+url.PathEscape(id)+"/test", nil, &out, false)
}

// WebhookDeliveries returns an endpoint's latest deliveries, newest first
// (limit 1..500; 0 for the default of 50).
func (c *Client) WebhookDeliveries(ctx context.Context, id string, limit int) ([]Delivery, error) {
	path := "/v1/webhooks/" + url.PathEscape(id) + "/deliveries"
	if limit > 0 {
		path += "?limit=" + strconv.Itoa(limit)
	}
	var out struct {
		Deliveries []Delivery `json:"deliveries"`
	}
	return out.Deliveries, c.do(ctx, http.MethodGet, path, nil, &out, true)
}

// RetryWebhookDelivery sends a finished delivery again.
func (c *Client) RetryWebhookDelivery(ctx context.Context, webhookID, deliveryID string) (*Delivery, error) {
	var out Delivery
	return &out, c.do(ctx, http.MethodPost, "/v1/webhooks/"+url.PathEscape(webhookID)+"/deliveries/"+url.PathEscape(deliveryID)+"/retry", nil, &out, false)
}
