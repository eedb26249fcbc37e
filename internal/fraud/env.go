package fraud

import (
	"math"
	"strings"
	"time"

	"github.com/shopguard/shopguard/internal/features"
	"github.com/shopguard/shopguard/internal/risk"
)

// Env is what a transaction rule sees: the transaction's own fields, the
// feature-store history of every entity it involves, and derived signals.
// Field names (the expr and json tags) are the names rules use, e.g.
// `features.card.devices_24h >= 3`. Env is also stored with each event, so
// backtests evaluate draft rules on exactly what the live decision saw.
type Env struct {
	ID          string  `expr:"id" json:"id"`
	AmountMinor int64   `expr:"amount_minor" json:"amount_minor"`
	Amount      float64 `expr:"amount" json:"amount"`
	Currency    string  `expr:"currency" json:"currency"`
	HourUTC     int     `expr:"hour_utc" json:"hour_utc"`
	IP          string  `expr:"ip" json:"ip,omitempty"`
	IPPrefix    string  `expr:"ip_prefix" json:"ip_prefix,omitempty"`
	DeviceID    string  `expr:"device_id" json:"device_id,omitempty"`
	UserAgent   string  `expr:"user_agent" json:"user_agent,omitempty"`
	MerchantID  string  `expr:"merchant_id" json:"merchant_id,omitempty"`
	// IPCountry (ISO 3166-1 alpha-2), IPASN and IPASOrg say where the IP
	// address is routed from, from the configured geolocation databases
	// ("" and 0 when unknown).
	IPCountry string `expr:"ip_country" json:"ip_country,omitempty"`
	IPASN     int64  `expr:"ip_asn" json:"ip_asn,omitempty"`
	IPASOrg   string `expr:"ip_as_org" json:"ip_as_org,omitempty"`
	// The nested parts are pointers, all allocated by NewEnv in one block,
	// so that rules reading features.card.count_1h do not copy structs.
	User     *UserEnv  `expr:"user" json:"user"`
	Payment  *PayEnv   `expr:"payment" json:"payment"`
	Billing  *AddrEnv  `expr:"billing" json:"billing"`
	Shipping *AddrEnv  `expr:"shipping" json:"shipping"`
	Items    *ItemsEnv `expr:"items" json:"items"`
	Features *FeatEnv  `expr:"features" json:"features"`
	Signals  *Signals  `expr:"signals" json:"signals"`
	// Model is the learned model's view (score 0 and no version when the
	// tenant has no model yet).
	Model *ModelEnv `expr:"model" json:"model"`
}

// ModelEnv is what rules see of the model: model.score >= 80.
type ModelEnv struct {
	// Score is the model's calibrated fraud probability as 0-100.
	Score   float64 `expr:"score" json:"score"`
	Version string  `expr:"version" json:"version,omitempty"`
}

// SetModel records the model's score for the rules (the engine calls it).
func (env *Env) SetModel(score float64, version string) {
	env.Model.Score, env.Model.Version = score, version
}

// envBlock holds an Env and everything it points to, so a whole
// environment is one allocation.
type envBlock struct {
	env               Env
	user              UserEnv
	pay               PayEnv
	billing, shipping AddrEnv
	items             ItemsEnv
	feat              FeatEnv
	signals           Signals
	model             ModelEnv
	ents              [numSlots]Entity
}

// NewEnv returns an empty environment with every nested part allocated.
func NewEnv() *Env {
	b := &envBlock{}
	b.env.User, b.env.Payment, b.env.Billing, b.env.Shipping = &b.user, &b.pay, &b.billing, &b.shipping
	b.env.Items, b.env.Features, b.env.Signals, b.env.Model = &b.items, &b.feat, &b.signals, &b.model
	f := &b.feat
	f.User, f.Card, f.IP, f.IPPrefix = &b.ents[slotUser], &b.ents[slotCard], &b.ents[slotIP], &b.ents[slotIPPrefix]
	f.Device, f.Email, f.Address, f.Merchant = &b.ents[slotDevice], &b.ents[slotEmail], &b.ents[slotAddress], &b.ents[slotMerchant]
	return &b.env
}

// UserEnv describes the customer.
type UserEnv struct {
	ID          string `expr:"id" json:"id,omitempty"`
	Email       string `expr:"email" json:"email,omitempty"`
	EmailDomain string `expr:"email_domain" json:"email_domain,omitempty"`
	// AccountAgeDays is the account's age at the time of the order, or -1 when unknown.
	AccountAgeDays float64 `expr:"account_age_days" json:"account_age_days"`
	// Guest is true when the order carries no user id.
	Guest bool `expr:"guest" json:"guest,omitempty"`
}

// PayEnv describes the payment.
type PayEnv struct {
	Method      string `expr:"method" json:"method,omitempty"`
	Card        string `expr:"card" json:"card,omitempty"`
	BIN         string `expr:"bin" json:"bin,omitempty"`
	Last4       string `expr:"last4" json:"last4,omitempty"`
	CardCountry string `expr:"card_country" json:"card_country,omitempty"`
}

// AddrEnv describes an address.
type AddrEnv struct {
	ID         string `expr:"id" json:"id,omitempty"`
	Country    string `expr:"country" json:"country,omitempty"`
	PostalCode string `expr:"postal_code" json:"postal_code,omitempty"`
	City       string `expr:"city" json:"city,omitempty"`
}

// ItemsEnv summarises the order lines.
type ItemsEnv struct {
	Count         int64 `expr:"count" json:"count,omitempty"`
	Quantity      int64 `expr:"quantity" json:"quantity,omitempty"`
	DistinctSKUs  int64 `expr:"distinct_skus" json:"distinct_skus,omitempty"`
	MaxQuantity   int64 `expr:"max_quantity" json:"max_quantity,omitempty"`
	MaxPriceMinor int64 `expr:"max_price_minor" json:"max_price_minor,omitempty"`
}

// FeatEnv holds the history of every entity of the transaction. An entity
// the transaction does not carry (a guest has no user) has all zeros.
type FeatEnv struct {
	User     *Entity `expr:"user" json:"user"`
	Card     *Entity `expr:"card" json:"card"`
	IP       *Entity `expr:"ip" json:"ip"`
	IPPrefix *Entity `expr:"ip_prefix" json:"ip_prefix"`
	Device   *Entity `expr:"device" json:"device"`
	Email    *Entity `expr:"email" json:"email"`
	Address  *Entity `expr:"address" json:"address"`
	Merchant *Entity `expr:"merchant" json:"merchant"`
}

// entities returns the entity slots in slot order.
func (f *FeatEnv) entities() [numSlots]*Entity {
	return [numSlots]*Entity{f.User, f.Card, f.IP, f.IPPrefix, f.Device, f.Email, f.Address, f.Merchant}
}

// Entity is one entity's transaction history. Counts, sums and distinct
// counts include the current transaction; amounts are in major units of the
// transactions' currencies. Which distinct counts an entity keeps is listed
// in dims (e.g. a card keeps users, devices, IPs and e-mails); the others stay 0.
type Entity struct {
	// Present is true when the transaction carries this entity.
	Present bool `expr:"present" json:"present,omitempty"`
	// New is true when shopguard had never seen the entity before.
	New bool `expr:"new" json:"new,omitempty"`
	// FirstSeenDays is the number of days since the entity was first seen (0 when new).
	FirstSeenDays float64 `expr:"first_seen_days" json:"first_seen_days,omitempty"`
	// SecondsSinceLast is the time since the entity's previous transaction, -1 when none.
	SecondsSinceLast float64 `expr:"seconds_since_last" json:"seconds_since_last,omitempty"`

	Count1m  int64 `expr:"count_1m" json:"count_1m,omitempty"`
	Count1h  int64 `expr:"count_1h" json:"count_1h,omitempty"`
	Count24h int64 `expr:"count_24h" json:"count_24h,omitempty"`
	Count7d  int64 `expr:"count_7d" json:"count_7d,omitempty"`
	Count30d int64 `expr:"count_30d" json:"count_30d,omitempty"`

	Amount1h  float64 `expr:"amount_1h" json:"amount_1h,omitempty"`
	Amount24h float64 `expr:"amount_24h" json:"amount_24h,omitempty"`
	Amount7d  float64 `expr:"amount_7d" json:"amount_7d,omitempty"`
	Amount30d float64 `expr:"amount_30d" json:"amount_30d,omitempty"`
	// AvgAmount30dBefore is the mean amount of the entity's earlier
	// transactions in the last 30 days (0 when there were none).
	AvgAmount30dBefore float64 `expr:"avg_amount_30d_before" json:"avg_amount_30d_before,omitempty"`

	Cards1h      int64 `expr:"cards_1h" json:"cards_1h,omitempty"`
	Cards24h     int64 `expr:"cards_24h" json:"cards_24h,omitempty"`
	Cards30d     int64 `expr:"cards_30d" json:"cards_30d,omitempty"`
	Users1h      int64 `expr:"users_1h" json:"users_1h,omitempty"`
	Users24h     int64 `expr:"users_24h" json:"users_24h,omitempty"`
	Users30d     int64 `expr:"users_30d" json:"users_30d,omitempty"`
	Devices1h    int64 `expr:"devices_1h" json:"devices_1h,omitempty"`
	Devices24h   int64 `expr:"devices_24h" json:"devices_24h,omitempty"`
	Devices30d   int64 `expr:"devices_30d" json:"devices_30d,omitempty"`
	IPs1h        int64 `expr:"ips_1h" json:"ips_1h,omitempty"`
	IPs24h       int64 `expr:"ips_24h" json:"ips_24h,omitempty"`
	IPs30d       int64 `expr:"ips_30d" json:"ips_30d,omitempty"`
	Emails1h     int64 `expr:"emails_1h" json:"emails_1h,omitempty"`
	Emails24h    int64 `expr:"emails_24h" json:"emails_24h,omitempty"`
	Emails30d    int64 `expr:"emails_30d" json:"emails_30d,omitempty"`
	Addresses24h int64 `expr:"addresses_24h" json:"addresses_24h,omitempty"`
	Addresses30d int64 `expr:"addresses_30d" json:"addresses_30d,omitempty"`

	// Frauds7d and Frauds30d count the entity's earlier transactions known
	// to be fraud (labelled fraud, chargeback or account takeover and not
	// cleared since), by when shopguard learned it: only what was known at
	// the time of this transaction counts.
	Frauds7d  int64 `expr:"frauds_7d" json:"frauds_7d,omitempty"`
	Frauds30d int64 `expr:"frauds_30d" json:"frauds_30d,omitempty"`
	// FraudShare30d is Frauds30d over the entity's transactions in 30 days (at most 1).
	FraudShare30d float64 `expr:"fraud_share_30d" json:"fraud_share_30d,omitempty"`
}

// Signals are derived facts rules often need.
type Signals struct {
	// AmountVsUserAvg30d is the amount divided by the customer's average over
	// their earlier transactions in 30 days (0 without history).
	AmountVsUserAvg30d float64 `expr:"amount_vs_user_avg_30d" json:"amount_vs_user_avg_30d,omitempty"`
	// New*ForUser are true when a customer with earlier transactions uses a
	// device, card, IP or shipping address they never used before.
	NewDeviceForUser  bool `expr:"new_device_for_user" json:"new_device_for_user,omitempty"`
	NewCardForUser    bool `expr:"new_card_for_user" json:"new_card_for_user,omitempty"`
	NewIPForUser      bool `expr:"new_ip_for_user" json:"new_ip_for_user,omitempty"`
	NewAddressForUser bool `expr:"new_address_for_user" json:"new_address_for_user,omitempty"`
	// Country mismatches, true only when both countries are known.
	BillingShippingCountryMismatch bool `expr:"billing_shipping_country_mismatch" json:"billing_shipping_country_mismatch,omitempty"`
	CardBillingCountryMismatch     bool `expr:"card_billing_country_mismatch" json:"card_billing_country_mismatch,omitempty"`
	CardShippingCountryMismatch    bool `expr:"card_shipping_country_mismatch" json:"card_shipping_country_mismatch,omitempty"`
	// IP*CountryMismatch compare the IP address's country with the card's
	// and the shipping country, true only when both are known.
	IPCardCountryMismatch     bool `expr:"ip_card_country_mismatch" json:"ip_card_country_mismatch,omitempty"`
	IPShippingCountryMismatch bool `expr:"ip_shipping_country_mismatch" json:"ip_shipping_country_mismatch,omitempty"`
}

// slot identifies an entity of a transaction in the observation list.
type slot int

const (
	slotUser slot = iota
	slotCard
	slotIP
	slotIPPrefix
	slotDevice
	slotEmail
	slotAddress
	slotMerchant
	numSlots
)

// slotKinds gives each slot's entity kind.
var slotKinds = [numSlots]risk.EntityKind{
	risk.EntityUser, risk.EntityCard, risk.EntityIP, risk.EntityIPPrefix,
	risk.EntityDevice, risk.EntityEmail, risk.EntityAddress, risk.EntityMerchant,
}

// dims lists, per slot, the related entities whose distinct counts it keeps.
var dims = [numSlots][features.MaxDistinct]risk.EntityKind{
	slotUser:     {risk.EntityCard, risk.EntityDevice, risk.EntityIP, risk.EntityAddress},
	slotCard:     {risk.EntityUser, risk.EntityDevice, risk.EntityIP, risk.EntityEmail},
	slotIP:       {risk.EntityCard, risk.EntityUser, risk.EntityDevice, risk.EntityEmail},
	slotIPPrefix: {risk.EntityCard, risk.EntityUser, risk.EntityDevice},
	slotDevice:   {risk.EntityCard, risk.EntityUser, risk.EntityEmail, risk.EntityIP},
	slotEmail:    {risk.EntityCard, risk.EntityDevice, risk.EntityIP, risk.EntityUser},
	slotAddress:  {risk.EntityCard, risk.EntityUser, risk.EntityEmail},
	slotMerchant: {risk.EntityCard, risk.EntityUser},
}

// distinctWindows are the windows whose distinct counts Entity reports.
var distinctWindows = features.Windows(features.W1h, features.W24h, features.W30d)

// values returns the value of every entity kind the transaction carries,
// as computed by normalize.
func (t *Transaction) values() *[numSlots]string { return &t.vals }

// computeValues fills t.vals; normalize calls it once validation is done.
func (t *Transaction) computeValues() {
	v := &t.vals
	if t.User != nil {
		v[slotUser] = t.User.ID
		v[slotEmail] = t.User.Email
	}
	if t.Payment != nil {
		v[slotCard] = t.Payment.CardFingerprint
	}
	v[slotIP] = t.IP
	v[slotIPPrefix] = risk.IPPrefix(t.ip)
	v[slotDevice] = t.DeviceID
	v[slotAddress] = t.shippingID
	v[slotMerchant] = t.MerchantID
}

func slotOf(k risk.EntityKind) slot {
	for s, kk := range slotKinds {
		if kk == k {
			return slot(s)
		}
	}
	return -1
}

// Observations appends the feature-store observations of the transaction
// for tenant: one per entity the transaction carries, in slot order.
func (t *Transaction) Observations(tenant string, buf []features.Observation) []features.Observation {
	vals := t.values()
	amount := t.Amount()
	for s := range numSlots {
		if vals[s] == "" {
			continue
		}
		o := features.Observation{
			Key:             features.Key{Tenant: tenant, Scope: string(risk.EventTransaction), Kind: slotKinds[s], Value: vals[s]},
			Amount:          amount,
			DistinctWindows: distinctWindows,
		}
		for i, k := range dims[s] {
			if k == "" {
				continue
			}
			if v := vals[slotOf(k)]; v != "" {
				o.Distinct[i] = features.Dim{Kind: k, Value: v}
			}
		}
		buf = append(buf, o)
	}
	return buf
}

// Entities appends the entities list matching looks at: every entity the
// transaction carries plus the pseudo-entities "bin" and "country" (card,
// billing and shipping countries, and the IP address's once located).
func (t *Transaction) Entities(buf []risk.Entity) []risk.Entity {
	vals := t.values()
	for s := range numSlots {
		if vals[s] != "" {
			buf = append(buf, risk.Entity{Kind: slotKinds[s], Value: vals[s]})
		}
	}
	if t.User != nil && t.User.Email != "" {
		buf = append(buf, risk.Entity{Kind: risk.EntityEmailDomain, Value: emailDomain(t.User.Email)})
	}
	if p := t.Payment; p != nil {
		if p.BIN != "" {
			buf = append(buf, risk.Entity{Kind: "bin", Value: p.BIN})
		}
		if p.CardCountry != "" {
			buf = append(buf, risk.Entity{Kind: "country", Value: p.CardCountry})
		}
	}
	for _, a := range []*Address{t.BillingAddress, t.ShippingAddress} {
		if a != nil && a.Country != "" {
			buf = append(buf, risk.Entity{Kind: "country", Value: a.Country})
		}
	}
	if t.loc.Country != "" {
		buf = append(buf, risk.Entity{Kind: "country", Value: t.loc.Country})
	}
	return buf
}

func emailDomain(email string) string {
	if at := strings.LastIndexByte(email, '@'); at >= 0 {
		return email[at+1:]
	}
	return ""
}

// LabelScope is the feature-store scope of transactions' label counts.
const LabelScope = "transaction_labels"

// BuildEnv fills env (from NewEnv) from the transaction and from aggs, the
// aggregates the feature store returned for Observations, and labels, the
// label counts of the same keys in LabelScope (same order; nil for none).
func (t *Transaction) BuildEnv(aggs, labels []features.Aggregates, env *Env) {
	user, pay, billing, shipping, items, feat, signals, model := env.User, env.Payment, env.Billing, env.Shipping, env.Items, env.Features, env.Signals, env.Model
	ents := feat.entities()
	*user, *pay, *items, *signals, *model = UserEnv{}, PayEnv{}, ItemsEnv{}, Signals{}, ModelEnv{}
	for _, e := range ents {
		*e = Entity{}
	}
	*env = Env{
		User: user, Payment: pay, Billing: billing, Shipping: shipping, Items: items, Features: feat, Signals: signals, Model: model,
		ID:          t.ID,
		AmountMinor: *t.AmountMinor,
		Amount:      t.Amount(),
		Currency:    t.Currency,
		HourUTC:     t.at.Hour(),
		IP:          t.IP,
		IPPrefix:    t.values()[slotIPPrefix],
		DeviceID:    t.DeviceID,
		UserAgent:   t.UserAgent,
		MerchantID:  t.MerchantID,
		IPCountry:   t.loc.Country,
		IPASN:       int64(t.loc.ASN),
		IPASOrg:     t.loc.ASOrg,
	}
	env.User.AccountAgeDays = -1
	env.User.Guest = true
	if u := t.User; u != nil {
		env.User.ID, env.User.Email, env.User.EmailDomain = u.ID, u.Email, emailDomain(u.Email)
		env.User.Guest = u.ID == ""
		if !t.userCreated.IsZero() {
			env.User.AccountAgeDays = round3(max(0, t.at.Sub(t.userCreated).Hours()/24))
		}
	}
	if p := t.Payment; p != nil {
		*env.Payment = PayEnv{Method: p.Method, Card: p.CardFingerprint, BIN: p.BIN, Last4: p.Last4, CardCountry: p.CardCountry}
	}
	*env.Billing = addrEnv(t.BillingAddress, t.billingID)
	*env.Shipping = addrEnv(t.ShippingAddress, t.shippingID)
	*env.Items = itemsEnv(t.Items)

	vals := t.values()
	var userAgg *features.Aggregates
	i := 0
	for s := range numSlots {
		if vals[s] == "" {
			continue
		}
		if i >= len(aggs) {
			break
		}
		a := &aggs[i]
		i++
		fillEntity(ents[s], a, s, t.at, env.Amount)
		if i-1 < len(labels) {
			fillLabels(ents[s], &labels[i-1])
		}
		if s == slotUser {
			userAgg = a
		}
	}

	sig := env.Signals
	if u := env.Features.User; u.Present && u.AvgAmount30dBefore > 0 {
		sig.AmountVsUserAvg30d = round3(env.Amount / u.AvgAmount30dBefore)
	}
	if userAgg != nil && !userAgg.New {
		for d, k := range dims[slotUser] {
			if userAgg.NewValue[d] && vals[slotOf(k)] != "" {
				switch k {
				case risk.EntityDevice:
					sig.NewDeviceForUser = true
				case risk.EntityCard:
					sig.NewCardForUser = true
				case risk.EntityIP:
					sig.NewIPForUser = true
				case risk.EntityAddress:
					sig.NewAddressForUser = true
				}
			}
		}
	}
	card, bill, ship := env.Payment.CardCountry, env.Billing.Country, env.Shipping.Country
	sig.BillingShippingCountryMismatch = bill != "" && ship != "" && bill != ship
	sig.CardBillingCountryMismatch = card != "" && bill != "" && card != bill
	sig.CardShippingCountryMismatch = card != "" && ship != "" && card != ship
	ipc := env.IPCountry
	sig.IPCardCountryMismatch = ipc != "" && card != "" && ipc != card
	sig.IPShippingCountryMismatch = ipc != "" && ship != "" && ipc != ship
}

func fillEntity(e *Entity, a *features.Aggregates, s slot, at time.Time, amount float64) {
	e.Present = true
	e.New = a.New
	if !a.FirstSeen.IsZero() {
		e.FirstSeenDays = round3(max(0, at.Sub(a.FirstSeen).Hours()/24))
	}
	e.SecondsSinceLast = -1
	if !a.PrevSeen.IsZero() {
		// Out-of-order events can have a later previous event: clamp to 0.
		e.SecondsSinceLast = round3(max(0, at.Sub(a.PrevSeen).Seconds()))
	}
	e.Count1m, e.Count1h, e.Count24h, e.Count7d, e.Count30d =
		a.Count[features.W1m], a.Count[features.W1h], a.Count[features.W24h], a.Count[features.W7d], a.Count[features.W30d]
	e.Amount1h, e.Amount24h, e.Amount7d, e.Amount30d =
		round4(a.Sum[features.W1h]), round4(a.Sum[features.W24h]), round4(a.Sum[features.W7d]), round4(a.Sum[features.W30d])
	if n := a.Count[features.W30d] - 1; n > 0 {
		e.AvgAmount30dBefore = round3(max(0, a.Sum[features.W30d]-amount) / float64(n))
	}
	for d, k := range dims[s] {
		c := &a.Distinct[d]
		h, day, month := c[features.W1h], c[features.W24h], c[features.W30d]
		switch k {
		case risk.EntityCard:
			e.Cards1h, e.Cards24h, e.Cards30d = h, day, month
		case risk.EntityUser:
			e.Users1h, e.Users24h, e.Users30d = h, day, month
		case risk.EntityDevice:
			e.Devices1h, e.Devices24h, e.Devices30d = h, day, month
		case risk.EntityIP:
			e.IPs1h, e.IPs24h, e.IPs30d = h, day, month
		case risk.EntityEmail:
			e.Emails1h, e.Emails24h, e.Emails30d = h, day, month
		case risk.EntityAddress:
			e.Addresses24h, e.Addresses30d = day, month
		}
	}
}

// fillLabels sets the entity's counts of known frauds from its label
// aggregates (Sum is the net number of events known to be fraud).
func fillLabels(e *Entity, l *features.Aggregates) {
	e.Frauds7d = max(0, int64(math.Round(l.Sum[features.W7d])))
	e.Frauds30d = max(0, int64(math.Round(l.Sum[features.W30d])))
	if e.Count30d > 0 {
		e.FraudShare30d = round3(min(1, float64(e.Frauds30d)/float64(e.Count30d)))
	}
}

// round3 rounds derived quantities to three decimals: finer digits mean
// nothing to a rule and cost space in every stored decision.
func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

// round4 rounds sums of amounts, hiding float noise (149.96999999999997)
// while keeping every currency's minor units.
func round4(f float64) float64 { return math.Round(f*10000) / 10000 }

func addrEnv(a *Address, id string) AddrEnv {
	if a == nil {
		return AddrEnv{}
	}
	return AddrEnv{ID: id, Country: a.Country, PostalCode: a.PostalCode, City: a.City}
}

func itemsEnv(items []Item) ItemsEnv {
	var e ItemsEnv
	e.Count = int64(len(items))
	var skus map[string]struct{}
	for _, it := range items {
		e.Quantity += it.Quantity
		e.MaxQuantity = max(e.MaxQuantity, it.Quantity)
		e.MaxPriceMinor = max(e.MaxPriceMinor, it.PriceMinor)
		if it.SKU != "" {
			if skus == nil {
				skus = make(map[string]struct{}, len(items))
			}
			skus[it.SKU] = struct{}{}
		}
	}
	e.DistinctSKUs = int64(len(skus))
	return e
}
