package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/shopguard/shopguard/client"
	"github.com/shopguard/shopguard/client/virtualkey"
)

// TestPasskeysThroughTheAPI registers a customer's passkey through the API
// as a shop's backend would (the browser's part played by a software
// authenticator), steps a checkout up with it, and manages it; bad input
// gets a 4xx naming the field, and passkeys survive a restart.
func TestPasskeysThroughTheAPI(t *testing.T) {
	dir := t.TempDir()
	e := start(t, dir)
	c := e.client(t, "shop")
	ctx := context.Background()
	const origin = "https://shop.example"

	_, err := c.BeginPasskeyRegistration(ctx, "u_ana", "ana@example.com", "Ana", "")
	if ce := wantStatus(t, err, http.StatusConflict, ""); ce.Code != "not_configured" {
		t.Errorf("before the relying party is set: %+v", ce)
	}
	_, err = c.SetRelyingParty(ctx, client.RelyingParty{ID: "shop.example", Name: "Northwind", Origins: []string{"http://shop.example"}})
	wantStatus(t, err, http.StatusBadRequest, "origins[0]")
	if _, err := c.SetRelyingParty(ctx, client.RelyingParty{ID: "shop.example", Name: "Northwind", Origins: []string{origin}}); err != nil {
		t.Fatal(err)
	}
	if rp, err := c.RelyingParty(ctx); err != nil || rp.ID != "shop.example" || len(rp.Origins) != 1 {
		t.Errorf("RelyingParty = %+v, %v", rp, err)
	}

	vk := virtualkey.New(virtualkey.Options{BackupEligible: true, BackupState: true})
	start1, err := c.BeginPasskeyRegistration(ctx, "u_ana", "ana@example.com", "Ana", "Ana's phone")
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.FinishPasskeyRegistration(ctx, "u_ana", start1.ID, json.RawMessage(`{"id":"x"}`))
	wantStatus(t, err, http.StatusBadRequest, "credential")
	resp, err := vk.Create(origin, start1.Options)
	if err != nil {
		t.Fatal(err)
	}
	// The ceremony is still open (a malformed answer does not use it up) ...
	pk, err := c.FinishPasskeyRegistration(ctx, "u_ana", start1.ID, resp)
	if err != nil || pk.Name != "Ana's phone" || !pk.Flags.UserVerified || !pk.Flags.BackupEligible || pk.RPID != "shop.example" {
		t.Fatalf("registered %+v, %v", pk, err)
	}
	// ... but a good one does.
	_, err = c.FinishPasskeyRegistration(ctx, "u_ana", start1.ID, resp)
	if ce := wantStatus(t, err, http.StatusConflict, "ceremony_id"); ce.Code != "ceremony_unusable" {
		t.Errorf("finishing twice: %+v", ce)
	}
	if f, err := c.Factors(ctx, "u_ana"); err != nil || f.Passkeys != 1 {
		t.Errorf("Factors = %+v, %v", f, err)
	}

	// Restart; then a checkout step-up with the passkey, bound to the order.
	e.srv.Close()
	if err := e.app.Close(); err != nil {
		t.Fatal(err)
	}
	e = start(t, dir)
	c = e.client(t, "shop")
	orderA := client.ChallengeAction{Type: "payment", Description: "Pay 129.00 EUR for order 8812", AmountMinor: 12900, Currency: "EUR", Reference: "8812"}
	orderB := orderA
	orderB.Reference = "8813"
	ch, err := c.CreateChallenge(ctx, "u_ana", orderA, "")
	if err != nil || len(ch.Methods) != 1 || ch.Methods[0] != "passkey" {
		t.Fatalf("challenge %+v, %v", ch, err)
	}
	opts, err := c.ChallengePasskeyOptions(ctx, ch.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.AnswerChallengeWithPasskey(ctx, ch.ID, opts.ID, nil)
	wantStatus(t, err, http.StatusBadRequest, "credential")
	assertion, err := vk.Get(origin, opts.Options)
	if err != nil {
		t.Fatal(err)
	}
	ans, err := c.AnswerChallengeWithPasskey(ctx, ch.ID, opts.ID, assertion)
	if err != nil || ans.Token == "" || ans.Challenge.Method != "passkey" {
		t.Fatalf("answer %+v, %v", ans, err)
	}
	if v, err := c.VerifyApproval(ctx, ans.Token, "u_ana", orderB); err != nil || v.Valid {
		t.Errorf("order A's approval for order B: %+v, %v", v, err)
	}
	if v, err := c.VerifyApproval(ctx, ans.Token, "u_ana", orderA); err != nil || !v.Valid || v.Method != "passkey" {
		t.Errorf("order A's approval: %+v, %v", v, err)
	}

	// Manage: another shop sees nothing; rename; revoke; the next
	// challenge has nothing to answer with.
	other := e.client(t, "other-shop")
	if keys, err := other.Passkeys(ctx, "u_ana"); err != nil || len(keys) != 0 {
		t.Errorf("another shop's list = %+v, %v", keys, err)
	}
	_, err = other.RenamePasskey(ctx, "u_ana", pk.ID, "mine")
	wantStatus(t, err, http.StatusNotFound, "")
	if got, err := c.RenamePasskey(ctx, "u_ana", pk.ID, "Phone (work)"); err != nil || got.Name != "Phone (work)" || got.LastUsedAt == nil {
		t.Errorf("renamed %+v, %v", got, err)
	}
	_, err = c.RenamePasskey(ctx, "u_ana", pk.ID, "")
	wantStatus(t, err, http.StatusBadRequest, "name")
	if err := c.RevokePasskey(ctx, "u_ana", pk.ID); err != nil {
		t.Fatal(err)
	}
	if keys, err := c.Passkeys(ctx, "u_ana"); err != nil || len(keys) != 0 {
		t.Errorf("after revoking: %+v, %v", keys, err)
	}
	_, err = c.CreateChallenge(ctx, "u_ana", orderA, "")
	if ce := wantStatus(t, err, http.StatusConflict, ""); ce.Code != "no_factor" {
		t.Errorf("challenge after revoking: %+v", ce)
	}
}
