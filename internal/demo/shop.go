package demo

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/mail"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/shopguard/shopguard/client"
)

// Cookie and header names the shop uses.
const (
	SessionCookie = "shop_session"
	DeviceCookie  = "shop_device"
	// ClientIPHeader carries a simulated client's address. The shop reads it
	// only with ShopConfig.TrustClientIPHeader and only from loopback peers.
	ClientIPHeader = "X-Demo-Client-IP"
	// ShopHeader is on every answer of the shop: an answer without it
	// came from something in front of the shop (a gateway refusing, or
	// challenging, the request).
	ShopHeader = "X-Demo-Shop"
	// OrderHeader and OrderStatusHeader report a checkout's outcome to
	// scripted clients, alongside the HTML page.
	OrderHeader       = "X-Shop-Order"
	OrderStatusHeader = "X-Shop-Order-Status"
	// AccountStatusHeader reports a sign-in or sign-up's outcome: signed_in,
	// wrong (password or account), challenged, blocked; and a step-up's:
	// signed_in, wrong_code (try again), step_up_failed.
	AccountStatusHeader = "X-Shop-Account-Status"
	// StepUpHeader is set on a challenged sign-in's answer when it is the
	// step-up page: the methods it takes (passkey, totp).
	StepUpHeader = "X-Shop-Step-Up"
	// LoginHeader reports the id the shop gave a sign-in attempt; its
	// outcome reaches shopguard as that id plus LoginResultSuffix, the
	// external id shopguard's notices about the sign-in carry.
	LoginHeader       = "X-Shop-Login"
	LoginResultSuffix = "-result"
)

// Order statuses.
const (
	StatusPaid        = "paid"         // allowed and charged
	StatusHeld        = "held"         // shopguard asked for a review: not shipped until an analyst decides
	StatusChallenged  = "challenged"   // shopguard asked for step-up authentication
	StatusBlocked     = "blocked"      // shopguard blocked it
	StatusDeclined    = "declined"     // the card processor declined it
	StatusChargedBack = "charged_back" // paid, then disputed by the cardholder
)

//go:embed templates/*.html
var templateFS embed.FS

// ShopConfig configures the demo shop.
type ShopConfig struct {
	// Name is shown in the page header.
	Name string
	// OrderPrefix starts every order id; make it unique per run so that a
	// reused shopguard database does not treat new orders as retries.
	OrderPrefix string
	// TrustClientIPHeader makes the shop take the client's address from
	// ClientIPHeader on connections from loopback (the simulator's many
	// clients share one machine). Never set it on a shop facing a network.
	TrustClientIPHeader bool
	// PasswordCost is the bcrypt cost for account passwords.
	PasswordCost int
	// Shopguard, if set, is shopguard's URL: the shop serves shopguard's
	// hosted step-up pages under its own origin (/stepup/), as a shop does
	// through the gateway or its reverse proxy, so that passkeys made for
	// the shop's domain work on them.
	Shopguard string
	// Now returns the current time (time.Now when nil).
	Now func() time.Time
	// Log receives the shop's errors (discarded when nil).
	Log *slog.Logger
}

// Address is a postal address.
type Address struct {
	Line1      string
	City       string
	PostalCode string
	Country    string
}

// Account is a customer account.
type Account struct {
	ID        string
	Email     string
	Name      string
	CreatedAt time.Time
	Address   Address
	hash      []byte
}

// OrderItem is one line of an order.
type OrderItem struct {
	Product  Product
	Quantity int
}

// Order is a checkout attempt and what became of it.
type Order struct {
	ID          string
	CreatedAt   time.Time
	AccountID   string // empty for a guest checkout
	Email       string
	Items       []OrderItem
	AmountMinor int64
	Card        Card
	Billing     Address
	Shipping    Address
	IP          string
	DeviceID    string
	UserAgent   string
	Status      string
	Verdict     Verdict
	// Sent is the transaction as sent to shopguard.
	Sent client.Transaction
	// Confirmation is the confirmation e-mail the shop sent for a paid
	// order of an account, registered with shopguard ("" when none).
	Confirmation     string
	ConfirmationCode string
}

// Review is a product review.
type Review struct {
	Product   string
	AccountID string
	Author    string
	Rating    int
	Text      string
	CreatedAt time.Time
}

// Message is a support message.
type Message struct {
	Email     string
	Subject   string
	Text      string
	IP        string
	CreatedAt time.Time
}

type session struct {
	accountID string
	cart      map[string]int
	// addressUntil is when the customer's passed step-up for an address
	// change (from the support assistant) stops allowing one.
	addressUntil time.Time
}

// Shop is the demo web shop.
type Shop struct {
	cfg     ShopConfig
	catalog *Catalog
	guard   *Guard
	proc    *Processor
	tmpl    map[string]*template.Template
	mux     *http.ServeMux
	seq     atomic.Int64
	inbox   *Inbox

	mu       sync.Mutex
	accounts map[string]*Account // by lower-case e-mail
	byID     map[string]*Account
	sessions map[string]*session
	orders   map[string]*Order
	order    []string // order ids in creation order
	reviews  map[string][]Review
	messages []Message
	pending  map[string]*pendingLogin // sign-ins waiting for a step-up, by token
	forwards forwardBox               // messages customers forwarded (Report a suspicious message)
	// hosted serves shopguard's hosted pages under /stepup/ (nil: none).
	hosted http.Handler
}

// NewShop returns a shop selling catalog, guarded by guard, paid through proc.
func NewShop(cfg ShopConfig, catalog *Catalog, guard *Guard, proc *Processor) (*Shop, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.PasswordCost == 0 {
		cfg.PasswordCost = bcrypt.DefaultCost
	}
	if cfg.PasswordCost < bcrypt.MinCost || cfg.PasswordCost > bcrypt.MaxCost {
		return nil, fmt.Errorf("demo: bcrypt cost %d outside %d..%d", cfg.PasswordCost, bcrypt.MinCost, bcrypt.MaxCost)
	}
	s := &Shop{cfg: cfg, catalog: catalog, guard: guard, proc: proc,
		tmpl: map[string]*template.Template{}, mux: http.NewServeMux(), inbox: NewInbox(cfg.Now, cfg.Log),
		accounts: map[string]*Account{}, byID: map[string]*Account{}, sessions: map[string]*session{},
		orders: map[string]*Order{}, reviews: map[string][]Review{}, pending: map[string]*pendingLogin{}}
	funcs := template.FuncMap{
		"money": FormatMoney,
		"stars": func(n int) string { return strings.Repeat("★", n) + strings.Repeat("☆", 5-n) },
		"dict": func(kv ...any) map[string]any {
			m := make(map[string]any, len(kv)/2)
			for i := 0; i+1 < len(kv); i += 2 {
				m[fmt.Sprint(kv[i])] = kv[i+1]
			}
			return m
		},
	}
	pages, err := templateFS.ReadDir("templates")
	if err != nil {
		return nil, fmt.Errorf("demo: templates: %w", err)
	}
	for _, p := range pages {
		if p.Name() == "layout.html" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+p.Name())
		if err != nil {
			return nil, fmt.Errorf("demo: template %s: %w", p.Name(), err)
		}
		s.tmpl[strings.TrimSuffix(p.Name(), ".html")] = t
	}
	if cfg.Shopguard != "" {
		target, err := url.Parse(cfg.Shopguard)
		if err != nil || target.Host == "" {
			return nil, fmt.Errorf("demo: shopguard URL %q is not a URL", cfg.Shopguard)
		}
		s.hosted = hostedProxy(target)
	}
	s.routes()
	return s, nil
}

// hostedProxy passes /stepup/ (the hosted step-up pages) and /assistant/
// (the chat widget and its messages) to shopguard, without the shop's
// cookies.
func hostedProxy(target *url.URL) http.Handler {
	return &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.Out.Header.Del("Cookie")
		r.Out.Header.Del(ClientIPHeader)
	}}
}

func (s *Shop) routes() {
	s.mux.HandleFunc("GET /{$}", s.home)
	s.mux.HandleFunc("GET /products/{id}", s.product)
	s.mux.HandleFunc("POST /products/{id}/reviews", s.postReview)
	s.mux.HandleFunc("POST /products/{id}/posts", s.postContent)
	s.mux.HandleFunc("GET /signup", s.page("signup"))
	s.mux.HandleFunc("POST /signup", s.signup)
	s.mux.HandleFunc("GET /login", s.page("login"))
	s.mux.HandleFunc("POST /login", s.login)
	s.mux.HandleFunc("POST "+StepUpPath, s.stepUp)
	s.mux.HandleFunc("GET "+PasskeyReturnPath, s.passkeyReturn)
	s.mux.HandleFunc("GET "+SecurityPath, s.security)
	s.mux.HandleFunc("POST /logout", s.logout)
	s.mux.HandleFunc("GET /cart", s.cart)
	s.mux.HandleFunc("POST /cart", s.addToCart)
	s.mux.HandleFunc("GET /checkout", s.checkoutForm)
	s.mux.HandleFunc("POST /checkout", s.checkout)
	s.mux.HandleFunc("GET /orders/{id}", s.orderPage)
	s.mux.HandleFunc("GET /support", s.supportPage)
	s.mux.HandleFunc("GET "+AssistantReturnPath, s.assistantVerified)
	s.mux.HandleFunc("POST "+AddressPath, s.changeAddress)
	s.mux.HandleFunc("POST /support", s.support)
	s.mux.HandleFunc("GET "+ReportMessagePath, s.reportMessageForm)
	s.mux.HandleFunc("POST "+ReportMessagePath, s.reportMessage)
	s.mux.HandleFunc("GET "+ReportMessagePath+"/{id}", s.reportResult)
	s.mux.Handle("POST "+WebhookPath, s.inbox)
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
}

// ServeHTTP serves the shop.
func (s *Shop) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set(ShopHeader, "1")
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if s.hosted != nil && (strings.HasPrefix(r.URL.Path, "/stepup/") || strings.HasPrefix(r.URL.Path, "/assistant/")) {
		s.hosted.ServeHTTP(w, r)
		return
	}
	if r.URL.Path != WebhookPath { // shopguard is not a browser
		s.ensureDevice(w, r)
	}
	s.mux.ServeHTTP(w, r)
}

// Inbox is where the shop keeps the notifications shopguard sends to
// WebhookPath.
func (s *Shop) Inbox() *Inbox { return s.inbox }

// ImportAccount adds an existing customer (as a shop moving to shopguard
// has them) with the given password.
func (s *Shop) ImportAccount(a Account, password string) error {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.cfg.PasswordCost)
	if err != nil {
		return fmt.Errorf("demo: hash password: %w", err)
	}
	a.hash = hash
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(a.Email)
	if _, ok := s.accounts[key]; ok {
		return fmt.Errorf("demo: account %s exists", a.Email)
	}
	if a.ID == "" {
		a.ID = "cus_" + strconv.Itoa(len(s.byID)+1)
	}
	s.accounts[key] = &a
	s.byID[a.ID] = &a
	return nil
}

// ImportHistory sends the shop's past orders to shopguard, oldest first,
// filling in each order's Sent (and ID where empty),
// with a few concurrent calls: what a shop adopting shopguard does once so
// that its customers and their cards are known from the first minute.
func (s *Shop) ImportHistory(ctx context.Context, orders []Order, workers int) error {
	jobs := make(chan client.Transaction)
	errc := make(chan error, workers)
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range max(1, workers) {
		wg.Go(func() {
			for t := range jobs {
				if err := s.guard.Import(ctx, t); err != nil {
					errc <- err
					cancel()
					return
				}
			}
		})
	}
	s.mu.Lock()
	accounts := s.byID
	s.mu.Unlock()
feed:
	for i := range orders {
		o := &orders[i]
		if o.ID == "" {
			o.ID = fmt.Sprintf("%s-h%06d", s.cfg.OrderPrefix, i+1)
		}
		o.Status = StatusPaid
		s.mu.Lock()
		acct := accounts[o.AccountID]
		s.mu.Unlock()
		o.Sent = s.transaction(o, acct)
		select {
		case jobs <- o.Sent:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return err
	}
	return ctx.Err()
}

// Orders returns every order so far, oldest first.
func (s *Shop) Orders() []Order {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Order, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, *s.orders[id])
	}
	return out
}

// Reviews returns the reviews of a product.
func (s *Shop) Reviews(product string) []Review {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reviews[product])
}

// Messages returns the support messages received.
func (s *Shop) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.messages)
}

// ProcessChargebacks applies the processor's chargebacks due by now: the
// order is marked charged back and shopguard gets the label.
func (s *Shop) ProcessChargebacks(ctx context.Context, now time.Time) int {
	due := s.proc.DueChargebacks(now)
	for _, cb := range due {
		s.mu.Lock()
		if o, ok := s.orders[cb.OrderID]; ok {
			o.Status = StatusChargedBack
		}
		s.mu.Unlock()
		if err := s.guard.Label(ctx, cb.OrderID, "chargeback", "cardholder disputed the charge", cb.DisputedAt); err != nil {
			s.cfg.Log.Warn("chargeback label not delivered", "order", cb.OrderID, "error", err)
		}
	}
	return len(due)
}

// clientIP returns the client's address: the peer, or the demo header when
// trusted and the peer is loopback.
func (s *Shop) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if s.cfg.TrustClientIPHeader && err == nil && peer.IsLoopback() {
		if a, err := netip.ParseAddr(r.Header.Get(ClientIPHeader)); err == nil {
			return a.Unmap().String()
		}
	}
	return host
}

// ensureDevice gives a browser without a device cookie a new one; the
// cookie is the shop's device id.
func (s *Shop) ensureDevice(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(DeviceCookie); err == nil && validToken(c.Value) {
		return
	}
	id := "dev_" + randomHex(12)
	r.AddCookie(&http.Cookie{Name: DeviceCookie, Value: id})
	http.SetCookie(w, &http.Cookie{Name: DeviceCookie, Value: id, Path: "/", MaxAge: 2 * 365 * 24 * 3600,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
}

func deviceID(r *http.Request) string {
	if c, err := r.Cookie(DeviceCookie); err == nil && validToken(c.Value) {
		return c.Value
	}
	return ""
}

// validToken accepts the ids the shop issues: a short prefix, an
// underscore and hex digits or dashes, at most 64 bytes.
func validToken(v string) bool {
	if len(v) < 5 || len(v) > 64 {
		return false
	}
	for _, c := range v {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// session returns the request's session, creating one (and its cookie) if
// create is set.
func (s *Shop) session(w http.ResponseWriter, r *http.Request, create bool) (string, *session) {
	if c, err := r.Cookie(SessionCookie); err == nil {
		s.mu.Lock()
		sess, ok := s.sessions[c.Value]
		s.mu.Unlock()
		if ok {
			return c.Value, sess
		}
	}
	if !create {
		return "", nil
	}
	id := randomHex(16)
	sess := &session{cart: map[string]int{}}
	s.mu.Lock()
	s.sessions[id] = sess
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: id, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
	return id, sess
}

// pageData is what every template gets.
type pageData struct {
	Shop     string
	Title    string
	Account  *Account
	CartSize int
	Errors   map[string]string
	Form     map[string]string
	Notice   string
	Data     any
}

func (s *Shop) render(w http.ResponseWriter, r *http.Request, status int, name, title string, data any, errs map[string]string) {
	pd := pageData{Shop: s.cfg.Name, Title: title, Data: data, Errors: errs, Form: map[string]string{}}
	if r.Method == http.MethodPost && r.PostForm != nil {
		for k := range r.PostForm {
			if k != "password" && k != "card_token" {
				pd.Form[k] = r.PostForm.Get(k)
			}
		}
	}
	if _, sess := s.session(w, r, false); sess != nil {
		s.mu.Lock()
		for _, n := range sess.cart {
			pd.CartSize += n
		}
		if a := s.byID[sess.accountID]; a != nil {
			copied := *a
			pd.Account = &copied
		}
		s.mu.Unlock()
	}
	if len(errs) > 0 {
		fields := make([]string, 0, len(errs))
		for f := range errs {
			fields = append(fields, f)
		}
		slices.Sort(fields)
		w.Header().Set("X-Shop-Error-Fields", strings.Join(fields, ","))
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'")
	w.WriteHeader(status)
	if err := s.tmpl[name].Execute(w, pd); err != nil {
		s.cfg.Log.Error("render", "page", name, "error", err)
	}
}

func (s *Shop) page(name string) http.HandlerFunc {
	titles := map[string]string{"signup": "Create an account", "login": "Sign in", "support": "Contact support"}
	return func(w http.ResponseWriter, r *http.Request) {
		s.render(w, r, http.StatusOK, name, titles[name], nil, nil)
	}
}

func (s *Shop) notFound(w http.ResponseWriter, r *http.Request, what string) {
	s.render(w, r, http.StatusNotFound, "message", "Not found", what+" does not exist.", nil)
}

func (s *Shop) home(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("q")
	if len(q) > 200 {
		s.render(w, r, http.StatusBadRequest, "home", "Search", s.catalog.Products(), map[string]string{"q": "at most 200 characters"})
		return
	}
	s.render(w, r, http.StatusOK, "home", "Catalogue", struct {
		Query    string
		Products []Product
	}{q, s.catalog.Search(q)}, nil)
}

func (s *Shop) product(w http.ResponseWriter, r *http.Request) {
	p, ok := s.catalog.Product(r.PathValue("id"))
	if !ok {
		s.notFound(w, r, "That product")
		return
	}
	s.render(w, r, http.StatusOK, "product", p.Name, struct {
		Product Product
		Reviews []Review
	}{p, s.Reviews(p.ID)}, nil)
}

// signedIn returns the request's signed-in account, nil if none.
func (s *Shop) signedIn(w http.ResponseWriter, r *http.Request) *Account {
	_, sess := s.session(w, r, false)
	if sess == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byID[sess.accountID]
}

func (s *Shop) postReview(w http.ResponseWriter, r *http.Request) {
	p, ok := s.catalog.Product(r.PathValue("id"))
	if !ok {
		s.notFound(w, r, "That product")
		return
	}
	acct := s.signedIn(w, r)
	if acct == nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.render(w, r, http.StatusBadRequest, "message", "Review", "That form could not be read.", map[string]string{"form": "unreadable form"})
		return
	}
	rating, err := strconv.Atoi(r.PostForm.Get("rating"))
	text := strings.TrimSpace(r.PostForm.Get("text"))
	errs := map[string]string{}
	if err != nil || rating < 1 || rating > 5 {
		errs["rating"] = "choose 1 to 5 stars"
	}
	if len(text) < 3 || len(text) > 2000 {
		errs["text"] = "write 3 to 2,000 characters"
	}
	if len(errs) > 0 {
		s.render(w, r, http.StatusBadRequest, "product", p.Name, struct {
			Product Product
			Reviews []Review
		}{p, s.Reviews(p.ID)}, errs)
		return
	}
	// The content filter judges the review; only a published one shows.
	now := s.cfg.Now()
	post := client.Post{Kind: "review", Rating: rating, Text: text, TargetID: p.ID}
	s.stamp(r, acct, &post, now)
	moderation := notChecked
	if d, err := s.guard.AssessContent(r.Context(), post); err == nil {
		moderation = d.Moderation
	} else {
		s.cfg.Log.Warn("review not checked", "post", post.ID, "error", err)
	}
	w.Header().Set(ModerationHeader, moderation)
	if moderation == "publish" {
		s.mu.Lock()
		s.reviews[p.ID] = append(s.reviews[p.ID], Review{Product: p.ID, AccountID: acct.ID, Author: acct.Name,
			Rating: rating, Text: text, CreatedAt: now})
		s.mu.Unlock()
	}
	http.Redirect(w, r, "/products/"+p.ID, http.StatusSeeOther)
}

func (s *Shop) support(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.render(w, r, http.StatusBadRequest, "support", "Contact support", nil, map[string]string{"form": "unreadable form"})
		return
	}
	m := Message{Email: strings.TrimSpace(r.PostForm.Get("email")), Subject: strings.TrimSpace(r.PostForm.Get("subject")),
		Text: strings.TrimSpace(r.PostForm.Get("message")), IP: s.clientIP(r), CreatedAt: s.cfg.Now()}
	errs := map[string]string{}
	if a, err := mail.ParseAddress(m.Email); err != nil || a.Address != m.Email {
		errs["email"] = "enter an e-mail address such as ada@example.com"
	}
	if m.Subject == "" || len(m.Subject) > 200 {
		errs["subject"] = "required, at most 200 characters"
	}
	if len(m.Text) < 3 || len(m.Text) > 5000 {
		errs["message"] = "write 3 to 5,000 characters"
	}
	if len(errs) > 0 {
		s.render(w, r, http.StatusBadRequest, "support", "Contact support", nil, errs)
		return
	}
	// The support assistant and phishing filter (later capabilities) will read messages here.
	s.mu.Lock()
	s.messages = append(s.messages, m)
	s.mu.Unlock()
	s.render(w, r, http.StatusOK, "message", "Message sent", "Thanks, we will answer by e-mail within a day.", nil)
}
