package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shopguard/shopguard/internal/storage"
)

const outboundColumns = `tenant, id, channel, recipient_hash, user_id, template, summary, links, code, sent_at, created_at`

// outboundColumnsOfM is outboundColumns qualified by the table alias m.
const outboundColumnsOfM = `m.tenant, m.id, m.channel, m.recipient_hash, m.user_id, m.template, m.summary, m.links, m.code,
	m.sent_at, m.created_at`

func scanOutbound(sc scanner, m *storage.OutboundMessage) error {
	var sent, created int64
	if err := sc.Scan(&m.Tenant, &m.ID, &m.Channel, &m.RecipientHash, &m.UserID, &m.Template, &m.Summary, &m.Links, &m.Code,
		&sent, &created); err != nil {
		return err
	}
	m.Links = textArrayResult(m.Links)
	m.SentAt, m.CreatedAt = fromMicros(sent), fromMicros(created)
	return nil
}

// CreateOutbound implements storage.OutboundStore. The message and its
// links are inserted by one statement, so either both are stored or,
// when the id or the code is taken, neither.
func (s *Store) CreateOutbound(ctx context.Context, m storage.OutboundMessage) error {
	if err := m.Validate(); err != nil {
		return err
	}
	return s.exec(ctx, "register outbound message",
		func(error) error {
			return fmt.Errorf("%w: outbound message %s or code %s exists", storage.ErrConflict, m.ID, m.Code)
		},
		`WITH m AS (
			INSERT INTO outbound_messages (`+outboundColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
			RETURNING tenant, id, sent_at
		)
		INSERT INTO outbound_links (tenant, link, sent_at, id)
		SELECT DISTINCT m.tenant, l.link, m.sent_at, m.id FROM m, unnest($8::text[]) AS l (link)
		ON CONFLICT DO NOTHING`,
		m.Tenant, m.ID, m.Channel, m.RecipientHash, m.UserID, m.Template, m.Summary, textArrayParam(m.Links), m.Code,
		micros(m.SentAt), micros(m.CreatedAt))
}

// Outbound implements storage.OutboundStore.
func (s *Store) Outbound(ctx context.Context, tenant, id string) (storage.OutboundMessage, error) {
	return s.oneOutbound(ctx, `id = $2`, tenant, id, "outbound message "+id)
}

// OutboundByCode implements storage.OutboundStore.
func (s *Store) OutboundByCode(ctx context.Context, tenant, code string) (storage.OutboundMessage, error) {
	return s.oneOutbound(ctx, `code = $2`, tenant, code, "outbound message with code "+code)
}

// oneOutbound reads the tenant's message where ($2 being value) holds.
func (s *Store) oneOutbound(ctx context.Context, where, tenant, value, what string) (storage.OutboundMessage, error) {
	if err := s.isClosed(); err != nil {
		return storage.OutboundMessage{}, err
	}
	var m storage.OutboundMessage
	err := scanOutbound(s.pool.QueryRow(ctx, `SELECT `+outboundColumns+` FROM outbound_messages WHERE tenant = $1 AND `+where,
		tenant, value), &m)
	if errors.Is(err, pgx.ErrNoRows) {
		return storage.OutboundMessage{}, fmt.Errorf("%w: %s", storage.ErrNotFound, what)
	}
	if err != nil {
		return storage.OutboundMessage{}, wrap("read outbound message", err)
	}
	return m, nil
}

// OutboundByLink implements storage.OutboundStore. The links' primary key
// (tenant, link, sent_at, id), read backwards, gives the newest first.
func (s *Store) OutboundByLink(ctx context.Context, tenant, link string, limit int) ([]storage.OutboundMessage, error) {
	query := `SELECT ` + outboundColumnsOfM + ` FROM outbound_links l
		JOIN outbound_messages m ON m.tenant = l.tenant AND m.id = l.id
		WHERE l.tenant = $1 AND l.link = $2 ORDER BY l.sent_at DESC, l.id DESC`
	args := []any{tenant, link}
	if limit > 0 {
		query += ` LIMIT $3`
		args = append(args, int64(limit))
	}
	return s.outboundRows(ctx, query, args...)
}

// OutboundMessages implements storage.OutboundStore.
func (s *Store) OutboundMessages(ctx context.Context, q storage.OutboundQuery) ([]storage.OutboundMessage, error) {
	if q.UserID == "" && q.RecipientHash == "" {
		return nil, s.isClosed()
	}
	// Each branch uses its partial index (the literal '' in the query
	// proves the index's predicate); UNION drops a message both match.
	args := []any{q.Tenant, micros(q.Since)}
	query := ""
	for _, c := range []struct{ col, v string }{{"user_id", q.UserID}, {"recipient_hash", q.RecipientHash}} {
		if c.v == "" {
			continue
		}
		if query != "" {
			query += ` UNION `
		}
		args = append(args, c.v)
		query += `SELECT ` + outboundColumns + ` FROM outbound_messages WHERE tenant = $1 AND ` + c.col + ` = $` +
			strconv.Itoa(len(args)) + ` AND ` + c.col + ` <> '' AND sent_at >= $2`
	}
	query += ` ORDER BY sent_at DESC, id DESC`
	if q.Limit > 0 {
		args = append(args, int64(q.Limit))
		query += ` LIMIT $` + strconv.Itoa(len(args))
	}
	return s.outboundRows(ctx, query, args...)
}

// outboundRows runs a query of outbound messages.
func (s *Store) outboundRows(ctx context.Context, query string, args ...any) ([]storage.OutboundMessage, error) {
	if err := s.isClosed(); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, wrap("read outbound messages", err)
	}
	defer rows.Close()
	var out []storage.OutboundMessage
	for rows.Next() {
		var m storage.OutboundMessage
		if err := scanOutbound(rows, &m); err != nil {
			return nil, wrap("read outbound messages", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("read outbound messages", err)
	}
	return out, nil
}

// PurgeOutbound implements storage.OutboundStore. One statement deletes
// the messages (by the sent_at index) and the links of exactly those
// messages (by the links' message index), from one snapshot.
func (s *Store) PurgeOutbound(ctx context.Context, before time.Time) (int, error) {
	if err := s.isClosed(); err != nil {
		return 0, err
	}
	var n int64
	err := s.pool.QueryRow(ctx, `WITH m AS (
			DELETE FROM outbound_messages WHERE sent_at < $1 RETURNING tenant, id
		), l AS (
			DELETE FROM outbound_links l USING m WHERE l.tenant = m.tenant AND l.id = m.id
		)
		SELECT count(*) FROM m`, micros(before)).Scan(&n)
	if err != nil {
		return 0, wrap("purge outbound messages", err)
	}
	return int(n), nil
}
