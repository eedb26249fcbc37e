package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shopguard/shopguard/internal/storage"
)

const passkeyColumns = `tenant, id, user_id, rp_id, credential_id, user_handle, public_key, algorithm, attestation_type,
	attestation_format, attestation, transports, flags, sign_count, clone_warning, aaguid, attachment, extensions, name,
	created_at, last_used_at, version`

// pkBlob makes nil bytes empty for the NOT NULL BYTEA columns (pgx sends
// a nil slice as NULL).
func pkBlob(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// pkBytes reads an empty BYTEA back as nil, as the other backends do.
func pkBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// passkeyArgs returns the values of passkeyColumns for p.
func passkeyArgs(p storage.Passkey) ([]any, error) {
	transports, err := json.Marshal(p.Transports)
	if err != nil {
		return nil, err
	}
	return []any{p.Tenant, p.ID, p.UserID, p.RPID, pkBlob(p.CredentialID), pkBlob(p.UserHandle), pkBlob(p.PublicKey),
		p.Algorithm, p.AttestationType, p.AttestationFormat, pkBlob(p.Attestation), string(transports), int16(p.Flags),
		int64(p.SignCount), p.CloneWarning, pkBlob(p.AAGUID), p.Attachment, pkBlob(p.Extensions), p.Name,
		micros(p.CreatedAt), micros(p.LastUsedAt), p.Version}, nil
}

func scanPasskey(sc scanner) (storage.Passkey, error) {
	var p storage.Passkey
	var transports string
	var flags int16
	var signCount, created, lastUsed int64
	if err := sc.Scan(&p.Tenant, &p.ID, &p.UserID, &p.RPID, &p.CredentialID, &p.UserHandle, &p.PublicKey, &p.Algorithm,
		&p.AttestationType, &p.AttestationFormat, &p.Attestation, &transports, &flags, &signCount, &p.CloneWarning,
		&p.AAGUID, &p.Attachment, &p.Extensions, &p.Name, &created, &lastUsed, &p.Version); err != nil {
		return storage.Passkey{}, err
	}
	if err := json.Unmarshal([]byte(transports), &p.Transports); err != nil {
		return storage.Passkey{}, fmt.Errorf("passkey %s transports: %w", p.ID, err)
	}
	p.CredentialID, p.UserHandle, p.PublicKey = pkBytes(p.CredentialID), pkBytes(p.UserHandle), pkBytes(p.PublicKey)
	p.Attestation, p.AAGUID, p.Extensions = pkBytes(p.Attestation), pkBytes(p.AAGUID), pkBytes(p.Extensions)
	p.Flags, p.SignCount = byte(flags), uint32(signCount)
	p.CreatedAt, p.LastUsedAt = fromMicros(created), fromMicros(lastUsed)
	return p, nil
}

// CreatePasskey implements storage.PasskeyStore.
func (s *Store) CreatePasskey(ctx context.Context, p storage.Passkey) error {
	args, err := passkeyArgs(p)
	if err != nil {
		return wrap("create passkey", err)
	}
	return s.exec(ctx, "create passkey", isConflict("passkey "+p.ID+" or its credential id"),
		`INSERT INTO passkeys (`+passkeyColumns+`) VALUES (`+placeholders(1, len(args))+`)`, args...)
}

// Passkeys implements storage.PasskeyStore.
func (s *Store) Passkeys(ctx context.Context, tenant, userID string) ([]storage.Passkey, error) {
	return s.passkeys(ctx, `WHERE tenant = $1 AND user_id = $2 ORDER BY created_at, id`, tenant, userID)
}

// PasskeyByCredential implements storage.PasskeyStore.
func (s *Store) PasskeyByCredential(ctx context.Context, tenant, rpID string, credentialID []byte) (storage.Passkey, error) {
	ps, err := s.passkeys(ctx, `WHERE tenant = $1 AND rp_id = $2 AND credential_id = $3`, tenant, rpID, pkBlob(credentialID))
	if err != nil {
		return storage.Passkey{}, err
	}
	if len(ps) == 0 {
		return storage.Passkey{}, fmt.Errorf("%w: no passkey with this credential id", storage.ErrNotFound)
	}
	return ps[0], nil
}

// passkeys returns the passkeys that where (with args) selects.
func (s *Store) passkeys(ctx context.Context, where string, args ...any) ([]storage.Passkey, error) {
	if err := s.isClosed(); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT `+passkeyColumns+` FROM passkeys `+where, args...)
	if err != nil {
		return nil, wrap("read passkeys", err)
	}
	defer rows.Close()
	var out []storage.Passkey
	for rows.Next() {
		p, err := scanPasskey(rows)
		if err != nil {
			return nil, wrap("read passkeys", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("read passkeys", err)
	}
	return out, nil
}

// UpdatePasskey implements storage.PasskeyStore. The stored row is locked
// (FOR UPDATE) while its version is compared, so of two concurrent
// updates from the same version one wins and the other gets ErrConflict.
func (s *Store) UpdatePasskey(ctx context.Context, p storage.Passkey) error {
	args, err := passkeyArgs(p)
	if err != nil {
		return wrap("update passkey", err)
	}
	return s.inTx(ctx, "update passkey", func(tx pgx.Tx) error {
		var version int64
		err := tx.QueryRow(ctx, `SELECT version FROM passkeys WHERE tenant = $1 AND user_id = $2 AND id = $3 FOR UPDATE`,
			p.Tenant, p.UserID, p.ID).Scan(&version)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: passkey %q", storage.ErrNotFound, p.ID)
		}
		if err != nil {
			return err
		}
		if version != p.Version-1 {
			return fmt.Errorf("%w: the passkey changed meanwhile", storage.ErrConflict)
		}
		// Every column but the key (tenant, id) and user_id, which found it.
		_, err = tx.Exec(ctx, `UPDATE passkeys SET rp_id = $1, credential_id = $2, user_handle = $3, public_key = $4,
			algorithm = $5, attestation_type = $6, attestation_format = $7, attestation = $8, transports = $9, flags = $10,
			sign_count = $11, clone_warning = $12, aaguid = $13, attachment = $14, extensions = $15, name = $16,
			created_at = $17, last_used_at = $18, version = $19 WHERE tenant = $20 AND id = $21`,
			append(args[3:], p.Tenant, p.ID)...)
		if isUnique(err) {
			return fmt.Errorf("%w: a passkey with this credential id exists", storage.ErrConflict)
		}
		return err
	})
}

// DeletePasskey implements storage.PasskeyStore.
func (s *Store) DeletePasskey(ctx context.Context, tenant, userID, id string) error {
	return s.execOne(ctx, fmt.Sprintf("passkey %q", id),
		`DELETE FROM passkeys WHERE tenant = $1 AND user_id = $2 AND id = $3`, tenant, userID, id)
}

const ceremonyColumns = `tenant, id, user_id, kind, challenge_id, name, session, created_at, expires_at`

// CreateCeremony implements storage.PasskeyStore.
func (s *Store) CreateCeremony(ctx context.Context, c storage.Ceremony) error {
	return s.exec(ctx, "create ceremony", isConflict("ceremony "+c.ID),
		`INSERT INTO ceremonies (`+ceremonyColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		c.Tenant, c.ID, c.UserID, c.Kind, c.ChallengeID, c.Name, pkBlob(c.Session), micros(c.CreatedAt), micros(c.ExpiresAt))
}

// TakeCeremony implements storage.PasskeyStore. One DELETE ... RETURNING
// both reads and removes the row: a concurrent take, from this instance
// or another, waits for the row lock and then finds the row gone, so
// exactly one caller gets the ceremony.
func (s *Store) TakeCeremony(ctx context.Context, tenant, id string) (storage.Ceremony, error) {
	if err := s.isClosed(); err != nil {
		return storage.Ceremony{}, err
	}
	var c storage.Ceremony
	var created, expires int64
	err := s.pool.QueryRow(ctx, `DELETE FROM ceremonies WHERE tenant = $1 AND id = $2 RETURNING `+ceremonyColumns, tenant, id).
		Scan(&c.Tenant, &c.ID, &c.UserID, &c.Kind, &c.ChallengeID, &c.Name, &c.Session, &created, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return storage.Ceremony{}, fmt.Errorf("%w: ceremony %q", storage.ErrNotFound, id)
	}
	if err != nil {
		return storage.Ceremony{}, wrap("take ceremony", err)
	}
	c.Session = pkBytes(c.Session)
	c.CreatedAt, c.ExpiresAt = fromMicros(created), fromMicros(expires)
	return c, nil
}

// DeleteExpiredCeremonies implements storage.PasskeyStore.
func (s *Store) DeleteExpiredCeremonies(ctx context.Context, before time.Time) (int, error) {
	if err := s.isClosed(); err != nil {
		return 0, err
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM ceremonies WHERE expires_at < $1`, micros(before))
	if err != nil {
		return 0, wrap("delete expired ceremonies", err)
	}
	return int(tag.RowsAffected()), nil
}

// RelyingParty implements storage.PasskeyStore.
func (s *Store) RelyingParty(ctx context.Context, tenant string) (storage.RelyingParty, error) {
	if err := s.isClosed(); err != nil {
		return storage.RelyingParty{}, err
	}
	rp := storage.RelyingParty{Tenant: tenant}
	var origins string
	var updated int64
	err := s.pool.QueryRow(ctx, `SELECT rp_id, name, origins, updated_at FROM relying_parties WHERE tenant = $1`, tenant).
		Scan(&rp.ID, &rp.Name, &origins, &updated)
	if errors.Is(err, pgx.ErrNoRows) {
		return storage.RelyingParty{}, fmt.Errorf("%w: no relying party settings", storage.ErrNotFound)
	}
	if err != nil {
		return storage.RelyingParty{}, wrap("read relying party", err)
	}
	if err := json.Unmarshal([]byte(origins), &rp.Origins); err != nil {
		return storage.RelyingParty{}, wrap("read relying party origins", err)
	}
	rp.UpdatedAt = fromMicros(updated)
	return rp, nil
}

// PutRelyingParty implements storage.PasskeyStore.
func (s *Store) PutRelyingParty(ctx context.Context, rp storage.RelyingParty) error {
	origins, err := json.Marshal(rp.Origins)
	if err != nil {
		return wrap("store relying party", err)
	}
	return s.exec(ctx, "store relying party", nil,
		`INSERT INTO relying_parties (tenant, rp_id, name, origins, updated_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (tenant) DO UPDATE SET rp_id = excluded.rp_id, name = excluded.name, origins = excluded.origins,
		updated_at = excluded.updated_at`,
		rp.Tenant, rp.ID, rp.Name, string(origins), micros(rp.UpdatedAt))
}
