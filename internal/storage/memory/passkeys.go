package memory

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/shopguard/shopguard/internal/storage"
)

// credKey finds a passkey by its credential: unique per tenant and RP ID.
type credKey struct{ tenant, rpID, credentialID string }

// passkeys holds passkeys, ceremonies and relying parties; Store's mutex
// guards it.
type passkeys struct {
	passkeys map[tenantID]storage.Passkey // by tenant and passkey ID
	byCred   map[credKey]string           // passkey ID
	// ceremonies are keyed by ID alone: like challenge IDs, ceremony IDs
	// are unique across tenants.
	ceremonies map[string]storage.Ceremony
	rps        map[string]storage.RelyingParty // by tenant
}

func newPasskeys() *passkeys {
	return &passkeys{passkeys: map[tenantID]storage.Passkey{}, byCred: map[credKey]string{},
		ceremonies: map[string]storage.Ceremony{}, rps: map[string]storage.RelyingParty{}}
}

// pk returns s's passkey records.
func (s *Store) pk() *passkeys { return s.passkeys }

// cloneBytes copies b; empty byte fields come back nil, as from sqlite.
func cloneBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return slices.Clone(b)
}

func copyPasskey(p storage.Passkey) storage.Passkey {
	p.CredentialID, p.UserHandle, p.PublicKey = cloneBytes(p.CredentialID), cloneBytes(p.UserHandle), cloneBytes(p.PublicKey)
	p.Attestation, p.AAGUID, p.Extensions = cloneBytes(p.Attestation), cloneBytes(p.AAGUID), cloneBytes(p.Extensions)
	p.Transports = slices.Clone(p.Transports)
	return p
}

func credOf(p storage.Passkey) credKey {
	return credKey{p.Tenant, p.RPID, string(p.CredentialID)}
}

// CreatePasskey implements storage.PasskeyStore.
func (s *Store) CreatePasskey(_ context.Context, p storage.Passkey) error {
	pk := s.pk()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return err
	}
	k := tenantID{p.Tenant, p.ID}
	if _, ok := pk.passkeys[k]; ok {
		return fmt.Errorf("%w: passkey %s exists", storage.ErrConflict, p.ID)
	}
	ck := credOf(p)
	if _, ok := pk.byCred[ck]; ok {
		return fmt.Errorf("%w: a passkey with this credential id exists", storage.ErrConflict)
	}
	pk.passkeys[k] = copyPasskey(p)
	pk.byCred[ck] = p.ID
	return nil
}

// Passkeys implements storage.PasskeyStore.
func (s *Store) Passkeys(_ context.Context, tenant, userID string) ([]storage.Passkey, error) {
	pk := s.pk()
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(); err != nil {
		return nil, err
	}
	var out []storage.Passkey
	for k, p := range pk.passkeys {
		if k.tenant == tenant && p.UserID == userID {
			out = append(out, copyPasskey(p))
		}
	}
	slices.SortFunc(out, func(a, b storage.Passkey) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// PasskeyByCredential implements storage.PasskeyStore.
func (s *Store) PasskeyByCredential(_ context.Context, tenant, rpID string, credentialID []byte) (storage.Passkey, error) {
	pk := s.pk()
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(); err != nil {
		return storage.Passkey{}, err
	}
	id, ok := pk.byCred[credKey{tenant, rpID, string(credentialID)}]
	if !ok {
		return storage.Passkey{}, fmt.Errorf("%w: no passkey with this credential id", storage.ErrNotFound)
	}
	return copyPasskey(pk.passkeys[tenantID{tenant, id}]), nil
}

// UpdatePasskey implements storage.PasskeyStore.
func (s *Store) UpdatePasskey(_ context.Context, p storage.Passkey) error {
	pk := s.pk()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return err
	}
	k := tenantID{p.Tenant, p.ID}
	old, ok := pk.passkeys[k]
	if !ok || old.UserID != p.UserID {
		return fmt.Errorf("%w: passkey %q", storage.ErrNotFound, p.ID)
	}
	if old.Version != p.Version-1 {
		return fmt.Errorf("%w: the passkey changed meanwhile", storage.ErrConflict)
	}
	oldCred, newCred := credOf(old), credOf(p)
	if newCred != oldCred {
		if _, taken := pk.byCred[newCred]; taken {
			return fmt.Errorf("%w: a passkey with this credential id exists", storage.ErrConflict)
		}
		delete(pk.byCred, oldCred)
		pk.byCred[newCred] = p.ID
	}
	pk.passkeys[k] = copyPasskey(p)
	return nil
}

// DeletePasskey implements storage.PasskeyStore.
func (s *Store) DeletePasskey(_ context.Context, tenant, userID, id string) error {
	pk := s.pk()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return err
	}
	k := tenantID{tenant, id}
	p, ok := pk.passkeys[k]
	if !ok || p.UserID != userID {
		return fmt.Errorf("%w: passkey %q", storage.ErrNotFound, id)
	}
	delete(pk.passkeys, k)
	delete(pk.byCred, credOf(p))
	return nil
}

// CreateCeremony implements storage.PasskeyStore.
func (s *Store) CreateCeremony(_ context.Context, c storage.Ceremony) error {
	pk := s.pk()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return err
	}
	if _, ok := pk.ceremonies[c.ID]; ok {
		return fmt.Errorf("%w: ceremony %s exists", storage.ErrConflict, c.ID)
	}
	c.Session = cloneBytes(c.Session)
	pk.ceremonies[c.ID] = c
	return nil
}

// TakeCeremony implements storage.PasskeyStore.
func (s *Store) TakeCeremony(_ context.Context, tenant, id string) (storage.Ceremony, error) {
	pk := s.pk()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return storage.Ceremony{}, err
	}
	c, ok := pk.ceremonies[id]
	if !ok || c.Tenant != tenant {
		return storage.Ceremony{}, fmt.Errorf("%w: ceremony %q", storage.ErrNotFound, id)
	}
	// Once taken, the stored copy is no one else's: no need to copy it again.
	delete(pk.ceremonies, id)
	return c, nil
}

// DeleteExpiredCeremonies implements storage.PasskeyStore.
func (s *Store) DeleteExpiredCeremonies(_ context.Context, before time.Time) (int, error) {
	pk := s.pk()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return 0, err
	}
	n := 0
	for id, c := range pk.ceremonies {
		if c.ExpiresAt.Before(before) {
			delete(pk.ceremonies, id)
			n++
		}
	}
	return n, nil
}

// RelyingParty implements storage.PasskeyStore.
func (s *Store) RelyingParty(_ context.Context, tenant string) (storage.RelyingParty, error) {
	pk := s.pk()
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(); err != nil {
		return storage.RelyingParty{}, err
	}
	rp, ok := pk.rps[tenant]
	if !ok {
		return storage.RelyingParty{}, fmt.Errorf("%w: no relying party settings", storage.ErrNotFound)
	}
	rp.Origins = slices.Clone(rp.Origins)
	return rp, nil
}

// PutRelyingParty implements storage.PasskeyStore.
func (s *Store) PutRelyingParty(_ context.Context, rp storage.RelyingParty) error {
	pk := s.pk()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return err
	}
	rp.Origins = slices.Clone(rp.Origins)
	pk.rps[rp.Tenant] = rp
	return nil
}
