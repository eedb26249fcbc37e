package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/shopguard/shopguard/client"
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
