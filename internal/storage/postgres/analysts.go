package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/storage"
)

// CreateUser implements storage.UserStore.
func (s *Store) CreateUser(ctx context.Context, u storage.User) error {
	return s.exec(ctx, "create user", isConflict("user "+u.Name),
		`INSERT INTO users (name, tenant, role, password_hash, created_at, disabled_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		u.Name, u.Tenant, u.Role, u.PasswordHash, micros(u.CreatedAt), micros(u.DisabledAt))
}

// UserByName implements storage.UserStore.
func (s *Store) UserByName(ctx context.Context, name string) (storage.User, error) {
	users, err := s.users(ctx, "WHERE name = $1", name)
	if err != nil {
		return storage.User{}, err
	}
	if len(users) == 0 {
		return storage.User{}, fmt.Errorf("%w: user %q", storage.ErrNotFound, name)
	}
	return users[0], nil
}

// Users implements storage.UserStore.
func (s *Store) Users(ctx context.Context, tenant string) ([]storage.User, error) {
	if tenant == "" {
		return s.users(ctx, "ORDER BY name")
	}
	return s.users(ctx, "WHERE tenant = $1 ORDER BY name", tenant)
}

// users reads the users that where (a WHERE and/or ORDER BY clause) selects.
func (s *Store) users(ctx context.Context, where string, args ...any) ([]storage.User, error) {
	if err := s.isClosed(); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, "SELECT name, tenant, role, password_hash, created_at, disabled_at FROM users "+where, args...)
	if err != nil {
		return nil, wrap("read users", err)
	}
	defer rows.Close()
	var out []storage.User
	for rows.Next() {
		var u storage.User
		var created, disabled int64
		if err := rows.Scan(&u.Name, &u.Tenant, &u.Role, &u.PasswordHash, &created, &disabled); err != nil {
			return nil, wrap("read users", err)
		}
		u.CreatedAt, u.DisabledAt = fromMicros(created), fromMicros(disabled)
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("read users", err)
	}
	return out, nil
}

// UpdateUser implements storage.UserStore. The tenant of a user never changes.
func (s *Store) UpdateUser(ctx context.Context, u storage.User) error {
	return s.execOne(ctx, fmt.Sprintf("user %q", u.Name),
		`UPDATE users SET role = $1, password_hash = $2, disabled_at = $3 WHERE name = $4`,
		u.Role, u.PasswordHash, micros(u.DisabledAt), u.Name)
}

// CreateSession implements storage.SessionStore.
func (s *Store) CreateSession(ctx context.Context, se storage.Session) error {
	return s.exec(ctx, "create session", isConflict("session"),
		`INSERT INTO sessions (id_hash, user_name, tenant, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		se.IDHash, se.UserName, se.Tenant, se.CSRF, micros(se.CreatedAt), micros(se.ExpiresAt))
}

// Session implements storage.SessionStore.
func (s *Store) Session(ctx context.Context, idHash string) (storage.Session, error) {
	if err := s.isClosed(); err != nil {
		return storage.Session{}, err
	}
	se := storage.Session{IDHash: idHash}
	var created, expires int64
	err := s.pool.QueryRow(ctx, `SELECT user_name, tenant, csrf, created_at, expires_at FROM sessions WHERE id_hash = $1`, idHash).
		Scan(&se.UserName, &se.Tenant, &se.CSRF, &created, &expires)
	if err != nil {
		return se, notFound(err, "session")
	}
	se.CreatedAt, se.ExpiresAt = fromMicros(created), fromMicros(expires)
	return se, nil
}

// DeleteSession implements storage.SessionStore.
func (s *Store) DeleteSession(ctx context.Context, idHash string) error {
	return s.exec(ctx, "delete session", nil, `DELETE FROM sessions WHERE id_hash = $1`, idHash)
}

// DeleteUserSessions implements storage.SessionStore.
func (s *Store) DeleteUserSessions(ctx context.Context, userName string) error {
	return s.exec(ctx, "delete sessions", nil, `DELETE FROM sessions WHERE user_name = $1`, userName)
}

// DeleteExpiredSessions implements storage.SessionStore.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	if err := s.isClosed(); err != nil {
		return 0, err
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE expires_at <= $1`, micros(now))
	if err != nil {
		return 0, wrap("delete expired sessions", err)
	}
	return int(tag.RowsAffected()), nil
}

// AppendAudit implements storage.AuditLog. Ids come from an identity
// column: they increase with every entry, though two instances' entries
// may commit in the other order (the audit is read newest first by
// pages, never replayed after an id).
func (s *Store) AppendAudit(ctx context.Context, e *storage.AuditEntry) error {
	if err := s.isClosed(); err != nil {
		return err
	}
	err := s.pool.QueryRow(ctx, `INSERT INTO audit (tenant, at, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5, $6)
		RETURNING id`, e.Tenant, micros(e.At), e.Actor, e.Action, e.Target, e.Detail).Scan(&e.ID)
	if err != nil {
		return wrap("append audit", err)
	}
	return nil
}

// Audit implements storage.AuditLog. A limit of 0 or less returns nothing.
func (s *Store) Audit(ctx context.Context, tenant string, beforeID int64, limit int) ([]storage.AuditEntry, error) {
	if err := s.isClosed(); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, nil
	}
	if beforeID <= 0 {
		beforeID = 1<<63 - 1
	}
	rows, err := s.pool.Query(ctx, `SELECT id, at, actor, action, target, detail FROM audit
		WHERE tenant = $1 AND id < $2 ORDER BY id DESC LIMIT $3`, tenant, beforeID, limit)
	if err != nil {
		return nil, wrap("read audit", err)
	}
	defer rows.Close()
	var out []storage.AuditEntry
	for rows.Next() {
		e := storage.AuditEntry{Tenant: tenant}
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Target, &e.Detail); err != nil {
			return nil, wrap("read audit", err)
		}
		e.At = fromMicros(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("read audit", err)
	}
	return out, nil
}

// AssignCase implements storage.CaseStore.
func (s *Store) AssignCase(ctx context.Context, tenant, eventID, assignee, by string, at time.Time) error {
	return s.exec(ctx, "assign case", nil, `INSERT INTO cases (tenant, event_id, assignee, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (tenant, event_id) DO UPDATE SET assignee = excluded.assignee, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
		tenant, eventID, assignee, micros(at), by)
}

// AddCaseNote implements storage.CaseStore. The note and the case's
// updated_at/updated_by are written in one transaction; the upsert keeps
// the assignee of an existing case.
func (s *Store) AddCaseNote(ctx context.Context, tenant, eventID string, n storage.CaseNote) error {
	return s.inTx(ctx, "add case note", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO case_notes (tenant, event_id, author, text, at) VALUES ($1, $2, $3, $4, $5)`,
			tenant, eventID, n.Author, n.Text, micros(n.At)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO cases (tenant, event_id, assignee, updated_at, updated_by) VALUES ($1, $2, '', $3, $4)
			ON CONFLICT (tenant, event_id) DO UPDATE SET updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
			tenant, eventID, micros(n.At), n.Author)
		return err
	})
}

// Cases implements storage.CaseStore. The cases and their notes are read
// in one repeatable-read transaction, so they agree.
func (s *Store) Cases(ctx context.Context, tenant string, eventIDs []string) (map[string]storage.Case, error) {
	if err := s.isClosed(); err != nil {
		return nil, err
	}
	out := map[string]storage.Case{}
	if len(eventIDs) == 0 {
		return out, nil
	}
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, wrap("read cases", err)
	}
	defer tx.Rollback(context.Background())
	rows, err := tx.Query(ctx, `SELECT event_id, assignee, updated_at, updated_by FROM cases
		WHERE tenant = $1 AND event_id = ANY($2::text[])`, tenant, eventIDs)
	if err != nil {
		return nil, wrap("read cases", err)
	}
	for rows.Next() {
		c := storage.Case{Tenant: tenant}
		var at int64
		if err := rows.Scan(&c.EventID, &c.Assignee, &at, &c.UpdatedBy); err != nil {
			rows.Close()
			return nil, wrap("read cases", err)
		}
		c.UpdatedAt = fromMicros(at)
		out[c.EventID] = c
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap("read cases", err)
	}
	rows, err = tx.Query(ctx, `SELECT event_id, author, text, at FROM case_notes
		WHERE tenant = $1 AND event_id = ANY($2::text[]) ORDER BY id`, tenant, eventIDs)
	if err != nil {
		return nil, wrap("read case notes", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var n storage.CaseNote
		var at int64
		if err := rows.Scan(&id, &n.Author, &n.Text, &at); err != nil {
			return nil, wrap("read case notes", err)
		}
		n.At = fromMicros(at)
		c := out[id]
		c.Tenant, c.EventID = tenant, id
		c.Notes = append(c.Notes, n)
		out[id] = c
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("read case notes", err)
	}
	return out, nil
}

// SearchEvents implements storage.EventSearcher.
func (s *Store) SearchEvents(ctx context.Context, q storage.EventSearch) ([]storage.Event, error) {
	if err := s.isClosed(); err != nil {
		return nil, err
	}
	var args []any
	// arg adds v to the query's arguments and returns its placeholder.
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	where := []string{"e.tenant = " + arg(q.Tenant)}
	if q.ScanLimit > 0 {
		top, err := s.MaxSeq(ctx)
		if err != nil {
			return nil, err
		}
		where = append(where, "e.seq > "+arg(top-q.ScanLimit))
	}
	if q.Kind != "" {
		where = append(where, "e.kind = "+arg(string(q.Kind)))
	}
	switch {
	case len(q.Actions) == 1 && q.Actions[0] == risk.ActionReview:
		where = append(where, "e.action = 'review'") // literal: lets PostgreSQL use the partial index
	case len(q.Actions) > 0:
		actions := make([]string, len(q.Actions))
		for i, a := range q.Actions {
			actions[i] = string(a)
		}
		where = append(where, "e.action = ANY("+arg(actions)+"::text[])")
	}
	maxScore := q.MaxScore
	if maxScore == 0 {
		maxScore = 100
	}
	if q.MinScore > 0 || maxScore < 100 {
		where = append(where, "e.score BETWEEN "+arg(q.MinScore)+" AND "+arg(maxScore))
	}
	if !q.From.IsZero() {
		where = append(where, "e.occurred_at >= "+arg(micros(q.From)))
	}
	if !q.To.IsZero() {
		where = append(where, "e.occurred_at < "+arg(micros(q.To)))
	}
	if q.Contains != "" {
		where = append(where, "position("+arg([]byte(q.Contains))+"::bytea in e.payload) > 0")
	}
	if q.Unlabelled {
		where = append(where, "NOT EXISTS (SELECT 1 FROM labels l WHERE l.tenant = e.tenant AND l.event_id = e.id)")
	}
	if q.BeforeSeq > 0 {
		where = append(where, "e.seq < "+arg(q.BeforeSeq))
	}
	if q.AfterSeq > 0 {
		where = append(where, "e.seq > "+arg(q.AfterSeq))
	}
	order := "DESC"
	if q.OldestFirst {
		order = "ASC"
	}
	limit := min(max(q.Limit, 1), 1000)
	rows, err := s.pool.Query(ctx, "SELECT "+eventColumns+" FROM events e WHERE "+strings.Join(where, " AND ")+
		" ORDER BY e.seq "+order+" LIMIT "+arg(limit), args...)
	if err != nil {
		return nil, wrap("search events", err)
	}
	var out []storage.Event
	for rows.Next() {
		var e storage.Event
		if err := scanEvent(rows, &e); err != nil {
			rows.Close()
			return nil, wrap("search events", err)
		}
		out = append(out, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap("search events", err)
	}
	if len(out) == 0 {
		return out, nil
	}
	// Every result's labels in one round trip.
	ids := make([]string, len(out))
	for i := range out {
		ids[i] = out[i].ID
	}
	labels, err := s.labelsOfMany(ctx, q.Tenant, ids)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Labels = labels[out[i].ID]
	}
	return out, nil
}

// MinuteStats implements storage.StatsReader. A minute counts when it
// starts before to, as in the other backends.
func (s *Store) MinuteStats(ctx context.Context, tenant string, from, to time.Time) ([]storage.MinuteStat, error) {
	if err := s.isClosed(); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT minute, kind, action, currency, count, amount_minor FROM event_minutes
		WHERE tenant = $1 AND minute >= $2 AND minute < $3 ORDER BY minute, kind, action, currency`,
		tenant, unixMinute(from), unixMinute(to.Add(time.Minute-1)))
	if err != nil {
		return nil, wrap("read stats", err)
	}
	defer rows.Close()
	var out []storage.MinuteStat
	for rows.Next() {
		var m storage.MinuteStat
		var minute int64
		var kind, action string
		if err := rows.Scan(&minute, &kind, &action, &m.Currency, &m.Count, &m.AmountMinor); err != nil {
			return nil, wrap("read stats", err)
		}
		m.Minute, m.Kind, m.Action = time.Unix(minute*60, 0).UTC(), risk.EventKind(kind), risk.Action(action)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("read stats", err)
	}
	return out, nil
}

// unixMinute is t's unix minute, as the event writer keys event_minutes.
func unixMinute(t time.Time) int64 {
	return t.Unix() / 60
}
