package botscore

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// SimConfig says what traffic Simulate makes. The zero value of a field
// takes its default.
type SimConfig struct {
	// Seed makes the traffic repeatable: the same config gives the same
	// sessions, request for request.
	Seed uint64
	// Sessions is how many sessions (clients) to make (default
	// DefaultSessions).
	Sessions int
	// BotShare is the share of bot sessions, 0..1 (default
	// DefaultBotShare).
	BotShare float64
	// Start is the earliest a session may begin; sessions begin within a
	// day of it (default 2025-01-01 UTC).
	Start time.Time
}

// Defaults of SimConfig.
const (
	DefaultSessions = 12000
	DefaultBotShare = 0.45
)

func (c SimConfig) withDefaults() SimConfig {
	if c.Sessions <= 0 {
		c.Sessions = DefaultSessions
	}
	if c.BotShare <= 0 || c.BotShare > 1 {
		c.BotShare = DefaultBotShare
	}
	if c.Start.IsZero() {
		c.Start = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return c
}

// EventKind tells what an Event is.
type EventKind uint8

// The kinds of Event: a request a Tracker observes (and, when Status is
// not 0, learns the answer of), or a challenge issued to or passed by the
// client (Tracker.Challenge).
const (
	EventRequest EventKind = iota
	EventChallengeIssued
	EventChallengePassed
)

// Event is one thing the gateway sees of a session, in time order.
type Event struct {
	Kind EventKind
	// Request is the request (for every kind, Request.At is when).
	Request Request
	// Status is the shop's answer to a request; 0 when the gateway
	// answered it itself (a challenge page, a refusal), as the gateway
	// does not tell the Tracker of those.
	Status int
}

// Session is the traffic of one client key with its ground truth.
type Session struct {
	// ID numbers the session in its SimConfig (0..Sessions-1).
	ID int
	// Key is the client key (an address) the gateway would track it
	// under; unique within a SimConfig.
	Key string
	// Bot is the ground truth: an automated client.
	Bot bool
	// Persona names how the session was made (see PersonaNames).
	Persona string
	// Events are the requests and challenges, in time order.
	Events []Event
}

// Requests returns the number of request events.
func (s *Session) Requests() int {
	n := 0
	for i := range s.Events {
		if s.Events[i].Kind == EventRequest {
			n++
		}
	}
	return n
}

// Simulate returns cfg's sessions: Simulate(cfg)[i] equals
// SimulateSession(cfg, i).
func Simulate(cfg SimConfig) []Session {
	cfg = cfg.withDefaults()
	out := make([]Session, cfg.Sessions)
	for i := range out {
		out[i] = SimulateSession(cfg, i)
	}
	return out
}

// SimulateSession returns session id of cfg alone: sessions are made
// independently of each other (each from its own random stream), so that
// they can be streamed and made in parallel.
func SimulateSession(cfg SimConfig, id int) Session {
	cfg = cfg.withDefaults()
	rng := rand.New(rand.NewPCG(cfg.Seed, splitmix(uint64(id)^0x9e3779b97f4a7c15)))
	bot := rng.Float64() < cfg.BotShare
	p := pickPersona(rng, bot)
	g := &gen{rng: rng, now: cfg.Start.Add(time.Duration(rng.Int64N(int64(24 * time.Hour))))}
	p.run(g)
	return Session{ID: id, Key: sessionKey(id), Bot: bot, Persona: p.name, Events: g.ev}
}

// sessionKey returns a unique address for session id.
func sessionKey(id int) string {
	return fmt.Sprintf("10.%d.%d.%d", id>>16&255, id>>8&255, id&255)
}

// splitmix returns a well-mixed 64-bit hash of x (SplitMix64's finalizer).
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// persona is one kind of client the simulator makes.
type persona struct {
	name   string
	bot    bool
	weight float64 // relative, within its class
	run    func(g *gen)
}

// personas are the kinds of client, people first.
var personas = [...]persona{
	{"human_new", false, 26, func(g *gen) { g.browse(newVisitor(g)) }},
	{"human_returning", false, 18, func(g *gen) { g.browse(returningVisitor(g)) }},
	{"human_cached", false, 12, func(g *gen) { g.browse(cachedVisitor(g)) }},
	{"human_mobile", false, 16, func(g *gen) { g.browse(mobileVisitor(g)) }},
	{"human_skimmer", false, 10, func(g *gen) { g.browse(skimmer(g)) }},
	{"human_nat", false, 9, (*gen).sharedAddress},
	{"human_challenged", false, 9, (*gen).challengedVisitor},
	{"human_app", false, 6, (*gen).appUser},
	{"bot_flood", true, 12, (*gen).flood},
	{"bot_scraper", true, 13, (*gen).scraper},
	{"bot_scraper_slow", true, 9, (*gen).slowScraper},
	{"bot_headless", true, 12, (*gen).headless},
	{"bot_stuffer", true, 11, (*gen).stuffer},
	{"bot_card_tester", true, 8, (*gen).cardTester},
	{"bot_scanner", true, 10, (*gen).scanner},
	{"bot_api", true, 10, (*gen).apiAbuser},
	{"bot_mismatch", true, 7, (*gen).mismatchBot},
	{"bot_imitator", true, 8, (*gen).imitator},
}

// PersonaNames returns the names of the human (bot false) or bot
// personas Simulate makes, in a fixed order.
func PersonaNames(bot bool) []string {
	var out []string
	for _, p := range personas {
		if p.bot == bot {
			out = append(out, p.name)
		}
	}
	return out
}

func pickPersona(rng *rand.Rand, bot bool) *persona {
	var total float64
	for i := range personas {
		if personas[i].bot == bot {
			total += personas[i].weight
		}
	}
	x := rng.Float64() * total
	var last *persona
	for i := range personas {
		if p := &personas[i]; p.bot == bot {
			last = p
			if x < p.weight {
				return p
			}
			x -= p.weight
		}
	}
	return last
}

// challengeLoop is how many challenges the gateway issues a client that
// passes none before refusing it outright.
const challengeLoop = 5

// gen makes one client's events.
type gen struct {
	rng *rand.Rand
	now time.Time
	ev  []Event

	keepsCookies bool // the client stores the cookies the shop sets
	hasCookie    bool // it has one to send
	mismatch     bool // its user agent and fingerprints disagree
	// Under attack the gateway challenges page views (and refuses other
	// requests) until the client passes a challenge; solves: it can.
	attack, solves, cleared bool
	issued                  int
}

// Random draws.

func (g *gen) chance(p float64) bool { return g.rng.Float64() < p }

// uniform returns a uniform draw from [lo, hi).
func (g *gen) uniform(lo, hi float64) float64 { return lo + g.rng.Float64()*(hi-lo) }

// between returns a uniform integer in [lo, hi].
func (g *gen) between(lo, hi int) int { return lo + g.rng.IntN(hi-lo+1) }

// logUniform returns an integer spread evenly in log scale over [lo, hi].
func (g *gen) logUniform(lo, hi int) int {
	return int(math.Round(math.Exp(g.uniform(math.Log(float64(lo)), math.Log(float64(hi)+0.5)))))
}

// logNormal returns a log-normal draw of median med and log-spread sigma,
// clipped to [lo, hi].
func (g *gen) logNormal(med, sigma, lo, hi float64) float64 {
	return math.Min(math.Max(med*math.Exp(sigma*g.rng.NormFloat64()), lo), hi)
}

// seconds converts a float of seconds.
func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// wait moves the clock on by s seconds.
func (g *gen) wait(s float64) { g.now = g.now.Add(seconds(s)) }

// send records r at the clock, with the client's cookie and mismatch. It
// returns whether the shop answered it (with status): not when the
// gateway challenged or refused it instead. Under attack a page view of a
// client that solves challenges is challenged, passed and asked again.
func (g *gen) send(r Request, status int) bool {
	r.At = g.now
	r.Cookie = r.Cookie || g.hasCookie
	r.Mismatch = g.mismatch
	if g.attack && !g.cleared {
		g.ev = append(g.ev, Event{Kind: EventRequest, Request: r})
		if !r.Page || g.issued >= challengeLoop {
			return false
		}
		g.issued++
		g.ev = append(g.ev, Event{Kind: EventChallengeIssued, Request: Request{At: g.now}})
		if !g.solves {
			return false
		}
		g.wait(g.uniform(2, 9)) // the wait page, or the proof of work
		g.ev = append(g.ev, Event{Kind: EventChallengePassed, Request: Request{At: g.now}})
		g.cleared, g.hasCookie = true, true // the clearance is a cookie
		g.wait(g.uniform(0.05, 0.6))
		r.At, r.Cookie = g.now, true
	}
	g.ev = append(g.ev, Event{Kind: EventRequest, Request: r, Status: status})
	if g.keepsCookies {
		g.hasCookie = true
	}
	return true
}

// The shop the simulator browses: a catalogue of products in categories,
// each page with its images and the site's shared styles and scripts.
const (
	products   = 20000
	categories = 30
)

// bundle are the assets every page of the shop links to.
var bundle = [...]string{"/static/app.css", "/static/app.js", "/static/vendor.js", "/static/fonts/inter.woff2", "/favicon.ico", "/static/logo.svg"}

func productPath(id int) string { return fmt.Sprintf("/p/%d", id) }

// network is how fast a client's network and browser fetch a page's assets.
type network struct {
	first  [2]float64 // first asset after the page, seconds (uniform range)
	spread float64    // mean of the further delay of each asset (exponential)
}

var (
	desktopNet    = network{first: [2]float64{0.05, 0.4}, spread: 0.3}
	mobileNet     = network{first: [2]float64{0.3, 2.5}, spread: 1.1}
	datacenterNet = network{first: [2]float64{0.02, 0.12}, spread: 0.08}
)

// browser is how a browser (a person's or a headless one) loads pages.
type browser struct {
	net   network
	cache map[string]bool // assets it has
	// cached is the chance that an asset not yet fetched in this session
	// is in the cache from an earlier visit; revalidate the chance that a
	// cached one is asked again anyway (If-Modified-Since).
	cached, revalidate float64
	// noImages: it blocks images and fonts (a headless scraper saving
	// bandwidth).
	noImages bool
	// xhr is the mean number of API calls a page makes after loading.
	xhr float64
	// bursts: it asks for a page's assets in bursts (HTTP/2, or six
	// connections at once), not one after another.
	bursts bool
}

// load makes a page view of path in browser b: the document, then those
// of its assets b does not have, then the page's API calls. It returns
// whether the shop answered the page.
func (g *gen) load(b *browser, path string, referer bool, status int, assets []string) bool {
	if !g.send(Request{Path: path, Page: true, Referer: referer}, status) {
		return false
	}
	start := g.now
	var offs []float64
	var fetch []string
	for _, a := range assets {
		if b.noImages && !isScriptOrStyle(a) {
			continue
		}
		if b.cache[a] || g.chance(b.cached) {
			b.cache[a] = true
			if !g.chance(b.revalidate) {
				continue
			}
		}
		b.cache[a] = true
		fetch = append(fetch, a)
	}
	first := g.uniform(b.net.first[0], b.net.first[1])
	if b.bursts {
		// Multiplexed (HTTP/2) or on six connections at once: the style
		// sheets and scripts the page's head names go out within a few
		// milliseconds of each other, the images it shows a moment later,
		// together too.
		images := first + g.uniform(0.01, 0.05+b.net.spread/3)
		for _, a := range fetch {
			at := images
			if isScriptOrStyle(a) {
				at = first
			}
			offs = append(offs, at+g.rng.ExpFloat64()*0.002)
		}
	} else {
		for range fetch {
			offs = append(offs, first+g.rng.ExpFloat64()*b.net.spread)
		}
	}
	slices.Sort(offs)
	for i, a := range fetch {
		g.now = start.Add(seconds(offs[i]))
		st := 200
		if g.chance(0.004) {
			st = 404 // a missing image
		}
		g.send(Request{Path: a, Static: true, Referer: true}, st)
	}
	for n := g.poisson(b.xhr); n > 0; n-- {
		g.wait(g.uniform(0.05, 0.8))
		g.send(Request{Path: apiPaths[g.rng.IntN(len(apiPaths))], Referer: true}, 200)
	}
	return true
}

var apiPaths = [...]string{"/api/cart", "/api/recommendations", "/api/stock", "/api/wishlist", "/api/session", "/api/events"}

func isScriptOrStyle(p string) bool {
	return p == bundle[0] || p == bundle[1] || p == bundle[2]
}

// poisson returns a Poisson draw of mean m (small m).
func (g *gen) poisson(m float64) int {
	l, k, p := math.Exp(-m), 0, 1.0
	for {
		p *= g.rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// The assets of the shop's pages.

// siteAssets returns the styles, scripts, fonts and icons of a page (a
// new slice: callers append a page's own images).
func (g *gen) siteAssets() []string { return slices.Clone(bundle[:g.between(3, len(bundle))]) }

func (g *gen) productAssets(id int) []string {
	a := g.siteAssets()
	for k := range g.between(2, 10) {
		a = append(a, fmt.Sprintf("/img/p/%d-%d.webp", id, k))
	}
	for range g.between(0, 8) {
		a = append(a, fmt.Sprintf("/img/t/%d.webp", g.rng.IntN(products)))
	}
	return a
}

func (g *gen) listingAssets(cat, page int) []string {
	a := g.siteAssets()
	for k := range g.between(6, 24) {
		a = append(a, fmt.Sprintf("/img/t/%d.webp", (cat*997+page*24+k)%products))
	}
	return a
}

func (g *gen) homeAssets() []string {
	a := g.siteAssets()
	for k := range g.between(2, 5) {
		a = append(a, fmt.Sprintf("/img/banner/%d.jpg", k))
	}
	for k := range g.between(4, 12) {
		a = append(a, fmt.Sprintf("/img/t/%d.webp", k*131))
	}
	return a
}

// visitor is how a person browses.
type visitor struct {
	browser
	pages          int        // page views planned
	think          [2]float64 // median and log-spread of the time on a page, seconds
	landingReferer float64    // chance the first page comes from a search engine or a link
	navReferer     float64    // chance a later page view sends a Referer (not typed or bookmarked)
	loggedIn       bool
	typo           float64 // chance of a mistyped password
	tabs           float64 // chance of opening several products in tabs from a listing
	deadLink       float64 // chance a page view is a dead link (404)
	buys           float64 // chance the session ends in a checkout
	cartAdds       int
}

func (g *gen) baseVisitor() *visitor {
	g.keepsCookies = !g.chance(0.01) // a few block cookies
	g.mismatch = g.chance(0.015)     // privacy extensions, odd browsers
	return &visitor{browser: browser{net: desktopNet, cache: map[string]bool{}, revalidate: 0.05, xhr: g.uniform(0, 2), bursts: g.chance(0.6)},
		pages:          int(g.logNormal(6, 0.9, 1, 120)),
		think:          [2]float64{g.logNormal(15, 0.6, 3, 120), g.uniform(0.8, 1.3)},
		landingReferer: 0.65, navReferer: 0.95, typo: 0.1, tabs: 0.15, deadLink: 0.015, buys: 0.15}
}

func newVisitor(g *gen) *visitor { return g.baseVisitor() }

func returningVisitor(g *gen) *visitor {
	v := g.baseVisitor()
	g.hasCookie = g.keepsCookies
	v.loggedIn = g.chance(0.5)
	v.landingReferer = 0.3
	v.buys = 0.3
	if g.chance(0.5) {
		v.cached = g.uniform(0.3, 0.8)
	}
	return v
}

func cachedVisitor(g *gen) *visitor {
	v := returningVisitor(g)
	for _, a := range bundle {
		v.cache[a] = true
	}
	v.cached = g.uniform(0.6, 0.97)
	v.revalidate = g.uniform(0, 0.3)
	return v
}

func mobileVisitor(g *gen) *visitor {
	v := g.baseVisitor()
	if g.chance(0.4) {
		g.hasCookie = g.keepsCookies
	}
	v.net = mobileNet
	v.net.spread *= g.uniform(0.5, 2)
	v.pages = int(g.logNormal(5, 0.9, 1, 80))
	v.think[0] *= g.uniform(1, 2)
	v.tabs = 0.03
	return v
}

// skimmer is a person clicking quickly through many products (comparing,
// looking at pictures, hunting a bargain): a page every second or few,
// with everything a browser does.
func skimmer(g *gen) *visitor {
	v := g.baseVisitor()
	if g.chance(0.5) {
		g.hasCookie = g.keepsCookies
	}
	v.pages = int(g.logNormal(14, 0.7, 4, 150))
	v.think = [2]float64{g.uniform(1, 4), g.uniform(0.4, 0.8)}
	v.tabs = 0.3
	v.buys = 0.2
	return v
}

// think waits the time a person spends on a page.
func (g *gen) think(v *visitor) { g.wait(g.logNormal(v.think[0], v.think[1], 0.8, 900)) }

// browse makes a person's visit: a landing page, then product, listing
// and search pages, cart and maybe a checkout, with the time to read
// between them.
func (g *gen) browse(v *visitor) {
	cat := g.rng.IntN(categories)
	prod := g.rng.IntN(products)
	ref := g.chance(v.landingReferer)
	var ok bool
	switch x := g.rng.Float64(); {
	case x < 0.4:
		ok = g.load(&v.browser, "/", ref, 200, g.homeAssets())
	case x < 0.75:
		ok = g.load(&v.browser, productPath(prod), ref, 200, g.productAssets(prod))
	default:
		ok = g.load(&v.browser, fmt.Sprintf("/c/%d", cat), ref, 200, g.listingAssets(cat, 0))
	}
	if !ok {
		return
	}
	for page := 1; page < v.pages; page++ {
		g.think(v)
		ref = g.chance(v.navReferer)
		if g.chance(v.deadLink) {
			g.load(&v.browser, productPath(products+g.rng.IntN(products)), ref, 404, g.siteAssets())
			continue
		}
		switch x := g.rng.Float64(); {
		case x < 0.38: // a product, maybe put in the cart
			prod = g.related(prod, cat)
			g.load(&v.browser, productPath(prod), ref, 200, g.productAssets(prod))
			if g.chance(0.15) {
				g.think(v)
				g.send(Request{Path: "/cart/add", Post: true, Referer: true}, 200)
				v.cartAdds++
			}
		case x < 0.58: // a listing, maybe opening several products in tabs
			cat = g.rng.IntN(categories)
			pg := g.between(0, 3)
			g.load(&v.browser, fmt.Sprintf("/c/%d", cat), ref, 200, g.listingAssets(cat, pg))
			if g.chance(v.tabs) {
				for range g.between(2, 5) {
					g.wait(g.uniform(0.3, 2))
					prod = cat*997 + g.rng.IntN(24)
					g.load(&v.browser, productPath(prod), true, 200, g.productAssets(prod))
					page++
				}
			}
		case x < 0.72: // a search, with suggestions while typing
			for range g.between(0, 8) {
				g.wait(g.uniform(0.15, 0.6))
				g.send(Request{Path: "/api/suggest", Referer: true}, 200)
			}
			g.wait(g.uniform(0.3, 2))
			g.load(&v.browser, "/search", true, 200, g.listingAssets(cat, 7))
		case x < 0.8:
			g.load(&v.browser, "/", ref, 200, g.homeAssets())
		case x < 0.88:
			g.load(&v.browser, "/cart", true, 200, g.siteAssets())
		case x < 0.92 && !v.loggedIn:
			g.login(v)
		default:
			g.load(&v.browser, fmt.Sprintf("/info/%d", g.rng.IntN(12)), ref, 200, g.siteAssets())
		}
	}
	if v.cartAdds > 0 && g.chance(v.buys*3) || g.chance(v.buys/4) {
		g.checkout(v)
	}
}

// related returns a product near prod (same category) or another one.
func (g *gen) related(prod, cat int) int {
	if g.chance(0.6) {
		return (cat*997 + g.rng.IntN(400)) % products
	}
	return g.rng.IntN(products)
}

// login signs in, mistyping the password now and then.
func (g *gen) login(v *visitor) {
	g.load(&v.browser, "/login", true, 200, g.siteAssets())
	for try := 0; try < 3; try++ {
		g.wait(g.logNormal(8, 0.5, 2, 60))
		if g.chance(v.typo) && try < 2 {
			g.send(Request{Path: "/login", Post: true, Referer: true}, 401)
			g.load(&v.browser, "/login", true, 200, g.siteAssets())
			continue
		}
		g.send(Request{Path: "/login", Post: true, Referer: true}, 302)
		g.wait(g.uniform(0.1, 0.5))
		g.load(&v.browser, "/account", true, 200, g.siteAssets())
		v.loggedIn = true
		return
	}
}

// checkout signs in if need be, fills in the checkout form and pays (a
// declined card now and then, retried).
func (g *gen) checkout(v *visitor) {
	g.think(v)
	if !v.loggedIn && g.chance(0.6) {
		g.login(v)
		g.think(v)
	}
	g.load(&v.browser, "/checkout", true, 200, g.siteAssets())
	for try := 0; try < 3; try++ {
		g.wait(g.logNormal(70, 0.6, 15, 600))
		if g.chance(0.04) && try < 2 {
			g.send(Request{Path: "/checkout/pay", Post: true, Referer: true}, 402)
			continue
		}
		g.send(Request{Path: "/checkout/pay", Post: true, Referer: true}, 303)
		g.wait(g.uniform(0.2, 1.5))
		g.load(&v.browser, fmt.Sprintf("/order/%d", g.rng.IntN(1e6)), true, 200, g.siteAssets())
		return
	}
}

// sharedAddress is several people behind one address (a carrier's or an
// office's NAT): their visits interleave under one client key.
func (g *gen) sharedAddress() {
	start := g.now
	var all []Event
	for range g.logUniform(2, 8) {
		sub := &gen{rng: g.rng, now: start.Add(seconds(g.uniform(0, 1200)))}
		switch x := g.rng.Float64(); {
		case x < 0.35:
			sub.browse(newVisitor(sub))
		case x < 0.6:
			sub.browse(returningVisitor(sub))
		case x < 0.75:
			sub.browse(cachedVisitor(sub))
		default:
			sub.browse(mobileVisitor(sub))
		}
		all = append(all, sub.ev...)
	}
	slices.SortStableFunc(all, func(a, b Event) int { return a.Request.At.Compare(b.Request.At) })
	g.ev = all
}

// challengedVisitor is a person visiting while the gateway is under
// attack: the first page view is a challenge, passed (rarely given up).
func (g *gen) challengedVisitor() {
	var v *visitor
	if g.chance(0.6) {
		v = newVisitor(g)
	} else {
		v = returningVisitor(g)
	}
	g.attack, g.solves = true, !g.chance(0.03)
	g.browse(v)
}

// appUser is a person in the shop's mobile app: API calls and images, no
// page views, no Referer, often a token instead of a cookie.
func (g *gen) appUser() {
	g.keepsCookies = g.chance(0.4)
	g.hasCookie = g.keepsCookies
	cache := map[string]bool{}
	think := g.logNormal(12, 0.6, 2, 90)
	for range int(g.logNormal(10, 0.8, 1, 150)) {
		for range g.between(1, 5) {
			path := apiPaths[g.rng.IntN(len(apiPaths))]
			if g.chance(0.6) {
				path = fmt.Sprintf("/api/products/%d", g.rng.IntN(products))
			}
			g.send(Request{Path: path}, 200)
			g.wait(g.uniform(0.02, 0.4))
		}
		for range g.between(0, 10) {
			img := fmt.Sprintf("/img/t/%d.webp", g.rng.IntN(products))
			if !cache[img] {
				cache[img] = true
				g.send(Request{Path: img, Static: true}, 200)
				g.wait(g.uniform(0.01, 0.2))
			}
		}
		g.wait(g.logNormal(think, 1, 0.8, 600))
	}
}

// Bots.

// botTraits draws what a script does about cookies, referrers,
// fingerprints and challenges.
func (g *gen) botTraits(cookies, referer, mismatch float64) (sendsReferer bool) {
	g.keepsCookies = g.chance(cookies)
	g.mismatch = g.chance(mismatch)
	g.attack = g.chance(0.15)
	return g.chance(referer)
}

// pace returns the next gap of a script running at rate requests per
// second: regular (a loop with a fixed sleep), Poisson (many workers), or
// random human-like sleeps (imitating people).
type pace struct {
	rate   float64
	kind   int // 0 regular, 1 Poisson, 2 random sleeps
	jitter float64
	sigma  float64
}

func (g *gen) newPace(rate float64, imitate float64) pace {
	p := pace{rate: rate, jitter: g.uniform(0, 0.3), sigma: g.uniform(0.5, 1.4)}
	switch x := g.rng.Float64(); {
	case x < imitate:
		p.kind = 2
	case x < imitate+(1-imitate)/2:
		p.kind = 1
	}
	return p
}

func (g *gen) next(p pace) {
	mean := 1 / p.rate
	switch p.kind {
	case 0:
		g.wait(mean * (1 + p.jitter*(2*g.rng.Float64()-1)))
	case 1:
		g.wait(mean * g.rng.ExpFloat64())
	default:
		// log-normal of mean 1/rate
		g.wait(mean * math.Exp(p.sigma*g.rng.NormFloat64()-p.sigma*p.sigma/2))
	}
}

// flood is an HTTP flood: one or a few paths, fast, nothing else.
func (g *gen) flood() {
	ref := g.botTraits(0.1, 0.15, 0.4)
	paths := []string{"/", "/search", productPath(g.rng.IntN(products)), "/cart", "/login"}
	paths = paths[:1+g.rng.IntN(len(paths))]
	if g.chance(0.7) {
		paths = paths[:1]
	}
	page, post := g.chance(0.5), g.chance(0.15)
	if post {
		page = false
	}
	p := g.newPace(g.logNormal(15, 1.2, 0.5, 400), 0)
	for range g.logUniform(80, 1500) {
		st := 200
		if g.chance(0.08) {
			st = 503
		}
		g.send(Request{Path: paths[g.rng.IntN(len(paths))], Page: page, Post: post, Referer: ref}, st)
		g.next(p)
	}
}

// scrape walks product pages (and now and then a listing) at pace p,
// without assets (but for imitators, the styles and scripts now and then).
func (g *gen) scrape(p pace, pages int, claimsBrowser float64, ref bool, assets float64) {
	page := g.chance(claimsBrowser)
	sequential := g.chance(0.4)
	prod := g.rng.IntN(products)
	for i := range pages {
		if sequential {
			prod++
		} else {
			prod = g.rng.IntN(products + products/10)
		}
		path, st := productPath(prod), 200
		if prod >= products || g.chance(0.02) {
			st = 404
		}
		if i%20 == 0 { // a listing, for the next links
			path, st = fmt.Sprintf("/c/%d", g.rng.IntN(categories)), 200
		}
		if g.send(Request{Path: path, Page: page, Referer: ref}, st) && g.chance(assets) {
			for _, a := range bundle[:3] {
				g.wait(g.uniform(0.01, 0.3))
				g.send(Request{Path: a, Static: true, Referer: true}, 200)
			}
		}
		g.next(p)
	}
}

// scraper copies the catalogue fast.
func (g *gen) scraper() {
	ref := g.botTraits(0.5, 0.3, 0.35)
	g.scrape(g.newPace(g.logNormal(1.5, 1, 0.2, 20), 0.25), g.logUniform(40, 1000), 0.7, ref, 0)
}

// slowScraper copies the catalogue low and slow: a page every 5-20
// seconds.
func (g *gen) slowScraper() {
	ref := g.botTraits(0.5, 0.4, 0.3)
	g.scrape(g.newPace(1/g.uniform(5, 20), 0.3), g.logUniform(20, 400), 0.75, ref, 0.05)
}

// headless is a scraper driving a real browser engine: assets load, but
// at a machine's pace, with a new product on every page.
func (g *gen) headless() {
	g.botTraits(1, 1, 0.3)
	g.solves = g.chance(0.6)
	b := &browser{net: datacenterNet, cache: map[string]bool{}, noImages: g.chance(0.4), xhr: g.uniform(0, 1.5), bursts: g.chance(0.8)}
	p := g.newPace(1/g.uniform(0.5, 6), 0.3)
	for i := range g.logUniform(15, 400) {
		prod := g.rng.IntN(products)
		if i%15 == 0 {
			cat := g.rng.IntN(categories)
			g.load(b, fmt.Sprintf("/c/%d", cat), i > 0, 200, g.listingAssets(cat, i/15))
		} else {
			g.load(b, productPath(prod), i > 0, 200, g.productAssets(prod))
		}
		g.next(p)
	}
}

// stuffer tries stolen passwords: many sign-ins, nearly all failing.
func (g *gen) stuffer() {
	ref := g.botTraits(0.6, 0.5, 0.4)
	form, page := g.chance(0.4), g.chance(0.5)
	p := g.newPace(g.logNormal(0.5, 1.2, 0.02, 20), 0.3)
	for range g.logUniform(10, 800) {
		if form {
			g.send(Request{Path: "/login", Page: page, Referer: ref}, 200)
			g.wait(g.uniform(0.05, 1))
		}
		st := 401
		switch x := g.rng.Float64(); {
		case x < 0.01:
			st = 302
		case x < 0.04:
			st = 429
		}
		g.send(Request{Path: "/login", Post: true, Referer: ref}, st)
		g.next(p)
	}
}

// cardTester tries stolen cards on the payment step: many declines.
func (g *gen) cardTester() {
	ref := g.botTraits(0.9, 0.7, 0.3)
	if g.chance(0.6) {
		g.send(Request{Path: productPath(g.rng.IntN(products)), Page: g.chance(0.6), Referer: ref}, 200)
		g.wait(g.uniform(0.5, 5))
		g.send(Request{Path: "/cart/add", Post: true, Referer: ref}, 200)
		g.wait(g.uniform(0.5, 5))
		g.send(Request{Path: "/checkout", Page: g.chance(0.6), Referer: ref}, 200)
	}
	p := g.newPace(1/g.logNormal(10, 0.8, 1, 120), 0.35)
	for range g.logUniform(10, 300) {
		g.next(p)
		st := 402
		switch x := g.rng.Float64(); {
		case x < 0.1:
			st = 303
		case x < 0.15:
			st = 400
		}
		g.send(Request{Path: "/checkout/pay", Post: true, Referer: ref}, st)
	}
}

var probes = [...]string{"/wp-login.php", "/wp-admin/", "/.env", "/.git/config", "/admin", "/administrator/", "/phpmyadmin/",
	"/config.php", "/backup.zip", "/db.sql", "/server-status", "/.DS_Store", "/xmlrpc.php", "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",
	"/cgi-bin/luci", "/actuator/health", "/api/v1/users", "/.aws/credentials", "/owa/auth/logon.aspx", "/solr/admin/info/system",
	"/console", "/boaform/admin/formLogin", "/HNAP1/", "/manager/html", "/shell.php", "/info.php", "/test.php", "/.well-known/security.txt",
	"/robots.txt", "/sitemap.xml", "/wp-content/plugins/", "/magento_version", "/app/etc/env.php", "/index.php?s=/index/think"}

// scanner probes for known vulnerable paths: mostly not found.
func (g *gen) scanner() {
	ref := g.botTraits(0.1, 0.05, 0.5)
	page := g.chance(0.3)
	p := g.newPace(g.logNormal(8, 1.2, 0.2, 100), 0.1)
	for i := range g.logUniform(40, 1500) {
		path := probes[i%len(probes)]
		if i >= len(probes) || g.chance(0.3) {
			path = fmt.Sprintf("/%x/%s", g.rng.Uint32(), probes[g.rng.IntN(len(probes))][1:])
		}
		st := 404
		switch x := g.rng.Float64(); {
		case x < 0.03:
			st = 200
		case x < 0.08:
			st = 403
		case x < 0.1:
			st = 301
		}
		g.send(Request{Path: path, Page: page, Referer: ref}, st)
		g.next(p)
	}
}

// apiAbuser pulls the shop's JSON API without claiming to be a browser:
// a price list page by page, or product by product.
func (g *gen) apiAbuser() {
	ref := g.botTraits(0.3, 0.1, 0.1)
	byID := g.chance(0.5)
	p := g.newPace(g.logNormal(3, 1.2, 0.1, 50), 0.3)
	for i := range g.logUniform(40, 1500) {
		path, st := "/api/products", 200
		if byID {
			id := g.rng.IntN(products + products/20)
			path = fmt.Sprintf("/api/products/%d", id)
			if id >= products {
				st = 404
			}
		} else if i%50 == 49 {
			path = "/api/prices"
		}
		g.send(Request{Path: path, Referer: ref}, st)
		g.next(p)
	}
}

// mismatchBot claims a browser its fingerprints contradict, and otherwise
// browses rather like a person: irregular pauses, cookies and referrers,
// the styles and scripts now and then.
func (g *gen) mismatchBot() {
	ref := g.botTraits(0.7, 0.7, 1)
	g.scrape(g.newPace(1/g.uniform(2, 15), 0.7), g.logUniform(15, 300), 0.9, ref, 0.3)
}

// imitator is a scraper made to look like a person: a real browser with
// a browser-grade fingerprint, human-like pauses, cookies and referrers.
// Most skip images (only the styles and scripts load); the rest load
// every asset, and only their appetite for new product pages, never a
// cart, gives them away.
func (g *gen) imitator() {
	g.botTraits(1, 1, 0)
	g.solves = g.chance(0.3)
	b := &browser{net: desktopNet, cache: map[string]bool{}, noImages: !g.chance(0.3), revalidate: g.uniform(0, 0.5), bursts: g.chance(0.6)}
	med := g.uniform(3, 15)
	for i := range g.logUniform(15, 300) {
		prod := g.rng.IntN(products)
		g.load(b, productPath(prod), i > 0, 200, g.productAssets(prod))
		g.wait(g.logNormal(med, 0.8, 0.5, 300))
	}
}
