package phishing_test

import (
	"testing"

	"github.com/shopguard/shopguard/internal/phishing"
)

func TestFindLookalike(t *testing.T) {
	protected := []string{"shopping-example.com", "northwind.shop"}
	tests := []struct {
		url, kind, reason string // kind "" for none
	}{
		{"https://shopp1ng-example.com/login", phishing.KindHomoglyph, "registered domain shopp1ng-example.com imitates shopping-example.com: digit 1 for letter i"},
		{"https://shoppіng-example.com/", phishing.KindHomoglyph, "registered domain shoppіng-example.com imitates shopping-example.com: Cyrillic і (U+0456) for letter i"},
		{"https://n0rthwind.shop/", phishing.KindHomoglyph, "registered domain n0rthwind.shop imitates northwind.shop: digit 0 for letter o"},
		{"https://northwlnd.shop/", phishing.KindHomoglyph, "registered domain northwlnd.shop imitates northwind.shop: letter l for letter i"},
		{"https://nortwhind.shop/", phishing.KindTransposition, `registered domain nortwhind.shop imitates northwind.shop: "h" and "w" swapped`},
		{"https://northwind.shop.secure-login.net/", phishing.KindSubdomain, `registered domain secure-login.net imitates northwind.shop: northwind.shop is only the subdomain "northwind.shop" of secure-login.net`},
		{"https://northwind-shop.login-verify.com/", phishing.KindSubdomain, ""},
		{"https://northwind.com/", phishing.KindTLDSwap, "registered domain northwind.com imitates northwind.shop: the same name under .com instead of .shop"},
		{"https://shoppingexample.com/", phishing.KindHyphenation, ""},
		{"https://shopping-example-login.com/", phishing.KindAddedWord, `registered domain shopping-example-login.com imitates shopping-example.com: the brand with "login" added`},
		{"https://secure-northwind.shop/", phishing.KindAddedWord, ""},
		{"https://nothwind.shop/", phishing.KindOmission, `registered domain nothwind.shop imitates northwind.shop: "r" left out`},
		{"https://northwinds.shop/", phishing.KindInsertion, ""},
		{"https://northwiind.shop/", phishing.KindRepetition, `registered domain northwiind.shop imitates northwind.shop: "i" doubled`},
		{"https://norhtwind.shop/", phishing.KindTransposition, ""},
		{"https://northwimd.shop/", phishing.KindKeyboard, "registered domain northwimd.shop imitates northwind.shop: letter m for letter n, the key next to it"},
		{"https://northwixd.shop/", phishing.KindReplacement, ""},
		{"https://northwiod.shop/", phishing.KindBitsquat, "registered domain northwiod.shop imitates northwind.shop: letter o for letter n, one bit apart"},
		{"https://nnrthwind.shop/", phishing.KindBitsquat, ""},
		{"https://narthwind.shop/", phishing.KindVowelSwap, ""},
		{"https://northvvind.shop/", phishing.KindHomoglyph, ""},
		// The brands themselves and unrelated sites are not lookalikes.
		{"https://shopping-example.com/", "", ""},
		{"https://www.shopping-example.com/account", "", ""},
		{"https://northwind.shop/", "", ""},
		{"https://example.org/shopping", "", ""},
		{"https://souththwind.net/", "", ""},
		{"http://192.0.2.1/northwind.shop", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			u, err := phishing.Parse(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			l, ok := phishing.FindLookalike(u, protected)
			if ok != (tt.kind != "") || l.Kind != tt.kind {
				t.Fatalf("FindLookalike = %+v, %v; want kind %q", l, ok, tt.kind)
			}
			if tt.reason != "" && l.String() != tt.reason {
				t.Errorf("reason %q\nwant   %q", l.String(), tt.reason)
			}
		})
	}
}
