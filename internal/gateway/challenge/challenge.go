// Package challenge issues and checks the gateway's challenges and the
// clearances that passing one earns. Everything is stateless and signed
// (HMAC-SHA-256 with the gateway's secret), so several gateways sharing a
// secret accept each other's clearances, and nothing is stored per client.
//
// Two challenges: a proof of work (a browser runs a small script that
// finds a counter whose SHA-256 with the puzzle's nonce starts with Bits
// zero bits: cheap for one page view, costly for a bot making millions)
// and a wait (for clients without JavaScript: submit a form after a short
// pause; it needs no puzzle solving and no sight, only time, which is what
// a flood lacks). Both are bound to the client (its IP prefix, TLS
// fingerprint and user agent) and expire; so is the clearance.
package challenge

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"time"
)

// Kinds of challenge and of signed token.
const (
	kindPuzzle    = 'p'
	kindWait      = 'w'
	kindClearance = 'c'
)

// MinKeyLen is the shortest secret accepted.
const MinKeyLen = 32

// MaxBits bounds a puzzle's difficulty: 2^24 hashes are seconds on a
// phone already.
const MaxBits = 24

// Client is what a challenge and its clearance are bound to.
type Client struct {
	// Prefix is the client's IP prefix (/24, /48): a clearance survives a
	// new address in the same network, not a move to another.
	Prefix string
	// Fingerprint is the TLS fingerprint (JA4; "" without TLS).
	Fingerprint string
	// UserAgent is the User-Agent header.
	UserAgent string
}

// binding hashes the client into 16 bytes.
func (c Client) binding() [16]byte {
	h := sha256.New()
	for _, s := range []string{c.Prefix, c.Fingerprint, c.UserAgent} {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	var out [16]byte
	copy(out[:], h.Sum(nil))
	return out
}

// Signer makes and checks the signed tokens.
type Signer struct {
	key []byte
}

// NewSigner returns a signer with key (at least MinKeyLen bytes).
func NewSigner(key []byte) (*Signer, error) {
	if len(key) < MinKeyLen {
		return nil, fmt.Errorf("challenge: the secret must be at least %d bytes, not %d", MinKeyLen, len(key))
	}
	return &Signer{key: append([]byte(nil), key...)}, nil
}

// token is the signed content of every token: its kind, the client it is
// bound to, when it becomes valid and when it expires, a nonce and, for a
// puzzle, its difficulty.
type token struct {
	kind     byte
	bits     uint8
	client   [16]byte
	notAfter int64 // unix seconds
	earliest int64 // unix milliseconds; 0 = at once
	nonce    [12]byte
}

const tokenLen = 1 + 1 + 16 + 8 + 8 + 12

// ErrInvalid means a token is malformed, forged, expired, not yet valid
// or bound to another client; the wrapped text says which.
var ErrInvalid = errors.New("challenge: invalid")

func (s *Signer) sign(t token) string {
	b := make([]byte, 0, tokenLen+sha256.Size)
	b = append(b, t.kind, t.bits)
	b = append(b, t.client[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(t.notAfter))
	b = binary.BigEndian.AppendUint64(b, uint64(t.earliest))
	b = append(b, t.nonce[:]...)
	m := hmac.New(sha256.New, s.key)
	m.Write(b)
	b = m.Sum(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// open checks a token's signature, kind, client and times.
func (s *Signer) open(text string, kind byte, c Client, now time.Time) (token, error) {
	var t token
	if len(text) > 2*(tokenLen+sha256.Size) {
		return t, fmt.Errorf("%w: too long", ErrInvalid)
	}
	b, err := base64.RawURLEncoding.DecodeString(text)
	if err != nil || len(b) != tokenLen+sha256.Size {
		return t, fmt.Errorf("%w: malformed", ErrInvalid)
	}
	m := hmac.New(sha256.New, s.key)
	m.Write(b[:tokenLen])
	if !hmac.Equal(m.Sum(nil), b[tokenLen:]) {
		return t, fmt.Errorf("%w: bad signature", ErrInvalid)
	}
	t.kind, t.bits = b[0], b[1]
	copy(t.client[:], b[2:18])
	t.notAfter = int64(binary.BigEndian.Uint64(b[18:26]))
	t.earliest = int64(binary.BigEndian.Uint64(b[26:34]))
	copy(t.nonce[:], b[34:46])
	switch {
	case t.kind != kind:
		return t, fmt.Errorf("%w: not a token of this kind", ErrInvalid)
	case t.client != c.binding():
		return t, fmt.Errorf("%w: issued to another client", ErrInvalid)
	case now.Unix() > t.notAfter:
		return t, fmt.Errorf("%w: expired", ErrInvalid)
	case now.UnixMilli() < t.earliest:
		return t, fmt.Errorf("%w: submitted too early", ErrInvalid)
	}
	return t, nil
}

func newToken(kind byte, c Client, notAfter time.Time) token {
	t := token{kind: kind, client: c.binding(), notAfter: notAfter.Unix()}
	_, _ = rand.Read(t.nonce[:]) // crypto/rand.Read never fails
	return t
}

// Puzzle is a proof-of-work challenge as the page's script needs it.
type Puzzle struct {
	// Token is the signed puzzle; its text is the nonce the script hashes.
	Token string
	// Bits is how many leading zero bits the hash must have.
	Bits int
}

// Puzzle issues a proof of work of difficulty bits (1..MaxBits) for c,
// valid until ttl from now.
func (s *Signer) Puzzle(c Client, bits int, ttl time.Duration, now time.Time) (Puzzle, error) {
	if bits < 1 || bits > MaxBits {
		return Puzzle{}, fmt.Errorf("challenge: difficulty %d bits is outside 1..%d", bits, MaxBits)
	}
	t := newToken(kindPuzzle, c, now.Add(ttl))
	t.bits = uint8(bits)
	return Puzzle{Token: s.sign(t), Bits: bits}, nil
}

// maxCounter bounds the counter's text: 2^63 tries is beyond any client.
const maxCounter = 20

// Solved reports whether counter solves the puzzle token for c: SHA-256 of
// "token:counter" (counter in decimal) starts with the puzzle's bits zero
// bits. It returns ErrInvalid, wrapped, when it does not or the puzzle is
// not valid for c now.
func (s *Signer) Solved(puzzle, counter string, c Client, now time.Time) error {
	t, err := s.open(puzzle, kindPuzzle, c, now)
	if err != nil {
		return err
	}
	if counter == "" || len(counter) > maxCounter {
		return fmt.Errorf("%w: no counter", ErrInvalid)
	}
	if _, err := strconv.ParseUint(counter, 10, 64); err != nil {
		return fmt.Errorf("%w: the counter is not a number", ErrInvalid)
	}
	if LeadingZeros(puzzle, counter) < int(t.bits) {
		return fmt.Errorf("%w: the counter does not solve the puzzle", ErrInvalid)
	}
	return nil
}

// LeadingZeros returns the leading zero bits of SHA-256("puzzle:counter").
func LeadingZeros(puzzle, counter string) int {
	sum := sha256.Sum256([]byte(puzzle + ":" + counter))
	n := 0
	for _, b := range sum {
		if b != 0 {
			return n + bits.LeadingZeros8(b)
		}
		n += 8
	}
	return n
}

// Solve finds the smallest counter solving p (for tests and Go clients;
// browsers run the page's script).
func Solve(p Puzzle) string {
	for i := uint64(0); ; i++ {
		c := strconv.FormatUint(i, 10)
		if LeadingZeros(p.Token, c) >= p.Bits {
			return c
		}
	}
}

// Wait issues a wait ticket for c that may be submitted from wait after
// now until ttl after now.
func (s *Signer) Wait(c Client, wait, ttl time.Duration, now time.Time) string {
	t := newToken(kindWait, c, now.Add(ttl))
	t.earliest = now.Add(wait).UnixMilli()
	return s.sign(t)
}

// Waited checks a wait ticket submitted by c now.
func (s *Signer) Waited(ticket string, c Client, now time.Time) error {
	_, err := s.open(ticket, kindWait, c, now)
	return err
}

// Clearance issues the clearance c earned, valid for ttl.
func (s *Signer) Clearance(c Client, ttl time.Duration, now time.Time) string {
	return s.sign(newToken(kindClearance, c, now.Add(ttl)))
}

// Cleared checks a clearance presented by c now.
func (s *Signer) Cleared(clearance string, c Client, now time.Time) error {
	_, err := s.open(strings.TrimSpace(clearance), kindClearance, c, now)
	return err
}
