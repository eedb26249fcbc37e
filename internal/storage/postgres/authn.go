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

// lockRecoveryCodes is the first key of the two-key transaction advisory
// lock that serialises ReplaceRecoveryCodes per customer (the second key
// hashes the tenant and user). Two-key advisory locks live apart from the
// one-bigint keys in postgres.go.
const lockRecoveryCodes int32 = 0x73677263 // "sgrc"

// PutTOTP implements storage.AuthnStore.
func (s *Store) PutTOTP(ctx context.Context, f storage.TOTPFactor) error {
	return s.exec(ctx, "store TOTP factor", nil,
		`INSERT INTO totp_factors (tenant, user_id, sealed_secret, created_at, confirmed_at, last_step, failures, failures_since, version)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (tenant, user_id) DO UPDATE SET sealed_secret = excluded.sealed_secret, created_at = excluded.created_at,
		confirmed_at = excluded.confirmed_at, last_step = excluded.last_step, failures = excluded.failures,
		failures_since = excluded.failures_since, version = excluded.version`,
		f.Tenant, f.UserID, f.SealedSecret, micros(f.CreatedAt), micros(f.ConfirmedAt), f.LastStep, f.Failures,
		micros(f.FailuresSince), f.Version)
}

// TOTP implements storage.AuthnStore.
func (s *Store) TOTP(ctx context.Context, tenant, userID string) (storage.TOTPFactor, error) {
	if err := s.isClosed(); err != nil {
		return storage.TOTPFactor{}, err
	}
	f := storage.TOTPFactor{Tenant: tenant, UserID: userID}
	var created, confirmed, since int64
	err := s.pool.QueryRow(ctx, `SELECT sealed_secret, created_at, confirmed_at, last_step, failures, failures_since, version
		FROM totp_factors WHERE tenant = $1 AND user_id = $2`, tenant, userID).
		Scan(&f.SealedSecret, &created, &confirmed, &f.LastStep, &f.Failures, &since, &f.Version)
	if err != nil {
		return storage.TOTPFactor{}, notFound(err, "TOTP factor")
	}
	f.CreatedAt, f.ConfirmedAt, f.FailuresSince = fromMicros(created), fromMicros(confirmed), fromMicros(since)
	return f, nil
}

// lockedVersion reads the version of the row that query (a SELECT version
// ... FOR UPDATE) finds, locked until tx ends; found is false if there is
// none.
func lockedVersion(ctx context.Context, tx pgx.Tx, query string, args ...any) (version int64, found bool, err error) {
	err = tx.QueryRow(ctx, query, args...).Scan(&version)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	return version, true, nil
}

// UpdateTOTP implements storage.AuthnStore. The factor's row is locked
// from the version check to the update, so of two concurrent updates
// from one version exactly one wins.
func (s *Store) UpdateTOTP(ctx context.Context, f storage.TOTPFactor) error {
	return s.inTx(ctx, "update TOTP factor", func(tx pgx.Tx) error {
		version, found, err := lockedVersion(ctx, tx,
			`SELECT version FROM totp_factors WHERE tenant = $1 AND user_id = $2 FOR UPDATE`, f.Tenant, f.UserID)
		if err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("%w: TOTP factor", storage.ErrNotFound)
		}
		if version != f.Version-1 {
			return fmt.Errorf("%w: the TOTP factor changed meanwhile", storage.ErrConflict)
		}
		_, err = tx.Exec(ctx, `UPDATE totp_factors SET sealed_secret = $1, created_at = $2, confirmed_at = $3, last_step = $4,
			failures = $5, failures_since = $6, version = $7 WHERE tenant = $8 AND user_id = $9`,
			f.SealedSecret, micros(f.CreatedAt), micros(f.ConfirmedAt), f.LastStep, f.Failures, micros(f.FailuresSince),
			f.Version, f.Tenant, f.UserID)
		return err
	})
}

// DeleteTOTP implements storage.AuthnStore.
func (s *Store) DeleteTOTP(ctx context.Context, tenant, userID string) error {
	return s.execOne(ctx, "TOTP factor", `DELETE FROM totp_factors WHERE tenant = $1 AND user_id = $2`, tenant, userID)
}

// ReplaceRecoveryCodes implements storage.AuthnStore. Replacements of one
// customer's codes are serialised by an advisory lock, so that two at once
// leave the codes of one of them, not both.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, tenant, userID string, hashes []string, at time.Time) error {
	return s.inTx(ctx, "replace recovery codes", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2::text || '/' || $3::text))`,
			lockRecoveryCodes, tenant, userID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM recovery_codes WHERE tenant = $1 AND user_id = $2`, tenant, userID); err != nil {
			return err
		}
		if hashes == nil {
			hashes = []string{}
		}
		_, err := tx.Exec(ctx, `INSERT INTO recovery_codes (tenant, user_id, hash, created_at, used_at)
			SELECT $1::text, $2::text, h, $4::bigint, 0 FROM unnest($3::text[]) AS h ON CONFLICT DO NOTHING`,
			tenant, userID, hashes, micros(at))
		return err
	})
}

// UseRecoveryCode implements storage.AuthnStore. One conditional update
// spends the code: of concurrent uses, the later waits for the earlier and
// then finds the code used.
func (s *Store) UseRecoveryCode(ctx context.Context, tenant, userID, hash string, at time.Time) error {
	return s.execOne(ctx, "unused recovery code",
		`UPDATE recovery_codes SET used_at = $1 WHERE tenant = $2 AND user_id = $3 AND hash = $4 AND used_at = 0`,
		micros(at), tenant, userID, hash)
}

// RecoveryCodesLeft implements storage.AuthnStore.
func (s *Store) RecoveryCodesLeft(ctx context.Context, tenant, userID string) (int, error) {
	if err := s.isClosed(); err != nil {
		return 0, err
	}
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT COUNT(*) FROM recovery_codes WHERE tenant = $1 AND user_id = $2 AND used_at = 0`,
		tenant, userID).Scan(&n); err != nil {
		return 0, wrap("count recovery codes", err)
	}
	return n, nil
}

const challengeColumns = `tenant, id, user_id, action, action_hash, methods, event_id, created_at, expires_at, status, failures,
	passed_at, method, consumed_at, version, device_id`

// CreateChallenge implements storage.ChallengeStore.
func (s *Store) CreateChallenge(ctx context.Context, c storage.Challenge) error {
	methods, err := json.Marshal(c.Methods)
	if err != nil {
		return wrap("create challenge", err)
	}
	return s.exec(ctx, "create challenge", isConflict("challenge "+c.ID),
		`INSERT INTO challenges (`+challengeColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		c.Tenant, c.ID, c.UserID, c.Action, c.ActionHash, string(methods), c.EventID, micros(c.CreatedAt), micros(c.ExpiresAt),
		c.Status, c.Failures, micros(c.PassedAt), c.Method, micros(c.ConsumedAt), c.Version, c.DeviceID)
}

// Challenge implements storage.ChallengeStore.
func (s *Store) Challenge(ctx context.Context, tenant, id string) (storage.Challenge, error) {
	if err := s.isClosed(); err != nil {
		return storage.Challenge{}, err
	}
	var c storage.Challenge
	var methods string
	var created, expires, passed, consumed int64
	err := s.pool.QueryRow(ctx, `SELECT `+challengeColumns+` FROM challenges WHERE tenant = $1 AND id = $2`, tenant, id).
		Scan(&c.Tenant, &c.ID, &c.UserID, &c.Action, &c.ActionHash, &methods, &c.EventID, &created, &expires, &c.Status,
			&c.Failures, &passed, &c.Method, &consumed, &c.Version, &c.DeviceID)
	if err != nil {
		return storage.Challenge{}, notFound(err, fmt.Sprintf("challenge %q", id))
	}
	if err := json.Unmarshal([]byte(methods), &c.Methods); err != nil {
		return storage.Challenge{}, wrap("read challenge methods", err)
	}
	c.CreatedAt, c.ExpiresAt, c.PassedAt, c.ConsumedAt = fromMicros(created), fromMicros(expires), fromMicros(passed), fromMicros(consumed)
	return c, nil
}

// UpdateChallenge implements storage.ChallengeStore. Like the SQLite
// backend it compares the version only (not the status) and changes only
// the status, failures, passed_at, method, consumed_at and version; the
// row is locked from the check to the update, so of two concurrent
// updates from one version exactly one wins.
func (s *Store) UpdateChallenge(ctx context.Context, c storage.Challenge) error {
	return s.inTx(ctx, "update challenge", func(tx pgx.Tx) error {
		version, found, err := lockedVersion(ctx, tx,
			`SELECT version FROM challenges WHERE tenant = $1 AND id = $2 FOR UPDATE`, c.Tenant, c.ID)
		if err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("%w: challenge %q", storage.ErrNotFound, c.ID)
		}
		if version != c.Version-1 {
			return fmt.Errorf("%w: the challenge changed meanwhile", storage.ErrConflict)
		}
		_, err = tx.Exec(ctx, `UPDATE challenges SET status = $1, failures = $2, passed_at = $3, method = $4, consumed_at = $5,
			version = $6 WHERE tenant = $7 AND id = $8`,
			c.Status, c.Failures, micros(c.PassedAt), c.Method, micros(c.ConsumedAt), c.Version, c.Tenant, c.ID)
		return err
	})
}

// DeleteExpiredChallenges implements storage.ChallengeStore.
func (s *Store) DeleteExpiredChallenges(ctx context.Context, before time.Time) (int, error) {
	if err := s.isClosed(); err != nil {
		return 0, err
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM challenges WHERE expires_at < $1`, micros(before))
	if err != nil {
		return 0, wrap("delete expired challenges", err)
	}
	return int(tag.RowsAffected()), nil
}

// TypingProfile implements storage.AuthnStore.
func (s *Store) TypingProfile(ctx context.Context, tenant, userID string) (storage.TypingProfile, error) {
	if err := s.isClosed(); err != nil {
		return storage.TypingProfile{}, err
	}
	p := storage.TypingProfile{Tenant: tenant, UserID: userID}
	var samples, events []byte
	var updated int64
	err := s.pool.QueryRow(ctx, `SELECT samples, sample_events, template, updated_at, version FROM typing_profiles
		WHERE tenant = $1 AND user_id = $2`, tenant, userID).Scan(&samples, &events, &p.Template, &updated, &p.Version)
	if err != nil {
		return storage.TypingProfile{}, notFound(err, "typing profile")
	}
	if err := json.Unmarshal(samples, &p.Samples); err != nil {
		return storage.TypingProfile{}, wrap("read typing profile samples", err)
	}
	if err := json.Unmarshal(events, &p.SampleEvents); err != nil {
		return storage.TypingProfile{}, wrap("read typing profile sample events", err)
	}
	p.UpdatedAt = fromMicros(updated)
	return p, nil
}

// PutTypingProfile implements storage.AuthnStore. An existing profile is
// locked from the version check to the update; a first profile is a plain
// insert, so of two concurrent first writers the second gets ErrConflict
// from the primary key.
func (s *Store) PutTypingProfile(ctx context.Context, p storage.TypingProfile) error {
	samples, err := json.Marshal(p.Samples)
	if err != nil {
		return wrap("store typing profile", err)
	}
	events, err := json.Marshal(p.SampleEvents)
	if err != nil {
		return wrap("store typing profile", err)
	}
	return s.inTx(ctx, "store typing profile", func(tx pgx.Tx) error {
		version, found, err := lockedVersion(ctx, tx,
			`SELECT version FROM typing_profiles WHERE tenant = $1 AND user_id = $2 FOR UPDATE`, p.Tenant, p.UserID)
		if err != nil {
			return err
		}
		if version != p.Version-1 {
			return fmt.Errorf("%w: the typing profile changed meanwhile", storage.ErrConflict)
		}
		if found {
			_, err = tx.Exec(ctx, `UPDATE typing_profiles SET samples = $1, sample_events = $2, template = $3, updated_at = $4,
				version = $5 WHERE tenant = $6 AND user_id = $7`,
				samples, events, p.Template, micros(p.UpdatedAt), p.Version, p.Tenant, p.UserID)
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO typing_profiles (tenant, user_id, samples, sample_events, template, updated_at, version)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			p.Tenant, p.UserID, samples, events, p.Template, micros(p.UpdatedAt), p.Version)
		if isUnique(err) {
			return fmt.Errorf("%w: the typing profile changed meanwhile", storage.ErrConflict)
		}
		return err
	})
}

// ForgetDevices implements storage.AuthnStore.
func (s *Store) ForgetDevices(ctx context.Context, tenant, userID string, at time.Time) error {
	return s.exec(ctx, "forget devices", nil, `INSERT INTO device_resets AS r (tenant, user_id, at) VALUES ($1, $2, $3)
		ON CONFLICT (tenant, user_id) DO UPDATE SET at = GREATEST(r.at, excluded.at)`, tenant, userID, micros(at))
}

// DevicesForgottenAt implements storage.AuthnStore.
func (s *Store) DevicesForgottenAt(ctx context.Context, tenant, userID string) (time.Time, error) {
	if err := s.isClosed(); err != nil {
		return time.Time{}, err
	}
	var at int64
	err := s.pool.QueryRow(ctx, `SELECT at FROM device_resets WHERE tenant = $1 AND user_id = $2`, tenant, userID).Scan(&at)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, wrap("read device reset", err)
	}
	return fromMicros(at), nil
}
