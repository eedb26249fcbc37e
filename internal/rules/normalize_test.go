package rules

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalizeEntry(t *testing.T) {
	tests := []struct {
		kind ListKind
		in   string
		want string // "" means an error is expected
	}{
		{ListEmail, "  Alice@Example.COM ", "alice@example.com"},
		{ListEmail, "a.b+tag@sub.example.co.uk", "a.b+tag@sub.example.co.uk"},
		{ListEmail, "bob@xn--bcher-kva.example", "bob@xn--bcher-kva.example"},
		{ListEmail, "no-at.example.com", ""},
		{ListEmail, "a@b@example.com", ""},
		{ListEmail, "@example.com", ""},
		{ListEmail, "bob@", ""},
		{ListEmail, "bob@localhost", ""},
		{ListEmail, "b ob@example.com", ""},
		{ListEmail, "bob@exa_mple.com", ""},
		{ListEmail, "bob@example.com.", ""},
		{ListEmail, "bob@bücher.example", ""},
		{ListEmail, strings.Repeat("a", 65) + "@example.com", ""},
		{ListEmail, "", ""},
		{ListEmailDomain, " Example.COM. ", "example.com"},
		{ListEmailDomain, "xn--bcher-kva.example", "xn--bcher-kva.example"},
		{ListEmailDomain, "bücher.example", ""},
		{ListEmailDomain, "ab--cd.example", ""},
		{ListEmailDomain, "-bad.example", ""},
		{ListEmailDomain, "bad-.example", ""},
		{ListEmailDomain, "a..example", ""},
		{ListEmailDomain, "com", ""},
		{ListEmailDomain, "1.2.3.4", ""},
		{ListEmailDomain, strings.Repeat("a", 64) + ".com", ""},
		{ListEmailDomain, "example.com..", ""},
		{ListIP, " 203.0.113.7 ", "203.0.113.7"},
		{ListIP, "203.0.113.7/24", "203.0.113.0/24"},
		{ListIP, "203.0.113.7/32", "203.0.113.7"},
		{ListIP, "::ffff:203.0.113.7", "203.0.113.7"},
		{ListIP, "::ffff:203.0.113.7/120", "203.0.113.0/24"},
		{ListIP, "2001:DB8:0:0::1", "2001:db8::1"},
		{ListIP, "2001:db8::1/32", "2001:db8::/32"},
		{ListIP, "0.0.0.0/0", "0.0.0.0/0"},
		{ListIP, "fe80::1%eth0", ""},
		{ListIP, "203.0.113.256", ""},
		{ListIP, "203.0.113.0/33", ""},
		{ListIP, "example.com", ""},
		{ListIP, "", ""},
		{ListCard, " fp_8a7b6c5d4e ", "fp_8a7b6c5d4e"},
		{ListCard, "tok-1234", "tok-1234"},
		{ListCard, "4111111111111112", "4111111111111112"}, // fails Luhn: an opaque id
		{ListCard, "fp with space", ""},
		{ListCard, "fp\x01", ""},
		{ListCard, strings.Repeat("f", 129), ""},
		{ListCard, "", ""},
		{ListBIN, "411111", "411111"},
		{ListBIN, " 41111122 ", "41111122"},
		{ListBIN, "41111", ""},
		{ListBIN, "411111223", ""},
		{ListBIN, "4111a1", ""},
		{ListCountry, " de ", "DE"},
		{ListCountry, "XK", "XK"},
		{ListCountry, "XX", ""},
		{ListCountry, "DEU", ""},
		{ListCountry, "D", ""},
		{ListUser, "  user-42 ", "user-42"},
		{ListUser, "Ünïcode Name", "Ünïcode Name"},
		{ListUser, "tab\tinside", ""},
		{ListUser, "   ", ""},
		{ListDevice, strings.Repeat("d", 256), strings.Repeat("d", 256)},
		{ListDevice, strings.Repeat("d", 257), ""},
		{ListString, "anything goes", "anything goes"},
		{ListString, "\xff", ""},
		{"phone", "+4912345", ""},
	}
	for _, tt := range tests {
		got, err := NormalizeEntry(tt.kind, tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("NormalizeEntry(%s, %q) = %q, want an error", tt.kind, tt.in, got)
			} else if !errors.Is(err, ErrInvalid) {
				t.Errorf("NormalizeEntry(%s, %q) error %v does not wrap ErrInvalid", tt.kind, tt.in, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormalizeEntry(%s, %q) = %q, %v; want %q", tt.kind, tt.in, got, err, tt.want)
		}
	}
}

func TestNormalizeEntryRejectsCardNumbers(t *testing.T) {
	for _, pan := range []string{
		"4111111111111111",    // Visa test number
		"4111 1111 1111 1111", // with spaces
		"4111-1111-1111-1111", // with hyphens
		"5555555555554444",    // Mastercard
		"378282246310005",     // Amex, 15 digits
		"6011000990139424",    // Discover
		"4222222222222",       // 13 digits
		"6304000000000000000", // 19 digits
		" 4000056655665556 ",  // padded
	} {
		_, err := NormalizeEntry(ListCard, pan)
		if !errors.Is(err, ErrCardNumber) || !errors.Is(err, ErrInvalid) {
			t.Errorf("NormalizeEntry(card, %q) error = %v, want ErrCardNumber", pan, err)
			continue
		}
		if digits := strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(pan)); strings.Contains(err.Error(), digits[:8]) {
			t.Errorf("error %q quotes the card number", err)
		}
	}
}
