package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shopguard/shopguard/internal/storage"
)

const outboundColumns = `tenant, id, channel, recipient_hash, user_id, template, summary, links, code, sent_at, created_at`

func scanOutbound(sc scanner, m *storage.OutboundMessage) error {
	var links string
	var sent, created int64
	if err := sc.Scan(&m.Tenant, &m.ID, &m.Channel, &m.RecipientHash, &m.UserID, &m.Template, &m.Summary, &links, &m.Code,
		&sent, &created); err != nil {
		return err
	}
	var err error
	if m.Links, err = readStringList(links); err != nil {
		return err
	}
	m.SentAt, m.CreatedAt = fromMicros(sent), fromMicros(created)
	return nil
}

// CreateOutbound implements storage.OutboundStore.
func (s *Store) CreateOutbound(ctx context.Context, m storage.OutboundMessage) error {
	if err := m.Validate(); err != nil {
		return err
	}
	links, err := stringList(m.Links)
	if err != nil {
		return fmt.Errorf("sqlite: register outbound message: %w", err)
	}
	return s.inTx(ctx, "register outbound message", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO outbound_messages (`+outboundColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			m.Tenant, m.ID, m.Channel, m.RecipientHash, m.UserID, m.Template, m.Summary, links, m.Code,
			micros(m.SentAt), micros(m.CreatedAt)); err != nil {
			if isUnique(err) {
				return fmt.Errorf("%w: outbound message %s or code %s exists", storage.ErrConflict, m.ID, m.Code)
			}
			return err
		}
		for _, l := range m.Links {
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO outbound_links (tenant, link, sent_at, id) VALUES (?, ?, ?, ?)`,
				m.Tenant, l, micros(m.SentAt), m.ID); err != nil {
				return err
			}
		}
		return nil
	})
}

// Outbound implements storage.OutboundStore.
func (s *Store) Outbound(ctx context.Context, tenant, id string) (storage.OutboundMessage, error) {
	return s.oneOutbound(ctx, `id = ?`, tenant, id, "outbound message "+id)
}

// OutboundByCode implements storage.OutboundStore.
func (s *Store) OutboundByCode(ctx context.Context, tenant, code string) (storage.OutboundMessage, error) {
	return s.oneOutbound(ctx, `code = ?`, tenant, code, "outbound message with code "+code)
}

func (s *Store) oneOutbound(ctx context.Context, where, tenant, value, what string) (storage.OutboundMessage, error) {
	if err := s.isClosed(); err != nil {
		return storage.OutboundMessage{}, err
	}
	var m storage.OutboundMessage
	err := scanOutbound(s.read.QueryRowContext(ctx, `SELECT `+outboundColumns+` FROM outbound_messages WHERE tenant = ? AND `+where,
		tenant, value), &m)
	if errors.Is(err, sql.ErrNoRows) {
		return storage.OutboundMessage{}, fmt.Errorf("%w: %s", storage.ErrNotFound, what)
	}
	if err != nil {
		return storage.OutboundMessage{}, fmt.Errorf("sqlite: read outbound message: %w", err)
	}
	return m, nil
}

// OutboundByLink implements storage.OutboundStore.
func (s *Store) OutboundByLink(ctx context.Context, tenant, link string, limit int) ([]storage.OutboundMessage, error) {
	query := `SELECT ` + prefixed("m.", outboundColumns) + ` FROM outbound_links l
		JOIN outbound_messages m ON m.tenant = l.tenant AND m.id = l.id
		WHERE l.tenant = ? AND l.link = ? ORDER BY l.sent_at DESC, l.id DESC`
	args := []any{tenant, link}
	if limit > 0 {
		query += ` LIMIT ?`
		args = append(args, limit)
	}
	return s.outboundRows(ctx, query, args...)
}

// OutboundMessages implements storage.OutboundStore.
func (s *Store) OutboundMessages(ctx context.Context, q storage.OutboundQuery) ([]storage.OutboundMessage, error) {
	if q.UserID == "" && q.RecipientHash == "" {
		return nil, s.isClosed()
	}
	// Each branch uses its partial index; UNION drops a message both match.
	var parts []string
	var args []any
	for _, c := range []struct{ col, v string }{{"user_id", q.UserID}, {"recipient_hash", q.RecipientHash}} {
		if c.v == "" {
			continue
		}
		parts = append(parts, `SELECT `+outboundColumns+` FROM outbound_messages WHERE tenant = ? AND `+c.col+` = ? AND `+c.col+` <> '' AND sent_at >= ?`)
		args = append(args, q.Tenant, c.v, optMicros(q.Since))
	}
	query := parts[0]
	if len(parts) == 2 {
		query += ` UNION ` + parts[1]
	}
	query += ` ORDER BY sent_at DESC, id DESC`
	if q.Limit > 0 {
		query += ` LIMIT ?`
		args = append(args, q.Limit)
	}
	return s.outboundRows(ctx, query, args...)
}

func (s *Store) outboundRows(ctx context.Context, query string, args ...any) ([]storage.OutboundMessage, error) {
	if err := s.isClosed(); err != nil {
		return nil, err
	}
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read outbound messages: %w", err)
	}
	defer rows.Close()
	var out []storage.OutboundMessage
	for rows.Next() {
		var m storage.OutboundMessage
		if err := scanOutbound(rows, &m); err != nil {
			return nil, fmt.Errorf("sqlite: read outbound messages: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read outbound messages: %w", err)
	}
	return out, nil
}

// PurgeOutbound implements storage.OutboundStore.
func (s *Store) PurgeOutbound(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := s.inTx(ctx, "purge outbound messages", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM outbound_links WHERE sent_at < ?`, micros(before)); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM outbound_messages WHERE sent_at < ?`, micros(before))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// prefixed qualifies each column of a comma-separated list with prefix.
func prefixed(prefix, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = prefix + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}
