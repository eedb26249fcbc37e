package authn_test

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/shopguard/shopguard/internal/authn"
	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/storage/memory"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	t     testing.TB
	clock *clock
	store *memory.Store
	a     *authn.Authenticators
}

func newFixture(t testing.TB) *fixture {
	key := bytes.Repeat([]byte{7}, authn.KeySize)
	seal, err := authn.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	// Mid-step, so that the steps either side are whole.
	c := &clock{t: time.Date(2026, 12, 3, 10, 0, 15, 0, time.UTC)}
	st := memory.New()
	return &fixture{t: t, clock: c, store: st, a: authn.NewAuthenticators(authn.TOTPConfig{Now: c.Now}, st, seal)}
}

// code is what the customer's app shows at offset from now.
func (f *fixture) code(secret string, offset time.Duration) string {
	f.t.Helper()
	c, err := totp.GenerateCodeCustom(secret, f.clock.Now().Add(offset), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// enrolled returns the secret of a confirmed authenticator app for user.
func (f *fixture) enrolled(user string) string {
	f.t.Helper()
	e, err := f.a.Enrol(context.Background(), "shop", user, authn.EnrolInput{Issuer: "Northwind", AccountName: user + "@example.com"})
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.a.Confirm(context.Background(), "shop", user, f.code(e.Secret, 0)); err != nil {
		f.t.Fatal(err)
	}
	f.clock.Add(30 * time.Second) // the confirming code's step is used up
	return e.Secret
}

func TestEnrolValidation(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name   string
		user   string
		in     authn.EnrolInput
		fields []string
	}{
		{"nothing", "", authn.EnrolInput{}, []string{"user_id", "issuer", "account_name"}},
		{"colon in issuer", "u1", authn.EnrolInput{Issuer: "Shop: EU", AccountName: "a@b.c"}, []string{"issuer"}},
		{"long account", "u1", authn.EnrolInput{Issuer: "Shop", AccountName: strings.Repeat("a", 129)}, []string{"account_name"}},
		{"control character", "u\x01", authn.EnrolInput{Issuer: "Shop", AccountName: "a@b.c"}, []string{"user_id"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.a.Enrol(context.Background(), "shop", tc.user, tc.in)
			var got []string
			for _, fe := range risk.FieldErrors(err) {
				got = append(got, fe.Field)
			}
			if strings.Join(got, ",") != strings.Join(tc.fields, ",") {
				t.Errorf("fields %v, want %v (%v)", got, tc.fields, err)
			}
		})
	}
}

func TestEnrolConfirmVerify(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	e, err := f.a.Enrol(ctx, "shop", "u1", authn.EnrolInput{Issuer: "Northwind Outfitters", AccountName: "ana@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(e.URL)
	if err != nil || u.Scheme != "otpauth" || u.Host != "totp" || u.Query().Get("secret") != e.Secret ||
		u.Query().Get("issuer") != "Northwind Outfitters" || !strings.Contains(u.Path, "ana@example.com") {
		t.Errorf("otpauth URL %q", e.URL)
	}
	if img, err := png.Decode(bytes.NewReader(e.QRCode)); err != nil || img.Bounds().Dx() != 256 {
		t.Errorf("QR code: %v", err)
	}
	stored, _ := f.store.TOTP(ctx, "shop", "u1")
	if bytes.Contains(stored.SealedSecret, []byte(e.Secret)) {
		t.Error("the secret is stored in the clear")
	}
	// Not usable before it is confirmed.
	if err := f.a.Verify(ctx, "shop", "u1", f.code(e.Secret, 0)); !errors.Is(err, authn.ErrWrongCode) {
		t.Errorf("Verify before confirmation = %v", err)
	}
	if _, err := f.a.Confirm(ctx, "shop", "u1", "000000"); !errors.Is(err, authn.ErrWrongCode) && f.code(e.Secret, 0) != "000000" {
		t.Errorf("Confirm with a wrong code = %v", err)
	}
	codes, err := f.a.Confirm(ctx, "shop", "u1", f.code(e.Secret, 0))
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != 10 {
		t.Errorf("%d recovery codes, want 10", len(codes))
	}
	for _, c := range codes {
		if !regexp.MustCompile(`^[a-z2-7]{5}-[a-z2-7]{5}$`).MatchString(c) {
			t.Errorf("recovery code %q", c)
		}
	}
	if _, err := f.a.Enrol(ctx, "shop", "u1", authn.EnrolInput{Issuer: "N", AccountName: "a"}); !errors.Is(err, authn.ErrEnrolled) {
		t.Errorf("a second enrolment = %v, want ErrEnrolled", err)
	}
	if got, _ := f.a.Factors(ctx, "shop", "u1"); got.TOTP != "active" || got.RecoveryCodesLeft != 10 {
		t.Errorf("Factors = %+v", got)
	}
}

func TestCodesAreAcceptedOnceWithinOneStep(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	secret := f.enrolled("u1")
	verify := func(code string) error { return f.a.Verify(ctx, "shop", "u1", code) }
	now := f.code(secret, 0)
	if err := verify(now); err != nil {
		t.Fatalf("the current code: %v", err)
	}
	if err := verify(now); !errors.Is(err, authn.ErrWrongCode) {
		t.Errorf("the same code again (replay) = %v", err)
	}
	if err := verify(f.code(secret, -30*time.Second)); !errors.Is(err, authn.ErrWrongCode) {
		t.Errorf("the previous step's code after the current one was used = %v", err)
	}
	if err := verify(f.code(secret, 30*time.Second)); err != nil {
		t.Errorf("the next step's code (a clock a little ahead): %v", err)
	}
	f.clock.Add(5 * time.Minute)
	if err := verify(f.code(secret, -60*time.Second)); !errors.Is(err, authn.ErrWrongCode) {
		t.Errorf("a code two steps old = %v", err)
	}
	if err := verify(f.code(secret, -30*time.Second)); err != nil {
		t.Errorf("a code one step old (typed as it changed): %v", err)
	}
	if err := verify("12 34 5"); len(risk.FieldErrors(err)) != 1 {
		t.Errorf("five digits = %v, want a field error", err)
	}
	if err := f.a.Verify(ctx, "shop", "nobody", "123456"); !errors.Is(err, authn.ErrWrongCode) {
		t.Errorf("a customer without an app = %v, want ErrWrongCode (not telling)", err)
	}
}

func TestWrongCodesAreRateLimited(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	secret := f.enrolled("u1")
	wrong := "000000"
	if f.code(secret, 0) == wrong || f.code(secret, 30*time.Second) == wrong || f.code(secret, -30*time.Second) == wrong {
		wrong = "999999"
	}
	for i := range 5 {
		if err := f.a.Verify(ctx, "shop", "u1", wrong); !errors.Is(err, authn.ErrWrongCode) {
			t.Fatalf("wrong code %d = %v", i+1, err)
		}
	}
	var rl *authn.RateLimitedError
	if err := f.a.Verify(ctx, "shop", "u1", f.code(secret, 0)); !errors.As(err, &rl) {
		t.Fatalf("the right code after 5 wrong ones = %v, want RateLimitedError", err)
	}
	if want := f.clock.Now().Add(15 * time.Minute); rl.RetryAt.Sub(want).Abs() > time.Second {
		t.Errorf("RetryAt %s, want about %s", rl.RetryAt, want)
	}
	f.clock.Add(16 * time.Minute)
	if err := f.a.Verify(ctx, "shop", "u1", f.code(secret, 0)); err != nil {
		t.Errorf("after the window: %v", err)
	}
}

func TestConcurrentUseOfOneCode(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	secret := f.enrolled("u1")
	code := f.code(secret, 0)
	var ok atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if f.a.Verify(ctx, "shop", "u1", code) == nil {
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 {
		t.Errorf("one code accepted %d times by concurrent requests", ok.Load())
	}
}

func TestRecoveryCodes(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.enrolled("u1")
	codes, err := f.a.NewRecoveryCodes(ctx, "shop", "u1")
	if err != nil {
		t.Fatal(err)
	}
	typed := strings.ToUpper(strings.ReplaceAll(codes[3], "-", " "))
	if err := f.a.UseRecoveryCode(ctx, "shop", "u1", typed); err != nil {
		t.Errorf("a code typed in capitals with a space: %v", err)
	}
	if err := f.a.UseRecoveryCode(ctx, "shop", "u1", codes[3]); !errors.Is(err, authn.ErrWrongCode) {
		t.Errorf("a used code = %v", err)
	}
	if err := f.a.UseRecoveryCode(ctx, "shop", "u2", codes[4]); !errors.Is(err, authn.ErrWrongCode) {
		t.Errorf("another customer's code = %v", err)
	}
	if err := f.a.UseRecoveryCode(ctx, "shop", "u1", "not-a-code!"); len(risk.FieldErrors(err)) != 1 {
		t.Errorf("a malformed code = %v", err)
	}
	if got, _ := f.a.Factors(ctx, "shop", "u1"); got.RecoveryCodesLeft != 9 {
		t.Errorf("Factors = %+v, want 9 codes left", got)
	}
	if err := f.a.Remove(ctx, "shop", "u1"); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.a.Factors(ctx, "shop", "u1"); got.TOTP != "none" || got.RecoveryCodesLeft != 0 {
		t.Errorf("after Remove: %+v", got)
	}
}

func TestSealedSecretsStayWithTheirCustomer(t *testing.T) {
	s, err := authn.NewSealer(bytes.Repeat([]byte{1}, authn.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	sealed := s.Seal([]byte("JBSWY3DPEHPK3PXP"), "totp/shop/u1")
	if got, err := s.Open(sealed, "totp/shop/u1"); err != nil || string(got) != "JBSWY3DPEHPK3PXP" {
		t.Errorf("Open = %q, %v", got, err)
	}
	if _, err := s.Open(sealed, "totp/shop/u2"); !errors.Is(err, authn.ErrSealed) {
		t.Errorf("opened as another customer's: %v", err)
	}
	other, _ := authn.NewSealer(bytes.Repeat([]byte{2}, authn.KeySize))
	if _, err := other.Open(sealed, "totp/shop/u1"); !errors.Is(err, authn.ErrSealed) {
		t.Errorf("opened with another key: %v", err)
	}
	if _, err := s.Open(sealed[:5], "totp/shop/u1"); !errors.Is(err, authn.ErrSealed) {
		t.Errorf("opened a truncated value: %v", err)
	}
	if _, err := authn.NewSealer([]byte("short")); err == nil {
		t.Error("NewSealer accepted a short key")
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "authn.key")
	k1, err := authn.LoadOrCreateKey(path)
	if err != nil || len(k1) != authn.KeySize {
		t.Fatalf("create: %x, %v", k1, err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, %v", st.Mode(), err)
	}
	k2, err := authn.LoadOrCreateKey(path)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Errorf("reload gave another key: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.key")
	if err := os.WriteFile(bad, []byte("not hex"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := authn.LoadOrCreateKey(bad); err == nil {
		t.Error("a malformed key file was accepted")
	}
}
