package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shopguard/shopguard/client"
	"github.com/shopguard/shopguard/internal/app/apptest"
)

// signal reads a login signal of the decision's event.
func signal[T any](t *testing.T, c *client.Client, eventID, name string) T {
	t.Helper()
	ev, err := c.Event(context.Background(), eventID)
	if err != nil {
		t.Fatal(err)
	}
	var env struct {
		Signals map[string]json.RawMessage `json:"signals"`
	}
	if err := json.Unmarshal(ev.Features, &env); err != nil {
		t.Fatal(err)
	}
	var v T
	if raw, ok := env.Signals[name]; ok {
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatal(err)
		}
	}
	return v
}

// TestRememberedDeviceThroughTheAPI: a customer stepped up on a new
// laptop asks the shop to remember it; their next sign-ins from that
// laptop are not stepped up again for being unfamiliar, the token counts
// for nothing on another device and is never stored, and an account
// takeover label forgets every remembered device.
func TestRememberedDeviceThroughTheAPI(t *testing.T) {
	e := start(t, t.TempDir())
	c := e.client(t, "shop")
	ctx := context.Background()
	en := enrolApp(t, c, "u_ana")
	now := time.Now().UTC().Add(-time.Hour)
	ua := "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	// Sign-ins are dated a minute apart, and those after a takeover label
	// after the label's arrival (by the server's clock), as live sign-ins
	// are: a label counts in the features from when it arrives, so a
	// sign-in dated before it would see it only when both fall in the same
	// 6-hour bucket of the 30-day window, i.e. depending on the time of day.
	n, clock := 0, now
	login := func(ip, device, token, outcome string) *client.Decision {
		t.Helper()
		n++
		clock = clock.Add(time.Minute)
		d, err := c.ScoreLogin(ctx, client.Login{ID: fmt.Sprintf("l%d", n), CreatedAt: clock, UserID: "u_ana",
			IP: ip, DeviceID: device, UserAgent: ua, Outcome: outcome, RememberedDevice: token})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	takeover := func(eventID string) {
		t.Helper()
		l, err := c.SendFeedback(ctx, client.Feedback{EventID: eventID, Label: "account_takeover"})
		if err != nil {
			t.Fatal(err)
		}
		if l.CreatedAt.IsZero() {
			t.Fatalf("the label does not say when it arrived: %+v", l)
		}
		if l.CreatedAt.After(clock) {
			clock = l.CreatedAt
		}
	}
	login("198.51.100.4", "ana-phone", "", client.LoginSuccess)

	d := login("203.0.113.50", "laptop-x", "", client.LoginAttempt)
	if d.Action != client.ActionChallenge || d.Challenge == nil || d.Challenge.DeviceID != "laptop-x" {
		t.Fatalf("a new device on a new network: %+v (challenge %+v)", d, d.Challenge)
	}
	ans, err := c.AnswerChallenge(ctx, d.Challenge.ID, "totp", apptest.TOTPCode(t, en.Secret, time.Now()))
	if err != nil || ans.Token == "" {
		t.Fatalf("answer: %+v, %v", ans, err)
	}
	v, err := c.VerifyAndRemember(ctx, ans.Token, "u_ana", d.Challenge.Action, 30)
	if err != nil || !v.Valid || v.DeviceToken == "" || v.DeviceTokenExpiresAt == nil {
		t.Fatalf("verify and remember: %+v, %v", v, err)
	}
	token := v.DeviceToken

	// From the laptop on yet another network (the shop did not report the
	// stepped-up sign-in's success, so the laptop is still new to the
	// account's history): remembered, not stepped up.
	d = login("192.0.2.77", "laptop-x", token, client.LoginAttempt)
	if d.Action == client.ActionChallenge || !signal[bool](t, c, d.ID, "device_remembered") {
		t.Errorf("the remembered laptop on a new network: %s %v", d.Action, d.Reasons)
	}
	ev, err := c.Event(ctx, d.ID)
	if err != nil || strings.Contains(string(ev.Payload), token) || strings.Contains(string(ev.Payload), "remembered_device") {
		t.Errorf("the token was stored with the event: %s (%v)", ev.Payload, err)
	}
	// The token copied to another device counts for nothing.
	if d := login("192.0.2.78", "laptop-evil", token, client.LoginAttempt); d.Action != client.ActionChallenge || signal[bool](t, c, d.ID, "device_remembered") {
		t.Errorf("the token on another device: %s", d.Action)
	}
	_, err = c.ScoreLogin(ctx, client.Login{ID: "no-device", CreatedAt: now, UserID: "u_ana", IP: "192.0.2.79", Outcome: client.LoginAttempt, RememberedDevice: token})
	wantStatus(t, err, http.StatusBadRequest, "remembered_device")

	// An account takeover on the account forgets its remembered devices.
	// The stolen sign-in's success put the laptop in the account's history;
	// the label takes it out again, so the laptop is new once more.
	stolen := login("192.0.2.90", "laptop-x", token, client.LoginSuccess)
	takeover(stolen.ID)
	if d := login("192.0.2.91", "laptop-x", token, client.LoginAttempt); d.Action != client.ActionChallenge ||
		!hasReason(d, "rule:new_device_and_network") || signal[bool](t, c, d.ID, "device_remembered") {
		t.Errorf("the laptop after a takeover label: %s %v", d.Action, d.Reasons)
	}
	// So does a takeover label on one of the customer's payments (which
	// name the customer as user.id): a token earned afterwards is void too.
	fresh := rememberLaptop(t, c, en.Secret, login, time.Now().Add(30*time.Second))
	if d := login("192.0.2.92", "laptop-x", fresh, client.LoginAttempt); !signal[bool](t, c, d.ID, "device_remembered") {
		t.Fatal("a token earned after the takeover label does not count")
	}
	o := order("ana-order", 4999)
	o.User.ID = "u_ana"
	pay, err := c.ScoreTransaction(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	takeover(pay.ID)
	if d := login("192.0.2.93", "laptop-x", fresh, client.LoginAttempt); signal[bool](t, c, d.ID, "device_remembered") {
		t.Error("the laptop is still remembered after a payment of the account was labelled a takeover")
	}
	// The shop can forget them too.
	if err := c.ForgetRememberedDevices(ctx, "u_bob"); err != nil {
		t.Error(err)
	}
}

// rememberLaptop steps u_ana up on laptop-x (answering with the app's code
// at codeAt) and returns the token remembering the laptop.
func rememberLaptop(t *testing.T, c *client.Client, secret string, login func(ip, device, token, outcome string) *client.Decision, codeAt time.Time) string {
	t.Helper()
	ctx := context.Background()
	d := login("203.0.113.60", "laptop-x", "", client.LoginAttempt)
	if d.Challenge == nil {
		t.Fatalf("no step-up started: %s %v", d.Action, d.Reasons)
	}
	ans, err := c.AnswerChallenge(ctx, d.Challenge.ID, "totp", apptest.TOTPCode(t, secret, codeAt))
	if err != nil || ans.Token == "" {
		t.Fatalf("answer: %+v, %v", ans, err)
	}
	v, err := c.VerifyAndRemember(ctx, ans.Token, "u_ana", d.Challenge.Action, 0)
	if err != nil || v.DeviceToken == "" {
		t.Fatalf("verify and remember: %+v, %v", v, err)
	}
	return v.DeviceToken
}

// TestTakeoverLabelUnlearnsTyping: a sign-in labelled account_takeover
// is taken out of the customer's typing profile (here the tenth of ten
// samples, so the template goes with it).
func TestTakeoverLabelUnlearnsTyping(t *testing.T) {
	e := start(t, t.TempDir())
	c := e.client(t, "shop")
	ctx := context.Background()
	now := time.Now().UTC().Add(-time.Hour)
	rng := rand.New(rand.NewPCG(5, 6))
	keys := func() *client.Keystrokes {
		k := &client.Keystrokes{}
		for i := range 10 {
			k.HoldMS = append(k.HoldMS, 95*(1+0.1*rng.NormFloat64()))
			if i > 0 {
				k.FlightMS = append(k.FlightMS, 180*(1+0.12*rng.NormFloat64()))
			}
		}
		return k
	}
	login := func(id string, at time.Duration, outcome string) *client.Decision {
		t.Helper()
		d, err := c.ScoreLogin(ctx, client.Login{ID: id, CreatedAt: now.Add(at), UserID: "u_ana", IP: "198.51.100.4",
			DeviceID: "ana-laptop", Outcome: outcome, Keystrokes: keys()})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	var tenth *client.Decision
	for i := range 10 {
		tenth = login(fmt.Sprintf("s%d", i), time.Duration(i)*time.Minute, client.LoginSuccess)
	}
	if d := login("probe1", 11*time.Minute, client.LoginAttempt); signal[float64](t, c, d.ID, "typing_distance") == 0 {
		t.Fatal("no typing template after ten sign-ins")
	}
	if _, err := c.SendFeedback(ctx, client.Feedback{EventID: tenth.ID, Label: "account_takeover"}); err != nil {
		t.Fatal(err)
	}
	if d := login("probe2", 12*time.Minute, client.LoginAttempt); signal[float64](t, c, d.ID, "typing_distance") != 0 {
		t.Error("the template survived unlearning one of its ten samples")
	}
}
