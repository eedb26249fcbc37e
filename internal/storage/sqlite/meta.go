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

// SaveRuleSet implements storage.RuleStore.
func (s *Store) SaveRuleSet(ctx context.Context, rs storage.RuleSet) error {
	if err := s.isClosed(); err != nil {
		return err
	}
	// The version check and the insert share one immediate transaction, so
	// two concurrent saves of the same version cannot both succeed.
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: save rule set: %w", err)
	}
	defer tx.Rollback()
	var latest int64
	if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM rule_sets WHERE tenant = ?", rs.Tenant).Scan(&latest); err != nil {
		return fmt.Errorf("sqlite: save rule set: %w", err)
	}
	if rs.Version != latest+1 {
		return fmt.Errorf("%w: rule set version %d, expected %d", storage.ErrConflict, rs.Version, latest+1)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO rule_sets (tenant, version, created_at, author, rules) VALUES (?,?,?,?,?)",
		rs.Tenant, rs.Version, micros(rs.CreatedAt), rs.Author, string(rs.Rules)); err != nil {
		if isUnique(err) {
			return fmt.Errorf("%w: rule set version %d exists", storage.ErrConflict, rs.Version)
		}
		return fmt.Errorf("sqlite: save rule set: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: save rule set: %w", err)
	}
	return nil
}

func (s *Store) ruleSet(ctx context.Context, what, where string, args ...any) (storage.RuleSet, error) {
	if err := s.isClosed(); err != nil {
		return storage.RuleSet{}, err
	}
	var rs storage.RuleSet
	var created int64
	var rules string
	err := s.read.QueryRowContext(ctx, "SELECT tenant, version, created_at, author, rules FROM rule_sets WHERE "+where, args...).
		Scan(&rs.Tenant, &rs.Version, &created, &rs.Author, &rules)
	if errors.Is(err, sql.ErrNoRows) {
		return rs, fmt.Errorf("%w: %s", storage.ErrNotFound, what)
	}
	if err != nil {
		return rs, fmt.Errorf("sqlite: read %s: %w", what, err)
	}
	rs.CreatedAt, rs.Rules = fromMicros(created), []byte(rules)
	return rs, nil
}

// LatestRuleSet implements storage.RuleStore.
func (s *Store) LatestRuleSet(ctx context.Context, tenant string) (storage.RuleSet, error) {
	return s.ruleSet(ctx, "rule set", "tenant = ? ORDER BY version DESC LIMIT 1", tenant)
}

// RuleSetVersion implements storage.RuleStore.
func (s *Store) RuleSetVersion(ctx context.Context, tenant string, version int64) (storage.RuleSet, error) {
	return s.ruleSet(ctx, fmt.Sprintf("rule set version %d", version), "tenant = ? AND version = ?", tenant, version)
}

// CreateList implements storage.ListStore.
func (s *Store) CreateList(ctx context.Context, l storage.List) error {
	if err := s.isClosed(); err != nil {
		return err
	}
	_, err := s.write.ExecContext(ctx, `INSERT INTO lists (tenant, name, kind, effect, description, created_at, updated_at)
		VALUES (?,?,?,?,?,?,?)`, l.Tenant, l.Name, l.Kind, l.Effect, l.Description, micros(l.CreatedAt), micros(l.UpdatedAt))
	if isUnique(err) {
		return fmt.Errorf("%w: list %q exists", storage.ErrConflict, l.Name)
	}
	if err != nil {
		return fmt.Errorf("sqlite: create list: %w", err)
	}
	return nil
}

// UpdateList implements storage.ListStore.
func (s *Store) UpdateList(ctx context.Context, l storage.List) error {
	return s.execOne(ctx, fmt.Sprintf("list %q", l.Name),
		"UPDATE lists SET effect = ?, description = ?, updated_at = ? WHERE tenant = ? AND name = ?",
		l.Effect, l.Description, micros(l.UpdatedAt), l.Tenant, l.Name)
}

// DeleteList implements storage.ListStore.
func (s *Store) DeleteList(ctx context.Context, tenant, name string) error {
	return s.execOne(ctx, fmt.Sprintf("list %q", name), "DELETE FROM lists WHERE tenant = ? AND name = ?", tenant, name)
}

// execOne runs a statement that must touch exactly one row, else ErrNotFound.
func (s *Store) execOne(ctx context.Context, what, query string, args ...any) error {
	if err := s.isClosed(); err != nil {
		return err
	}
	res, err := s.write.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", what, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: %s", storage.ErrNotFound, what)
	}
	return nil
}

// AddListEntries implements storage.ListStore.
func (s *Store) AddListEntries(ctx context.Context, tenant, name string, values []string) (int, error) {
	return s.editEntries(ctx, tenant, name, values,
		"INSERT INTO list_entries (tenant, name, value) VALUES (?,?,?) ON CONFLICT DO NOTHING")
}

// RemoveListEntries implements storage.ListStore.
func (s *Store) RemoveListEntries(ctx context.Context, tenant, name string, values []string) (int, error) {
	return s.editEntries(ctx, tenant, name, values,
		"DELETE FROM list_entries WHERE tenant = ? AND name = ? AND value = ?")
}

func (s *Store) editEntries(ctx context.Context, tenant, name string, values []string, query string) (int, error) {
	if err := s.isClosed(); err != nil {
		return 0, err
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("sqlite: list entries: %w", err)
	}
	defer tx.Rollback()
	var one int
	err = tx.QueryRowContext(ctx, "SELECT 1 FROM lists WHERE tenant = ? AND name = ?", tenant, name).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("%w: list %q", storage.ErrNotFound, name)
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: list entries: %w", err)
	}
	stmt, err := tx.PrepareContext(ctx, query)
	if err != nil {
		return 0, fmt.Errorf("sqlite: list entries: %w", err)
	}
	n := 0
	for _, v := range values {
		res, err := stmt.ExecContext(ctx, tenant, name, v)
		if err != nil {
			return 0, fmt.Errorf("sqlite: list entries: %w", err)
		}
		c, _ := res.RowsAffected()
		n += int(c)
	}
	if _, err := tx.ExecContext(ctx, "UPDATE lists SET updated_at = ? WHERE tenant = ? AND name = ?",
		micros(time.Now()), tenant, name); err != nil {
		return 0, fmt.Errorf("sqlite: list entries: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("sqlite: list entries: %w", err)
	}
	return n, nil
}

// Lists implements storage.ListStore.
func (s *Store) Lists(ctx context.Context, tenant string) ([]storage.List, error) {
	if err := s.isClosed(); err != nil {
		return nil, err
	}
	rows, err := s.read.QueryContext(ctx, `SELECT name, kind, effect, description, created_at, updated_at
		FROM lists WHERE tenant = ? ORDER BY name`, tenant)
	if err != nil {
		return nil, fmt.Errorf("sqlite: lists: %w", err)
	}
	defer rows.Close()
	var out []storage.List
	for rows.Next() {
		l := storage.List{Tenant: tenant}
		var c, u int64
		if err := rows.Scan(&l.Name, &l.Kind, &l.Effect, &l.Description, &c, &u); err != nil {
			return nil, fmt.Errorf("sqlite: lists: %w", err)
		}
		l.CreatedAt, l.UpdatedAt = fromMicros(c), fromMicros(u)
		out = append(out, l)
	}
	return out, rows.Err()
}

// ListEntries implements storage.ListStore.
func (s *Store) ListEntries(ctx context.Context, tenant, name string) ([]string, error) {
	if err := s.isClosed(); err != nil {
		return nil, err
	}
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("sqlite: list entries: %w", err)
	}
	defer tx.Rollback()
	var one int
	err = tx.QueryRowContext(ctx, "SELECT 1 FROM lists WHERE tenant = ? AND name = ?", tenant, name).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: list %q", storage.ErrNotFound, name)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: list entries: %w", err)
	}
	rows, err := tx.QueryContext(ctx, "SELECT value FROM list_entries WHERE tenant = ? AND name = ? ORDER BY value", tenant, name)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list entries: %w", err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("sqlite: list entries: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// CreateKey implements storage.KeyStore.
func (s *Store) CreateKey(ctx context.Context, k storage.APIKey) error {
	if err := s.isClosed(); err != nil {
		return err
	}
	_, err := s.write.ExecContext(ctx, `INSERT INTO api_keys (id, tenant, hash, name, scopes, created_at, revoked_at)
		VALUES (?,?,?,?,?,?,?)`, k.ID, k.Tenant, k.Hash, k.Name, strings.Join(k.Scopes, " "),
		micros(k.CreatedAt), micros(k.RevokedAt))
	if isUnique(err) {
		return fmt.Errorf("%w: key %q", storage.ErrConflict, k.ID)
	}
	if err != nil {
		return fmt.Errorf("sqlite: create key: %w", err)
	}
	return nil
}

const keyColumns = "id, tenant, hash, name, scopes, created_at, revoked_at"

func scanKey(sc scanner) (storage.APIKey, error) {
	var k storage.APIKey
	var scopes string
	var c, r int64
	if err := sc.Scan(&k.ID, &k.Tenant, &k.Hash, &k.Name, &scopes, &c, &r); err != nil {
		return k, err
	}
	k.Scopes = strings.Fields(scopes)
	k.CreatedAt, k.RevokedAt = fromMicros(c), fromMicros(r)
	return k, nil
}

// KeyByHash implements storage.KeyStore.
func (s *Store) KeyByHash(ctx context.Context, hash string) (storage.APIKey, error) {
	if err := s.isClosed(); err != nil {
		return storage.APIKey{}, err
	}
	k, err := scanKey(s.read.QueryRowContext(ctx, "SELECT "+keyColumns+" FROM api_keys WHERE hash = ?", hash))
	if errors.Is(err, sql.ErrNoRows) {
		return k, fmt.Errorf("%w: key", storage.ErrNotFound)
	}
	if err != nil {
		return k, fmt.Errorf("sqlite: read key: %w", err)
	}
	return k, nil
}

// Keys implements storage.KeyStore.
func (s *Store) Keys(ctx context.Context, tenant string) ([]storage.APIKey, error) {
	if err := s.isClosed(); err != nil {
		return nil, err
	}
	rows, err := s.read.QueryContext(ctx, "SELECT "+keyColumns+" FROM api_keys WHERE ? = '' OR tenant = ? ORDER BY created_at, id", tenant, tenant)
	if err != nil {
		return nil, fmt.Errorf("sqlite: keys: %w", err)
	}
	defer rows.Close()
	var out []storage.APIKey
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: keys: %w", err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeKey implements storage.KeyStore.
func (s *Store) RevokeKey(ctx context.Context, id string, at time.Time) error {
	return s.execOne(ctx, fmt.Sprintf("key %q", id), "UPDATE api_keys SET revoked_at = ? WHERE id = ?", micros(at), id)
}
