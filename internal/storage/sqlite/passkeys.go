package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/shopguard/shopguard/internal/storage"
)

const passkeyColumns = `tenant, id, user_id, rp_id, credential_id, user_handle, public_key, algorithm, attestation_type,
	attestation_format, attestation, transports, flags, sign_count, clone_warning, aaguid, attachment, extensions, name,
	created_at, last_used_at, version`

// blob makes nil bytes empty for the NOT NULL BLOB columns; empty blobs
// read back as nil.
func blob(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// passkeyArgs returns the values of passkeyColumns for p.
func passkeyArgs(p storage.Passkey) ([]any, error) {
	transports, err := json.Marshal(p.Transports)
	if err != nil {
		return nil, err
	}
	return []any{p.Tenant, p.ID, p.UserID, p.RPID, blob(p.CredentialID), blob(p.UserHandle), blob(p.PublicKey), p.Algorithm,
		p.AttestationType, p.AttestationFormat, blob(p.Attestation), string(transports), p.Flags, p.SignCount, p.CloneWarning,
		blob(p.AAGUID), p.Attachment, blob(p.Extensions), p.Name, micros(p.CreatedAt), optMicros(p.LastUsedAt), p.Version}, nil
}

func scanPasskey(sc scanner) (storage.Passkey, error) {
	var p storage.Passkey
	var transports string
	var created, lastUsed int64
	if err := sc.Scan(&p.Tenant, &p.ID, &p.UserID, &p.RPID, &p.CredentialID, &p.UserHandle, &p.PublicKey, &p.Algorithm,
		&p.AttestationType, &p.AttestationFormat, &p.Attestation, &transports, &p.Flags, &p.SignCount, &p.CloneWarning,
		&p.AAGUID, &p.Attachment, &p.Extensions, &p.Name, &created, &lastUsed, &p.Version); err != nil {
		return storage.Passkey{}, err
	}
	if err := json.Unmarshal([]byte(transports), &p.Transports); err != nil {
		return storage.Passkey{}, fmt.Errorf("passkey %s transports: %w", p.ID, err)
	}
	p.CreatedAt, p.LastUsedAt = fromMicros(created), fromOptMicros(lastUsed)
	return p, nil
}

// CreatePasskey implements storage.PasskeyStore.
func (s *Store) CreatePasskey(ctx context.Context, p storage.Passkey) error {
	args, err := passkeyArgs(p)
	if err != nil {
		return fmt.Errorf("sqlite: create passkey: %w", err)
	}
	return s.exec(ctx, "create passkey", isConflict("passkey "+p.ID+" or its credential id"),
		`INSERT INTO passkeys (`+passkeyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		args...)
}

// Passkeys implements storage.PasskeyStore.
func (s *Store) Passkeys(ctx context.Context, tenant, userID string) ([]storage.Passkey, error) {
	return s.passkeys(ctx, `WHERE tenant = ? AND user_id = ? ORDER BY created_at, id`, tenant, userID)
}

// PasskeyByCredential implements storage.PasskeyStore.
func (s *Store) PasskeyByCredential(ctx context.Context, tenant, rpID string, credentialID []byte) (storage.Passkey, error) {
	ps, err := s.passkeys(ctx, `WHERE tenant = ? AND rp_id = ? AND credential_id = ?`, tenant, rpID, blob(credentialID))
	if err != nil {
		return storage.Passkey{}, err
	}
	if len(ps) == 0 {
		return storage.Passkey{}, fmt.Errorf("%w: no passkey with this credential id", storage.ErrNotFound)
	}
	return ps[0], nil
}

func (s *Store) passkeys(ctx context.Context, where string, args ...any) ([]storage.Passkey, error) {
	if err := s.isClosed(); err != nil {
		return nil, err
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+passkeyColumns+` FROM passkeys `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read passkeys: %w", err)
	}
	defer rows.Close()
	var out []storage.Passkey
	for rows.Next() {
		p, err := scanPasskey(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: read passkeys: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read passkeys: %w", err)
	}
	return out, nil
}

// UpdatePasskey implements storage.PasskeyStore.
func (s *Store) UpdatePasskey(ctx context.Context, p storage.Passkey) error {
	args, err := passkeyArgs(p)
	if err != nil {
		return fmt.Errorf("sqlite: update passkey: %w", err)
	}
	return s.inTx(ctx, "update passkey", func(tx *sql.Tx) error {
		var version int64
		err := tx.QueryRowContext(ctx, `SELECT version FROM passkeys WHERE tenant = ? AND user_id = ? AND id = ?`,
			p.Tenant, p.UserID, p.ID).Scan(&version)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: passkey %q", storage.ErrNotFound, p.ID)
		}
		if err != nil {
			return err
		}
		if version != p.Version-1 {
			return fmt.Errorf("%w: the passkey changed meanwhile", storage.ErrConflict)
		}
		// Every column but the key (tenant, id) and user_id, which found it.
		_, err = tx.ExecContext(ctx, `UPDATE passkeys SET rp_id = ?, credential_id = ?, user_handle = ?, public_key = ?,
			algorithm = ?, attestation_type = ?, attestation_format = ?, attestation = ?, transports = ?, flags = ?,
			sign_count = ?, clone_warning = ?, aaguid = ?, attachment = ?, extensions = ?, name = ?, created_at = ?,
			last_used_at = ?, version = ? WHERE tenant = ? AND id = ?`, append(args[3:], p.Tenant, p.ID)...)
		if isUnique(err) {
			return fmt.Errorf("%w: a passkey with this credential id exists", storage.ErrConflict)
		}
		return err
	})
}

// DeletePasskey implements storage.PasskeyStore.
func (s *Store) DeletePasskey(ctx context.Context, tenant, userID, id string) error {
	return s.execOne(ctx, fmt.Sprintf("passkey %q", id),
		`DELETE FROM passkeys WHERE tenant = ? AND user_id = ? AND id = ?`, tenant, userID, id)
}

const ceremonyColumns = `tenant, id, user_id, kind, challenge_id, name, session, created_at, expires_at`

// CreateCeremony implements storage.PasskeyStore.
func (s *Store) CreateCeremony(ctx context.Context, c storage.Ceremony) error {
	return s.exec(ctx, "create ceremony", isConflict("ceremony "+c.ID),
		`INSERT INTO ceremonies (`+ceremonyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.Tenant, c.ID, c.UserID, c.Kind, c.ChallengeID, c.Name, blob(c.Session), micros(c.CreatedAt), micros(c.ExpiresAt))
}

// TakeCeremony implements storage.PasskeyStore. One DELETE ... RETURNING
// both reads and removes the row, so of two concurrent takes only one
// finds it.
func (s *Store) TakeCeremony(ctx context.Context, tenant, id string) (storage.Ceremony, error) {
	if err := s.isClosed(); err != nil {
		return storage.Ceremony{}, err
	}
	var c storage.Ceremony
	var created, expires int64
	err := s.write.QueryRowContext(ctx, `DELETE FROM ceremonies WHERE tenant = ? AND id = ? RETURNING `+ceremonyColumns, tenant, id).
		Scan(&c.Tenant, &c.ID, &c.UserID, &c.Kind, &c.ChallengeID, &c.Name, &c.Session, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return storage.Ceremony{}, fmt.Errorf("%w: ceremony %q", storage.ErrNotFound, id)
	}
	if err != nil {
		return storage.Ceremony{}, fmt.Errorf("sqlite: take ceremony: %w", err)
	}
	c.CreatedAt, c.ExpiresAt = fromMicros(created), fromMicros(expires)
	return c, nil
}

// DeleteExpiredCeremonies implements storage.PasskeyStore.
func (s *Store) DeleteExpiredCeremonies(ctx context.Context, before time.Time) (int, error) {
	if err := s.isClosed(); err != nil {
		return 0, err
	}
	res, err := s.write.ExecContext(ctx, `DELETE FROM ceremonies WHERE expires_at < ?`, micros(before))
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete expired ceremonies: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// RelyingParty implements storage.PasskeyStore.
func (s *Store) RelyingParty(ctx context.Context, tenant string) (storage.RelyingParty, error) {
	if err := s.isClosed(); err != nil {
		return storage.RelyingParty{}, err
	}
	rp := storage.RelyingParty{Tenant: tenant}
	var origins string
	var updated int64
	err := s.read.QueryRowContext(ctx, `SELECT rp_id, name, origins, updated_at FROM relying_parties WHERE tenant = ?`, tenant).
		Scan(&rp.ID, &rp.Name, &origins, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return storage.RelyingParty{}, fmt.Errorf("%w: no relying party settings", storage.ErrNotFound)
	}
	if err != nil {
		return storage.RelyingParty{}, fmt.Errorf("sqlite: read relying party: %w", err)
	}
	if err := json.Unmarshal([]byte(origins), &rp.Origins); err != nil {
		return storage.RelyingParty{}, fmt.Errorf("sqlite: read relying party origins: %w", err)
	}
	rp.UpdatedAt = fromMicros(updated)
	return rp, nil
}

// PutRelyingParty implements storage.PasskeyStore.
func (s *Store) PutRelyingParty(ctx context.Context, rp storage.RelyingParty) error {
	origins, err := json.Marshal(rp.Origins)
	if err != nil {
		return fmt.Errorf("sqlite: store relying party: %w", err)
	}
	return s.exec(ctx, "store relying party", nil,
		`INSERT INTO relying_parties (tenant, rp_id, name, origins, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (tenant) DO UPDATE SET rp_id = excluded.rp_id, name = excluded.name, origins = excluded.origins,
		updated_at = excluded.updated_at`,
		rp.Tenant, rp.ID, rp.Name, string(origins), micros(rp.UpdatedAt))
}
