package notify

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopguard/shopguard/client"
	"github.com/shopguard/shopguard/internal/engine"
	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/storage"
)

// ErrTooMany means the tenant has as many endpoints as it may.
var ErrTooMany = errors.New("notify: too many webhooks")

// rotationGrace is how long the previous secret still signs after a rotation.
const rotationGrace = 24 * time.Hour

// Limits of endpoint fields.
const (
	maxURL         = 2048
	maxDescription = 256
)

// WebhookInput is a new endpoint as the shop asks for it.
type WebhookInput struct {
	URL         string   `json:"url"`
	Types       []string `json:"types"`
	Description string   `json:"description,omitempty"`
}

// WebhookPatch changes an endpoint; nil fields keep their value.
type WebhookPatch struct {
	URL         *string   `json:"url"`
	Types       *[]string `json:"types"`
	Description *string   `json:"description"`
	Enabled     *bool     `json:"enabled"`
}

// checkURL validates an endpoint URL: absolute http(s) without
// credentials or fragment; plain http only on loopback unless AllowHTTP.
func (n *Notifier) checkURL(raw string) *risk.FieldError {
	if raw == "" {
		return risk.Missing("url")
	}
	if len(raw) > maxURL {
		return risk.Invalid("url", "is longer than %d characters", maxURL)
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return risk.Invalid("url", "must be an absolute http:// or https:// URL")
	}
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return risk.Invalid("url", "must use https:// (or http:// on a loopback address), not %s://", u.Scheme)
	case u.User != nil:
		return risk.Invalid("url", "must not carry a user name or password: the signature authenticates shopguard")
	case u.Fragment != "":
		return risk.Invalid("url", "must not have a #fragment")
	}
	if p := u.Port(); p != "" {
		if v, err := strconv.Atoi(p); err != nil || v < 1 || v > 65535 {
			return risk.Invalid("url", "has an invalid port %q", p)
		}
	}
	if u.Scheme == "http" && !n.cfg.AllowHTTP && !loopback(u.Hostname()) {
		return risk.Invalid("url", "must use https:// unless the host is a loopback address (webhooks.allow_http permits http://)")
	}
	return nil
}

func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// checkTypes validates a subscription: at least one known type, no repeats.
func (n *Notifier) checkTypes(types []string) *risk.FieldError {
	if len(types) == 0 {
		return risk.Missing("types")
	}
	for i, t := range types {
		f := "types[" + strconv.Itoa(i) + "]"
		if !slices.ContainsFunc(n.types, func(ti TypeInfo) bool { return ti.Name == t }) {
			names := make([]string, len(n.types))
			for j, ti := range n.types {
				names[j] = ti.Name
			}
			return risk.Invalid(f, "%q is not a notification type (known: %s)", t, strings.Join(names, ", "))
		}
		if slices.Contains(types[:i], t) {
			return risk.Invalid(f, "%q is listed twice", t)
		}
	}
	return nil
}

func newSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return client.WebhookSecretPrefix + base64.StdEncoding.EncodeToString(b[:])
}

// CreateWebhook validates in and stores a new enabled endpoint for tenant
// with a fresh secret (returned in the record, shown to the shop once).
func (n *Notifier) CreateWebhook(ctx context.Context, tenant string, in WebhookInput) (storage.Webhook, error) {
	var ps []error
	if e := n.checkURL(in.URL); e != nil {
		ps = append(ps, e)
	}
	if e := n.checkTypes(in.Types); e != nil {
		ps = append(ps, e)
	}
	if e := risk.CheckText("description", in.Description, maxDescription); e != nil {
		ps = append(ps, e)
	}
	if len(ps) > 0 {
		return storage.Webhook{}, errors.Join(ps...)
	}
	have, err := n.store.Webhooks(ctx, tenant)
	if err != nil {
		return storage.Webhook{}, fmt.Errorf("notify: read webhooks: %w", err)
	}
	if len(have) >= n.cfg.MaxWebhooks {
		return storage.Webhook{}, fmt.Errorf("%w: the shop has %d, the most it may have; delete one first", ErrTooMany, len(have))
	}
	now := n.cfg.Now().UTC().Truncate(time.Microsecond)
	w := storage.Webhook{ID: engine.NewID("wh_", now), Tenant: tenant, URL: in.URL, Types: slices.Clone(in.Types),
		Description: in.Description, Secret: newSecret(), CreatedAt: now, UpdatedAt: now}
	if err := n.store.CreateWebhook(ctx, w); err != nil {
		return storage.Webhook{}, fmt.Errorf("notify: create webhook: %w", err)
	}
	return w, nil
}

// Webhooks returns the tenant's endpoints, oldest first.
func (n *Notifier) Webhooks(ctx context.Context, tenant string) ([]storage.Webhook, error) {
	ws, err := n.store.Webhooks(ctx, tenant)
	if err != nil {
		return nil, fmt.Errorf("notify: read webhooks: %w", err)
	}
	return ws, nil
}

// Webhook returns one of the tenant's endpoints (storage.ErrNotFound if none).
func (n *Notifier) Webhook(ctx context.Context, tenant, id string) (storage.Webhook, error) {
	w, err := n.store.Webhook(ctx, tenant, id)
	if err != nil {
		return storage.Webhook{}, fmt.Errorf("notify: %w", err)
	}
	return w, nil
}

// UpdateWebhook applies p to the tenant's endpoint id.
func (n *Notifier) UpdateWebhook(ctx context.Context, tenant, id string, p WebhookPatch) (storage.Webhook, error) {
	var ps []error
	if p.URL != nil {
		if e := n.checkURL(*p.URL); e != nil {
			ps = append(ps, e)
		}
	}
	if p.Types != nil {
		if e := n.checkTypes(*p.Types); e != nil {
			ps = append(ps, e)
		}
	}
	if p.Description != nil {
		if e := risk.CheckText("description", *p.Description, maxDescription); e != nil {
			ps = append(ps, e)
		}
	}
	if len(ps) > 0 {
		return storage.Webhook{}, errors.Join(ps...)
	}
	return n.change(ctx, tenant, id, func(w *storage.Webhook) {
		if p.URL != nil {
			w.URL = *p.URL
		}
		if p.Types != nil {
			w.Types = slices.Clone(*p.Types)
		}
		if p.Description != nil {
			w.Description = *p.Description
		}
		if p.Enabled != nil {
			w.Disabled = !*p.Enabled
		}
	})
}

// RotateSecret gives the endpoint a new secret; the old one keeps signing
// (as a second signature) for a day, so the shop can switch without
// refusing a notification.
func (n *Notifier) RotateSecret(ctx context.Context, tenant, id string) (storage.Webhook, error) {
	return n.change(ctx, tenant, id, func(w *storage.Webhook) {
		w.PreviousSecret, w.PreviousUntil = w.Secret, n.cfg.Now().UTC().Add(rotationGrace).Truncate(time.Microsecond)
		w.Secret = newSecret()
	})
}

func (n *Notifier) change(ctx context.Context, tenant, id string, fn func(*storage.Webhook)) (storage.Webhook, error) {
	w, err := n.Webhook(ctx, tenant, id)
	if err != nil {
		return storage.Webhook{}, err
	}
	fn(&w)
	w.UpdatedAt = n.cfg.Now().UTC().Truncate(time.Microsecond)
	if err := n.store.UpdateWebhook(ctx, w); err != nil {
		return storage.Webhook{}, fmt.Errorf("notify: update webhook: %w", err)
	}
	return w, nil
}

// DeleteWebhook removes the tenant's endpoint and its deliveries.
func (n *Notifier) DeleteWebhook(ctx context.Context, tenant, id string) error {
	if err := n.store.DeleteWebhook(ctx, tenant, id); err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	return nil
}

// testData is the data of a webhook.test notification.
type testData struct {
	WebhookID string `json:"webhook_id"`
	Message   string `json:"message"`
}

// SendTest queues a webhook.test notification to the endpoint (enabled or
// not: a test goes out at once) and returns the delivery.
func (n *Notifier) SendTest(ctx context.Context, tenant, id string) (storage.Delivery, error) {
	w, err := n.Webhook(ctx, tenant, id)
	if err != nil {
		return storage.Delivery{}, err
	}
	w.Disabled = false
	d, err := n.delivery(w, Notice{Type: client.NotificationTest,
		Data: testData{WebhookID: id, Message: "a test notification from shopguard"}}, "", n.cfg.Now())
	if err != nil {
		return storage.Delivery{}, err
	}
	if _, err := n.store.AddDeliveries(ctx, []storage.Delivery{d}, nil); err != nil {
		return storage.Delivery{}, fmt.Errorf("notify: add test delivery: %w", err)
	}
	n.Wake()
	return d, nil
}

// Deliveries returns the endpoint's latest deliveries, newest first.
func (n *Notifier) Deliveries(ctx context.Context, tenant, id string, limit int) ([]storage.Delivery, error) {
	if _, err := n.Webhook(ctx, tenant, id); err != nil {
		return nil, err
	}
	ds, err := n.store.Deliveries(ctx, tenant, id, limit)
	if err != nil {
		return nil, fmt.Errorf("notify: read deliveries: %w", err)
	}
	return ds, nil
}

// RetryDelivery sends one of the endpoint's finished deliveries again now
// (a pending one is returned as it is). A delivery that was given up gets
// one more attempt; a delivered one the attempts it had left.
func (n *Notifier) RetryDelivery(ctx context.Context, tenant, webhookID, id string) (storage.Delivery, error) {
	d, err := n.store.Delivery(ctx, tenant, id)
	if err != nil || d.WebhookID != webhookID {
		return storage.Delivery{}, fmt.Errorf("notify: %w: delivery %q of webhook %q", storage.ErrNotFound, id, webhookID)
	}
	if !d.NextAttemptAt.IsZero() {
		return d, nil // already pending
	}
	now := n.cfg.Now().UTC().Truncate(time.Microsecond)
	if err := n.store.RetryDelivery(ctx, tenant, id, now); err != nil {
		return storage.Delivery{}, fmt.Errorf("notify: retry delivery: %w", err)
	}
	n.Wake()
	d.NextAttemptAt, d.DeliveredAt, d.FailedAt = now, time.Time{}, time.Time{}
	return d, nil
}
