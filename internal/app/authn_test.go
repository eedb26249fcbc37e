package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/shopguard/shopguard/client"
	"github.com/shopguard/shopguard/internal/app/apptest"
)

// TestAuthenticatorAppThroughTheAPI enrols a customer's authenticator app
// through the API as a shop would, verifies codes once each, rate-limits
// guessing, and survives a restart (the secret is sealed with the key in
// the data directory).
func TestAuthenticatorAppThroughTheAPI(t *testing.T) {
	dir := t.TempDir()
	e := start(t, dir)
	c := e.client(t, "shop")
	ctx := context.Background()

	_, err := c.EnrolTOTP(ctx, "u_ana", "Northwind: EU", "ana@example.com")
	wantStatus(t, err, http.StatusBadRequest, "issuer")
	_, err = c.EnrolTOTP(ctx, "u_ana", "Northwind", "")
	wantStatus(t, err, http.StatusBadRequest, "account_name")
	_, err = c.ConfirmTOTP(ctx, "u_ana", "123456")
	wantStatus(t, err, http.StatusConflict, "")

	en, err := c.EnrolTOTP(ctx, "u_ana", "Northwind", "ana@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(bytes.NewReader(en.QRCodePNG)); err != nil || en.Secret == "" {
		t.Fatalf("enrolment: QR %v, secret %q", err, en.Secret)
	}
	if f, err := c.Factors(ctx, "u_ana"); err != nil || f.TOTP != "pending" {
		t.Errorf("Factors while pending = %+v, %v", f, err)
	}
	_, err = c.ConfirmTOTP(ctx, "u_ana", "12345")
	wantStatus(t, err, http.StatusBadRequest, "code")
	first := apptest.TOTPCode(t, en.Secret, time.Now())
	codes, err := c.ConfirmTOTP(ctx, "u_ana", first)
	if err != nil || len(codes) != 10 {
		t.Fatalf("confirm: %v, %v", codes, err)
	}
	_, err = c.EnrolTOTP(ctx, "u_ana", "Northwind", "ana@example.com")
	wantStatus(t, err, http.StatusConflict, "")

	// Restart: the factor still verifies (and the used code stays used).
	e.srv.Close()
	if err := e.app.Close(); err != nil {
		t.Fatal(err)
	}
	e = start(t, dir)
	c = e.client(t, "shop")
	if ok, err := c.VerifyTOTP(ctx, "u_ana", first); err != nil || ok {
		t.Errorf("the confirming code again after a restart = %v, %v; want false", ok, err)
	}
	if ok, err := c.VerifyTOTP(ctx, "u_ana", apptest.TOTPCode(t, en.Secret, time.Now().Add(30*time.Second))); err != nil || !ok {
		t.Errorf("the next code = %v, %v; want true", ok, err)
	}
	if ok, err := c.VerifyTOTP(ctx, "nobody", "123456"); err != nil || ok {
		t.Errorf("a customer without an app = %v, %v; want false, no error", ok, err)
	}
	if ok, err := c.UseRecoveryCode(ctx, "u_ana", codes[0]); err != nil || !ok {
		t.Errorf("a recovery code = %v, %v", ok, err)
	}
	if ok, err := c.UseRecoveryCode(ctx, "u_ana", codes[0]); err != nil || ok {
		t.Errorf("the recovery code again = %v, %v; want false", ok, err)
	}

	// Guessing: five wrong codes, then even the right one is refused for a while.
	for range 5 {
		if ok, err := c.VerifyTOTP(ctx, "u_ana", "000000"); err != nil || ok {
			t.Fatalf("a wrong code = %v, %v", ok, err)
		}
	}
	_, err = c.VerifyTOTP(ctx, "u_ana", apptest.TOTPCode(t, en.Secret, time.Now()))
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Status != http.StatusTooManyRequests || ce.Code != "rate_limited" {
		t.Errorf("after five wrong codes: %v", err)
	}
	if f, err := c.Factors(ctx, "u_ana"); err != nil || f.TOTP != "active" || f.RecoveryCodesLeft != 9 {
		t.Errorf("Factors = %+v, %v", f, err)
	}
	if err := c.RemoveTOTP(ctx, "u_ana"); err != nil {
		t.Fatal(err)
	}
	err = c.RemoveTOTP(ctx, "u_ana")
	wantStatus(t, err, http.StatusNotFound, "")
}

// TestStepUpBoundToTheOrder runs a checkout step-up through the API: the
// customer approves order A with the authenticator app, the approval
// verifies for order A once and never for order B, and a customer
// without a second factor cannot be challenged.
func TestStepUpBoundToTheOrder(t *testing.T) {
	e := start(t, t.TempDir())
	c := e.client(t, "shop")
	ctx := context.Background()
	en := enrolApp(t, c, "u_ana")
	orderA := client.ChallengeAction{Type: "payment", Description: "Pay 129.00 EUR for order 8812", AmountMinor: 12900, Currency: "EUR", Reference: "8812"}
	orderB := orderA
	orderB.Reference = "8813"

	_, err := c.CreateChallenge(ctx, "u_ana", client.ChallengeAction{Type: "payment", Description: "x", AmountMinor: 5}, "")
	wantStatus(t, err, http.StatusBadRequest, "action.currency")
	_, err = c.CreateChallenge(ctx, "u_bob", orderA, "")
	wantStatus(t, err, http.StatusConflict, "")

	ch, err := c.CreateChallenge(ctx, "u_ana", orderA, "")
	if err != nil || ch.Status != "pending" || ch.Action != orderA {
		t.Fatalf("challenge: %+v, %v", ch, err)
	}
	_, err = c.AnswerChallenge(ctx, ch.ID, "sms", "123456")
	wantStatus(t, err, http.StatusBadRequest, "method")
	ans, err := c.AnswerChallenge(ctx, ch.ID, "totp", apptest.TOTPCode(t, en.Secret, time.Now()))
	if err != nil || ans.Challenge.Status != "passed" || ans.Token == "" {
		t.Fatalf("answer: %+v, %v", ans, err)
	}
	if v, err := c.VerifyApproval(ctx, ans.Token, "u_ana", orderB); err != nil || v.Valid {
		t.Errorf("order A's approval for order B: %+v, %v", v, err)
	}
	if v, err := c.VerifyApproval(ctx, ans.Token, "u_ana", orderA); err != nil || !v.Valid || v.ChallengeID != ch.ID {
		t.Errorf("order A's approval: %+v, %v", v, err)
	}
	if v, err := c.VerifyApproval(ctx, ans.Token, "u_ana", orderA); err != nil || v.Valid {
		t.Errorf("order A's approval a second time: %+v, %v", v, err)
	}
	if got, err := c.Challenge(ctx, ch.ID); err != nil || got.ConsumedAt == nil || got.Method != "totp" {
		t.Errorf("the challenge after: %+v, %v", got, err)
	}
	_, err = c.AnswerChallenge(ctx, ch.ID, "totp", apptest.TOTPCode(t, en.Secret, time.Now().Add(30*time.Second)))
	wantStatus(t, err, http.StatusConflict, "")
	other := e.client(t, "other-shop")
	_, err = other.Challenge(ctx, ch.ID)
	wantStatus(t, err, http.StatusNotFound, "")
}

// TestChallengeDecisionsStartTheStepUp checks that a sign-in shopguard
// wants to challenge comes with the challenge, already started, for a
// customer with an authenticator app, and without one for a customer
// who has none.
func TestChallengeDecisionsStartTheStepUp(t *testing.T) {
	e := start(t, t.TempDir())
	c := e.client(t, "shop")
	ctx := context.Background()
	en := enrolApp(t, c, "u_ana")
	now := time.Now().UTC().Add(-time.Minute)
	ua := "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	for _, u := range []string{"u_ana", "u_bob"} {
		if _, err := c.ScoreLogin(ctx, client.Login{ID: u + "-home", CreatedAt: now, UserID: u, IP: "198.51.100.4", DeviceID: u + "-phone",
			UserAgent: ua, Outcome: client.LoginSuccess}); err != nil {
			t.Fatal(err)
		}
	}
	d, err := c.ScoreLogin(ctx, client.Login{ID: "ana-new", CreatedAt: now.Add(time.Second), UserID: "u_ana", IP: "203.0.113.50",
		DeviceID: "laptop-x", UserAgent: ua, Outcome: client.LoginAttempt})
	if err != nil || d.Action != client.ActionChallenge {
		t.Fatalf("a new device on a new network: %+v, %v", d, err)
	}
	if d.Challenge == nil || d.Challenge.Status != "pending" || d.Challenge.EventID != d.ID ||
		d.Challenge.Action.Type != "login" || d.Challenge.Action.Reference != "ana-new" ||
		d.Challenge.Action.Description != "Sign in to your account with Chrome 131 on Windows" {
		t.Fatalf("the decision's challenge: %+v", d.Challenge)
	}
	ans, err := c.AnswerChallenge(ctx, d.Challenge.ID, "totp", apptest.TOTPCode(t, en.Secret, time.Now()))
	if err != nil || ans.Token == "" {
		t.Fatalf("answer: %+v, %v", ans, err)
	}
	if v, err := c.VerifyApproval(ctx, ans.Token, "u_ana", d.Challenge.Action); err != nil || !v.Valid {
		t.Errorf("the sign-in's approval: %+v, %v", v, err)
	}
	bob, err := c.ScoreLogin(ctx, client.Login{ID: "bob-new", CreatedAt: now.Add(2 * time.Second), UserID: "u_bob", IP: "203.0.113.51",
		DeviceID: "laptop-y", UserAgent: ua, Outcome: client.LoginAttempt})
	if err != nil || bob.Action != client.ActionChallenge || bob.Challenge != nil {
		t.Errorf("a customer without a second factor: %+v, %v", bob, err)
	}
}

// TestTypingRhythmThroughTheAPI: ten confirmed sign-ins with keystrokes
// make the customer's typing template; then their own typing stays below
// the rule's threshold and someone else typing the same password is
// flagged (typing_rhythm_unfamiliar).
func TestTypingRhythmThroughTheAPI(t *testing.T) {
	e := start(t, t.TempDir())
	c := e.client(t, "shop")
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(3, 4))
	rhythm := func(hold, flight float64, base int64) func() *client.Keystrokes {
		r := rand.New(rand.NewPCG(uint64(base), 9))
		var h, f []float64
		for i := range 10 {
			h = append(h, hold*(0.7+0.6*r.Float64()))
			if i > 0 {
				f = append(f, flight*(0.5+r.Float64()))
			}
		}
		return func() *client.Keystrokes {
			k := &client.Keystrokes{}
			for _, v := range h {
				k.HoldMS = append(k.HoldMS, v*(1+0.1*rng.NormFloat64()))
			}
			for _, v := range f {
				k.FlightMS = append(k.FlightMS, v*(1+0.12*rng.NormFloat64()))
			}
			return k
		}
	}
	ana, mallory := rhythm(95, 180, 1), rhythm(125, 270, 2)
	now := time.Now().UTC().Add(-time.Hour)
	login := func(id string, at time.Duration, ks *client.Keystrokes, outcome string) (*client.Decision, float64) {
		t.Helper()
		d, err := c.ScoreLogin(ctx, client.Login{ID: id, CreatedAt: now.Add(at), UserID: "u_ana", IP: "198.51.100.4",
			DeviceID: "ana-laptop", Outcome: outcome, Keystrokes: ks})
		if err != nil {
			t.Fatal(err)
		}
		ev, err := c.Event(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		var env struct {
			Signals struct {
				TypingDistance float64 `json:"typing_distance"`
			} `json:"signals"`
		}
		if err := json.Unmarshal(ev.Features, &env); err != nil {
			t.Fatal(err)
		}
		return d, env.Signals.TypingDistance
	}
	for i := range 10 {
		if _, dist := login(fmt.Sprintf("enrol-%d", i), time.Duration(i)*time.Minute, ana(), client.LoginSuccess); dist != 0 {
			t.Errorf("sign-in %d before the template exists: typing distance %v", i+1, dist)
		}
	}
	d, own := login("own", 20*time.Minute, ana(), client.LoginAttempt)
	if own == 0 || own >= 2.1 || hasReason(d, "rule:typing_rhythm_unfamiliar") {
		t.Errorf("the customer's own typing: distance %v, reasons %v", own, d.Reasons)
	}
	d, other := login("other", 21*time.Minute, mallory(), client.LoginAttempt)
	if other < 2.1 || !hasReason(d, "rule:typing_rhythm_unfamiliar") {
		t.Errorf("someone else typing the password: distance %v, reasons %v", other, d.Reasons)
	}
	_, err := c.ScoreLogin(ctx, client.Login{ID: "bad", CreatedAt: now, UserID: "u_ana", IP: "198.51.100.4", Outcome: client.LoginAttempt,
		Keystrokes: &client.Keystrokes{HoldMS: []float64{90, 3000}, FlightMS: []float64{10}}})
	wantStatus(t, err, http.StatusBadRequest, "keystrokes.hold_ms[1]")
}

func hasReason(d *client.Decision, code string) bool {
	for _, r := range d.Reasons {
		if r.Code == code {
			return true
		}
	}
	return false
}

// enrolApp enrols and confirms an authenticator app for user (with the
// previous step's code, so that the current one is still unused).
func enrolApp(t *testing.T, c *client.Client, user string) *client.TOTPEnrolment {
	t.Helper()
	ctx := context.Background()
	en, err := c.EnrolTOTP(ctx, user, "Northwind", user+"@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ConfirmTOTP(ctx, user, apptest.TOTPCode(t, en.Secret, time.Now().Add(-30*time.Second))); err != nil {
		t.Fatal(err)
	}
	return en
}
