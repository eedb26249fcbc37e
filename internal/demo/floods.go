package demo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Floods and scrapers: traffic that does not try to buy, sign in or post,
// but to take the shop down or copy it. In front of the demo shop a
// shopguard gateway (Options.Gateway) answers them; without one they reach
// the shop.

// floodNetworks and floodAddrsPerNetwork: the HTTP flood comes from a
// botnet of rented servers, 32 addresses in each of 8 hosting /24s.
const (
	floodNetworks        = 8
	floodAddrsPerNetwork = 32
	// floodRate is the flood's page views per second in all (each address
	// about 1.6 a second, no faster than a quick person; each /24 50).
	floodRate = 400
	// scraperAddrs and scraperRate: a scraper copying the catalogue from
	// four addresses of one /24, 40 pages a second in all.
	scraperAddrs = 4
	scraperRate  = 40
)

// runHTTPFlood plays a distributed HTTP flood for the middle of the run
// (from 30 % to 70 %): page views of the home page, searches and product
// pages from 256 addresses, each an open loop that does not wait for its
// answers beyond the client's timeout, without cookies.
func runHTTPFlood(ctx context.Context, st *Stage) {
	ctx, cancel, ok := st.during(ctx, 0.3, 0.7)
	defer cancel()
	if !ok {
		return
	}
	rng := st.Rand()
	products := NewCatalog().Products()
	perAddr := time.Duration(float64(time.Second) * floodNetworks * floodAddrsPerNetwork / floodRate)
	for n := range floodNetworks {
		network := [3]byte{185, byte(rng.IntN(256)), byte(rng.IntN(256))}
		for a := range floodAddrsPerNetwork {
			ip := fmt.Sprintf("%d.%d.%d.%d", network[0], network[1], network[2], 2+a)
			agent := pick(rng, desktopAgents)
			st.Go(func(rng *rand.Rand, id int64) {
				b := st.NewBrowser(Truth{Actor: fmt.Sprintf("flood-%d-%d", n, a), Scenario: "http_flood", Fraud: true}, "", ip, agent)
				b.forgetCookies()
				// Spread the addresses' first requests over one period.
				if !sleep(ctx, time.Duration(rng.Int64N(int64(perAddr)))) {
					return
				}
				for {
					path := "/"
					switch x := rng.IntN(10); {
					case x < 2:
						path = "/?q=" + pick(rng, []string{"phone", "laptop", "gift", "coffee", "boots"})
					case x < 8:
						path = "/products/" + products[rng.IntN(len(products))].ID
					}
					if _, err := b.Get(ctx, path); err != nil && ctx.Err() != nil || errors.Is(err, ErrRequestBudget) {
						return
					}
					if !sleep(ctx, perAddr/2+time.Duration(rng.Int64N(int64(perAddr)))) {
						return
					}
				}
			})
		}
	}
	st.Wait()
}

// runScraper plays a scraper copying the catalogue (every product page,
// in order, again and again) from a few addresses of one network from 20 %
// of the run to 80 %, as fast as scraperRate allows.
func runScraper(ctx context.Context, st *Stage) {
	ctx, cancel, ok := st.during(ctx, 0.2, 0.8)
	defer cancel()
	if !ok {
		return
	}
	rng := st.Rand()
	products := NewCatalog().Products()
	network := [3]byte{104, byte(rng.IntN(256)), byte(rng.IntN(256))}
	gap := time.Second * scraperAddrs / scraperRate
	for a := range scraperAddrs {
		ip := fmt.Sprintf("%d.%d.%d.%d", network[0], network[1], network[2], 10+a)
		st.Go(func(rng *rand.Rand, id int64) {
			b := st.NewBrowser(Truth{Actor: fmt.Sprintf("scraper-%d", a), Scenario: "scraper", Fraud: true}, "", ip, "python-requests/2.31.0")
			for i := a; ; i += scraperAddrs {
				if _, err := b.Get(ctx, "/products/"+products[i%len(products)].ID); err != nil && ctx.Err() != nil || errors.Is(err, ErrRequestBudget) {
					return
				}
				if !sleep(ctx, gap) {
					return
				}
			}
		})
	}
	st.Wait()
}

// during waits until the fraction from of the run has passed and returns
// a context that ends at the fraction to; ok is false when the run ended
// first.
func (st *Stage) during(ctx context.Context, from, to float64) (context.Context, context.CancelFunc, bool) {
	if !st.WaitUntil(ctx, from) {
		return ctx, func() {}, false
	}
	ctx, cancel := context.WithTimeout(ctx, time.Duration(to*float64(st.sim.cfg.Duration))-st.sim.Elapsed())
	return ctx, cancel, true
}
