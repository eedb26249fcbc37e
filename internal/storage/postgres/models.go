package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/shopguard/shopguard/internal/storage"
)

var _ storage.ModelStore = (*Store)(nil)

// SaveModel implements storage.ModelStore.
func (s *Store) SaveModel(ctx context.Context, tenant, kind, version string, data []byte) error {
	if err := s.isClosed(); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO models (tenant, kind, version, data) VALUES ($1, $2, $3, $4)`, tenant, kind, version, data)
	if isUnique(err) {
		return fmt.Errorf("%w: model %s/%s version %s exists", storage.ErrConflict, tenant, kind, version)
	}
	if err != nil {
		return wrap("save model", err)
	}
	return nil
}

// Model implements storage.ModelStore.
func (s *Store) Model(ctx context.Context, tenant, kind, version string) ([]byte, error) {
	if err := s.isClosed(); err != nil {
		return nil, err
	}
	var data []byte
	err := s.pool.QueryRow(ctx, `SELECT data FROM models WHERE tenant = $1 AND kind = $2 AND version = $3`, tenant, kind, version).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: model %s/%s version %s", storage.ErrNotFound, tenant, kind, version)
	}
	if err != nil {
		return nil, wrap("model", err)
	}
	return data, nil
}

// ModelVersions implements storage.ModelStore.
func (s *Store) ModelVersions(ctx context.Context, tenant, kind string) ([]string, error) {
	return s.strings(ctx, "model versions", `SELECT version FROM models WHERE tenant = $1 AND kind = $2 ORDER BY version COLLATE "C"`, tenant, kind)
}

// ModelTenants implements storage.ModelStore.
func (s *Store) ModelTenants(ctx context.Context) ([]string, error) {
	return s.strings(ctx, "model tenants", `SELECT DISTINCT tenant COLLATE "C" AS tenant FROM models ORDER BY 1`)
}

// strings runs a query of one text column and returns its values.
func (s *Store) strings(ctx context.Context, what, query string, args ...any) ([]string, error) {
	if err := s.isClosed(); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, wrap(what, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, wrap(what, err)
	}
	return out, nil
}

// ModelRole implements storage.ModelStore.
func (s *Store) ModelRole(ctx context.Context, tenant, kind, role string) (string, error) {
	if err := s.isClosed(); err != nil {
		return "", err
	}
	var v string
	err := s.pool.QueryRow(ctx, `SELECT version FROM model_roles WHERE tenant = $1 AND kind = $2 AND role = $3`, tenant, kind, role).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", wrap("model role", err)
	}
	return v, nil
}

// SetModelRole implements storage.ModelStore.
func (s *Store) SetModelRole(ctx context.Context, tenant, kind, role, version string) error {
	if err := s.isClosed(); err != nil {
		return err
	}
	var err error
	if version == "" {
		_, err = s.pool.Exec(ctx, `DELETE FROM model_roles WHERE tenant = $1 AND kind = $2 AND role = $3`, tenant, kind, role)
	} else {
		_, err = s.pool.Exec(ctx, `INSERT INTO model_roles (tenant, kind, role, version) VALUES ($1, $2, $3, $4)
			ON CONFLICT (tenant, kind, role) DO UPDATE SET version = EXCLUDED.version`, tenant, kind, role, version)
	}
	if pgCode(err) == "23503" {
		return fmt.Errorf("%w: model %s/%s version %s", storage.ErrNotFound, tenant, kind, version)
	}
	if err != nil {
		return wrap("set model role", err)
	}
	return nil
}
