package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/shopguard/shopguard/internal/apikey"
	"github.com/shopguard/shopguard/internal/notify"
	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/storage"
)

// Webhooks manages the tenant's webhook endpoints and their deliveries
// (a *notify.Notifier).
type Webhooks interface {
	Types() []notify.TypeInfo
	CreateWebhook(ctx context.Context, tenant string, in notify.WebhookInput) (storage.Webhook, error)
	Webhooks(ctx context.Context, tenant string) ([]storage.Webhook, error)
	Webhook(ctx context.Context, tenant, id string) (storage.Webhook, error)
	UpdateWebhook(ctx context.Context, tenant, id string, p notify.WebhookPatch) (storage.Webhook, error)
	DeleteWebhook(ctx context.Context, tenant, id string) error
	RotateSecret(ctx context.Context, tenant, id string) (storage.Webhook, error)
	SendTest(ctx context.Context, tenant, id string) (storage.Delivery, error)
	Deliveries(ctx context.Context, tenant, id string, limit int) ([]storage.Delivery, error)
	RetryDelivery(ctx context.Context, tenant, webhookID, id string) (storage.Delivery, error)
}

// SetWebhooks serves /v1/webhooks (without it, those routes answer 404).
func (s *Server) SetWebhooks(w Webhooks) { s.hooks = w }

// webhookJSON is an endpoint as the API shows it. The secret is shown only
// when it is made (creation and rotation).
type webhookJSON struct {
	ID          string    `json:"id"`
	URL         string    `json:"url"`
	Types       []string  `json:"types"`
	Description string    `json:"description"`
	Enabled     bool      `json:"enabled"`
	Secret      string    `json:"secret,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

func toWebhookJSON(w storage.Webhook, withSecret bool) webhookJSON {
	out := webhookJSON{ID: w.ID, URL: w.URL, Types: w.Types, Description: w.Description, Enabled: !w.Disabled,
		CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt}
	if withSecret {
		out.Secret = w.Secret
	}
	return out
}

// deliveryJSON is a delivery as the API shows it.
type deliveryJSON struct {
	ID            string          `json:"id"`
	WebhookID     string          `json:"webhook_id"`
	Type          string          `json:"type"`
	EventID       string          `json:"event_id,omitempty"`
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

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func toDeliveryJSON(d storage.Delivery) deliveryJSON {
	status := "pending"
	switch {
	case !d.DeliveredAt.IsZero():
		status = "delivered"
	case !d.FailedAt.IsZero():
		status = "failed"
	}
	return deliveryJSON{ID: d.ID, WebhookID: d.WebhookID, Type: d.Type, EventID: d.EventID, Status: status, Attempts: d.Attempts,
		CreatedAt: d.CreatedAt, NextAttemptAt: optTime(d.NextAttemptAt), LastAttemptAt: optTime(d.LastAttemptAt),
		LastStatus: d.LastStatus, LastError: d.LastError, DeliveredAt: optTime(d.DeliveredAt), FailedAt: optTime(d.FailedAt),
		Payload: d.Payload}
}

// errNoWebhooks answers the webhook routes of a server without notifier.
var errNoWebhooks = newStatusError(http.StatusNotFound, "not_found", "", "webhooks are not available in this shopguard")

func (s *Server) getWebhooks(w http.ResponseWriter, r *http.Request, key apikey.Key, hooks Webhooks) error {
	ws, err := hooks.Webhooks(r.Context(), key.Tenant)
	if err != nil {
		return err
	}
	out := make([]webhookJSON, len(ws))
	for i, wh := range ws {
		out[i] = toWebhookJSON(wh, false)
	}
	writeJSON(w, http.StatusOK, map[string][]webhookJSON{"webhooks": out})
	return nil
}

func (s *Server) getWebhookTypes(w http.ResponseWriter, _ *http.Request, _ apikey.Key, hooks Webhooks) error {
	writeJSON(w, http.StatusOK, map[string][]notify.TypeInfo{"types": hooks.Types()})
	return nil
}

func (s *Server) postWebhook(w http.ResponseWriter, r *http.Request, key apikey.Key, hooks Webhooks) error {
	var in notify.WebhookInput
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &in); err != nil {
		return err
	}
	wh, err := hooks.CreateWebhook(r.Context(), key.Tenant, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toWebhookJSON(wh, true))
	return nil
}

func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request, key apikey.Key, hooks Webhooks) error {
	wh, err := hooks.Webhook(r.Context(), key.Tenant, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toWebhookJSON(wh, false))
	return nil
}

func (s *Server) patchWebhook(w http.ResponseWriter, r *http.Request, key apikey.Key, hooks Webhooks) error {
	var p notify.WebhookPatch
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &p); err != nil {
		return err
	}
	wh, err := hooks.UpdateWebhook(r.Context(), key.Tenant, r.PathValue("id"), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toWebhookJSON(wh, false))
	return nil
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request, key apikey.Key, hooks Webhooks) error {
	if err := hooks.DeleteWebhook(r.Context(), key.Tenant, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) rotateWebhook(w http.ResponseWriter, r *http.Request, key apikey.Key, hooks Webhooks) error {
	wh, err := hooks.RotateSecret(r.Context(), key.Tenant, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toWebhookJSON(wh, true))
	return nil
}

func (s *Server) testWebhook(w http.ResponseWriter, r *http.Request, key apikey.Key, hooks Webhooks) error {
	d, err := hooks.SendTest(r.Context(), key.Tenant, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, toDeliveryJSON(d))
	return nil
}

// maxDeliveries caps the deliveries one listing returns.
const maxDeliveries = 500

func (s *Server) getDeliveries(w http.ResponseWriter, r *http.Request, key apikey.Key, hooks Webhooks) error {
	limit := 50
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxDeliveries {
			return risk.Invalid("limit", "must be a whole number in 1..%d", maxDeliveries)
		}
		limit = n
	}
	ds, err := hooks.Deliveries(r.Context(), key.Tenant, r.PathValue("id"), limit)
	if err != nil {
		return err
	}
	out := make([]deliveryJSON, len(ds))
	for i, d := range ds {
		out[i] = toDeliveryJSON(d)
	}
	writeJSON(w, http.StatusOK, map[string][]deliveryJSON{"deliveries": out})
	return nil
}

func (s *Server) retryDelivery(w http.ResponseWriter, r *http.Request, key apikey.Key, hooks Webhooks) error {
	d, err := hooks.RetryDelivery(r.Context(), key.Tenant, r.PathValue("id"), r.PathValue("delivery"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, toDeliveryJSON(d))
	return nil
}
