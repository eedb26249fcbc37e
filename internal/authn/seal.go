// Package authn is shopguard's strong customer authentication: the
// factors a shop's customers enrol (an authenticator app with one-time
// codes, recovery codes, passkeys), the step-up checks a risky
// sign-in, payment or account change is sent through.
package authn

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeySize is the length of a sealing key in bytes (AES-256).
const KeySize = 32

// ErrSealed means a sealed value could not be opened: the key is not the
// one it was sealed with, or the value was changed or moved.
var ErrSealed = errors.New("authn: sealed value does not open with this key")

// Sealer seals secrets kept at rest (authenticator-app secrets) with
// AES-256-GCM, bound to what they belong to, so that a copy of the
// database alone gives nothing away and a sealed value cannot be moved to
// another customer.
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer returns a sealer with key (KeySize bytes).
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("authn: sealing key has %d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("authn: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("authn: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// Seal returns plain sealed and bound to context (e.g. tenant and user).
func (s *Sealer) Seal(plain []byte, context string) []byte {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	_, _ = rand.Read(nonce)
	return s.aead.Seal(nonce, nonce, plain, []byte(context))
}

// Open returns the plain value of sealed, which must have been sealed
// with the same key and context; otherwise the error wraps ErrSealed.
func (s *Sealer) Open(sealed []byte, context string) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n+s.aead.Overhead() {
		return nil, fmt.Errorf("%w: too short", ErrSealed)
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], []byte(context))
	if err != nil {
		return nil, ErrSealed
	}
	return plain, nil
}

// LoadOrCreateKey reads the hex sealing key in path, or, when the file
// does not exist, makes a random key and writes it there (mode 0600) for
// the next start. Several instances sharing a database must share the key.
func LoadOrCreateKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key := make([]byte, KeySize)
		_, _ = rand.Read(key)
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, fmt.Errorf("authn: key directory: %w", err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) { // another process made it first
			return LoadOrCreateKey(path)
		}
		if err != nil {
			return nil, fmt.Errorf("authn: create key file: %w", err)
		}
		if _, err := f.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
			f.Close()
			return nil, fmt.Errorf("authn: write key file: %w", err)
		}
		if err := f.Close(); err != nil {
			return nil, fmt.Errorf("authn: write key file: %w", err)
		}
		return key, nil
	}
	if err != nil {
		return nil, fmt.Errorf("authn: read key file: %w", err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) != KeySize {
		return nil, fmt.Errorf("authn: key file %s must hold %d bytes as hex", path, KeySize)
	}
	return key, nil
}

// deriveKey returns the key for purpose derived from the sealing key
// (HMAC-SHA-256): every instance sharing the sealing key derives the same
// keys, and no derived key reveals another or the sealing key.
func deriveKey(sealKey []byte, purpose string) []byte {
	m := hmac.New(sha256.New, sealKey)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}
