package phishing_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/shopguard/shopguard/internal/phishing"
	"github.com/shopguard/shopguard/internal/risk"
)

func TestCheck(t *testing.T) {
	protected := []string{"northwind.shop"}
	tests := []struct {
		url     string
		verdict string
		codes   []string // reason codes that must be there
	}{
		{"https://northwind.shop/account/orders", phishing.VerdictSafe, []string{"protected_domain"}},
		{"https://www.wikipedia.org/wiki/Phishing", phishing.VerdictSafe, nil},
		{"https://n0rthwind.shop/login", phishing.VerdictPhishing, []string{"lookalike_homoglyph", "suspicious_words"}},
		{"https://northwind.shop@203.0.113.9/verify", phishing.VerdictPhishing, []string{"userinfo", "ip_host"}},
		{"https://www.google.com/url?q=https://n0rthwind.shop/pay", phishing.VerdictPhishing, []string{"redirects", "target_lookalike_homoglyph"}},
		{"https://xn--nrthwind-nbh.shop/", phishing.VerdictPhishing, []string{"lookalike_homoglyph", "mixed_script"}},
		{"https://paypal-secure-login.weebly.com/", phishing.VerdictPhishing, []string{"free_hosting", "brand_outside_domain", "suspicious_words"}},
		{"https://bit.ly/3xYz", phishing.VerdictSafe, []string{"shortener"}},
		{"https://northwind.shop/?next=https%3A%2F%2Fnorthwind.shop.secure-login.net%2F", phishing.VerdictSuspicious, []string{"redirects", "target_lookalike_brand_in_subdomain"}},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			r, err := phishing.Check(tt.url, protected)
			if err != nil {
				t.Fatal(err)
			}
			var codes []string
			for _, re := range r.Reasons {
				codes = append(codes, re.Code)
			}
			if r.Verdict != tt.verdict {
				t.Errorf("verdict %s (score %d, reasons %v), want %s", r.Verdict, r.Score, r.Reasons, tt.verdict)
			}
			for _, c := range tt.codes {
				if !slices.Contains(codes, c) {
					t.Errorf("reasons %v lack %s", codes, c)
				}
			}
		})
	}
	if _, err := phishing.Check("javascript:alert(1)", protected); len(risk.FieldErrors(err)) != 1 || !strings.Contains(err.Error(), "http") {
		t.Errorf("a javascript: link = %v, want a field error", err)
	}
}
