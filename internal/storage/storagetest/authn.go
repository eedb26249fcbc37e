package storagetest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/storage"
)

func testTOTP(t *testing.T, b storage.Backend) {
	ctx := context.Background()
	if _, err := b.TOTP(ctx, "t1", "u1"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("TOTP before enrolment = %v, want ErrNotFound", err)
	}
	f := storage.TOTPFactor{Tenant: "t1", UserID: "u1", SealedSecret: []byte{1, 2, 3, 0, 255}, CreatedAt: base, Version: 1}
	if err := b.PutTOTP(ctx, f); err != nil {
		t.Fatal(err)
	}
	if got, err := b.TOTP(ctx, "t1", "u1"); err != nil || !reflect.DeepEqual(got, f) {
		t.Errorf("TOTP = %+v, %v; want %+v", got, err, f)
	}
	if _, err := b.TOTP(ctx, "t2", "u1"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("another tenant's factor = %v, want ErrNotFound", err)
	}
	// Confirm it: one update wins, a second one based on the same version loses.
	u := f
	u.ConfirmedAt, u.LastStep, u.Version = base.Add(time.Minute), 59_000_001, 2
	if err := b.UpdateTOTP(ctx, u); err != nil {
		t.Fatalf("UpdateTOTP: %v", err)
	}
	stale := f
	stale.Failures, stale.FailuresSince, stale.Version = 1, base, 2
	if err := b.UpdateTOTP(ctx, stale); !errors.Is(err, storage.ErrConflict) {
		t.Errorf("UpdateTOTP on a stale version = %v, want ErrConflict", err)
	}
	if got, _ := b.TOTP(ctx, "t1", "u1"); !reflect.DeepEqual(got, u) {
		t.Errorf("after the updates: %+v, want %+v", got, u)
	}
	if err := b.UpdateTOTP(ctx, storage.TOTPFactor{Tenant: "t1", UserID: "nobody", Version: 2}); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("UpdateTOTP of a missing factor = %v, want ErrNotFound", err)
	}
	// Re-enrolment replaces the factor.
	again := storage.TOTPFactor{Tenant: "t1", UserID: "u1", SealedSecret: []byte{9}, CreatedAt: base.Add(time.Hour), Version: 3}
	if err := b.PutTOTP(ctx, again); err != nil {
		t.Fatal(err)
	}
	if got, _ := b.TOTP(ctx, "t1", "u1"); !reflect.DeepEqual(got, again) {
		t.Errorf("after re-enrolment: %+v, want %+v", got, again)
	}
	if err := b.DeleteTOTP(ctx, "t1", "u1"); err != nil {
		t.Fatal(err)
	}
	if err := b.DeleteTOTP(ctx, "t1", "u1"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("second DeleteTOTP = %v, want ErrNotFound", err)
	}
}

func testRecoveryCodes(t *testing.T, b storage.Backend) {
	ctx := context.Background()
	if n, err := b.RecoveryCodesLeft(ctx, "t1", "u1"); err != nil || n != 0 {
		t.Fatalf("codes before any = %d, %v", n, err)
	}
	if err := b.ReplaceRecoveryCodes(ctx, "t1", "u1", []string{"h1", "h2", "h3"}, base); err != nil {
		t.Fatal(err)
	}
	if err := b.ReplaceRecoveryCodes(ctx, "t2", "u1", []string{"h1"}, base); err != nil {
		t.Fatal(err)
	}
	if err := b.UseRecoveryCode(ctx, "t1", "u1", "h2", base); err != nil {
		t.Fatalf("UseRecoveryCode: %v", err)
	}
	if err := b.UseRecoveryCode(ctx, "t1", "u1", "h2", base); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("a used code again = %v, want ErrNotFound", err)
	}
	if err := b.UseRecoveryCode(ctx, "t1", "u2", "h1", base); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("another user's code = %v, want ErrNotFound", err)
	}
	if n, _ := b.RecoveryCodesLeft(ctx, "t1", "u1"); n != 2 {
		t.Errorf("codes left = %d, want 2", n)
	}
	if n, _ := b.RecoveryCodesLeft(ctx, "t2", "u1"); n != 1 {
		t.Errorf("the other tenant's codes left = %d, want 1", n)
	}
	// New codes replace the old ones, used or not.
	if err := b.ReplaceRecoveryCodes(ctx, "t1", "u1", []string{"h4"}, base.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := b.UseRecoveryCode(ctx, "t1", "u1", "h1", base); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("a replaced code = %v, want ErrNotFound", err)
	}
	if n, _ := b.RecoveryCodesLeft(ctx, "t1", "u1"); n != 1 {
		t.Errorf("codes left after replacing = %d, want 1", n)
	}
}

func testTypingProfiles(t *testing.T, b storage.Backend) {
	ctx := context.Background()
	if _, err := b.TypingProfile(ctx, "t1", "u1"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("TypingProfile before any = %v, want ErrNotFound", err)
	}
	p := storage.TypingProfile{Tenant: "t1", UserID: "u1", Samples: [][]float64{{1, 2.5}, {3, -4}}, SampleEvents: []string{"ev_1", ""},
		UpdatedAt: base, Version: 1}
	if err := b.PutTypingProfile(ctx, p); err != nil {
		t.Fatal(err)
	}
	if got, err := b.TypingProfile(ctx, "t1", "u1"); err != nil || !reflect.DeepEqual(got, p) {
		t.Errorf("TypingProfile = %+v, %v; want %+v", got, err, p)
	}
	if _, err := b.TypingProfile(ctx, "t2", "u1"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("another tenant's profile = %v", err)
	}
	p.Template, p.Version = []byte(`{"version":1}`), 2
	if err := b.PutTypingProfile(ctx, p); err != nil {
		t.Fatal(err)
	}
	stale := p
	stale.Samples = nil
	if err := b.PutTypingProfile(ctx, stale); !errors.Is(err, storage.ErrConflict) {
		t.Errorf("a stale write = %v, want ErrConflict", err)
	}
	fresh := storage.TypingProfile{Tenant: "t1", UserID: "u2", Samples: [][]float64{}, UpdatedAt: base, Version: 2}
	if err := b.PutTypingProfile(ctx, fresh); !errors.Is(err, storage.ErrConflict) {
		t.Errorf("a first write with version 2 = %v, want ErrConflict", err)
	}
	if got, _ := b.TypingProfile(ctx, "t1", "u1"); !reflect.DeepEqual(got, p) {
		t.Errorf("after the writes: %+v, want %+v", got, p)
	}
}

func testChallenges(t *testing.T, b storage.Backend) {
	ctx := context.Background()
	c := storage.Challenge{ID: "ch_1", Tenant: "t1", UserID: "u1", Action: []byte(`{"type":"payment"}`), ActionHash: "ab12",
		Methods: []string{"passkey", "totp"}, EventID: "ev_1", DeviceID: "dev_9", CreatedAt: base, ExpiresAt: base.Add(5 * time.Minute),
		Status: "pending", Version: 1}
	if err := b.CreateChallenge(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := b.CreateChallenge(ctx, c); !errors.Is(err, storage.ErrConflict) {
		t.Errorf("creating it twice = %v, want ErrConflict", err)
	}
	if got, err := b.Challenge(ctx, "t1", "ch_1"); err != nil || !reflect.DeepEqual(got, c) {
		t.Errorf("Challenge = %+v, %v; want %+v", got, err, c)
	}
	if _, err := b.Challenge(ctx, "t2", "ch_1"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("another tenant's challenge = %v, want ErrNotFound", err)
	}
	passed := c
	passed.Status, passed.Failures, passed.PassedAt, passed.Method, passed.Version = "passed", 1, base.Add(time.Minute), "passkey", 2
	if err := b.UpdateChallenge(ctx, passed); err != nil {
		t.Fatal(err)
	}
	stale := c
	stale.Status, stale.Version = "failed", 2
	if err := b.UpdateChallenge(ctx, stale); !errors.Is(err, storage.ErrConflict) {
		t.Errorf("a stale update = %v, want ErrConflict", err)
	}
	consumed := passed
	consumed.ConsumedAt, consumed.Version = base.Add(2*time.Minute), 3
	if err := b.UpdateChallenge(ctx, consumed); err != nil {
		t.Fatal(err)
	}
	if got, _ := b.Challenge(ctx, "t1", "ch_1"); !reflect.DeepEqual(got, consumed) {
		t.Errorf("after the updates: %+v, want %+v", got, consumed)
	}
	later := c
	later.ID, later.ExpiresAt = "ch_2", base.Add(time.Hour)
	if err := b.CreateChallenge(ctx, later); err != nil {
		t.Fatal(err)
	}
	if n, err := b.DeleteExpiredChallenges(ctx, base.Add(10*time.Minute)); err != nil || n != 1 {
		t.Errorf("DeleteExpiredChallenges = %d, %v; want 1", n, err)
	}
	if _, err := b.Challenge(ctx, "t1", "ch_1"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("the expired challenge = %v, want ErrNotFound", err)
	}
	if _, err := b.Challenge(ctx, "t1", "ch_2"); err != nil {
		t.Errorf("the live challenge = %v", err)
	}
}

func testDeviceResets(t *testing.T, b storage.Backend) {
	ctx := context.Background()
	if at, err := b.DevicesForgottenAt(ctx, "t1", "u1"); err != nil || !at.IsZero() {
		t.Fatalf("before any reset: %v, %v", at, err)
	}
	for _, at := range []time.Time{base.Add(time.Hour), base} { // an earlier time does not move it back
		if err := b.ForgetDevices(ctx, "t1", "u1", at); err != nil {
			t.Fatal(err)
		}
	}
	if at, err := b.DevicesForgottenAt(ctx, "t1", "u1"); err != nil || !at.Equal(base.Add(time.Hour)) {
		t.Errorf("DevicesForgottenAt = %v, %v; want %v", at, err, base.Add(time.Hour))
	}
	if at, _ := b.DevicesForgottenAt(ctx, "t2", "u1"); !at.IsZero() {
		t.Errorf("another tenant's customer: %v", at)
	}
}
