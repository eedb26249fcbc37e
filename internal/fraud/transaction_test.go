package fraud

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/risk"
)

var now = time.Date(2026, 3, 1, 12, 30, 0, 0, time.UTC)

func loadFull(t *testing.T) map[string]any {
	t.Helper()
	data, err := os.ReadFile("testdata/full.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// set changes one dotted path of a decoded JSON document ("payment.bin",
// "items.1.quantity"); a nil value deletes the key.
func set(doc map[string]any, path string, v any) {
	parts := strings.Split(path, ".")
	var cur any = doc
	for _, p := range parts[:len(parts)-1] {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[p]
		case []any:
			i := int(p[0] - '0')
			cur = c[i]
		}
	}
	last := parts[len(parts)-1]
	switch c := cur.(type) {
	case map[string]any:
		if v == nil {
			delete(c, last)
		} else {
			c[last] = v
		}
	case []any:
		c[int(last[0]-'0')] = v
	}
}

func decode(t *testing.T, doc map[string]any) *Transaction {
	t.Helper()
	data, _ := json.Marshal(doc)
	var tx Transaction
	if err := json.Unmarshal(data, &tx); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	return &tx
}

func TestValidateNormalises(t *testing.T) {
	tx := decode(t, loadFull(t))
	if err := tx.Validate(now); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if tx.Currency != "EUR" || tx.User.Email != "ana@example.com" || tx.IP != "203.0.113.7" ||
		tx.Payment.Method != "card" || tx.Payment.CardCountry != "DE" || tx.ShippingAddress.Country != "DE" {
		t.Errorf("not normalised: %+v %+v %+v", tx, tx.User, tx.Payment)
	}
	if got := tx.Amount(); got != 129.99 {
		t.Errorf("Amount = %v, want 129.99", got)
	}
	if AddressID(tx.BillingAddress) != AddressID(tx.ShippingAddress) {
		t.Error("the same address written differently got different ids")
	}
}

func TestValidateRejects(t *testing.T) {
	tests := []struct {
		name  string
		path  string
		value any
		want  []string // fields reported
	}{
		{"missing id", "id", nil, []string{"id"}},
		{"long id", "id", strings.Repeat("x", 129), []string{"id"}},
		{"control char", "id", "a\x01b", []string{"id"}},
		{"missing created_at", "created_at", nil, []string{"created_at"}},
		{"bad created_at", "created_at", "yesterday", []string{"created_at"}},
		{"far future", "created_at", "2026-03-03T12:00:00Z", []string{"created_at"}},
		{"before 2000", "created_at", "1999-12-31T23:59:59Z", []string{"created_at"}},
		{"missing amount", "amount_minor", nil, []string{"amount_minor"}},
		{"negative amount", "amount_minor", -1, []string{"amount_minor"}},
		{"huge amount", "amount_minor", 1e16, []string{"amount_minor"}},
		{"missing currency", "currency", nil, []string{"currency"}},
		{"unknown currency", "currency", "EURO", []string{"currency"}},
		{"bad email", "user.email", "not-an-email", []string{"user.email"}},
		{"email without domain dot", "user.email", "a@localhost", []string{"user.email"}},
		{"bad user created_at", "user.created_at", "2025-13-01", []string{"user.created_at"}},
		{"bad ip", "ip", "300.1.1.1", []string{"ip"}},
		{"ip with zone", "ip", "fe80::1%eth0", []string{"ip"}},
		{"missing method", "payment.method", nil, []string{"payment.method"}},
		{"unknown method", "payment.method", "cheque", []string{"payment.method"}},
		{"card number as fingerprint", "payment.card_fingerprint", "4111 1111 1111 1111", []string{"payment.card_fingerprint"}},
		{"short bin", "payment.bin", "4242", []string{"payment.bin"}},
		{"letters in last4", "payment.last4", "42a2", []string{"payment.last4"}},
		{"unknown card country", "payment.card_country", "XX", []string{"payment.card_country"}},
		{"unknown address country", "shipping_address.country", "Germany", []string{"shipping_address.country"}},
		{"long postal code", "billing_address.postal_code", strings.Repeat("1", 21), []string{"billing_address.postal_code"}},
		{"zero quantity", "items.1.quantity", 0, []string{"items[1].quantity"}},
		{"negative price", "items.0.price_minor", -5, []string{"items[0].price_minor"}},
		{"long user agent", "user_agent", strings.Repeat("a", 1025), []string{"user_agent"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := loadFull(t)
			set(doc, tc.path, tc.value)
			err := decode(t, doc).Validate(now)
			var got []string
			for _, fe := range risk.FieldErrors(err) {
				got = append(got, fe.Field)
				if fe.Message == "" || (fe.Code != "invalid_field" && fe.Code != "missing_field") {
					t.Errorf("field error %+v lacks a message or code", fe)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("fields = %v, want %v (err: %v)", got, tc.want, err)
			}
		})
	}
}

func TestValidateRejectsInvalidUTF8(t *testing.T) {
	// encoding/json replaces invalid UTF-8 on decode; Go callers can still pass it.
	tx := decode(t, loadFull(t))
	tx.DeviceID = "\xff\xfe"
	if fes := risk.FieldErrors(tx.Validate(now)); len(fes) != 1 || fes[0].Field != "device_id" {
		t.Errorf("errors = %v, want one on device_id", fes)
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	doc := loadFull(t)
	set(doc, "currency", "XYZ")
	set(doc, "ip", "nope")
	set(doc, "items.0.quantity", 0)
	err := decode(t, doc).Validate(now)
	if n := len(risk.FieldErrors(err)); n != 3 {
		t.Errorf("%d problems reported, want 3: %v", n, err)
	}
}

func TestItemLimit(t *testing.T) {
	doc := loadFull(t)
	items := make([]any, MaxItems+1)
	for i := range items {
		items[i] = map[string]any{"price_minor": 1, "quantity": 1}
	}
	doc["items"] = items
	fes := risk.FieldErrors(decode(t, doc).Validate(now))
	if len(fes) != 1 || fes[0].Field != "items" {
		t.Errorf("errors = %v, want one on items", fes)
	}
}

func TestDecodeRoundTrip(t *testing.T) {
	tx := decode(t, loadFull(t))
	if err := tx.Validate(now); err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(tx)
	in, err := Kind{}.Decode(payload)
	if err != nil {
		t.Fatal(err)
	}
	a := tx.Observations("t1", nil)
	b := in.Observations("t1", nil)
	if !slices.Equal(a, b) || !in.OccurredAt().Equal(tx.OccurredAt()) {
		t.Errorf("decoded transaction observes differently:\n%+v\n%+v", a, b)
	}
	if _, err := (Kind{}).Decode([]byte(`{"id":1}`)); err == nil {
		t.Error("Decode accepted a malformed payload")
	}
}

func TestAddressID(t *testing.T) {
	// The reference definition: lower-case, fields joined by one space,
	// parts joined by 0x1f, SHA-256, first 12 bytes in hex.
	ref := func(a *Address) string {
		norm := func(s string) string { return strings.Join(strings.Fields(strings.ToLower(s)), " ") }
		parts := []string{norm(a.Line1), norm(a.Line2), norm(a.City), norm(a.PostalCode), a.Country}
		if strings.Join(parts, "") == "" {
			return ""
		}
		sum := sha256.Sum256([]byte(strings.Join(parts, "\x1f")))
		return "ad_" + hex.EncodeToString(sum[:12])
	}
	for _, a := range []*Address{
		{Line1: "Hauptstr. 1", City: "Berlin", PostalCode: "10115", Country: "DE"},
		{Line1: "  HAUPTSTR.\t 1 ", City: "berlin ", PostalCode: "10115", Country: "DE"},
		{Line1: "Straße 5", Line2: "Hinterhaus", City: "München", Country: "DE"},
		{Line1: "ÇA VA\u00a0BIEN", City: "İstanbul"},
		{Country: "FR"},
		{},
	} {
		if got, want := AddressID(a), ref(a); got != want {
			t.Errorf("AddressID(%+v) = %q, want %q", a, got, want)
		}
	}
	if AddressID(nil) != "" {
		t.Error("nil address has an id")
	}
}

func TestStepUpDescribesThePayment(t *testing.T) {
	tests := []struct {
		currency string
		amount   int64
		guest    bool
		want     string
	}{
		{"EUR", 12999, false, "Pay 129.99 EUR for order ord_1"},
		{"JPY", 12999, false, "Pay 12999 JPY for order ord_1"},
		{"BHD", 12999, false, "Pay 12.999 BHD for order ord_1"},
		{"EUR", 12999, true, ""},
	}
	for _, tc := range tests {
		tx := decode(t, loadFull(t))
		tx.Currency, tx.AmountMinor = tc.currency, &tc.amount
		if tc.guest {
			tx.User = nil
		}
		tx.ID = "ord_1"
		if err := tx.Validate(now); err != nil {
			t.Fatalf("Validate: %v", err)
		}
		s, ok := tx.StepUp()
		if ok != !tc.guest || s.Description != tc.want {
			t.Errorf("%s %d guest=%v: %+v, %v; want %q", tc.currency, tc.amount, tc.guest, s, ok, tc.want)
		}
		if ok && (s.Type != "payment" || s.AmountMinor != tc.amount || s.Currency != tc.currency || s.Reference != "ord_1") {
			t.Errorf("step-up %+v", s)
		}
	}
}
