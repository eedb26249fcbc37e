package assistant

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// ErrBadToken means a conversation's client token is malformed, forged,
// expired or for another conversation.
var ErrBadToken = errors.New("assistant: invalid or expired conversation token")

// Tokens issues and checks client tokens: the capability a shop's page
// gets to talk to one conversation from the browser, without the shop's
// API key. A token names its tenant, conversation and expiry, signed
// with HMAC-SHA256.
type Tokens struct{ key []byte }

// NewTokens returns tokens signed with a key derived from secret (any
// length; shopguard passes its sealing key).
func NewTokens(secret []byte) *Tokens {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("shopguard assistant client tokens v1"))
	return &Tokens{key: m.Sum(nil)}
}

func (t *Tokens) mac(payload string) string {
	m := hmac.New(sha256.New, t.key)
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Issue returns the token of the tenant's conversation id, valid until exp.
func (t *Tokens) Issue(tenant, id string, exp time.Time) string {
	payload := base64.RawURLEncoding.EncodeToString([]byte(tenant)) + "." + id + "." + strconv.FormatInt(exp.Unix(), 10)
	return "sgc_" + payload + "." + t.mac(payload)
}

// Check returns the tenant and conversation a token is for, or
// ErrBadToken when it is not valid at now.
func (t *Tokens) Check(token string, now time.Time) (tenant, id string, err error) {
	rest, ok := strings.CutPrefix(token, "sgc_")
	parts := strings.Split(rest, ".")
	if !ok || len(parts) != 4 || len(token) > 512 {
		return "", "", ErrBadToken
	}
	payload := strings.Join(parts[:3], ".")
	if !hmac.Equal([]byte(parts[3]), []byte(t.mac(payload))) {
		return "", "", ErrBadToken
	}
	exp, err := strconv.ParseInt(parts[2], 10, 64)
	tb, derr := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil || derr != nil || now.Unix() >= exp {
		return "", "", ErrBadToken
	}
	return string(tb), parts[1], nil
}
