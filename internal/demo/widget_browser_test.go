package demo

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shopguard/shopguard/client"
	"github.com/shopguard/shopguard/internal/app/apptest"
	"github.com/shopguard/shopguard/internal/risk"
)

// TestWidgetInDemoShop drives the support assistant's widget on the demo
// shop's support page in Chromium, under the shop's strict CSP: a signed-in
// customer checks the shop's genuine confirmation (registered as the shop
// does when it e-mails one) and a fake text, and asking to change the
// address brings up the step-up.
func TestWidgetInDemoShop(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a browser; skipped with -short")
	}
	apptest.Chromium(t)
	apptest.WarmAssistant(t)
	a, sgSrv := apptest.Start(t, "")
	sg, err := client.New(sgSrv.URL, apptest.Key(t, a, "demo"))
	if err != nil {
		t.Fatal(err)
	}
	guard, err := NewGuard(GuardConfig{Timeout: 10 * time.Second, CheckoutOnFailure: risk.ActionReview}, sg)
	if err != nil {
		t.Fatal(err)
	}
	shop, err := NewShop(ShopConfig{Name: "Test shop", OrderPrefix: "w", PasswordCost: 4, Shopguard: sgSrv.URL}, NewCatalog(), guard, NewProcessor())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(shop)
	t.Cleanup(srv.Close)
	base := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	ctx := context.Background()
	if _, err := sg.SetRelyingParty(ctx, client.RelyingParty{ID: "localhost", Name: "Test shop", Origins: []string{base}}); err != nil {
		t.Fatal(err)
	}
	if err := shop.ImportAccount(Account{ID: "cus_w", Email: "wren@example.com", Name: "Wren", CreatedAt: time.Now().Add(-400 * 24 * time.Hour),
		Address: Address{Line1: "1 Main Street", City: "Berlin", PostalCode: "10115", Country: "DE"}}, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	en, err := sg.EnrolTOTP(ctx, "cus_w", "Test shop", "wren@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sg.ConfirmTOTP(ctx, "cus_w", apptest.TOTPCode(t, en.Secret, time.Now().Add(-30*time.Second))); err != nil {
		t.Fatal(err)
	}
	sent, err := sg.RegisterOutbound(ctx, client.Outbound{Channel: "email", Recipient: "wren@example.com", UserID: "cus_w", Template: "order_confirmation",
		Summary: "Order w-000001 confirmed, 12.99 EUR", Links: []string{base + "/orders/w-000001"}, SentAt: time.Now().Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}

	bctx := apptest.Browser(t, 2*time.Minute)
	tab := apptest.NewTab(t, bctx)
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	reply := func(n int) (string, string) {
		t.Helper()
		js := fmt.Sprintf(`(() => { const m = document.querySelectorAll('.sga-msg[data-role=assistant]'); return m.length >= %d ? [m[%d].textContent, m[%d].className] : null })()`, n, n-1, n-1)
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			if v, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](js)); err == nil && len(v) == 2 {
				return v[0], v[1]
			}
			if time.Now().After(deadline) {
				t.Fatalf("no reply %d from the assistant", n)
			}
		}
	}
	send := func(text string) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{chromedp.SendKeys(css(`#sga-input`), text), chromedp.Click(css(`.sga-form button`))}
	}
	tab.Do("sign in",
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(css(`#login`)),
		chromedp.SendKeys(css(`#login input[name=email]`), "wren@example.com"),
		chromedp.SendKeys(css(`#login input[name=password]`), "correct horse battery"),
		chromedp.Click(css(`#login button`)),
		chromedp.WaitVisible(css(`#security-link`)))
	tab.Do("open the support page", chromedp.Navigate(base+"/support"), chromedp.WaitVisible(css(`#sga-input`)))
	if got, _ := reply(1); !strings.Contains(got, "Hello") || strings.Contains(got, "please sign in first") {
		t.Errorf("greeting for a signed-in customer: %q", got)
	}
	tab.Do("paste the shop's confirmation", send("Is this from you? Thank you for your order. See it at "+base+"/orders/w-000001 Verification code: "+sent.Code)...)
	if got, class := reply(2); !strings.Contains(got, "Yes, this is genuine") || !strings.Contains(got, "Order w-000001 confirmed") || !strings.Contains(class, "sga-genuine") {
		t.Errorf("the genuine confirmation: %q (%s)", got, class)
	}
	tab.Do("paste a fake text", send("Test shop: your parcel is held at customs, pay 1.99 EUR at https://parcel-redelivery.example/pay today")...)
	if got, class := reply(3); !strings.Contains(got, "No, we did not send this") || !strings.Contains(class, "sga-not_ours") {
		t.Errorf("the fake text: %q (%s)", got, class)
	}
	tab.Do("ask for an address change", append(send("I moved, please change my delivery address"), chromedp.WaitVisible(css(`.sga-stepup`)))...)
	if got, _ := reply(4); !strings.Contains(got, "check that it's really you") {
		t.Errorf("before the address change: %q", got)
	}
}
