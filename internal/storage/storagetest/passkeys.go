package storagetest

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/storage"
)

// newPasskey returns a passkey with every field set.
func newPasskey(tenant, id, userID, rpID, credentialID string, at time.Time) storage.Passkey {
	return storage.Passkey{
		Tenant:            tenant,
		ID:                id,
		UserID:            userID,
		RPID:              rpID,
		CredentialID:      []byte(credentialID),
		UserHandle:        []byte("handle-" + userID),
		PublicKey:         []byte{0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x00, 0xff},
		Algorithm:         -7,
		AttestationType:   "basic",
		AttestationFormat: "packed",
		Attestation:       []byte(`{"fmt":"packed","attStmt":{"alg":-7}}`),
		Transports:        []string{"internal", "hybrid"},
		Flags:             0x5D,
		SignCount:         4_000_000_001, // beyond int32
		CloneWarning:      true,
		AAGUID:            []byte{0xad, 0xce, 0x00, 0x02, 0x35, 0xbc, 0xc6, 0x0a, 0x64, 0x8b, 0x0b, 0x25, 0xf1, 0xf0, 0x55, 0x03},
		Attachment:        "platform",
		Extensions:        []byte(`{"credProps":{"rk":true}}`),
		Name:              "iPhone " + id,
		CreatedAt:         at,
		LastUsedAt:        at.Add(90*time.Minute + 123*time.Microsecond),
		Version:           1,
	}
}

func mustCreatePasskey(t *testing.T, b storage.Backend, p storage.Passkey) {
	t.Helper()
	if err := b.CreatePasskey(context.Background(), p); err != nil {
		t.Fatalf("CreatePasskey %s: %v", p.ID, err)
	}
}

func passkeyIDs(ps []storage.Passkey) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, p.Tenant+"/"+p.ID)
	}
	return out
}

func testPasskeys(t *testing.T, b storage.Backend) {
	ctx := context.Background()
	if ps, err := b.Passkeys(ctx, "t1", "u1"); err != nil || len(ps) != 0 {
		t.Fatalf("Passkeys before any = %v, %v", passkeyIDs(ps), err)
	}
	pk1 := newPasskey("t1", "pk_1", "u1", "shop.example", "cred-1", base)
	pk2 := newPasskey("t1", "pk_2", "u1", "shop.example", "cred-2", base.Add(time.Second))
	// The same credential id under another RP ID, and in another tenant
	// (whose passkey ids are its own too), are different passkeys.
	pk3 := newPasskey("t1", "pk_3", "u1", "auth.shop.example", "cred-1", base.Add(2*time.Second))
	other := newPasskey("t2", "pk_1", "u1", "shop.example", "cred-1", base)
	bob := newPasskey("t1", "pk_4", "u2", "shop.example", "cred-4", base)
	// Only what a passkey cannot do without: the rest comes back empty.
	bare := storage.Passkey{Tenant: "t1", ID: "pk_5", UserID: "u3", RPID: "shop.example", CredentialID: []byte{0, 1, 2},
		PublicKey: []byte{0xa5}, Algorithm: -8, CreatedAt: base.Add(time.Microsecond), Version: 1}
	for _, p := range []storage.Passkey{pk2, pk3, pk1, other, bob, bare} {
		mustCreatePasskey(t, b, p)
	}

	tests := []struct {
		name   string
		tenant string
		userID string
		want   []storage.Passkey
	}{
		{"oldest first", "t1", "u1", []storage.Passkey{pk1, pk2, pk3}},
		{"another customer", "t1", "u2", []storage.Passkey{bob}},
		{"bare", "t1", "u3", []storage.Passkey{bare}},
		{"another tenant", "t2", "u1", []storage.Passkey{other}},
		{"no passkeys", "t1", "nobody", nil},
		{"unknown tenant", "t3", "u1", nil},
	}
	for _, tc := range tests {
		got, err := b.Passkeys(ctx, tc.tenant, tc.userID)
		if err != nil {
			t.Errorf("%s: Passkeys: %v", tc.name, err)
			continue
		}
		if len(got) != len(tc.want) || (len(got) > 0 && !reflect.DeepEqual(got, tc.want)) {
			t.Errorf("%s: Passkeys = %v, want %v\n got  %+v\n want %+v", tc.name, passkeyIDs(got), passkeyIDs(tc.want), got, tc.want)
		}
	}

	byCred := []struct {
		name       string
		tenant     string
		rpID       string
		credential string
		want       *storage.Passkey // nil: ErrNotFound
	}{
		{"round trip", "t1", "shop.example", "cred-1", &pk1},
		{"another RP ID", "t1", "auth.shop.example", "cred-1", &pk3},
		{"another tenant", "t2", "shop.example", "cred-1", &other},
		{"bare", "t1", "shop.example", "\x00\x01\x02", &bare},
		{"unknown credential", "t1", "shop.example", "cred-9", nil},
		{"unknown RP ID", "t1", "other.example", "cred-1", nil},
		{"unknown tenant", "t3", "shop.example", "cred-1", nil},
		{"another tenant's credential", "t2", "shop.example", "cred-2", nil},
	}
	for _, tc := range byCred {
		got, err := b.PasskeyByCredential(ctx, tc.tenant, tc.rpID, []byte(tc.credential))
		switch {
		case tc.want == nil && !errors.Is(err, storage.ErrNotFound):
			t.Errorf("%s: PasskeyByCredential = %+v, %v; want ErrNotFound", tc.name, got, err)
		case tc.want != nil && (err != nil || !reflect.DeepEqual(got, *tc.want)):
			t.Errorf("%s: PasskeyByCredential = %+v, %v\n want %+v", tc.name, got, err, *tc.want)
		}
	}

	conflicts := []struct {
		name string
		p    storage.Passkey
		err  error
	}{
		{"taken id", newPasskey("t1", "pk_1", "u9", "shop.example", "cred-new", base), storage.ErrConflict},
		{"taken credential id", newPasskey("t1", "pk_9", "u9", "shop.example", "cred-2", base), storage.ErrConflict},
		{"taken credential id of another customer", newPasskey("t1", "pk_9", "u1", "shop.example", "cred-4", base), storage.ErrConflict},
		{"credential id taken in another tenant only", newPasskey("t2", "pk_9", "u1", "shop.example", "cred-2", base), nil},
		{"credential id taken under another RP ID only", newPasskey("t1", "pk_10", "u1", "other.example", "cred-2", base), nil},
		{"id taken in another tenant only", newPasskey("t3", "pk_1", "u1", "shop.example", "cred-1", base), nil},
	}
	for _, tc := range conflicts {
		if err := b.CreatePasskey(ctx, tc.p); !errors.Is(err, tc.err) || (tc.err == nil && err != nil) {
			t.Errorf("%s: CreatePasskey = %v, want %v", tc.name, err, tc.err)
		}
	}
	// A rejected passkey left nothing behind.
	if got, err := b.PasskeyByCredential(ctx, "t1", "shop.example", []byte("cred-new")); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("credential of a rejected passkey = %+v, %v; want ErrNotFound", got, err)
	}
	if got, _ := b.Passkeys(ctx, "t1", "u9"); len(got) != 0 {
		t.Errorf("passkeys of rejected creations: %v", passkeyIDs(got))
	}
}

func testPasskeyUpdates(t *testing.T, b storage.Backend) {
	ctx := context.Background()
	p := newPasskey("t1", "pk_1", "u1", "shop.example", "cred-1", base)
	p2 := newPasskey("t1", "pk_2", "u1", "shop.example", "cred-2", base.Add(time.Second))
	mustCreatePasskey(t, b, p)
	mustCreatePasskey(t, b, p2)
	mustCreatePasskey(t, b, newPasskey("t2", "pk_1", "u1", "shop.example", "cred-1", base))

	// A sign-in: one update wins, a second one based on the same version loses.
	u := p
	u.SignCount, u.Flags, u.CloneWarning, u.LastUsedAt, u.Name = 4_000_000_002, 0x1D, false, base.Add(3*time.Hour), "work phone"
	u.Transports, u.Version = []string{"internal"}, 2
	if err := b.UpdatePasskey(ctx, u); err != nil {
		t.Fatalf("UpdatePasskey: %v", err)
	}
	stale := p
	stale.SignCount, stale.Version = 7, 2
	errs := []struct {
		name   string
		mutate func(*storage.Passkey)
		err    error
	}{
		{"stale version", func(q *storage.Passkey) { *q = stale }, storage.ErrConflict},
		{"version skipped", func(q *storage.Passkey) { q.Version = 4 }, storage.ErrConflict},
		{"another customer's", func(q *storage.Passkey) { q.UserID = "u2" }, storage.ErrNotFound},
		{"another tenant's", func(q *storage.Passkey) { q.Tenant = "t3" }, storage.ErrNotFound},
		{"missing", func(q *storage.Passkey) { q.ID = "pk_9" }, storage.ErrNotFound},
		{"taken credential id", func(q *storage.Passkey) { q.CredentialID = []byte("cred-2") }, storage.ErrConflict},
	}
	for _, tc := range errs {
		q := u
		q.SignCount, q.Version = 4_000_000_003, 3
		tc.mutate(&q)
		if err := b.UpdatePasskey(ctx, q); !errors.Is(err, tc.err) {
			t.Errorf("%s: UpdatePasskey = %v, want %v", tc.name, err, tc.err)
		}
	}
	if got, err := b.PasskeyByCredential(ctx, "t1", "shop.example", []byte("cred-1")); err != nil || !reflect.DeepEqual(got, u) {
		t.Errorf("after the updates = %+v, %v\n want %+v", got, err, u)
	}
	if got, _ := b.PasskeyByCredential(ctx, "t1", "shop.example", []byte("cred-2")); !reflect.DeepEqual(got, p2) {
		t.Errorf("the other passkey after the updates = %+v\n want %+v", got, p2)
	}
	if got, _ := b.PasskeyByCredential(ctx, "t2", "shop.example", []byte("cred-1")); got.Version != 1 || got.SignCount != p.SignCount {
		t.Errorf("another tenant's passkey changed: %+v", got)
	}
	u.Version = 3
	if err := b.UpdatePasskey(ctx, u); err != nil {
		t.Errorf("UpdatePasskey on the next version: %v", err)
	}
}

func testPasskeyDeletes(t *testing.T, b storage.Backend) {
	ctx := context.Background()
	p := newPasskey("t1", "pk_1", "u1", "shop.example", "cred-1", base)
	mustCreatePasskey(t, b, p)
	mustCreatePasskey(t, b, newPasskey("t1", "pk_2", "u1", "shop.example", "cred-2", base.Add(time.Second)))
	mustCreatePasskey(t, b, newPasskey("t2", "pk_1", "u1", "shop.example", "cred-1", base))
	for _, tc := range []struct {
		name               string
		tenant, userID, id string
	}{
		{"another customer's", "t1", "u2", "pk_1"},
		{"another tenant's", "t3", "u1", "pk_1"},
		{"missing", "t1", "u1", "pk_9"},
	} {
		if err := b.DeletePasskey(ctx, tc.tenant, tc.userID, tc.id); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("%s: DeletePasskey = %v, want ErrNotFound", tc.name, err)
		}
	}
	if err := b.DeletePasskey(ctx, "t1", "u1", "pk_1"); err != nil {
		t.Fatalf("DeletePasskey: %v", err)
	}
	if err := b.DeletePasskey(ctx, "t1", "u1", "pk_1"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("second DeletePasskey = %v, want ErrNotFound", err)
	}
	if _, err := b.PasskeyByCredential(ctx, "t1", "shop.example", []byte("cred-1")); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("deleted passkey by credential = %v, want ErrNotFound", err)
	}
	if ps, err := b.Passkeys(ctx, "t1", "u1"); err != nil || !reflect.DeepEqual(passkeyIDs(ps), []string{"t1/pk_2"}) {
		t.Errorf("Passkeys after the delete = %v, %v", passkeyIDs(ps), err)
	}
	if ps, err := b.Passkeys(ctx, "t2", "u1"); err != nil || !reflect.DeepEqual(passkeyIDs(ps), []string{"t2/pk_1"}) {
		t.Errorf("another tenant's passkeys after the delete = %v, %v", passkeyIDs(ps), err)
	}
	if err := b.UpdatePasskey(ctx, storage.Passkey{Tenant: "t1", ID: "pk_1", UserID: "u1", Version: 2}); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("UpdatePasskey of a deleted passkey = %v, want ErrNotFound", err)
	}
	// Its id and credential id are free again.
	p.CreatedAt = base.Add(time.Hour)
	mustCreatePasskey(t, b, p)
	if got, err := b.PasskeyByCredential(ctx, "t1", "shop.example", []byte("cred-1")); err != nil || !reflect.DeepEqual(got, p) {
		t.Errorf("re-registered passkey = %+v, %v\n want %+v", got, err, p)
	}
}

// testPasskeyAliasing checks that callers changing the slices they passed
// in or got back do not change what is stored.
func testPasskeyAliasing(t *testing.T, b storage.Backend) {
	ctx := context.Background()
	want := newPasskey("t1", "pk_1", "u1", "shop.example", "cred-1", base)
	p := newPasskey("t1", "pk_1", "u1", "shop.example", "cred-1", base)
	mustCreatePasskey(t, b, p)
	scribble := func(p *storage.Passkey) {
		for _, bs := range [][]byte{p.CredentialID, p.UserHandle, p.PublicKey, p.Attestation, p.AAGUID, p.Extensions} {
			for i := range bs {
				bs[i] = 'X'
			}
		}
		for i := range p.Transports {
			p.Transports[i] = "scribbled"
		}
	}
	check := func(when string) {
		t.Helper()
		got, err := b.PasskeyByCredential(ctx, "t1", "shop.example", []byte("cred-1"))
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: stored passkey = %+v, %v\n want %+v", when, got, err, want)
		}
	}
	scribble(&p)
	check("after changing what was created")
	got, err := b.PasskeyByCredential(ctx, "t1", "shop.example", []byte("cred-1"))
	if err != nil {
		t.Fatal(err)
	}
	scribble(&got)
	check("after changing what PasskeyByCredential returned")
	ps, err := b.Passkeys(ctx, "t1", "u1")
	if err != nil || len(ps) != 1 {
		t.Fatalf("Passkeys = %v, %v", passkeyIDs(ps), err)
	}
	scribble(&ps[0])
	check("after changing what Passkeys returned")
	u := newPasskey("t1", "pk_1", "u1", "shop.example", "cred-1", base)
	u.Version = 2
	if err := b.UpdatePasskey(ctx, u); err != nil {
		t.Fatal(err)
	}
	want.Version = 2
	scribble(&u)
	check("after changing what was updated")

	c := storage.Ceremony{Tenant: "t1", ID: "wc_1", Kind: "registration", Session: []byte(`{"challenge":"abc"}`),
		CreatedAt: base, ExpiresAt: base.Add(5 * time.Minute)}
	session := []byte(`{"challenge":"abc"}`)
	if err := b.CreateCeremony(ctx, c); err != nil {
		t.Fatal(err)
	}
	for i := range c.Session {
		c.Session[i] = 'X'
	}
	if got, err := b.TakeCeremony(ctx, "t1", "wc_1"); err != nil || string(got.Session) != string(session) {
		t.Errorf("ceremony session after changing what was created = %q, %v; want %q", got.Session, err, session)
	}

	rp := storage.RelyingParty{Tenant: "t1", ID: "shop.example", Name: "Shop", Origins: []string{"https://shop.example"}, UpdatedAt: base}
	if err := b.PutRelyingParty(ctx, rp); err != nil {
		t.Fatal(err)
	}
	rp.Origins[0] = "https://evil.example"
	got2, err := b.RelyingParty(ctx, "t1")
	if err != nil || !reflect.DeepEqual(got2.Origins, []string{"https://shop.example"}) {
		t.Errorf("origins after changing what was put = %v, %v", got2.Origins, err)
	}
	got2.Origins[0] = "https://evil.example"
	if got3, _ := b.RelyingParty(ctx, "t1"); !reflect.DeepEqual(got3.Origins, []string{"https://shop.example"}) {
		t.Errorf("origins after changing what was returned = %v", got3.Origins)
	}
}

func newCeremony(tenant, id string, expires time.Time) storage.Ceremony {
	return storage.Ceremony{Tenant: tenant, ID: id, UserID: "u1", Kind: "assertion", ChallengeID: "ch_" + id, Name: "",
		Session:   []byte(`{"challenge":"c-` + id + `","rpId":"shop.example","userVerification":"required"}`),
		CreatedAt: expires.Add(-5 * time.Minute), ExpiresAt: expires}
}

func testCeremonies(t *testing.T, b storage.Backend) {
	ctx := context.Background()
	c1 := newCeremony("t1", "wc_1", base.Add(5*time.Minute))
	c1.Kind, c1.ChallengeID, c1.Name = "registration", "", "YubiKey"
	expired := newCeremony("t1", "wc_2", base.Add(-time.Minute))
	c3 := newCeremony("t2", "wc_3", base.Add(5*time.Minute))
	for _, c := range []storage.Ceremony{c1, expired, c3} {
		if err := b.CreateCeremony(ctx, c); err != nil {
			t.Fatalf("CreateCeremony %s: %v", c.ID, err)
		}
	}
	for _, c := range []storage.Ceremony{newCeremony("t1", "wc_1", base), newCeremony("t2", "wc_1", base)} {
		if err := b.CreateCeremony(ctx, c); !errors.Is(err, storage.ErrConflict) {
			t.Errorf("CreateCeremony %s/%s with a taken id = %v, want ErrConflict", c.Tenant, c.ID, err)
		}
	}
	if got, err := b.TakeCeremony(ctx, "t2", "wc_1"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("taking another tenant's ceremony = %+v, %v; want ErrNotFound", got, err)
	}
	if got, err := b.TakeCeremony(ctx, "t1", "wc_1"); err != nil || !reflect.DeepEqual(got, c1) {
		t.Errorf("TakeCeremony = %+v, %v\n want %+v", got, err, c1)
	}
	if _, err := b.TakeCeremony(ctx, "t1", "wc_1"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("taking a ceremony twice = %v, want ErrNotFound", err)
	}
	// Expired ceremonies are returned too: the caller checks ExpiresAt.
	if got, err := b.TakeCeremony(ctx, "t1", "wc_2"); err != nil || !reflect.DeepEqual(got, expired) {
		t.Errorf("TakeCeremony of an expired one = %+v, %v\n want %+v", got, err, expired)
	}
	if got, err := b.TakeCeremony(ctx, "t2", "wc_3"); err != nil || !reflect.DeepEqual(got, c3) {
		t.Errorf("TakeCeremony in another tenant = %+v, %v\n want %+v", got, err, c3)
	}
	if _, err := b.TakeCeremony(ctx, "t1", "wc_9"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("TakeCeremony of a missing one = %v, want ErrNotFound", err)
	}
	// A taken ceremony's id is free again.
	if err := b.CreateCeremony(ctx, newCeremony("t2", "wc_1", base)); err != nil {
		t.Errorf("CreateCeremony with a taken ceremony's id: %v", err)
	}
}

func testConcurrentCeremonyTakes(t *testing.T, b storage.Backend) {
	ctx := context.Background()
	const rounds, takers = 20, 8
	for r := range rounds {
		c := newCeremony("t1", "wc_race_"+strconv.Itoa(r), base.Add(time.Minute))
		if err := b.CreateCeremony(ctx, c); err != nil {
			t.Fatal(err)
		}
		var (
			wg        sync.WaitGroup
			mu        sync.Mutex
			won       []storage.Ceremony
			otherErrs []error
		)
		start := make(chan struct{})
		for range takers {
			wg.Go(func() {
				<-start
				got, err := b.TakeCeremony(ctx, "t1", c.ID)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					won = append(won, got)
				case !errors.Is(err, storage.ErrNotFound):
					otherErrs = append(otherErrs, err)
				}
			})
		}
		close(start)
		wg.Wait()
		for _, err := range otherErrs {
			t.Errorf("concurrent TakeCeremony: %v", err)
		}
		if len(won) != 1 {
			t.Fatalf("%s: %d of %d concurrent takes won, want exactly 1", c.ID, len(won), takers)
		}
		if !reflect.DeepEqual(won[0], c) {
			t.Errorf("%s: the winning take got %+v\n want %+v", c.ID, won[0], c)
		}
	}
}

func testDeleteExpiredCeremonies(t *testing.T, b storage.Backend) {
	ctx := context.Background()
	cut := base.Add(time.Hour)
	cs := []struct {
		c    storage.Ceremony
		gone bool
	}{
		{newCeremony("t1", "wc_old", base), true},
		{newCeremony("t1", "wc_just", cut.Add(-time.Microsecond)), true},
		{newCeremony("t2", "wc_other", base.Add(time.Minute)), true},
		{newCeremony("t1", "wc_at", cut), false}, // expires at the cut: not before it
		{newCeremony("t1", "wc_later", cut.Add(time.Hour)), false},
		{newCeremony("t2", "wc_other_later", cut.Add(time.Minute)), false},
	}
	for _, tc := range cs {
		if err := b.CreateCeremony(ctx, tc.c); err != nil {
			t.Fatalf("CreateCeremony %s: %v", tc.c.ID, err)
		}
	}
	if n, err := b.DeleteExpiredCeremonies(ctx, cut); err != nil || n != 3 {
		t.Errorf("DeleteExpiredCeremonies = %d, %v; want 3", n, err)
	}
	for _, tc := range cs {
		got, err := b.TakeCeremony(ctx, tc.c.Tenant, tc.c.ID)
		switch {
		case tc.gone && !errors.Is(err, storage.ErrNotFound):
			t.Errorf("%s after DeleteExpiredCeremonies: %v, want ErrNotFound", tc.c.ID, err)
		case !tc.gone && (err != nil || !reflect.DeepEqual(got, tc.c)):
			t.Errorf("%s after DeleteExpiredCeremonies = %+v, %v\n want %+v", tc.c.ID, got, err, tc.c)
		}
	}
	if n, err := b.DeleteExpiredCeremonies(ctx, cut.Add(24*time.Hour)); err != nil || n != 0 {
		t.Errorf("DeleteExpiredCeremonies with none left = %d, %v; want 0", n, err)
	}
}

func testRelyingParties(t *testing.T, b storage.Backend) {
	ctx := context.Background()
	if got, err := b.RelyingParty(ctx, "t1"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("RelyingParty before any = %+v, %v; want ErrNotFound", got, err)
	}
	rp := storage.RelyingParty{Tenant: "t1", ID: "shop.example", Name: "The Shop",
		Origins: []string{"https://shop.example", "https://auth.shop.example"}, UpdatedAt: base}
	if err := b.PutRelyingParty(ctx, rp); err != nil {
		t.Fatal(err)
	}
	if got, err := b.RelyingParty(ctx, "t1"); err != nil || !reflect.DeepEqual(got, rp) {
		t.Errorf("RelyingParty = %+v, %v; want %+v", got, err, rp)
	}
	if got, err := b.RelyingParty(ctx, "t2"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("another tenant's RelyingParty = %+v, %v; want ErrNotFound", got, err)
	}
	other := storage.RelyingParty{Tenant: "t2", ID: "other.example", Name: "Other", Origins: []string{"https://other.example"},
		UpdatedAt: base.Add(time.Second)}
	if err := b.PutRelyingParty(ctx, other); err != nil {
		t.Fatal(err)
	}
	moved := storage.RelyingParty{Tenant: "t1", ID: "new-shop.example", Name: "The New Shop",
		Origins: []string{"https://new-shop.example"}, UpdatedAt: base.Add(time.Hour + time.Microsecond)}
	if err := b.PutRelyingParty(ctx, moved); err != nil {
		t.Fatal(err)
	}
	for _, want := range []storage.RelyingParty{moved, other} {
		if got, err := b.RelyingParty(ctx, want.Tenant); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("RelyingParty(%s) after replacing t1's = %+v, %v; want %+v", want.Tenant, got, err, want)
		}
	}
}
