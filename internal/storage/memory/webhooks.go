package memory

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/shopguard/shopguard/internal/storage"
)

// webhooks holds endpoints and their outbox; Store's mutex guards it.
type webhooks struct {
	hooks      map[tenantID]*storage.Webhook
	deliveries map[tenantID]*storage.Delivery
	// dedupe holds "webhook id|dedupe key" of every kept delivery.
	dedupe    map[string]struct{}
	cursor    int64
	cursorSet bool
}

func newWebhooks() webhooks {
	return webhooks{hooks: map[tenantID]*storage.Webhook{}, deliveries: map[tenantID]*storage.Delivery{}, dedupe: map[string]struct{}{}}
}

func copyWebhook(w *storage.Webhook) storage.Webhook {
	c := *w
	c.Types = slices.Clone(w.Types)
	return c
}

func copyDelivery(d *storage.Delivery) storage.Delivery {
	c := *d
	c.Payload = slices.Clone(d.Payload)
	return c
}

// CreateWebhook implements storage.WebhookStore.
func (s *Store) CreateWebhook(_ context.Context, w storage.Webhook) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return err
	}
	for k := range s.hooks {
		if k.id == w.ID {
			return fmt.Errorf("%w: webhook %s exists", storage.ErrConflict, w.ID)
		}
	}
	c := copyWebhook(&w)
	s.hooks[tenantID{w.Tenant, w.ID}] = &c
	return nil
}

// Webhook implements storage.WebhookStore.
func (s *Store) Webhook(_ context.Context, tenant, id string) (storage.Webhook, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(); err != nil {
		return storage.Webhook{}, err
	}
	w, ok := s.hooks[tenantID{tenant, id}]
	if !ok {
		return storage.Webhook{}, fmt.Errorf("%w: webhook %q", storage.ErrNotFound, id)
	}
	return copyWebhook(w), nil
}

// Webhooks implements storage.WebhookStore.
func (s *Store) Webhooks(_ context.Context, tenant string) ([]storage.Webhook, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(); err != nil {
		return nil, err
	}
	var out []storage.Webhook
	for k, w := range s.hooks {
		if tenant == "" || k.tenant == tenant {
			out = append(out, copyWebhook(w))
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// UpdateWebhook implements storage.WebhookStore.
func (s *Store) UpdateWebhook(_ context.Context, w storage.Webhook) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return err
	}
	old, ok := s.hooks[tenantID{w.Tenant, w.ID}]
	if !ok {
		return fmt.Errorf("%w: webhook %q", storage.ErrNotFound, w.ID)
	}
	c := copyWebhook(&w)
	c.CreatedAt = old.CreatedAt
	s.hooks[tenantID{w.Tenant, w.ID}] = &c
	return nil
}

// DeleteWebhook implements storage.WebhookStore.
func (s *Store) DeleteWebhook(_ context.Context, tenant, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return err
	}
	if _, ok := s.hooks[tenantID{tenant, id}]; !ok {
		return fmt.Errorf("%w: webhook %q", storage.ErrNotFound, id)
	}
	delete(s.hooks, tenantID{tenant, id})
	for k, d := range s.deliveries {
		if k.tenant == tenant && d.WebhookID == id {
			s.dropDelivery(k, d)
		}
	}
	return nil
}

func (s *Store) dropDelivery(k tenantID, d *storage.Delivery) {
	delete(s.deliveries, k)
	if d.DedupeKey != "" {
		delete(s.dedupe, d.WebhookID+"|"+d.DedupeKey)
	}
}

// NotifyCursor implements storage.WebhookStore.
func (s *Store) NotifyCursor(_ context.Context) (int64, bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(); err != nil {
		return 0, false, err
	}
	return s.cursor, s.cursorSet, nil
}

// AddDeliveries implements storage.WebhookStore.
func (s *Store) AddDeliveries(_ context.Context, ds []storage.Delivery, move *storage.CursorMove) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return 0, err
	}
	if move != nil && s.cursor != move.From {
		return 0, fmt.Errorf("%w: the notification cursor is at %d, not %d", storage.ErrConflict, s.cursor, move.From)
	}
	for _, d := range ds {
		if _, ok := s.deliveries[tenantID{d.Tenant, d.ID}]; ok {
			return 0, fmt.Errorf("%w: delivery %s exists", storage.ErrConflict, d.ID)
		}
	}
	added := 0
	for _, d := range ds {
		if d.DedupeKey != "" {
			dk := d.WebhookID + "|" + d.DedupeKey
			if _, dup := s.dedupe[dk]; dup {
				continue
			}
			s.dedupe[dk] = struct{}{}
		}
		c := copyDelivery(&d)
		s.deliveries[tenantID{d.Tenant, d.ID}] = &c
		added++
	}
	if move != nil {
		s.cursor, s.cursorSet = move.To, true
	}
	return added, nil
}

// ClaimDeliveries implements storage.WebhookStore.
func (s *Store) ClaimDeliveries(_ context.Context, now time.Time, lease time.Duration, limit int) ([]storage.Delivery, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return nil, err
	}
	var due []*storage.Delivery
	for _, d := range s.deliveries {
		if !d.NextAttemptAt.IsZero() && !d.NextAttemptAt.After(now) {
			due = append(due, d)
		}
	}
	sort.Slice(due, func(i, j int) bool {
		if !due[i].NextAttemptAt.Equal(due[j].NextAttemptAt) {
			return due[i].NextAttemptAt.Before(due[j].NextAttemptAt)
		}
		return due[i].ID < due[j].ID
	})
	if len(due) > limit {
		due = due[:limit]
	}
	out := make([]storage.Delivery, len(due))
	for i, d := range due {
		out[i] = copyDelivery(d)
		d.NextAttemptAt = now.Add(lease)
	}
	return out, nil
}

// RecordAttempt implements storage.WebhookStore.
func (s *Store) RecordAttempt(_ context.Context, d storage.Delivery) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return err
	}
	c, ok := s.deliveries[tenantID{d.Tenant, d.ID}]
	if !ok {
		return nil
	}
	c.Attempts, c.NextAttemptAt, c.LastAttemptAt = d.Attempts, d.NextAttemptAt, d.LastAttemptAt
	c.LastStatus, c.LastError, c.DeliveredAt, c.FailedAt = d.LastStatus, d.LastError, d.DeliveredAt, d.FailedAt
	return nil
}

// Delivery implements storage.WebhookStore.
func (s *Store) Delivery(_ context.Context, tenant, id string) (storage.Delivery, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(); err != nil {
		return storage.Delivery{}, err
	}
	d, ok := s.deliveries[tenantID{tenant, id}]
	if !ok {
		return storage.Delivery{}, fmt.Errorf("%w: delivery %q", storage.ErrNotFound, id)
	}
	return copyDelivery(d), nil
}

// Deliveries implements storage.WebhookStore.
func (s *Store) Deliveries(_ context.Context, tenant, webhookID string, limit int) ([]storage.Delivery, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(); err != nil {
		return nil, err
	}
	var out []storage.Delivery
	for k, d := range s.deliveries {
		if k.tenant == tenant && d.WebhookID == webhookID {
			out = append(out, copyDelivery(d))
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.After(out[j].CreatedAt)
		}
		return out[i].ID > out[j].ID
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// RetryDelivery implements storage.WebhookStore.
func (s *Store) RetryDelivery(_ context.Context, tenant, id string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return err
	}
	d, ok := s.deliveries[tenantID{tenant, id}]
	if !ok {
		return fmt.Errorf("%w: delivery %q", storage.ErrNotFound, id)
	}
	d.NextAttemptAt, d.DeliveredAt, d.FailedAt = at, time.Time{}, time.Time{}
	return nil
}

// PruneDeliveries implements storage.WebhookStore.
func (s *Store) PruneDeliveries(_ context.Context, before time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return 0, err
	}
	n := 0
	for k, d := range s.deliveries {
		done := d.DeliveredAt
		if done.IsZero() {
			done = d.FailedAt
		}
		if d.NextAttemptAt.IsZero() && !done.IsZero() && done.Before(before) {
			s.dropDelivery(k, d)
			n++
		}
	}
	return n, nil
}
