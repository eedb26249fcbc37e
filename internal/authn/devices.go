package authn

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/shopguard/shopguard/internal/risk"
)

// DeviceStore keeps when customers' remembered devices were forgotten.
type DeviceStore interface {
	ForgetDevices(ctx context.Context, tenant, userID string, at time.Time) error
	DevicesForgottenAt(ctx context.Context, tenant, userID string) (time.Time, error)
}

// DevicesConfig configures remembered devices. Zero values take defaults.
type DevicesConfig struct {
	// DefaultDays is how long a device is remembered when the shop does not
	// say (default 30); MaxDays the longest it may ask for (default 90).
	DefaultDays int
	MaxDays     int
	// Now returns the time (default time.Now).
	Now func() time.Time
}

// Devices remembers the devices customers passed a step-up on: a signed
// token, bound to the tenant, the customer and the shop's device id,
// valid for a bounded number of days, which a later sign-in from that
// device presents so it is not stepped up again for being unfamiliar.
// Forgetting a customer's devices (an account takeover, the customer's
// wish) voids every token issued before.
type Devices struct {
	cfg   DevicesConfig
	store DeviceStore
	key   []byte
}

// NewDevices returns remembered devices over store, their tokens signed
// with a key derived from sealKey.
func NewDevices(cfg DevicesConfig, store DeviceStore, sealKey []byte) *Devices {
	if cfg.MaxDays <= 0 {
		cfg.MaxDays = 90
	}
	if cfg.DefaultDays <= 0 {
		cfg.DefaultDays = min(30, cfg.MaxDays)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Devices{cfg: cfg, store: store, key: deriveKey(sealKey, "shopguard remembered device key v1")}
}

// deviceClaims are a remembered-device token's claims (a JWT, HS256:
// only shopguard checks it).
type deviceClaims struct {
	Typ      string `json:"typ"`
	Subject  string `json:"sub"`
	Audience string `json:"aud"`
	// Device is the hex SHA-256 of the shop's device id.
	Device   string `json:"dev"`
	IssuedAt int64  `json:"iat"`
	Expires  int64  `json:"exp"`
	// IssuedAtMicros orders it against forgetting, to the microsecond.
	IssuedAtMicros int64 `json:"iat_us"`
	// Challenge is the step-up that earned it.
	Challenge string `json:"jti"`
}

const deviceTokenType = "shopguard-remembered-device"

func deviceHash(deviceID string) string {
	sum := sha256.Sum256([]byte(deviceID))
	return hex.EncodeToString(sum[:])
}

// checkDays validates how many days a device is to be remembered (0:
// the default) and returns them.
func (d *Devices) checkDays(days int) (int, *risk.FieldError) {
	switch {
	case days == 0:
		return d.cfg.DefaultDays, nil
	case days < 1 || days > d.cfg.MaxDays:
		return 0, risk.Invalid("remember_days", "%d is outside 1..%d", days, d.cfg.MaxDays)
	}
	return days, nil
}

// remember returns a token that remembers the customer's device for days
// from now, earned by challengeID, and when it expires.
func (d *Devices) remember(tenant, userID, deviceID, challengeID string, days int) (string, time.Time) {
	now := d.cfg.Now()
	exp := now.Add(time.Duration(days) * 24 * time.Hour).Truncate(time.Second)
	header, _ := json.Marshal(map[string]string{"alg": "HS256", "typ": "JWT"})
	claims, _ := json.Marshal(deviceClaims{Typ: deviceTokenType, Subject: userID, Audience: tenant, Device: deviceHash(deviceID),
		IssuedAt: now.Unix(), IssuedAtMicros: now.UnixMicro(), Expires: exp.Unix(), Challenge: challengeID})
	signing := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(claims)
	return signing + "." + base64.RawURLEncoding.EncodeToString(d.mac(signing)), exp.UTC()
}

func (d *Devices) mac(s string) []byte {
	m := hmac.New(sha256.New, d.key)
	m.Write([]byte(s))
	return m.Sum(nil)
}

// MaxTokenLength bounds a remembered-device token (one for the longest
// tenant and customer ids, all escaped in JSON, fits).
const MaxTokenLength = 2048

// Check reports whether token remembers the customer's device deviceID
// for the tenant now: signed by shopguard, for that shop, customer and
// device, not expired, and issued after the customer's devices were last
// forgotten. A token that is not valid is an answer (false, with the
// reason), not an error.
func (d *Devices) Check(ctx context.Context, tenant, userID, deviceID, token string) (bool, string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 || len(token) > MaxTokenLength {
		return false, "not a remembered-device token", nil
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, d.mac(parts[0]+"."+parts[1])) {
		return false, "the token's signature does not verify", nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	var c deviceClaims
	if err != nil || json.Unmarshal(raw, &c) != nil || c.Typ != deviceTokenType {
		return false, "not a remembered-device token", nil
	}
	now := d.cfg.Now()
	switch {
	case c.Audience != tenant:
		return false, "the token is another shop's", nil
	case c.Subject != userID:
		return false, "the token is another customer's", nil
	case deviceID == "" || !hmac.Equal([]byte(c.Device), []byte(deviceHash(deviceID))):
		return false, "the token is another device's", nil
	case now.Unix() >= c.Expires:
		return false, "the token has expired", nil
	}
	forgotten, err := d.store.DevicesForgottenAt(ctx, tenant, userID)
	if err != nil {
		return false, "", fmt.Errorf("authn: read device reset: %w", err)
	}
	if !forgotten.IsZero() && c.IssuedAtMicros <= forgotten.UnixMicro() {
		return false, "the customer's remembered devices were forgotten since", nil
	}
	return true, "", nil
}

// Forget voids every remembered-device token the customer has now.
func (d *Devices) Forget(ctx context.Context, tenant, userID string) error {
	if e := checkUserID(userID); e != nil {
		return e
	}
	if err := d.store.ForgetDevices(ctx, tenant, userID, d.cfg.Now().UTC().Truncate(time.Microsecond)); err != nil {
		return fmt.Errorf("authn: forget devices: %w", err)
	}
	return nil
}
