package demo

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// Scenario is one kind of simulated traffic. Run starts the scenario's
// actors on the stage, returns when the run's context ends and they have
// stopped. Later capabilities add theirs to Scenarios (credential
// stuffing, account takeover, fake signups, review spam, phishing
// messages, floods, scrapers).
type Scenario struct {
	Name        string
	Description string
	// Fraud is whether the scenario's actors are attackers.
	Fraud bool
	Run   func(ctx context.Context, st *Stage)
}

// Scenarios returns the built-in scenarios in the order they are reported.
func Scenarios() []Scenario {
	return []Scenario{
		{Name: "shoppers", Description: "customers browsing, searching, signing up and buying with their own cards", Run: runShoppers},
		{Name: "card_testing", Description: "a bot checks stolen card numbers with many small orders from a few devices and one network", Fraud: true, Run: runCardTesting},
		{Name: "stolen_card", Description: "fraudsters buy resellable goods with real customers' stolen cards, from new devices abroad", Fraud: true, Run: runStolenCard},
		{Name: "credential_stuffing", Description: "a bot tries a leaked list of e-mails and passwords (mostly other sites' accounts, some real customers with their real password) from a few addresses", Fraud: true, Run: runCredentialStuffing},
		{Name: "account_takeover", Description: "attackers who phished customers' passwords sign in with them from their own computers, abroad or through a VPN at home", Fraud: true, Run: runAccountTakeover},
		{Name: "password_spraying", Description: "an attacker tries a few popular passwords, one at a time, on a list of customers' e-mail addresses, each attempt through another residential proxy", Fraud: true, Run: runPasswordSpraying},
		{Name: "brute_force", Description: "attackers each try a word list of passwords (popular ones, the customer's name with years) on one customer's account from one server", Fraud: true, Run: runBruteForce},
		{Name: "distributed_stuffing", Description: "a botnet tries a leaked list of e-mails and passwords low and slow: one or two attempts from each of a hundred or more home routers in many networks, one browser string", Fraud: true, Run: runDistributedStuffing},
		{Name: "review_spam", Description: "customers review, ask and answer on product pages while a review farm pastes one 5-star review from 20-40 fresh accounts, a spammer posts listings with messenger numbers, off-platform payment and a lookalike link, and a customer posts a threat", Fraud: true, Run: runReviewSpam},
		{Name: "http_flood", Description: "a botnet of 256 rented servers in 8 networks floods the shop with page views for the middle of the run, 400 a second in all, each address no faster than a quick person", Fraud: true, Run: runHTTPFlood},
		{Name: "scraper", Description: "a script copies the catalogue, every product page again and again, 40 pages a second from four addresses of one network", Fraud: true, Run: runScraper},
		{Name: "phishing_campaign", Description: "an attacker texts and e-mails customers in the shop's name with links to lookalikes of its domain; some customers forward what they got (and some of the shop's own messages) to the shop's report page", Fraud: true, Run: runPhishingCampaign},
	}
}

// ScenarioNames lists the built-in scenarios' names.
func ScenarioNames() []string {
	var out []string
	for _, s := range Scenarios() {
		out = append(out, s.Name)
	}
	return out
}

func scenariosByName(names []string) ([]Scenario, error) {
	all := Scenarios()
	if len(names) == 0 {
		return all, nil
	}
	var out []Scenario
	for _, n := range names {
		i := slices.IndexFunc(all, func(s Scenario) bool { return s.Name == n })
		if i < 0 {
			return nil, fmt.Errorf("demo: unknown scenario %q; known: %s", n, strings.Join(ScenarioNames(), ", "))
		}
		if !slices.ContainsFunc(out, func(s Scenario) bool { return s.Name == n }) {
			out = append(out, all[i])
		}
	}
	return out, nil
}

// everyday is what customers usually buy; resale goods are rarer.
var everyday = []string{"phone-case", "usb-c-cable", "coffee-beans", "french-press", "chef-knife", "water-bottle",
	"rain-jacket", "hiking-boots", "paperback", "cookbook", "coffee-beans", "paperback", "tent", "sticker-pack"}
var treats = []string{"headphones", "smartwatch", "gift-card-50", "phone", "laptop", "gift-card-200"}

func shoppingBasket(rng *rand.Rand) []string {
	n := 1 + rng.IntN(3)
	var out []string
	for range n {
		if rng.Float64() < 0.06 {
			out = append(out, pick(rng, treats))
		} else {
			out = append(out, pick(rng, everyday))
		}
	}
	return out
}

func basketAmount(c *Catalog, items []string) int64 {
	var total int64
	for _, id := range items {
		p, _ := c.Product(id)
		total += p.PriceMinor
	}
	return total
}

// History generates the orders the shop took over the 60 days before now,
// oldest first, with ids: what a shop adopting shopguard imports so that
// its customers are known from the first minute. Besides the customers'
// own orders (a few as guests) it holds new visitors' guest orders and the
// stolen-card orders the shop was hit by (one per 20 customers); chargebacks returns the ids of
// those, whose cardholders disputed them.
func (s *Sim) History(catalog *Catalog, now time.Time) (orders []Order, chargebacks []string) {
	rng := rand.New(rand.NewPCG(s.cfg.Seed, 1))
	var out []Order
	var fraud []bool
	when := func() time.Time { return now.Add(-time.Duration(rng.Int64N(int64(60 * 24 * time.Hour)))) }
	fill := func(o *Order, items []string) {
		for _, id := range items {
			p, _ := catalog.Product(id)
			o.Items = append(o.Items, OrderItem{Product: p, Quantity: 1})
			o.AmountMinor += p.PriceMinor
		}
	}
	for _, c := range s.pop.customers {
		n := int(math.Round(c.Activity * 1.2 * rng.Float64() * 2))
		for range n {
			at := when()
			if at.Before(c.Account.CreatedAt) {
				continue
			}
			o := Order{CreatedAt: at, AccountID: c.Account.ID, Email: c.Account.Email, Card: c.Cards[0],
				Billing: c.Account.Address, Shipping: c.Account.Address, IP: c.HomeIPs[0]}
			if rng.Float64() < 0.05 {
				o.AccountID = "" // a guest checkout by a customer who did not sign in
			}
			if len(c.Cards) > 1 && rng.Float64() < 0.3 {
				o.Card = c.Cards[1]
			}
			dev := pick(rng, c.Devices)
			o.DeviceID, o.UserAgent = dev.ID, dev.UserAgent
			fill(&o, shoppingBasket(rng))
			out, fraud = append(out, o), append(fraud, false)
		}
	}
	// New visitors who bought as guests, with their own cards.
	for i := range len(s.pop.customers) / 8 {
		home := pickCountry(rng, countries)
		dev := newDevice(rng, rng.Float64() < 0.55)
		addr := randomAddress(rng, home)
		o := Order{CreatedAt: when(), Email: fmt.Sprintf("guest%d@%s", i, pick(rng, home.Mail)),
			Card:    s.proc.Issue(cardNumber(rng, home), home.Code, false),
			Billing: addr, Shipping: addr, IP: randomIP(rng, home.Octet), DeviceID: dev.ID, UserAgent: dev.UserAgent}
		fill(&o, shoppingBasket(rng))
		out, fraud = append(out, o), append(fraud, false)
	}
	// Stolen cards: resellable goods, fresh devices and e-mails, drop addresses.
	for i := range len(s.pop.customers) / 20 {
		o := pastFraud(rng, s, i, when())
		fill(&o, fraudBasket(rng))
		out, fraud = append(out, o), append(fraud, true)
	}
	idx := make([]int, len(out))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return out[a].CreatedAt.Compare(out[b].CreatedAt) })
	orders = make([]Order, len(out))
	// Ids depend only on the seed: importing the same history into the same
	// shopguard again (demo --data DIR, run twice) replays the first
	// decisions instead of counting every past order twice.
	for i, j := range idx {
		orders[i] = out[j]
		orders[i].ID = fmt.Sprintf("hist-s%d-%06d", s.cfg.Seed, i+1)
		if fraud[j] {
			chargebacks = append(chargebacks, orders[i].ID)
		}
	}
	return orders, chargebacks
}

// fraudBasket is what card fraudsters buy: goods that resell.
func fraudBasket(rng *rand.Rand) []string {
	loot := []string{pick(rng, treats)}
	if rng.Float64() < 0.4 {
		loot = append(loot, pick(rng, treats))
	}
	return loot
}

// pastFraud is a stolen-card order of the shop's past: either a customer's
// card used from abroad, or a card stolen elsewhere used from inside the
// country with a local drop address (the kind rules miss).
func pastFraud(rng *rand.Rand, s *Sim, i int, at time.Time) Order {
	dev := newDevice(rng, rng.Float64() < 0.4)
	first, last := pick(rng, firstNames), pick(rng, lastNames)
	o := Order{CreatedAt: at, DeviceID: dev.ID, UserAgent: dev.UserAgent}
	if rng.Float64() < 0.5 {
		victim := s.pop.customers[rng.IntN(len(s.pop.customers))]
		home := pickCountry(rng, fraudCountries)
		o.Card, o.Billing, o.Shipping = victim.Cards[0], victim.Account.Address, randomAddress(rng, home)
		o.IP, o.Email = randomIP(rng, home.Octet), fmt.Sprintf("%s%s%d@%s", first, last, i, pick(rng, home.Mail))
	} else {
		c := pickCountry(rng, countries)
		o.Card = s.proc.Issue(cardNumber(rng, c), c.Code, false)
		o.Billing, o.Shipping = randomAddress(rng, c), randomAddress(rng, c)
		o.IP, o.Email = randomIP(rng, c.Octet), fmt.Sprintf("%s.%s.%d@%s", first, last, 9000+i, pick(rng, c.Mail))
	}
	return o
}

// Accounts returns the simulated customers' accounts and passwords, for
// the shop to import.
func (s *Sim) Accounts() ([]Account, []string) {
	var as []Account
	var pws []string
	for _, c := range s.pop.customers {
		as = append(as, c.Account)
		pws = append(pws, c.Password)
	}
	return as, pws
}

// arrivals starts fn at exponential intervals (a Poisson process at rate
// per second) until ctx ends, then waits for every started actor.
func arrivals(ctx context.Context, st *Stage, rate float64, fn func(ctx context.Context, rng *rand.Rand, id int64)) {
	for {
		gap := time.Duration(st.rng.ExpFloat64() / rate * float64(time.Second))
		if !sleep(ctx, gap) {
			break
		}
		st.Go(func(rng *rand.Rand, id int64) { fn(ctx, rng, id) })
	}
	st.Wait()
}

// runShoppers plays legitimate traffic: existing customers (most) and new
// visitors who sign up or check out as guests.
func runShoppers(ctx context.Context, st *Stage) {
	catalog := NewCatalog()
	arrivals(ctx, st, st.sim.cfg.Rate, func(ctx context.Context, rng *rand.Rand, id int64) {
		if rng.Float64() < 0.08 {
			newVisitor(ctx, st, rng, id, catalog)
			return
		}
		returningCustomer(ctx, st, rng, st.sim.pop.pickActive(rng), catalog)
	})
}

func browse(ctx context.Context, st *Stage, b *Browser, rng *rand.Rand, products []string) bool {
	if _, err := b.Get(ctx, "/"); err != nil || !st.Think(ctx, rng, time.Second, 4*time.Second) {
		return false
	}
	if rng.Float64() < 0.3 {
		if _, err := b.Get(ctx, "/?q="+pick(rng, []string{"coffee", "jacket", "cable", "book", "boots", "gift"})); err != nil {
			return false
		}
	}
	for _, p := range products {
		if _, err := b.Get(ctx, "/products/"+p); err != nil || !st.Think(ctx, rng, 2*time.Second, 8*time.Second) {
			return false
		}
	}
	return true
}

func returningCustomer(ctx context.Context, st *Stage, rng *rand.Rand, c *customer, catalog *Catalog) {
	truth := Truth{Actor: c.Account.ID, Scenario: "shoppers"}
	dev := c.Devices[0]
	if len(c.Devices) > 1 && rng.Float64() < 0.35 {
		dev = c.Devices[1]
	}
	if rng.Float64() < st.sim.cfg.NewDeviceShare { // a new phone or a borrowed laptop
		dev = newDevice(rng, rng.Float64() < 0.5)
	}
	ip := pick(rng, c.HomeIPs)
	switch {
	case c.Trip != nil: // abroad for the whole run: the hotel's line
		ip = c.Trip.IP
	case rng.Float64() < 0.10: // on the move: mobile network at home
		ip = randomIP(rng, c.Country.Octet)
	}
	b := st.NewBrowser(truth, dev.ID, ip, dev.UserAgent)
	basket := shoppingBasket(rng)
	// Half the sessions end in a purchase; nobody buys twice within an hour.
	if !browse(ctx, st, b, rng, basket) || rng.Float64() >= 0.5 || !c.claimCheckout(st.sim.now(), time.Hour) {
		return
	}
	for _, p := range basket {
		if _, err := b.AddToCart(ctx, p, 1); err != nil {
			return
		}
	}
	if !st.Think(ctx, rng, 2*time.Second, 6*time.Second) {
		return
	}
	guest := rng.Float64() < 0.05
	if !guest {
		// Challenged, a customer with an authenticator app types its code;
		// one without (asked to confirm by a link the demo shop never
		// sends) is turned away and leaves without buying.
		if signedIn, ok := customerSignIn(ctx, st, b, rng, c); !signedIn || !ok {
			return
		}
	}
	if _, err := b.Get(ctx, "/checkout"); err != nil || !st.Think(ctx, rng, 4*time.Second, 12*time.Second) {
		return
	}
	card := c.Cards[0]
	if len(c.Cards) > 1 && rng.Float64() < 0.3 {
		card = c.Cards[1]
	}
	if rng.Float64() < 0.02 { // a new card of their own
		card = st.sim.proc.Issue(cardNumber(rng, c.Country), c.Country.Code, false)
	}
	shipping := c.Account.Address
	switch x := rng.Float64(); {
	case x < 0.02: // a gift to a friend in the same country
		shipping = randomAddress(rng, c.Country)
	case x < 0.03: // a gift abroad
		shipping = randomAddress(rng, pickCountry(rng, countries))
	}
	email := ""
	if guest {
		email = c.Account.Email
	}
	rec, err := b.Checkout(ctx, rng, checkoutForm(email, card, c.Account.Address, shipping), basketAmount(catalog, basket))
	if err != nil || rec.Status != StatusPaid || rng.Float64() >= 0.06 {
		return
	}
	// Some happy customers leave a review.
	if st.Think(ctx, rng, 2*time.Second, 6*time.Second) && !guest {
		_, _ = b.Post(ctx, "/products/"+basket[0]+"/reviews", map[string][]string{
			"rating": {fmt.Sprint(4 + rng.IntN(2))}, "text": {pick(rng, []string{"Great quality, arrived quickly.", "Exactly as described.", "Very happy with it."})}})
	}
}

// customerSignIn signs a customer in; some mistype their password once
// (a few twice) and try again. It reports whether the shop signed them in,
// and ok false when the run ends.
func customerSignIn(ctx context.Context, st *Stage, b *Browser, rng *rand.Rand, c *customer) (signedIn, ok bool) {
	typos := 0
	switch x := rng.Float64(); {
	case x < 0.01:
		typos = 2
	case x < 0.06:
		typos = 1
	}
	for range typos {
		if _, err := b.Login(ctx, c.Account.Email, mistype(rng, c.Password)); err != nil || !st.Think(ctx, rng, 2*time.Second, 5*time.Second) {
			return false, false
		}
	}
	resp, err := b.Login(ctx, c.Account.Email, c.Password)
	return resp.Account == "signed_in", err == nil
}

func newVisitor(ctx context.Context, st *Stage, rng *rand.Rand, id int64, catalog *Catalog) {
	home := pickCountry(rng, countries)
	truth := Truth{Actor: fmt.Sprintf("visitor-%d", id), Scenario: "shoppers"}
	dev := newDevice(rng, rng.Float64() < 0.55)
	b := st.NewBrowser(truth, "", randomIP(rng, home.Octet), dev.UserAgent)
	basket := shoppingBasket(rng)
	if !browse(ctx, st, b, rng, basket) {
		return
	}
	if rng.Float64() < 0.1 {
		_, _ = b.Post(ctx, "/support", map[string][]string{"email": {fmt.Sprintf("visitor%d@%s", id, pick(rng, home.Mail))},
			"subject": {"Delivery times"}, "message": {"How long does delivery to " + home.Code + " take?"}})
		return
	}
	if rng.Float64() >= 0.4 {
		return
	}
	first, last := pick(rng, firstNames), pick(rng, lastNames)
	email := fmt.Sprintf("%s.%s.v%d@%s", first, last, id, pick(rng, home.Mail))
	addr := randomAddress(rng, home)
	if rng.Float64() < 0.6 {
		if resp, err := b.Signup(ctx, email, titleCase(first)+" "+titleCase(last), fmt.Sprintf("new-pw-%x", rng.Uint64()), addr); err != nil || resp.Status != 200 {
			return
		}
		email = ""
	}
	for _, p := range basket {
		if _, err := b.AddToCart(ctx, p, 1); err != nil {
			return
		}
	}
	if !st.Think(ctx, rng, 4*time.Second, 12*time.Second) {
		return
	}
	card := st.sim.proc.Issue(cardNumber(rng, home), home.Code, rng.Float64() < 0.03)
	_, _ = b.Checkout(ctx, rng, checkoutForm(email, card, addr, addr), basketAmount(catalog, basket))
}

// runCardTesting plays one card-testing bot from a quarter of the run: it
// buys the cheapest product again and again with numbers from a stolen
// list (most of them dead), from one network and two devices.
func runCardTesting(ctx context.Context, st *Stage) {
	if !st.WaitUntil(ctx, 0.25) {
		return
	}
	rng := st.Rand()
	network := [3]byte{45, byte(rng.IntN(256)), byte(rng.IntN(256))} // a hosting provider's /24
	truth := Truth{Actor: "card-tester-1", Scenario: "card_testing", Fraud: true}
	var b *Browser
	attempts := 40 + rng.IntN(20)
	cartFull := false
	for i := range attempts {
		if i%15 == 0 { // a fresh browser profile now and then
			ip := fmt.Sprintf("%d.%d.%d.%d", network[0], network[1], network[2], 2+rng.IntN(8))
			b = st.NewBrowser(truth, "", ip, pick(rng, desktopAgents))
			if _, err := b.Get(ctx, "/products/sticker-pack"); err != nil {
				return
			}
			cartFull = false
		}
		if !cartFull { // an accepted order empties the cart
			if _, err := b.AddToCart(ctx, "sticker-pack", 1); err != nil {
				return
			}
			cartFull = true
		}
		issuer := pickCountry(rng, append(countries[:len(countries):len(countries)], fraudCountries...))
		card := st.sim.proc.Issue(cardNumber(rng, issuer), issuer.Code, rng.Float64() < 0.8)
		email := fmt.Sprintf("%s%d@%s", pick(rng, firstNames), rng.IntN(100000), pick(rng, []string{"mailinator.com", "yopmail.com", "gmail.com", "outlook.com"}))
		addr := randomAddress(rng, issuer)
		rec, err := b.Checkout(ctx, rng, checkoutForm(email, card, addr, addr), 199)
		if errors.Is(err, ErrRequestBudget) {
			return
		}
		cartFull = rec.Status == StatusBlocked || rec.Status == StatusDeclined
		if !sleep(ctx, time.Duration(150+rng.IntN(250))*time.Millisecond) {
			return
		}
	}
}

// runStolenCard plays fraudsters who bought real customers' card details
// (from a phishing kit or a breach elsewhere) and use them from their own
// devices abroad: some sign up, some check out as guests, all ship
// resellable goods to a drop address in their own country.
func runStolenCard(ctx context.Context, st *Stage) {
	rng := st.Rand()
	const fraudsters = 12
	for i := range fraudsters {
		if !st.WaitUntil(ctx, 0.3+0.55*float64(i)/fraudsters) {
			break
		}
		victim := st.sim.pop.customers[rng.IntN(len(st.sim.pop.customers))]
		st.Go(func(rng *rand.Rand, id int64) { stolenCardFraudster(ctx, st, rng, id, victim) })
	}
	st.Wait()
}

func stolenCardFraudster(ctx context.Context, st *Stage, rng *rand.Rand, id int64, victim *customer) {
	home := pickCountry(rng, fraudCountries)
	// A careful fraudster (4 in 10) uses a card stolen elsewhere, issued in
	// one of the shop's countries, through a proxy in that country, and
	// ships to a local drop: nothing the baseline rules look for.
	careful := rng.Float64() < 0.4
	card := victim.Cards[0]
	if careful {
		home = pickCountry(rng, countries)
		card = st.sim.proc.Issue(cardNumber(rng, home), home.Code, false)
	}
	truth := Truth{Actor: fmt.Sprintf("fraudster-%d", id), Scenario: "stolen_card", Fraud: true}
	dev := newDevice(rng, rng.Float64() < 0.4)
	b := st.NewBrowser(truth, "", randomIP(rng, home.Octet), dev.UserAgent)
	loot := fraudBasket(rng)
	if !browse(ctx, st, b, rng, loot) {
		return
	}
	first, last := pick(rng, firstNames), pick(rng, lastNames)
	email := fmt.Sprintf("%s%s%d@%s", first, last, rng.IntN(1000), pick(rng, home.Mail))
	drop := randomAddress(rng, home)
	if !careful && rng.Float64() < 0.5 {
		if resp, err := b.Signup(ctx, email, titleCase(first)+" "+titleCase(last), fmt.Sprintf("x-%x", rng.Uint64()), drop); err != nil || resp.Status != 200 {
			return
		}
		email = ""
	}
	catalog := NewCatalog()
	for _, p := range loot {
		if _, err := b.AddToCart(ctx, p, 1); err != nil {
			return
		}
	}
	if !st.Think(ctx, rng, 2*time.Second, 5*time.Second) {
		return
	}
	billing := victim.Account.Address // from the phishing kit
	if careful || rng.Float64() < 0.35 {
		billing = drop
	}
	rec, err := b.Checkout(ctx, rng, checkoutForm(email, card, billing, drop), basketAmount(catalog, loot))
	if err != nil || rec.Status == StatusPaid || rng.Float64() >= 0.5 {
		return
	}
	// Stopped: try once more with something cheaper.
	if !st.Think(ctx, rng, 3*time.Second, 8*time.Second) {
		return
	}
	for _, p := range loot {
		if _, err := b.Post(ctx, "/cart", map[string][]string{"product": {p}, "set": {"0"}}); err != nil {
			return
		}
	}
	if _, err := b.AddToCart(ctx, "gift-card-50", 1); err != nil {
		return
	}
	_, _ = b.Checkout(ctx, rng, checkoutForm(email, card, billing, drop), basketAmount(catalog, []string{"gift-card-50"}))
}
