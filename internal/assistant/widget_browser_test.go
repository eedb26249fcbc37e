package assistant_test

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shopguard/shopguard/client"
	"github.com/shopguard/shopguard/internal/app/apptest"
)

// shopPage is a shop's page with the widget, as the shop's backend
// renders it.
var shopPage = template.Must(template.New("p").Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Northwind</title></head>
<body><h1>Northwind Outfitters</h1>
<script src="{{.Guard}}/assistant/widget.js" defer data-conversation="{{.Conversation}}" data-token="{{.Token}}" data-open="true"{{if .StepUp}} data-step-up="{{.StepUp}}"{{end}}></script>
</body></html>`))

// TestWidgetInBrowser drives the chat widget in Chromium, from a shop page
// on another origin than shopguard's: a fake and a genuine message are
// told apart, and an address change waits for a passkey step-up (a
// virtual authenticator) on the hosted page, after which the assistant
// confirms it and the shop can redeem the approval for that action.
func TestWidgetInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a browser; skipped with -short")
	}
	apptest.Chromium(t)
	apptest.WarmAssistant(t)
	a, srv := apptest.Start(t, "")
	// WebAuthn needs a secure context and a domain as RP ID: localhost.
	guard := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	c, err := client.New(srv.URL, apptest.Key(t, a, "shop"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	var conv client.StartedConversation
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = shopPage.Execute(w, map[string]string{"Guard": guard, "Conversation": conv.Conversation.ID, "Token": conv.ClientToken,
			"StepUp": r.URL.Query().Get("shopguard_challenge")})
	}))
	defer shop.Close()
	shopURL := strings.Replace(shop.URL, "127.0.0.1", "localhost", 1)
	if _, err := c.SetRelyingParty(ctx, client.RelyingParty{ID: "localhost", Name: "Northwind Outfitters", Origins: []string{guard, shopURL}}); err != nil {
		t.Fatal(err)
	}
	sent, err := c.RegisterOutbound(ctx, client.Outbound{Channel: "email", UserID: "u_ana", Template: "order_confirmation",
		Summary: "Order 8812 confirmed", Links: []string{"https://northwind.shop/orders/8812"}, SentAt: time.Now().Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}

	bctx := apptest.Browser(t, 3*time.Minute)
	apptest.VirtualAuthenticator(t, bctx)
	tab := apptest.NewTab(t, bctx)
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	do := tab.Do
	// reply waits for the n-th reply of the assistant (1 is the greeting)
	// and returns its text and class.
	reply := func(n int) (string, string) {
		t.Helper()
		js := fmt.Sprintf(`(() => { const m = document.querySelectorAll('.sga-msg[data-role=assistant]'); return m.length >= %d ? [m[%d].textContent, m[%d].className] : null })()`, n, n-1, n-1)
		var out []string
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			if v, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](js)); err == nil && len(v) == 2 {
				out = v
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no reply %d from the assistant", n)
			}
		}
		return out[0], out[1]
	}
	send := func(text string) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{chromedp.SendKeys(css(`#sga-input`), text), chromedp.Click(css(`.sga-form button`))}
	}

	// Enrol the passkey the step-up will use.
	link, err := c.CreateEnrolmentLink(ctx, "u_ana", client.EnrolmentLinkInput{AccountName: "ana@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	do("register a passkey",
		chromedp.Navigate(guard+link.URL),
		chromedp.WaitVisible(css(`#add-passkey`)),
		chromedp.SendKeys(css(`#passkey-name`), "Ana's laptop"),
		chromedp.Click(css(`#add-passkey`)),
		chromedp.Poll[chromedp.Void](`document.getElementById('status').textContent.includes('Passkey added')`, chromedp.WithPollingTimeout(20*time.Second)))

	conv, err = c.StartConversation(ctx, client.ConversationStart{UserID: "u_ana", ReturnURL: shopURL + "/verified"})
	if err != nil {
		t.Fatal(err)
	}
	do("open the shop's page", chromedp.Navigate(shopURL+"/"), chromedp.WaitVisible(css(`#sga-input`)))
	if got, _ := reply(1); !strings.Contains(got, "Hello") {
		t.Errorf("greeting %q", got)
	}
	do("paste a fake message", send("Northwind: your account is locked. Log in within 24h at https://northwlnd.shop/login")...)
	if got, class := reply(2); !strings.Contains(got, "No, we did not send this") || !strings.Contains(class, "sga-not_ours") {
		t.Errorf("fake message: %q (%s)", got, class)
	}
	do("give a genuine code", send("is the email with code "+sent.Code+" from you?")...)
	if got, class := reply(3); !strings.Contains(got, "Yes, this is genuine") || !strings.Contains(class, "sga-genuine") {
		t.Errorf("genuine message: %q (%s)", got, class)
	}
	do("ask for an address change", append(send("please change my delivery address, I moved"), chromedp.WaitVisible(css(`.sga-stepup`)))...)
	if got, _ := reply(4); !strings.Contains(got, "check that it's really you") || !strings.Contains(got, "never ask you for your password") {
		t.Errorf("step-up reply %q", got)
	}
	if cv, err := c.Conversation(ctx, conv.Conversation.ID); err != nil || cv.Pending == nil || cv.Pending.Intent != "change_address" {
		t.Fatalf("the conversation waits for %+v (%v)", cv.Pending, err)
	}
	// The step-up opens in place, as when the browser blocks its window.
	do("approve with the passkey",
		chromedp.Evaluate[chromedp.Void](`window.open = () => null`),
		chromedp.Click(css(`.sga-stepup`)),
		chromedp.WaitVisible(css(`#use-passkey`)),
		chromedp.Click(css(`#use-passkey`)))
	var back string
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if l, err := chromedp.Run(bctx, chromedp.Location()); err == nil && strings.HasPrefix(l, shopURL+"/verified?") {
			back = l
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the step-up did not return to the shop")
		}
	}
	if got, _ := reply(2); !strings.Contains(got, "that's confirmed") {
		t.Errorf("after the step-up the assistant said %q", got)
	}
	u, _ := url.Parse(back)
	q := u.Query()
	ch, err := c.Challenge(ctx, q.Get("shopguard_challenge"))
	if err != nil || ch.Action.Type != "change_address" || q.Get("action") != "change_address" {
		t.Fatalf("returned with %v: %+v, %v", q, ch, err)
	}
	if v, err := c.VerifyApproval(ctx, q.Get("shopguard_token"), "u_ana", ch.Action); err != nil || !v.Valid || v.Method != "passkey" {
		t.Errorf("the approval for the address change: %+v, %v", v, err)
	}
}
