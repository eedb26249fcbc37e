package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Scenarios: a baseline without attack, then one attack each.
const (
	scenBaseline  = "baseline"
	scenFlood     = "flood"
	scenDFlood    = "dflood"
	scenScraper   = "scraper"
	scenStuffing  = "stuffing"
	scenCardTest  = "cardtest"
	scenSlowloris = "slowloris"
	scenSlowPost  = "slowpost"
	scenDSlowPost = "dslowpost"
)

// scenarios lists every scenario in the order the suite runs them.
var scenarios = []string{scenBaseline, scenFlood, scenDFlood, scenScraper, scenStuffing, scenCardTest, scenSlowloris, scenSlowPost, scenDSlowPost}

// attackConfig shapes the attacks.
type attackConfig struct {
	base        *url.URL
	duration    time.Duration
	floodRPS    float64 // single-source and distributed floods
	scraperRPS  float64
	stuffingRPS float64
	cardRPS     float64
	dfloodAddrs int
	products    int
	timeout     time.Duration // an attack request's
	// slowhttptest, its connections and rate, and the file its output goes to.
	slowhttptest string
	slowConns    int
	slowRate     int
	slowLog      string
	// dslowAddrs is how many addresses send one slow body each.
	dslowAddrs int
}

// attackStats counts what the attackers sent and what came back.
type attackStats struct {
	mu sync.Mutex
	// Sent counts requests sent (or, for slowhttptest, connections
	// aimed at); Skipped those not sent because the attacker's
	// connections were all busy.
	Sent    int64 `json:"sent"`
	Skipped int64 `json:"skipped"`
	// Outcomes: the shop answered; the proxy answered itself (refusal,
	// 502/504); the proxy served a challenge page; no answer (error,
	// timeout, connection refused or closed).
	Shop       int64         `json:"shop_answered"`
	Proxy      int64         `json:"proxy_answered"`
	Challenged int64         `json:"challenge_pages"`
	Errors     int64         `json:"errors"`
	Statuses   map[int]int64 `json:"statuses"`
	// SentBuckets counts the requests sent per bucket since the run
	// started.
	SentBuckets []int64 `json:"sent_buckets"`
	start       time.Time
	bucket      time.Duration
}

func newAttackStats(start time.Time, bucket time.Duration) *attackStats {
	return &attackStats{Statuses: map[int]int64{}, start: start, bucket: bucket}
}

func (s *attackStats) sent() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Sent++
	b := int(time.Since(s.start) / s.bucket)
	for len(s.SentBuckets) <= b {
		s.SentBuckets = append(s.SentBuckets, 0)
	}
	s.SentBuckets[b]++
}

func (s *attackStats) result(resp *http.Response, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case err != nil:
		s.Errors++
		return
	case resp.Header.Get("X-Bench-Shop") == "1":
		s.Shop++
	case resp.StatusCode == http.StatusForbidden && (resp.Header.Get(challengeHeader) == "pow" || resp.Header.Get(challengeHeader) == "wait"):
		s.Challenged++
	default:
		s.Proxy++
	}
	s.Statuses[resp.StatusCode]++
}

// attacker is a set of source addresses, each with its own connections
// and a bound on its requests in flight.
type attacker struct {
	clients []*http.Client
	slots   []chan struct{}
}

// newAttacker returns an attacker sending from addrs, at most perAddr
// requests in flight from each. It does not run JavaScript, keep cookies
// or follow redirects.
func newAttacker(addrs []net.IP, perAddr int, timeout time.Duration) *attacker {
	a := &attacker{}
	for _, ip := range addrs {
		// Chrome's header order too: the attackers copy the customers.
		tr := newChromeTransport((&net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}, Timeout: 3 * time.Second}).DialContext, perAddr)
		a.clients = append(a.clients, &http.Client{Transport: tr, Timeout: timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }})
		a.slots = append(a.slots, make(chan struct{}, perAddr))
	}
	return a
}

func (a *attacker) close() {
	for _, c := range a.clients {
		c.CloseIdleConnections()
	}
}

// openLoop sends rate requests per second for d (at most rate×d), made by
// build, from the attacker's addresses in turn; a request whose address
// has no free slot is skipped, not queued. It returns when every request
// sent has ended.
func (a *attacker) openLoop(ctx context.Context, rate float64, d time.Duration, st *attackStats, build func(rng *rand.Rand, n int) (*http.Request, error)) {
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	total := int(rate * d.Seconds())
	start := time.Now()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for n := 0; n < total; {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		due := min(total, int(time.Since(start).Seconds()*rate))
		for ; n < due; n++ {
			i := n % len(a.clients)
			select {
			case a.slots[i] <- struct{}{}:
			default:
				st.mu.Lock()
				st.Skipped++
				st.mu.Unlock()
				continue
			}
			req, err := build(rng, n)
			if err != nil {
				<-a.slots[i]
				st.result(nil, err)
				continue
			}
			st.sent()
			wg.Add(1)
			go func(c *http.Client, slot chan struct{}) {
				defer wg.Done()
				defer func() { <-slot }()
				resp, err := c.Do(req)
				if err == nil {
					_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
					resp.Body.Close()
				}
				st.result(resp, err)
			}(a.clients[i], a.slots[i])
		}
	}
}

// addrs returns n source addresses 127.a.(i%per24s).(2+i/per24s): n
// addresses spread over per24s networks /24.
func addrs(a byte, n, per24s int) []net.IP {
	out := make([]net.IP, n)
	for i := range out {
		out[i] = net.IPv4(127, a, byte(i%per24s), byte(2+i/per24s))
	}
	return out
}

// attackRequest returns a request of the attackers: a navigation's headers
// copied from Chrome, with a Referer (so that they cannot be told from the
// customers' by their headers), the attack role for the shop's counts.
// Like most attack tools they keep no cookies.
func attackRequest(ctx context.Context, base *url.URL, method, path string, form url.Values) (*http.Request, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, base.String()+path, body)
	if err != nil {
		return nil, err
	}
	setChromeHeaders(req.Header, "document", "same-origin")
	req.Header.Set("Referer", base.String()+"/") // as if clicked on the home page
	req.Header.Set("X-Bench-Role", "attack")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", base.Scheme+"://"+base.Host)
	}
	return req, nil
}

// runAttack runs scenario's attack for cfg.duration and returns its
// counts.
func runAttack(ctx context.Context, scenario string, cfg attackConfig, st *attackStats) error {
	pageView := func(rng *rand.Rand, _ int) (*http.Request, error) {
		path := "/"
		if rng.IntN(5) > 0 {
			path = "/product/" + strconv.Itoa(1+rng.IntN(cfg.products))
		}
		return attackRequest(ctx, cfg.base, http.MethodGet, path, nil)
	}
	switch scenario {
	case scenBaseline:
		return nil
	case scenFlood:
		// One address, as many connections as a flood tool opens.
		a := newAttacker([]net.IP{net.IPv4(127, 2, 0, 1)}, 256, cfg.timeout)
		defer a.close()
		a.openLoop(ctx, cfg.floodRPS, cfg.duration, st, pageView)
	case scenDFlood:
		// Many addresses over many networks, one request at a time each:
		// each address alone is no faster than a customer.
		a := newAttacker(addrs(3, cfg.dfloodAddrs, 250), 1, cfg.timeout)
		defer a.close()
		a.openLoop(ctx, cfg.floodRPS, cfg.duration, st, pageView)
	case scenScraper:
		// Four addresses of one network walk the catalogue in order.
		var next atomic.Int64
		a := newAttacker(addrs(6, 4, 1), 16, cfg.timeout)
		defer a.close()
		a.openLoop(ctx, cfg.scraperRPS, cfg.duration, st, func(*rand.Rand, int) (*http.Request, error) {
			id := 1 + int(next.Add(1)-1)%cfg.products
			return attackRequest(ctx, cfg.base, http.MethodGet, "/product/"+strconv.Itoa(id), nil)
		})
	case scenStuffing:
		// A list of leaked e-mail and password pairs, one in fifty still
		// right, tried from 100 proxies in 25 networks.
		a := newAttacker(addrs(4, 100, 25), 2, cfg.timeout)
		defer a.close()
		a.openLoop(ctx, cfg.stuffingRPS, cfg.duration, st, func(rng *rand.Rand, _ int) (*http.Request, error) {
			user := strconv.Itoa(1 + rng.IntN(1_000_000))
			pw := "pw-" + user
			if rng.IntN(50) > 0 {
				pw = "Summer2024!" + strconv.Itoa(rng.IntN(1000))
			}
			return attackRequest(ctx, cfg.base, http.MethodPost, "/login", url.Values{"email": {"user" + user + "@example.com"}, "password": {pw}})
		})
	case scenCardTest:
		// Stolen card numbers tried with small amounts from 20 addresses
		// in 5 networks; one in fifty is good.
		a := newAttacker(addrs(5, 20, 5), 4, cfg.timeout)
		defer a.close()
		a.openLoop(ctx, cfg.cardRPS, cfg.duration, st, func(rng *rand.Rand, _ int) (*http.Request, error) {
			card := fmt.Sprintf("5%015d", rng.Int64N(1e15))
			if rng.IntN(50) == 0 {
				card = fmt.Sprintf("4242%012d", rng.Int64N(1e12))
			}
			return attackRequest(ctx, cfg.base, http.MethodPost, "/checkout", url.Values{"card": {card}, "amount": {"1"}})
		})
	case scenSlowloris, scenSlowPost:
		return runSlowHTTPTest(ctx, scenario, cfg, st)
	case scenDSlowPost:
		runSlowBodies(ctx, cfg, st)
	default:
		return fmt.Errorf("unknown scenario %q (%s)", scenario, strings.Join(scenarios, ", "))
	}
	return nil
}

// runSlowHTTPTest runs Debian's slowhttptest for cfg.duration: slow
// headers (slowloris) at GET /, or a slow body (slow POST) at POST
// /checkout, from 127.0.0.1 (slowhttptest cannot choose its source
// address), marked as the attack by its cookie.
func runSlowHTTPTest(ctx context.Context, scenario string, cfg attackConfig, st *attackStats) error {
	secs := max(1, int(cfg.duration.Round(time.Second)/time.Second))
	args := []string{"-c", strconv.Itoa(cfg.slowConns), "-r", strconv.Itoa(cfg.slowRate), "-i", "5", "-l", strconv.Itoa(secs),
		"-p", "3", "-x", "24", "-j", "bench_role=attack"}
	if scenario == scenSlowloris {
		args = append(args, "-H", "-u", cfg.base.String()+"/")
	} else {
		args = append(args, "-B", "-s", "8192", "-t", "POST", "-u", cfg.base.String()+"/checkout")
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.duration+5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, cfg.slowhttptest, args...)
	cmd.WaitDelay = 2 * time.Second
	if cfg.slowLog != "" {
		f, err := os.Create(cfg.slowLog)
		if err != nil {
			return fmt.Errorf("slowhttptest log: %w", err)
		}
		defer f.Close()
		fmt.Fprintf(f, "$ %s %s\n", cfg.slowhttptest, strings.Join(args, " "))
		cmd.Stdout, cmd.Stderr = f, f
	}
	st.mu.Lock()
	st.Sent = int64(cfg.slowConns)
	st.mu.Unlock()
	if err := cmd.Run(); err != nil && ctx.Err() == nil {
		return fmt.Errorf("slowhttptest: %w", err)
	}
	return nil
}

// runSlowBodies is a slow POST from many addresses, which slowhttptest
// cannot do: cfg.dslowAddrs addresses (each in its own /24) send one POST
// /checkout each, announcing 8,192 bytes of body and sending 10 bytes a
// second until cfg.duration is over. No address has more than one
// connection, so no per-address cap applies.
func runSlowBodies(ctx context.Context, cfg attackConfig, st *attackStats) {
	ctx, cancel := context.WithTimeout(ctx, cfg.duration)
	defer cancel()
	var wg sync.WaitGroup
	for _, ip := range addrs(10, cfg.dslowAddrs, cfg.dslowAddrs) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}, Timeout: 3 * time.Second}
			c, err := d.DialContext(ctx, "tcp", cfg.base.Host)
			st.sent()
			if err != nil {
				st.result(nil, err)
				return
			}
			defer c.Close()
			go func() { <-ctx.Done(); c.Close() }() // ends the drip and any read
			h := http.Header{}
			setChromeHeaders(h, "document", "same-origin")
			h.Set("X-Bench-Role", "attack")
			h.Set("Content-Type", "application/x-www-form-urlencoded")
			h.Set("Content-Length", "8192")
			var head strings.Builder
			bw := bufio.NewWriter(&head)
			writeChromeRequest(bw, &http.Request{Method: http.MethodPost, URL: &url.URL{Path: "/checkout"}, Host: cfg.base.Host, Header: h}, nil)
			bw.WriteString("card=")
			bw.Flush()
			_, err = io.WriteString(c, head.String())
			for err == nil && sleepCtx(ctx, time.Second) {
				_, err = c.Write([]byte("4111111111"))
			}
		}()
	}
	wg.Wait()
}
