package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/shopguard/shopguard/internal/storage"
)

const webhookColumns = `tenant, id, url, types, description, secret, previous_secret, previous_until, disabled, created_at, updated_at`

// CreateWebhook implements storage.WebhookStore.
func (s *Store) CreateWebhook(ctx context.Context, w storage.Webhook) error {
	types, err := json.Marshal(w.Types)
	if err != nil {
		return fmt.Errorf("sqlite: create webhook: %w", err)
	}
	return s.exec(ctx, "create webhook", isConflict("webhook "+w.ID),
		`INSERT INTO webhooks (`+webhookColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		w.Tenant, w.ID, w.URL, string(types), w.Description, w.Secret, w.PreviousSecret, optMicros(w.PreviousUntil),
		w.Disabled, micros(w.CreatedAt), micros(w.UpdatedAt))
}

// Webhook implements storage.WebhookStore.
func (s *Store) Webhook(ctx context.Context, tenant, id string) (storage.Webhook, error) {
	ws, err := s.webhooks(ctx, "WHERE tenant = ? AND id = ?", tenant, id)
	if err != nil {
		return storage.Webhook{}, err
	}
	if len(ws) == 0 {
		return storage.Webhook{}, fmt.Errorf("%w: webhook %q", storage.ErrNotFound, id)
	}
	return ws[0], nil
}

// Webhooks implements storage.WebhookStore.
func (s *Store) Webhooks(ctx context.Context, tenant string) ([]storage.Webhook, error) {
	if tenant == "" {
		return s.webhooks(ctx, "ORDER BY created_at, id")
	}
	return s.webhooks(ctx, "WHERE tenant = ? ORDER BY created_at, id", tenant)
}

func (s *Store) webhooks(ctx context.Context, where string, args ...any) ([]storage.Webhook, error) {
	if err := s.isClosed(); err != nil {
		return nil, err
	}
	rows, err := s.read.QueryContext(ctx, "SELECT "+webhookColumns+" FROM webhooks "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read webhooks: %w", err)
	}
	defer rows.Close()
	var out []storage.Webhook
	for rows.Next() {
		var w storage.Webhook
		var types string
		var until, created, updated int64
		if err := rows.Scan(&w.Tenant, &w.ID, &w.URL, &types, &w.Description, &w.Secret, &w.PreviousSecret,
			&until, &w.Disabled, &created, &updated); err != nil {
			return nil, fmt.Errorf("sqlite: read webhooks: %w", err)
		}
		if err := json.Unmarshal([]byte(types), &w.Types); err != nil {
			return nil, fmt.Errorf("sqlite: read webhook %s types: %w", w.ID, err)
		}
		w.PreviousUntil, w.CreatedAt, w.UpdatedAt = fromOptMicros(until), fromMicros(created), fromMicros(updated)
		out = append(out, w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read webhooks: %w", err)
	}
	return out, nil
}

// UpdateWebhook implements storage.WebhookStore.
func (s *Store) UpdateWebhook(ctx context.Context, w storage.Webhook) error {
	types, err := json.Marshal(w.Types)
	if err != nil {
		return fmt.Errorf("sqlite: update webhook: %w", err)
	}
	return s.execOne(ctx, fmt.Sprintf("webhook %q", w.ID),
		`UPDATE webhooks SET url = ?, types = ?, description = ?, secret = ?, previous_secret = ?, previous_until = ?,
		disabled = ?, updated_at = ? WHERE tenant = ? AND id = ?`,
		w.URL, string(types), w.Description, w.Secret, w.PreviousSecret, optMicros(w.PreviousUntil),
		w.Disabled, micros(w.UpdatedAt), w.Tenant, w.ID)
}

// DeleteWebhook implements storage.WebhookStore.
func (s *Store) DeleteWebhook(ctx context.Context, tenant, id string) error {
	return s.inTx(ctx, "delete webhook", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM webhooks WHERE tenant = ? AND id = ?`, tenant, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: webhook %q", storage.ErrNotFound, id)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM deliveries WHERE tenant = ? AND webhook_id = ?`, tenant, id)
		return err
	})
}

// inTx runs fn in a write transaction, committing when it returns nil.
// Errors that already wrap a storage sentinel are returned as they are.
func (s *Store) inTx(ctx context.Context, what string, fn func(tx *sql.Tx) error) error {
	if err := s.isClosed(); err != nil {
		return err
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", what, err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrConflict) {
			return err
		}
		return fmt.Errorf("sqlite: %s: %w", what, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: %s: %w", what, err)
	}
	return nil
}

// NotifyCursor implements storage.WebhookStore.
func (s *Store) NotifyCursor(ctx context.Context) (int64, bool, error) {
	if err := s.isClosed(); err != nil {
		return 0, false, err
	}
	var seq int64
	err := s.read.QueryRowContext(ctx, `SELECT seq FROM notify_cursor WHERE one = 1`).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("sqlite: read notification cursor: %w", err)
	}
	return seq, true, nil
}

// AddDeliveries implements storage.WebhookStore.
func (s *Store) AddDeliveries(ctx context.Context, ds []storage.Delivery, move *storage.CursorMove) (int, error) {
	added := 0
	err := s.inTx(ctx, "add deliveries", func(tx *sql.Tx) error {
		if move != nil {
			var at int64
			err := tx.QueryRowContext(ctx, `SELECT seq FROM notify_cursor WHERE one = 1`).Scan(&at)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if at != move.From {
				return fmt.Errorf("%w: the notification cursor is at %d, not %d", storage.ErrConflict, at, move.From)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO notify_cursor (one, seq) VALUES (1, ?)
				ON CONFLICT (one) DO UPDATE SET seq = excluded.seq`, move.To); err != nil {
				return err
			}
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO deliveries (tenant, id, webhook_id, type, event_id, dedupe_key, payload,
			created_at, attempts, next_attempt_at, last_attempt_at, last_status, last_error, delivered_at, failed_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (webhook_id, dedupe_key) WHERE dedupe_key != '' DO NOTHING`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, d := range ds {
			res, err := stmt.ExecContext(ctx, d.Tenant, d.ID, d.WebhookID, d.Type, d.EventID, d.DedupeKey, []byte(d.Payload),
				micros(d.CreatedAt), d.Attempts, optMicros(d.NextAttemptAt), optMicros(d.LastAttemptAt), d.LastStatus,
				d.LastError, optMicros(d.DeliveredAt), optMicros(d.FailedAt))
			if isUnique(err) {
				return fmt.Errorf("%w: delivery %s exists", storage.ErrConflict, d.ID)
			}
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			added += int(n)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return added, nil
}

const deliveryColumns = `tenant, id, webhook_id, type, event_id, dedupe_key, payload, created_at, attempts,
	next_attempt_at, last_attempt_at, last_status, last_error, delivered_at, failed_at`

func scanDelivery(sc scanner, d *storage.Delivery) error {
	var payload []byte
	var created, next, last, delivered, failed int64
	if err := sc.Scan(&d.Tenant, &d.ID, &d.WebhookID, &d.Type, &d.EventID, &d.DedupeKey, &payload, &created, &d.Attempts,
		&next, &last, &d.LastStatus, &d.LastError, &delivered, &failed); err != nil {
		return err
	}
	d.Payload = payload
	d.CreatedAt, d.NextAttemptAt, d.LastAttemptAt = fromMicros(created), fromOptMicros(next), fromOptMicros(last)
	d.DeliveredAt, d.FailedAt = fromOptMicros(delivered), fromOptMicros(failed)
	return nil
}

func collectDeliveries(rows *sql.Rows) ([]storage.Delivery, error) {
	defer rows.Close()
	var out []storage.Delivery
	for rows.Next() {
		var d storage.Delivery
		if err := scanDelivery(rows, &d); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// ClaimDeliveries implements storage.WebhookStore.
func (s *Store) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]storage.Delivery, error) {
	var out []storage.Delivery
	err := s.inTx(ctx, "claim deliveries", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries
			WHERE next_attempt_at != 0 AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?`, micros(now), limit)
		if err != nil {
			return err
		}
		if out, err = collectDeliveries(rows); err != nil {
			return err
		}
		for _, d := range out {
			if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET next_attempt_at = ? WHERE tenant = ? AND id = ?`,
				micros(now.Add(lease)), d.Tenant, d.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RecordAttempt implements storage.WebhookStore.
func (s *Store) RecordAttempt(ctx context.Context, d storage.Delivery) error {
	return s.exec(ctx, "record delivery attempt", nil,
		`UPDATE deliveries SET attempts = ?, next_attempt_at = ?, last_attempt_at = ?, last_status = ?, last_error = ?,
		delivered_at = ?, failed_at = ? WHERE tenant = ? AND id = ?`,
		d.Attempts, optMicros(d.NextAttemptAt), optMicros(d.LastAttemptAt), d.LastStatus, d.LastError,
		optMicros(d.DeliveredAt), optMicros(d.FailedAt), d.Tenant, d.ID)
}

// Delivery implements storage.WebhookStore.
func (s *Store) Delivery(ctx context.Context, tenant, id string) (storage.Delivery, error) {
	if err := s.isClosed(); err != nil {
		return storage.Delivery{}, err
	}
	var d storage.Delivery
	err := scanDelivery(s.read.QueryRowContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE tenant = ? AND id = ?`, tenant, id), &d)
	if errors.Is(err, sql.ErrNoRows) {
		return storage.Delivery{}, fmt.Errorf("%w: delivery %q", storage.ErrNotFound, id)
	}
	if err != nil {
		return storage.Delivery{}, fmt.Errorf("sqlite: read delivery: %w", err)
	}
	return d, nil
}

// Deliveries implements storage.WebhookStore.
func (s *Store) Deliveries(ctx context.Context, tenant, webhookID string, limit int) ([]storage.Delivery, error) {
	if err := s.isClosed(); err != nil {
		return nil, err
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries
		WHERE tenant = ? AND webhook_id = ? ORDER BY created_at DESC, id DESC LIMIT ?`, tenant, webhookID, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read deliveries: %w", err)
	}
	out, err := collectDeliveries(rows)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read deliveries: %w", err)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].CreatedAt.After(out[j].CreatedAt) })
	return out, nil
}

// RetryDelivery implements storage.WebhookStore.
func (s *Store) RetryDelivery(ctx context.Context, tenant, id string, at time.Time) error {
	return s.execOne(ctx, fmt.Sprintf("delivery %q", id),
		`UPDATE deliveries SET next_attempt_at = ?, delivered_at = 0, failed_at = 0 WHERE tenant = ? AND id = ?`,
		micros(at), tenant, id)
}

// PruneDeliveries implements storage.WebhookStore.
func (s *Store) PruneDeliveries(ctx context.Context, before time.Time) (int, error) {
	if err := s.isClosed(); err != nil {
		return 0, err
	}
	res, err := s.write.ExecContext(ctx, `DELETE FROM deliveries WHERE next_attempt_at = 0
		AND ((delivered_at != 0 AND delivered_at < ?) OR (delivered_at = 0 AND failed_at != 0 AND failed_at < ?))`,
		micros(before), micros(before))
	if err != nil {
		return 0, fmt.Errorf("sqlite: prune deliveries: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
