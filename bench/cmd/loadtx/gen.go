package main

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// The wire types below mirror POST /v1/transactions (client.Transaction) so
// that the bench module does not depend on the main module.

type txUser struct {
	ID        string `json:"id,omitempty"`
	Email     string `json:"email,omitempty"`
	CreatedAt string `json:"created_at,omitempty"`
}

type txPayment struct {
	Method          string `json:"method"`
	CardFingerprint string `json:"card_fingerprint,omitempty"`
	BIN             string `json:"bin,omitempty"`
	Last4           string `json:"last4,omitempty"`
	CardCountry     string `json:"card_country,omitempty"`
}

type txAddress struct {
	Line1      string `json:"line1,omitempty"`
	City       string `json:"city,omitempty"`
	PostalCode string `json:"postal_code,omitempty"`
	Country    string `json:"country,omitempty"`
}

type txItem struct {
	SKU        string `json:"sku,omitempty"`
	Name       string `json:"name,omitempty"`
	PriceMinor int64  `json:"price_minor"`
	Quantity   int64  `json:"quantity"`
}

type transaction struct {
	ID              string     `json:"id"`
	CreatedAt       string     `json:"created_at"`
	AmountMinor     int64      `json:"amount_minor"`
	Currency        string     `json:"currency"`
	User            *txUser    `json:"user,omitempty"`
	IP              string     `json:"ip,omitempty"`
	DeviceID        string     `json:"device_id,omitempty"`
	UserAgent       string     `json:"user_agent,omitempty"`
	Payment         *txPayment `json:"payment,omitempty"`
	BillingAddress  *txAddress `json:"billing_address,omitempty"`
	ShippingAddress *txAddress `json:"shipping_address,omitempty"`
	Items           []txItem   `json:"items,omitempty"`
	MerchantID      string     `json:"merchant_id,omitempty"`
}

// Traffic kinds, reported per run so a reader knows what the mix was.
const (
	kindNormal      = "normal"
	kindGuest       = "guest"
	kindTakeover    = "account_takeover"
	kindCardTesting = "card_testing"
	kindRing        = "reshipping_ring"
)

// Shape of the traffic. Card-testing bursts and reshipping rings occupy
// fixed slots of the sequence so that they are contiguous (as real attacks
// are) and identical for a given seed.
const (
	burstPeriod = 2500 // one card-testing burst every burstPeriod transactions...
	burstLen    = 30   // ...of burstLen attempts, each with a new card (1.2 % of traffic)
	ringPeriod  = 7000 // one reshipping ring every ringPeriod transactions...
	ringOffset  = 1000
	ringLen     = 12 // ...of ringLen orders from different accounts to one address
	guestShare  = 0.08
	atoShare    = 0.003
)

type card struct{ fp, bin, last4, country string }

type customer struct {
	id, email, country string
	created            string // account creation time, RFC 3339
	cards              []card
	devices, ips       []string
	ua                 string
	addr               txAddress
}

// generator turns a sequence number into a transaction body. Build is a
// pure function of (seed, customers, seq) apart from created_at, which is
// placed on a simulated clock, so it is safe for concurrent use.
type generator struct {
	seed     uint64
	runID    string
	pop      []customer
	simStart time.Time
	step     time.Duration // simulated time between consecutive transactions
	epoch    time.Time     // start of the traffic; account ages are relative to it
}

// newGenerator builds a population of n customers from seed. Transactions
// are spread over span of simulated time ending at end, assuming total
// transactions; span 0 means each transaction carries the wall-clock time
// at which it is built.
func newGenerator(seed uint64, runID string, n int, end time.Time, span time.Duration, total uint64) *generator {
	g := &generator{seed: seed, runID: runID, pop: make([]customer, n), epoch: end}
	if span > 0 && total > 0 {
		g.simStart = end.Add(-span)
		g.step = span / time.Duration(total)
		g.epoch = g.simStart
	}
	for i := range g.pop {
		g.pop[i] = g.newCustomer(i)
	}
	return g
}

func (g *generator) rng(salt, v uint64) *rand.Rand {
	return rand.New(rand.NewPCG(splitmix(g.seed^salt), splitmix(v+salt)))
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

type weighted struct {
	v string
	w float64
}

func pick(r *rand.Rand, ws []weighted) string {
	var sum float64
	for _, x := range ws {
		sum += x.w
	}
	u := r.Float64() * sum
	for _, x := range ws {
		if u < x.w {
			return x.v
		}
		u -= x.w
	}
	return ws[len(ws)-1].v
}

var (
	emailDomains = []weighted{{"gmail.com", 35}, {"outlook.com", 12}, {"yahoo.com", 9}, {"hotmail.com", 8},
		{"icloud.com", 7}, {"gmx.de", 5}, {"web.de", 5}, {"proton.me", 3}, {"orange.fr", 4}, {"btinternet.com", 2},
		{"example-corp.com", 7}}
	// disposable domains are on shopguard's built-in throw-away list.
	disposableDomains = []string{"mailinator.com", "guerrillamail.com", "10minutemail.com", "yopmail.com", "trashmail.com", "sharklasers.com"}
	countries         = []weighted{{"DE", 30}, {"FR", 15}, {"US", 15}, {"GB", 12}, {"NL", 6}, {"ES", 6}, {"IT", 6}, {"PL", 5}, {"SE", 5}}
	currencyOf        = map[string]string{"DE": "EUR", "FR": "EUR", "NL": "EUR", "ES": "EUR", "IT": "EUR", "US": "USD", "GB": "GBP", "PL": "PLN", "SE": "SEK"}
	// minor units per EUR-equivalent, to keep amounts comparable across currencies.
	fxFactor = map[string]float64{"EUR": 1, "USD": 1.1, "GBP": 0.85, "PLN": 4.3, "SEK": 11.2}
	cities   = map[string][]string{"DE": {"Berlin", "Hamburg", "Munich", "Cologne"}, "FR": {"Paris", "Lyon", "Lille"},
		"US": {"New York", "Austin", "Seattle", "Chicago"}, "GB": {"London", "Leeds", "Bristol"}, "NL": {"Amsterdam", "Utrecht"},
		"ES": {"Madrid", "Valencia"}, "IT": {"Milan", "Rome"}, "PL": {"Warsaw", "Krakow"}, "SE": {"Stockholm", "Malmo"}}
	bins       = []string{"453201", "492980", "411773", "516732", "542418", "552742", "601100", "371449", "400022", "535522", "47612345"}
	userAgents = []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
		"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36",
		"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
		"ShopApp/4.2 (Android 13; SM-S911B)",
	}
	products = []struct {
		name  string
		price float64 // typical price in EUR
	}{{"T-shirt", 19}, {"Sneakers", 89}, {"Headphones", 129}, {"Coffee beans 1kg", 24}, {"Phone case", 15},
		{"Backpack", 59}, {"Smartwatch", 249}, {"Book", 14}, {"Gift card", 50}, {"Desk lamp", 39}, {"Laptop", 1199}, {"Socks 3-pack", 9}}
	methods = []weighted{{"card", 78}, {"paypal", 9}, {"wallet", 7}, {"bnpl", 4}, {"gift_card", 1}, {"bank_transfer", 1}}
)

func hexID(r *rand.Rand, prefix string) string {
	return fmt.Sprintf("%s%016x", prefix, r.Uint64())
}

func randIP(r *rand.Rand) string {
	if r.Float64() < 0.05 {
		return fmt.Sprintf("2a02:%x:%x:%x::%x", 0x1000+r.IntN(0xe000), r.IntN(0x10000), r.IntN(0x10000), 1+r.IntN(0xfffe))
	}
	for {
		a := 2 + r.IntN(222) // 2..223
		switch a {
		case 10, 100, 127, 169, 172, 192:
			continue
		}
		return fmt.Sprintf("%d.%d.%d.%d", a, r.IntN(256), r.IntN(256), 1+r.IntN(254))
	}
}

func newCard(r *rand.Rand, country string) card {
	c := card{fp: hexID(r, "fp_"), bin: bins[r.IntN(len(bins))], last4: fmt.Sprintf("%04d", r.IntN(10000)), country: country}
	if r.Float64() < 0.03 {
		c.country = pick(r, countries) // some customers pay with a card issued abroad
	}
	return c
}

func newAddress(r *rand.Rand, country string) txAddress {
	cs := cities[country]
	return txAddress{
		Line1:      fmt.Sprintf("%d %s Street", 1+r.IntN(250), []string{"Oak", "Main", "Station", "Park", "Mill", "Church", "High"}[r.IntN(7)]),
		City:       cs[r.IntN(len(cs))],
		PostalCode: fmt.Sprintf("%05d", r.IntN(100000)),
		Country:    country,
	}
}

func upTo3(r *rand.Rand) int {
	switch u := r.Float64(); {
	case u < 0.6:
		return 1
	case u < 0.9:
		return 2
	default:
		return 3
	}
}

func (g *generator) newCustomer(i int) customer {
	r := g.rng(0xc057, uint64(i))
	c := customer{id: fmt.Sprintf("cus_%07d", i), country: pick(r, countries)}
	domain := pick(r, emailDomains)
	if r.Float64() < 0.03 {
		domain = disposableDomains[r.IntN(len(disposableDomains))]
	}
	c.email = fmt.Sprintf("shopper%07d@%s", i, domain)
	// Account age: mostly months to years; 2 % opened an account in the last day.
	age := time.Duration(r.ExpFloat64()*400*24) * time.Hour
	if r.Float64() < 0.02 {
		age = time.Duration(r.IntN(20)) * time.Hour
	}
	c.created = g.epoch.Add(-age).Format(time.RFC3339)
	for range upTo3(r) {
		c.cards = append(c.cards, newCard(r, c.country))
	}
	for range upTo3(r) {
		c.devices = append(c.devices, hexID(r, "dev_"))
	}
	for range upTo3(r) {
		c.ips = append(c.ips, randIP(r))
	}
	c.ua = userAgents[r.IntN(len(userAgents))]
	c.addr = newAddress(r, c.country)
	return c
}

// at returns the simulated time of transaction seq.
func (g *generator) at(seq uint64) time.Time {
	if g.step == 0 {
		return time.Now().UTC()
	}
	return g.simStart.Add(time.Duration(seq) * g.step)
}

// kindOf says which part of the traffic mix seq belongs to.
func kindOf(seq uint64, r *rand.Rand) string {
	switch {
	case seq%burstPeriod < burstLen:
		return kindCardTesting
	case seq%ringPeriod >= ringOffset && seq%ringPeriod < ringOffset+ringLen:
		return kindRing
	}
	switch u := r.Float64(); {
	case u < atoShare:
		return kindTakeover
	case u < atoShare+guestShare:
		return kindGuest
	}
	return kindNormal
}

// logNormalMinor returns an amount in minor units with the given median (in
// major units) and log-space sigma, scaled to currency.
func logNormalMinor(r *rand.Rand, median, sigma float64, currency string) int64 {
	a := median * math.Exp(sigma*r.NormFloat64()) * fxFactor[currency]
	return max(50, int64(math.Round(a*100)))
}

// items splits amount into 1-5 order lines whose total does not exceed it
// (the rest is shipping).
func items(r *rand.Rand, amount int64) []txItem {
	n := 1 + r.IntN(5)
	if amount < 500 {
		n = 1
	}
	out := make([]txItem, n)
	budget := float64(amount) * (0.85 + 0.15*r.Float64())
	weights := make([]float64, n)
	var sum float64
	for i := range weights {
		weights[i] = 0.2 + r.Float64()
		sum += weights[i]
	}
	for i := range out {
		p := products[r.IntN(len(products))]
		q := int64(1)
		if r.Float64() < 0.15 {
			q = int64(2 + r.IntN(3))
		}
		out[i] = txItem{SKU: fmt.Sprintf("SKU-%05d", r.IntN(20000)), Name: p.name,
			PriceMinor: max(1, int64(budget*weights[i]/sum)/q), Quantity: q}
	}
	return out
}

// Build returns the JSON body of transaction seq and the traffic kind it
// belongs to.
func (g *generator) Build(seq uint64) ([]byte, string) {
	tx, kind := g.transaction(seq)
	b, err := json.Marshal(tx)
	if err != nil {
		panic(err) // only plain strings and integers: cannot fail
	}
	return b, kind
}

func (g *generator) transaction(seq uint64) (*transaction, string) {
	r := g.rng(0x7a11, seq)
	at := g.at(seq)
	kind := kindOf(seq, r)
	tx := &transaction{ID: fmt.Sprintf("%s-%d", g.runID, seq), CreatedAt: at.Format(time.RFC3339Nano)}
	switch kind {
	case kindCardTesting:
		g.cardTesting(r, seq, tx)
	case kindRing:
		g.ring(r, seq, at, tx)
	case kindGuest:
		g.guest(r, tx)
	default:
		g.regular(r, at, tx, kind == kindTakeover)
	}
	return tx, kind
}

// chooseCustomer skews towards a core of frequent shoppers: 20 % of orders
// come from the first 2 % of customers.
func (g *generator) chooseCustomer(r *rand.Rand) *customer {
	n := len(g.pop)
	if r.Float64() < 0.2 {
		return &g.pop[r.IntN(max(1, n/50))]
	}
	return &g.pop[r.IntN(n)]
}

func mostly(r *rand.Rand, list []string) string {
	if len(list) == 1 || r.Float64() < 0.7 {
		return list[0]
	}
	return list[1+r.IntN(len(list)-1)]
}

func (g *generator) regular(r *rand.Rand, at time.Time, tx *transaction, takeover bool) {
	c := g.chooseCustomer(r)
	tx.User = &txUser{ID: c.id, Email: c.email, CreatedAt: c.created}
	tx.Currency = currencyOf[c.country]
	tx.AmountMinor = logNormalMinor(r, 45, 0.9, tx.Currency)
	tx.DeviceID = mostly(r, c.devices)
	tx.IP = mostly(r, c.ips)
	tx.UserAgent = c.ua
	bill, ship := c.addr, c.addr
	tx.BillingAddress = &bill
	method := pick(r, methods)
	cd := c.cards[0]
	if len(c.cards) > 1 && r.Float64() < 0.35 {
		cd = c.cards[1+r.IntN(len(c.cards)-1)]
	}
	switch {
	case takeover:
		// A known account on a new device and IP pays a large order with a
		// new card shipped to a new address.
		method = "card"
		cd = newCard(r, pick(r, countries))
		tx.DeviceID = hexID(r, "dev_")
		tx.IP = randIP(r)
		tx.UserAgent = userAgents[r.IntN(len(userAgents))]
		tx.AmountMinor = logNormalMinor(r, 600, 0.5, tx.Currency)
		ship = newAddress(r, pick(r, countries))
	default:
		if r.Float64() < 0.02 {
			cd = newCard(r, c.country)
		}
		if r.Float64() < 0.03 {
			tx.DeviceID = hexID(r, "dev_")
		}
		if r.Float64() < 0.10 {
			tx.IP = randIP(r) // mobile networks, travel
		}
		if r.Float64() < 0.03 {
			ship = newAddress(r, pick(r, countries)) // a gift
		}
	}
	tx.ShippingAddress = &ship
	tx.Payment = &txPayment{Method: method}
	if method == "card" {
		tx.Payment.CardFingerprint, tx.Payment.BIN, tx.Payment.Last4, tx.Payment.CardCountry = cd.fp, cd.bin, cd.last4, cd.country
	}
	tx.Items = items(r, tx.AmountMinor)
	if r.Float64() < 0.3 {
		tx.MerchantID = fmt.Sprintf("mer_%03d", r.IntN(200))
	}
}

func (g *generator) guest(r *rand.Rand, tx *transaction) {
	country := pick(r, countries)
	tx.Currency = currencyOf[country]
	tx.AmountMinor = logNormalMinor(r, 35, 0.9, tx.Currency)
	if r.Float64() < 0.5 {
		tx.User = &txUser{Email: fmt.Sprintf("guest%016x@%s", r.Uint64(), pick(r, emailDomains))}
	}
	tx.DeviceID = hexID(r, "dev_")
	tx.IP = randIP(r)
	tx.UserAgent = userAgents[r.IntN(len(userAgents))]
	a := newAddress(r, country)
	tx.BillingAddress, tx.ShippingAddress = &a, &a
	cd := newCard(r, country)
	tx.Payment = &txPayment{Method: "card", CardFingerprint: cd.fp, BIN: cd.bin, Last4: cd.last4, CardCountry: cd.country}
	tx.Items = items(r, tx.AmountMinor)
}

// cardTesting is one attempt of a burst: one device, a few IPs of one /24,
// a new card every time, tiny amounts, guest or throw-away e-mail.
func (g *generator) cardTesting(r *rand.Rand, seq uint64, tx *transaction) {
	b := seq / burstPeriod
	br := g.rng(0xb0a7, b) // per-burst constants
	device := hexID(br, "dev_ct_")
	ipA, ipB := 11+br.IntN(200), br.IntN(256)
	ua := userAgents[br.IntN(len(userAgents))]
	tx.Currency = []string{"EUR", "USD"}[br.IntN(2)]
	tx.AmountMinor = int64(50 + r.IntN(450)) // 0.50 to 4.99
	tx.DeviceID = device
	tx.IP = fmt.Sprintf("185.%d.%d.%d", ipA, ipB, 10+r.IntN(3))
	tx.UserAgent = ua
	if br.Float64() < 0.5 {
		tx.User = &txUser{Email: fmt.Sprintf("buyer%d@%s", b, disposableDomains[br.IntN(len(disposableDomains))])}
	}
	cd := newCard(r, pick(r, countries))
	tx.Payment = &txPayment{Method: "card", CardFingerprint: cd.fp, BIN: cd.bin, Last4: cd.last4, CardCountry: cd.country}
	tx.Items = []txItem{{SKU: "SKU-DONATE", Name: "Donation", PriceMinor: tx.AmountMinor, Quantity: 1}}
}

// ring is one order of a reshipping ring: new accounts, different cards and
// devices, all shipping expensive goods to one drop address.
func (g *generator) ring(r *rand.Rand, seq uint64, at time.Time, tx *transaction) {
	b := seq / ringPeriod
	br := g.rng(0x5419, b)
	drop := newAddress(br, "US")
	email := fmt.Sprintf("r%d.%016x@%s", b, r.Uint64(), pick(r, emailDomains))
	if r.Float64() < 0.5 {
		email = fmt.Sprintf("r%d.%016x@%s", b, r.Uint64(), disposableDomains[r.IntN(len(disposableDomains))])
	}
	tx.User = &txUser{ID: hexID(r, "cus_new_"), Email: email, CreatedAt: at.Add(-time.Duration(1+r.IntN(300)) * time.Minute).Format(time.RFC3339)}
	country := pick(r, countries)
	tx.Currency = "USD"
	tx.AmountMinor = int64(30000 + r.IntN(60000))
	tx.DeviceID = hexID(r, "dev_")
	tx.IP = randIP(r)
	tx.UserAgent = userAgents[r.IntN(len(userAgents))]
	bill := newAddress(r, country)
	tx.BillingAddress, tx.ShippingAddress = &bill, &drop
	cd := newCard(r, country)
	tx.Payment = &txPayment{Method: "card", CardFingerprint: cd.fp, BIN: cd.bin, Last4: cd.last4, CardCountry: cd.country}
	tx.Items = []txItem{{SKU: "SKU-00042", Name: "Smartwatch", PriceMinor: tx.AmountMinor, Quantity: 1}}
}
