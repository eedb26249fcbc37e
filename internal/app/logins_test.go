package app_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shopguard/shopguard/client"
)

// TestLoginsEndToEnd scores login attempts through the API: credential
// stuffing from one address is blocked while a customer elsewhere gets in,
// the typed identifier is not stored, and bad input is a 400 naming the field.
func TestLoginsEndToEnd(t *testing.T) {
	e := start(t, t.TempDir())
	c := e.client(t, "shop")
	ctx := context.Background()
	now := time.Now().UTC().Add(-time.Minute)

	var last *client.Decision
	for i := range 12 {
		d, err := c.ScoreLogin(ctx, client.Login{ID: fmt.Sprintf("stuff-%d", i), CreatedAt: now.Add(time.Duration(i) * time.Second),
			Identifier: fmt.Sprintf("victim%d@example.com", i), IP: "203.0.113.99", Outcome: client.LoginUnknownUser,
			PasswordHashPrefix: client.PasswordHashPrefix("hunter2")})
		if err != nil {
			t.Fatal(err)
		}
		last = d
	}
	if last.Kind != "login" || last.Action != client.ActionBlock {
		t.Errorf("12th stuffing attempt: %+v", last)
	}
	ev, err := c.Event(ctx, last.ID)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(ev.Payload), "victim11") || !strings.Contains(string(ev.Payload), "sha256:") {
		t.Errorf("stored payload keeps the typed identifier: %s", ev.Payload)
	}
	ok, err := c.ScoreLogin(ctx, client.Login{ID: "ana-1", CreatedAt: now.Add(time.Minute), UserID: "u_ana", IP: "198.51.100.4",
		DeviceID: "ana-phone", Outcome: client.LoginSuccess})
	if err != nil || ok.Action != client.ActionAllow {
		t.Errorf("a customer from home: %+v, %v", ok, err)
	}

	// Known-bad passwords by k-anonymity: only a 5-character prefix is sent.
	for pw, want := range map[string]bool{"password": true, "iloveyou": true, "9f2c41d7 correct horse battery": false} {
		if got, err := c.KnownBadPassword(ctx, pw); err != nil || got != want {
			t.Errorf("KnownBadPassword(%q) = %v, %v; want %v", pw, got, err, want)
		}
	}
	_, err = c.PasswordRange(ctx, "5baa")
	wantStatus(t, err, http.StatusBadRequest, "prefix")

	_, err = c.ScoreLogin(ctx, client.Login{ID: "bad-1", CreatedAt: now, UserID: "u1", IP: "not-an-ip", Outcome: client.LoginSuccess})
	wantStatus(t, err, http.StatusBadRequest, "ip")
	_, err = c.ScoreLogin(ctx, client.Login{ID: "bad-2", CreatedAt: now, IP: "198.51.100.4", Outcome: client.LoginSuccess})
	wantStatus(t, err, http.StatusBadRequest, "user_id")
	_, err = c.ScoreLogin(ctx, client.Login{ID: "bad-3", CreatedAt: now, UserID: "u1", IP: "198.51.100.4", Outcome: "maybe"})
	wantStatus(t, err, http.StatusBadRequest, "outcome")

	// Sign-ups: a numbered series of addresses is blocked at the fifth.
	var su *client.Decision
	for i := range 5 {
		su, err = c.ScoreSignup(ctx, client.Signup{ID: fmt.Sprintf("su-%d", i), CreatedAt: now, Email: fmt.Sprintf("Promo.Hunter%d@Example.com", 200+i),
			IP: fmt.Sprintf("192.0.2.%d", i), DeviceID: fmt.Sprintf("d%d", i)})
		if err != nil {
			t.Fatal(err)
		}
	}
	if su.Kind != "signup" || su.Action != client.ActionBlock {
		t.Errorf("5th patterned sign-up: %+v", su)
	}
	_, err = c.ScoreSignup(ctx, client.Signup{ID: "su-bad", CreatedAt: now, Email: "not-an-address", IP: "192.0.2.1"})
	wantStatus(t, err, http.StatusBadRequest, "email")

	// A session started by a confirmed sign-in, then used from an unknown
	// device on an unknown network.
	if _, err := c.ScoreLogin(ctx, client.Login{ID: "ana-2", CreatedAt: now.Add(2 * time.Minute), UserID: "u_ana", IP: "198.51.100.4",
		DeviceID: "ana-phone", Outcome: client.LoginSuccess, SessionID: "sess-ana-1"}); err != nil {
		t.Fatal(err)
	}
	stolen, err := c.CheckSession(ctx, client.SessionCheck{ID: "chk-1", CreatedAt: now.Add(3 * time.Minute), UserID: "u_ana",
		SessionID: "sess-ana-1", IP: "192.0.2.77", DeviceID: "thief-laptop"})
	if err != nil || stolen.Action != client.ActionBlock {
		t.Errorf("a session cookie on a thief's device: %+v, %v", stolen, err)
	}
	_, err = c.CheckSession(ctx, client.SessionCheck{ID: "chk-2", CreatedAt: now, UserID: "u_ana", IP: "192.0.2.77"})
	wantStatus(t, err, http.StatusBadRequest, "session_id")
}
