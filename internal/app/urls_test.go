package app_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopguard/shopguard/client"
	"github.com/shopguard/shopguard/internal/app"
	"github.com/shopguard/shopguard/internal/ml/gbdt"
	"github.com/shopguard/shopguard/internal/phishing"
	"github.com/shopguard/shopguard/internal/storage"
)

// TestURLCheckThroughTheAPI judges links as a shop's support or content
// pipeline would: the shop's own domain (its passkey domain) is protected
// without saying so, a lookalike of it is phishing with the reason, and
// bad input names the field.
func TestURLCheckThroughTheAPI(t *testing.T) {
	e := start(t, t.TempDir())
	c := e.client(t, "shop")
	ctx := context.Background()
	if _, err := c.SetRelyingParty(ctx, client.RelyingParty{ID: "northwind.shop", Name: "Northwind", Origins: []string{"https://northwind.shop"}}); err != nil {
		t.Fatal(err)
	}
	res, err := c.CheckURLs(ctx, []string{"https://northwind.shop/orders", "https://n0rthwind.shop/login", "https://shopping-examp1e.com/"}, "shopping-example.com")
	if err != nil || len(res) != 3 {
		t.Fatalf("CheckURLs = %+v, %v", res, err)
	}
	if res[0].Verdict != "safe" || res[1].Verdict != "phishing" || res[1].Lookalike == nil || res[1].Lookalike.Brand != "northwind.shop" ||
		res[2].Lookalike == nil || res[2].Lookalike.Brand != "shopping-example.com" {
		t.Errorf("results %+v", res)
	}
	if !strings.Contains(res[1].Reasons[0].Message, "digit 0 for letter o") {
		t.Errorf("reason %q", res[1].Reasons[0].Message)
	}
	_, err = c.CheckURLs(ctx, []string{"https://ok.example/", "javascript:alert(1)"})
	wantStatus(t, err, http.StatusBadRequest, "urls[1]")
	_, err = c.CheckURLs(ctx, nil)
	wantStatus(t, err, http.StatusBadRequest, "urls")
	_, err = c.CheckURLs(ctx, []string{"https://ok.example/"}, "not a domain")
	wantStatus(t, err, http.StatusBadRequest, "protected_domains[0]")
}

// TestURLListsAndModelReachARunningShopguard imports a known-bad entry
// and trains a URL model while shopguard runs, as the CLI would, and
// checks that the next refresh puts both to work.
func TestURLListsAndModelReachARunningShopguard(t *testing.T) {
	dir := t.TempDir()
	e := start(t, dir)
	c := e.client(t, "shop")
	ctx := context.Background()
	before, err := c.CheckURLs(ctx, []string{"http://bad-kit.test/pay/now"})
	if err != nil {
		t.Fatal(err)
	}
	if before[0].ModelVersion != "" || hasURLReason(before[0], "listed") {
		t.Fatalf("before: %+v", before[0])
	}

	// Elsewhere (shopguard feeds import, shopguard train urls):
	st, err := app.OpenStorage(ctx, e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	entry := storage.URLListEntry{Hash: phishing.HashExpression("bad-kit.test/"), Effect: storage.URLListBlock, Source: "urlhaus"}
	if _, err := st.AddURLListChanges(ctx, []storage.URLListChange{{URLListEntry: entry, Op: storage.URLListAdd, At: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	var urls []phishing.URL
	var labels []bool
	for i := range 60 {
		raw := fmt.Sprintf("https://www.shop%d.example/products/%d", i, i)
		if i%2 == 1 {
			raw = fmt.Sprintf("http://secure-login-%d.verify-account.test/update/%x/index.php?id=%d", i, i*7919, i)
		}
		u, err := phishing.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		urls, labels = append(urls, u), append(labels, i%2 == 1)
	}
	p := gbdt.DefaultParams()
	p.Trees, p.EarlyStopping, p.MinDataInLeaf = 20, 0, 5
	m, err := phishing.TrainURLModel(ctx, urls, labels, phishing.URLTrainConfig{Trees: p, InnerFolds: 3, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := app.SaveModelFile(app.URLModelPath(dir), m); err != nil {
		t.Fatal(err)
	}

	e.app.RefreshURLChecks(ctx)
	after, err := c.CheckURLs(ctx, []string{"http://bad-kit.test/pay/now"})
	if err != nil {
		t.Fatal(err)
	}
	if after[0].ModelVersion != m.Version() || !hasURLReason(after[0], "listed") || after[0].Verdict != "phishing" {
		t.Fatalf("after: %+v", after[0])
	}
}

func hasURLReason(r client.URLResult, code string) bool {
	for _, x := range r.Reasons {
		if x.Code == code {
			return true
		}
	}
	return false
}

// TestMessageCheckThroughTheAPI forwards what customers receive: a
// lookalike SMS is phishing with its link and cues, the shop's real
// e-mail is safe, and bad input names the field.
func TestMessageCheckThroughTheAPI(t *testing.T) {
	e := start(t, t.TempDir())
	c := e.client(t, "shop")
	ctx := context.Background()
	if _, err := c.SetRelyingParty(ctx, client.RelyingParty{ID: "northwind.shop", Name: "Northwind", Origins: []string{"https://northwind.shop"}}); err != nil {
		t.Fatal(err)
	}
	sms := "Northwind: your account has been suspended. Verify your account within 24 hours: https://n0rthwind.shop/verify"
	res, err := c.CheckMessage(ctx, client.Message{Channel: "sms", Sender: "Northwind", Text: sms})
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != "phishing" || len(res.Links) != 1 || res.Links[0].Check.Lookalike == nil || len(res.Cues) < 3 {
		t.Fatalf("lookalike SMS: %+v", res)
	}
	if cue := res.Cues[0]; res.Text[cue.Start:cue.End] != cue.Phrase {
		t.Errorf("cue span %+v does not point at its phrase", cue)
	}
	mail := "From: Northwind <orders@northwind.shop>\r\nTo: ada@example.com\r\nSubject: Your order 1234 has shipped\r\n\r\nHello Ada, your order is on its way: https://northwind.shop/orders/1234\r\n"
	res, err = c.CheckMessage(ctx, client.Message{Channel: "email", Raw: mail})
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != "safe" || res.Email["from"] == nil {
		t.Errorf("the shop's own e-mail: %+v", res)
	}
	_, err = c.CheckMessage(ctx, client.Message{Text: "hi"})
	wantStatus(t, err, http.StatusBadRequest, "channel")
	_, err = c.CheckMessage(ctx, client.Message{Channel: "sms"})
	wantStatus(t, err, http.StatusBadRequest, "text")
	_, err = c.CheckMessage(ctx, client.Message{Channel: "sms", Raw: mail})
	wantStatus(t, err, http.StatusBadRequest, "raw")
	_, err = c.CheckMessage(ctx, client.Message{Channel: "sms", Text: "x", ProtectedDomains: []string{"not a domain"}})
	wantStatus(t, err, http.StatusBadRequest, "protected_domains[0]")
}

// TestPhishingProfileAndReports: the shop's stored profile protects its
// brand domain in every check and names its real senders; a customer's
// report of a link, once staff confirm it, blocks the link at once.
func TestPhishingProfileAndReports(t *testing.T) {
	e := start(t, t.TempDir())
	c := e.client(t, "shop")
	ctx := context.Background()
	p, err := c.SetPhishingProfile(ctx, client.PhishingProfile{ProtectedDomains: []string{"www.northwind-coffee.com"},
		SenderNames: []string{"Northwind Coffee"}, SendingDomains: []string{"mail.northwind-coffee.com"}})
	if err != nil || len(p.ProtectedDomains) != 1 || p.ProtectedDomains[0] != "northwind-coffee.com" {
		t.Fatalf("profile %+v, %v", p, err)
	}
	res, err := c.CheckURLs(ctx, []string{"https://northwind-cofee.com/gift"})
	if err != nil || res[0].Lookalike == nil || res[0].Lookalike.Brand != "northwind-coffee.com" {
		t.Fatalf("the stored brand is not protected: %+v, %v", res, err)
	}
	mail := "From: Northwind Coffee <news@coffee-deals.example>\r\nSubject: Your reward\r\n\r\nClaim it at https://coffee-deals.example/\r\n"
	m, err := c.CheckMessage(ctx, client.Message{Channel: "email", Raw: mail})
	if err != nil || !slices.ContainsFunc(m.Reasons, func(r client.URLReason) bool { return r.Code == "display_name_impersonation" }) {
		t.Fatalf("the stored sender name is not protected: %+v, %v", m.Reasons, err)
	}

	link := "http://coffee-deals.example/claim?id=42"
	rep, err := c.ReportPhishing(ctx, client.PhishingReport{URL: link, Reporter: "customer", ReporterID: "u_ana"})
	if err != nil || rep.ID == "" || rep.Status != "pending" {
		t.Fatalf("report %+v, %v", rep, err)
	}
	pending, _, err := c.PhishingReports(ctx, "pending", 10, "")
	if err != nil || len(pending) != 1 || pending[0].ID != rep.ID {
		t.Fatalf("pending %+v, %v", pending, err)
	}
	if rep, err = c.ReviewPhishingReport(ctx, rep.ID, "confirmed_phishing"); err != nil || rep.Status != "confirmed_phishing" {
		t.Fatalf("review %+v, %v", rep, err)
	}
	res, err = c.CheckURLs(ctx, []string{link})
	if err != nil || !hasURLReason(res[0], "listed") || res[0].Verdict != "phishing" {
		t.Fatalf("the confirmed link is not blocked: %+v, %v", res, err)
	}
	_, err = c.ReviewPhishingReport(ctx, rep.ID, "legitimate")
	wantStatus(t, err, http.StatusConflict, "")
	_, err = c.ReportPhishing(ctx, client.PhishingReport{Reporter: "customer"})
	wantStatus(t, err, http.StatusBadRequest, "url")
}
