package demo

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"
)

// Errors the card processor returns.
var (
	ErrUnknownCard  = errors.New("processor: unknown card token")
	ErrCardDeclined = errors.New("processor: card declined")
)

// Card is a payment card as the processor knows it. The shop never sees a
// card number: only the token, and the fingerprint, BIN, last four digits
// and issuing country the processor reports for it.
type Card struct {
	Token       string
	Fingerprint string
	BIN         string
	Last4       string
	Country     string
	// Declines marks a card the issuer refuses (cancelled, expired, no funds).
	Declines bool
}

// Charge is an approved payment.
type Charge struct {
	OrderID     string
	Token       string
	AmountMinor int64
	At          time.Time
}

// Chargeback is a disputed charge: the shop loses the money and the goods.
type Chargeback struct {
	Charge
	DisputedAt time.Time
}

// Processor is a fake card processor: it tokenises cards, approves or
// declines charges, and turns cardholders' disputes into chargebacks.
type Processor struct {
	mu      sync.Mutex
	cards   map[string]*Card
	charges map[string]Charge // by order id
	pending []Chargeback      // disputed, not yet delivered; sorted by DisputedAt
}

// TestCard is a card anyone may use in the demo shop's checkout form.
type TestCard struct {
	Card
	Label string
}

// NewProcessor returns a processor that knows only its test cards.
func NewProcessor() *Processor {
	p := &Processor{cards: map[string]*Card{}, charges: map[string]Charge{}}
	for _, tc := range testCardNumbers {
		p.Issue(tc.number, tc.country, tc.declines)
	}
	return p
}

var testCardNumbers = []struct {
	number, country, label string
	declines               bool
}{
	{"4242424242424242", "DE", "Visa, issued in Germany, approved", false},
	{"5555555555554444", "FR", "Mastercard, issued in France, approved", false},
	{"4000000000000002", "DE", "Visa, issued in Germany, declined by the bank", true},
}

// TestCards returns the cards a person trying the shop can pay with.
func (p *Processor) TestCards() []TestCard {
	var out []TestCard
	for _, tc := range testCardNumbers {
		c := p.Issue(tc.number, tc.country, tc.declines)
		out = append(out, TestCard{Card: c, Label: tc.label})
	}
	return out
}

// Issue registers a card and returns it with its token and fingerprint
// filled in (both derived from the card number, which is then forgotten).
func (p *Processor) Issue(number, country string, declines bool) Card {
	sum := sha256.Sum256([]byte(number))
	c := Card{
		Token:       "tok_" + hex.EncodeToString(sum[:8]),
		Fingerprint: "fp_" + hex.EncodeToString(sum[8:16]),
		BIN:         number[:6],
		Last4:       number[len(number)-4:],
		Country:     country,
		Declines:    declines,
	}
	p.mu.Lock()
	if old, ok := p.cards[c.Token]; ok {
		c = *old
	} else {
		p.cards[c.Token] = &c
	}
	p.mu.Unlock()
	return c
}

// Card returns what the processor tells a merchant about a token.
func (p *Processor) Card(token string) (Card, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := p.cards[token]
	if !ok {
		return Card{}, fmt.Errorf("%w %q", ErrUnknownCard, token)
	}
	return *c, nil
}

// Charge authorises and captures amountMinor on the card for an order.
func (p *Processor) Charge(token, orderID string, amountMinor int64, at time.Time) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := p.cards[token]
	if !ok {
		return fmt.Errorf("%w %q", ErrUnknownCard, token)
	}
	if c.Declines {
		return ErrCardDeclined
	}
	p.charges[orderID] = Charge{OrderID: orderID, Token: token, AmountMinor: amountMinor, At: at}
	return nil
}

// Dispute records that the cardholder disputes an order's charge; the
// chargeback reaches the merchant at disputedAt. It returns false when the
// order was never charged.
func (p *Processor) Dispute(orderID string, disputedAt time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	ch, ok := p.charges[orderID]
	if !ok {
		return false
	}
	delete(p.charges, orderID) // one dispute per charge
	i := sort.Search(len(p.pending), func(i int) bool { return p.pending[i].DisputedAt.After(disputedAt) })
	p.pending = slices.Insert(p.pending, i, Chargeback{Charge: ch, DisputedAt: disputedAt})
	return true
}

// DueChargebacks removes and returns the chargebacks disputed at or before now.
func (p *Processor) DueChargebacks(now time.Time) []Chargeback {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := sort.Search(len(p.pending), func(i int) bool { return p.pending[i].DisputedAt.After(now) })
	due := p.pending[:n:n]
	p.pending = p.pending[n:]
	return due
}

// Pending returns the chargebacks scheduled after now (still to come).
func (p *Processor) Pending() []Chargeback {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Chargeback(nil), p.pending...)
}
