// Command shop is the stand-in shop behind the proxies in the gateway attack
// benchmark (bench/gateway/attack/run.sh). Unlike bench/gateway/upstream it
// has a hard capacity, so that an overload is real: at most -slots requests
// are worked on at once, each for a fixed service time, and the rest wait in
// the shop's own queue (first come, first served; a request whose client
// goes away while it waits is dropped). Like a web server with a pool of
// connection workers in front of a pool of application workers, it also
// holds at most -max-conns connections open (more wait in the kernel's
// backlog), so that slow clients can starve it.
//
// Pages: GET / and GET /product/{id} (HTML, the service time), GET
// /static/* (a fifth of it), POST /login (email, password; twice the service
// time; 200 for the right password, 401 otherwise) and POST /checkout (card,
// amount; twice the service time; 200 for a good card, 402 "declined"
// otherwise). The right password of user{n}@example.com is "pw-{n}"; a card
// is good when it starts with 4242.
//
// Every request is counted by role, read from the X-Bench-Role header or the
// bench_role cookie (legit, attack; anything else is other), in total and
// per bucket of -bucket since the last reset. The counts are served as JSON
// on a second listener (-stats-addr: GET /stats, POST /reset), which the
// proxies do not reach. Every answer of the shop carries X-Bench-Shop: 1,
// so a client can tell the shop's answers from a proxy's.
//
//	go run ./gateway/attack/shop -addr 127.0.0.1:3000 -stats-addr 127.0.0.1:3001
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// config is the shop's configuration, from its flags.
type config struct {
	addr, statsAddr string
	slots           int
	serviceTime     time.Duration
	maxConns        int
	products        int
	bucket          time.Duration
	headerTimeout   time.Duration
	readTimeout     time.Duration
}

func main() {
	var cfg config
	flag.StringVar(&cfg.addr, "addr", "127.0.0.1:3000", "address of the shop, host:port")
	flag.StringVar(&cfg.statsAddr, "stats-addr", "127.0.0.1:3001", "address of GET /stats and POST /reset, host:port")
	flag.IntVar(&cfg.slots, "slots", 16, "requests worked on at once; the rest wait in the shop's queue")
	flag.DurationVar(&cfg.serviceTime, "service-time", 20*time.Millisecond, "time one page takes (static a fifth, login and checkout twice)")
	flag.IntVar(&cfg.maxConns, "max-conns", 512, "connections open at once; more wait in the kernel's backlog")
	flag.IntVar(&cfg.products, "products", 5000, "products /product/1 .. /product/N")
	flag.DurationVar(&cfg.bucket, "bucket", 500*time.Millisecond, "width of the per-bucket counts")
	flag.DurationVar(&cfg.headerTimeout, "read-header-timeout", 30*time.Second, "time allowed for a request's headers")
	flag.DurationVar(&cfg.readTimeout, "read-timeout", 60*time.Second, "time allowed for a whole request, body included")
	flag.Parse()
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "shop:", err)
		os.Exit(1)
	}
}

func run(cfg config) error {
	if cfg.slots < 1 || cfg.maxConns < 1 || cfg.products < 1 || cfg.serviceTime < 0 || cfg.bucket <= 0 {
		return errors.New("-slots, -max-conns, -products and -bucket must be positive, -service-time not negative")
	}
	s := newShop(cfg)
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", cfg.addr, err)
	}
	sln, err := net.Listen("tcp", cfg.statsAddr)
	if err != nil {
		ln.Close()
		return fmt.Errorf("listening on %s: %w", cfg.statsAddr, err)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: cfg.headerTimeout, ReadTimeout: cfg.readTimeout,
		IdleTimeout: 60 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	stats := &http.Server{Handler: s.statsHandler(), ReadHeaderTimeout: 5 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(newLimitListener(ln, cfg.maxConns)) }()
	go func() { errc <- stats.Serve(sln) }()
	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	_ = stats.Shutdown(sctx)
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving: %w", err)
	}
	return nil
}

// Roles of requests, as the benchmark's clients declare them.
const (
	roleLegit  = "legit"
	roleAttack = "attack"
	roleOther  = "other"
)

// shop serves the pages and counts what arrives.
type shop struct {
	cfg   config
	slots chan struct{}
	page  []byte
	css   []byte
	js    []byte
	img   []byte

	mu      sync.Mutex
	start   time.Time
	counts  counts
	waiting int
}

// sessionCookie is the shop's session cookie, set on a visitor's first
// page.
const sessionCookie = "shop_session"

// counts are the shop's figures since the last reset.
type counts struct {
	// Arrived counts requests per role when they arrive (before the queue).
	Arrived map[string]int64 `json:"arrived"`
	// Served counts the requests answered, per role.
	Served map[string]int64 `json:"served"`
	// Dropped counts the requests whose client left while they waited.
	Dropped map[string]int64 `json:"dropped"`
	// Buckets counts arrivals per role per bucket since the reset.
	Buckets map[string][]int64 `json:"buckets"`
	// Statuses counts answers per role and status.
	Statuses map[string]map[int]int64 `json:"statuses"`
	// Flagged counts the requests, per role, that a shopguard gateway
	// marked with X-Shopguard-Client-Mismatch (their user agent and
	// headers or TLS disagree): a check that the simulated browsers pass
	// for real ones.
	Flagged map[string]int64 `json:"client_mismatch"`
	// BotScores counts the requests, per role, by the bot score a
	// shopguard gateway told (X-Shopguard-Bot-Score) in tenths: [0] for
	// 0-9, ... [10] for 100.
	BotScores map[string][]int64 `json:"bot_scores"`
	// MaxWaiting is the longest queue seen.
	MaxWaiting int `json:"max_waiting"`
	// BucketMS is the width of a bucket in milliseconds.
	BucketMS int64 `json:"bucket_ms"`
	// Slots and ServiceTimeMS describe the shop's capacity.
	Slots         int     `json:"slots"`
	ServiceTimeMS float64 `json:"service_time_ms"`
}

func newCounts(cfg config) counts {
	return counts{Arrived: map[string]int64{}, Served: map[string]int64{}, Dropped: map[string]int64{}, Flagged: map[string]int64{},
		BotScores: map[string][]int64{}, Buckets: map[string][]int64{}, Statuses: map[string]map[int]int64{},
		BucketMS: cfg.bucket.Milliseconds(), Slots: cfg.slots, ServiceTimeMS: float64(cfg.serviceTime) / float64(time.Millisecond)}
}

func newShop(cfg config) *shop {
	return &shop{cfg: cfg, slots: make(chan struct{}, cfg.slots), page: filler("<li>product</li>\n", 4096),
		css: filler("a{color:#333}\n", 2048), js: filler("void 0;\n", 4096), img: filler("\xff", 8192),
		start: time.Now(), counts: newCounts(cfg)}
}

// filler repeats s to n bytes.
func filler(s string, n int) []byte {
	return []byte(strings.Repeat(s, n/len(s)+1)[:n])
}

// role returns the role r declares.
func role(r *http.Request) string {
	v := r.Header.Get("X-Bench-Role")
	if v == "" {
		if c, err := r.Cookie("bench_role"); err == nil {
			v = c.Value
		}
	}
	switch v {
	case roleLegit, roleAttack:
		return v
	}
	return roleOther
}

// arrive counts the arrival of a request of role rl, flagged or not by a
// gateway, with the bot score a gateway gave it ("" for none).
func (s *shop) arrive(rl string, flagged bool, botScore string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts.Arrived[rl]++
	if flagged {
		s.counts.Flagged[rl]++
	}
	if score, err := strconv.Atoi(botScore); err == nil && score >= 0 && score <= 100 {
		h := s.counts.BotScores[rl]
		if h == nil {
			h = make([]int64, 11)
			s.counts.BotScores[rl] = h
		}
		h[score/10]++
	}
	b := int(time.Since(s.start) / s.cfg.bucket)
	if b < 0 || b > 100_000 {
		return
	}
	bs := s.counts.Buckets[rl]
	for len(bs) <= b {
		bs = append(bs, 0)
	}
	bs[b]++
	s.counts.Buckets[rl] = bs
}

// answered counts an answer.
func (s *shop) answered(rl string, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts.Served[rl]++
	m := s.counts.Statuses[rl]
	if m == nil {
		m = map[int]int64{}
		s.counts.Statuses[rl] = m
	}
	m[status]++
}

// work takes a slot for d, waiting in the queue for one; false when the
// client left first.
func (s *shop) work(ctx context.Context, rl string, d time.Duration) bool {
	s.mu.Lock()
	s.waiting++
	s.counts.MaxWaiting = max(s.counts.MaxWaiting, s.waiting)
	s.mu.Unlock()
	select {
	case s.slots <- struct{}{}:
		s.mu.Lock()
		s.waiting--
		s.mu.Unlock()
	case <-ctx.Done():
		s.mu.Lock()
		s.waiting--
		s.counts.Dropped[rl]++
		s.mu.Unlock()
		return false
	}
	time.Sleep(d)
	<-s.slots
	return true
}

func (s *shop) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rl := role(r)
	s.arrive(rl, r.Header.Get("X-Shopguard-Client-Mismatch") != "", r.Header.Get("X-Shopguard-Bot-Score"))
	w.Header().Set("X-Bench-Shop", "1")
	st := s.cfg.serviceTime
	var status int
	var body []byte
	ctype := "text/html; charset=utf-8"
	path := r.URL.Path
	switch {
	case path == "/" || strings.HasPrefix(path, "/product/"):
		if !getOnly(w, r) {
			s.answered(rl, http.StatusMethodNotAllowed)
			return
		}
		if path != "/" {
			id, err := strconv.Atoi(strings.TrimPrefix(path, "/product/"))
			if err != nil || id < 1 || id > s.cfg.products {
				s.answered(rl, http.StatusNotFound)
				http.NotFound(w, r)
				return
			}
		}
		status, body = http.StatusOK, s.page
		if _, err := r.Cookie(sessionCookie); err != nil {
			// A new visitor gets a session, as every shop's platform
			// gives one (for the cart) on the first page.
			http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: strconv.FormatUint(rand.Uint64(), 36), Path: "/",
				HttpOnly: true, SameSite: http.SameSiteLaxMode})
		}
	case strings.HasPrefix(path, "/static/"):
		if !getOnly(w, r) {
			s.answered(rl, http.StatusMethodNotAllowed)
			return
		}
		st /= 5
		status = http.StatusOK
		switch {
		case strings.HasSuffix(path, ".css"):
			body, ctype = s.css, "text/css"
		case strings.HasSuffix(path, ".js"):
			body, ctype = s.js, "text/javascript"
		default:
			body, ctype = s.img, "image/jpeg"
		}
	case path == "/login" || path == "/checkout":
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			s.answered(rl, http.StatusMethodNotAllowed)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		// The body is read first, as a web server buffers it for the
		// application: a slow body holds a connection, not a slot.
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if err := r.ParseForm(); err != nil {
			s.answered(rl, http.StatusBadRequest)
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		st *= 2
		if path == "/login" {
			status, body = loginStatus(r.PostForm.Get("email"), r.PostForm.Get("password"))
		} else {
			status, body = checkoutStatus(r.PostForm.Get("card"))
		}
	default:
		s.answered(rl, http.StatusNotFound)
		http.NotFound(w, r)
		return
	}
	if !s.work(r.Context(), rl, st) {
		return
	}
	s.answered(rl, status)
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// getOnly answers 405 to anything but GET and HEAD.
func getOnly(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	return false
}

// loginStatus checks a sign-in: the password of user{n}@example.com is
// pw-{n}.
func loginStatus(email, password string) (int, []byte) {
	n, ok := strings.CutSuffix(strings.TrimPrefix(email, "user"), "@example.com")
	if ok && strings.HasPrefix(email, "user") && n != "" && password == "pw-"+n {
		return http.StatusOK, []byte("welcome back\n")
	}
	return http.StatusUnauthorized, []byte("wrong e-mail or password\n")
}

// checkoutStatus charges a card: those starting with 4242 are good.
func checkoutStatus(card string) (int, []byte) {
	if len(card) >= 12 && len(card) <= 19 && strings.HasPrefix(card, "4242") {
		return http.StatusOK, []byte("thank you for your order\n")
	}
	return http.StatusPaymentRequired, []byte("declined\n")
}

// statsHandler serves GET /stats and POST /reset.
func (s *shop) statsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, _ *http.Request) {
		s.mu.Lock()
		data, err := json.Marshal(s.counts)
		s.mu.Unlock()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(data)
	})
	mux.HandleFunc("POST /reset", func(w http.ResponseWriter, _ *http.Request) {
		s.mu.Lock()
		s.start = time.Now()
		s.counts = newCounts(s.cfg)
		s.counts.MaxWaiting = s.waiting
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		s.mu.Lock()
		waiting := s.waiting
		s.mu.Unlock()
		fmt.Fprintf(w, "ok waiting=%d busy=%d\n", waiting, len(s.slots))
	})
	return mux
}

// limitListener accepts at most n connections open at once; Accept waits
// for one to close.
type limitListener struct {
	net.Listener
	sem chan struct{}
}

func newLimitListener(ln net.Listener, n int) net.Listener {
	return &limitListener{Listener: ln, sem: make(chan struct{}, n)}
}

// Accept waits for a free place, then accepts.
func (l *limitListener) Accept() (net.Conn, error) {
	l.sem <- struct{}{}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.sem }}, nil
}

// limitConn frees its place once when closed.
type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

// Close closes the connection and frees its place.
func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
