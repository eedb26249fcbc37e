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

// PutTOTP implements storage.AuthnStore.
func (s *Store) PutTOTP(ctx context.Context, f storage.TOTPFactor) error {
	return s.exec(ctx, "store TOTP factor", nil,
		`INSERT INTO totp_factors (tenant, user_id, sealed_secret, created_at, confirmed_at, last_step, failures, failures_since, version)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant, user_id) DO UPDATE SET sealed_secret = excluded.sealed_secret, created_at = excluded.created_at,
		confirmed_at = excluded.confirmed_at, last_step = excluded.last_step, failures = excluded.failures,
		failures_since = excluded.failures_since, version = excluded.version`,
		f.Tenant, f.UserID, f.SealedSecret, micros(f.CreatedAt), optMicros(f.ConfirmedAt), f.LastStep, f.Failures,
		optMicros(f.FailuresSince), f.Version)
}

// TOTP implements storage.AuthnStore.
func (s *Store) TOTP(ctx context.Context, tenant, userID string) (storage.TOTPFactor, error) {
	if err := s.isClosed(); err != nil {
		return storage.TOTPFactor{}, err
	}
	f := storage.TOTPFactor{Tenant: tenant, UserID: userID}
	var created, confirmed, since int64
	err := s.read.QueryRowContext(ctx, `SELECT sealed_secret, created_at, confirmed_at, last_step, failures, failures_since, version
		FROM totp_factors WHERE tenant = ? AND user_id = ?`, tenant, userID).
		Scan(&f.SealedSecret, &created, &confirmed, &f.LastStep, &f.Failures, &since, &f.Version)
	if errors.Is(err, sql.ErrNoRows) {
		return storage.TOTPFactor{}, fmt.Errorf("%w: no TOTP factor", storage.ErrNotFound)
	}
	if err != nil {
		return storage.TOTPFactor{}, fmt.Errorf("sqlite: read TOTP factor: %w", err)
	}
	f.CreatedAt, f.ConfirmedAt, f.FailuresSince = fromMicros(created), fromOptMicros(confirmed), fromOptMicros(since)
	return f, nil
}

// UpdateTOTP implements storage.AuthnStore.
func (s *Store) UpdateTOTP(ctx context.Context, f storage.TOTPFactor) error {
	return s.inTx(ctx, "update TOTP factor", func(tx *sql.Tx) error {
		var version int64
		err := tx.QueryRowContext(ctx, `SELECT version FROM totp_factors WHERE tenant = ? AND user_id = ?`, f.Tenant, f.UserID).Scan(&version)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: no TOTP factor", storage.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if version != f.Version-1 {
			return fmt.Errorf("%w: the TOTP factor changed meanwhile", storage.ErrConflict)
		}
		_, err = tx.ExecContext(ctx, `UPDATE totp_factors SET sealed_secret = ?, created_at = ?, confirmed_at = ?, last_step = ?,
			failures = ?, failures_since = ?, version = ? WHERE tenant = ? AND user_id = ?`,
			f.SealedSecret, micros(f.CreatedAt), optMicros(f.ConfirmedAt), f.LastStep, f.Failures, optMicros(f.FailuresSince),
			f.Version, f.Tenant, f.UserID)
		return err
	})
}

// DeleteTOTP implements storage.AuthnStore.
func (s *Store) DeleteTOTP(ctx context.Context, tenant, userID string) error {
	return s.execOne(ctx, "TOTP factor", `DELETE FROM totp_factors WHERE tenant = ? AND user_id = ?`, tenant, userID)
}

// ReplaceRecoveryCodes implements storage.AuthnStore.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, tenant, userID string, hashes []string, at time.Time) error {
	return s.inTx(ctx, "replace recovery codes", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE tenant = ? AND user_id = ?`, tenant, userID); err != nil {
			return err
		}
		for _, h := range hashes {
			if _, err := tx.ExecContext(ctx, `INSERT INTO recovery_codes (tenant, user_id, hash, created_at, used_at)
				VALUES (?, ?, ?, ?, 0) ON CONFLICT DO NOTHING`, tenant, userID, h, micros(at)); err != nil {
				return err
			}
		}
		return nil
	})
}

// UseRecoveryCode implements storage.AuthnStore.
func (s *Store) UseRecoveryCode(ctx context.Context, tenant, userID, hash string, at time.Time) error {
	return s.execOne(ctx, "unused recovery code",
		`UPDATE recovery_codes SET used_at = ? WHERE tenant = ? AND user_id = ? AND hash = ? AND used_at = 0`,
		micros(at), tenant, userID, hash)
}

// RecoveryCodesLeft implements storage.AuthnStore.
func (s *Store) RecoveryCodesLeft(ctx context.Context, tenant, userID string) (int, error) {
	if err := s.isClosed(); err != nil {
		return 0, err
	}
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM recovery_codes WHERE tenant = ? AND user_id = ? AND used_at = 0`,
		tenant, userID).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: count recovery codes: %w", err)
	}
	return n, nil
}

const challengeColumns = `tenant, id, user_id, action, action_hash, methods, event_id, created_at, expires_at, status, failures,
	passed_at, method, consumed_at, version, device_id`

// CreateChallenge implements storage.ChallengeStore.
func (s *Store) CreateChallenge(ctx context.Context, c storage.Challenge) error {
	methods, err := json.Marshal(c.Methods)
	if err != nil {
		return fmt.Errorf("sqlite: create challenge: %w", err)
	}
	return s.exec(ctx, "create challenge", isConflict("challenge "+c.ID),
		`INSERT INTO challenges (`+challengeColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.Tenant, c.ID, c.UserID, c.Action, c.ActionHash, string(methods), c.EventID, micros(c.CreatedAt), micros(c.ExpiresAt),
		c.Status, c.Failures, optMicros(c.PassedAt), c.Method, optMicros(c.ConsumedAt), c.Version, c.DeviceID)
}

// Challenge implements storage.ChallengeStore.
func (s *Store) Challenge(ctx context.Context, tenant, id string) (storage.Challenge, error) {
	if err := s.isClosed(); err != nil {
		return storage.Challenge{}, err
	}
	var c storage.Challenge
	var methods string
	var created, expires, passed, consumed int64
	err := s.read.QueryRowContext(ctx, `SELECT `+challengeColumns+` FROM challenges WHERE tenant = ? AND id = ?`, tenant, id).
		Scan(&c.Tenant, &c.ID, &c.UserID, &c.Action, &c.ActionHash, &methods, &c.EventID, &created, &expires, &c.Status,
			&c.Failures, &passed, &c.Method, &consumed, &c.Version, &c.DeviceID)
	if errors.Is(err, sql.ErrNoRows) {
		return storage.Challenge{}, fmt.Errorf("%w: challenge %q", storage.ErrNotFound, id)
	}
	if err != nil {
		return storage.Challenge{}, fmt.Errorf("sqlite: read challenge: %w", err)
	}
	if err := json.Unmarshal([]byte(methods), &c.Methods); err != nil {
		return storage.Challenge{}, fmt.Errorf("sqlite: read challenge methods: %w", err)
	}
	c.CreatedAt, c.ExpiresAt, c.PassedAt, c.ConsumedAt = fromMicros(created), fromMicros(expires), fromOptMicros(passed), fromOptMicros(consumed)
	return c, nil
}

// UpdateChallenge implements storage.ChallengeStore.
func (s *Store) UpdateChallenge(ctx context.Context, c storage.Challenge) error {
	return s.inTx(ctx, "update challenge", func(tx *sql.Tx) error {
		var version int64
		err := tx.QueryRowContext(ctx, `SELECT version FROM challenges WHERE tenant = ? AND id = ?`, c.Tenant, c.ID).Scan(&version)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: challenge %q", storage.ErrNotFound, c.ID)
		}
		if err != nil {
			return err
		}
		if version != c.Version-1 {
			return fmt.Errorf("%w: the challenge changed meanwhile", storage.ErrConflict)
		}
		_, err = tx.ExecContext(ctx, `UPDATE challenges SET status = ?, failures = ?, passed_at = ?, method = ?, consumed_at = ?,
			version = ? WHERE tenant = ? AND id = ?`,
			c.Status, c.Failures, optMicros(c.PassedAt), c.Method, optMicros(c.ConsumedAt), c.Version, c.Tenant, c.ID)
		return err
	})
}

// DeleteExpiredChallenges implements storage.ChallengeStore.
func (s *Store) DeleteExpiredChallenges(ctx context.Context, before time.Time) (int, error) {
	if err := s.isClosed(); err != nil {
		return 0, err
	}
	res, err := s.write.ExecContext(ctx, `DELETE FROM challenges WHERE expires_at < ?`, micros(before))
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete expired challenges: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// TypingProfile implements storage.AuthnStore.
func (s *Store) TypingProfile(ctx context.Context, tenant, userID string) (storage.TypingProfile, error) {
	if err := s.isClosed(); err != nil {
		return storage.TypingProfile{}, err
	}
	p := storage.TypingProfile{Tenant: tenant, UserID: userID}
	var samples, events []byte
	var updated int64
	err := s.read.QueryRowContext(ctx, `SELECT samples, sample_events, template, updated_at, version FROM typing_profiles WHERE tenant = ? AND user_id = ?`,
		tenant, userID).Scan(&samples, &events, &p.Template, &updated, &p.Version)
	if errors.Is(err, sql.ErrNoRows) {
		return storage.TypingProfile{}, fmt.Errorf("%w: no typing profile", storage.ErrNotFound)
	}
	if err != nil {
		return storage.TypingProfile{}, fmt.Errorf("sqlite: read typing profile: %w", err)
	}
	if err := json.Unmarshal(samples, &p.Samples); err != nil {
		return storage.TypingProfile{}, fmt.Errorf("sqlite: read typing profile samples: %w", err)
	}
	if err := json.Unmarshal(events, &p.SampleEvents); err != nil {
		return storage.TypingProfile{}, fmt.Errorf("sqlite: read typing profile sample events: %w", err)
	}
	p.UpdatedAt = fromMicros(updated)
	return p, nil
}

// PutTypingProfile implements storage.AuthnStore.
func (s *Store) PutTypingProfile(ctx context.Context, p storage.TypingProfile) error {
	samples, err := json.Marshal(p.Samples)
	if err != nil {
		return fmt.Errorf("sqlite: store typing profile: %w", err)
	}
	events, err := json.Marshal(p.SampleEvents)
	if err != nil {
		return fmt.Errorf("sqlite: store typing profile: %w", err)
	}
	return s.inTx(ctx, "store typing profile", func(tx *sql.Tx) error {
		var version int64
		err := tx.QueryRowContext(ctx, `SELECT version FROM typing_profiles WHERE tenant = ? AND user_id = ?`, p.Tenant, p.UserID).Scan(&version)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if version != p.Version-1 {
			return fmt.Errorf("%w: the typing profile changed meanwhile", storage.ErrConflict)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO typing_profiles (tenant, user_id, samples, sample_events, template, updated_at, version)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant, user_id) DO UPDATE SET samples = excluded.samples,
			sample_events = excluded.sample_events, template = excluded.template, updated_at = excluded.updated_at,
			version = excluded.version`,
			p.Tenant, p.UserID, samples, events, p.Template, micros(p.UpdatedAt), p.Version)
		return err
	})
}

// ForgetDevices implements storage.AuthnStore.
func (s *Store) ForgetDevices(ctx context.Context, tenant, userID string, at time.Time) error {
	return s.exec(ctx, "forget devices", nil, `INSERT INTO device_resets (tenant, user_id, at) VALUES (?, ?, ?)
		ON CONFLICT (tenant, user_id) DO UPDATE SET at = max(at, excluded.at)`, tenant, userID, micros(at))
}

// DevicesForgottenAt implements storage.AuthnStore.
func (s *Store) DevicesForgottenAt(ctx context.Context, tenant, userID string) (time.Time, error) {
	if err := s.isClosed(); err != nil {
		return time.Time{}, err
	}
	var at int64
	err := s.read.QueryRowContext(ctx, `SELECT at FROM device_resets WHERE tenant = ? AND user_id = ?`, tenant, userID).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("sqlite: read device reset: %w", err)
	}
	return fromMicros(at), nil
}
