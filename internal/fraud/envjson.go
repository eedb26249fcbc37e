package fraud

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/shopguard/shopguard/internal/engine"
)

// AppendJSON appends env (whose nested parts must all be set, as NewEnv
// does) as JSON to b, byte for byte what encoding/json
// writes (a test holds them equal), without reflection: the engine stores
// every decision's environment, so this is on the hot path.
func (env *Env) AppendJSON(b []byte) []byte {
	w := engine.JSONWriter{B: b}
	w.Open()
	w.Str("id", env.ID, false)
	w.Int("amount_minor", env.AmountMinor, false)
	w.Float("amount", env.Amount, false)
	w.Str("currency", env.Currency, false)
	w.Int("hour_utc", int64(env.HourUTC), false)
	w.Str("ip", env.IP, true)
	w.Str("ip_prefix", env.IPPrefix, true)
	w.Str("device_id", env.DeviceID, true)
	w.Str("user_agent", env.UserAgent, true)
	w.Str("merchant_id", env.MerchantID, true)
	w.Str("ip_country", env.IPCountry, true)
	w.Int("ip_asn", env.IPASN, true)
	w.Str("ip_as_org", env.IPASOrg, true)

	w.Object("user")
	w.Str("id", env.User.ID, true)
	w.Str("email", env.User.Email, true)
	w.Str("email_domain", env.User.EmailDomain, true)
	w.Float("account_age_days", env.User.AccountAgeDays, false)
	w.Bool("guest", env.User.Guest, true)
	w.Close()

	p := env.Payment
	w.Object("payment")
	w.Str("method", p.Method, true)
	w.Str("card", p.Card, true)
	w.Str("bin", p.BIN, true)
	w.Str("last4", p.Last4, true)
	w.Str("card_country", p.CardCountry, true)
	w.Close()

	for _, a := range []struct {
		name string
		addr *AddrEnv
	}{{"billing", env.Billing}, {"shipping", env.Shipping}} {
		w.Object(a.name)
		w.Str("id", a.addr.ID, true)
		w.Str("country", a.addr.Country, true)
		w.Str("postal_code", a.addr.PostalCode, true)
		w.Str("city", a.addr.City, true)
		w.Close()
	}

	it := env.Items
	w.Object("items")
	w.Int("count", it.Count, true)
	w.Int("quantity", it.Quantity, true)
	w.Int("distinct_skus", it.DistinctSKUs, true)
	w.Int("max_quantity", it.MaxQuantity, true)
	w.Int("max_price_minor", it.MaxPriceMinor, true)
	w.Close()

	f := env.Features
	w.Object("features")
	for _, e := range []struct {
		name string
		ent  *Entity
	}{{"user", f.User}, {"card", f.Card}, {"ip", f.IP}, {"ip_prefix", f.IPPrefix},
		{"device", f.Device}, {"email", f.Email}, {"address", f.Address}, {"merchant", f.Merchant}} {
		w.Key(e.name)
		w.B = e.ent.appendArray(w.B)
	}
	w.Close()

	s := env.Signals
	w.Object("signals")
	w.Float("amount_vs_user_avg_30d", s.AmountVsUserAvg30d, true)
	w.Bool("new_device_for_user", s.NewDeviceForUser, true)
	w.Bool("new_card_for_user", s.NewCardForUser, true)
	w.Bool("new_ip_for_user", s.NewIPForUser, true)
	w.Bool("new_address_for_user", s.NewAddressForUser, true)
	w.Bool("billing_shipping_country_mismatch", s.BillingShippingCountryMismatch, true)
	w.Bool("card_billing_country_mismatch", s.CardBillingCountryMismatch, true)
	w.Bool("card_shipping_country_mismatch", s.CardShippingCountryMismatch, true)
	w.Bool("ip_card_country_mismatch", s.IPCardCountryMismatch, true)
	w.Bool("ip_shipping_country_mismatch", s.IPShippingCountryMismatch, true)
	w.Close()

	w.Object("model")
	w.Float("score", env.Model.Score, false)
	w.Str("version", env.Model.Version, true)
	w.Close()
	w.Close()
	return w.B
}

// entityFields lists Entity's fields in the order of its stored form, a
// JSON array of numbers (bools as 0 and 1). The list is append-only: stored
// decisions decode by position, and shorter arrays from older versions
// leave the newer fields zero.
var entityFields = [...]struct {
	name string
	kind byte // 'b' bool, 'i' int64, 'f' float64
	get  func(*Entity) float64
	set  func(*Entity, float64)
}{
	{"present", 'b', func(e *Entity) float64 { return b2f(e.Present) }, func(e *Entity, v float64) { e.Present = v != 0 }},
	{"new", 'b', func(e *Entity) float64 { return b2f(e.New) }, func(e *Entity, v float64) { e.New = v != 0 }},
	{"first_seen_days", 'f', func(e *Entity) float64 { return e.FirstSeenDays }, func(e *Entity, v float64) { e.FirstSeenDays = v }},
	{"seconds_since_last", 'f', func(e *Entity) float64 { return e.SecondsSinceLast }, func(e *Entity, v float64) { e.SecondsSinceLast = v }},
	{"count_1m", 'i', func(e *Entity) float64 { return float64(e.Count1m) }, func(e *Entity, v float64) { e.Count1m = int64(v) }},
	{"count_1h", 'i', func(e *Entity) float64 { return float64(e.Count1h) }, func(e *Entity, v float64) { e.Count1h = int64(v) }},
	{"count_24h", 'i', func(e *Entity) float64 { return float64(e.Count24h) }, func(e *Entity, v float64) { e.Count24h = int64(v) }},
	{"count_7d", 'i', func(e *Entity) float64 { return float64(e.Count7d) }, func(e *Entity, v float64) { e.Count7d = int64(v) }},
	{"count_30d", 'i', func(e *Entity) float64 { return float64(e.Count30d) }, func(e *Entity, v float64) { e.Count30d = int64(v) }},
	{"amount_1h", 'f', func(e *Entity) float64 { return e.Amount1h }, func(e *Entity, v float64) { e.Amount1h = v }},
	{"amount_24h", 'f', func(e *Entity) float64 { return e.Amount24h }, func(e *Entity, v float64) { e.Amount24h = v }},
	{"amount_7d", 'f', func(e *Entity) float64 { return e.Amount7d }, func(e *Entity, v float64) { e.Amount7d = v }},
	{"amount_30d", 'f', func(e *Entity) float64 { return e.Amount30d }, func(e *Entity, v float64) { e.Amount30d = v }},
	{"avg_amount_30d_before", 'f', func(e *Entity) float64 { return e.AvgAmount30dBefore }, func(e *Entity, v float64) { e.AvgAmount30dBefore = v }},
	{"cards_1h", 'i', func(e *Entity) float64 { return float64(e.Cards1h) }, func(e *Entity, v float64) { e.Cards1h = int64(v) }},
	{"cards_24h", 'i', func(e *Entity) float64 { return float64(e.Cards24h) }, func(e *Entity, v float64) { e.Cards24h = int64(v) }},
	{"cards_30d", 'i', func(e *Entity) float64 { return float64(e.Cards30d) }, func(e *Entity, v float64) { e.Cards30d = int64(v) }},
	{"users_1h", 'i', func(e *Entity) float64 { return float64(e.Users1h) }, func(e *Entity, v float64) { e.Users1h = int64(v) }},
	{"users_24h", 'i', func(e *Entity) float64 { return float64(e.Users24h) }, func(e *Entity, v float64) { e.Users24h = int64(v) }},
	{"users_30d", 'i', func(e *Entity) float64 { return float64(e.Users30d) }, func(e *Entity, v float64) { e.Users30d = int64(v) }},
	{"devices_1h", 'i', func(e *Entity) float64 { return float64(e.Devices1h) }, func(e *Entity, v float64) { e.Devices1h = int64(v) }},
	{"devices_24h", 'i', func(e *Entity) float64 { return float64(e.Devices24h) }, func(e *Entity, v float64) { e.Devices24h = int64(v) }},
	{"devices_30d", 'i', func(e *Entity) float64 { return float64(e.Devices30d) }, func(e *Entity, v float64) { e.Devices30d = int64(v) }},
	{"ips_1h", 'i', func(e *Entity) float64 { return float64(e.IPs1h) }, func(e *Entity, v float64) { e.IPs1h = int64(v) }},
	{"ips_24h", 'i', func(e *Entity) float64 { return float64(e.IPs24h) }, func(e *Entity, v float64) { e.IPs24h = int64(v) }},
	{"ips_30d", 'i', func(e *Entity) float64 { return float64(e.IPs30d) }, func(e *Entity, v float64) { e.IPs30d = int64(v) }},
	{"emails_1h", 'i', func(e *Entity) float64 { return float64(e.Emails1h) }, func(e *Entity, v float64) { e.Emails1h = int64(v) }},
	{"emails_24h", 'i', func(e *Entity) float64 { return float64(e.Emails24h) }, func(e *Entity, v float64) { e.Emails24h = int64(v) }},
	{"emails_30d", 'i', func(e *Entity) float64 { return float64(e.Emails30d) }, func(e *Entity, v float64) { e.Emails30d = int64(v) }},
	{"addresses_24h", 'i', func(e *Entity) float64 { return float64(e.Addresses24h) }, func(e *Entity, v float64) { e.Addresses24h = int64(v) }},
	{"addresses_30d", 'i', func(e *Entity) float64 { return float64(e.Addresses30d) }, func(e *Entity, v float64) { e.Addresses30d = int64(v) }},
	{"frauds_7d", 'i', func(e *Entity) float64 { return float64(e.Frauds7d) }, func(e *Entity, v float64) { e.Frauds7d = int64(v) }},
	{"frauds_30d", 'i', func(e *Entity) float64 { return float64(e.Frauds30d) }, func(e *Entity, v float64) { e.Frauds30d = int64(v) }},
	{"fraud_share_30d", 'f', func(e *Entity) float64 { return e.FraudShare30d }, func(e *Entity, v float64) { e.FraudShare30d = v }},
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// appendArray appends e in its stored form: its fields' values in
// entityFields order, trailing zeros dropped ([] for an absent entity).
func (e *Entity) appendArray(b []byte) []byte {
	n := len(entityFields)
	for n > 0 && entityFields[n-1].get(e) == 0 {
		n--
	}
	b = append(b, '[')
	for i, f := range entityFields[:n] {
		if i > 0 {
			b = append(b, ',')
		}
		v := f.get(e)
		if f.kind == 'f' {
			b = engine.AppendJSONFloat(b, v)
		} else {
			b = strconv.AppendInt(b, int64(v), 10)
		}
	}
	return append(b, ']')
}

// entityObject is Entity without methods, for the readable object form.
type entityObject Entity

// UnmarshalJSON reads an entity in either form: the readable object that
// encoding/json writes (and the API shows), or the array AppendJSON stores.
func (e *Entity) UnmarshalJSON(data []byte) error {
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) > 0 && t[0] == '[' {
		var vals []float64
		if err := json.Unmarshal(data, &vals); err != nil {
			return fmt.Errorf("fraud: entity features: %w", err)
		}
		*e = Entity{}
		for i, v := range vals[:min(len(vals), len(entityFields))] {
			entityFields[i].set(e, v)
		}
		return nil
	}
	return json.Unmarshal(data, (*entityObject)(e))
}
