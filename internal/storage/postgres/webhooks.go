package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/shopguard/shopguard/internal/storage"
)

const webhookColumns = `tenant, id, url, types, description, secret, previous_secret, previous_until, disabled, created_at, updated_at`

// CreateWebhook implements storage.WebhookStore.
func (s *Store) CreateWebhook(ctx context.Context, w storage.Webhook) error {
	types, err := json.Marshal(w.Types)
	if err != nil {
		return wrap("create webhook", err)
	}
	return s.exec(ctx, "create webhook", isConflict("webhook "+w.ID),
		`INSERT INTO webhooks (`+webhookColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		w.Tenant, w.ID, w.URL, string(types), w.Description, w.Secret, w.PreviousSecret, micros(w.PreviousUntil),
		w.Disabled, micros(w.CreatedAt), micros(w.UpdatedAt))
}

// Webhook implements storage.WebhookStore.
func (s *Store) Webhook(ctx context.Context, tenant, id string) (storage.Webhook, error) {
	ws, err := s.webhooks(ctx, "WHERE tenant = $1 AND id = $2", tenant, id)
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
	return s.webhooks(ctx, "WHERE tenant = $1 ORDER BY created_at, id", tenant)
}

// webhooks reads the endpoints that where (a WHERE and/or ORDER BY clause) selects.
func (s *Store) webhooks(ctx context.Context, where string, args ...any) ([]storage.Webhook, error) {
	if err := s.isClosed(); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, "SELECT "+webhookColumns+" FROM webhooks "+where, args...)
	if err != nil {
		return nil, wrap("read webhooks", err)
	}
	defer rows.Close()
	var out []storage.Webhook
	for rows.Next() {
		var w storage.Webhook
		var types string
		var until, created, updated int64
		if err := rows.Scan(&w.Tenant, &w.ID, &w.URL, &types, &w.Description, &w.Secret, &w.PreviousSecret,
			&until, &w.Disabled, &created, &updated); err != nil {
			return nil, wrap("read webhooks", err)
		}
		if err := json.Unmarshal([]byte(types), &w.Types); err != nil {
			return nil, fmt.Errorf("postgres: read webhook %s types: %w", w.ID, err)
		}
		w.PreviousUntil, w.CreatedAt, w.UpdatedAt = fromMicros(until), fromMicros(created), fromMicros(updated)
		out = append(out, w)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("read webhooks", err)
	}
	return out, nil
}

// UpdateWebhook implements storage.WebhookStore.
func (s *Store) UpdateWebhook(ctx context.Context, w storage.Webhook) error {
	types, err := json.Marshal(w.Types)
	if err != nil {
		return wrap("update webhook", err)
	}
	return s.execOne(ctx, fmt.Sprintf("webhook %q", w.ID),
		`UPDATE webhooks SET url = $1, types = $2, description = $3, secret = $4, previous_secret = $5, previous_until = $6,
		disabled = $7, updated_at = $8 WHERE tenant = $9 AND id = $10`,
		w.URL, string(types), w.Description, w.Secret, w.PreviousSecret, micros(w.PreviousUntil),
		w.Disabled, micros(w.UpdatedAt), w.Tenant, w.ID)
}

// DeleteWebhook implements storage.WebhookStore.
func (s *Store) DeleteWebhook(ctx context.Context, tenant, id string) error {
	return s.inTx(ctx, "delete webhook", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM webhooks WHERE tenant = $1 AND id = $2`, tenant, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("%w: webhook %q", storage.ErrNotFound, id)
		}
		_, err = tx.Exec(ctx, `DELETE FROM deliveries WHERE tenant = $1 AND webhook_id = $2`, tenant, id)
		return err
	})
}

// NotifyCursor implements storage.WebhookStore.
func (s *Store) NotifyCursor(ctx context.Context) (int64, bool, error) {
	if err := s.isClosed(); err != nil {
		return 0, false, err
	}
	var seq int64
	err := s.pool.QueryRow(ctx, `SELECT seq FROM notify_cursor WHERE one = 1`).Scan(&seq)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, wrap("read notification cursor", err)
	}
	return seq, true, nil
}

// moveCursor moves the notification cursor from move.From to move.To in
// tx, a compare-and-set: the row stays locked until tx ends, and a
// concurrent mover that read the same cursor waits, then finds it moved
// (READ COMMITTED re-checks the condition on the row's latest version).
// An unset cursor counts as 0; the insert of the first one is arbitrated
// by the primary key, so two first movers cannot both succeed.
func moveCursor(ctx context.Context, tx pgx.Tx, move *storage.CursorMove) error {
	var tag pgconn.CommandTag
	var err error
	if move.From == 0 {
		tag, err = tx.Exec(ctx, `INSERT INTO notify_cursor AS c (one, seq) VALUES (1, $1)
			ON CONFLICT (one) DO UPDATE SET seq = excluded.seq WHERE c.seq = 0`, move.To)
	} else {
		tag, err = tx.Exec(ctx, `UPDATE notify_cursor SET seq = $1 WHERE one = 1 AND seq = $2`, move.To, move.From)
	}
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var at int64
	err = tx.QueryRow(ctx, `SELECT seq FROM notify_cursor WHERE one = 1`).Scan(&at)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	return fmt.Errorf("%w: the notification cursor is at %d, not %d", storage.ErrConflict, at, move.From)
}

// AddDeliveries implements storage.WebhookStore. The cursor is moved
// first, so that of several instances' notifiers that read the same
// cursor only one adds its deliveries; the others get ErrConflict and
// add nothing.
func (s *Store) AddDeliveries(ctx context.Context, ds []storage.Delivery, move *storage.CursorMove) (int, error) {
	added := 0
	err := s.inTx(ctx, "add deliveries", func(tx pgx.Tx) error {
		if move != nil {
			if err := moveCursor(ctx, tx, move); err != nil {
				return err
			}
		}
		if len(ds) == 0 {
			return nil
		}
		b := &pgx.Batch{}
		for _, d := range ds {
			b.Queue(`INSERT INTO deliveries (tenant, id, webhook_id, type, event_id, dedupe_key, payload,
				created_at, attempts, next_attempt_at, last_attempt_at, last_status, last_error, delivered_at, failed_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
				ON CONFLICT (webhook_id, dedupe_key) WHERE dedupe_key <> '' DO NOTHING`,
				d.Tenant, d.ID, d.WebhookID, d.Type, d.EventID, d.DedupeKey, []byte(d.Payload),
				micros(d.CreatedAt), d.Attempts, micros(d.NextAttemptAt), micros(d.LastAttemptAt), d.LastStatus,
				d.LastError, micros(d.DeliveredAt), micros(d.FailedAt))
		}
		res := tx.SendBatch(ctx, b)
		for _, d := range ds {
			tag, err := res.Exec()
			if isUnique(err) {
				res.Close()
				return fmt.Errorf("%w: delivery %s exists", storage.ErrConflict, d.ID)
			}
			if err != nil {
				res.Close()
				return err
			}
			added += int(tag.RowsAffected())
		}
		return res.Close()
	})
	if err != nil {
		return 0, err
	}
	return added, nil
}

const deliveryColumns = `tenant, id, webhook_id, type, event_id, dedupe_key, payload, created_at, attempts,
	next_attempt_at, last_attempt_at, last_status, last_error, delivered_at, failed_at`

// scanDelivery reads deliveryColumns into d.
func scanDelivery(sc scanner, d *storage.Delivery) error {
	var payload []byte
	var created, next, last, delivered, failed int64
	if err := sc.Scan(&d.Tenant, &d.ID, &d.WebhookID, &d.Type, &d.EventID, &d.DedupeKey, &payload, &created, &d.Attempts,
		&next, &last, &d.LastStatus, &d.LastError, &delivered, &failed); err != nil {
		return err
	}
	d.Payload = payload
	d.CreatedAt, d.NextAttemptAt, d.LastAttemptAt = fromMicros(created), fromMicros(next), fromMicros(last)
	d.DeliveredAt, d.FailedAt = fromMicros(delivered), fromMicros(failed)
	return nil
}

// collectDeliveries reads every row of rows and closes them.
func collectDeliveries(rows pgx.Rows) ([]storage.Delivery, error) {
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

// ClaimDeliveries implements storage.WebhookStore. One statement picks
// the due deliveries with FOR UPDATE SKIP LOCKED and pushes them back by
// the lease: instances claiming at once get disjoint deliveries, and a row
// another claim changed meanwhile is re-checked before it is taken. The
// deliveries are returned as they were before the claim (NextAttemptAt
// still the time they were due).
func (s *Store) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]storage.Delivery, error) {
	if err := s.isClosed(); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `WITH due AS (
			SELECT tenant, id, next_attempt_at FROM deliveries
			WHERE next_attempt_at <> 0 AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2
			FOR UPDATE SKIP LOCKED
		)
		UPDATE deliveries d SET next_attempt_at = $3 FROM due WHERE d.tenant = due.tenant AND d.id = due.id
		RETURNING d.tenant, d.id, d.webhook_id, d.type, d.event_id, d.dedupe_key, d.payload, d.created_at, d.attempts,
			due.next_attempt_at, d.last_attempt_at, d.last_status, d.last_error, d.delivered_at, d.failed_at`,
		micros(now), max(limit, 0), micros(now.Add(lease)))
	if err != nil {
		return nil, wrap("claim deliveries", err)
	}
	out, err := collectDeliveries(rows)
	if err != nil {
		return nil, wrap("claim deliveries", err)
	}
	// RETURNING keeps no order: the earliest due first, as selected.
	sort.Slice(out, func(i, j int) bool {
		if !out[i].NextAttemptAt.Equal(out[j].NextAttemptAt) {
			return out[i].NextAttemptAt.Before(out[j].NextAttemptAt)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// RecordAttempt implements storage.WebhookStore.
func (s *Store) RecordAttempt(ctx context.Context, d storage.Delivery) error {
	return s.exec(ctx, "record delivery attempt", nil,
		`UPDATE deliveries SET attempts = $1, next_attempt_at = $2, last_attempt_at = $3, last_status = $4, last_error = $5,
		delivered_at = $6, failed_at = $7 WHERE tenant = $8 AND id = $9`,
		d.Attempts, micros(d.NextAttemptAt), micros(d.LastAttemptAt), d.LastStatus, d.LastError,
		micros(d.DeliveredAt), micros(d.FailedAt), d.Tenant, d.ID)
}

// Delivery implements storage.WebhookStore.
func (s *Store) Delivery(ctx context.Context, tenant, id string) (storage.Delivery, error) {
	if err := s.isClosed(); err != nil {
		return storage.Delivery{}, err
	}
	var d storage.Delivery
	err := scanDelivery(s.pool.QueryRow(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE tenant = $1 AND id = $2`, tenant, id), &d)
	if err != nil {
		return storage.Delivery{}, notFound(err, fmt.Sprintf("delivery %q", id))
	}
	return d, nil
}

// Deliveries implements storage.WebhookStore.
func (s *Store) Deliveries(ctx context.Context, tenant, webhookID string, limit int) ([]storage.Delivery, error) {
	if err := s.isClosed(); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT `+deliveryColumns+` FROM deliveries
		WHERE tenant = $1 AND webhook_id = $2 ORDER BY created_at DESC, id DESC LIMIT $3`, tenant, webhookID, max(limit, 0))
	if err != nil {
		return nil, wrap("read deliveries", err)
	}
	out, err := collectDeliveries(rows)
	if err != nil {
		return nil, wrap("read deliveries", err)
	}
	return out, nil
}

// RetryDelivery implements storage.WebhookStore.
func (s *Store) RetryDelivery(ctx context.Context, tenant, id string, at time.Time) error {
	return s.execOne(ctx, fmt.Sprintf("delivery %q", id),
		`UPDATE deliveries SET next_attempt_at = $1, delivered_at = 0, failed_at = 0 WHERE tenant = $2 AND id = $3`,
		micros(at), tenant, id)
}

// PruneDeliveries implements storage.WebhookStore.
func (s *Store) PruneDeliveries(ctx context.Context, before time.Time) (int, error) {
	if err := s.isClosed(); err != nil {
		return 0, err
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM deliveries WHERE next_attempt_at = 0
		AND ((delivered_at <> 0 AND delivered_at < $1) OR (delivered_at = 0 AND failed_at <> 0 AND failed_at < $1))`,
		micros(before))
	if err != nil {
		return 0, wrap("prune deliveries", err)
	}
	return int(tag.RowsAffected()), nil
}
