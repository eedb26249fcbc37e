package stepup_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/shopguard/shopguard/client"
	"github.com/shopguard/shopguard/internal/app/apptest"
)

// shopPage is a shop's page that includes shopguard.js: a password field
// whose typing rhythm it measures, and a button that steps the customer
// up in shopguard's popup.
const shopPage = `<!doctype html><html><head><meta charset="utf-8"><title>Shop</title></head><body>
<input type="password" id="pw" autocomplete="off">
<button id="measure">Measure</button> <button id="go">Pay</button>
<pre id="ks"></pre><pre id="out"></pre>
<div id="cfg" data-hosted="%s"></div>
<script src="%s/stepup/shopguard.js"></script>
<script src="/page.js"></script>
</body></html>`

const shopScript = `var rec = ShopGuard.typing(document.getElementById('pw'));
document.getElementById('measure').addEventListener('click', function () {
  document.getElementById('ks').textContent = JSON.stringify(rec.keystrokes());
});
document.getElementById('go').addEventListener('click', function () {
  ShopGuard.stepUp(document.getElementById('cfg').dataset.hosted).then(function (r) {
    document.getElementById('out').textContent = JSON.stringify(r);
  }, function (e) { document.getElementById('out').textContent = 'error: ' + e.message; });
});`

// TestSnippetInBrowser drives shopguard.js on a shop's own page (another
// origin than shopguard's) in Chromium: ShopGuard.typing measures the
// password field's rhythm in the form POST /v1/logins takes (and gives
// nothing for an edited entry), and ShopGuard.stepUp opens the hosted
// step-up page in a popup, where the customer answers with their
// authenticator app; the approval comes back to the shop's page, and to
// it only.
func TestSnippetInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a browser; skipped with -short")
	}
	apptest.Chromium(t)
	a, srv := apptest.Start(t, "")
	sgBase := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	c, err := client.New(srv.URL, apptest.Key(t, a, "shop"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	var hosted string
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/page.js" {
			w.Header().Set("Content-Type", "text/javascript")
			fmt.Fprint(w, shopScript)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, shopPage, html.EscapeString(hosted), sgBase)
	}))
	t.Cleanup(shop.Close)
	shopBase := strings.Replace(shop.URL, "127.0.0.1", "localhost", 1)
	if _, err := c.SetRelyingParty(ctx, client.RelyingParty{ID: "localhost", Name: "Northwind Outfitters", Origins: []string{shopBase, sgBase}}); err != nil {
		t.Fatal(err)
	}
	en, err := c.EnrolTOTP(ctx, "u_ana", "Northwind", "ana@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ConfirmTOTP(ctx, "u_ana", apptest.TOTPCode(t, en.Secret, time.Now().Add(-30*time.Second))); err != nil {
		t.Fatal(err)
	}
	ch, err := c.CreateChallenge(ctx, "u_ana", orderA, "")
	if err != nil {
		t.Fatal(err)
	}
	hosted = sgBase + ch.HostedURL

	bctx := apptest.Browser(t, 2*time.Minute)
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	tab := apptest.NewTab(t, bctx)
	text := tab.Text

	// The typing rhythm of the password, timings only.
	tab.Do("type the password",
		chromedp.Navigate(shopBase+"/"),
		chromedp.WaitVisible(css(`#pw`)),
		chromedp.SendKeys(css(`#pw`), "correct horse"),
		chromedp.Click(css(`#measure`)))
	var ks *client.Keystrokes
	if err := json.Unmarshal([]byte(text(`#ks`)), &ks); err != nil || ks == nil || len(ks.HoldMS) != 13 || len(ks.FlightMS) != 12 {
		t.Fatalf("keystrokes %q (%v): want 13 holds and 12 flights", text(`#ks`), err)
	}
	if _, err := c.ScoreLogin(ctx, client.Login{ID: "l1", CreatedAt: time.Now().UTC(), UserID: "u_ana", IP: "198.51.100.4",
		Outcome: client.LoginAttempt, Keystrokes: ks}); err != nil {
		t.Errorf("the snippet's keystrokes refused by POST /v1/logins: %v", err)
	}
	tab.Do("edit the password",
		chromedp.SendKeys(css(`#pw`), "\b"),
		chromedp.Click(css(`#measure`)))
	if got := text(`#ks`); got != "null" {
		t.Errorf("an edited entry gave keystrokes %s, want null", got)
	}

	// The step-up in shopguard's popup.
	popup := chromedp.WaitNewTarget(bctx, func(info *target.Info) bool { return strings.Contains(info.URL, "/stepup/c/") })
	tab.Do("open the step-up", chromedp.Click(css(`#go`)))
	var id target.ID
	select {
	case id = <-popup:
	case <-time.After(20 * time.Second):
		t.Fatal("no popup opened")
	}
	pctx, cancel := chromedp.NewContext(bctx, chromedp.WithTargetID(id))
	defer cancel()
	apptest.NewTab(t, pctx).Do("answer in the popup",
		chromedp.WaitVisible(css(`#totp-code`)),
		chromedp.SendKeys(css(`#totp-code`), apptest.TOTPCode(t, en.Secret, time.Now().Add(30*time.Second))),
		chromedp.Click(css(`#totp-form button`)))
	if _, err := chromedp.Run(bctx, chromedp.Poll[chromedp.Void](`document.getElementById('out').textContent !== ''`,
		chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Fatalf("the shop's page got no answer: %v", err)
	}
	var got struct {
		ChallengeID string `json:"challenge_id"`
		Token       string `json:"token"`
	}
	if out := text(`#out`); json.Unmarshal([]byte(out), &got) != nil || got.ChallengeID != ch.ID || got.Token == "" {
		t.Fatalf("the shop's page got %q", out)
	}
	if v, err := c.VerifyApproval(ctx, got.Token, "u_ana", orderA); err != nil || !v.Valid || v.Method != "totp" {
		t.Errorf("the approval the page got: %+v, %v", v, err)
	}
}
