package storage

import "context"

// ModelStore keeps trained models and which version plays which role,
// where every instance sharing the store reads them: the PostgreSQL
// backend has it, so that a model trained or promoted on one instance
// scores on all without a shared volume. (On one machine models are files
// under the data directory instead.)
type ModelStore interface {
	// SaveModel stores a model version's bytes; a version is saved once
	// (ErrConflict when it exists).
	SaveModel(ctx context.Context, tenant, kind, version string, data []byte) error
	// Model returns a version's bytes, or ErrNotFound.
	Model(ctx context.Context, tenant, kind, version string) ([]byte, error)
	// ModelVersions lists a tenant's versions of kind in name order.
	ModelVersions(ctx context.Context, tenant, kind string) ([]string, error)
	// ModelRole returns the version that plays role ("" for none).
	ModelRole(ctx context.Context, tenant, kind, role string) (string, error)
	// SetModelRole makes version play role ("" ends the role); the version
	// must be stored (ErrNotFound otherwise).
	SetModelRole(ctx context.Context, tenant, kind, role, version string) error
	// ModelTenants lists the tenants with stored models, in order.
	ModelTenants(ctx context.Context) ([]string, error)
}
