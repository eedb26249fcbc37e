// Package fraud scores payment attempts: it validates a transaction, derives
// the entities and feature-store observations it involves, and builds the
// environment that rules (and, later, models) assess.
package fraud

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/shopguard/shopguard/internal/geo"
	"github.com/shopguard/shopguard/internal/reference"
	"github.com/shopguard/shopguard/internal/risk"
)

// Limits on transaction fields.
const (
	MaxItems       = 1000
	MaxAmountMinor = 1_000_000_000_000_000 // 10^15 minor units
	MaxQuantity    = 1_000_000
	maxFutureSkew  = 24 * time.Hour
)

// PaymentMethods lists the accepted payment.method values.
var PaymentMethods = []string{"card", "wallet", "paypal", "bank_transfer", "bnpl", "cod", "gift_card", "crypto", "other"}

// Transaction is an order or payment attempt as the shop sends it to
// POST /v1/transactions. Card numbers, CVVs and passwords never appear:
// cards arrive as the processor's fingerprint plus BIN and last four digits.
type Transaction struct {
	ID              string   `json:"id"`
	CreatedAt       string   `json:"created_at"`
	AmountMinor     *int64   `json:"amount_minor"`
	Currency        string   `json:"currency"`
	User            *User    `json:"user,omitempty"`
	IP              string   `json:"ip,omitempty"`
	DeviceID        string   `json:"device_id,omitempty"`
	UserAgent       string   `json:"user_agent,omitempty"`
	Payment         *Payment `json:"payment,omitempty"`
	BillingAddress  *Address `json:"billing_address,omitempty"`
	ShippingAddress *Address `json:"shipping_address,omitempty"`
	Items           []Item   `json:"items,omitempty"`
	MerchantID      string   `json:"merchant_id,omitempty"`

	// Filled by Validate or Decode.
	at                    time.Time
	userCreated           time.Time
	ip                    netip.Addr
	loc                   geo.Location // where ip is, once Locate ran
	exponent              int
	billingID, shippingID string
	vals                  [numSlots]string // see values
}

// User is the customer placing the order (absent for guest checkouts).
type User struct {
	ID        string `json:"id,omitempty"`
	Email     string `json:"email,omitempty"`
	CreatedAt string `json:"created_at,omitempty"`
}

// Payment describes how the order is paid.
type Payment struct {
	Method          string `json:"method"`
	CardFingerprint string `json:"card_fingerprint,omitempty"`
	BIN             string `json:"bin,omitempty"`
	Last4           string `json:"last4,omitempty"`
	CardCountry     string `json:"card_country,omitempty"`
}

// Address is a postal address.
type Address struct {
	Line1      string `json:"line1,omitempty"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city,omitempty"`
	Region     string `json:"region,omitempty"`
	PostalCode string `json:"postal_code,omitempty"`
	Country    string `json:"country,omitempty"`
}

// Item is one line of the order.
type Item struct {
	SKU        string `json:"sku,omitempty"`
	Name       string `json:"name,omitempty"`
	PriceMinor int64  `json:"price_minor"`
	Quantity   int64  `json:"quantity"`
}

// Validate checks every field against now (created_at may not lie more than
// a day in the future), normalises values (upper-case codes, lower-case
// e-mail, canonical IP) and returns every problem as joined *risk.FieldError.
func (t *Transaction) Validate(now time.Time) error {
	errs := t.normalize()
	if !t.at.IsZero() && t.at.After(now.Add(maxFutureSkew)) {
		errs = append(errs, risk.Invalid("created_at", "lies more than 24h in the future"))
	}
	return errors.Join(errs...)
}

// normalize checks and normalises everything that does not depend on the
// current time; stored payloads are decoded through it again on replay.
func (t *Transaction) normalize() []error {
	var errs []error
	add := func(e *risk.FieldError) {
		if e != nil {
			errs = append(errs, e)
		}
	}
	add(text("id", t.ID, 128, true))
	var err *risk.FieldError
	t.at, err = risk.ParseTimestamp("created_at", t.CreatedAt, true)
	add(err)
	if err == nil {
		// One spelling per instant, so a retry with another offset is the same transaction.
		t.CreatedAt = t.at.Format(time.RFC3339Nano)
	}
	switch {
	case t.AmountMinor == nil:
		add(risk.Missing("amount_minor"))
	case *t.AmountMinor < 0 || *t.AmountMinor > MaxAmountMinor:
		add(risk.Invalid("amount_minor", "must be an integer from 0 to %d (minor units, e.g. cents)", int64(MaxAmountMinor)))
	}
	t.Currency = strings.ToUpper(strings.TrimSpace(t.Currency))
	if t.Currency == "" {
		add(risk.Missing("currency"))
	} else if e, ok := reference.CurrencyExponent(t.Currency); !ok {
		add(risk.Invalid("currency", "%q is not an ISO 4217 currency code", t.Currency))
	} else {
		t.exponent = e
	}
	if u := t.User; u != nil {
		add(text("user.id", u.ID, 128, false))
		u.Email = strings.ToLower(strings.TrimSpace(u.Email))
		add(risk.CheckEmail("user.email", u.Email))
		t.userCreated, err = risk.ParseTimestamp("user.created_at", u.CreatedAt, false)
		add(err)
		if err == nil && !t.userCreated.IsZero() {
			u.CreatedAt = t.userCreated.Format(time.RFC3339Nano)
		}
	}
	t.IP = strings.TrimSpace(t.IP)
	t.ip, err = risk.ParseIP("ip", t.IP, false)
	add(err)
	if t.ip.IsValid() {
		t.IP = t.ip.String()
	}
	add(text("device_id", t.DeviceID, 128, false))
	add(text("user_agent", t.UserAgent, 1024, false))
	add(text("merchant_id", t.MerchantID, 128, false))
	if p := t.Payment; p != nil {
		errs = append(errs, p.validate()...)
	}
	errs = append(errs, t.BillingAddress.validate("billing_address")...)
	errs = append(errs, t.ShippingAddress.validate("shipping_address")...)
	t.billingID, t.shippingID = AddressID(t.BillingAddress), AddressID(t.ShippingAddress)
	if len(t.Items) > MaxItems {
		add(risk.Invalid("items", "has %d items; at most %d are accepted", len(t.Items), MaxItems))
	} else {
		for i := range t.Items {
			errs = append(errs, t.Items[i].validate(fmt.Sprintf("items[%d]", i))...)
		}
	}
	t.computeValues()
	return errs
}

func (p *Payment) validate() []error {
	var errs []error
	add := func(e *risk.FieldError) {
		if e != nil {
			errs = append(errs, e)
		}
	}
	p.Method = strings.ToLower(strings.TrimSpace(p.Method))
	switch {
	case p.Method == "":
		add(risk.Missing("payment.method"))
	case !contains(PaymentMethods, p.Method):
		add(risk.Invalid("payment.method", "%q is not one of %s", p.Method, strings.Join(PaymentMethods, ", ")))
	}
	add(text("payment.card_fingerprint", p.CardFingerprint, 128, false))
	if risk.LooksLikeCardNumber(p.CardFingerprint) {
		add(risk.Invalid("payment.card_fingerprint", "looks like a card number: send the processor's token or fingerprint, never the number"))
	}
	if p.BIN != "" && (!digits(p.BIN) || (len(p.BIN) != 6 && len(p.BIN) != 8)) {
		add(risk.Invalid("payment.bin", "must be the first 6 or 8 digits of the card"))
	}
	if p.Last4 != "" && (!digits(p.Last4) || len(p.Last4) != 4) {
		add(risk.Invalid("payment.last4", "must be the last 4 digits of the card"))
	}
	p.CardCountry = strings.ToUpper(strings.TrimSpace(p.CardCountry))
	add(country("payment.card_country", p.CardCountry))
	return errs
}

func (a *Address) validate(field string) []error {
	if a == nil {
		return nil
	}
	var errs []error
	for _, f := range []struct {
		name, v string
		max     int
	}{{"line1", a.Line1, 200}, {"line2", a.Line2, 200}, {"city", a.City, 100}, {"region", a.Region, 100}, {"postal_code", a.PostalCode, 20}} {
		if e := text(field+"."+f.name, f.v, f.max, false); e != nil {
			errs = append(errs, e)
		}
	}
	a.Country = strings.ToUpper(strings.TrimSpace(a.Country))
	if e := country(field+".country", a.Country); e != nil {
		errs = append(errs, e)
	}
	return errs
}

func (it *Item) validate(field string) []error {
	var errs []error
	for _, e := range []*risk.FieldError{text(field+".sku", it.SKU, 128, false), text(field+".name", it.Name, 500, false)} {
		if e != nil {
			errs = append(errs, e)
		}
	}
	if it.PriceMinor < 0 || it.PriceMinor > MaxAmountMinor {
		errs = append(errs, risk.Invalid(field+".price_minor", "must be from 0 to %d", int64(MaxAmountMinor)))
	}
	if it.Quantity < 1 || it.Quantity > MaxQuantity {
		errs = append(errs, risk.Invalid(field+".quantity", "must be from 1 to %d", MaxQuantity))
	}
	return errs
}

// text checks a free-text field: valid UTF-8, no control characters, at most max bytes.
func text(field, v string, max int, required bool) *risk.FieldError {
	if v == "" {
		if required {
			return risk.Missing(field)
		}
		return nil
	}
	return risk.CheckText(field, v, max)
}

func country(field, v string) *risk.FieldError {
	if v == "" {
		return nil
	}
	if _, ok := reference.CountryName(v); !ok {
		return risk.Invalid(field, "%q is not an ISO 3166-1 alpha-2 country code", v)
	}
	return nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// Time returns the transaction's event time (valid after Validate or Decode).
func (t *Transaction) Time() time.Time { return t.at }

// Amount returns the amount in major units (euros, not cents).
func (t *Transaction) Amount() float64 {
	return float64(*t.AmountMinor) / pow10[t.exponent]
}

// pow10 divides minor units into major ones exactly where a float can
// (4999 / 100 is the float nearest 49.99).
var pow10 = [...]float64{1, 10, 100, 1000, 10000}

// AddressID returns a stable, privacy-preserving identifier for an address:
// a hash of its normalised lines, postal code and country ("" for nil or empty).
func AddressID(a *Address) string {
	if a == nil {
		return ""
	}
	var buf [512]byte
	b := buf[:0]
	for i, part := range [...]string{a.Line1, a.Line2, a.City, a.PostalCode} {
		if i > 0 {
			b = append(b, 0x1f)
		}
		b = appendFolded(b, part)
	}
	b = append(b, 0x1f)
	b = append(b, a.Country...)
	if len(b) == 4 { // four separators and nothing else
		return ""
	}
	sum := sha256.Sum256(b)
	var out [3 + 24]byte
	copy(out[:], "ad_")
	hex.Encode(out[3:], sum[:12])
	return string(out[:])
}

// appendFolded appends s lower-cased with runs of white space collapsed to
// one space and none at either end (strings.Fields joined by spaces).
func appendFolded(b []byte, s string) []byte {
	space := false
	start := len(b)
	for _, r := range s {
		if unicode.IsSpace(r) {
			space = len(b) > start
			continue
		}
		if space {
			b = append(b, ' ')
			space = false
		}
		b = utf8.AppendRune(b, unicode.ToLower(r))
	}
	return b
}

// ipPrefix returns the /24 (IPv4) or /48 (IPv6) network holding ip.

// StepUp returns the payment a challenge of this transaction asks the
// customer to approve; ok is false for a guest checkout.
func (t *Transaction) StepUp() (s risk.StepUp, ok bool) {
	if t.User == nil || t.User.ID == "" || t.AmountMinor == nil {
		return risk.StepUp{}, false
	}
	amount := strconv.FormatFloat(t.Amount(), 'f', t.exponent, 64)
	return risk.StepUp{UserID: t.User.ID, Type: "payment", Description: "Pay " + amount + " " + t.Currency + " for order " + t.ID,
		AmountMinor: *t.AmountMinor, Currency: t.Currency, Reference: t.ID, DeviceID: t.DeviceID}, true
}
