package fraud

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/shopguard/shopguard/internal/engine"
	"github.com/shopguard/shopguard/internal/features"
	"github.com/shopguard/shopguard/internal/reference"
	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/rules"
)

var (
	_ engine.Kind      = Kind{}
	_ engine.Input     = (*Transaction)(nil)
	_ engine.Locatable = (*Transaction)(nil)
)

// Kind registers transactions with the engine.
type Kind struct{}

// Kind returns risk.EventTransaction.
func (Kind) Kind() risk.EventKind { return risk.EventTransaction }

// NewEnv returns a new, fully allocated *Env.
func (Kind) NewEnv() any { return NewEnv() }

// Decode parses a stored transaction payload without the checks that depend
// on the current time.
func (Kind) Decode(payload []byte) (engine.Input, error) {
	// The fast decoder gives json.Unmarshal's result several times faster
	// (replays and backtests decode every stored transaction).
	var t Transaction
	if !t.DecodeFast(payload) {
		if err := json.Unmarshal(payload, &t); err != nil {
			return nil, fmt.Errorf("fraud: decode transaction: %w", err)
		}
	}
	if err := errors.Join(t.normalize()...); err != nil {
		return nil, fmt.Errorf("fraud: decode transaction: %w", err)
	}
	return &t, nil
}

// Kind returns risk.EventTransaction.
func (t *Transaction) Kind() risk.EventKind { return risk.EventTransaction }

// ExternalID returns the shop's transaction id.
func (t *Transaction) ExternalID() string { return t.ID }

// OccurredAt returns created_at.
func (t *Transaction) OccurredAt() time.Time { return t.at }

// Money returns the amount in minor units and the currency.
func (t *Transaction) Money() (int64, string) { return *t.AmountMinor, t.Currency }

// Locate records where the transaction's IP address is (the engine calls
// it when geolocation databases are configured).
func (t *Transaction) Locate(l engine.Locator) {
	if t.ip.IsValid() {
		t.loc = l.Lookup(t.ip)
	}
}

// LabelScope returns LabelScope: transactions count their entities' known frauds.
func (t *Transaction) LabelScope() string { return LabelScope }

// Env builds the rule environment (a *Env) from the feature aggregates and
// label counts.
func (t *Transaction) Env(aggs, labels []features.Aggregates) any {
	env := NewEnv()
	t.BuildEnv(aggs, labels, env)
	return env
}

// DefaultRules returns the rules every new tenant starts with: the patterns
// of card testing, stolen-card use and account takeover that a shop without
// any tuning should still catch. Operators change or delete them like any
// other rule.
func (Kind) DefaultRules() []rules.Rule {
	tx := risk.EventTransaction
	return []rules.Rule{
		{Name: "card_testing", Kind: tx, Action: risk.ActionBlock,
			Expression:  "amount < 5 && (features.device.cards_1h >= 4 || features.ip.cards_1h >= 6 || features.ip_prefix.cards_1h >= 10)",
			Description: "card testing: {{ max(features.device.cards_1h, features.ip.cards_1h, features.ip_prefix.cards_1h) }} different cards tried from this device, IP or network in the last hour with small amounts"},
		{Name: "many_cards_per_device", Kind: tx, Score: 40,
			Expression:  "features.device.cards_24h >= 4 || features.ip.cards_24h >= 6",
			Description: "{{ max(features.device.cards_24h, features.ip.cards_24h) }} different cards used from this device or IP in 24h"},
		{Name: "card_velocity", Kind: tx, Score: 30,
			Expression:  "features.card.count_1h >= 5",
			Description: "card used {{ features.card.count_1h }} times in the last hour"},
		{Name: "card_on_many_devices", Kind: tx, Score: 25,
			Expression:  "features.card.devices_24h >= 3",
			Description: "card seen on {{ features.card.devices_24h }} devices in 24h"},
		{Name: "card_on_many_accounts", Kind: tx, Score: 35,
			Expression:  "features.card.users_30d >= 3",
			Description: "card used by {{ features.card.users_30d }} different customer accounts in 30 days"},
		{Name: "amount_spike", Kind: tx, Score: 25,
			Expression:  "features.user.count_30d >= 4 && signals.amount_vs_user_avg_30d >= 5",
			Description: "amount is {{ signals.amount_vs_user_avg_30d }}× this customer's 30-day average"},
		{Name: "new_device_and_card_high_amount", Kind: tx, Score: 25,
			Expression:  "signals.new_device_for_user && signals.new_card_for_user && amount >= 200",
			Description: "known customer on a new device with a new card for {{ amount }} {{ currency }}"},
		{Name: "country_mismatch", Kind: tx, Score: 15,
			Expression:  "signals.card_billing_country_mismatch && signals.card_shipping_country_mismatch",
			Description: "card issued in {{ payment.card_country }}, billing in {{ billing.country }}, shipping to {{ shipping.country }}"},
		{Name: "new_account_high_amount", Kind: tx, Score: 20,
			Expression:  "user.account_age_days >= 0 && user.account_age_days < 1 && amount >= 300",
			Description: "account created less than a day ago orders for {{ amount }} {{ currency }}"},
		{Name: "disposable_email", Kind: tx, Score: 25,
			Expression:  `in_list("` + reference.DisposableDomainsListName + `", user.email_domain)`,
			Description: "e-mail address at the throw-away domain {{ user.email_domain }}"},
		{Name: "accounts_per_device", Kind: tx, Score: 20,
			Expression:  "features.device.users_24h >= 3",
			Description: "{{ features.device.users_24h }} customer accounts ordered from this device in 24h"},
		// A card's own holder keeps using it after disputing a stranger's
		// charge until the bank replaces it: a known fraud alone does not
		// stop an order, it adds to the other signals.
		{Name: "known_fraud_card", Kind: tx, Score: 45,
			Expression:  "features.card.frauds_30d >= 1",
			Description: "card has {{ features.card.frauds_30d }} earlier orders known to be fraud (chargebacks, analysts' verdicts) in 30 days"},
		{Name: "known_fraud_customer_or_device", Kind: tx, Score: 30,
			Expression:  "features.user.frauds_30d >= 1 || features.device.frauds_30d >= 1 || features.email.frauds_30d >= 1",
			Description: "customer, device or e-mail has {{ max(features.user.frauds_30d, features.device.frauds_30d, features.email.frauds_30d) }} earlier orders known to be fraud in 30 days"},
		{Name: "reshipping_address", Kind: tx, Score: 20,
			Expression:  "features.address.cards_24h >= 4",
			Description: "{{ features.address.cards_24h }} different cards shipped to this address in 24h"},
	}
}
