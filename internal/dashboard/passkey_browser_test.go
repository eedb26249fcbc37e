package dashboard_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shopguard/shopguard/internal/app/apptest"
)

// TestPasskeySignInInBrowser: an analyst signs in with their password,
// adds a passkey on the account page (Chromium's virtual platform
// authenticator: user verification on, resident keys), signs out and
// signs in with the passkey alone; once the passkey is removed it no
// longer signs in.
func TestPasskeySignInInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a browser; skipped with -short")
	}
	apptest.Chromium(t)
	e := start(t)
	password := e.user(t, "shop", "ana", "analyst")
	// Passkeys need a domain name: localhost.
	base := strings.Replace(e.srv.URL, "127.0.0.1", "localhost", 1) + "/dashboard"
	bctx := apptest.Browser(t, 2*time.Minute)
	apptest.VirtualAuthenticator(t, bctx)
	tab := apptest.NewTab(t, bctx)
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	do, text := tab.Do, tab.Text
	signOut := chromedp.Steps(chromedp.Click(css(`header .who button`)), chromedp.WaitVisible(css(`#passkey-signin-button`)))

	do("sign in with the password",
		chromedp.Navigate(base+"/signin"),
		chromedp.WaitVisible(css(`#passkey-signin-button`)), // shown: the browser has WebAuthn
		chromedp.SendKeys(css(`input[name=name]`), "ana"),
		chromedp.SendKeys(css(`input[name=password]`), password),
		chromedp.Click(css(`#signin`)),
		chromedp.WaitVisible(css(`#account-link`)))
	do("add a passkey",
		chromedp.Click(css(`#account-link`)),
		chromedp.WaitVisible(css(`#add-passkey`)),
		chromedp.Click(css(`#add-passkey`)),
		chromedp.WaitVisible(css(`.flash`)))
	if flash := text(`.flash`); !strings.Contains(flash, "Passkey added") {
		t.Fatalf("after adding: %q (error %q)", flash, text(`#passkey-error`))
	}
	if rows := text(`#passkeys`); !strings.Contains(rows, "never") {
		t.Errorf("the passkeys table: %q", rows)
	}
	do("sign out", signOut)
	do("sign in with the passkey",
		chromedp.Click(css(`#passkey-signin-button`)),
		chromedp.WaitVisible(css(`#account-link`)))
	if who := text(`#account-link`); who != "ana" {
		t.Errorf("signed in as %q", who)
	}
	do("remove the passkey",
		chromedp.Navigate(base+"/account"),
		chromedp.WaitVisible(css(`#passkeys button.danger`)),
		chromedp.Evaluate[chromedp.Void](`window.confirm = function () { return true; }`),
		chromedp.Click(css(`#passkeys button.danger`)),
		chromedp.WaitVisible(css(`.flash`)))
	do("sign out again", signOut)
	do("the removed passkey",
		chromedp.Click(css(`#passkey-signin-button`)),
		chromedp.Poll[chromedp.Void](`document.getElementById('passkey-error').textContent !== ''`, chromedp.WithPollingTimeout(20*time.Second)))
	if msg := text(`#passkey-error`); !strings.Contains(msg, "not accepted") {
		t.Errorf("a removed passkey: %q", msg)
	}
	if _, err := chromedp.Run(bctx, chromedp.WaitVisible(css(`#passkey-signin-button`))); err != nil {
		t.Error("not on the sign-in page any more")
	}
}
