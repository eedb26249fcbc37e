package main

import (
	"context"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// Kinds of a customer's requests.
const (
	kindPage     = "page"
	kindStatic   = "static"
	kindLogin    = "login"
	kindCheckout = "checkout"
)

// legitRecord is one action of a customer: a page view (with any redirect
// and challenge on the way), a subresource, a sign-in or a checkout.
type legitRecord struct {
	kind       string
	at         time.Duration // since the run started
	latency    time.Duration
	ok         bool // the shop answered, with the answer expected
	challenged bool
	unfinished bool // still waiting when the run ended
	// failure says how a failed action ended: "shop 401", "proxy 503",
	// "error" ("" for a success).
	failure string
}

// recorder collects the customers' records.
type recorder struct {
	mu       sync.Mutex
	start    time.Time
	records  []legitRecord
	sessions int
	// challengedSessions counts sessions shown at least one challenge.
	challengedSessions int
	challengePages     int
	hashes             int
}

func (r *recorder) add(rec legitRecord) {
	r.mu.Lock()
	r.records = append(r.records, rec)
	r.mu.Unlock()
}

// humanConfig shapes the customers.
type humanConfig struct {
	base     *url.URL
	users    int           // customers browsing at once
	think    time.Duration // mean pause between a customer's actions
	timeout  time.Duration // a browser's patience per request
	products int
}

// legitAddr is the source address of the n-th customer session: 127.1.a.b,
// one /24 per session for the first 256, as customers come from many
// networks.
func legitAddr(n int) net.IP {
	return net.IPv4(127, 1, byte(n%256), byte(2+(n/256)%250))
}

// runHumans runs cfg.users customers until ctx ends, each a sequence of
// sessions, each session a new customer (new address, new cookie jar):
// the home page with its style sheet and script, two to five product
// pages with their image, and for half of them a sign-in (one in thirty
// mistyping the password first), then for six in ten of those a checkout.
// stop makes them start nothing new; ctx's end cancels what is in flight.
func runHumans(ctx, stop context.Context, cfg humanConfig, rec *recorder, seed uint64) *sync.WaitGroup {
	var wg sync.WaitGroup
	var mu sync.Mutex
	next := 0
	newSession := func() int {
		mu.Lock()
		defer mu.Unlock()
		next++
		return next - 1
	}
	for u := 0; u < cfg.users; u++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(u)))
			// Customers arrive spread over the first think time.
			if !sleepCtx(stop, time.Duration(rng.Float64()*float64(cfg.think))) {
				return
			}
			for stop.Err() == nil {
				n := newSession()
				h := &human{cfg: cfg, rec: rec, rng: rng, n: n, b: newBrowser(cfg.base, legitAddr(n), cfg.timeout), ctx: ctx}
				h.session(ctx, stop)
				h.b.close()
				rec.mu.Lock()
				rec.sessions++
				if h.b.challenges > 0 {
					rec.challengedSessions++
				}
				rec.challengePages += h.b.challenges
				rec.hashes += h.b.hashes
				rec.mu.Unlock()
			}
		}()
	}
	return &wg
}

// human is one customer session.
type human struct {
	cfg humanConfig
	rec *recorder
	rng *rand.Rand
	n   int
	b   *browser
	// ctx ends when the run does: a request it cancels is unfinished,
	// not failed.
	ctx context.Context
}

// think pauses like a person reading: uniform in [0.5, 1.5] × the mean.
func (h *human) think(stop context.Context) bool {
	return sleepCtx(stop, time.Duration((0.5+h.rng.Float64())*float64(h.cfg.think)))
}

func (h *human) session(ctx, stop context.Context) {
	if !h.page(ctx, "/", "/static/app.css", "/static/app.js", "/static/img/banner-1.jpg", "/static/img/banner-2.jpg") {
		return
	}
	for range 2 + h.rng.IntN(4) {
		if !h.think(stop) {
			return
		}
		id := 1 + h.rng.IntN(h.cfg.products)
		// The product's gallery: a shop's page shows several pictures.
		img := "/static/img/" + strconv.Itoa(id)
		if !h.page(ctx, "/product/"+strconv.Itoa(id), img+".jpg", img+"-2.jpg", img+"-3.jpg", img+"-4.jpg") {
			return
		}
	}
	if h.rng.Float64() >= 0.5 || !h.think(stop) {
		return
	}
	user := strconv.Itoa(1 + h.rng.IntN(100_000))
	email := "user" + user + "@example.com"
	if h.rng.IntN(30) == 0 {
		if !h.post(ctx, kindLogin, "/login", url.Values{"email": {email}, "password": {"pw-" + user + "x"}}, http.StatusUnauthorized) || !h.think(stop) {
			return
		}
	}
	if !h.post(ctx, kindLogin, "/login", url.Values{"email": {email}, "password": {"pw-" + user}}, http.StatusOK) {
		return
	}
	if h.rng.Float64() >= 0.6 || !h.think(stop) {
		return
	}
	h.post(ctx, kindCheckout, "/checkout", url.Values{"card": {"4242424242424242"}, "amount": {strconv.Itoa(10 + h.rng.IntN(200))}}, http.StatusOK)
}

// page views path, then loads its subresources at once (the browser's six
// connections bound them); false when the run is over.
func (h *human) page(ctx context.Context, path string, subresources ...string) bool {
	start := time.Now()
	out := h.b.navigate(ctx, http.MethodGet, path, nil)
	h.record(kindPage, start, out, http.StatusOK)
	if ctx.Err() != nil {
		return false
	}
	if !out.shop || out.status != http.StatusOK {
		return true // an error page has no subresources
	}
	var wg sync.WaitGroup
	for _, s := range subresources {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.Now()
			h.record(kindStatic, t, h.b.fetch(ctx, s), http.StatusOK)
		}()
	}
	wg.Wait()
	return ctx.Err() == nil
}

// post submits a form and records it; false when the run is over.
func (h *human) post(ctx context.Context, kind, path string, form url.Values, want int) bool {
	start := time.Now()
	out := h.b.navigate(ctx, http.MethodPost, path, form)
	h.record(kind, start, out, want)
	return ctx.Err() == nil
}

func (h *human) record(kind string, start time.Time, out outcome, want int) {
	r := legitRecord{kind: kind, at: start.Sub(h.rec.start), latency: time.Since(start),
		ok: out.err == nil && out.shop && out.status == want, challenged: out.challenged,
		unfinished: out.err != nil && h.ctx.Err() != nil}
	switch {
	case r.ok:
	case out.err != nil:
		r.failure = "error"
	case out.shop:
		r.failure = "shop " + strconv.Itoa(out.status)
	default:
		r.failure = "proxy " + strconv.Itoa(out.status)
	}
	h.rec.add(r)
}

// sleepCtx sleeps d unless ctx ends first; false when it ended.
func sleepCtx(ctx context.Context, d time.Duration) bool {
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
