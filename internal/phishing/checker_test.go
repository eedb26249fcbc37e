package phishing_test

import (
	"context"
	"strings"
	"testing"

	"github.com/shopguard/shopguard/internal/phishing"
	"github.com/shopguard/shopguard/internal/storage"
)

func TestCheckerListsAndModel(t *testing.T) {
	list := phishing.NewURLList()
	change := func(id int64, tenant, expr, effect, source string) storage.URLListChange {
		return storage.URLListChange{ID: id, Op: storage.URLListAdd,
			URLListEntry: storage.URLListEntry{Tenant: tenant, Hash: phishing.HashExpression(expr), Effect: effect, Source: source}}
	}
	list.Apply([]storage.URLListChange{
		change(1, "", "evil.test/", storage.URLListBlock, "urlhaus"),
		change(2, "shop", "partner.test/", storage.URLListAllow, "operator"),
		change(3, "", "partner.test/", storage.URLListBlock, "urlhaus"),
	})
	c := phishing.NewChecker(list)
	protected := []string{"shop.example"}
	for _, tc := range []struct {
		name, tenant, url, verdict, code string
		absent                           string
	}{
		{"listed for every tenant", "shop", "http://evil.test/pay", phishing.VerdictPhishing, "listed", ""},
		{"the tenant's allow list beats a feed", "shop", "https://partner.test/offer", phishing.VerdictSafe, "allowed", "listed"},
		{"another tenant's allow list does not", "other", "https://partner.test/offer", phishing.VerdictPhishing, "listed", "allowed"},
		{"a redirect to a listed site", "shop", "https://shop.example/out?url=http%3A%2F%2Fevil.test%2F", phishing.VerdictPhishing, "target_listed", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := c.Check(tc.tenant, tc.url, protected)
			if err != nil {
				t.Fatal(err)
			}
			if res.Verdict != tc.verdict || !hasReason(res, tc.code) || (tc.absent != "" && hasReason(res, tc.absent)) {
				t.Fatalf("got %s %d %+v; want %s with %s", res.Verdict, res.Score, res.Reasons, tc.verdict, tc.code)
			}
		})
	}

	// With a model: links like its phishing examples gain its reason and
	// the model's version; the shop's own links are not judged by it.
	urls, labels := syntheticURLs(t, 200, 1)
	m, err := phishing.TrainURLModel(context.Background(), urls, labels, smallURLConfig())
	if err != nil {
		t.Fatal(err)
	}
	c.SetModel(m)
	test, _ := syntheticURLs(t, 2, 9)
	res, err := c.Check("shop", test[1].Raw, protected)
	if err != nil {
		t.Fatal(err)
	}
	if !hasReason(res, "learned_model") || res.ModelVersion != m.Version() || !strings.Contains(reasonOf(res, "learned_model").Message, "%") {
		t.Errorf("phishing-like link: %+v, version %q", res.Reasons, res.ModelVersion)
	}
	if reasonOf(res, "learned_model").Weight < 35 {
		t.Errorf("model weight %d for a link like its phishing examples", reasonOf(res, "learned_model").Weight)
	}
	res, err = c.Check("shop", "https://shop.example/checkout", protected)
	if err != nil {
		t.Fatal(err)
	}
	if hasReason(res, "learned_model") || res.Verdict != phishing.VerdictSafe {
		t.Errorf("the shop's own link: %s %+v", res.Verdict, res.Reasons)
	}
	if _, err := c.Check("shop", "javascript:alert(1)", protected); err == nil {
		t.Error("a javascript: link is not a URL to check")
	}
}

func hasReason(r phishing.Result, code string) bool { return reasonOf(r, code).Code != "" }

func reasonOf(r phishing.Result, code string) phishing.Reason {
	for _, x := range r.Reasons {
		if x.Code == code {
			return x
		}
	}
	return phishing.Reason{}
}
