package authn_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/authn"
	"github.com/shopguard/shopguard/internal/risk"
)

func newChallenges(f *fixture) *authn.Challenges {
	return authn.NewChallenges(authn.ChallengeConfig{Now: f.clock.Now}, f.store, authn.ChallengeFactors{Apps: f.a}, bytes.Repeat([]byte{7}, authn.KeySize))
}

var orderA = authn.Action{Type: "payment", Description: "Pay 129.00 EUR for order 8812", AmountMinor: 12900, Currency: "EUR", Reference: "8812"}

// TestApprovalIsBoundToTheAction is the dynamic linking PSD2 asks of card
// payments: the approval of order A does not verify for order B, another
// customer or another shop, and verifies only once.
func TestApprovalIsBoundToTheAction(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	secret := f.enrolled("u1")
	c := newChallenges(f)

	ch, err := c.Create(ctx, "shop", authn.ChallengeInput{UserID: "u1", Action: orderA, EventID: "ev_1"})
	if err != nil {
		t.Fatal(err)
	}
	if ch.Status != authn.StatusPending || strings.Join(ch.Methods, ",") != "totp,recovery_code" || !strings.HasPrefix(ch.ID, "ch_") {
		t.Errorf("created %+v", ch)
	}
	ans, err := c.Answer(ctx, "shop", ch.ID, authn.AnswerInput{Method: authn.MethodTOTP, Code: f.code(secret, 0)})
	if err != nil || ans.Challenge.Status != authn.StatusPassed || ans.Token == "" {
		t.Fatalf("answer: %+v, %v", ans, err)
	}
	if _, err := c.Answer(ctx, "shop", ch.ID, authn.AnswerInput{Method: authn.MethodTOTP, Code: f.code(secret, 30*time.Second)}); !errors.Is(err, authn.ErrChallengeClosed) {
		t.Errorf("answering a passed challenge = %v", err)
	}

	orderB := orderA
	orderB.Reference, orderB.Description = "8813", "Pay 129.00 EUR for order 8813"
	more := orderA
	more.AmountMinor = 12901
	for _, tc := range []struct {
		name, tenant, user, token string
		action                    authn.Action
		reason                    string
	}{
		{"order B", "shop", "u1", ans.Token, orderB, "another action"},
		{"another amount", "shop", "u1", ans.Token, more, "another action"},
		{"another customer", "shop", "u2", ans.Token, orderA, "another customer"},
		{"another shop", "other", "u1", ans.Token, orderA, "another shop"},
		{"forged", "shop", "u1", ans.Token[:len(ans.Token)-4] + "AAAA", orderA, "signature"},
		{"not a token", "shop", "u1", "hello", orderA, "not a signed approval"},
	} {
		v, err := c.Verify(ctx, tc.tenant, authn.VerifyInput{Token: tc.token, UserID: tc.user, Action: tc.action})
		if err != nil || v.Valid || !strings.Contains(v.Reason, tc.reason) {
			t.Errorf("%s: %+v, %v; want invalid, %q", tc.name, v, err, tc.reason)
		}
	}
	v, err := c.Verify(ctx, "shop", authn.VerifyInput{Token: ans.Token, UserID: "u1", Action: orderA})
	if err != nil || !v.Valid || v.ChallengeID != ch.ID || v.Method != authn.MethodTOTP {
		t.Fatalf("order A: %+v, %v", v, err)
	}
	if v, _ := c.Verify(ctx, "shop", authn.VerifyInput{Token: ans.Token, UserID: "u1", Action: orderA}); v.Valid || !strings.Contains(v.Reason, "already used") {
		t.Errorf("order A again: %+v", v)
	}
	if _, err := c.Verify(ctx, "shop", authn.VerifyInput{Token: "", UserID: "u1", Action: authn.Action{}}); len(risk.FieldErrors(err)) < 3 {
		t.Errorf("an empty verification = %v, want field errors for token and action", err)
	}
}

func TestTokensVerifyOfflineAndExpire(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	secret := f.enrolled("u1")
	c := newChallenges(f)
	ch, err := c.Create(ctx, "shop", authn.ChallengeInput{UserID: "u1", Action: orderA})
	if err != nil {
		t.Fatal(err)
	}
	ans, err := c.Answer(ctx, "shop", ch.ID, authn.AnswerInput{Method: authn.MethodTOTP, Code: f.code(secret, 0)})
	if err != nil {
		t.Fatal(err)
	}
	// Offline, with the published key, as a shop's JWT library would.
	keys := c.PublicKeys()
	pub, err := base64.RawURLEncoding.DecodeString(keys[0].X)
	if err != nil || keys[0].KeyType != "OKP" || keys[0].Curve != "Ed25519" || keys[0].Alg != "EdDSA" {
		t.Fatalf("JWK %+v: %v", keys[0], err)
	}
	parts := strings.Split(ans.Token, ".")
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	if !ed25519.Verify(pub, []byte(parts[0]+"."+parts[1]), sig) {
		t.Error("the token does not verify with the published key")
	}
	var claims authn.TokenClaims
	b, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if err := json.Unmarshal(b, &claims); err != nil || claims.Subject != "u1" || claims.Audience != "shop" || claims.ID != ch.ID ||
		claims.Expires-claims.IssuedAt != 300 || claims.Methods[0] != authn.MethodTOTP {
		t.Errorf("claims %+v, %v", claims, err)
	}
	// The same key after a restart (derived from the sealing key).
	if again := newChallenges(f).PublicKeys(); again[0] != keys[0] {
		t.Error("the signing key changed between two instances with the same sealing key")
	}
	f.clock.Add(6 * time.Minute)
	if v, _ := c.Verify(ctx, "shop", authn.VerifyInput{Token: ans.Token, UserID: "u1", Action: orderA}); v.Valid || !strings.Contains(v.Reason, "expired") {
		t.Errorf("a token 6 minutes old: %+v", v)
	}
}

func TestChallengeFailuresAndExpiry(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	secret := f.enrolled("u1")
	codes, err := f.a.NewRecoveryCodes(ctx, "shop", "u1")
	if err != nil {
		t.Fatal(err)
	}
	c := authn.NewChallenges(authn.ChallengeConfig{Now: f.clock.Now, MaxFailures: 3}, f.store, authn.ChallengeFactors{Apps: f.a}, bytes.Repeat([]byte{7}, authn.KeySize))
	if _, err := c.Create(ctx, "shop", authn.ChallengeInput{UserID: "nobody", Action: orderA}); !errors.Is(err, authn.ErrNoFactor) {
		t.Errorf("a customer without factors = %v, want ErrNoFactor", err)
	}
	bad := authn.Action{Type: "teleport", AmountMinor: 5, Description: strings.Repeat("x", 300)}
	if _, err := c.Create(ctx, "shop", authn.ChallengeInput{UserID: "u1", Action: bad}); len(risk.FieldErrors(err)) != 3 {
		t.Errorf("a bad action = %v, want errors for type, description and currency", err)
	}

	ch, _ := c.Create(ctx, "shop", authn.ChallengeInput{UserID: "u1", Action: orderA})
	if _, err := c.Answer(ctx, "shop", ch.ID, authn.AnswerInput{Method: "sms", Code: "123456"}); len(risk.FieldErrors(err)) != 1 {
		t.Errorf("an SMS answer = %v, want a field error: SMS codes are never accepted", err)
	}
	wrong := "000000"
	if f.code(secret, 0) == wrong {
		wrong = "999999"
	}
	for i := range 3 {
		ans, err := c.Answer(ctx, "shop", ch.ID, authn.AnswerInput{Method: authn.MethodTOTP, Code: wrong})
		if err != nil || ans.Token != "" || ans.AttemptsLeft != 2-i {
			t.Fatalf("wrong answer %d: %+v, %v", i+1, ans, err)
		}
	}
	if got, _ := c.Get(ctx, "shop", ch.ID); got.Status != authn.StatusFailed {
		t.Errorf("after 3 wrong answers: %s, want failed", got.Status)
	}
	if _, err := c.Answer(ctx, "shop", ch.ID, authn.AnswerInput{Method: authn.MethodRecovery, Code: codes[0]}); !errors.Is(err, authn.ErrChallengeClosed) {
		t.Errorf("answering a failed challenge = %v", err)
	}

	// A recovery code answers a fresh challenge; an expired one answers nothing.
	ch2, _ := c.Create(ctx, "shop", authn.ChallengeInput{UserID: "u1", Action: orderA})
	if ans, err := c.Answer(ctx, "shop", ch2.ID, authn.AnswerInput{Method: authn.MethodRecovery, Code: codes[1]}); err != nil || ans.Token == "" {
		t.Errorf("a recovery code: %+v, %v", ans, err)
	}
	ch3, _ := c.Create(ctx, "shop", authn.ChallengeInput{UserID: "u1", Action: orderA})
	f.clock.Add(5 * time.Minute)
	if _, err := c.Answer(ctx, "shop", ch3.ID, authn.AnswerInput{Method: authn.MethodTOTP, Code: f.code(secret, 0)}); !errors.Is(err, authn.ErrChallengeExpired) {
		t.Errorf("an expired challenge = %v", err)
	}
	if got, _ := c.Get(ctx, "shop", ch3.ID); got.Status != authn.StatusExpired {
		t.Errorf("Get of an expired challenge: %s", got.Status)
	}
	if _, err := c.Get(ctx, "other", ch3.ID); err == nil {
		t.Error("another shop read the challenge")
	}
}

// FuzzVerifyToken checks that no token makes verification panic or
// approve an action no challenge passed for.
func FuzzVerifyToken(f *testing.F) {
	f.Add("eyJhbGciOiJFZERTQSIsImtpZCI6IngiLCJ0eXAiOiJKV1QifQ.e30.AAAA")
	f.Add("a.b.c")
	f.Add("...")
	f.Add("eyJhbGciOiJub25lIn0.eyJpc3MiOiJzaG9wZ3VhcmQifQ.")
	fx := newFixture(f)
	c := newChallenges(fx)
	f.Fuzz(func(t *testing.T, token string) {
		v, err := c.Verify(context.Background(), "shop", authn.VerifyInput{Token: token, UserID: "u1", Action: orderA})
		if err == nil && v.Valid {
			t.Fatalf("token %q verified", token)
		}
	})
}
