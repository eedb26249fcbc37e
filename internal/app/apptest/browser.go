package apptest

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	cdpwebauthn "github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
)

// Chromium finds a Chromium or Chrome binary; without one the browser
// tests skip, unless SHOPGUARD_REQUIRE_BROWSER=1 (CI) makes them fail.
func Chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("SHOPGUARD_REQUIRE_BROWSER") == "1" {
		t.Fatal("SHOPGUARD_REQUIRE_BROWSER=1 but no Chromium found: apt-get install -y chromium")
	}
	t.Skip("no Chromium found: install it (apt-get install -y chromium) to run the browser tests")
	return ""
}

// Browser starts a headless Chromium with a fresh profile (skipping or
// failing as Chromium says) and returns its chromedp context, which ends
// after timeout or with the test.
func Browser(t testing.TB, timeout time.Duration) context.Context {
	t.Helper()
	exe := Chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("no-first-run", true), chromedp.WindowSize(1366, 900))...)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	return bctx
}

// VirtualAuthenticator gives the browser tab of bctx a virtual platform
// authenticator (CTAP 2.1, internal transport, resident keys, user
// verification that succeeds, presence simulated), as Chromium's DevTools
// WebAuthn domain makes, and returns its id.
func VirtualAuthenticator(t testing.TB, bctx context.Context) cdpwebauthn.AuthenticatorID {
	t.Helper()
	if _, err := chromedp.Call(bctx, cdpwebauthn.Enable, cdpwebauthn.EnableParams{}); err != nil {
		t.Fatalf("WebAuthn.enable: %v", err)
	}
	res, err := chromedp.Call(bctx, cdpwebauthn.AddVirtualAuthenticator, cdpwebauthn.AddVirtualAuthenticatorParams{
		Options: &cdpwebauthn.VirtualAuthenticatorOptions{Protocol: cdpwebauthn.AuthenticatorProtocolCtap2,
			Ctap2version: cdpwebauthn.Ctap2versionCtap21, Transport: cdpwebauthn.AuthenticatorTransportInternal,
			HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true}})
	if err != nil {
		t.Fatalf("WebAuthn.addVirtualAuthenticator: %v", err)
	}
	return res.AuthenticatorID
}

// Tab drives one browser tab in a test: steps that must work, texts that
// must be there.
type Tab struct {
	t   testing.TB
	ctx context.Context
}

// NewTab returns the tab of the chromedp context ctx.
func NewTab(t testing.TB, ctx context.Context) *Tab { return &Tab{t: t, ctx: ctx} }

// Do runs the steps; a failing one fails the test, naming step.
func (b *Tab) Do(step string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", step, err)
	}
}

// Text returns the text of the element sel, trimmed.
func (b *Tab) Text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}
