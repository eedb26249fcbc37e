package dashboard_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/shopguard/shopguard/client"
	"github.com/shopguard/shopguard/internal/app/apptest"
)

// TestPhishingReportsPage: staff see the reports customers made (from
// the assistant's chat and the API), escaped, newest first; a review
// from the dashboard is the API's review (once, audited), and another
// shop's staff see nothing of it.
func TestPhishingReportsPage(t *testing.T) {
	apptest.WarmAssistant(t)
	e := start(t)
	ctx := context.Background()
	c := e.apiClient(t, "shop1")
	link, err := c.ReportPhishing(ctx, client.PhishingReport{URL: "https://n0rthwind.shop/login", Channel: "email", Reporter: "customer", ReporterID: "u_7"})
	if err != nil {
		t.Fatal(err)
	}
	conv, err := c.StartConversation(ctx, client.ConversationStart{UserID: "u_8"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.SendMessage(ctx, conv.Conversation.ID, client.AssistantMessage{Text: `is this yours? <script>alert(1)</script> "Your parcel is held, pay 1.99 EUR at https://parcel-redelivery.example/pay"`})
	if err != nil {
		t.Fatal(err)
	}
	var chatReport string
	for _, a := range r.Actions {
		if a.Type == "phishing_reported" {
			chatReport = a.ReportID
		}
	}
	if chatReport == "" {
		t.Fatalf("the chat filed no report: %+v", r)
	}

	b := e.signedIn(t, "shop1", "ana", "analyst")
	resp, body := b.do("GET", "/dashboard/reports", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, `id="report-`+link.ID+`"`) || !strings.Contains(body, `id="report-`+chatReport+`"`) {
		t.Fatalf("reports page: %d, without both reports", resp.StatusCode)
	}
	if strings.Contains(body, "<script>alert") || !strings.Contains(body, "&lt;script&gt;alert") {
		t.Error("a reported message is not escaped")
	}
	if strings.Index(body, chatReport) > strings.Index(body, link.ID) {
		t.Error("the newer report is not first")
	}
	if resp, _ := b.post("/dashboard/reports", "/dashboard/reports/"+link.ID+"/review", url.Values{"outcome": {"maybe"}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("an unknown outcome: %d", resp.StatusCode)
	}
	if resp, _ := b.post("/dashboard/reports", "/dashboard/reports/"+link.ID+"/review", url.Values{"outcome": {"confirmed_phishing"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("review: %d", resp.StatusCode)
	}
	got, err := c.PhishingReport(ctx, link.ID)
	if err != nil || got.Status != "confirmed_phishing" || got.ReviewedBy != "user:ana" {
		t.Fatalf("after the review: %+v, %v", got, err)
	}
	if resp, _ := b.post("/dashboard/reports", "/dashboard/reports/"+link.ID+"/review", url.Values{"outcome": {"legitimate"}}); resp.StatusCode != http.StatusConflict {
		t.Errorf("a second review: %d", resp.StatusCode)
	}
	if _, body := b.do("GET", "/dashboard/audit", nil); !strings.Contains(body, "phishing.report.review") {
		t.Error("the review is not in the audit log")
	}
	if resp, body := b.do("GET", "/dashboard/reports?status=all", nil); resp.StatusCode != 200 || !strings.Contains(body, "Reviewed: <strong>confirmed_phishing</strong>") {
		t.Errorf("all reports: %d", resp.StatusCode)
	}
	if resp, _ := b.do("GET", "/dashboard/reports?status=nonsense", nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("an unknown status: %d", resp.StatusCode)
	}

	other := e.signedIn(t, "shop2", "bo", "analyst")
	if _, body := other.do("GET", "/dashboard/reports?status=all", nil); strings.Contains(body, link.ID) || strings.Contains(body, chatReport) {
		t.Error("another shop's staff see the reports")
	}
	if resp, _ := other.post("/dashboard/reports", "/dashboard/reports/"+chatReport+"/review", url.Values{"outcome": {"legitimate"}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("another shop's review: %d", resp.StatusCode)
	}
}
