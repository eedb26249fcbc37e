package loginsim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"time"
)

// customer is one of the shop's customers.
type customer struct {
	id      string
	home    *country
	city    int
	isp     *network
	block   uint32 // the home connection's /24
	host    int    // and its host part
	work    netip.Addr
	carrier *network
	devices []*device
	every   time.Duration // mean time between sign-ins
	start   time.Time     // first sign-in of the simulation
	trip    *trip
}

// device is one browser on one of the customer's machines, known to the
// shop by the device id in its cookie.
type device struct {
	id       string
	ua       string
	mobile   bool
	updateAt time.Time // when the browser updates itself
}

// trip is a customer's journey abroad.
type trip struct {
	from, to time.Time
	country  *country
}

// Behaviour of customers (the simulation's assumptions, stated in
// docs/account-eval.md).
const (
	medianInterval = 4 * 24 * time.Hour // median customer signs in every 4 days
	pPhone         = 0.7                // has a phone with the shop's site or app
	pDesktop       = 0.6                // has a computer (everyone has one or both)
	pNewDevice     = 0.015              // a sign-in from a device never used before
	pCookieLoss    = 0.01               // the device's cookie was cleared (new device id)
	pMistype       = 0.08               // one wrong password before the right one
	pMistypeTwice  = 0.02               // two
	pWrongEmail    = 0.01               // first types an e-mail address without an account
	pMoveBlock     = 0.01               // the ISP moves the home line to another /24
	pNewHostIP     = 0.15               // the home line gets a new address in its /24
	pTrip          = 0.03               // travels abroad during the simulation
	pLateAccount   = 0.05               // opens the account during the measured weeks
)

// newCustomers draws the shop's customers.
func newCustomers(rng *rand.Rand, w *World, n int, begin, measure, end time.Time) []*customer {
	cs := make([]*customer, n)
	for i := range cs {
		c := &customer{id: fmt.Sprintf("c%06d", i)}
		c.home = w.homeCountry(rng)
		c.city = pick(rng, c.home.cities, zipf)
		c.isp = c.home.isps[pick(rng, len(c.home.isps), zipf)]
		pool := c.isp.pools[c.city]
		c.block, c.host = pool[rng.IntN(len(pool))], 1+rng.IntN(254)
		// Work: another operator's line in the same city.
		wisp := c.home.isps[rng.IntN(len(c.home.isps))]
		c.work = randomAddr(rng, wisp.pools[c.city])
		c.carrier = c.home.carriers[rng.IntN(len(c.home.carriers))]
		phone, desktop := rng.Float64() < pPhone, rng.Float64() < pDesktop
		if !phone && !desktop {
			desktop = true
		}
		for _, mobile := range []bool{true, false} {
			if (mobile && phone) || (!mobile && desktop) {
				c.devices = append(c.devices, newDevice(rng, c.id, mobile, begin, end))
			}
		}
		// Log-normal intervals: a few sign in daily, many monthly.
		c.every = time.Duration(float64(medianInterval) * math.Exp(rng.NormFloat64()*0.9))
		c.every = max(c.every, 12*time.Hour)
		c.start = begin.Add(time.Duration(rng.Float64() * float64(min(c.every, measure.Sub(begin)))))
		if rng.Float64() < pLateAccount {
			c.start = measure.Add(time.Duration(rng.Float64() * float64(end.Sub(measure))))
		}
		if rng.Float64() < pTrip {
			from := measure.Add(time.Duration(rng.Float64() * float64(end.Sub(measure))))
			to := w.countries[pick(rng, len(w.countries), func(i int) float64 {
				if w.countries[i] == c.home {
					return 0
				}
				return w.countries[i].homeWeight + 0.01
			})]
			c.trip = &trip{from: from, to: from.Add(time.Duration(3+rng.IntN(8)) * 24 * time.Hour), country: to}
		}
		cs[i] = c
	}
	return cs
}

func newDevice(rng *rand.Rand, owner string, mobile bool, begin, end time.Time) *device {
	return &device{
		id:     fmt.Sprintf("d-%s-%08x", owner, rng.Uint32()),
		ua:     randomBrowser(rng, mobile),
		mobile: mobile,
		// Browsers update every four to six weeks.
		updateAt: begin.Add(time.Duration(rng.Float64() * float64(end.Sub(begin)) * 1.5)),
	}
}

// userAgent is the device's User-Agent at t.
func (d *device) userAgent(t time.Time) string {
	if t.After(d.updateAt) {
		return update(d.ua)
	}
	return d.ua
}

// mainDevice is the device the customer uses most (the first).
func (c *customer) mainDevice() *device { return c.devices[0] }

// Kinds of ordinary sign-in, reported separately.
const (
	legitUsual     = "usual"
	legitNewDevice = "new device or cleared cookies"
	legitTravel    = "travelling abroad"
	legitMistype   = "mistyped password or e-mail first"
)

// signIn returns the attempts of one ordinary sign-in at t and its kind.
func (c *customer) signIn(rng *rand.Rand, t time.Time) ([]attempt, string) {
	kind := legitUsual
	d := c.devices[rng.IntN(len(c.devices))]
	switch x := rng.Float64(); {
	case x < pNewDevice:
		nd := newDevice(rng, c.id, d.mobile, t, t.Add(60*24*time.Hour))
		*d = *nd
		kind = legitNewDevice
	case x < pNewDevice+pCookieLoss:
		d.id = fmt.Sprintf("d-%s-%08x", c.id, rng.Uint32())
		kind = legitNewDevice
	}
	var ip netip.Addr
	switch {
	case c.trip != nil && !t.Before(c.trip.from) && t.Before(c.trip.to):
		ip = c.trip.country.residentialAddr(rng) // hotel, café, friends
		kind = legitTravel
	case d.mobile && rng.Float64() < 0.5:
		ip = randomAddr(rng, c.carrier.pools[0])
	default:
		if rng.Float64() < pMoveBlock {
			pool := c.isp.pools[c.city]
			c.block = pool[rng.IntN(len(pool))]
		}
		if rng.Float64() < pNewHostIP {
			c.host = 1 + rng.IntN(254)
		}
		ip = addr(c.block, c.host)
		if !d.mobile {
			switch x := rng.Float64(); {
			case x < 0.12:
				ip = c.work
			case x < 0.15:
				ip = c.home.residentialAddr(rng)
			}
		}
	}
	a := attempt{userID: c.id, ip: ip, ua: d.userAgent(t), device: d.id, result: outcomeSuccess}
	tries := 1
	switch x := rng.Float64(); {
	case x < pMistypeTwice:
		tries = 3
	case x < pMistypeTwice+pMistype:
		tries = 2
	}
	if tries > 1 && kind == legitUsual {
		kind = legitMistype
	}
	var typo []attempt
	if rng.Float64() < pWrongEmail {
		typo = []attempt{{identifier: fmt.Sprintf("%s-typo-%d@mail.example", c.id, rng.IntN(1000)), ip: ip, ua: a.ua,
			device: d.id, result: outcomeUnknownUser}}
		if kind == legitUsual {
			kind = legitMistype
		}
	}
	out := make([]attempt, tries)
	for i := range out {
		out[i] = a
		if i < tries-1 {
			out[i].result = outcomeBadPassword
		}
	}
	return append(typo, out...), kind
}
