package account

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/shopguard/shopguard/internal/risk"
)

// Passwords answers k-anonymity range queries over a list of known-bad
// passwords (common or breached): the shop sends the first 5 hex
// characters of a password's SHA-1 and gets back the remaining 35 of every
// listed password with that prefix, then compares locally. Neither the
// password nor its full hash ever reaches shopguard. It is safe for
// concurrent use.
type Passwords struct {
	byPrefix map[string][]string // upper-case prefix -> sorted suffixes
	n        int
}

// NewPasswords indexes the SHA-1 hashes of passwords (duplicates count once).
func NewPasswords(passwords []string) *Passwords {
	p := &Passwords{byPrefix: map[string][]string{}}
	seen := map[[20]byte]bool{}
	for _, pw := range passwords {
		sum := sha1.Sum([]byte(pw))
		if seen[sum] {
			continue
		}
		seen[sum] = true
		h := strings.ToUpper(hex.EncodeToString(sum[:]))
		p.byPrefix[h[:5]] = append(p.byPrefix[h[:5]], h[5:])
		p.n++
	}
	for _, s := range p.byPrefix {
		slices.Sort(s)
	}
	return p
}

// Len returns the number of distinct passwords indexed.
func (p *Passwords) Len() int { return p.n }

// Range returns the suffixes (35 upper-case hex characters, sorted) of
// the listed passwords whose SHA-1 starts with prefix (5 hex characters,
// any case). An empty result is not an error. A malformed prefix is a
// *risk.FieldError on field "prefix".
func (p *Passwords) Range(prefix string) ([]string, error) {
	prefix = strings.ToUpper(strings.TrimSpace(prefix))
	if len(prefix) != 5 || !isHex(strings.ToLower(prefix)) {
		return nil, risk.Invalid("prefix", "%q: want the first 5 hex characters of the password's SHA-1", prefix)
	}
	return slices.Clone(p.byPrefix[prefix]), nil
}

// Contains reports whether password is on the list (for tests and tools;
// shops use Range so the password never leaves them).
func (p *Passwords) Contains(password string) bool {
	sum := sha1.Sum([]byte(password))
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	_, found := slices.BinarySearch(p.byPrefix[h[:5]], h[5:])
	return found
}

// String describes the list for logs.
func (p *Passwords) String() string { return fmt.Sprintf("%d known-bad passwords", p.n) }
