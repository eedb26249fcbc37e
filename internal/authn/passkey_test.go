package authn_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shopguard/shopguard/client/virtualkey"
	"github.com/shopguard/shopguard/internal/authn"
	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/storage"
)

const shopOrigin = "https://shop.example"

// passkeyFixture is a shop with passkeys set up on shop.example.
type passkeyFixture struct {
	*fixture
	p *authn.Passkeys
	c *authn.Challenges
}

func newPasskeyFixture(t testing.TB) *passkeyFixture {
	f := newFixture(t)
	key := bytes.Repeat([]byte{7}, authn.KeySize)
	p := authn.NewPasskeys(authn.PasskeyConfig{Now: f.clock.Now, MaxPerUser: 3}, f.store, key)
	if _, err := p.PutRelyingParty(context.Background(), "shop", authn.RelyingPartyInput{ID: "shop.example",
		Name: "Northwind Outfitters", Origins: []string{shopOrigin, "https://auth.shop.example/"}}); err != nil {
		t.Fatal(err)
	}
	c := authn.NewChallenges(authn.ChallengeConfig{Now: f.clock.Now}, f.store, authn.ChallengeFactors{Apps: f.a, Passkeys: p}, key)
	return &passkeyFixture{fixture: f, p: p, c: c}
}

// register makes a passkey for user on the authenticator, through both
// steps of the ceremony as a browser on origin would.
func (f *passkeyFixture) register(user string, vk *virtualkey.Authenticator, origin string) (storage.Passkey, error) {
	f.t.Helper()
	ctx := context.Background()
	start, err := f.p.BeginRegistration(ctx, "shop", user, authn.RegistrationInput{UserName: user + "@example.org", Name: "Phone"})
	if err != nil {
		f.t.Fatalf("BeginRegistration: %v", err)
	}
	resp, err := vk.Create(origin, start.Options)
	if err != nil {
		f.t.Fatalf("authenticator Create: %v", err)
	}
	return f.p.FinishRegistration(ctx, "shop", user, start.ID, resp)
}

// stepUp answers a new challenge of user for action with the
// authenticator on origin and returns the answer.
func (f *passkeyFixture) stepUp(user string, action authn.Action, vk *virtualkey.Authenticator, origin string) (authn.Answer, error) {
	f.t.Helper()
	ctx := context.Background()
	ch, err := f.c.Create(ctx, "shop", authn.ChallengeInput{UserID: user, Action: action})
	if err != nil {
		f.t.Fatalf("Create challenge: %v", err)
	}
	start, err := f.c.PasskeyOptions(ctx, "shop", ch.ID)
	if err != nil {
		f.t.Fatalf("PasskeyOptions: %v", err)
	}
	resp, err := vk.Get(origin, start.Options)
	if err != nil {
		f.t.Fatalf("authenticator Get: %v", err)
	}
	return f.c.Answer(ctx, "shop", ch.ID, authn.AnswerInput{Method: authn.MethodPasskey, CeremonyID: start.ID, Credential: resp})
}

var orderB = authn.Action{Type: "payment", Description: "Pay 129.00 EUR for order 8813", AmountMinor: 12900, Currency: "EUR", Reference: "8813"}

// TestPasskeyStepUpBoundToTheOrder registers a passkey, passes a checkout
// step-up with it and shows the approval verifies for that order only.
func TestPasskeyStepUpBoundToTheOrder(t *testing.T) {
	f := newPasskeyFixture(t)
	ctx := context.Background()
	aaguid := [16]byte{0xad, 0xce, 0, 2, 0x35, 0xbc, 0xc6, 0x0a, 0x64, 0x8b, 0x0b, 0x25, 0xf1, 0xf0, 0x55, 0x03}
	vk := virtualkey.New(virtualkey.Options{AAGUID: aaguid, BackupEligible: true, BackupState: true})
	k, err := f.register("u1", vk, shopOrigin)
	if err != nil {
		t.Fatalf("FinishRegistration: %v", err)
	}
	if k.RPID != "shop.example" || k.Name != "Phone" || k.Flags&0x1d != 0x1d || !bytes.Equal(k.AAGUID, aaguid[:]) ||
		strings.Join(k.Transports, ",") != "internal,hybrid" || k.Algorithm != -7 || k.AttestationFormat != "none" || len(k.Attestation) == 0 {
		t.Errorf("stored passkey %+v", k)
	}
	if n, _ := f.p.Count(ctx, "shop", "u1"); n != 1 {
		t.Errorf("Count = %d, want 1", n)
	}

	ans, err := f.stepUp("u1", orderA, vk, shopOrigin)
	if err != nil || ans.Token == "" || ans.Challenge.Method != authn.MethodPasskey {
		t.Fatalf("passkey answer = %+v, %v", ans, err)
	}
	if strings.Join(ans.Challenge.Methods, ",") != "passkey" {
		t.Errorf("methods = %v, want passkey only (no app enrolled)", ans.Challenge.Methods)
	}
	if v, err := f.c.Verify(ctx, "shop", authn.VerifyInput{Token: ans.Token, UserID: "u1", Action: orderB}); err != nil || v.Valid || v.Reason != "the token approves another action" {
		t.Errorf("token of order A for order B = %+v, %v", v, err)
	}
	if v, err := f.c.Verify(ctx, "shop", authn.VerifyInput{Token: ans.Token, UserID: "u1", Action: orderA}); err != nil || !v.Valid || v.Method != authn.MethodPasskey {
		t.Errorf("token of order A for order A = %+v, %v", v, err)
	}
	keys, _ := f.p.List(ctx, "shop", "u1")
	if len(keys) != 1 || keys[0].LastUsedAt.IsZero() || keys[0].Version != 2 {
		t.Errorf("after use: %+v", keys)
	}
}

// TestPasskeySignsOverTheAction checks the WebAuthn challenge the device
// signs ends with the SHA-256 of what is approved.
func TestPasskeySignsOverTheAction(t *testing.T) {
	f := newPasskeyFixture(t)
	ctx := context.Background()
	vk := virtualkey.New(virtualkey.Options{})
	if _, err := f.register("u1", vk, shopOrigin); err != nil {
		t.Fatal(err)
	}
	ch, err := f.c.Create(ctx, "shop", authn.ChallengeInput{UserID: "u1", Action: orderA})
	if err != nil {
		t.Fatal(err)
	}
	start, err := f.c.PasskeyOptions(ctx, "shop", ch.ID)
	if err != nil {
		t.Fatal(err)
	}
	var opts struct {
		PublicKey struct {
			Challenge        string `json:"challenge"`
			UserVerification string `json:"userVerification"`
			AllowCredentials []any  `json:"allowCredentials"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(start.Options, &opts); err != nil {
		t.Fatal(err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(opts.PublicKey.Challenge)
	if err != nil || len(raw) != 64 || hexOf(raw[32:]) != ch.ActionHash {
		t.Errorf("challenge %x (%v) does not end with the action hash %s", raw, err, ch.ActionHash)
	}
	if opts.PublicKey.UserVerification != "required" || len(opts.PublicKey.AllowCredentials) != 1 {
		t.Errorf("options %+v: want user verification required and the customer's passkey listed", opts.PublicKey)
	}
	// A second ceremony of the same challenge gets a fresh nonce.
	again, _ := f.c.PasskeyOptions(ctx, "shop", ch.ID)
	if bytes.Equal(again.Options, start.Options) {
		t.Error("two ceremonies got the same options")
	}
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

// TestPasskeyBackupFlags covers the failure mode other projects hit when
// credential records lost their flags: a synced passkey (backup eligible)
// keeps signing in after a restart, its backup state may change, but a
// change of backup eligibility is refused.
func TestPasskeyBackupFlags(t *testing.T) {
	f := newPasskeyFixture(t)
	ctx := context.Background()
	synced := virtualkey.New(virtualkey.Options{BackupEligible: true})
	if _, err := f.register("u1", synced, shopOrigin); err != nil {
		t.Fatal(err)
	}
	// A restart: new instances over the same store.
	key := bytes.Repeat([]byte{7}, authn.KeySize)
	f.p = authn.NewPasskeys(authn.PasskeyConfig{Now: f.clock.Now}, f.store, key)
	f.c = authn.NewChallenges(authn.ChallengeConfig{Now: f.clock.Now}, f.store, authn.ChallengeFactors{Apps: f.a, Passkeys: f.p}, key)
	if ans, err := f.stepUp("u1", orderA, synced, shopOrigin); err != nil || ans.Token == "" {
		t.Fatalf("backup-eligible passkey after a restart = %+v, %v", ans, err)
	}
	// The passkey is synced to the customer's other devices: backup state on.
	synced.SetFlags(true, true)
	if ans, err := f.stepUp("u1", orderA, synced, shopOrigin); err != nil || ans.Token == "" {
		t.Fatalf("after the backup state changed = %+v, %v", ans, err)
	}
	keys, _ := f.p.List(ctx, "shop", "u1")
	if keys[0].Flags&0x18 != 0x18 {
		t.Errorf("stored flags %#x, want backup eligible and backed up", keys[0].Flags)
	}

	bound := virtualkey.New(virtualkey.Options{})
	if _, err := f.register("u2", bound, shopOrigin); err != nil {
		t.Fatal(err)
	}
	bound.SetFlags(true, false)
	ans, err := f.stepUp("u2", orderA, bound, shopOrigin)
	if err != nil || ans.Token != "" || !strings.Contains(ans.Reason, "Backup Eligible") {
		t.Errorf("a device-bound passkey claiming backup eligibility = %+v, %v; want refused", ans, err)
	}
}

// TestCeremonyKeepsTheWholeSession covers the other failure mode: a
// session stored without its credential parameters makes registration
// fail, so the whole session data is kept between the steps.
func TestCeremonyKeepsTheWholeSession(t *testing.T) {
	f := newPasskeyFixture(t)
	ctx := context.Background()
	start, err := f.p.BeginRegistration(ctx, "shop", "u1", authn.RegistrationInput{})
	if err != nil {
		t.Fatal(err)
	}
	cer, err := f.store.TakeCeremony(ctx, "shop", start.ID)
	if err != nil {
		t.Fatal(err)
	}
	var session map[string]any
	if err := json.Unmarshal(cer.Session, &session); err != nil {
		t.Fatal(err)
	}
	if params, _ := session["credParams"].([]any); len(params) == 0 {
		t.Fatalf("stored session %s has no credParams", cer.Session)
	}
	vk := virtualkey.New(virtualkey.Options{})
	resp, err := vk.Create(shopOrigin, start.Options)
	if err != nil {
		t.Fatal(err)
	}
	// Put it back without them: the registration is refused.
	delete(session, "credParams")
	cer.Session, _ = json.Marshal(session)
	if err := f.store.CreateCeremony(ctx, cer); err != nil {
		t.Fatal(err)
	}
	var re *authn.RejectedError
	if _, err := f.p.FinishRegistration(ctx, "shop", "u1", start.ID, resp); !errors.As(err, &re) || !strings.Contains(re.Reason, "algorithm") {
		t.Errorf("registration with a session that lost its credParams = %v, want refused over the algorithm", err)
	}
}

// TestPasskeyFailsClosed sends what an attacker or a broken client would.
func TestPasskeyFailsClosed(t *testing.T) {
	f := newPasskeyFixture(t)
	ctx := context.Background()
	vk := virtualkey.New(virtualkey.Options{Counter: true})
	if _, err := f.register("u1", vk, shopOrigin); err != nil {
		t.Fatal(err)
	}
	other := virtualkey.New(virtualkey.Options{})
	if _, err := f.register("u2", other, shopOrigin); err != nil {
		t.Fatal(err)
	}
	begin := func(user string) (storage.Challenge, authn.CeremonyStart) {
		t.Helper()
		ch, err := f.c.Create(ctx, "shop", authn.ChallengeInput{UserID: user, Action: orderA})
		if err != nil {
			t.Fatal(err)
		}
		start, err := f.c.PasskeyOptions(ctx, "shop", ch.ID)
		if err != nil {
			t.Fatal(err)
		}
		return ch, start
	}
	refused := func(name string, ch storage.Challenge, ceremony string, resp []byte, want string) {
		t.Helper()
		ans, err := f.c.Answer(ctx, "shop", ch.ID, authn.AnswerInput{Method: authn.MethodPasskey, CeremonyID: ceremony, Credential: resp})
		if err != nil || ans.Token != "" || !strings.Contains(ans.Reason, want) || ans.Challenge.Failures != 1 {
			t.Errorf("%s: answer = %+v, %v; want refused (%q) and counted", name, ans, err, want)
		}
	}

	// A lookalike origin the shop does not list.
	ch, start := begin("u1")
	resp, _ := vk.Get("https://login.shop.example", start.Options)
	refused("unlisted subdomain", ch, start.ID, resp, "origin")

	// An assertion made for another relying party (its authenticator data
	// names evil.example).
	ch, start = begin("u1")
	resp, _ = vk.Get(shopOrigin, start.Options)
	refused("another relying party", ch, start.ID, otherRP(t, resp, "evil.example"), "RP Hash")

	// A forged signature.
	ch, start = begin("u1")
	resp, _ = vk.Get(shopOrigin, start.Options)
	refused("forged signature", ch, start.ID, tamper(t, resp), "ignature")

	// Another customer's passkey answering u1's challenge.
	ch, start = begin("u1")
	var opts map[string]map[string]any
	_ = json.Unmarshal(start.Options, &opts)
	delete(opts["publicKey"], "allowCredentials")
	bare, _ := json.Marshal(opts)
	resp, _ = other.Get(shopOrigin, bare)
	refused("another customer's passkey", ch, start.ID, resp, "not one of the customer's")

	// A replayed assertion: a good response from an earlier ceremony.
	ch, start = begin("u1")
	good, _ := vk.Get(shopOrigin, start.Options)
	if ans, err := f.c.Answer(ctx, "shop", ch.ID, authn.AnswerInput{Method: authn.MethodPasskey, CeremonyID: start.ID, Credential: good}); err != nil || ans.Token == "" {
		t.Fatalf("good answer = %+v, %v", ans, err)
	}
	ch2, start2 := begin("u1")
	refused("replayed assertion", ch2, start2.ID, good, "hallenge")
	// ... and the used ceremony cannot be finished again.
	ch3, _ := begin("u1")
	if _, err := f.c.Answer(ctx, "shop", ch3.ID, authn.AnswerInput{Method: authn.MethodPasskey, CeremonyID: start.ID, Credential: good}); !errors.Is(err, authn.ErrCeremony) {
		t.Errorf("answer on a used ceremony = %v, want ErrCeremony", err)
	}

	// A cloned authenticator: its counter goes backwards.
	ch, start = begin("u1")
	cred := vk.Credentials()[0]
	vk.SetSignCount(cred.ID, 0)
	resp, _ = vk.Get(shopOrigin, start.Options)
	refused("cloned authenticator", ch, start.ID, resp, "cloned")
	keys, _ := f.p.List(ctx, "shop", "u1")
	if !keys[0].CloneWarning {
		t.Error("the passkey is not flagged as possibly cloned")
	}
	// ... and it stays refused, whatever its counter says.
	vk.SetSignCount(cred.ID, 1000)
	ch, start = begin("u1")
	resp, _ = vk.Get(shopOrigin, start.Options)
	refused("flagged passkey", ch, start.ID, resp, "cloned")
}

// otherRP rewrites the response's authenticator data to name the relying
// party rpID (the signature then no longer matches either; the RP check
// comes first).
func otherRP(t *testing.T, resp []byte, rpID string) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(resp, &m); err != nil {
		t.Fatal(err)
	}
	r := m["response"].(map[string]any)
	data, err := base64.RawURLEncoding.DecodeString(r["authenticatorData"].(string))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(rpID))
	copy(data, sum[:])
	r["authenticatorData"] = base64.RawURLEncoding.EncodeToString(data)
	out, _ := json.Marshal(m)
	return out
}

// tamper flips a bit of the response's signature.
func tamper(t *testing.T, resp []byte) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(resp, &m); err != nil {
		t.Fatal(err)
	}
	r := m["response"].(map[string]any)
	sig, err := base64.RawURLEncoding.DecodeString(r["signature"].(string))
	if err != nil {
		t.Fatal(err)
	}
	sig[len(sig)-1] ^= 1
	r["signature"] = base64.RawURLEncoding.EncodeToString(sig)
	out, _ := json.Marshal(m)
	return out
}

// TestPasskeyExpiredCeremony: the second step comes too late.
func TestPasskeyExpiredCeremony(t *testing.T) {
	f := newPasskeyFixture(t)
	ctx := context.Background()
	start, err := f.p.BeginRegistration(ctx, "shop", "u1", authn.RegistrationInput{})
	if err != nil {
		t.Fatal(err)
	}
	vk := virtualkey.New(virtualkey.Options{})
	resp, _ := vk.Create(shopOrigin, start.Options)
	f.clock.Add(5*time.Minute + time.Second)
	if _, err := f.p.FinishRegistration(ctx, "shop", "u1", start.ID, resp); !errors.Is(err, authn.ErrCeremony) {
		t.Errorf("FinishRegistration after expiry = %v, want ErrCeremony", err)
	}
}

// TestPasskeyManagement lists, renames and revokes; a revoked passkey no
// longer answers, and nothing crosses customers or shops.
func TestPasskeyManagement(t *testing.T) {
	f := newPasskeyFixture(t)
	ctx := context.Background()
	phone, laptop := virtualkey.New(virtualkey.Options{}), virtualkey.New(virtualkey.Options{})
	kp, err := f.register("u1", phone, shopOrigin)
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Add(time.Second)
	kl, err := f.register("u1", laptop, "https://auth.shop.example")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(kp.UserHandle, kl.UserHandle) || bytes.Contains(kp.UserHandle, []byte("u1")) {
		t.Errorf("user handles %x, %x: want one opaque handle per customer", kp.UserHandle, kl.UserHandle)
	}
	// The same device cannot register twice.
	start, _ := f.p.BeginRegistration(ctx, "shop", "u1", authn.RegistrationInput{})
	if _, err := phone.Create(shopOrigin, start.Options); err == nil {
		t.Error("the phone registered a second passkey for the same account")
	}
	if _, err := f.p.Rename(ctx, "shop", "u1", kl.ID, "Work laptop"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.p.Rename(ctx, "shop", "u2", kl.ID, "Mine now"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("renaming another customer's passkey = %v, want ErrNotFound", err)
	}
	if _, err := f.p.Rename(ctx, "shop", "u1", kl.ID, ""); len(risk.FieldErrors(err)) != 1 {
		t.Errorf("empty name = %v, want a field error", err)
	}
	keys, _ := f.p.List(ctx, "shop", "u1")
	if len(keys) != 2 || keys[0].ID != kp.ID || keys[1].Name != "Work laptop" {
		t.Errorf("List = %+v", keys)
	}
	if keys, _ := f.p.List(ctx, "other-shop", "u1"); len(keys) != 0 {
		t.Errorf("another shop sees %d passkeys", len(keys))
	}
	// Revoke the phone: it no longer answers; the laptop does.
	ch, err := f.c.Create(ctx, "shop", authn.ChallengeInput{UserID: "u1", Action: orderA})
	if err != nil {
		t.Fatal(err)
	}
	start, err = f.c.PasskeyOptions(ctx, "shop", ch.ID)
	if err != nil {
		t.Fatal(err)
	}
	resp, _ := phone.Get(shopOrigin, start.Options)
	if err := f.p.Revoke(ctx, "shop", "u1", kp.ID); err != nil {
		t.Fatal(err)
	}
	ans, err := f.c.Answer(ctx, "shop", ch.ID, authn.AnswerInput{Method: authn.MethodPasskey, CeremonyID: start.ID, Credential: resp})
	if err != nil || ans.Token != "" {
		t.Errorf("revoked passkey answered: %+v, %v", ans, err)
	}
	if ans, err := f.stepUp("u1", orderA, laptop, "https://auth.shop.example"); err != nil || ans.Token == "" {
		t.Errorf("the laptop after the phone was revoked = %+v, %v", ans, err)
	}
	if err := f.p.Revoke(ctx, "shop", "u1", kp.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("revoking twice = %v, want ErrNotFound", err)
	}
	if err := f.p.Revoke(ctx, "shop", "u1", kl.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.c.Create(ctx, "shop", authn.ChallengeInput{UserID: "u1", Action: orderA}); !errors.Is(err, authn.ErrNoFactor) {
		t.Errorf("challenge after every passkey was revoked = %v, want ErrNoFactor", err)
	}
	// At most MaxPerUser (3 here).
	for i := range 3 {
		if _, err := f.register("u3", virtualkey.New(virtualkey.Options{}), shopOrigin); err != nil {
			t.Fatalf("passkey %d: %v", i+1, err)
		}
	}
	if _, err := f.p.BeginRegistration(ctx, "shop", "u3", authn.RegistrationInput{}); !errors.Is(err, authn.ErrTooManyPasskeys) {
		t.Errorf("a fourth passkey = %v, want ErrTooManyPasskeys", err)
	}
}

// TestRelyingPartyValidation names every bad field.
func TestRelyingPartyValidation(t *testing.T) {
	f := newPasskeyFixture(t)
	ctx := context.Background()
	tests := []struct {
		name   string
		in     authn.RelyingPartyInput
		fields []string
	}{
		{"empty", authn.RelyingPartyInput{}, []string{"id", "name", "origins"}},
		{"scheme in id", authn.RelyingPartyInput{ID: "https://shop.example", Name: "S", Origins: []string{shopOrigin}}, []string{"id", "origins[0]"}},
		{"upper case", authn.RelyingPartyInput{ID: "Shop.Example", Name: "S", Origins: []string{shopOrigin}}, []string{"id", "origins[0]"}},
		{"ip", authn.RelyingPartyInput{ID: "10.0.0.1", Name: "S", Origins: []string{"https://10.0.0.1"}}, []string{"id"}},
		{"plain http", authn.RelyingPartyInput{ID: "shop.example", Name: "S", Origins: []string{"http://shop.example"}}, []string{"origins[0]"}},
		{"other domain", authn.RelyingPartyInput{ID: "shop.example", Name: "S", Origins: []string{shopOrigin, "https://evilshop.example"}}, []string{"origins[1]"}},
		{"path", authn.RelyingPartyInput{ID: "shop.example", Name: "S", Origins: []string{"https://shop.example/login"}}, []string{"origins[0]"}},
		{"not a url", authn.RelyingPartyInput{ID: "shop.example", Name: "S", Origins: []string{"shop.example"}}, []string{"origins[0]"}},
		{"long name", authn.RelyingPartyInput{ID: "shop.example", Name: strings.Repeat("n", 65), Origins: []string{shopOrigin}}, []string{"name"}},
		{"localhost", authn.RelyingPartyInput{ID: "localhost", Name: "Dev", Origins: []string{"http://localhost:8080"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.p.PutRelyingParty(ctx, "t-"+tt.name, tt.in)
			var got []string
			for _, fe := range risk.FieldErrors(err) {
				got = append(got, fe.Field)
			}
			if strings.Join(got, ",") != strings.Join(tt.fields, ",") {
				t.Errorf("fields %v, want %v (%v)", got, tt.fields, err)
			}
		})
	}
	if _, err := f.p.BeginRegistration(ctx, "unset", "u1", authn.RegistrationInput{}); !errors.Is(err, authn.ErrNoRelyingParty) {
		t.Errorf("registration before the shop set its domain = %v, want ErrNoRelyingParty", err)
	}
}

// TestMalformedPasskeyResponses are refused as field errors, never panics.
func TestMalformedPasskeyResponses(t *testing.T) {
	f := newPasskeyFixture(t)
	ctx := context.Background()
	for _, body := range []string{"", "null", "{}", "[]", `{"id":"x","type":"public-key"}`, `{"id":"AA","rawId":"AA","type":"public-key","response":{"clientDataJSON":"e30","attestationObject":"oA"}}`, strings.Repeat("a", 70000)} {
		start, err := f.p.BeginRegistration(ctx, "shop", "u1", authn.RegistrationInput{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.p.FinishRegistration(ctx, "shop", "u1", start.ID, []byte(body))
		if fe := risk.FieldErrors(err); len(fe) != 1 || fe[0].Field != "credential" {
			t.Errorf("registration response %.40q: %v, want a field error on credential", body, err)
		}
		if _, err := authn.ParseAssertion([]byte(body)); len(risk.FieldErrors(err)) != 1 {
			t.Errorf("assertion response %.40q: %v, want a field error", body, err)
		}
	}
}

// FuzzPasskeyResponses feeds the ceremony decoders arbitrary input.
func FuzzPasskeyResponses(f *testing.F) {
	vk := virtualkey.New(virtualkey.Options{})
	opts := []byte(`{"publicKey":{"challenge":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","rp":{"id":"shop.example","name":"S"},"user":{"id":"dTE","name":"u1","displayName":"u1"},"pubKeyCredParams":[{"type":"public-key","alg":-7}]}}`)
	if reg, err := vk.Create(shopOrigin, opts); err == nil {
		f.Add(reg)
	}
	if get, err := vk.Get(shopOrigin, []byte(`{"publicKey":{"challenge":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","rpId":"shop.example"}}`)); err == nil {
		f.Add(get)
	}
	f.Add([]byte(`{"id":"AA","rawId":"AA","type":"public-key","response":{"clientDataJSON":"e30","attestationObject":"oA"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := authn.ParseRegistration(b); err != nil && len(risk.FieldErrors(err)) != 1 {
			t.Errorf("registration: %v is not a field error", err)
		}
		if _, err := authn.ParseAssertion(b); err != nil && len(risk.FieldErrors(err)) != 1 {
			t.Errorf("assertion: %v is not a field error", err)
		}
	})
}

// TestDiscoverableSignIn signs in without a user name on an explicit
// relying party (the dashboard's): the passkey says who it is, and only
// the tenant's live passkeys do.
func TestDiscoverableSignIn(t *testing.T) {
	f := newPasskeyFixture(t)
	ctx := context.Background()
	rp := storage.RelyingParty{ID: "localhost", Name: "shopguard dashboard", Origins: []string{"http://localhost:8080"}}
	const origin, tenant = "http://localhost:8080", "_dashboard"
	keys := map[string]*virtualkey.Authenticator{"ana": virtualkey.New(virtualkey.Options{}), "bob": virtualkey.New(virtualkey.Options{})}
	ids := map[string]string{}
	for _, name := range []string{"ana", "bob"} {
		start, err := f.p.BeginRegistrationAt(ctx, rp, tenant, name, authn.RegistrationInput{UserName: name})
		if err != nil {
			t.Fatal(err)
		}
		resp, err := keys[name].Create(origin, start.Options)
		if err != nil {
			t.Fatal(err)
		}
		k, err := f.p.FinishRegistrationAt(ctx, rp, tenant, name, start.ID, resp)
		if err != nil {
			t.Fatal(err)
		}
		ids[name] = k.ID
	}
	signIn := func(vk *virtualkey.Authenticator, tenant string) (storage.Passkey, error) {
		t.Helper()
		start, err := f.p.BeginDiscoverableAt(ctx, rp, tenant)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := vk.Get(origin, start.Options)
		if err != nil {
			t.Fatal(err)
		}
		return f.p.FinishDiscoverableAt(ctx, rp, tenant, start.ID, resp)
	}
	for _, name := range []string{"ana", "bob"} {
		if k, err := signIn(keys[name], tenant); err != nil || k.UserID != name {
			t.Errorf("%s's passkey signed in %+v, %v", name, k, err)
		}
	}
	var re *authn.RejectedError
	if _, err := signIn(keys["ana"], "shop"); !errors.As(err, &re) {
		t.Errorf("a passkey of another tenant = %v, want refused", err)
	}
	if err := f.p.Revoke(ctx, tenant, "bob", ids["bob"]); err != nil {
		t.Fatal(err)
	}
	if _, err := signIn(keys["bob"], tenant); !errors.As(err, &re) {
		t.Errorf("a revoked passkey = %v, want refused", err)
	}
	start, _ := f.p.BeginDiscoverableAt(ctx, rp, tenant)
	resp, _ := keys["ana"].Get(origin, start.Options)
	if _, err := f.p.FinishDiscoverableAt(ctx, rp, tenant, start.ID, resp); err != nil {
		t.Fatal(err)
	}
	if _, err := f.p.FinishDiscoverableAt(ctx, rp, tenant, start.ID, resp); !errors.Is(err, authn.ErrCeremony) {
		t.Errorf("the same sign-in twice = %v, want ErrCeremony", err)
	}
}

// BenchmarkPasskeyStepUp measures shopguard's side of a passkey step-up:
// start the challenge, begin the ceremony and check the browser's answer
// (the authenticator's signing, which happens on the customer's device, is
// done outside the timer).
func BenchmarkPasskeyStepUp(b *testing.B) {
	f := newPasskeyFixture(b)
	ctx := context.Background()
	vk := virtualkey.New(virtualkey.Options{BackupEligible: true, BackupState: true})
	start, err := f.p.BeginRegistration(ctx, "shop", "u1", authn.RegistrationInput{})
	if err != nil {
		b.Fatal(err)
	}
	resp, err := vk.Create(shopOrigin, start.Options)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := f.p.FinishRegistration(ctx, "shop", "u1", start.ID, resp); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		ch, err := f.c.Create(ctx, "shop", authn.ChallengeInput{UserID: "u1", Action: orderA})
		if err != nil {
			b.Fatal(err)
		}
		start, err := f.c.PasskeyOptions(ctx, "shop", ch.ID)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		assertion, err := vk.Get(shopOrigin, start.Options)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		ans, err := f.c.Answer(ctx, "shop", ch.ID, authn.AnswerInput{Method: authn.MethodPasskey, CeremonyID: start.ID, Credential: assertion})
		if err != nil || ans.Token == "" {
			b.Fatalf("answer %+v, %v", ans, err)
		}
	}
}
