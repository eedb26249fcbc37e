package demo_test

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shopguard/shopguard/client"
	"github.com/shopguard/shopguard/internal/app/apptest"
	"github.com/shopguard/shopguard/internal/demo"
	"github.com/shopguard/shopguard/internal/risk"
)

var (
	widgetTag    = regexp.MustCompile(`data-conversation="([^"]+)" data-token="([^"]+)"`)
	confirmation = regexp.MustCompile(`(?s)<pre class="card" id="confirmation"[^>]*>(.*?)</pre>`)
)

// TestShopAssistant: the demo shop registers the confirmation it e-mails
// for a paid order, embeds the assistant on its support page, and changes
// a customer's address only after the step-up the assistant started:
// through the shop's own origin, as a customer's browser goes.
func TestShopAssistant(t *testing.T) {
	apptest.WarmAssistant(t)
	sgURL, key := startShopguard(t)
	c, err := client.New(sgURL, key)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ts := newTestShop(t, sgURL, key, 5*time.Second, risk.ActionReview, func(cfg *demo.ShopConfig) { cfg.Shopguard = sgURL })
	// The shop's origin must be one of its passkey origins (return URLs,
	// the widget's CORS), on a domain: localhost.
	ts.srv.URL = strings.Replace(ts.srv.URL, "127.0.0.1", "localhost", 1)
	if _, err := c.SetRelyingParty(ctx, client.RelyingParty{ID: "localhost", Name: "Test shop", Origins: []string{ts.srv.URL}}); err != nil {
		t.Fatal(err)
	}
	en, err := c.EnrolTOTP(ctx, "cus_1", "Test shop", "ada@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ConfirmTOTP(ctx, "cus_1", totpCode(t, en.Secret, time.Now().Add(-30*time.Second))); err != nil {
		t.Fatal(err)
	}
	b := ts.browser(t)
	if resp := ts.post(t, b, "/login", url.Values{"email": {"ada@example.com"}, "password": {"correct horse battery"}}); resp.Header.Get(demo.AccountStatusHeader) != "signed_in" {
		t.Fatalf("sign-in: %d %q", resp.StatusCode, resp.Header.Get(demo.AccountStatusHeader))
	}
	ts.post(t, b, "/cart", url.Values{"product": {"paperback"}, "quantity": {"1"}})
	resp, body := ts.postRead(t, b, "/checkout", checkoutValues(ts.card, nil))
	m := confirmation.FindSubmatch(body)
	if resp.Header.Get(demo.OrderStatusHeader) != demo.StatusPaid || m == nil {
		t.Fatalf("order %s without a confirmation e-mail", resp.Header.Get(demo.OrderStatusHeader))
	}
	email := html.UnescapeString(string(m[1]))

	page := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := b.Get(ts.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}
	_, support := page("/support")
	w := widgetTag.FindStringSubmatch(support)
	if w == nil || !strings.Contains(support, `src="/assistant/widget.js"`) {
		t.Fatalf("no widget on the support page")
	}
	conv, token := w[1], html.UnescapeString(w[2])
	if resp, _ := page("/assistant/widget.js"); resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") {
		t.Fatalf("the widget through the shop: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	say := func(text string) client.AssistantReply {
		t.Helper()
		b, _ := json.Marshal(map[string]string{"text": text})
		req, _ := http.NewRequest(http.MethodPost, ts.srv.URL+"/assistant/v1/conversations/"+conv+"/messages", strings.NewReader(string(b)))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r client.AssistantReply
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || resp.StatusCode != 200 {
			t.Fatalf("message %q: %d %v", text, resp.StatusCode, err)
		}
		return r
	}
	verdict := func(r client.AssistantReply) string {
		for _, a := range r.Actions {
			if a.Type == "message_verdict" {
				return a.Verdict
			}
		}
		return ""
	}
	if r := say("Is this e-mail really from you?\n" + email); verdict(r) != "genuine" {
		t.Errorf("the shop's own confirmation: %q", r.Text)
	}
	if r := say("and this text? Test shop: your parcel is held, pay 1.99 EUR customs at https://parcel-redelivery.example/pay"); verdict(r) != "not_ours" {
		t.Errorf("a fake text: %q", r.Text)
	}

	// Without a passed step-up the address cannot change.
	newAddress := url.Values{"address_line1": {"12 Elm Street"}, "address_city": {"Hamburg"}, "address_postal_code": {"20095"}, "address_country": {"DE"}}
	if resp := ts.post(t, b, demo.AddressPath, newAddress); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("an address change without a step-up: %d", resp.StatusCode)
	}
	r := say("I moved, please change my delivery address")
	var ch string
	for _, a := range r.Actions {
		if a.Type == "step_up" {
			ch = a.ChallengeID
		}
	}
	if ch == "" {
		t.Fatalf("no step-up before the address change: %q", r.Text)
	}
	ans, err := c.AnswerChallenge(ctx, ch, "totp", totpCode(t, en.Secret, time.Now()))
	if err != nil || ans.Token == "" {
		t.Fatalf("answering the step-up: %+v, %v", ans, err)
	}
	back := demo.AssistantReturnPath + "?" + url.Values{"action": {"change_address"}, "shopguard_challenge": {ch}, "shopguard_token": {ans.Token}}.Encode()
	if resp, _ := page(back); resp.Header.Get(demo.AccountStatusHeader) != "verified" {
		t.Fatalf("back from the step-up: %d %q", resp.StatusCode, resp.Header.Get(demo.AccountStatusHeader))
	}
	if resp, _ := page(back); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the same approval twice: %d", resp.StatusCode)
	}
	if resp := ts.post(t, b, demo.AddressPath, newAddress); resp.Header.Get(demo.AccountStatusHeader) != "address_changed" {
		t.Fatalf("the address change: %d %q", resp.StatusCode, resp.Header.Get(demo.AccountStatusHeader))
	}
	if resp := ts.post(t, b, demo.AddressPath, newAddress); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a second change on one step-up: %d", resp.StatusCode)
	}
	if r := say("done"); !strings.Contains(r.Text, "confirmed") {
		t.Errorf("the assistant after the step-up: %q", r.Text)
	}
}
