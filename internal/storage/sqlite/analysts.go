package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/storage"
)

// CreateUser implements storage.UserStore.
func (s *Store) CreateUser(ctx context.Context, u storage.User) error {
	return s.exec(ctx, "create user", isConflict("user "+u.Name),
		`INSERT INTO users (name, tenant, role, password_hash, created_at, disabled_at) VALUES (?, ?, ?, ?, ?, ?)`,
		u.Name, u.Tenant, u.Role, u.PasswordHash, micros(u.CreatedAt), optMicros(u.DisabledAt))
}

// UserByName implements storage.UserStore.
func (s *Store) UserByName(ctx context.Context, name string) (storage.User, error) {
	users, err := s.users(ctx, "WHERE name = ?", name)
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
	return s.users(ctx, "WHERE tenant = ? ORDER BY name", tenant)
}

func (s *Store) users(ctx context.Context, where string, args ...any) ([]storage.User, error) {
	if err := s.isClosed(); err != nil {
		return nil, err
	}
	rows, err := s.read.QueryContext(ctx, "SELECT name, tenant, role, password_hash, created_at, disabled_at FROM users "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read users: %w", err)
	}
	defer rows.Close()
	var out []storage.User
	for rows.Next() {
		var u storage.User
		var created, disabled int64
		if err := rows.Scan(&u.Name, &u.Tenant, &u.Role, &u.PasswordHash, &created, &disabled); err != nil {
			return nil, fmt.Errorf("sqlite: read users: %w", err)
		}
		u.CreatedAt, u.DisabledAt = fromMicros(created), fromOptMicros(disabled)
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read users: %w", err)
	}
	return out, nil
}

// UpdateUser implements storage.UserStore.
func (s *Store) UpdateUser(ctx context.Context, u storage.User) error {
	return s.execOne(ctx, fmt.Sprintf("user %q", u.Name),
		`UPDATE users SET role = ?, password_hash = ?, disabled_at = ? WHERE name = ?`,
		u.Role, u.PasswordHash, optMicros(u.DisabledAt), u.Name)
}

// CreateSession implements storage.SessionStore.
func (s *Store) CreateSession(ctx context.Context, se storage.Session) error {
	return s.exec(ctx, "create session", isConflict("session"),
		`INSERT INTO sessions (id_hash, user_name, tenant, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
		se.IDHash, se.UserName, se.Tenant, se.CSRF, micros(se.CreatedAt), micros(se.ExpiresAt))
}

// Session implements storage.SessionStore.
func (s *Store) Session(ctx context.Context, idHash string) (storage.Session, error) {
	if err := s.isClosed(); err != nil {
		return storage.Session{}, err
	}
	se := storage.Session{IDHash: idHash}
	var created, expires int64
	err := s.read.QueryRowContext(ctx, `SELECT user_name, tenant, csrf, created_at, expires_at FROM sessions WHERE id_hash = ?`, idHash).
		Scan(&se.UserName, &se.Tenant, &se.CSRF, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return se, fmt.Errorf("%w: session", storage.ErrNotFound)
	}
	if err != nil {
		return se, fmt.Errorf("sqlite: read session: %w", err)
	}
	se.CreatedAt, se.ExpiresAt = fromMicros(created), fromMicros(expires)
	return se, nil
}

// DeleteSession implements storage.SessionStore.
func (s *Store) DeleteSession(ctx context.Context, idHash string) error {
	return s.exec(ctx, "delete session", nil, `DELETE FROM sessions WHERE id_hash = ?`, idHash)
}

// DeleteUserSessions implements storage.SessionStore.
func (s *Store) DeleteUserSessions(ctx context.Context, userName string) error {
	return s.exec(ctx, "delete sessions", nil, `DELETE FROM sessions WHERE user_name = ?`, userName)
}

// DeleteExpiredSessions implements storage.SessionStore.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	if err := s.isClosed(); err != nil {
		return 0, err
	}
	res, err := s.write.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, micros(now))
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete expired sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// AppendAudit implements storage.AuditLog.
func (s *Store) AppendAudit(ctx context.Context, e *storage.AuditEntry) error {
	if err := s.isClosed(); err != nil {
		return err
	}
	res, err := s.write.ExecContext(ctx, `INSERT INTO audit (tenant, at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?, ?)`,
		e.Tenant, micros(e.At), e.Actor, e.Action, e.Target, e.Detail)
	if err != nil {
		return fmt.Errorf("sqlite: append audit: %w", err)
	}
	e.ID, err = res.LastInsertId()
	if err != nil {
		return fmt.Errorf("sqlite: append audit: %w", err)
	}
	return nil
}

// Audit implements storage.AuditLog.
func (s *Store) Audit(ctx context.Context, tenant string, beforeID int64, limit int) ([]storage.AuditEntry, error) {
	if err := s.isClosed(); err != nil {
		return nil, err
	}
	if beforeID <= 0 {
		beforeID = 1<<63 - 1
	}
	rows, err := s.read.QueryContext(ctx, `SELECT id, at, actor, action, target, detail FROM audit
		WHERE tenant = ? AND id < ? ORDER BY id DESC LIMIT ?`, tenant, beforeID, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read audit: %w", err)
	}
	defer rows.Close()
	var out []storage.AuditEntry
	for rows.Next() {
		e := storage.AuditEntry{Tenant: tenant}
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Target, &e.Detail); err != nil {
			return nil, fmt.Errorf("sqlite: read audit: %w", err)
		}
		e.At = fromMicros(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read audit: %w", err)
	}
	return out, nil
}

// AssignCase implements storage.CaseStore.
func (s *Store) AssignCase(ctx context.Context, tenant, eventID, assignee, by string, at time.Time) error {
	return s.exec(ctx, "assign case", nil, `INSERT INTO cases (tenant, event_id, assignee, updated_at, updated_by) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (tenant, event_id) DO UPDATE SET assignee = excluded.assignee, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
		tenant, eventID, assignee, micros(at), by)
}

// AddCaseNote implements storage.CaseStore.
func (s *Store) AddCaseNote(ctx context.Context, tenant, eventID string, n storage.CaseNote) error {
	if err := s.isClosed(); err != nil {
		return err
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: add case note: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO case_notes (tenant, event_id, author, text, at) VALUES (?, ?, ?, ?, ?)`,
		tenant, eventID, n.Author, n.Text, micros(n.At)); err != nil {
		return fmt.Errorf("sqlite: add case note: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO cases (tenant, event_id, assignee, updated_at, updated_by) VALUES (?, ?, '', ?, ?)
		ON CONFLICT (tenant, event_id) DO UPDATE SET updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
		tenant, eventID, micros(n.At), n.Author); err != nil {
		return fmt.Errorf("sqlite: add case note: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: add case note: %w", err)
	}
	return nil
}

// Cases implements storage.CaseStore.
func (s *Store) Cases(ctx context.Context, tenant string, eventIDs []string) (map[string]storage.Case, error) {
	if err := s.isClosed(); err != nil {
		return nil, err
	}
	out := map[string]storage.Case{}
	if len(eventIDs) == 0 {
		return out, nil
	}
	in, args := inList(tenant, eventIDs)
	rows, err := s.read.QueryContext(ctx, `SELECT event_id, assignee, updated_at, updated_by FROM cases WHERE tenant = ? AND event_id IN `+in, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read cases: %w", err)
	}
	for rows.Next() {
		c := storage.Case{Tenant: tenant}
		var at int64
		if err := rows.Scan(&c.EventID, &c.Assignee, &at, &c.UpdatedBy); err != nil {
			rows.Close()
			return nil, fmt.Errorf("sqlite: read cases: %w", err)
		}
		c.UpdatedAt = fromMicros(at)
		out[c.EventID] = c
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read cases: %w", err)
	}
	rows, err = s.read.QueryContext(ctx, `SELECT event_id, author, text, at FROM case_notes WHERE tenant = ? AND event_id IN `+in+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read case notes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var n storage.CaseNote
		var at int64
		if err := rows.Scan(&id, &n.Author, &n.Text, &at); err != nil {
			return nil, fmt.Errorf("sqlite: read case notes: %w", err)
		}
		n.At = fromMicros(at)
		c := out[id]
		c.Tenant, c.EventID = tenant, id
		c.Notes = append(c.Notes, n)
		out[id] = c
	}
	return out, rows.Err()
}

// inList returns "(?, ?, ...)" for values and the args: tenant first.
func inList(tenant string, values []string) (string, []any) {
	args := make([]any, 0, len(values)+1)
	args = append(args, tenant)
	for _, v := range values {
		args = append(args, v)
	}
	return "(" + strings.TrimSuffix(strings.Repeat("?, ", len(values)), ", ") + ")", args
}

// SearchEvents implements storage.EventSearcher.
func (s *Store) SearchEvents(ctx context.Context, q storage.EventSearch) ([]storage.Event, error) {
	if err := s.isClosed(); err != nil {
		return nil, err
	}
	where := []string{"tenant = ?"}
	args := []any{q.Tenant}
	if q.ScanLimit > 0 {
		max, err := s.MaxSeq(ctx)
		if err != nil {
			return nil, err
		}
		where, args = append(where, "seq > ?"), append(args, max-q.ScanLimit)
	}
	if q.Kind != "" {
		where, args = append(where, "kind = ?"), append(args, string(q.Kind))
	}
	switch {
	case len(q.Actions) == 1 && q.Actions[0] == risk.ActionReview:
		where = append(where, "action = 'review'") // literal: lets SQLite use the partial index
	case len(q.Actions) > 0:
		ph := strings.TrimSuffix(strings.Repeat("?, ", len(q.Actions)), ", ")
		where = append(where, "action IN ("+ph+")")
		for _, a := range q.Actions {
			args = append(args, string(a))
		}
	}
	maxScore := q.MaxScore
	if maxScore == 0 {
		maxScore = 100
	}
	if q.MinScore > 0 || maxScore < 100 {
		where, args = append(where, "score BETWEEN ? AND ?"), append(args, q.MinScore, maxScore)
	}
	if !q.From.IsZero() {
		where, args = append(where, "occurred_at >= ?"), append(args, micros(q.From))
	}
	if !q.To.IsZero() {
		where, args = append(where, "occurred_at < ?"), append(args, micros(q.To))
	}
	if q.Contains != "" {
		where, args = append(where, "instr(payload, ?) > 0"), append(args, []byte(q.Contains))
	}
	if q.Unlabelled {
		where = append(where, "NOT EXISTS (SELECT 1 FROM labels l WHERE l.tenant = events.tenant AND l.event_id = events.id)")
	}
	if q.BeforeSeq > 0 {
		where, args = append(where, "seq < ?"), append(args, q.BeforeSeq)
	}
	if q.AfterSeq > 0 {
		where, args = append(where, "seq > ?"), append(args, q.AfterSeq)
	}
	order := "DESC"
	if q.OldestFirst {
		order = "ASC"
	}
	limit := min(max(q.Limit, 1), 1000)
	rows, err := s.read.QueryContext(ctx, "SELECT "+eventColumns+" FROM events WHERE "+strings.Join(where, " AND ")+
		" ORDER BY seq "+order+" LIMIT ?", append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: search events: %w", err)
	}
	var out []storage.Event
	for rows.Next() {
		var e storage.Event
		if err := scanEvent(rows, &e); err != nil {
			rows.Close()
			return nil, fmt.Errorf("sqlite: search events: %w", err)
		}
		out = append(out, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: search events: %w", err)
	}
	for i := range out {
		if out[i].Labels, err = s.labelsOf(ctx, out[i].Tenant, out[i].ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// MinuteStats implements storage.StatsReader.
func (s *Store) MinuteStats(ctx context.Context, tenant string, from, to time.Time) ([]storage.MinuteStat, error) {
	if err := s.isClosed(); err != nil {
		return nil, err
	}
	rows, err := s.read.QueryContext(ctx, `SELECT minute, kind, action, currency, count, amount_minor FROM event_minutes
		WHERE tenant = ? AND minute >= ? AND minute < ? ORDER BY minute, kind, action, currency`,
		tenant, unixMinute(from), unixMinute(to.Add(time.Minute-1)))
	if err != nil {
		return nil, fmt.Errorf("sqlite: read stats: %w", err)
	}
	defer rows.Close()
	var out []storage.MinuteStat
	for rows.Next() {
		var m storage.MinuteStat
		var minute int64
		var kind, action string
		if err := rows.Scan(&minute, &kind, &action, &m.Currency, &m.Count, &m.AmountMinor); err != nil {
			return nil, fmt.Errorf("sqlite: read stats: %w", err)
		}
		m.Minute, m.Kind, m.Action = time.Unix(minute*60, 0).UTC(), risk.EventKind(kind), risk.Action(action)
		out = append(out, m)
	}
	return out, rows.Err()
}

func unixMinute(t time.Time) int64 {
	return t.Unix() / 60
}

// minuteKey groups a batch's events for the event_minutes upserts.
type minuteKey struct {
	tenant   string
	minute   int64
	kind     string
	action   string
	currency string
}

type minuteSum struct{ count, amount int64 }

const upsertMinute = `INSERT INTO event_minutes (tenant, minute, kind, action, currency, count, amount_minor) VALUES (?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (tenant, minute, kind, action, currency) DO UPDATE SET count = count + excluded.count, amount_minor = amount_minor + excluded.amount_minor`

// exec runs one statement on the writer. conflict, if set, turns a
// uniqueness failure into the error it returns.
func (s *Store) exec(ctx context.Context, what string, conflict func(error) error, query string, args ...any) error {
	if err := s.isClosed(); err != nil {
		return err
	}
	if _, err := s.write.ExecContext(ctx, query, args...); err != nil {
		if conflict != nil && isUnique(err) {
			return conflict(err)
		}
		return fmt.Errorf("sqlite: %s: %w", what, err)
	}
	return nil
}

func isConflict(what string) func(error) error {
	return func(err error) error { return fmt.Errorf("%w: %s exists", storage.ErrConflict, what) }
}

func optMicros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return micros(t)
}

func fromOptMicros(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return fromMicros(v)
}
