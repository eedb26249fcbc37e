package stepup_test

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdpwebauthn "github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/shopguard/shopguard/client"
	"github.com/shopguard/shopguard/internal/app/apptest"
)

// TestStepUpInBrowser drives the hosted pages in a real headless Chromium
// with a virtual platform authenticator (internal transport, resident
// keys, user verification on): the customer registers a passkey and an
// authenticator app on the enrolment page, approves a checkout with the
// passkey on the step-up page (the approval is refused for another
// order), then the passkey is revoked and it no longer approves, and the
// authenticator app does. Screenshots go to $SHOPGUARD_SCREENSHOTS if set.
func TestStepUpInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a browser; skipped with -short")
	}
	apptest.Chromium(t)
	a, srv := apptest.Start(t, "")
	// WebAuthn needs a secure context and a domain as RP ID: localhost.
	base := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	c, err := client.New(srv.URL, apptest.Key(t, a, "shop"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.SetRelyingParty(ctx, client.RelyingParty{ID: "localhost", Name: "Northwind Outfitters", Origins: []string{base}}); err != nil {
		t.Fatal(err)
	}
	shots := os.Getenv("SHOPGUARD_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o750); err != nil {
		t.Fatal(err)
	}

	bctx := apptest.Browser(t, 3*time.Minute)
	auth := apptest.VirtualAuthenticator(t, bctx)
	tab := apptest.NewTab(t, bctx)
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	do, text := tab.Do, tab.Text
	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			buf, err := chromedp.FullScreenshot(100)(ctx, tg)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(shots, "stepup-"+name+".png"), buf, 0o600)
		})
	}
	// status waits until the page's status line contains want.
	status := func(want string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Poll[chromedp.Void](`document.getElementById('status').textContent.includes(`+jsString(want)+`)`,
				chromedp.WithPollingTimeout(20*time.Second))(ctx, tg)
			return err
		})
	}
	// returned waits for the redirect back to the shop and returns the token.
	returned := func() string {
		t.Helper()
		var loc string
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			// The page navigates away: a location read mid-navigation may fail.
			if l, err := chromedp.Run(bctx, chromedp.Location()); err == nil && strings.Contains(l, "shopguard_token=") {
				loc = l
				break
			}
			if time.Now().After(deadline) {
				status, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`(document.getElementById('status')||{}).textContent||''`))
				t.Fatalf("no redirect back to the shop (status %q)", status)
			}
		}
		u, err := url.Parse(loc)
		if err != nil || !strings.HasPrefix(loc, base+"/shop/checkout-done") {
			t.Fatalf("returned to %q (%v)", loc, err)
		}
		return u.Query().Get("shopguard_token")
	}

	// Enrolment: a passkey, then an authenticator app.
	link, err := c.CreateEnrolmentLink(ctx, "u_ana", client.EnrolmentLinkInput{AccountName: "ana@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	do("register a passkey",
		chromedp.Navigate(base+link.URL),
		chromedp.WaitVisible(css(`#add-passkey`)),
		shot("01-enrol"),
		chromedp.SendKeys(css(`#passkey-name`), "Ana's laptop"),
		chromedp.Click(css(`#add-passkey`)),
		status("Passkey added"))
	keys, err := c.Passkeys(ctx, "u_ana")
	if err != nil || len(keys) != 1 || keys[0].Name != "Ana's laptop" || !keys[0].Flags.UserVerified || keys[0].RPID != "localhost" {
		t.Fatalf("passkeys after the browser registered one: %+v, %v", keys, err)
	}
	creds, err := chromedp.Call(bctx, cdpwebauthn.GetCredentials, cdpwebauthn.GetCredentialsParams{AuthenticatorID: auth})
	if err != nil || len(creds.Credentials) != 1 || !creds.Credentials[0].IsResidentCredential {
		t.Fatalf("the virtual authenticator holds %+v (%v); want one discoverable credential", creds, err)
	}
	do("set up the authenticator app",
		chromedp.Click(css(`#start-totp`)),
		chromedp.WaitVisible(css(`#totp-secret`)))
	secret := text(`#totp-secret`)
	do("confirm the app",
		shot("02-totp"),
		chromedp.SendKeys(css(`#totp-code`), apptest.TOTPCode(t, secret, time.Now())),
		chromedp.Click(css(`#totp-confirm button`)),
		chromedp.WaitVisible(css(`#recovery-codes`)))
	if n, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll('#recovery-list li').length`)); err != nil || n != 10 {
		t.Errorf("recovery codes shown: %d (%v)", n, err)
	}

	// A checkout step-up with the passkey, bound to order A.
	orderB := orderA
	orderB.Reference = "8813"
	ret := base + "/shop/checkout-done?order=8812"
	ch, err := c.StartChallenge(ctx, client.ChallengeInput{UserID: "u_ana", Action: orderA, ReturnURL: ret})
	if err != nil {
		t.Fatal(err)
	}
	do("open the step-up page",
		chromedp.Navigate(base+ch.HostedURL),
		chromedp.WaitVisible(css(`#use-passkey`)),
		shot("03-challenge"))
	if got := text(`#action-description`); got != orderA.Description {
		t.Errorf("the page asks to confirm %q", got)
	}
	do("approve with the passkey", chromedp.Click(css(`#use-passkey`)))
	token := returned()
	if v, err := c.VerifyApproval(ctx, token, "u_ana", orderB); err != nil || v.Valid || v.Reason != "the token approves another action" {
		t.Errorf("order A's approval for order B: %+v, %v", v, err)
	}
	if v, err := c.VerifyApproval(ctx, token, "u_ana", orderA); err != nil || !v.Valid || v.Method != "passkey" {
		t.Errorf("order A's approval for order A: %+v, %v", v, err)
	}

	// Revoke the passkey: the next challenge cannot be approved with it ...
	ch2, err := c.StartChallenge(ctx, client.ChallengeInput{UserID: "u_ana", Action: orderA, ReturnURL: ret})
	if err != nil {
		t.Fatal(err)
	}
	do("open the next step-up page", chromedp.Navigate(base+ch2.HostedURL), chromedp.WaitVisible(css(`#use-passkey`)))
	if err := c.RevokePasskey(ctx, "u_ana", keys[0].ID); err != nil {
		t.Fatal(err)
	}
	do("try the revoked passkey", chromedp.Click(css(`#use-passkey`)), status("no passkey for this account"), shot("04-revoked"))
	if got, err := c.Challenge(ctx, ch2.ID); err != nil || got.Status != "pending" {
		t.Errorf("the challenge after the revoked passkey: %+v, %v", got, err)
	}
	// ... and the authenticator app does (the code of the next step: the
	// confirming code was this step's, and a code is accepted once).
	do("approve with the app",
		chromedp.SendKeys(css(`#totp-code`), apptest.TOTPCode(t, secret, time.Now().Add(30*time.Second))),
		chromedp.Click(css(`#totp-form button`)))
	token = returned()
	if v, err := c.VerifyApproval(ctx, token, "u_ana", orderA); err != nil || !v.Valid || v.Method != "totp" || v.ChallengeID != ch2.ID {
		t.Errorf("the app's approval: %+v, %v", v, err)
	}
	if ch3, err := c.CreateChallenge(ctx, "u_ana", orderA, ""); err != nil || strings.Join(ch3.Methods, ",") != "totp,recovery_code" {
		t.Errorf("a challenge after the revocation offers %+v (%v)", ch3, err)
	}
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
