// Package loginsim is a seeded simulation of a shop's sign-ins — its
// customers' ordinary logins, mistyped passwords, new devices and travel,
// and the attacks on them: account takeover by attackers who know the
// password in the three attacker models of Wiefling et al. ("Is This
// Really You?", IFIP SEC 2019: naive, VPN, targeted), credential stuffing
// from one botnet and spread across hundreds of residential addresses,
// password spraying and brute force — run through the real decision engine
// the way a shop calls it, and measured (`shopguard eval account`).
//
// The simulated world (countries, cities, network operators, address
// blocks, browsers) is invented but shaped like a European shop's; its
// assumptions are listed in docs/account-eval.md, so that the figures can
// be judged.
package loginsim

import (
	"fmt"
	"math/rand/v2"
	"net/netip"

	"github.com/shopguard/shopguard/internal/geo"
)

// network is one network operator (autonomous system) in one country.
type network struct {
	asn     uint32
	country string
	kind    netKind
	// pools holds the /24 blocks (as the first three octets) per city
	// (residential) or one pool for the whole country (mobile, hosting).
	pools [][]uint32
}

type netKind int

const (
	residential netKind = iota
	mobile
	hosting
)

// country is one country of the world.
type country struct {
	code        string
	homeWeight  float64 // share of the shop's customers who live there
	naiveWeight float64 // share of naive attackers' addresses from there
	cities      int
	isps        []*network // residential, most popular first
	carriers    []*network // mobile
	hosting     []*network // VPN and hosting exits in this country
}

// World is the simulated Internet: it allocates address blocks to
// networks and answers geolocation lookups for them (an engine.Locator).
type World struct {
	countries []*country
	blocks    map[uint32]geo.Location // /24 (first three octets) → location
	next      uint32                  // next free /24
}

// Lookup returns the country and network operator of ip (the zero
// Location for addresses outside the world).
func (w *World) Lookup(ip netip.Addr) geo.Location {
	if !ip.Is4() {
		return geo.Location{}
	}
	b := ip.As4()
	return w.blocks[uint32(b[0])<<16|uint32(b[1])<<8|uint32(b[2])]
}

// block allocates a new /24 to n at loc (whose network fields it sets).
func (w *World) block(n *network, loc geo.Location) uint32 {
	b := w.next
	w.next++
	loc.Country, loc.ASN, loc.ASOrg = n.country, n.asn, fmt.Sprintf("AS%d %s", n.asn, n.country)
	w.blocks[b] = loc
	return b
}

// addr is an address in block b with host part h (1..254).
func addr(b uint32, h int) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(b >> 16), byte(b >> 8), byte(b), byte(h)})
}

// Home-market and attacker weights per country: the shop sells mostly in
// the German-speaking countries; naive attackers come from anywhere, in
// proportions shaped like the sources of credential attacks reported by
// CDN operators.
var countryTable = []struct {
	code          string
	home, naive   float64
	cities, isps  int
	carriers, vpn int
	// lat, lon locate the capital; the other cities lie within spread
	// degrees of it.
	lat, lon, spread float64
}{
	{"DE", 0.55, 0.04, 12, 4, 3, 4, 52.52, 13.40, 2.5},
	{"AT", 0.10, 0.01, 6, 3, 2, 2, 48.21, 16.37, 1.5},
	{"CH", 0.08, 0.01, 6, 3, 2, 2, 46.95, 7.45, 1},
	{"NL", 0.05, 0.05, 6, 3, 2, 4, 52.37, 4.90, 1},
	{"FR", 0.05, 0.04, 8, 3, 2, 3, 48.86, 2.35, 3},
	{"PL", 0.04, 0.03, 6, 3, 2, 2, 52.23, 21.01, 2.5},
	{"GB", 0.04, 0.05, 8, 3, 2, 3, 51.51, -0.13, 2.5},
	{"IT", 0.03, 0.02, 6, 3, 2, 2, 41.90, 12.50, 3},
	{"ES", 0.03, 0.02, 6, 3, 2, 2, 40.42, -3.70, 3},
	{"US", 0.03, 0.25, 10, 4, 3, 5, 38.91, -77.04, 12},
	{"RU", 0, 0.10, 6, 3, 2, 2, 55.76, 37.62, 10},
	{"CN", 0, 0.10, 8, 3, 2, 2, 39.90, 116.40, 10},
	{"BR", 0, 0.08, 6, 3, 2, 2, -15.79, -47.88, 8},
	{"IN", 0, 0.07, 6, 3, 2, 2, 28.61, 77.21, 8},
	{"VN", 0, 0.05, 4, 2, 2, 1, 21.03, 105.85, 3},
	{"UA", 0, 0.04, 4, 2, 2, 1, 50.45, 30.52, 3},
	{"ID", 0, 0.04, 4, 2, 2, 1, -6.21, 106.85, 5},
}

// Accuracy radii of the simulated geolocation: a residential line is
// placed in its city; a mobile or hosting address only in its country
// (at the capital), as GeoLite2 places them.
const (
	cityAccuracyKM    = 20
	countryAccuracyKM = 500
)

// Address blocks per pool.
const (
	blocksPerCityISP = 256 // a residential operator's blocks in one city
	blocksPerCarrier = 48  // a mobile operator's carrier-grade NAT blocks
	blocksPerVPN     = 6   // a VPN or hosting provider's exits in a country
)

// NewWorld builds the world from seed.
func NewWorld(seed uint64) *World {
	rng := rand.New(rand.NewPCG(seed, 0x776f726c64))
	w := &World{blocks: map[uint32]geo.Location{}, next: 11 << 16}
	asn := uint32(64600)
	// newNet makes an operator with one pool of per blocks at each of locs.
	newNet := func(c *country, kind netKind, locs []geo.Location, per int) *network {
		asn += 1 + uint32(rng.IntN(40))
		n := &network{asn: asn, country: c.code, kind: kind, pools: make([][]uint32, len(locs))}
		for p, loc := range locs {
			for range per {
				n.pools[p] = append(n.pools[p], w.block(n, loc))
			}
		}
		return n
	}
	for _, t := range countryTable {
		c := &country{code: t.code, homeWeight: t.home, naiveWeight: t.naive, cities: t.cities}
		capital := []geo.Location{{Latitude: t.lat, Longitude: t.lon, AccuracyKM: countryAccuracyKM}}
		cities := make([]geo.Location, t.cities)
		for i := range cities {
			cities[i] = geo.Location{City: fmt.Sprintf("%s city %d", t.code, i), AccuracyKM: cityAccuracyKM,
				Latitude: t.lat, Longitude: t.lon}
			if i > 0 {
				cities[i].Latitude += (rng.Float64()*2 - 1) * t.spread
				cities[i].Longitude += (rng.Float64()*2 - 1) * t.spread
			}
		}
		for range t.isps {
			c.isps = append(c.isps, newNet(c, residential, cities, blocksPerCityISP))
		}
		for range t.carriers {
			c.carriers = append(c.carriers, newNet(c, mobile, capital, blocksPerCarrier))
		}
		for range t.vpn {
			c.hosting = append(c.hosting, newNet(c, hosting, capital, blocksPerVPN))
		}
		w.countries = append(w.countries, c)
	}
	return w
}

// pick returns an index drawn with the given weights.
func pick(rng *rand.Rand, n int, weight func(i int) float64) int {
	total := 0.0
	for i := range n {
		total += weight(i)
	}
	x := rng.Float64() * total
	for i := range n {
		x -= weight(i)
		if x < 0 {
			return i
		}
	}
	return n - 1
}

// zipf weighs the i-th most popular of several choices.
func zipf(i int) float64 { return 1 / float64(i+1) }

// homeCountry draws a customer's country.
func (w *World) homeCountry(rng *rand.Rand) *country {
	return w.countries[pick(rng, len(w.countries), func(i int) float64 { return w.countries[i].homeWeight })]
}

// naiveCountry draws a naive attacker's country.
func (w *World) naiveCountry(rng *rand.Rand) *country {
	return w.countries[pick(rng, len(w.countries), func(i int) float64 { return w.countries[i].naiveWeight })]
}

// randomAddr returns a random address of a random block of pool.
func randomAddr(rng *rand.Rand, pool []uint32) netip.Addr {
	return addr(pool[rng.IntN(len(pool))], 1+rng.IntN(254))
}

// residentialAddr returns an address of a popular residential operator of
// c in a random city.
func (c *country) residentialAddr(rng *rand.Rand) netip.Addr {
	isp := c.isps[pick(rng, len(c.isps), zipf)]
	return randomAddr(rng, isp.pools[pick(rng, c.cities, zipf)])
}

// anyAddr returns an address of any operator of c: residential, mobile or
// hosting, as an attacker's rented or infected machine would have.
func (c *country) anyAddr(rng *rand.Rand) netip.Addr {
	switch x := rng.Float64(); {
	case x < 0.5:
		return c.residentialAddr(rng)
	case x < 0.7:
		return randomAddr(rng, c.carriers[rng.IntN(len(c.carriers))].pools[0])
	default:
		return randomAddr(rng, c.hosting[rng.IntN(len(c.hosting))].pools[0])
	}
}
