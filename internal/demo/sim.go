package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Truth is the ground truth of a simulated request: who sent it and why.
// The simulator keeps it; shopguard never sees it.
type Truth struct {
	Actor    string `json:"actor"`
	Scenario string `json:"scenario"`
	Fraud    bool   `json:"fraud"`
}

// RequestRecord is one simulated HTTP request and its outcome.
type RequestRecord struct {
	At       time.Time     `json:"at"`
	Truth    Truth         `json:"truth"`
	Method   string        `json:"method"`
	Path     string        `json:"path"`
	ClientIP string        `json:"client_ip"`
	Status   int           `json:"status"`
	Latency  time.Duration `json:"latency_ns"`
	// Account is the shop's AccountStatusHeader for sign-ins and sign-ups
	// (signed_in, wrong, challenged, blocked), "" otherwise.
	Account string `json:"account,omitempty"`
	// Login is the shop's LoginHeader for sign-ins: the id it gave the
	// attempt, which shopguard's notices about it refer to.
	Login string `json:"login,omitempty"`
	// Refused: the answer came from something in front of the shop (a
	// gateway refusing or challenging the request), not the shop.
	Refused bool `json:"refused_in_front,omitempty"`
}

// CheckoutRecord is one simulated checkout attempt and its outcome.
type CheckoutRecord struct {
	Truth       Truth  `json:"truth"`
	OrderID     string `json:"order_id"`
	Status      string `json:"status"`
	AmountMinor int64  `json:"amount_minor"`
	// Disputed is set when the cardholder disputed the charge.
	Disputed bool `json:"disputed"`
}

// SimConfig configures the traffic simulator.
type SimConfig struct {
	// ShopURL is the shop's base URL; it must be a loopback address.
	ShopURL string
	// Seed makes the population and every actor's choices repeatable.
	Seed uint64
	// Duration is how long the simulation runs (at most MaxDuration).
	Duration time.Duration
	// Rate is the number of legitimate shopping sessions started per second.
	Rate float64
	// Customers is the size of the shop's existing customer base.
	Customers int
	// Scenarios names the scenarios to run (ScenarioNames lists them).
	Scenarios []string
	// MaxRequests bounds the requests sent in all (0: 200 per second of Duration per unit of Rate, at least 10,000).
	MaxRequests int64
	// Pace scales human think time (1: real pace; the default 0.25 plays
	// four times faster so a short demo shows whole sessions).
	Pace float64
	// DisputeShare is the share of approved fraudulent charges that their
	// cardholders dispute; DisputeDelay is how long after the charge.
	DisputeShare float64
	DisputeDelay time.Duration
	// NewDeviceShare is the share of returning customers' sessions on a
	// device they never used here (a new phone, a borrowed laptop).
	NewDeviceShare float64
	// AppShare is the share of customers who set up an authenticator app
	// (enrolled with shopguard by Sim.EnrolApps; 0: none).
	AppShare float64
	// PasskeyShare is the share of customers who made a passkey for the
	// shop (registered by Sim.EnrolPasskeys; 0: none).
	PasskeyShare float64
}

// travellers is the share of customers abroad during a run.
const travellers = 0.02

// Limits of the simulator.
const (
	MaxDuration = 24 * time.Hour
	MaxRate     = 1000.0
)

// Sim drives simulated shoppers and attackers against the shop.
type Sim struct {
	cfg    SimConfig
	shop   *url.URL
	proc   *Processor
	pop    *population
	client *http.Client // shared transport; each actor adds its own cookie jar
	start  atomic.Int64 // unix nanoseconds when Run started; 0 before
	now    func() time.Time

	sent     atomic.Int64
	mu       sync.Mutex
	requests []RequestRecord
	checkout []CheckoutRecord
}

// ErrRequestBudget is returned by actors once MaxRequests have been sent.
var ErrRequestBudget = errors.New("demo: simulator request budget used up")

// NewSim checks cfg and returns a simulator over the shop and processor.
func NewSim(cfg SimConfig, proc *Processor, now func() time.Time) (*Sim, error) {
	u, err := url.Parse(cfg.ShopURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("demo: shop URL %q is not an http(s) URL", cfg.ShopURL)
	}
	if err := checkLoopback(u.Hostname()); err != nil {
		return nil, err
	}
	switch {
	case cfg.Duration <= 0 || cfg.Duration > MaxDuration:
		return nil, fmt.Errorf("demo: duration %s outside (0, %s]", cfg.Duration, MaxDuration)
	case cfg.Rate <= 0 || cfg.Rate > MaxRate:
		return nil, fmt.Errorf("demo: rate %g outside (0, %g] sessions/s", cfg.Rate, MaxRate)
	case cfg.Customers < 10 || cfg.Customers > 1_000_000:
		return nil, fmt.Errorf("demo: customers %d outside 10..1,000,000", cfg.Customers)
	case cfg.DisputeShare < 0 || cfg.DisputeShare > 1:
		return nil, fmt.Errorf("demo: dispute share %g outside 0..1", cfg.DisputeShare)
	case cfg.NewDeviceShare < 0 || cfg.NewDeviceShare > 1:
		return nil, fmt.Errorf("demo: new-device share %g outside 0..1", cfg.NewDeviceShare)
	case cfg.AppShare < 0 || cfg.AppShare > 1:
		return nil, fmt.Errorf("demo: authenticator-app share %g outside 0..1", cfg.AppShare)
	case cfg.PasskeyShare < 0 || cfg.PasskeyShare > 1:
		return nil, fmt.Errorf("demo: passkey share %g outside 0..1", cfg.PasskeyShare)
	}
	if _, err := scenariosByName(cfg.Scenarios); err != nil {
		return nil, err
	}
	if cfg.Pace <= 0 {
		cfg.Pace = 0.25
	}
	if cfg.MaxRequests <= 0 {
		cfg.MaxRequests = max(10_000, int64(cfg.Duration.Seconds()*cfg.Rate*200))
	}
	if now == nil {
		now = time.Now
	}
	tr := &http.Transport{
		MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: 30 * time.Second,
		DialContext: loopbackDialer(), Proxy: nil,
	}
	s := &Sim{cfg: cfg, shop: u, proc: proc, now: now,
		client: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
	s.pop = newPopulation(rand.New(rand.NewPCG(cfg.Seed, 0)), cfg.Customers, proc, now())
	s.pop.planTrips(rand.New(rand.NewPCG(cfg.Seed, 3)), travellers)
	s.pop.planApps(rand.New(rand.NewPCG(cfg.Seed, 4)), cfg.AppShare)
	s.pop.planPasskeys(rand.New(rand.NewPCG(cfg.Seed, 5)), cfg.PasskeyShare)
	return s, nil
}

// checkLoopback refuses any host that is not (or does not resolve only to)
// a loopback address.
func checkLoopback(host string) error {
	if a, err := netip.ParseAddr(host); err == nil {
		if !a.IsLoopback() {
			return fmt.Errorf("demo: the simulator only targets loopback addresses, not %s", host)
		}
		return nil
	}
	if host != "localhost" {
		return fmt.Errorf("demo: the simulator only targets loopback addresses, not %q", host)
	}
	return nil
}

// loopbackDialer re-checks every connection's address, so that no
// redirect or DNS answer can take the simulator off the machine.
func loopbackDialer() func(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{Timeout: 5 * time.Second}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		if host == "localhost" {
			host = "127.0.0.1"
		}
		if err := checkLoopback(host); err != nil {
			return nil, err
		}
		return d.DialContext(ctx, network, net.JoinHostPort(host, port))
	}
}

// Elapsed is the time since Run started (0 before).
func (s *Sim) Elapsed() time.Duration {
	start := s.start.Load()
	if start == 0 {
		return 0
	}
	return s.now().Sub(time.Unix(0, start))
}

// Run plays every configured scenario until ctx ends or Duration passes,
// then waits for every actor to finish its current step.
func (s *Sim) Run(ctx context.Context) error {
	scs, err := scenariosByName(s.cfg.Scenarios)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Duration)
	defer cancel()
	s.start.Store(s.now().UnixNano())
	var wg sync.WaitGroup
	for i, sc := range scs {
		wg.Go(func() {
			sc.Run(ctx, &Stage{sim: s, rng: rand.New(rand.NewPCG(s.cfg.Seed, uint64(1000+i)))})
		})
	}
	wg.Wait()
	return nil
}

// Requests returns the record of every request sent.
func (s *Sim) Requests() []RequestRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]RequestRecord(nil), s.requests...)
}

// Checkouts returns the record of every checkout attempt.
func (s *Sim) Checkouts() []CheckoutRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]CheckoutRecord(nil), s.checkout...)
}

// Stage is what a running scenario works with: the population, the
// processor, new actors and the clock of the run.
type Stage struct {
	sim    *Sim
	rng    *rand.Rand
	actors atomic.Int64
	wg     sync.WaitGroup
}

// Rand is the scenario's own random source (use it from one goroutine).
func (st *Stage) Rand() *rand.Rand { return st.rng }

// WaitUntil sleeps until the given fraction of the run has passed; it
// returns false when the run ends first.
func (st *Stage) WaitUntil(ctx context.Context, fraction float64) bool {
	at := time.Duration(fraction * float64(st.sim.cfg.Duration))
	return sleep(ctx, at-st.sim.Elapsed())
}

// Go runs an actor in its own goroutine with its own random source; Wait
// waits for all of them.
func (st *Stage) Go(fn func(rng *rand.Rand, id int64)) {
	id := st.actors.Add(1)
	seed := st.rng.Uint64()
	st.wg.Go(func() { fn(rand.New(rand.NewPCG(seed, uint64(id))), id) })
}

// Wait waits for the scenario's actors.
func (st *Stage) Wait() { st.wg.Wait() }

// Think sleeps for a human pause between lo and hi (scaled by Pace).
func (st *Stage) Think(ctx context.Context, rng *rand.Rand, lo, hi time.Duration) bool {
	d := lo + time.Duration(rng.Float64()*float64(hi-lo))
	return sleep(ctx, time.Duration(float64(d)*st.sim.cfg.Pace))
}

func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Browser is one simulated client: a cookie jar (so a device cookie and a
// session), an address and a user agent, acting for one actor.
type Browser struct {
	st     *Stage
	truth  Truth
	client *http.Client
	IP     string
	Agent  string
}

// NewBrowser returns a browser for an actor. A non-empty deviceID is set
// as the shop's device cookie, as if the browser had visited before.
func (st *Stage) NewBrowser(truth Truth, deviceID, ip, agent string) *Browser {
	jar, _ := cookiejar.New(nil)
	if deviceID != "" {
		jar.SetCookies(st.sim.shop, []*http.Cookie{{Name: DeviceCookie, Value: deviceID, Path: "/"}})
	}
	c := *st.sim.client
	c.Jar = jar
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("demo: too many redirects")
		}
		return checkLoopback(req.URL.Hostname())
	}
	return &Browser{st: st, truth: truth, client: &c, IP: ip, Agent: agent}
}

// forgetCookies makes the browser keep no cookies, as most attack tools.
func (b *Browser) forgetCookies() { b.client.Jar = nil }

// Response is what a browser got back (after following redirects).
type Response struct {
	Status int
	Header http.Header
	// Account is the shop's AccountStatusHeader, taken from the first
	// answer when that was a redirect (a successful sign-in redirects).
	Account string
	// Body is the page, kept only when it is a step-up page (StepUpHeader).
	Body []byte
}

// Get fetches a page.
func (b *Browser) Get(ctx context.Context, path string) (Response, error) {
	return b.do(ctx, http.MethodGet, path, nil)
}

// Post submits a form.
func (b *Browser) Post(ctx context.Context, path string, form url.Values) (Response, error) {
	return b.do(ctx, http.MethodPost, path, form)
}

func (b *Browser) do(ctx context.Context, method, path string, form url.Values) (Response, error) {
	if b.st.sim.sent.Add(1) > b.st.sim.cfg.MaxRequests {
		return Response{}, ErrRequestBudget
	}
	u := b.st.sim.shop.JoinPath(path)
	if i := strings.IndexByte(path, '?'); i >= 0 {
		u = b.st.sim.shop.JoinPath(path[:i])
		u.RawQuery = path[i+1:]
	}
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	if err := ctx.Err(); err != nil {
		return Response{}, err // the run is over: start nothing new
	}
	// A request already under way finishes even when the run ends (bounded
	// by the client's timeout), so that the shop's orders and the
	// simulator's records always match.
	req, err := http.NewRequestWithContext(context.WithoutCancel(ctx), method, u.String(), body)
	if err != nil {
		return Response{}, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	b.identify(req.Header)
	if method == http.MethodGet {
		req.Header.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	}
	// The first answer's headers, when it was a redirect: a successful
	// sign-in reports itself on the redirect, not on the page after it.
	var first http.Header
	c := *b.client
	c.CheckRedirect = func(next *http.Request, via []*http.Request) error {
		if first == nil && next.Response != nil {
			first = next.Response.Header
		}
		return b.client.CheckRedirect(next, via)
	}
	start := b.st.sim.now()
	resp, err := c.Do(req)
	rec := RequestRecord{At: start, Truth: b.truth, Method: method, Path: path, ClientIP: b.IP, Latency: b.st.sim.now().Sub(start)}
	if err != nil {
		if ctx.Err() == nil { // a request cut off by the end of the run is not a failure of the shop
			b.st.sim.record(rec)
		}
		return Response{}, err
	}
	var page []byte
	if resp.Header.Get(StepUpHeader) != "" {
		page, _ = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	rec.Status, rec.Latency = resp.StatusCode, b.st.sim.now().Sub(start)
	rec.Refused = resp.Header.Get(ShopHeader) == ""
	answer := resp.Header
	if first != nil {
		answer = first
	}
	rec.Account, rec.Login = answer.Get(AccountStatusHeader), answer.Get(LoginHeader)
	b.st.sim.record(rec)
	return Response{Status: resp.StatusCode, Header: resp.Header, Account: rec.Account, Body: page}, nil
}

// identify sets the headers that say who the browser is: its user agent
// and language, and its simulated address for the shop (ClientIPHeader)
// and for a gateway in front of the shop that trusts this machine as a
// proxy (X-Forwarded-For).
func (b *Browser) identify(h http.Header) {
	h.Set("User-Agent", b.Agent)
	h.Set("Accept-Language", "en-GB,en;q=0.9")
	h.Set(ClientIPHeader, b.IP)
	h.Set("X-Forwarded-For", b.IP)
}

func (s *Sim) record(r RequestRecord) {
	s.mu.Lock()
	s.requests = append(s.requests, r)
	s.mu.Unlock()
}

// Checkout submits the checkout form and records the attempt with its
// ground truth. A paid fraudulent order is disputed by the real cardholder
// with the configured probability.
func (b *Browser) Checkout(ctx context.Context, rng *rand.Rand, form url.Values, amountMinor int64) (CheckoutRecord, error) {
	resp, err := b.Post(ctx, "/checkout", form)
	if err != nil {
		return CheckoutRecord{}, err
	}
	rec := CheckoutRecord{Truth: b.truth, OrderID: resp.Header.Get(OrderHeader), Status: resp.Header.Get(OrderStatusHeader), AmountMinor: amountMinor}
	if rec.OrderID == "" {
		return rec, fmt.Errorf("demo: checkout answered %d without an order", resp.Status)
	}
	sim := b.st.sim
	if rec.Status == StatusPaid && b.truth.Fraud && rng.Float64() < sim.cfg.DisputeShare {
		rec.Disputed = sim.proc.Dispute(rec.OrderID, sim.now().Add(sim.cfg.DisputeDelay))
	}
	sim.mu.Lock()
	sim.checkout = append(sim.checkout, rec)
	sim.mu.Unlock()
	return rec, nil
}

// Login signs the browser in. When the shop asks for a step-up, the
// browser answers it (see stepUp) and returns the step-up's last answer.
func (b *Browser) Login(ctx context.Context, email, password string) (Response, error) {
	resp, err := b.Post(ctx, "/login", url.Values{"email": {email}, "password": {password}})
	if err != nil || resp.Header.Get(StepUpHeader) == "" {
		return resp, err
	}
	return b.stepUp(ctx, resp, email)
}

// AddToCart puts a product in the cart.
func (b *Browser) AddToCart(ctx context.Context, product string, qty int) (Response, error) {
	return b.Post(ctx, "/cart", url.Values{"product": {product}, "quantity": {fmt.Sprint(qty)}})
}

// Signup creates an account (and signs the browser in; the answer is the
// page after the redirect, 200 on success).
func (b *Browser) Signup(ctx context.Context, email, name, password string, a Address) (Response, error) {
	v := url.Values{"email": {email}, "name": {name}, "password": {password}}
	putAddress(v, "address", a)
	return b.Post(ctx, "/signup", v)
}

// putAddress fills the form fields of an address.
func putAddress(v url.Values, prefix string, a Address) {
	v.Set(prefix+"_line1", a.Line1)
	v.Set(prefix+"_city", a.City)
	v.Set(prefix+"_postal_code", a.PostalCode)
	v.Set(prefix+"_country", a.Country)
}

// checkoutForm fills the checkout form.
func checkoutForm(email string, card Card, billing, shipping Address) url.Values {
	v := url.Values{"card_token": {card.Token}}
	if email != "" {
		v.Set("email", email)
	}
	putAddress(v, "billing", billing)
	if shipping == billing {
		v.Set("ship_to_billing", "1")
	} else {
		putAddress(v, "shipping", shipping)
	}
	return v
}
