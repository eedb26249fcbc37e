package storage

import (
	"context"
	"encoding/json"
	"time"
)

// Webhook is an endpoint of a tenant's that receives notifications
// ("was this you?" after an unfamiliar sign-in, ...), each signed with the
// endpoint's secret.
type Webhook struct {
	// ID is the endpoint's public identifier ("wh_...").
	ID     string
	Tenant string
	// URL receives a POST per notification.
	URL string
	// Types lists the notification types the endpoint receives.
	Types       []string
	Description string
	// Secret signs every delivery (HMAC-SHA256). After a rotation,
	// PreviousSecret signs too until PreviousUntil, so the shop can switch
	// without missing a notification.
	Secret         string
	PreviousSecret string
	PreviousUntil  time.Time
	// Disabled endpoints get no new deliveries; pending ones wait.
	Disabled  bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Delivery is one notification to one endpoint: pending until the
// endpoint accepts it or the sender gives up, then kept for the record.
type Delivery struct {
	// ID identifies the notification to the receiver across retries ("dl_...").
	ID        string
	Tenant    string
	WebhookID string
	// Type is the notification type; EventID the event it is about ("" for a test).
	Type    string
	EventID string
	// DedupeKey, if not empty, is unique per endpoint: a second delivery
	// with the same key is not added (one notice per account and hour).
	DedupeKey string
	// Payload is the exact body sent, fixed when the delivery is made so
	// every attempt sends the same bytes.
	Payload   json.RawMessage
	CreatedAt time.Time
	// Attempts counts the attempts made so far.
	Attempts int
	// NextAttemptAt is when the delivery is due; zero once it is delivered
	// or given up.
	NextAttemptAt time.Time
	LastAttemptAt time.Time
	// LastStatus is the HTTP status of the last attempt (0: no answer),
	// LastError what went wrong with it ("" after success).
	LastStatus int
	LastError  string
	// DeliveredAt is set when the endpoint accepted it (a 2xx answer),
	// FailedAt when the sender gave up.
	DeliveredAt time.Time
	FailedAt    time.Time
}

// CursorMove moves the notification cursor: the Seq of the last event
// whose notifications have been made. From is where the mover read it.
type CursorMove struct {
	From, To int64
}

// WebhookStore keeps webhook endpoints and the outbox of their deliveries.
// The notifier turns the event log into deliveries behind a cursor that
// moves in the same transaction as the deliveries are added, so no
// notification is lost or made twice across a crash.
type WebhookStore interface {
	// CreateWebhook stores w; ErrConflict if its ID exists.
	CreateWebhook(ctx context.Context, w Webhook) error
	// Webhook returns the tenant's endpoint, or ErrNotFound.
	Webhook(ctx context.Context, tenant, id string) (Webhook, error)
	// Webhooks returns the tenant's endpoints ("" = every tenant's) by creation.
	Webhooks(ctx context.Context, tenant string) ([]Webhook, error)
	// UpdateWebhook replaces everything but the tenant, ID and creation
	// time of an existing endpoint; ErrNotFound if there is none.
	UpdateWebhook(ctx context.Context, w Webhook) error
	// DeleteWebhook removes an endpoint and its deliveries; ErrNotFound if
	// there is none.
	DeleteWebhook(ctx context.Context, tenant, id string) error

	// NotifyCursor returns the notification cursor; ok is false before it
	// is first set.
	NotifyCursor(ctx context.Context) (seq int64, ok bool, err error)
	// AddDeliveries adds ds, skipping any whose DedupeKey its endpoint
	// already has, and returns how many it added. With move, it also moves
	// the cursor in the same transaction, and adds nothing (ErrConflict)
	// if the cursor is not at move.From (0 and unset are the same).
	AddDeliveries(ctx context.Context, ds []Delivery, move *CursorMove) (int, error)
	// ClaimDeliveries returns up to limit deliveries due at now, the
	// earliest due first, and makes them due again only at now+lease, so
	// that no other sender takes them meanwhile and a crashed sender's
	// deliveries are retried.
	ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Delivery, error)
	// RecordAttempt stores the outcome of an attempt on d: its Attempts,
	// NextAttemptAt, LastAttemptAt, LastStatus, LastError, DeliveredAt and
	// FailedAt. A delivery deleted meanwhile is ignored.
	RecordAttempt(ctx context.Context, d Delivery) error
	// Delivery returns one delivery of the tenant's, or ErrNotFound.
	Delivery(ctx context.Context, tenant, id string) (Delivery, error)
	// Deliveries returns an endpoint's deliveries, newest first, at most limit.
	Deliveries(ctx context.Context, tenant, webhookID string, limit int) ([]Delivery, error)
	// RetryDelivery makes a delivered or failed delivery due again at at;
	// ErrNotFound if the tenant has no such delivery.
	RetryDelivery(ctx context.Context, tenant, id string, at time.Time) error
	// PruneDeliveries removes deliveries delivered or given up before
	// before and returns how many.
	PruneDeliveries(ctx context.Context, before time.Time) (int, error)
}
