// Package apikey creates and verifies the API keys that callers of the /v1
// API present as "Authorization: Bearer sg_...". A key belongs to one
// tenant (shop) and carries scopes; only its SHA-256 hash is stored.
package apikey

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/shopguard/shopguard/internal/storage"
)

// Errors returned by Authenticate.
var (
	// ErrMissing means the request carried no key.
	ErrMissing = errors.New("apikey: no API key")
	// ErrInvalid means the key is malformed, unknown or revoked.
	ErrInvalid = errors.New("apikey: invalid API key")
)

// Scope names a permission.
type Scope string

// The scopes.
const (
	ScopeEventsWrite   Scope = "events:write"   // submit events for decisions
	ScopeEventsRead    Scope = "events:read"    // read events and decisions
	ScopeFeedbackWrite Scope = "feedback:write" // attach labels to events
	ScopeRulesRead     Scope = "rules:read"     // read rules and lists, run backtests
	ScopeRulesWrite    Scope = "rules:write"    // change rules and lists
)

// AllScopes lists every scope; keys get them all unless told otherwise.
var AllScopes = []Scope{ScopeEventsWrite, ScopeEventsRead, ScopeFeedbackWrite, ScopeRulesRead, ScopeRulesWrite}

// ParseScopes parses scope names, rejecting unknown ones.
func ParseScopes(names []string) ([]Scope, error) {
	var out []Scope
	for _, n := range names {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if !slices.Contains(AllScopes, Scope(n)) {
			return nil, fmt.Errorf("apikey: unknown scope %q (known: %v)", n, AllScopes)
		}
		if !slices.Contains(out, Scope(n)) {
			out = append(out, Scope(n))
		}
	}
	if len(out) == 0 {
		return nil, errors.New("apikey: no scopes given")
	}
	return out, nil
}

var tenantRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// ValidTenant reports whether name is a valid tenant name: 1-64 lower-case
// letters, digits, '-' or '_', starting with a letter or digit.
func ValidTenant(name string) bool { return tenantRE.MatchString(name) }

const secretPrefix = "sg_"

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// Key is a verified key: the tenant it acts for and what it may do.
type Key struct {
	ID     string
	Tenant string
	Scopes []Scope
}

// Allows reports whether the key has scope s.
func (k Key) Allows(s Scope) bool { return slices.Contains(k.Scopes, s) }

// New makes a new key for tenant: the secret to hand to the caller once and
// the record to store (which holds only the secret's hash).
func New(tenant, name string, scopes []Scope, now time.Time) (secret string, rec storage.APIKey, err error) {
	if !ValidTenant(tenant) {
		return "", rec, fmt.Errorf("apikey: tenant %q must be 1-64 characters of a-z, 0-9, '-' and '_'", tenant)
	}
	if len(scopes) == 0 {
		return "", rec, errors.New("apikey: no scopes given")
	}
	var raw [32]byte
	_, _ = rand.Read(raw[:])
	secret = secretPrefix + strings.ToLower(b32.EncodeToString(raw[:]))
	var idRaw [8]byte
	_, _ = rand.Read(idRaw[:])
	rec = storage.APIKey{
		ID:        "sgk_" + hex.EncodeToString(idRaw[:]),
		Tenant:    tenant,
		Hash:      Hash(secret),
		Name:      name,
		CreatedAt: now.UTC().Truncate(time.Microsecond),
	}
	for _, s := range scopes {
		rec.Scopes = append(rec.Scopes, string(s))
	}
	return secret, rec, nil
}

// Hash returns the hex SHA-256 of a secret. Keys carry 256 random bits, so a
// fast hash is enough: there is nothing to brute-force.
func Hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// KeyFinder looks keys up by hash.
type KeyFinder interface {
	KeyByHash(ctx context.Context, hash string) (storage.APIKey, error)
}

// Authenticator verifies keys, caching verified and unknown keys for a
// short TTL so a busy API does not query storage on every request. A
// revoked key stops working within the TTL.
type Authenticator struct {
	store KeyFinder
	ttl   time.Duration
	now   func() time.Time

	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	key     Key
	err     error
	expires time.Time
}

// maxCache bounds the cache; beyond it the cache is cleared (keys are few).
const maxCache = 10_000

// NewAuthenticator returns an Authenticator over store; ttl 0 disables caching.
func NewAuthenticator(store KeyFinder, ttl time.Duration) *Authenticator {
	return &Authenticator{store: store, ttl: ttl, now: time.Now, cache: map[string]cached{}}
}

// Authenticate verifies the value of an Authorization header.
func (a *Authenticator) Authenticate(ctx context.Context, header string) (Key, error) {
	if header == "" {
		return Key{}, ErrMissing
	}
	scheme, secret, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return Key{}, fmt.Errorf("%w: send the header %q", ErrInvalid, "Authorization: Bearer sg_<key>")
	}
	secret = strings.TrimSpace(secret)
	if !strings.HasPrefix(secret, secretPrefix) || len(secret) > 128 {
		return Key{}, fmt.Errorf("%w: keys start with %q", ErrInvalid, secretPrefix)
	}
	h := Hash(secret)
	now := a.now()
	if a.ttl > 0 {
		a.mu.Lock()
		c, ok := a.cache[h]
		a.mu.Unlock()
		if ok && now.Before(c.expires) {
			return c.key, c.err
		}
	}
	key, err := a.lookup(ctx, h)
	if err != nil && !errors.Is(err, ErrInvalid) {
		return Key{}, err // storage trouble: do not cache
	}
	if a.ttl > 0 {
		a.mu.Lock()
		if len(a.cache) >= maxCache {
			clear(a.cache)
		}
		a.cache[h] = cached{key: key, err: err, expires: now.Add(a.ttl)}
		a.mu.Unlock()
	}
	return key, err
}

func (a *Authenticator) lookup(ctx context.Context, hash string) (Key, error) {
	rec, err := a.store.KeyByHash(ctx, hash)
	if errors.Is(err, storage.ErrNotFound) {
		return Key{}, ErrInvalid
	}
	if err != nil {
		return Key{}, fmt.Errorf("apikey: %w", err)
	}
	if !rec.RevokedAt.IsZero() {
		return Key{}, fmt.Errorf("%w: key %s was revoked", ErrInvalid, rec.ID)
	}
	k := Key{ID: rec.ID, Tenant: rec.Tenant}
	for _, s := range rec.Scopes {
		k.Scopes = append(k.Scopes, Scope(s))
	}
	return k, nil
}

// Forget drops every cached verdict, e.g. after a key is revoked in-process.
func (a *Authenticator) Forget() {
	a.mu.Lock()
	clear(a.cache)
	a.mu.Unlock()
}
