package demo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/shopguard/shopguard/client/virtualkey"
)

// country is where simulated people live: their IP space, card BINs and towns.
type country struct {
	Code   string
	Octet  byte // first octet of the country's simulated IPv4 space
	BIN    string
	Cities []string
	Mail   []string // popular e-mail providers
	Weight float64  // share of the shop's customers
}

var countries = []country{
	{"DE", 84, "45320", []string{"Berlin", "Hamburg", "Munich", "Cologne", "Leipzig"}, []string{"gmx.de", "web.de", "gmail.com"}, 30},
	{"FR", 90, "49730", []string{"Paris", "Lyon", "Lille", "Nantes"}, []string{"orange.fr", "gmail.com", "free.fr"}, 18},
	{"NL", 145, "52240", []string{"Amsterdam", "Utrecht", "Rotterdam"}, []string{"ziggo.nl", "gmail.com", "outlook.com"}, 10},
	{"ES", 88, "45560", []string{"Madrid", "Barcelona", "Valencia"}, []string{"gmail.com", "hotmail.es", "yahoo.es"}, 10},
	{"IT", 79, "53750", []string{"Rome", "Milan", "Turin", "Bologna"}, []string{"libero.it", "gmail.com", "virgilio.it"}, 10},
	{"AT", 77, "41160", []string{"Vienna", "Graz", "Linz"}, []string{"gmx.at", "gmail.com"}, 7},
	{"BE", 91, "47710", []string{"Brussels", "Ghent", "Antwerp"}, []string{"skynet.be", "gmail.com"}, 5},
	{"PL", 83, "51690", []string{"Warsaw", "Krakow", "Gdansk"}, []string{"wp.pl", "gmail.com", "onet.pl"}, 5},
	{"SE", 78, "46010", []string{"Stockholm", "Gothenburg", "Malmo"}, []string{"gmail.com", "telia.com"}, 5},
}

// fraudCountries are where the demo's card fraudsters ship to and connect from.
var fraudCountries = []country{
	{"NG", 105, "53990", []string{"Lagos", "Abuja"}, []string{"gmail.com", "yahoo.com"}, 1},
	{"RO", 86, "47960", []string{"Bucharest", "Iasi"}, []string{"gmail.com", "yahoo.com"}, 1},
	{"US", 73, "41470", []string{"Miami", "Newark", "Houston"}, []string{"gmail.com", "outlook.com"}, 1},
	{"VN", 113, "52640", []string{"Hanoi", "Ho Chi Minh City"}, []string{"gmail.com", "yahoo.com"}, 1},
	{"BR", 177, "51880", []string{"Sao Paulo", "Rio de Janeiro"}, []string{"gmail.com", "hotmail.com"}, 1},
}

var (
	firstNames = []string{"anna", "ben", "clara", "david", "elena", "felix", "greta", "hugo", "ines", "jonas",
		"katja", "luca", "marie", "noah", "olga", "paul", "rosa", "sven", "tina", "umberto", "vera", "willem", "zoe", "leo"}
	lastNames = []string{"meyer", "martin", "devries", "garcia", "rossi", "huber", "peeters", "nowak", "larsson",
		"schmidt", "bernard", "jansen", "lopez", "bianchi", "wagner", "dubois", "kowalski", "berg", "fischer", "moreau"}
	streets = []string{"Main Street", "Station Road", "Park Lane", "Church Street", "Market Square", "Mill Road", "Garden Way"}

	desktopAgents = []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
		"Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0",
	}
	mobileAgents = []string{
		"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
		"Mozilla/5.0 (Linux; Android 13; SM-A536B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36",
	}
)

// device is a simulated browser: its device cookie and user agent.
type device struct {
	ID        string
	UserAgent string
}

// customer is a simulated legitimate customer of the shop.
type customer struct {
	Index    int
	Account  Account
	Password string
	Country  country
	Cards    []Card
	Devices  []device
	HomeIPs  []string
	Activity float64 // relative likelihood of starting a session
	// Trip, if set, is where the customer is during the run (abroad).
	Trip *trip
	// wantsApp is set for customers with an authenticator app; App is the
	// app on their phone once enrolled (Sim.EnrolApps).
	wantsApp bool
	App      *authenticator
	// wantsPasskey is set for customers with a passkey for the shop;
	// Passkey is their (synced) authenticator once registered
	// (Sim.EnrolPasskeys).
	wantsPasskey bool
	Passkey      *virtualkey.Authenticator
	// lastCheckout is when the customer last went to checkout in this run
	// (unix nanoseconds), so that a busy customer does not buy every minute.
	lastCheckout atomic.Int64
}

// claimCheckout reports whether the customer may buy at now: not within
// gap of their last checkout in this run. Sessions of one customer may run
// at once, so the claim is atomic.
func (c *customer) claimCheckout(now time.Time, gap time.Duration) bool {
	for {
		last := c.lastCheckout.Load()
		if last != 0 && now.Sub(time.Unix(0, last)) < gap {
			return false
		}
		if c.lastCheckout.CompareAndSwap(last, now.UnixNano()) {
			return true
		}
	}
}

// population is the shop's customer base, generated from a seed.
type population struct {
	customers []*customer
	byID      map[string]*customer // by account id
	cumWeight []float64
}

// newPopulation generates n customers whose accounts were opened before now.
func newPopulation(rng *rand.Rand, n int, proc *Processor, now time.Time) *population {
	p := &population{byID: make(map[string]*customer, n)}
	var total float64
	for i := range n {
		c := &customer{Index: i, Country: pickCountry(rng, countries)}
		first, last := pick(rng, firstNames), pick(rng, lastNames)
		c.Account = Account{
			ID:        fmt.Sprintf("cus_%05d", i+1),
			Email:     fmt.Sprintf("%s.%s%d@%s", first, last, i+1, pick(rng, c.Country.Mail)),
			Name:      titleCase(first) + " " + titleCase(last),
			CreatedAt: now.Add(-time.Duration(30+rng.IntN(1500)) * 24 * time.Hour),
			Address:   randomAddress(rng, c.Country),
		}
		c.Password = fmt.Sprintf("pw-%x-%d", rng.Uint64(), i)
		cards := 1 + boolInt(rng.Float64() < 0.35)
		for range cards {
			issuer := c.Country
			if rng.Float64() < 0.04 { // expats and travellers keep a card from elsewhere
				issuer = pickCountry(rng, countries)
			}
			c.Cards = append(c.Cards, proc.Issue(cardNumber(rng, issuer), issuer.Code, false))
		}
		c.Devices = append(c.Devices, newDevice(rng, rng.Float64() < 0.55))
		if rng.Float64() < 0.45 {
			c.Devices = append(c.Devices, newDevice(rng, !strings.Contains(c.Devices[0].UserAgent, "Mobile")))
		}
		c.HomeIPs = append(c.HomeIPs, randomIP(rng, c.Country.Octet))
		if rng.Float64() < 0.3 {
			c.HomeIPs = append(c.HomeIPs, randomIP(rng, c.Country.Octet))
		}
		// A few customers buy often; most rarely (log-normal activity).
		c.Activity = math.Exp(rng.NormFloat64() * 0.9)
		total += c.Activity
		p.customers = append(p.customers, c)
		p.byID[c.Account.ID] = c
		p.cumWeight = append(p.cumWeight, total)
	}
	return p
}

// pickActive returns a customer with probability proportional to activity.
func (p *population) pickActive(rng *rand.Rand) *customer {
	x := rng.Float64() * p.cumWeight[len(p.cumWeight)-1]
	lo, hi := 0, len(p.cumWeight)-1
	for lo < hi {
		mid := (lo + hi) / 2
		if p.cumWeight[mid] < x {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return p.customers[lo]
}

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func pickCountry(rng *rand.Rand, cs []country) country {
	var total float64
	for _, c := range cs {
		total += c.Weight
	}
	x := rng.Float64() * total
	for _, c := range cs {
		if x -= c.Weight; x < 0 {
			return c
		}
	}
	return cs[len(cs)-1]
}

func titleCase(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

func randomAddress(rng *rand.Rand, c country) Address {
	return Address{
		Line1:      fmt.Sprintf("%d %s", 1+rng.IntN(180), pick(rng, streets)),
		City:       pick(rng, c.Cities),
		PostalCode: fmt.Sprintf("%05d", rng.IntN(100000)),
		Country:    c.Code,
	}
}

func newDevice(rng *rand.Rand, mobile bool) device {
	ua := pick(rng, desktopAgents)
	if mobile {
		ua = pick(rng, mobileAgents)
	}
	return device{ID: fmt.Sprintf("dev_%016x", rng.Uint64()), UserAgent: ua}
}

// randomIP returns an address in the simulated space of a country: octet.x.y.z.
func randomIP(rng *rand.Rand, octet byte) string {
	return netip.AddrFrom4([4]byte{octet, byte(rng.IntN(256)), byte(rng.IntN(256)), byte(1 + rng.IntN(254))}).String()
}

// cardNumber returns a Luhn-valid 16-digit number on the country's BIN range.
func cardNumber(rng *rand.Rand, c country) string {
	digits := []byte(c.BIN + fmt.Sprint(rng.IntN(10)))
	for len(digits) < 15 {
		digits = append(digits, byte('0'+rng.IntN(10)))
	}
	sum := 0
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if (len(digits)-1-i)%2 == 0 { // doubled: these sit at even distance from the check digit's left
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return string(append(digits, byte('0'+(10-sum%10)%10)))
}
