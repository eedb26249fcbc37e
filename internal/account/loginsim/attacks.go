package loginsim

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"
)

// Scenario names, in report order.
const (
	ScenarioNaive          = "takeover: naive attacker"
	ScenarioVPN            = "takeover: VPN attacker"
	ScenarioTargeted       = "takeover: targeted attacker"
	ScenarioStuffing       = "credential stuffing: botnet"
	ScenarioDistributed    = "credential stuffing: distributed"
	ScenarioSpraying       = "password spraying"
	ScenarioBruteForce     = "brute force: one account, one IP"
	ScenarioDistributedBF  = "brute force: one account, 100 IPs"
	scenarioLegitimatePref = "legitimate: "
)

// Attacker models of account takeover (Wiefling et al. 2019), each knowing
// the victim's password.
const (
	modelNaive = iota
	modelVPN
	modelTargeted
)

var takeoverScenarios = [...]string{modelNaive: ScenarioNaive, modelVPN: ScenarioVPN, modelTargeted: ScenarioTargeted}

// takeover returns one attacker's sign-in into victim at t: one attempt
// with the right password from a new device.
//
//   - naive: an address anywhere, weighted like the sources of credential
//     attacks, and a popular desktop browser;
//   - VPN: a VPN or hosting exit in the victim's country and a popular
//     desktop browser;
//   - targeted: the victim's own operator in the victim's city (another
//     line of it) and the exact User-Agent of the victim's main device.
func takeover(rng *rand.Rand, w *World, model int, victim *customer, t time.Time) attempt {
	a := attempt{userID: victim.id, device: fmt.Sprintf("x-%08x", rng.Uint32()), result: outcomeSuccess}
	switch model {
	case modelNaive:
		a.ip = w.naiveCountry(rng).anyAddr(rng)
		a.ua = randomBrowser(rng, false)
	case modelVPN:
		vpn := victim.home.hosting[rng.IntN(len(victim.home.hosting))]
		a.ip = randomAddr(rng, vpn.pools[0])
		a.ua = randomBrowser(rng, false)
	case modelTargeted:
		a.ip = randomAddr(rng, victim.isp.pools[victim.city])
		a.ua = victim.mainDevice().userAgent(t)
	}
	return a
}

// wave is a stream of single attempts of one attack.
type wave struct {
	scenario string
	start    time.Time
	every    time.Duration
	attempts []attempt
}

// leakedList returns n credentials of a leaked list tried on the shop:
// mostly e-mail addresses without an account here, some accounts with a
// password reused elsewhere (hit) and many with another password.
func leakedList(rng *rand.Rand, cs []*customer, n int, tag string) []attempt {
	out := make([]attempt, n)
	for i := range out {
		switch x := rng.Float64(); {
		case x < 0.6:
			out[i] = attempt{identifier: fmt.Sprintf("%s-%d@mail.example", tag, i), result: outcomeUnknownUser}
		case x < 0.98:
			out[i] = attempt{userID: cs[rng.IntN(len(cs))].id, result: outcomeBadPassword}
		default:
			out[i] = attempt{userID: cs[rng.IntN(len(cs))].id, result: outcomeSuccess}
		}
	}
	return out
}

// attackWaves draws the mass attacks of the measured weeks.
func attackWaves(rng *rand.Rand, w *World, cs []*customer, measure, end time.Time) []wave {
	at := func() time.Time {
		return measure.Add(time.Duration(rng.Float64() * float64(end.Sub(measure)-3*time.Hour)))
	}
	topChrome := browsers[0].ua
	var waves []wave

	// A botnet of 25 rented servers works through a leaked list at 5
	// attempts per second, sending no cookie.
	bots := make([]netip.Addr, 25)
	for i := range bots {
		bots[i] = randomAddr(rng, w.countries[rng.IntN(len(w.countries))].hosting[0].pools[0])
	}
	st := wave{scenario: ScenarioStuffing, start: at(), every: 200 * time.Millisecond, attempts: leakedList(rng, cs, 3000, "botnet")}
	for i := range st.attempts {
		st.attempts[i].ip, st.attempts[i].ua = bots[rng.IntN(len(bots))], topChrome
	}
	waves = append(waves, st)

	// Residential proxies: 600 home lines across the world, at most a few
	// attempts each, over two hours, every attempt with a fresh cookie and
	// the most common browser's User-Agent.
	proxies := make([]netip.Addr, 600)
	for i := range proxies {
		proxies[i] = w.naiveCountry(rng).residentialAddr(rng)
	}
	ds := wave{scenario: ScenarioDistributed, start: at(), every: 2400 * time.Millisecond, attempts: leakedList(rng, cs, 3000, "proxies")}
	for i := range ds.attempts {
		ds.attempts[i].ip, ds.attempts[i].ua = proxies[(i*7)%len(proxies)], topChrome
		ds.attempts[i].device = fmt.Sprintf("p-%08x", rng.Uint32())
	}
	waves = append(waves, ds)

	// Password spraying: one common password on 1,500 accounts from 40
	// servers in an hour; it is some customers' password.
	sp := wave{scenario: ScenarioSpraying, start: at(), every: 2400 * time.Millisecond}
	sprayers := make([]netip.Addr, 40)
	for i := range sprayers {
		sprayers[i] = w.naiveCountry(rng).anyAddr(rng)
	}
	for range 1500 {
		result := outcomeBadPassword
		if rng.Float64() < 0.01 {
			result = outcomeSuccess
		}
		sp.attempts = append(sp.attempts, attempt{userID: cs[rng.IntN(len(cs))].id, ip: sprayers[rng.IntN(len(sprayers))],
			ua: topChrome, password: "5baa6", result: result})
	}
	waves = append(waves, sp)

	// Brute force: 5 accounts, each from one server, 200 guesses 3 s apart;
	// the 150th is right.
	for range 5 {
		victim := cs[rng.IntN(len(cs))]
		ip := w.naiveCountry(rng).anyAddr(rng)
		bf := wave{scenario: ScenarioBruteForce, start: at(), every: 3 * time.Second}
		for g := range 200 {
			result := outcomeBadPassword
			if g == 149 {
				result = outcomeSuccess
			}
			bf.attempts = append(bf.attempts, attempt{userID: victim.id, ip: ip, ua: "python-requests/2.32.3",
				password: fmt.Sprintf("%05x", rng.IntN(1<<20)), result: result})
		}
		waves = append(waves, bf)
	}

	// Distributed brute force: one account, 300 guesses from 100
	// addresses, 10 s apart; the 250th is right.
	victim := cs[rng.IntN(len(cs))]
	many := make([]netip.Addr, 100)
	for i := range many {
		many[i] = w.naiveCountry(rng).anyAddr(rng)
	}
	db := wave{scenario: ScenarioDistributedBF, start: at(), every: 10 * time.Second}
	for g := range 300 {
		result := outcomeBadPassword
		if g == 249 {
			result = outcomeSuccess
		}
		db.attempts = append(db.attempts, attempt{userID: victim.id, ip: many[g%len(many)], ua: topChrome,
			device: fmt.Sprintf("b-%08x", rng.Uint32()), password: fmt.Sprintf("%05x", rng.IntN(1<<20)), result: result})
	}
	waves = append(waves, db)
	return waves
}
