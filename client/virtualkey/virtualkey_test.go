package virtualkey_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/fxamacker/cbor/v2"
	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/shopguard/shopguard/client/virtualkey"
)

const (
	rpID   = "shop.example"
	origin = "https://shop.example"
)

// testUser is a minimal webauthn.User keeping its credentials like an RP's
// database would.
type testUser struct {
	id    []byte
	name  string
	creds []webauthn.Credential
}

func (u *testUser) WebAuthnID() []byte                         { return u.id }
func (u *testUser) WebAuthnName() string                       { return u.name }
func (u *testUser) WebAuthnDisplayName() string                { return u.name }
func (u *testUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

// update stores the credential record returned by a login, as an RP must.
func (u *testUser) update(c *webauthn.Credential) {
	for i := range u.creds {
		if bytes.Equal(u.creds[i].ID, c.ID) {
			u.creds[i] = *c
			return
		}
	}
	u.creds = append(u.creds, *c)
}

func newUser(name string) *testUser {
	return &testUser{id: []byte("uid-" + name), name: name}
}

func newRP(t *testing.T, id string, origins ...string) *webauthn.WebAuthn {
	t.Helper()
	if len(origins) == 0 {
		origins = []string{"https://" + id}
	}
	rp, err := webauthn.New(&webauthn.Config{RPID: id, RPDisplayName: "Shop", RPOrigins: origins})
	if err != nil {
		t.Fatalf("webauthn.New: %v", err)
	}
	return rp
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return b
}

func selection(uv protocol.UserVerificationRequirement) webauthn.RegistrationOption {
	return webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
		ResidentKey:        protocol.ResidentKeyRequirementRequired,
		RequireResidentKey: protocol.ResidentKeyRequired(),
		UserVerification:   uv,
	})
}

// register runs a whole registration ceremony from origin; authErr is the
// authenticator's error, rpErr go-webauthn's.
func register(t *testing.T, rp *webauthn.WebAuthn, u *testUser, a *virtualkey.Authenticator, from string, opts ...webauthn.RegistrationOption) (cred *webauthn.Credential, authErr, rpErr error) {
	t.Helper()
	if len(opts) == 0 {
		opts = []webauthn.RegistrationOption{selection(protocol.VerificationRequired)}
	}
	creation, session, err := rp.BeginRegistration(u, opts...)
	if err != nil {
		t.Fatalf("BeginRegistration: %v", err)
	}
	resp, err := a.Create(from, mustJSON(t, creation))
	if err != nil {
		return nil, err, nil
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(resp)
	if err != nil {
		t.Fatalf("ParseCredentialCreationResponseBytes: %v\n%s", err, resp)
	}
	cred, err = rp.CreateCredential(u, *session, parsed)
	if err != nil {
		return nil, nil, err
	}
	u.update(cred)
	return cred, nil, nil
}

func mustRegister(t *testing.T, rp *webauthn.WebAuthn, u *testUser, a *virtualkey.Authenticator, opts ...webauthn.RegistrationOption) *webauthn.Credential {
	t.Helper()
	cred, authErr, rpErr := register(t, rp, u, a, origin, opts...)
	if authErr != nil || rpErr != nil {
		t.Fatalf("register: authenticator: %v, rp: %v", authErr, rpErr)
	}
	return cred
}

// login runs a login ceremony for a known user.
func login(t *testing.T, rp *webauthn.WebAuthn, u *testUser, a *virtualkey.Authenticator, from string, opts ...webauthn.LoginOption) (cred *webauthn.Credential, authErr, rpErr error) {
	t.Helper()
	if len(opts) == 0 {
		opts = []webauthn.LoginOption{webauthn.WithUserVerification(protocol.VerificationRequired)}
	}
	assertion, session, err := rp.BeginLogin(u, opts...)
	if err != nil {
		t.Fatalf("BeginLogin: %v", err)
	}
	resp, err := a.Get(from, mustJSON(t, assertion))
	if err != nil {
		return nil, err, nil
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(resp)
	if err != nil {
		t.Fatalf("ParseCredentialRequestResponseBytes: %v\n%s", err, resp)
	}
	cred, err = rp.ValidateLogin(u, *session, parsed)
	if err != nil {
		return nil, nil, err
	}
	u.update(cred)
	return cred, nil, nil
}

func mustLogin(t *testing.T, rp *webauthn.WebAuthn, u *testUser, a *virtualkey.Authenticator, opts ...webauthn.LoginOption) *webauthn.Credential {
	t.Helper()
	cred, authErr, rpErr := login(t, rp, u, a, origin, opts...)
	if authErr != nil || rpErr != nil {
		t.Fatalf("login: authenticator: %v, rp: %v", authErr, rpErr)
	}
	return cred
}

// passkeyLogin runs a discoverable (usernameless) login among users.
func passkeyLogin(t *testing.T, rp *webauthn.WebAuthn, a *virtualkey.Authenticator, users ...*testUser) (*testUser, *webauthn.Credential) {
	t.Helper()
	assertion, session, err := rp.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		t.Fatalf("BeginDiscoverableLogin: %v", err)
	}
	if len(assertion.Response.AllowedCredentials) != 0 {
		t.Fatalf("discoverable login has allowCredentials")
	}
	resp, err := a.Get(origin, mustJSON(t, assertion))
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(resp)
	if err != nil {
		t.Fatalf("ParseCredentialRequestResponseBytes: %v", err)
	}
	handler := func(rawID, userHandle []byte) (webauthn.User, error) {
		for _, u := range users {
			if bytes.Equal(u.id, userHandle) {
				return u, nil
			}
		}
		return nil, fmt.Errorf("no user with handle %x", userHandle)
	}
	user, cred, err := rp.ValidatePasskeyLogin(handler, *session, parsed)
	if err != nil {
		t.Fatalf("ValidatePasskeyLogin: %v", err)
	}
	u := user.(*testUser)
	u.update(cred)
	return u, cred
}

func TestRoundTrip(t *testing.T) {
	aaguid := [16]byte{0xea, 0x9b, 0x8d, 0x66, 0x4d, 0x01, 0x1d, 0x21, 0x3c, 0xe4, 0xb6, 0xb4, 0x8c, 0xb5, 0x75, 0xd4}
	tests := []struct {
		name           string
		opts           virtualkey.Options
		wantTransports []protocol.AuthenticatorTransport
		wantAttachment protocol.AuthenticatorAttachment
	}{
		{
			name:           "defaults",
			wantTransports: []protocol.AuthenticatorTransport{protocol.Internal, protocol.Hybrid},
			wantAttachment: protocol.Platform,
		},
		{
			name:           "synced passkey",
			opts:           virtualkey.Options{AAGUID: aaguid, BackupEligible: true, BackupState: true},
			wantTransports: []protocol.AuthenticatorTransport{protocol.Internal, protocol.Hybrid},
			wantAttachment: protocol.Platform,
		},
		{
			name:           "security key with counter",
			opts:           virtualkey.Options{AAGUID: aaguid, Counter: true, Transports: []string{"usb", "nfc"}, Attachment: "cross-platform"},
			wantTransports: []protocol.AuthenticatorTransport{protocol.USB, protocol.NFC},
			wantAttachment: protocol.CrossPlatform,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rp := newRP(t, rpID)
			a := virtualkey.New(tt.opts)
			u := newUser("alice")

			cred := mustRegister(t, rp, u, a)
			if !cred.Flags.UserPresent || !cred.Flags.UserVerified {
				t.Errorf("flags UP/UV = %v/%v, want true/true", cred.Flags.UserPresent, cred.Flags.UserVerified)
			}
			if cred.Flags.BackupEligible != tt.opts.BackupEligible || cred.Flags.BackupState != tt.opts.BackupState {
				t.Errorf("flags BE/BS = %v/%v, want %v/%v", cred.Flags.BackupEligible, cred.Flags.BackupState, tt.opts.BackupEligible, tt.opts.BackupState)
			}
			if !bytes.Equal(cred.Authenticator.AAGUID, tt.opts.AAGUID[:]) {
				t.Errorf("AAGUID = %x, want %x", cred.Authenticator.AAGUID, tt.opts.AAGUID)
			}
			if !slices.Equal(cred.Transport, tt.wantTransports) {
				t.Errorf("transports = %v, want %v", cred.Transport, tt.wantTransports)
			}
			if cred.Authenticator.Attachment != tt.wantAttachment {
				t.Errorf("attachment = %q, want %q", cred.Authenticator.Attachment, tt.wantAttachment)
			}
			if cred.AttestationFormat != "none" || cred.Authenticator.SignCount != 0 {
				t.Errorf("format %q, sign count %d; want none, 0", cred.AttestationFormat, cred.Authenticator.SignCount)
			}
			if len(cred.ID) != 32 {
				t.Errorf("credential id is %d bytes, want 32", len(cred.ID))
			}
			key, err := webauthncose.ParsePublicKey(cred.PublicKey)
			if err != nil {
				t.Fatalf("ParsePublicKey: %v", err)
			}
			if ec, ok := key.(webauthncose.EC2PublicKeyData); !ok || ec.Algorithm != int64(webauthncose.AlgES256) {
				t.Errorf("public key = %#v, want an ES256 EC2 key", key)
			}

			got := a.Credentials()
			if len(got) != 1 || !bytes.Equal(got[0].ID, cred.ID) || !bytes.Equal(got[0].UserHandle, u.id) || got[0].RPID != rpID || got[0].UserName != "alice" {
				t.Fatalf("Credentials() = %+v", got)
			}

			for i := 1; i <= 3; i++ {
				c := mustLogin(t, rp, u, a)
				want := uint32(0)
				if tt.opts.Counter {
					want = uint32(i)
				}
				if c.Authenticator.SignCount != want || c.Authenticator.CloneWarning {
					t.Errorf("login %d: sign count %d (clone warning %v), want %d", i, c.Authenticator.SignCount, c.Authenticator.CloneWarning, want)
				}
				if !c.Flags.UserVerified || c.Flags.BackupState != tt.opts.BackupState {
					t.Errorf("login %d: flags %+v", i, c.Flags)
				}
			}

			who, c := passkeyLogin(t, rp, a, newUser("bob"), u)
			if who != u || !bytes.Equal(c.ID, cred.ID) {
				t.Errorf("passkey login found %s / %x, want alice / %x", who.name, c.ID, cred.ID)
			}
			if tt.opts.Counter && c.Authenticator.SignCount != 4 {
				t.Errorf("passkey login sign count %d, want 4", c.Authenticator.SignCount)
			}
		})
	}
}

func TestCloneDetection(t *testing.T) {
	t.Run("counter", func(t *testing.T) {
		rp := newRP(t, rpID)
		a := virtualkey.New(virtualkey.Options{Counter: true})
		u := newUser("alice")
		cred := mustRegister(t, rp, u, a)
		mustLogin(t, rp, u, a)
		mustLogin(t, rp, u, a)
		if err := a.SetSignCount(cred.ID, 0); err != nil {
			t.Fatal(err)
		}
		c := mustLogin(t, rp, u, a) // reports 1 after 2
		if !c.Authenticator.CloneWarning {
			t.Errorf("no clone warning for a counter going back from 2 to 1")
		}
	})
	t.Run("stuck counter", func(t *testing.T) {
		rp := newRP(t, rpID)
		a := virtualkey.New(virtualkey.Options{})
		u := newUser("alice")
		cred := mustRegister(t, rp, u, a)
		if err := a.SetSignCount(cred.ID, 5); err != nil {
			t.Fatal(err)
		}
		if c := mustLogin(t, rp, u, a); c.Authenticator.CloneWarning || c.Authenticator.SignCount != 5 {
			t.Fatalf("first login: %+v", c.Authenticator)
		}
		if c := mustLogin(t, rp, u, a); !c.Authenticator.CloneWarning {
			t.Errorf("no clone warning for a non-zero counter that did not increase")
		}
	})
	t.Run("unknown credential", func(t *testing.T) {
		if err := virtualkey.New(virtualkey.Options{}).SetSignCount([]byte("nope"), 1); !errors.Is(err, virtualkey.ErrNotAllowed) {
			t.Errorf("SetSignCount(unknown) = %v, want ErrNotAllowed", err)
		}
	})
}

func TestOrigins(t *testing.T) {
	tests := []struct {
		name       string
		origin     string
		wantAuth   error // error of the authenticator (browser)
		wantRPFail bool  // go-webauthn must refuse
	}{
		{name: "rp origin", origin: "https://shop.example"},
		{name: "default port and path", origin: "https://SHOP.example:443/account/passkeys"},
		{name: "unlisted subdomain", origin: "https://login.shop.example", wantRPFail: true},
		{name: "other port", origin: "https://shop.example:8443", wantRPFail: true},
		{name: "other site", origin: "https://evil.example", wantAuth: virtualkey.ErrSecurity},
		{name: "suffix without dot", origin: "https://evilshop.example", wantAuth: virtualkey.ErrSecurity},
		{name: "rp id as subdomain of attacker", origin: "https://shop.example.evil.example", wantAuth: virtualkey.ErrSecurity},
		{name: "plain http", origin: "http://shop.example", wantAuth: virtualkey.ErrSecurity},
		{name: "other scheme", origin: "ftp://shop.example", wantAuth: virtualkey.ErrSecurity},
		{name: "no host", origin: "shop.example", wantAuth: virtualkey.ErrSecurity},
		{name: "ip address", origin: "https://127.0.0.1", wantAuth: virtualkey.ErrSecurity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rp := newRP(t, rpID)
			a := virtualkey.New(virtualkey.Options{})
			u := newUser("alice")

			_, authErr, rpErr := register(t, rp, u, a, tt.origin)
			checkCeremony(t, "register", authErr, rpErr, tt.wantAuth, tt.wantRPFail)

			// Assertions from the same origin, with a credential registered
			// from the RP's own origin.
			mustRegister(t, rp, u, a)
			_, authErr, rpErr = login(t, rp, u, a, tt.origin)
			checkCeremony(t, "login", authErr, rpErr, tt.wantAuth, tt.wantRPFail)
		})
	}
}

func checkCeremony(t *testing.T, what string, authErr, rpErr, wantAuth error, wantRPFail bool) {
	t.Helper()
	switch {
	case wantAuth != nil:
		if !errors.Is(authErr, wantAuth) {
			t.Errorf("%s: authenticator error = %v, want %v", what, authErr, wantAuth)
		}
	case authErr != nil:
		t.Errorf("%s: authenticator refused: %v", what, authErr)
	case wantRPFail && rpErr == nil:
		t.Errorf("%s: go-webauthn accepted the response", what)
	case wantRPFail:
		t.Logf("%s: go-webauthn refused as expected: %v", what, rpErr)
	case !wantRPFail && rpErr != nil:
		t.Errorf("%s: go-webauthn refused: %v", what, rpErr)
	}
}

func TestLocalhost(t *testing.T) {
	rp := newRP(t, "localhost", "http://localhost:8080")
	a := virtualkey.New(virtualkey.Options{})
	u := newUser("dev")
	if _, authErr, rpErr := register(t, rp, u, a, "http://localhost:8080"); authErr != nil || rpErr != nil {
		t.Fatalf("register: %v / %v", authErr, rpErr)
	}
	if _, authErr, rpErr := login(t, rp, u, a, "http://localhost:8080"); authErr != nil || rpErr != nil {
		t.Fatalf("login: %v / %v", authErr, rpErr)
	}
}

func TestUserVerification(t *testing.T) {
	rp := newRP(t, rpID)
	a := virtualkey.New(virtualkey.Options{SkipUserVerification: true})
	u := newUser("alice")

	if _, authErr, rpErr := register(t, rp, u, a, origin, selection(protocol.VerificationRequired)); authErr != nil || rpErr == nil {
		t.Fatalf("register with UV required: authenticator %v, rp %v; want the RP to refuse", authErr, rpErr)
	} else {
		wantUVRefusal(t, rpErr)
	}
	a.Remove(a.Credentials()[0].ID)

	cred := mustRegister(t, rp, u, a, selection(protocol.VerificationPreferred))
	if cred.Flags.UserVerified || !cred.Flags.UserPresent {
		t.Errorf("flags = %+v, want UP without UV", cred.Flags)
	}
	if _, authErr, rpErr := login(t, rp, u, a, origin, webauthn.WithUserVerification(protocol.VerificationRequired)); authErr != nil || rpErr == nil {
		t.Errorf("login with UV required: authenticator %v, rp %v; want the RP to refuse", authErr, rpErr)
	} else {
		wantUVRefusal(t, rpErr)
	}
	mustLogin(t, rp, u, a, webauthn.WithUserVerification(protocol.VerificationPreferred))
}

// wantUVRefusal checks that go-webauthn refused for the missing UV flag.
func wantUVRefusal(t *testing.T, err error) {
	t.Helper()
	var pe *protocol.Error
	if !errors.As(err, &pe) || !strings.Contains(pe.DevInfo, "User verification required") {
		t.Errorf("go-webauthn refused for another reason: %v (%+v)", err, pe)
	}
}

func TestBackupFlags(t *testing.T) {
	t.Run("BE changes after registration", func(t *testing.T) {
		rp := newRP(t, rpID)
		a := virtualkey.New(virtualkey.Options{})
		u := newUser("alice")
		mustRegister(t, rp, u, a)
		a.SetFlags(true, true)
		if _, authErr, rpErr := login(t, rp, u, a, origin); authErr != nil || rpErr == nil {
			t.Errorf("login after BE change: authenticator %v, rp %v; want the RP to refuse", authErr, rpErr)
		} else {
			t.Logf("login after BE change refused: %v", rpErr)
		}
		a.SetFlags(false, false)
		mustLogin(t, rp, u, a)
	})
	t.Run("BS changes after registration", func(t *testing.T) {
		rp := newRP(t, rpID)
		a := virtualkey.New(virtualkey.Options{BackupEligible: true})
		u := newUser("alice")
		mustRegister(t, rp, u, a)
		a.SetFlags(true, true)
		if c := mustLogin(t, rp, u, a); !c.Flags.BackupState {
			t.Errorf("backup state not updated: %+v", c.Flags)
		}
	})
	t.Run("BS without BE", func(t *testing.T) {
		rp := newRP(t, rpID)
		a := virtualkey.New(virtualkey.Options{BackupState: true})
		if _, authErr, rpErr := register(t, rp, newUser("alice"), a, origin); authErr != nil || rpErr == nil {
			t.Errorf("register: authenticator %v, rp %v; want the RP to refuse", authErr, rpErr)
		} else {
			t.Logf("register with BS but not BE refused: %v", rpErr)
		}
	})
}

func TestExcludeCredentials(t *testing.T) {
	rp := newRP(t, rpID)
	a := virtualkey.New(virtualkey.Options{})
	u := newUser("alice")
	mustRegister(t, rp, u, a)

	exclude := webauthn.WithExclusions(webauthn.Credentials(u.creds).CredentialDescriptors())
	if _, authErr, _ := register(t, rp, u, a, origin, selection(protocol.VerificationRequired), exclude); !errors.Is(authErr, virtualkey.ErrInvalidState) {
		t.Errorf("register with own credential excluded: %v, want ErrInvalidState", authErr)
	}
	// Another authenticator does not hold the excluded credential.
	other := virtualkey.New(virtualkey.Options{})
	if _, authErr, rpErr := register(t, rp, u, other, origin, selection(protocol.VerificationRequired), exclude); authErr != nil || rpErr != nil {
		t.Errorf("register on another authenticator: %v / %v", authErr, rpErr)
	}
	if n := len(a.Credentials()); n != 1 {
		t.Errorf("authenticator holds %d credentials, want 1", n)
	}
}

func TestCredentialSelection(t *testing.T) {
	rp := newRP(t, rpID)
	a := virtualkey.New(virtualkey.Options{})
	alice, bob := newUser("alice"), newUser("bob")
	ca := mustRegister(t, rp, alice, a)
	cb := mustRegister(t, rp, bob, a)

	// Discoverable: the most recently created credential.
	if who, c := passkeyLogin(t, rp, a, alice, bob); who != bob || !bytes.Equal(c.ID, cb.ID) {
		t.Errorf("discoverable login picked %s", who.name)
	}
	// allowCredentials restricts the choice.
	if c := mustLogin(t, rp, alice, a); !bytes.Equal(c.ID, ca.ID) {
		t.Errorf("login for alice used %x, want %x", c.ID, ca.ID)
	}
	// Credentials of another RP are not used.
	other := newRP(t, "other.example")
	assertion, _, err := other.BeginDiscoverableLogin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Get("https://other.example", mustJSON(t, assertion)); !errors.Is(err, virtualkey.ErrNotAllowed) {
		t.Errorf("Get for another RP = %v, want ErrNotAllowed", err)
	}
	// Removed credentials are gone.
	if !a.Remove(ca.ID) || a.Remove(ca.ID) {
		t.Errorf("Remove did not report the credential exactly once")
	}
	if _, authErr, _ := login(t, rp, alice, a, origin); !errors.Is(authErr, virtualkey.ErrNotAllowed) {
		t.Errorf("login with removed credential = %v, want ErrNotAllowed", authErr)
	}
	if who, _ := passkeyLogin(t, rp, a, alice, bob); who != bob {
		t.Errorf("discoverable login after removal picked %s", who.name)
	}
}

func TestCreateRefusals(t *testing.T) {
	rp := newRP(t, rpID)
	u := newUser("alice")
	tests := []struct {
		name string
		opts []webauthn.RegistrationOption
		a    virtualkey.Options
		want error
	}{
		{
			name: "no ES256",
			opts: []webauthn.RegistrationOption{webauthn.WithCredentialParameters([]protocol.CredentialParameter{
				{Type: protocol.PublicKeyCredentialType, Algorithm: webauthncose.AlgRS256},
				{Type: protocol.PublicKeyCredentialType, Algorithm: webauthncose.AlgEdDSA},
			})},
			want: virtualkey.ErrNotSupported,
		},
		{
			name: "cross-platform required",
			opts: []webauthn.RegistrationOption{webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{AuthenticatorAttachment: protocol.CrossPlatform})},
			want: virtualkey.ErrNotAllowed,
		},
		{
			name: "platform required",
			opts: []webauthn.RegistrationOption{webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{AuthenticatorAttachment: protocol.Platform})},
			a:    virtualkey.Options{Attachment: "cross-platform"},
			want: virtualkey.ErrNotAllowed,
		},
		{
			name: "rp id of another site",
			opts: []webauthn.RegistrationOption{webauthn.WithRegistrationRelyingPartyID("other.example")},
			want: virtualkey.ErrSecurity,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := virtualkey.New(tt.a)
			if _, authErr, _ := register(t, rp, u, a, origin, tt.opts...); !errors.Is(authErr, tt.want) {
				t.Errorf("authenticator error = %v, want %v", authErr, tt.want)
			}
			if len(a.Credentials()) != 0 {
				t.Errorf("a refused ceremony left a credential")
			}
		})
	}
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func b64d(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("%q is not unpadded base64url: %v", s, err)
	}
	return b
}

// TestWireFormat checks the bytes against the WebAuthn specification without
// go-webauthn, using the bare (inner) options objects in testdata.
func TestWireFormat(t *testing.T) {
	aaguid := [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	a := virtualkey.New(virtualkey.Options{AAGUID: aaguid, BackupEligible: true, Counter: true})

	regJSON, err := a.Create(origin, readTestdata(t, "creation_bare.json"))
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	var reg struct {
		ID, RawID, Type, AuthenticatorAttachment string
		Response                                 struct {
			ClientDataJSON, AttestationObject, AuthenticatorData, PublicKey string
			Transports                                                      []string
			PublicKeyAlgorithm                                              int
		}
		ClientExtensionResults map[string]any
	}
	if err := json.Unmarshal(regJSON, &reg); err != nil {
		t.Fatal(err)
	}
	if reg.Type != "public-key" || reg.ID != reg.RawID || reg.AuthenticatorAttachment != "platform" ||
		reg.ClientExtensionResults == nil || len(reg.ClientExtensionResults) != 0 ||
		!slices.Equal(reg.Response.Transports, []string{"internal", "hybrid"}) || reg.Response.PublicKeyAlgorithm != -7 {
		t.Errorf("registration response = %s", regJSON)
	}
	credID := b64d(t, reg.RawID)

	wantCD := `{"type":"webauthn.create","challenge":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8","origin":"https://shop.example","crossOrigin":false}`
	if got := string(b64d(t, reg.Response.ClientDataJSON)); got != wantCD {
		t.Errorf("clientDataJSON = %s, want %s", got, wantCD)
	}

	attObjRaw := b64d(t, reg.Response.AttestationObject)
	var attObj map[string]cbor.RawMessage
	if err := cbor.Unmarshal(attObjRaw, &attObj); err != nil {
		t.Fatalf("attestationObject: %v", err)
	}
	var format string
	var stmt map[string]any
	var authData []byte
	if err := errors.Join(cbor.Unmarshal(attObj["fmt"], &format), cbor.Unmarshal(attObj["attStmt"], &stmt), cbor.Unmarshal(attObj["authData"], &authData)); err != nil {
		t.Fatal(err)
	}
	if len(attObj) != 3 || format != "none" || stmt == nil || len(stmt) != 0 {
		t.Errorf("attestation object: %d members, fmt %q, attStmt %v", len(attObj), format, stmt)
	}
	if !bytes.Equal(authData, b64d(t, reg.Response.AuthenticatorData)) {
		t.Errorf("response.authenticatorData differs from the attestation object's authData")
	}
	rpHash := sha256.Sum256([]byte(rpID))
	if !bytes.Equal(authData[:32], rpHash[:]) {
		t.Errorf("rpIdHash = %x", authData[:32])
	}
	if authData[32] != 0x01|0x04|0x08|0x40 {
		t.Errorf("flags = %#x, want UP|UV|BE|AT", authData[32])
	}
	if n := binary.BigEndian.Uint32(authData[33:37]); n != 0 {
		t.Errorf("sign count = %d", n)
	}
	if !bytes.Equal(authData[37:53], aaguid[:]) {
		t.Errorf("aaguid = %x", authData[37:53])
	}
	if n := binary.BigEndian.Uint16(authData[53:55]); n != 32 || !bytes.Equal(authData[55:87], credID) {
		t.Errorf("credential id length %d / id differs from rawId", n)
	}
	coseRaw := authData[87:]
	var cose map[int]any
	if err := cbor.Unmarshal(coseRaw, &cose); err != nil {
		t.Fatalf("COSE key: %v", err)
	}
	x, _ := cose[-2].([]byte)
	y, _ := cose[-3].([]byte)
	if len(cose) != 5 || cose[1] != uint64(2) || cose[3] != int64(-7) || cose[-1] != uint64(1) || len(x) != 32 || len(y) != 32 {
		t.Errorf("COSE key = %v", cose)
	}
	canon, _ := cbor.CTAP2EncOptions().EncMode()
	if again, err := canon.Marshal(cose); err != nil || !bytes.Equal(again, coseRaw) {
		t.Errorf("COSE key is not in CTAP2 canonical form: %x", coseRaw)
	}
	if again, err := canon.Marshal(attObj); err != nil || !bytes.Equal(again, attObjRaw) {
		t.Errorf("attestation object is not in CTAP2 canonical form")
	}
	pub, err := x509.ParsePKIXPublicKey(b64d(t, reg.Response.PublicKey))
	if err != nil {
		t.Fatalf("publicKey: %v", err)
	}
	ecPub, ok := pub.(*ecdsa.PublicKey)
	if !ok {
		t.Fatalf("publicKey is %T", pub)
	}
	if point, _ := ecPub.Bytes(); !bytes.Equal(point, slices.Concat([]byte{4}, x, y)) {
		t.Errorf("publicKey differs from the COSE key")
	}

	// Assertion.
	getJSON, err := a.Get("https://shop.example", readTestdata(t, "request_bare.json"))
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	var as struct {
		ID, RawID, Type, AuthenticatorAttachment string
		Response                                 struct {
			ClientDataJSON, AuthenticatorData, Signature, UserHandle string
		}
		ClientExtensionResults map[string]any
	}
	if err := json.Unmarshal(getJSON, &as); err != nil {
		t.Fatal(err)
	}
	if as.Type != "public-key" || as.ID != reg.ID || as.RawID != reg.ID || as.AuthenticatorAttachment != "platform" || as.ClientExtensionResults == nil {
		t.Errorf("authentication response = %s", getJSON)
	}
	if got := string(b64d(t, as.Response.UserHandle)); got != "alice-id" {
		t.Errorf("userHandle = %q", got)
	}
	cd := b64d(t, as.Response.ClientDataJSON)
	wantCD = `{"type":"webauthn.get","challenge":"ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1-f4CBgoM","origin":"https://shop.example","crossOrigin":false}`
	if string(cd) != wantCD {
		t.Errorf("clientDataJSON = %s, want %s", cd, wantCD)
	}
	ad := b64d(t, as.Response.AuthenticatorData)
	if len(ad) != 37 || !bytes.Equal(ad[:32], rpHash[:]) || ad[32] != 0x01|0x04|0x08 || binary.BigEndian.Uint32(ad[33:]) != 1 {
		t.Errorf("authenticatorData = %x", ad)
	}
	cdHash := sha256.Sum256(cd)
	digest := sha256.Sum256(slices.Concat(ad, cdHash[:]))
	if !ecdsa.VerifyASN1(ecPub, digest[:], b64d(t, as.Response.Signature)) {
		t.Errorf("signature does not verify")
	}
}

func TestInvalidOptions(t *testing.T) {
	a := virtualkey.New(virtualkey.Options{})
	if _, err := a.Create(origin, readTestdata(t, "creation_bare.json")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		call func() ([]byte, error)
		want error
	}{
		{"create: not JSON", func() ([]byte, error) { return a.Create(origin, []byte("{")) }, virtualkey.ErrInvalidOptions},
		{"create: null", func() ([]byte, error) { return a.Create(origin, []byte("null")) }, virtualkey.ErrInvalidOptions},
		{"create: publicKey null", func() ([]byte, error) { return a.Create(origin, []byte(`{"publicKey":null}`)) }, virtualkey.ErrInvalidOptions},
		{"create: no challenge", func() ([]byte, error) {
			return a.Create(origin, []byte(`{"rp":{"id":"shop.example"},"user":{"id":"YWxpY2UtaWQ"}}`))
		}, virtualkey.ErrInvalidOptions},
		{"create: no user", func() ([]byte, error) {
			return a.Create(origin, []byte(`{"rp":{"id":"shop.example"},"challenge":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"}`))
		}, virtualkey.ErrInvalidOptions},
		{"create: bad challenge", func() ([]byte, error) {
			return a.Create(origin, []byte(`{"rp":{"id":"shop.example"},"user":{"id":"YWxpY2UtaWQ"},"challenge":"!!"}`))
		}, virtualkey.ErrInvalidOptions},
		{"create: only RS256", func() ([]byte, error) { return a.Create(origin, readTestdata(t, "creation_rs256_only.json")) }, virtualkey.ErrNotSupported},
		{"get: not JSON", func() ([]byte, error) { return a.Get(origin, []byte("[]")) }, virtualkey.ErrInvalidOptions},
		{"get: no challenge", func() ([]byte, error) { return a.Get(origin, []byte(`{"publicKey":{"rpId":"shop.example"}}`)) }, virtualkey.ErrInvalidOptions},
		{"get: bad allow id", func() ([]byte, error) {
			return a.Get(origin, []byte(`{"challenge":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8","allowCredentials":[{"type":"public-key","id":"*"}]}`))
		}, virtualkey.ErrInvalidOptions},
		{"get: unknown allowed credential", func() ([]byte, error) {
			return a.Get(origin, []byte(`{"challenge":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8","allowCredentials":[{"type":"public-key","id":"AAAA"}]}`))
		}, virtualkey.ErrNotAllowed},
		{"get: rp id of another site", func() ([]byte, error) {
			return a.Get(origin, []byte(`{"challenge":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8","rpId":"evil.example"}`))
		}, virtualkey.ErrSecurity},
		{"get: public suffix rp id", func() ([]byte, error) {
			return a.Get(origin, []byte(`{"challenge":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8","rpId":"example"}`))
		}, virtualkey.ErrSecurity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.call(); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
	// Without rpId the origin's host is the RP ID.
	if _, err := a.Get(origin, []byte(`{"challenge":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"}`)); err != nil {
		t.Errorf("Get without rpId: %v", err)
	}
}

func TestConcurrentUse(t *testing.T) {
	rp := newRP(t, rpID)
	a := virtualkey.New(virtualkey.Options{Counter: true})
	const n = 8
	users := make([]*testUser, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range users {
		users[i] = newUser(fmt.Sprintf("user%d", i))
		wg.Go(func() {
			u := users[i]
			creation, session, err := rp.BeginRegistration(u)
			if err != nil {
				errs <- err
				return
			}
			body, _ := json.Marshal(creation)
			resp, err := a.Create(origin, body)
			if err != nil {
				errs <- err
				return
			}
			parsed, err := protocol.ParseCredentialCreationResponseBytes(resp)
			if err != nil {
				errs <- err
				return
			}
			cred, err := rp.CreateCredential(u, *session, parsed)
			if err != nil {
				errs <- err
				return
			}
			u.update(cred)
			for range 3 {
				assertion, session, err := rp.BeginLogin(u)
				if err != nil {
					errs <- err
					return
				}
				body, _ := json.Marshal(assertion)
				resp, err := a.Get(origin, body)
				if err != nil {
					errs <- err
					return
				}
				parsed, err := protocol.ParseCredentialRequestResponseBytes(resp)
				if err != nil {
					errs <- err
					return
				}
				cred, err := rp.ValidateLogin(u, *session, parsed)
				if err != nil {
					errs <- err
					return
				}
				if cred.Authenticator.CloneWarning {
					errs <- fmt.Errorf("%s: clone warning", u.name)
					return
				}
				u.update(cred)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := len(a.Credentials()); got != n {
		t.Errorf("%d credentials, want %d", got, n)
	}
}
