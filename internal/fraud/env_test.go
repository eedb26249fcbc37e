package fraud

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/features"
	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/rules"
)

// order returns a valid transaction; mutate it before scoring.
func order(id string, at time.Time, amountMinor int64) *Transaction {
	a := amountMinor
	return &Transaction{
		ID: id, CreatedAt: at.Format(time.RFC3339Nano), AmountMinor: &a, Currency: "EUR",
		User:            &User{ID: "u1", Email: "ana@example.com", CreatedAt: "2025-01-01T00:00:00Z"},
		IP:              "203.0.113.7",
		DeviceID:        "dev1",
		Payment:         &Payment{Method: "card", CardFingerprint: "card1", BIN: "424242", Last4: "4242", CardCountry: "DE"},
		BillingAddress:  &Address{Line1: "Hauptstr. 1", City: "Berlin", PostalCode: "10115", Country: "DE"},
		ShippingAddress: &Address{Line1: "Hauptstr. 1", City: "Berlin", PostalCode: "10115", Country: "DE"},
		Items:           []Item{{SKU: "a", PriceMinor: amountMinor, Quantity: 1}},
	}
}

// score observes tx in store and returns its environment.
func score(t *testing.T, store features.Store, tx *Transaction) *Env {
	t.Helper()
	if err := tx.Validate(tx.Time().Add(time.Hour)); err != nil {
		// Validate against a "now" just after the order, whatever its time.
		at, _ := time.Parse(time.RFC3339Nano, tx.CreatedAt)
		if err := tx.Validate(at); err != nil {
			t.Fatalf("Validate: %v", err)
		}
	}
	obs := tx.Observations("t1", nil)
	aggs := make([]features.Aggregates, len(obs))
	if err := store.Observe(context.Background(), tx.Time(), obs, aggs); err != nil {
		t.Fatal(err)
	}
	return tx.Env(aggs, nil).(*Env)
}

func TestEnvHistory(t *testing.T) {
	store := features.NewMemory(features.MemoryConfig{})
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	// Four ordinary orders over four days.
	for i := range 4 {
		env := score(t, store, order(fmt.Sprintf("o%d", i), t0.Add(time.Duration(i)*24*time.Hour), 5000))
		if i == 0 {
			if !env.Features.User.New || env.Features.User.SecondsSinceLast != -1 || env.Features.User.Count30d != 1 {
				t.Errorf("first order: user features %+v", env.Features.User)
			}
			if env.Signals.NewDeviceForUser {
				t.Error("a customer's first order flagged a new device")
			}
		}
	}
	// A big order on a new device with a new card, shipped abroad.
	tx := order("o4", t0.Add(4*24*time.Hour+time.Hour), 60000)
	tx.DeviceID = "dev2"
	tx.Payment.CardFingerprint = "card2"
	tx.Payment.CardCountry = "US"
	tx.ShippingAddress = &Address{Line1: "1 Rue X", City: "Paris", PostalCode: "75001", Country: "FR"}
	env := score(t, store, tx)

	u := env.Features.User
	if u.New || u.Count30d != 5 || u.Count24h != 1 || u.Count7d != 5 || u.Amount30d != 800 || u.Cards30d != 2 || u.Devices30d != 2 || u.Addresses30d != 2 {
		t.Errorf("user features = %+v", u)
	}
	if u.AvgAmount30dBefore != 50 || env.Signals.AmountVsUserAvg30d != 12 {
		t.Errorf("avg before = %v, ratio = %v; want 50 and 12", u.AvgAmount30dBefore, env.Signals.AmountVsUserAvg30d)
	}
	if u.SecondsSinceLast != 25*3600 {
		t.Errorf("seconds since last = %v, want %v", u.SecondsSinceLast, 25*3600)
	}
	s := env.Signals
	if !s.NewDeviceForUser || !s.NewCardForUser || s.NewIPForUser || !s.NewAddressForUser {
		t.Errorf("new-for-user signals = %+v", s)
	}
	if !s.CardBillingCountryMismatch || !s.CardShippingCountryMismatch || !s.BillingShippingCountryMismatch {
		t.Errorf("country signals = %+v", s)
	}
	if c := env.Features.Card; !c.New || c.Count30d != 1 || c.Users30d != 1 {
		t.Errorf("card features = %+v", c)
	}
	if ip := env.Features.IP; ip.Cards30d != 2 || ip.Devices30d != 2 || ip.Users24h != 1 {
		t.Errorf("ip features = %+v", ip)
	}
	if env.User.AccountAgeDays < 400 || env.Amount != 600 || env.IPPrefix != "203.0.113.0/24" || env.Items.Quantity != 1 {
		t.Errorf("env = %+v", env)
	}
}

func TestEnvGuestAndMissingEntities(t *testing.T) {
	store := features.NewMemory(features.MemoryConfig{})
	tx := order("g1", time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), 100)
	tx.User, tx.DeviceID, tx.Payment = nil, "", nil
	env := score(t, store, tx)
	if !env.User.Guest || env.User.AccountAgeDays != -1 || env.Features.User.Present || env.Features.Card.Present || !env.Features.IP.Present {
		t.Errorf("guest env = %+v", env)
	}
	if n := len(tx.Observations("t1", nil)); n != 3 { // ip, ip prefix, shipping address
		t.Errorf("%d observations for a guest with only an IP and address, want 3", n)
	}
}

func TestCardTestingFeatures(t *testing.T) {
	store := features.NewMemory(features.MemoryConfig{})
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var env *Env
	for i := range 6 {
		tx := order(fmt.Sprintf("ct%d", i), t0.Add(time.Duration(i)*20*time.Second), 100)
		tx.User = nil
		tx.Payment.CardFingerprint = fmt.Sprintf("stolen%d", i)
		env = score(t, store, tx)
	}
	d := env.Features.Device
	if d.Cards1h != 6 || d.Count1h != 6 || d.Count1m != 3 || d.Amount1h != 6 {
		t.Errorf("device features after 6 small orders with 6 cards = %+v", d)
	}
}

func TestDefaultRulesCompile(t *testing.T) {
	lists, err := rules.NewLists(rules.BuiltinLists())
	if err != nil {
		t.Fatal(err)
	}
	defaults := Kind{}.DefaultRules()
	set, err := rules.Compile(1, defaults, rules.Schemas{risk.EventTransaction: Kind{}.NewEnv()}, lists)
	if err != nil {
		t.Fatalf("default rules do not compile: %v", err)
	}
	if len(set.Rules()) != len(defaults) {
		t.Errorf("compiled %d rules, want %d", len(set.Rules()), len(defaults))
	}
}
