package memory

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/shopguard/shopguard/internal/storage"
)

// recoveryCode is one stored recovery code.
type recoveryCode struct {
	hash   string
	usedAt time.Time
}

// authn holds strong-authentication records; Store's mutex guards it.
type authn struct {
	totp       map[tenantID]storage.TOTPFactor
	recovery   map[tenantID][]recoveryCode
	challenges map[tenantID]storage.Challenge
	typing     map[tenantID]storage.TypingProfile
	forgotten  map[tenantID]time.Time
}

func newAuthn() authn {
	return authn{totp: map[tenantID]storage.TOTPFactor{}, recovery: map[tenantID][]recoveryCode{},
		challenges: map[tenantID]storage.Challenge{}, typing: map[tenantID]storage.TypingProfile{},
		forgotten: map[tenantID]time.Time{}}
}

func copyTOTP(f storage.TOTPFactor) storage.TOTPFactor {
	f.SealedSecret = slices.Clone(f.SealedSecret)
	return f
}

// PutTOTP implements storage.AuthnStore.
func (s *Store) PutTOTP(_ context.Context, f storage.TOTPFactor) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return err
	}
	s.totp[tenantID{f.Tenant, f.UserID}] = copyTOTP(f)
	return nil
}

// TOTP implements storage.AuthnStore.
func (s *Store) TOTP(_ context.Context, tenant, userID string) (storage.TOTPFactor, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(); err != nil {
		return storage.TOTPFactor{}, err
	}
	f, ok := s.totp[tenantID{tenant, userID}]
	if !ok {
		return storage.TOTPFactor{}, fmt.Errorf("%w: no TOTP factor", storage.ErrNotFound)
	}
	return copyTOTP(f), nil
}

// UpdateTOTP implements storage.AuthnStore.
func (s *Store) UpdateTOTP(_ context.Context, f storage.TOTPFactor) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return err
	}
	k := tenantID{f.Tenant, f.UserID}
	old, ok := s.totp[k]
	if !ok {
		return fmt.Errorf("%w: no TOTP factor", storage.ErrNotFound)
	}
	if old.Version != f.Version-1 {
		return fmt.Errorf("%w: the TOTP factor changed meanwhile", storage.ErrConflict)
	}
	s.totp[k] = copyTOTP(f)
	return nil
}

// DeleteTOTP implements storage.AuthnStore.
func (s *Store) DeleteTOTP(_ context.Context, tenant, userID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return err
	}
	k := tenantID{tenant, userID}
	if _, ok := s.totp[k]; !ok {
		return fmt.Errorf("%w: no TOTP factor", storage.ErrNotFound)
	}
	delete(s.totp, k)
	return nil
}

// ReplaceRecoveryCodes implements storage.AuthnStore.
func (s *Store) ReplaceRecoveryCodes(_ context.Context, tenant, userID string, hashes []string, _ time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return err
	}
	codes := make([]recoveryCode, len(hashes))
	for i, h := range hashes {
		codes[i] = recoveryCode{hash: h}
	}
	s.recovery[tenantID{tenant, userID}] = codes
	return nil
}

// UseRecoveryCode implements storage.AuthnStore.
func (s *Store) UseRecoveryCode(_ context.Context, tenant, userID, hash string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return err
	}
	codes := s.recovery[tenantID{tenant, userID}]
	for i := range codes {
		if codes[i].hash == hash && codes[i].usedAt.IsZero() {
			codes[i].usedAt = at
			return nil
		}
	}
	return fmt.Errorf("%w: no such unused recovery code", storage.ErrNotFound)
}

// RecoveryCodesLeft implements storage.AuthnStore.
func (s *Store) RecoveryCodesLeft(_ context.Context, tenant, userID string) (int, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(); err != nil {
		return 0, err
	}
	n := 0
	for _, c := range s.recovery[tenantID{tenant, userID}] {
		if c.usedAt.IsZero() {
			n++
		}
	}
	return n, nil
}

// CreateChallenge implements storage.ChallengeStore.
func (s *Store) CreateChallenge(_ context.Context, c storage.Challenge) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return err
	}
	for k := range s.challenges {
		if k.id == c.ID {
			return fmt.Errorf("%w: challenge %s exists", storage.ErrConflict, c.ID)
		}
	}
	s.challenges[tenantID{c.Tenant, c.ID}] = copyChallenge(c)
	return nil
}

func copyChallenge(c storage.Challenge) storage.Challenge {
	c.Action = slices.Clone(c.Action)
	c.Methods = slices.Clone(c.Methods)
	return c
}

// Challenge implements storage.ChallengeStore.
func (s *Store) Challenge(_ context.Context, tenant, id string) (storage.Challenge, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(); err != nil {
		return storage.Challenge{}, err
	}
	c, ok := s.challenges[tenantID{tenant, id}]
	if !ok {
		return storage.Challenge{}, fmt.Errorf("%w: challenge %q", storage.ErrNotFound, id)
	}
	return copyChallenge(c), nil
}

// UpdateChallenge implements storage.ChallengeStore.
func (s *Store) UpdateChallenge(_ context.Context, c storage.Challenge) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return err
	}
	k := tenantID{c.Tenant, c.ID}
	old, ok := s.challenges[k]
	if !ok {
		return fmt.Errorf("%w: challenge %q", storage.ErrNotFound, c.ID)
	}
	if old.Version != c.Version-1 {
		return fmt.Errorf("%w: the challenge changed meanwhile", storage.ErrConflict)
	}
	old.Status, old.Failures, old.PassedAt, old.Method, old.ConsumedAt, old.Version = c.Status, c.Failures, c.PassedAt, c.Method, c.ConsumedAt, c.Version
	s.challenges[k] = old
	return nil
}

// DeleteExpiredChallenges implements storage.ChallengeStore.
func (s *Store) DeleteExpiredChallenges(_ context.Context, before time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return 0, err
	}
	n := 0
	for k, c := range s.challenges {
		if c.ExpiresAt.Before(before) {
			delete(s.challenges, k)
			n++
		}
	}
	return n, nil
}

func copyProfile(p storage.TypingProfile) storage.TypingProfile {
	p.Template = slices.Clone(p.Template)
	s := make([][]float64, len(p.Samples))
	for i, v := range p.Samples {
		s[i] = slices.Clone(v)
	}
	p.Samples = s
	p.SampleEvents = slices.Clone(p.SampleEvents)
	return p
}

// TypingProfile implements storage.AuthnStore.
func (s *Store) TypingProfile(_ context.Context, tenant, userID string) (storage.TypingProfile, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(); err != nil {
		return storage.TypingProfile{}, err
	}
	p, ok := s.typing[tenantID{tenant, userID}]
	if !ok {
		return storage.TypingProfile{}, fmt.Errorf("%w: no typing profile", storage.ErrNotFound)
	}
	return copyProfile(p), nil
}

// PutTypingProfile implements storage.AuthnStore.
func (s *Store) PutTypingProfile(_ context.Context, p storage.TypingProfile) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return err
	}
	k := tenantID{p.Tenant, p.UserID}
	if s.typing[k].Version != p.Version-1 {
		return fmt.Errorf("%w: the typing profile changed meanwhile", storage.ErrConflict)
	}
	s.typing[k] = copyProfile(p)
	return nil
}

// ForgetDevices implements storage.AuthnStore.
func (s *Store) ForgetDevices(_ context.Context, tenant, userID string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return err
	}
	k := tenantID{tenant, userID}
	if at.After(s.forgotten[k]) {
		s.forgotten[k] = at
	}
	return nil
}

// DevicesForgottenAt implements storage.AuthnStore.
func (s *Store) DevicesForgottenAt(_ context.Context, tenant, userID string) (time.Time, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(); err != nil {
		return time.Time{}, err
	}
	return s.forgotten[tenantID{tenant, userID}], nil
}
