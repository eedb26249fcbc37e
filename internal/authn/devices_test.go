package authn_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/authn"
	"github.com/shopguard/shopguard/internal/risk"
)

// TestRememberedDevices passes a step-up on a device, remembers it, and
// checks the token only counts for that shop, customer and device, until
// it expires or the customer's devices are forgotten.
func TestRememberedDevices(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	key := bytes.Repeat([]byte{7}, authn.KeySize)
	d := authn.NewDevices(authn.DevicesConfig{Now: f.clock.Now}, f.store, key)
	c := authn.NewChallenges(authn.ChallengeConfig{Now: f.clock.Now}, f.store, authn.ChallengeFactors{Apps: f.a, Devices: d}, key)
	secret := f.enrolled("u1")
	codes, err := f.a.NewRecoveryCodes(ctx, "shop", "u1")
	if err != nil {
		t.Fatal(err)
	}
	pass := func(device, method, code string) string {
		t.Helper()
		ch, err := c.Create(ctx, "shop", authn.ChallengeInput{UserID: "u1", Action: orderA, DeviceID: device})
		if err != nil {
			t.Fatal(err)
		}
		ans, err := c.Answer(ctx, "shop", ch.ID, authn.AnswerInput{Method: method, Code: code})
		if err != nil || ans.Token == "" {
			t.Fatalf("answer = %+v, %v", ans, err)
		}
		return ans.Token
	}

	approval := pass("dev_laptop", authn.MethodTOTP, f.code(secret, 0))
	if _, err := c.Verify(ctx, "shop", authn.VerifyInput{Token: approval, UserID: "u1", Action: orderA, RememberDevice: true, RememberDays: 91}); fieldOf(err) != "remember_days" {
		t.Errorf("91 days = %v, want a field error on remember_days", err)
	}
	if _, err := c.Verify(ctx, "shop", authn.VerifyInput{Token: approval, UserID: "u1", Action: orderA, RememberDays: 5}); fieldOf(err) != "remember_days" {
		t.Errorf("days without remember_device = %v, want a field error", err)
	}
	v, err := c.Verify(ctx, "shop", authn.VerifyInput{Token: approval, UserID: "u1", Action: orderA, RememberDevice: true, RememberDays: 14})
	if err != nil || !v.Valid || v.DeviceToken == "" || v.DeviceTokenExpiresAt == nil ||
		!v.DeviceTokenExpiresAt.Equal(f.clock.Now().Add(14*24*time.Hour).Truncate(time.Second)) {
		t.Fatalf("verify and remember = %+v, %v", v, err)
	}
	token := v.DeviceToken
	tests := []struct {
		name, tenant, user, device, token string
		want                              bool
		reason                            string
	}{
		{"as given", "shop", "u1", "dev_laptop", token, true, ""},
		{"another device", "shop", "u1", "dev_phone", token, false, "another device's"},
		{"no device", "shop", "u1", "", token, false, "another device's"},
		{"another customer", "shop", "u2", "dev_laptop", token, false, "another customer's"},
		{"another shop", "other", "u1", "dev_laptop", token, false, "another shop's"},
		{"forged", "shop", "u1", "dev_laptop", token[:len(token)-2] + "xx", false, "signature"},
		{"junk", "shop", "u1", "dev_laptop", "junk", false, "not a remembered-device token"},
		{"an approval token", "shop", "u1", "dev_laptop", approval, false, "signature"},
	}
	for _, tt := range tests {
		ok, reason, err := d.Check(ctx, tt.tenant, tt.user, tt.device, tt.token)
		if err != nil || ok != tt.want || !strings.Contains(reason, tt.reason) {
			t.Errorf("%s: Check = %v, %q, %v; want %v (%q)", tt.name, ok, reason, err, tt.want, tt.reason)
		}
	}
	f.clock.Add(14 * 24 * time.Hour)
	if ok, reason, _ := d.Check(ctx, "shop", "u1", "dev_laptop", token); ok || !strings.Contains(reason, "expired") {
		t.Errorf("after 14 days: %v, %q", ok, reason)
	}

	// Forgetting voids the tokens issued before, not those issued after.
	f.clock.Add(time.Minute)
	old := rememberFor(t, c, pass("dev_laptop", authn.MethodTOTP, f.code(secret, 0)))
	if err := d.Forget(ctx, "shop", "u1"); err != nil {
		t.Fatal(err)
	}
	if ok, reason, _ := d.Check(ctx, "shop", "u1", "dev_laptop", old); ok || !strings.Contains(reason, "forgotten") {
		t.Errorf("a token issued before forgetting: %v, %q", ok, reason)
	}
	f.clock.Add(time.Minute)
	fresh := rememberFor(t, c, pass("dev_laptop", authn.MethodTOTP, f.code(secret, 0)))
	if ok, reason, _ := d.Check(ctx, "shop", "u1", "dev_laptop", fresh); !ok {
		t.Errorf("a token issued after forgetting: %q", reason)
	}

	// A recovery code (the device may be lost) remembers nothing; a
	// challenge without a device has nothing to remember.
	v, err = c.Verify(ctx, "shop", authn.VerifyInput{Token: pass("dev_laptop", authn.MethodRecovery, codes[0]), UserID: "u1", Action: orderA, RememberDevice: true})
	if err != nil || !v.Valid || v.DeviceToken != "" {
		t.Errorf("recovery code: %+v, %v; want a valid approval without a device token", v, err)
	}
	f.clock.Add(time.Minute)
	_, err = c.Verify(ctx, "shop", authn.VerifyInput{Token: pass("", authn.MethodTOTP, f.code(secret, 0)), UserID: "u1", Action: orderA, RememberDevice: true})
	if fieldOf(err) != "remember_device" {
		t.Errorf("no device id: %v, want a field error on remember_device", err)
	}
}

// rememberFor redeems approval for order A, remembering the device.
func rememberFor(t *testing.T, c *authn.Challenges, approval string) string {
	t.Helper()
	v, err := c.Verify(context.Background(), "shop", authn.VerifyInput{Token: approval, UserID: "u1", Action: orderA, RememberDevice: true})
	if err != nil || v.DeviceToken == "" {
		t.Fatalf("verify and remember = %+v, %v", v, err)
	}
	return v.DeviceToken
}

// fieldOf returns the field of err's first field error ("" if none).
func fieldOf(err error) string {
	if fe := risk.FieldErrors(err); len(fe) > 0 {
		return fe[0].Field
	}
	return ""
}
