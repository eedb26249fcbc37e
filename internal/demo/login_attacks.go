package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// User agents of the attackers' tools. Bots ship one hard-coded browser
// string, often a release or two old; none of the shop's customers uses
// these exact ones.
const (
	// attackerAgent is the browser the takeover attackers and the brute
	// forcers use.
	attackerAgent = "Mozilla/5.0 (X11; Linux x86_64; rv:145.0) Gecko/20100101 Firefox/145.0"
	sprayerAgent  = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
	botnetAgent   = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.5993.117 Safari/537.36"
)

// pause returns how long to wait after an attempt so that the left
// attempts still to make spread evenly until the given fraction of the
// run, ±50% (at least 20 ms: a bot waits for the answer, then goes on).
func (st *Stage) pause(rng *rand.Rand, until float64, left int) time.Duration {
	remaining := time.Duration(until*float64(st.sim.cfg.Duration)) - st.sim.Elapsed()
	if left <= 0 || remaining <= 0 {
		return 20 * time.Millisecond
	}
	mean := float64(remaining) / float64(left)
	return max(time.Duration(mean*(0.5+rng.Float64())), 20*time.Millisecond)
}

// comboEntry is one line of a combo list bought after a breach elsewhere:
// most e-mails have no account here, some belong to customers who used
// another password, and a few customers reused the leaked one. leaked
// makes the passwords of the lines that do not work here.
func comboEntry(rng *rand.Rand, customers []*customer, leaked func(*rand.Rand) string) (email, password string) {
	switch x := rng.Float64(); {
	case x < 0.6: // an account of another site
		email = fmt.Sprintf("%s.%s%d@%s", pick(rng, firstNames), pick(rng, lastNames), rng.IntN(1000), pick(rng, []string{"gmail.com", "outlook.com", "yahoo.com"}))
		password = leaked(rng)
	case x < 0.95: // a customer who used another password here
		c := customers[rng.IntN(len(customers))]
		email, password = c.Account.Email, leaked(rng)
	default: // a customer who reused the leaked password
		c := customers[rng.IntN(len(customers))]
		email, password = c.Account.Email, c.Password
	}
	return email, password
}

// summerPassword is the stuffing bot's stand-in for a leaked password.
func summerPassword(rng *rand.Rand) string { return fmt.Sprintf("Summer%d!", 2000+rng.IntN(25)) }

// leakedPassword is a password as breaches show them: mostly a word or a
// name with digits and a symbol, each nearly unique; a few of the most
// popular ones recur.
func leakedPassword(rng *rand.Rand) string {
	if rng.Float64() < 0.03 {
		return pick(rng, []string{"123456789", "12345678", "password1", "qwerty123"})
	}
	word := pick(rng, []string{"sunshine", "dragon", "monkey", "shadow", "princess", "football", "flower", "summer",
		"hello", "freedom", "master", "pepper", "coffee", "tigger", "bailey", "secret", "lovely", "winter"})
	if rng.Float64() < 0.4 {
		word = pick(rng, firstNames) + pick(rng, lastNames)
	}
	if rng.Float64() < 0.5 {
		word = titleCase(word)
	}
	return word + fmt.Sprint(rng.IntN(10000)) + pick(rng, []string{"", "", "!", ".", "#", "?"})
}

// runCredentialStuffing plays a bot with a combo list (see comboEntry). It
// works through the list from a handful of addresses in one hosting
// network, one browser profile per address.
func runCredentialStuffing(ctx context.Context, st *Stage) {
	if !st.WaitUntil(ctx, 0.2) {
		return
	}
	rng := st.Rand()
	truth := Truth{Actor: "stuffer-1", Scenario: "credential_stuffing", Fraud: true}
	network := [3]byte{91, byte(rng.IntN(256)), byte(rng.IntN(256))}
	var browsers []*Browser
	for i := range 4 {
		ip := fmt.Sprintf("%d.%d.%d.%d", network[0], network[1], network[2], 10+i)
		browsers = append(browsers, st.NewBrowser(truth, "", ip, "python-requests/2.31.0"))
	}
	for i := range 200 {
		email, password := comboEntry(rng, st.sim.pop.customers, summerPassword)
		if _, err := browsers[i%len(browsers)].Login(ctx, email, password); err != nil {
			return
		}
		if !sleep(ctx, time.Duration(60+rng.IntN(120))*time.Millisecond) {
			return
		}
	}
}

// runDistributedStuffing plays the same kind of combo list tried low and
// slow through a botnet of home routers: every address in another network
// and often another country makes one or two attempts and is never seen
// again, so nothing counted per address or network adds up. What the
// attempts share is the bot's browser string, and, across the shop, a
// burst of failures and of e-mails that have no account.
func runDistributedStuffing(ctx context.Context, st *Stage) {
	if !st.WaitUntil(ctx, 0.3) {
		return
	}
	rng := st.Rand()
	truth := Truth{Actor: "botnet-1", Scenario: "distributed_stuffing", Fraud: true}
	everywhere := append(countries[:len(countries):len(countries)], fraudCountries...)
	attempts := 200 + rng.IntN(40)
	var b *Browser
	left := 0
	for i := range attempts {
		if left == 0 { // the next router of the botnet
			b = st.NewBrowser(truth, "", randomIP(rng, pickCountry(rng, everywhere).Octet), botnetAgent)
			left = 1 + rng.IntN(2)
		}
		left--
		email, password := comboEntry(rng, st.sim.pop.customers, leakedPassword)
		if _, err := b.Login(ctx, email, password); err != nil {
			return
		}
		if !sleep(ctx, st.pause(rng, 0.95, attempts-i-1)) {
			return
		}
	}
}

// runAccountTakeover plays attackers who phished a few customers'
// passwords. Each victim signs in as usual from their own device and home
// line (a customer's own sign-in); a few seconds later an attacker signs in
// with the right password from a computer of their own: from abroad, or
// through a VPN exit in the victim's country.
func runAccountTakeover(ctx context.Context, st *Stage) {
	if !st.WaitUntil(ctx, 0.1) {
		return
	}
	rng := st.Rand()
	customers := st.sim.pop.customers
	for i := range 6 {
		c := customers[rng.IntN(len(customers))]
		dev := c.Devices[0]
		own := st.NewBrowser(Truth{Actor: c.Account.ID, Scenario: "shoppers"}, dev.ID, c.HomeIPs[0], dev.UserAgent)
		if _, err := own.Login(ctx, c.Account.Email, c.Password); err != nil {
			return
		}
		if !st.Think(ctx, rng, time.Second, 3*time.Second) {
			return
		}
		ip := randomIP(rng, pickCountry(rng, countries).Octet) // abroad
		if i%2 == 1 {
			ip = randomIP(rng, c.Country.Octet) // a VPN exit at home
		}
		truth := Truth{Actor: fmt.Sprintf("phisher-%d", i), Scenario: "account_takeover", Fraud: true}
		if _, err := st.NewBrowser(truth, "", ip, attackerAgent).Login(ctx, c.Account.Email, c.Password); err != nil {
			return
		}
		if !st.Think(ctx, rng, time.Second, 3*time.Second) {
			return
		}
	}
}

// sprayPasswords are the popular passwords a sprayer tries, most popular
// first.
func sprayPasswords() []string { return []string{"Password123!", "Welcome2025!", "Qwerty123456"} }

// runPasswordSpraying plays an attacker with a list of the shop's
// customers' e-mail addresses (from a newsletter list that leaked; a few
// are stale) who tries one popular password on every address, then the
// next: one or two attempts per account stay below any lockout. Each
// attempt goes out through another residential proxy in the shop's
// countries, without cookies.
func runPasswordSpraying(ctx context.Context, st *Stage) {
	if !st.WaitUntil(ctx, 0.15) {
		return
	}
	rng := st.Rand()
	truth := Truth{Actor: "sprayer-1", Scenario: "password_spraying", Fraud: true}
	customers := st.sim.pop.customers
	var targets []string
	for _, i := range rng.Perm(len(customers))[:min(50, len(customers))] {
		targets = append(targets, customers[i].Account.Email)
	}
	for i := range 5 { // customers who left: their accounts are gone
		targets = append(targets, fmt.Sprintf("%s.%s%d@%s", pick(rng, firstNames), pick(rng, lastNames), 90000+i, pick(rng, countries[0].Mail)))
	}
	var proxies []string
	for range 40 {
		proxies = append(proxies, randomIP(rng, pickCountry(rng, countries).Octet))
	}
	passwords := sprayPasswords()
	total, n := len(passwords)*len(targets), 0
	for _, pw := range passwords {
		rng.Shuffle(len(targets), func(i, j int) { targets[i], targets[j] = targets[j], targets[i] })
		for _, email := range targets {
			b := st.NewBrowser(truth, "", proxies[n%len(proxies)], sprayerAgent)
			if _, err := b.Login(ctx, email, pw); err != nil {
				return
			}
			n++
			if !sleep(ctx, st.pause(rng, 0.9, total-n)) {
				return
			}
		}
	}
}

// runBruteForce plays two attackers who each want one particular
// customer's account: each works through a word list (popular passwords
// and variations of the customer's name) from one rented server, and keeps
// going whatever the shop answers. Once the attacker is done, the customer
// signs in as usual from home.
func runBruteForce(ctx context.Context, st *Stage) {
	rng := st.Rand()
	customers := st.sim.pop.customers
	for i := range 2 {
		start := 0.15 + 0.4*float64(i)
		if !st.WaitUntil(ctx, start) {
			break
		}
		victim := customers[rng.IntN(len(customers))]
		st.Go(func(rng *rand.Rand, id int64) { bruteForcer(ctx, st, rng, id, victim, start+0.3) })
	}
	st.Wait()
}

func bruteForcer(ctx context.Context, st *Stage, rng *rand.Rand, id int64, victim *customer, until float64) {
	truth := Truth{Actor: fmt.Sprintf("brute-forcer-%d", id), Scenario: "brute_force", Fraud: true}
	ip := fmt.Sprintf("193.%d.%d.%d", rng.IntN(256), rng.IntN(256), 2+rng.IntN(250)) // a rented server
	b := st.NewBrowser(truth, "", ip, attackerAgent)
	words := guesses(rng, victim, 40+rng.IntN(20))
	for i, pw := range words {
		resp, err := b.Login(ctx, victim.Account.Email, pw)
		if err != nil || resp.Account == "signed_in" {
			return
		}
		if !sleep(ctx, st.pause(rng, until, len(words)-i-1)) {
			return
		}
	}
	if !st.Think(ctx, rng, 5*time.Second, 20*time.Second) {
		return
	}
	dev := victim.Devices[0]
	own := st.NewBrowser(Truth{Actor: victim.Account.ID, Scenario: "shoppers"}, dev.ID, victim.HomeIPs[0], dev.UserAgent)
	_, _ = own.Login(ctx, victim.Account.Email, victim.Password)
}

// guesses returns n distinct passwords to try on c's account: variations
// of the name with years and symbols, and popular passwords, shuffled.
func guesses(rng *rand.Rand, c *customer, n int) []string {
	first, last, _ := strings.Cut(strings.ToLower(c.Account.Name), " ")
	common := []string{"123456789", "password1", "Password123!", "qwerty123", "iloveyou1", "Welcome1!", "Passw0rd!",
		"letmein123", "Sommer2025!", "football1", "Hallo1234", "azerty123", "Passwort1!", "12345678910"}
	seen := map[string]bool{}
	var out []string
	add := func(pw string) {
		if !seen[pw] {
			seen[pw] = true
			out = append(out, pw)
		}
	}
	for _, pw := range common {
		add(pw)
	}
	for len(out) < 3*n {
		name := pick(rng, []string{first, last, titleCase(first), titleCase(last), first + last, titleCase(first) + titleCase(last)})
		year := fmt.Sprint(1960 + rng.IntN(66))
		add(name + pick(rng, []string{year, year[2:], "123", "1", year + "!", "!" + year}))
	}
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out[:n]
}
