package fraud

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
)

// AppendJSON appends env (whose nested parts must all be set, as NewEnv
// does) as JSON to b, byte for byte what encoding/json
// writes (a test holds them equal), without reflection: the engine stores
// every decision's environment, so this is on the hot path.
func (env *Env) AppendJSON(b []byte) []byte {
	w := jsonWriter{b: b}
	w.open()
	w.str("id", env.ID, false)
	w.int("amount_minor", env.AmountMinor, false)
	w.float("amount", env.Amount, false)
	w.str("currency", env.Currency, false)
	w.int("hour_utc", int64(env.HourUTC), false)
	w.str("ip", env.IP, true)
	w.str("ip_prefix", env.IPPrefix, true)
	w.str("device_id", env.DeviceID, true)
	w.str("user_agent", env.UserAgent, true)
	w.str("merchant_id", env.MerchantID, true)
	w.str("ip_country", env.IPCountry, true)
	w.int("ip_asn", env.IPASN, true)
	w.str("ip_as_org", env.IPASOrg, true)

	w.object("user")
	w.str("id", env.User.ID, true)
	w.str("email", env.User.Email, true)
	w.str("email_domain", env.User.EmailDomain, true)
	w.float("account_age_days", env.User.AccountAgeDays, false)
	w.bool("guest", env.User.Guest, true)
	w.close()

	p := env.Payment
	w.object("payment")
	w.str("method", p.Method, true)
	w.str("card", p.Card, true)
	w.str("bin", p.BIN, true)
	w.str("last4", p.Last4, true)
	w.str("card_country", p.CardCountry, true)
	w.close()

	for _, a := range []struct {
		name string
		addr *AddrEnv
	}{{"billing", env.Billing}, {"shipping", env.Shipping}} {
		w.object(a.name)
		w.str("id", a.addr.ID, true)
		w.str("country", a.addr.Country, true)
		w.str("postal_code", a.addr.PostalCode, true)
		w.str("city", a.addr.City, true)
		w.close()
	}

	it := env.Items
	w.object("items")
	w.int("count", it.Count, true)
	w.int("quantity", it.Quantity, true)
	w.int("distinct_skus", it.DistinctSKUs, true)
	w.int("max_quantity", it.MaxQuantity, true)
	w.int("max_price_minor", it.MaxPriceMinor, true)
	w.close()

	f := env.Features
	w.object("features")
	for _, e := range []struct {
		name string
		ent  *Entity
	}{{"user", f.User}, {"card", f.Card}, {"ip", f.IP}, {"ip_prefix", f.IPPrefix},
		{"device", f.Device}, {"email", f.Email}, {"address", f.Address}, {"merchant", f.Merchant}} {
		w.key(e.name)
		w.b = e.ent.appendArray(w.b)
	}
	w.close()

	s := env.Signals
	w.object("signals")
	w.float("amount_vs_user_avg_30d", s.AmountVsUserAvg30d, true)
	w.bool("new_device_for_user", s.NewDeviceForUser, true)
	w.bool("new_card_for_user", s.NewCardForUser, true)
	w.bool("new_ip_for_user", s.NewIPForUser, true)
	w.bool("new_address_for_user", s.NewAddressForUser, true)
	w.bool("billing_shipping_country_mismatch", s.BillingShippingCountryMismatch, true)
	w.bool("card_billing_country_mismatch", s.CardBillingCountryMismatch, true)
	w.bool("card_shipping_country_mismatch", s.CardShippingCountryMismatch, true)
	w.bool("ip_card_country_mismatch", s.IPCardCountryMismatch, true)
	w.bool("ip_shipping_country_mismatch", s.IPShippingCountryMismatch, true)
	w.close()

	w.object("model")
	w.float("score", env.Model.Score, false)
	w.str("version", env.Model.Version, true)
	w.close()
	w.close()
	return w.b
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
			b = appendFloat(b, v)
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

// jsonWriter appends a JSON object field by field.
type jsonWriter struct {
	b     []byte
	first bool // the next field is the first of its object
}

func (w *jsonWriter) open()  { w.b = append(w.b, '{'); w.first = true }
func (w *jsonWriter) close() { w.b = append(w.b, '}'); w.first = false }

func (w *jsonWriter) key(k string) {
	if !w.first {
		w.b = append(w.b, ',')
	}
	w.first = false
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	w.b = append(w.b, '"', ':')
}

func (w *jsonWriter) object(k string) {
	w.key(k)
	w.open()
}

func (w *jsonWriter) str(k, v string, omitEmpty bool) {
	if omitEmpty && v == "" {
		return
	}
	w.key(k)
	w.b = appendString(w.b, v)
}

func (w *jsonWriter) int(k string, v int64, omitEmpty bool) {
	if omitEmpty && v == 0 {
		return
	}
	w.key(k)
	w.b = strconv.AppendInt(w.b, v, 10)
}

func (w *jsonWriter) bool(k string, v, omitEmpty bool) {
	if omitEmpty && !v {
		return
	}
	w.key(k)
	w.b = strconv.AppendBool(w.b, v)
}

// float writes a float field like encoding/json.
func (w *jsonWriter) float(k string, v float64, omitEmpty bool) {
	if omitEmpty && v == 0 {
		return
	}
	w.key(k)
	w.b = appendFloat(w.b, v)
}

// appendFloat formats v as encoding/json does (ES6 number formatting); a
// non-finite value, which encoding/json refuses, is written as 0.
func appendFloat(b []byte, v float64) []byte {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return append(b, '0')
	}
	// Fast path: the environment's quantities are rounded to at most four
	// decimals (round3, round4), and for such a value the shortest decimal
	// that reads back as v is its fixed-point form with trailing zeros
	// trimmed, which integer formatting writes far faster than the general
	// shortest-float search.
	if v == 0 {
		if math.Signbit(v) {
			return append(b, '-', '0')
		}
		return append(b, '0')
	}
	if k := math.Round(v * 1e4); k/1e4 == v && math.Abs(k) < 1e15 && math.Abs(v) >= 1e-6 {
		n := int64(k)
		if n < 0 {
			b = append(b, '-')
			n = -n
		}
		b = strconv.AppendInt(b, n/10000, 10)
		if frac := n % 10000; frac != 0 {
			var d [5]byte
			d[0] = '.'
			for i := 4; i >= 1; i-- {
				d[i] = byte('0' + frac%10)
				frac /= 10
			}
			end := 5
			for d[end-1] == '0' {
				end--
			}
			b = append(b, d[:end]...)
		}
		return b
	}
	format := byte('f')
	if abs := math.Abs(v); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, v, format, -1, 64)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string escaped as encoding/json does by
// default (HTML characters, U+2028/U+2029 and invalid UTF-8 included).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
