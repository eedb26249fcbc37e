package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shopguard/shopguard/internal/storage"
)

// SaveRuleSet implements storage.RuleStore. The primary key (tenant,
// version) makes the second of two concurrent saves of a version fail.
func (s *Store) SaveRuleSet(ctx context.Context, rs storage.RuleSet) error {
	return s.inTx(ctx, "save rule set", func(tx pgx.Tx) error {
		var latest int64
		if err := tx.QueryRow(ctx, "SELECT COALESCE(MAX(version), 0) FROM rule_sets WHERE tenant = $1", rs.Tenant).Scan(&latest); err != nil {
			return err
		}
		if rs.Version != latest+1 {
			return fmt.Errorf("%w: rule set version %d, expected %d", storage.ErrConflict, rs.Version, latest+1)
		}
		_, err := tx.Exec(ctx, "INSERT INTO rule_sets (tenant, version, created_at, author, rules) VALUES ($1, $2, $3, $4, $5)",
			rs.Tenant, rs.Version, micros(rs.CreatedAt), rs.Author, string(rs.Rules))
		if isUnique(err) {
			return fmt.Errorf("%w: rule set version %d exists", storage.ErrConflict, rs.Version)
		}
		return err
	})
}

func (s *Store) ruleSet(ctx context.Context, what, where string, args ...any) (storage.RuleSet, error) {
	if err := s.isClosed(); err != nil {
		return storage.RuleSet{}, err
	}
	var rs storage.RuleSet
	var created int64
	var rules string
	err := s.pool.QueryRow(ctx, "SELECT tenant, version, created_at, author, rules FROM rule_sets WHERE "+where, args...).
		Scan(&rs.Tenant, &rs.Version, &created, &rs.Author, &rules)
	if err != nil {
		return rs, notFound(err, what)
	}
	rs.CreatedAt, rs.Rules = fromMicros(created), []byte(rules)
	return rs, nil
}

// LatestRuleSet implements storage.RuleStore.
func (s *Store) LatestRuleSet(ctx context.Context, tenant string) (storage.RuleSet, error) {
	return s.ruleSet(ctx, "rule set", "tenant = $1 ORDER BY version DESC LIMIT 1", tenant)
}

// RuleSetVersion implements storage.RuleStore.
func (s *Store) RuleSetVersion(ctx context.Context, tenant string, version int64) (storage.RuleSet, error) {
	return s.ruleSet(ctx, fmt.Sprintf("rule set version %d", version), "tenant = $1 AND version = $2", tenant, version)
}

// CreateList implements storage.ListStore.
func (s *Store) CreateList(ctx context.Context, l storage.List) error {
	return s.exec(ctx, "create list", isConflict(fmt.Sprintf("list %q", l.Name)),
		`INSERT INTO lists (tenant, name, kind, effect, description, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		l.Tenant, l.Name, l.Kind, l.Effect, l.Description, micros(l.CreatedAt), micros(l.UpdatedAt))
}

// UpdateList implements storage.ListStore.
func (s *Store) UpdateList(ctx context.Context, l storage.List) error {
	return s.execOne(ctx, fmt.Sprintf("list %q", l.Name),
		"UPDATE lists SET effect = $1, description = $2, updated_at = $3 WHERE tenant = $4 AND name = $5",
		l.Effect, l.Description, micros(l.UpdatedAt), l.Tenant, l.Name)
}

// DeleteList implements storage.ListStore.
func (s *Store) DeleteList(ctx context.Context, tenant, name string) error {
	return s.execOne(ctx, fmt.Sprintf("list %q", name), "DELETE FROM lists WHERE tenant = $1 AND name = $2", tenant, name)
}

// AddListEntries implements storage.ListStore.
func (s *Store) AddListEntries(ctx context.Context, tenant, name string, values []string) (int, error) {
	return s.editEntries(ctx, tenant, name, values, `INSERT INTO list_entries (tenant, name, value)
		SELECT $1, $2, v FROM unnest($3::text[]) AS v ON CONFLICT DO NOTHING`)
}

// RemoveListEntries implements storage.ListStore.
func (s *Store) RemoveListEntries(ctx context.Context, tenant, name string, values []string) (int, error) {
	return s.editEntries(ctx, tenant, name, values,
		"DELETE FROM list_entries WHERE tenant = $1 AND name = $2 AND value = ANY($3::text[])")
}

// editEntries runs query (tenant, name, values) on an existing list and
// touches its updated_at; the list row is locked meanwhile so that a
// concurrent delete cannot slip between.
func (s *Store) editEntries(ctx context.Context, tenant, name string, values []string, query string) (int, error) {
	n := 0
	err := s.inTx(ctx, "list entries", func(tx pgx.Tx) error {
		var one int
		err := tx.QueryRow(ctx, "SELECT 1 FROM lists WHERE tenant = $1 AND name = $2 FOR UPDATE", tenant, name).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: list %q", storage.ErrNotFound, name)
		}
		if err != nil {
			return err
		}
		// Duplicates in values count once, as one by one they would.
		uniq := make([]string, 0, len(values))
		seen := make(map[string]bool, len(values))
		for _, v := range values {
			if !seen[v] {
				seen[v] = true
				uniq = append(uniq, v)
			}
		}
		tag, err := tx.Exec(ctx, query, tenant, name, uniq)
		if err != nil {
			return err
		}
		n = int(tag.RowsAffected())
		_, err = tx.Exec(ctx, "UPDATE lists SET updated_at = $1 WHERE tenant = $2 AND name = $3", micros(time.Now()), tenant, name)
		return err
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// Lists implements storage.ListStore.
func (s *Store) Lists(ctx context.Context, tenant string) ([]storage.List, error) {
	if err := s.isClosed(); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT name, kind, effect, description, created_at, updated_at
		FROM lists WHERE tenant = $1 ORDER BY name`, tenant)
	if err != nil {
		return nil, wrap("lists", err)
	}
	defer rows.Close()
	var out []storage.List
	for rows.Next() {
		l := storage.List{Tenant: tenant}
		var c, u int64
		if err := rows.Scan(&l.Name, &l.Kind, &l.Effect, &l.Description, &c, &u); err != nil {
			return nil, wrap("lists", err)
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
	// One statement: the list's existence and its entries from one snapshot.
	rows, err := s.pool.Query(ctx, `SELECT e.value FROM lists l LEFT JOIN list_entries e
		ON e.tenant = l.tenant AND e.name = l.name WHERE l.tenant = $1 AND l.name = $2 ORDER BY e.value`, tenant, name)
	if err != nil {
		return nil, wrap("list entries", err)
	}
	defer rows.Close()
	out, found := []string{}, false
	for rows.Next() {
		found = true
		var v *string
		if err := rows.Scan(&v); err != nil {
			return nil, wrap("list entries", err)
		}
		if v != nil {
			out = append(out, *v)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("list entries", err)
	}
	if !found {
		return nil, fmt.Errorf("%w: list %q", storage.ErrNotFound, name)
	}
	return out, nil
}

// CreateKey implements storage.KeyStore.
func (s *Store) CreateKey(ctx context.Context, k storage.APIKey) error {
	return s.exec(ctx, "create key", func(error) error { return fmt.Errorf("%w: key %q", storage.ErrConflict, k.ID) },
		`INSERT INTO api_keys (id, tenant, hash, name, scopes, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		k.ID, k.Tenant, k.Hash, k.Name, strings.Join(k.Scopes, " "), micros(k.CreatedAt), micros(k.RevokedAt))
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
	k, err := scanKey(s.pool.QueryRow(ctx, "SELECT "+keyColumns+" FROM api_keys WHERE hash = $1", hash))
	if err != nil {
		return k, notFound(err, "key")
	}
	return k, nil
}

// Keys implements storage.KeyStore.
func (s *Store) Keys(ctx context.Context, tenant string) ([]storage.APIKey, error) {
	if err := s.isClosed(); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, "SELECT "+keyColumns+" FROM api_keys WHERE $1 = '' OR tenant = $1 ORDER BY created_at, id", tenant)
	if err != nil {
		return nil, wrap("keys", err)
	}
	defer rows.Close()
	var out []storage.APIKey
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, wrap("keys", err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeKey implements storage.KeyStore.
func (s *Store) RevokeKey(ctx context.Context, id string, at time.Time) error {
	return s.execOne(ctx, fmt.Sprintf("key %q", id), "UPDATE api_keys SET revoked_at = $1 WHERE id = $2", micros(at), id)
}
