package demo

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestNewSimRefusesBadConfig(t *testing.T) {
	good := SimConfig{ShopURL: "http://127.0.0.1:9", Duration: time.Second, Rate: 1, Customers: 10}
	tests := []struct {
		name   string
		change func(*SimConfig)
		want   string // in the error; "" for success
	}{
		{"good", func(*SimConfig) {}, ""},
		{"localhost", func(c *SimConfig) { c.ShopURL = "http://localhost:8080" }, ""},
		{"other loopback", func(c *SimConfig) { c.ShopURL = "http://127.9.8.7:80" }, ""},
		{"ipv6 loopback", func(c *SimConfig) { c.ShopURL = "http://[::1]:80" }, ""},
		{"private address", func(c *SimConfig) { c.ShopURL = "http://10.0.0.1" }, "only targets loopback"},
		{"public name", func(c *SimConfig) { c.ShopURL = "https://example.com" }, "only targets loopback"},
		{"not a URL", func(c *SimConfig) { c.ShopURL = "127.0.0.1:80" }, "not an http(s) URL"},
		{"zero duration", func(c *SimConfig) { c.Duration = 0 }, "duration"},
		{"too long", func(c *SimConfig) { c.Duration = 25 * time.Hour }, "duration"},
		{"rate", func(c *SimConfig) { c.Rate = 5000 }, "rate"},
		{"customers", func(c *SimConfig) { c.Customers = 3 }, "customers"},
		{"dispute share", func(c *SimConfig) { c.DisputeShare = 2 }, "dispute share"},
		{"unknown scenario", func(c *SimConfig) { c.Scenarios = []string{"card_testing", "nope"} }, `unknown scenario "nope"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := good
			tc.change(&cfg)
			_, err := NewSim(cfg, NewProcessor(), nil)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("NewSim: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("NewSim error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestLoopbackDialerRefusesOtherHosts(t *testing.T) {
	dial := loopbackDialer()
	for _, addr := range []string{"10.1.2.3:80", "example.com:443", "[2001:db8::1]:80"} {
		if c, err := dial(t.Context(), "tcp", addr); err == nil {
			c.Close()
			t.Errorf("dialled %s", addr)
		}
	}
}

func TestPopulationIsDeterministic(t *testing.T) {
	gen := func() ([]string, []Order) {
		s, err := NewSim(SimConfig{ShopURL: "http://127.0.0.1:9", Seed: 42, Duration: time.Second, Rate: 1, Customers: 200}, NewProcessor(), nil)
		if err != nil {
			t.Fatal(err)
		}
		var emails []string
		for _, c := range s.pop.customers {
			emails = append(emails, c.Account.Email+" "+c.Cards[0].Token+" "+c.Devices[0].ID)
		}
		h, _ := s.History(NewCatalog(), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		return emails, h
	}
	a, ha := gen()
	b, hb := gen()
	if !slices.Equal(a, b) {
		t.Error("the same seed gave different customers")
	}
	if len(ha) == 0 || len(ha) != len(hb) {
		t.Fatalf("history lengths %d and %d", len(ha), len(hb))
	}
	for i := range ha {
		if ha[i].CreatedAt != hb[i].CreatedAt || ha[i].AmountMinor != hb[i].AmountMinor {
			t.Fatalf("history differs at %d", i)
		}
		if i > 0 && ha[i].CreatedAt.Before(ha[i-1].CreatedAt) {
			t.Fatalf("history not in time order at %d", i)
		}
	}
	emails := map[string]bool{}
	for _, e := range a {
		email := strings.Fields(e)[0]
		if emails[email] {
			t.Errorf("e-mail %s given to two customers", email)
		}
		emails[email] = true
	}
}

func TestCardNumbersPassLuhn(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		n := cardNumber(rng, pick(rng, countries))
		if len(n) != 16 || !luhn(n) {
			t.Fatalf("card number %s fails the Luhn check", n)
		}
	}
	if !luhn("4532015112830366") || luhn("4532015112830367") {
		t.Fatal("the test's own Luhn check is wrong")
	}
}

// luhn is the textbook check, written independently of cardNumber.
func luhn(n string) bool {
	sum, double := 0, false
	for i := len(n) - 1; i >= 0; i-- {
		d := int(n[i] - '0')
		if double {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

func TestProcessor(t *testing.T) {
	p := NewProcessor()
	good := p.Issue("4532015112830366", "DE", false)
	again := p.Issue("4532015112830366", "FR", true)
	if again != good {
		t.Errorf("issuing the same number twice gave %+v, then %+v", good, again)
	}
	bad := p.Issue("4532015112830374", "DE", true)
	if good.BIN != "453201" || good.Last4 != "0366" || !strings.HasPrefix(good.Token, "tok_") || strings.Contains(good.Token, "4532015112830366") {
		t.Errorf("card %+v", good)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := p.Charge(bad.Token, "o1", 100, t0); err != ErrCardDeclined {
		t.Errorf("charge on a declining card: %v", err)
	}
	if err := p.Charge("tok_nope", "o1", 100, t0); err == nil {
		t.Error("charge on an unknown token succeeded")
	}
	for i, id := range []string{"o2", "o3", "o4"} {
		if err := p.Charge(good.Token, id, int64(100*(i+1)), t0); err != nil {
			t.Fatal(err)
		}
	}
	if p.Dispute("o1", t0) {
		t.Error("disputed an order that was never charged")
	}
	p.Dispute("o4", t0.Add(3*time.Second))
	p.Dispute("o2", t0.Add(5*time.Second))
	p.Dispute("o3", t0.Add(time.Second))
	if p.Dispute("o3", t0) {
		t.Error("disputed o3 twice")
	}
	due := p.DueChargebacks(t0.Add(3 * time.Second))
	if len(due) != 2 || due[0].OrderID != "o3" || due[1].OrderID != "o4" || due[1].AmountMinor != 300 {
		t.Errorf("due at +3s: %+v", due)
	}
	if rest := p.Pending(); len(rest) != 1 || rest[0].OrderID != "o2" {
		t.Errorf("pending: %+v", rest)
	}
}

func TestFormatMoney(t *testing.T) {
	for minor, want := range map[int64]string{0: "0.00 €", 5: "0.05 €", 199: "1.99 €", 129900: "1,299.00 €",
		123456789: "1,234,567.89 €", -250: "-2.50 €"} {
		if got := FormatMoney(minor); got != want {
			t.Errorf("FormatMoney(%d) = %q, want %q", minor, got, want)
		}
	}
}

func TestCatalogSearch(t *testing.T) {
	c := NewCatalog()
	tests := []struct {
		q    string
		want []string
	}{
		{"", nil}, // everything; checked by length below
		{"laptop", []string{"sticker-pack", "laptop"}}, // the stickers are "for laptops"
		{"1 tb ssd", []string{"laptop"}},
		{"GIFT card", []string{"gift-card-50", "gift-card-200"}},
		{"coffee beans", []string{"coffee-beans"}},
		{"nothing-matches", []string{}},
	}
	for _, tc := range tests {
		var got []string
		for _, p := range c.Search(tc.q) {
			got = append(got, p.ID)
		}
		if tc.want == nil {
			if len(got) != len(c.Products()) {
				t.Errorf("Search(%q) gave %d products, want all %d", tc.q, len(got), len(c.Products()))
			}
			continue
		}
		if !slices.Equal(got, tc.want) && (len(got) != 0 || len(tc.want) != 0) {
			t.Errorf("Search(%q) = %v, want %v", tc.q, got, tc.want)
		}
	}
}
