package demo_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/shopguard/shopguard/client"
	"github.com/shopguard/shopguard/internal/demo"
	"github.com/shopguard/shopguard/internal/risk"
)

// testShop is a demo shop over a shopguard reached at sgURL.
type testShop struct {
	shop  *demo.Shop
	proc  *demo.Processor
	guard *demo.Guard
	srv   *httptest.Server
	card  demo.Card // a good card
	bad   demo.Card // a card the bank declines
}

func newTestShop(t testing.TB, sgURL, key string, timeout time.Duration, onFailure risk.Action, opts ...func(*demo.ShopConfig)) *testShop {
	t.Helper()
	c, err := client.New(sgURL, key, client.WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	guard, err := demo.NewGuard(demo.GuardConfig{Timeout: timeout, CheckoutOnFailure: onFailure}, c)
	if err != nil {
		t.Fatal(err)
	}
	proc := demo.NewProcessor()
	cfg := demo.ShopConfig{Name: "Test shop", OrderPrefix: "t" + time.Now().Format("150405.000000"),
		TrustClientIPHeader: true, PasswordCost: 4}
	for _, o := range opts {
		o(&cfg)
	}
	shop, err := demo.NewShop(cfg, demo.NewCatalog(), guard, proc)
	if err != nil {
		t.Fatal(err)
	}
	if err := shop.ImportAccount(demo.Account{ID: "cus_1", Email: "ada@example.com", Name: "Ada",
		CreatedAt: time.Now().Add(-400 * 24 * time.Hour),
		Address:   demo.Address{Line1: "1 Main Street", City: "Berlin", PostalCode: "10115", Country: "DE"}}, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	ts := &testShop{shop: shop, proc: proc, guard: guard, srv: httptest.NewServer(shop),
		card: proc.Issue("4532015112830366", "DE", false), bad: proc.Issue("4532015112830374", "DE", true)}
	t.Cleanup(ts.srv.Close)
	return ts
}

// browser is a cookie-keeping client that does not follow redirects.
func (ts *testShop) browser(t testing.TB) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (ts *testShop) post(t testing.TB, b *http.Client, path string, form url.Values) *http.Response {
	t.Helper()
	resp, _ := ts.postRead(t, b, path, form)
	return resp
}

// postRead posts a form from a customer's address and returns the answer
// and its body.
func (ts *testShop) postRead(t testing.TB, b *http.Client, path string, form url.Values) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, ts.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(demo.ClientIPHeader, "84.10.20.30")
	resp, err := b.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func (ts *testShop) get(t testing.TB, b *http.Client, path string) *http.Response {
	t.Helper()
	resp, err := b.Get(ts.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func checkoutValues(card demo.Card, extra url.Values) url.Values {
	v := url.Values{"email": {"guest@example.com"}, "card_token": {card.Token}, "ship_to_billing": {"1"},
		"billing_line1": {"1 Main Street"}, "billing_city": {"Berlin"}, "billing_postal_code": {"10115"}, "billing_country": {"DE"}}
	for k, vs := range extra {
		v[k] = vs
	}
	return v
}

func TestShopRejectsBadInput(t *testing.T) {
	sgURL, key := startShopguard(t)
	ts := newTestShop(t, sgURL, key, 5*time.Second, risk.ActionReview)
	long := strings.Repeat("x", 201)
	tests := []struct {
		name       string
		setup      []string // products put in the cart first
		login      bool
		method     string
		path       string
		form       url.Values
		wantStatus int
		wantFields string // X-Shop-Error-Fields
	}{
		{name: "unknown product page", method: "GET", path: "/products/nope", wantStatus: 404},
		{name: "search too long", method: "GET", path: "/?q=" + long, wantStatus: 400, wantFields: "q"},
		{name: "cart unknown product", method: "POST", path: "/cart", form: url.Values{"product": {"nope"}, "quantity": {"1"}}, wantStatus: 400, wantFields: "product"},
		{name: "cart quantity zero", method: "POST", path: "/cart", form: url.Values{"product": {"paperback"}, "quantity": {"0"}}, wantStatus: 400, wantFields: "quantity"},
		{name: "cart quantity too large", method: "POST", path: "/cart", form: url.Values{"product": {"paperback"}, "quantity": {"21"}}, wantStatus: 400, wantFields: "quantity"},
		{name: "cart quantity not a number", method: "POST", path: "/cart", form: url.Values{"product": {"paperback"}, "quantity": {"two"}}, wantStatus: 400, wantFields: "quantity"},
		{name: "cart set negative", method: "POST", path: "/cart", form: url.Values{"product": {"paperback"}, "set": {"-1"}}, wantStatus: 400, wantFields: "set"},
		{name: "checkout with an empty cart", method: "POST", path: "/checkout", form: checkoutValues(ts.card, nil), wantStatus: 400, wantFields: "cart"},
		{name: "checkout missing everything", setup: []string{"paperback"}, method: "POST", path: "/checkout", form: url.Values{},
			wantStatus: 400, wantFields: "billing_city,billing_country,billing_line1,billing_postal_code,card_token,email,shipping_city,shipping_country,shipping_line1,shipping_postal_code"},
		{name: "checkout unknown card", setup: []string{"paperback"}, method: "POST", path: "/checkout",
			form: checkoutValues(demo.Card{Token: "tok_nope"}, nil), wantStatus: 400, wantFields: "card_token"},
		{name: "checkout bad country and e-mail", setup: []string{"paperback"}, method: "POST", path: "/checkout",
			form: checkoutValues(ts.card, url.Values{"billing_country": {"Germany"}, "email": {"not an address"}}), wantStatus: 400, wantFields: "billing_country,email"},
		{name: "signup invalid", method: "POST", path: "/signup", form: url.Values{"email": {"x"}, "name": {""}, "password": {"short"}},
			wantStatus: 400, wantFields: "address_city,address_country,address_line1,address_postal_code,email,name,password"},
		{name: "signup existing e-mail", method: "POST", path: "/signup", form: url.Values{"email": {"ada@example.com"}, "name": {"Ada"}, "password": {"long enough password"},
			"address_line1": {"1 Main Street"}, "address_city": {"Berlin"}, "address_postal_code": {"10115"}, "address_country": {"DE"}}, wantStatus: 409, wantFields: "email"},
		{name: "login wrong password", method: "POST", path: "/login", form: url.Values{"email": {"ada@example.com"}, "password": {"wrong"}}, wantStatus: 401, wantFields: "password"},
		{name: "login unknown account", method: "POST", path: "/login", form: url.Values{"email": {"bob@example.com"}, "password": {"whatever it is"}}, wantStatus: 401, wantFields: "password"},
		{name: "review signed out", method: "POST", path: "/products/paperback/reviews", form: url.Values{"rating": {"5"}, "text": {"great"}}, wantStatus: 303},
		{name: "review bad rating and text", login: true, method: "POST", path: "/products/paperback/reviews", form: url.Values{"rating": {"6"}, "text": {"x"}}, wantStatus: 400, wantFields: "rating,text"},
		{name: "support invalid", method: "POST", path: "/support", form: url.Values{"email": {"nope"}, "subject": {""}, "message": {""}}, wantStatus: 400, wantFields: "email,message,subject"},
		{name: "order of someone else", method: "GET", path: "/orders/t-000001", wantStatus: 404},
		{name: "unreadable form", method: "POST", path: "/support", form: nil, wantStatus: 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := ts.browser(t)
			if tc.login {
				if r := ts.post(t, b, "/login", url.Values{"email": {"ada@example.com"}, "password": {"correct horse battery"}}); r.StatusCode != 303 {
					t.Fatalf("login: %d", r.StatusCode)
				}
			}
			for _, p := range tc.setup {
				if r := ts.post(t, b, "/cart", url.Values{"product": {p}, "quantity": {"1"}}); r.StatusCode != 303 {
					t.Fatalf("add %s: %d", p, r.StatusCode)
				}
			}
			var resp *http.Response
			switch {
			case tc.method == "GET":
				resp = ts.get(t, b, tc.path)
			case tc.form == nil: // a body that is not a form
				req, _ := http.NewRequest("POST", ts.srv.URL+tc.path, strings.NewReader("%zz"))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				var err error
				if resp, err = b.Do(req); err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
			default:
				resp = ts.post(t, b, tc.path, tc.form)
			}
			if resp.StatusCode != tc.wantStatus {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			if got := resp.Header.Get("X-Shop-Error-Fields"); tc.wantFields != "" && got != tc.wantFields {
				t.Errorf("error fields %q, want %q", got, tc.wantFields)
			}
		})
	}
	if n := len(ts.shop.Orders()); n != 0 {
		t.Errorf("bad input created %d orders", n)
	}
}

// TestShopObeysShopguard checks that each action shopguard returns leads
// to the right order status, that only allowed orders are charged, and
// that a chargeback reaches shopguard as a label.
func TestShopObeysShopguard(t *testing.T) {
	sgURL, key := startShopguard(t)
	c, err := client.New(sgURL, key)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// Route each test order to an action by its amount.
	for _, r := range []client.Rule{
		{Name: "t_block", Kind: "transaction", Expression: "amount_minor == 129900", Action: client.ActionBlock, Description: "laptop blocked"},
		{Name: "t_review", Kind: "transaction", Expression: "amount_minor == 79900", Action: client.ActionReview, Description: "phone reviewed"},
		{Name: "t_challenge", Kind: "transaction", Expression: "amount_minor == 34900", Action: client.ActionChallenge, Description: "watch challenged"},
	} {
		if _, err := c.PutRule(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	ts := newTestShop(t, sgURL, key, 5*time.Second, risk.ActionReview)
	tests := []struct {
		product    string
		card       func() demo.Card
		wantStatus string
		wantHTTP   int
	}{
		{"paperback", func() demo.Card { return ts.bad }, demo.StatusDeclined, 402},
		{"laptop", func() demo.Card { return ts.card }, demo.StatusBlocked, 403},
		{"phone", func() demo.Card { return ts.card }, demo.StatusHeld, 200},
		{"smartwatch", func() demo.Card { return ts.card }, demo.StatusChallenged, 200},
		// Last: its chargeback makes the card one with a known fraud.
		{"paperback", func() demo.Card { return ts.card }, demo.StatusPaid, 200},
	}
	for _, tc := range tests {
		t.Run(tc.product+"→"+tc.wantStatus, func(t *testing.T) {
			b := ts.browser(t)
			ts.post(t, b, "/cart", url.Values{"product": {tc.product}, "quantity": {"1"}})
			resp := ts.post(t, b, "/checkout", checkoutValues(tc.card(), nil))
			if got := resp.Header.Get(demo.OrderStatusHeader); got != tc.wantStatus || resp.StatusCode != tc.wantHTTP {
				t.Fatalf("status %q (HTTP %d), want %q (HTTP %d)", got, resp.StatusCode, tc.wantStatus, tc.wantHTTP)
			}
			id := resp.Header.Get(demo.OrderHeader)
			charged := ts.proc.Dispute(id, time.Now())
			if charged != (tc.wantStatus == demo.StatusPaid) {
				t.Errorf("order %s charged = %v", id, charged)
			}
			if !charged {
				return
			}
			if n := ts.shop.ProcessChargebacks(ctx, time.Now()); n != 1 {
				t.Fatalf("%d chargebacks processed, want 1", n)
			}
			var decision string
			for _, o := range ts.shop.Orders() {
				if o.ID == id {
					decision = o.Verdict.DecisionID
					if o.Status != demo.StatusChargedBack {
						t.Errorf("order status %s after the chargeback", o.Status)
					}
				}
			}
			ev, err := c.Event(ctx, decision)
			if err != nil {
				t.Fatal(err)
			}
			if len(ev.Labels) != 1 || ev.Labels[0].Label != "chargeback" {
				t.Errorf("labels %+v, want one chargeback", ev.Labels)
			}
		})
	}
	// The customer sees their own order, nobody else does.
	b := ts.browser(t)
	ts.post(t, b, "/login", url.Values{"email": {"ada@example.com"}, "password": {"correct horse battery"}})
	ts.post(t, b, "/cart", url.Values{"product": {"cookbook"}, "quantity": {"2"}})
	resp := ts.post(t, b, "/checkout", url.Values{"card_token": {ts.card.Token}, "ship_to_billing": {"1"},
		"billing_line1": {"1 Main Street"}, "billing_city": {"Berlin"}, "billing_postal_code": {"10115"}, "billing_country": {"DE"}})
	id := resp.Header.Get(demo.OrderHeader)
	if r := ts.get(t, b, "/orders/"+id); r.StatusCode != 200 {
		t.Errorf("own order page: %d", r.StatusCode)
	}
	if r := ts.get(t, ts.browser(t), "/orders/"+id); r.StatusCode != 404 {
		t.Errorf("someone else's order page: %d, want 404", r.StatusCode)
	}
	orders := ts.shop.Orders()
	last := orders[len(orders)-1]
	if last.AmountMinor != 2*2899 || last.AccountID != "cus_1" || last.IP != "84.10.20.30" || last.Sent.User.ID != "cus_1" {
		t.Errorf("order %+v: want 57.98 €, account cus_1, client IP from the demo header", last)
	}
}

// TestShopWhenShopguardFails checks the failure policy: a shopguard that
// is down or too slow leads to the configured action, counted.
func TestShopWhenShopguardFails(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there now
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(release)

	tests := []struct {
		name      string
		url       string
		policy    risk.Action
		want      string
		wantTimed int
	}{
		{"down, fail open", down, risk.ActionAllow, demo.StatusPaid, 0},
		{"down, hold", down, risk.ActionReview, demo.StatusHeld, 0},
		{"down, fail closed", down, risk.ActionBlock, demo.StatusBlocked, 0},
		{"slow, hold", slow.URL, risk.ActionReview, demo.StatusHeld, 1},
		{"slow, fail open", slow.URL, risk.ActionAllow, demo.StatusPaid, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestShop(t, tc.url, "sg_test", 200*time.Millisecond, tc.policy)
			b := ts.browser(t)
			ts.post(t, b, "/cart", url.Values{"product": {"paperback"}, "quantity": {"1"}})
			resp := ts.post(t, b, "/checkout", checkoutValues(ts.card, nil))
			if got := resp.Header.Get(demo.OrderStatusHeader); got != tc.want {
				t.Errorf("order status %q, want %q", got, tc.want)
			}
			st := ts.guard.Stats()
			if st.Calls != 1 || st.Failures != 1 || st.Timeouts != tc.wantTimed || st.Fallbacks[tc.policy] != 1 {
				t.Errorf("stats %+v, want 1 call, 1 failure, %d timeouts, 1 fallback to %s", st, tc.wantTimed, tc.policy)
			}
			o := ts.shop.Orders()[0]
			if !o.Verdict.Fallback || o.Verdict.Err == nil {
				t.Errorf("verdict %+v does not record the fallback", o.Verdict)
			}
		})
	}
}

func TestNewGuardRejectsBadConfig(t *testing.T) {
	for _, cfg := range []demo.GuardConfig{
		{Timeout: 0, CheckoutOnFailure: risk.ActionAllow},
		{Timeout: time.Second, CheckoutOnFailure: "maybe"},
	} {
		if _, err := demo.NewGuard(cfg, nil); err == nil {
			t.Errorf("NewGuard(%+v) accepted", cfg)
		}
	}
}

// FuzzShopForms posts arbitrary bodies to every form handler: the shop must
// answer each with a 2xx, 3xx or 4xx, never a 5xx or a panic.
func FuzzShopForms(f *testing.F) {
	paths := []string{"/cart", "/checkout", "/signup", "/login", "/support", "/products/paperback/reviews", "/logout"}
	f.Add(uint8(0), "product=paperback&quantity=1")
	f.Add(uint8(1), checkoutValues(demo.Card{Token: "tok_x"}, nil).Encode())
	f.Add(uint8(2), "email=a%40b.c&name=A&password=0123456789&address_line1=1&address_city=B&address_postal_code=1&address_country=DE")
	f.Add(uint8(3), "email=ada%40example.com&password=correct+horse+battery&next=//evil")
	f.Add(uint8(3), "email=ada%40example.com&password=correct+horse+battery&keystrokes=%7B%22hold_ms%22%3A%5B90%2C100%5D%2C%22flight_ms%22%3A%5B1e999%5D%7D")
	f.Add(uint8(4), "email=a%40b.c&subject=s&message=hello")
	f.Add(uint8(5), "rating=5&text=good")
	f.Add(uint8(1), "%zz&&==;")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	down := "http://" + ln.Addr().String()
	ln.Close()
	ts := newTestShop(f, down, "sg_test", 50*time.Millisecond, risk.ActionReview)
	f.Fuzz(func(t *testing.T, which uint8, body string) {
		path := paths[int(which)%len(paths)]
		b := ts.browser(t)
		// A session with a cart, signed in half of the time.
		ts.post(t, b, "/cart", url.Values{"product": {"paperback"}, "quantity": {"1"}})
		if which%2 == 0 {
			ts.post(t, b, "/login", url.Values{"email": {"ada@example.com"}, "password": {"correct horse battery"}})
		}
		req, err := http.NewRequest(http.MethodPost, ts.srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := b.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("POST %s %q: status %d", path, body, resp.StatusCode)
		}
		if loc := resp.Header.Get("Location"); strings.HasPrefix(loc, "//") || strings.Contains(loc, "://") {
			t.Fatalf("POST %s %q: redirect off the shop to %q", path, body, loc)
		}
	})
}

// TestShopPages renders every page a shopper sees.
func TestShopPages(t *testing.T) {
	sgURL, key := startShopguard(t)
	ts := newTestShop(t, sgURL, key, 5*time.Second, risk.ActionReview)
	b := ts.browser(t)
	ts.post(t, b, "/cart", url.Values{"product": {"laptop"}, "quantity": {"1"}})
	tests := []struct {
		path string
		want []string
	}{
		{"/", []string{"Laptop 14&#34;", "1,299.00 €", "Sticker pack", `href="/products/laptop"`}},
		{"/?q=coffee", []string{"Coffee beans", `value="coffee"`}},
		{"/products/laptop", []string{"16 GB memory", "No reviews yet", "Sign in</a> to write a review"}},
		{"/cart", []string{"Laptop", "Go to checkout", `name="set"`}},
		{"/checkout", []string{"•••• 4242", "declined by the bank", `name="billing_country"`, "Pay 1,299.00 €"}},
		{"/login", []string{`name="password"`, "Create an account"}},
		{"/signup", []string{`name="address_country"`, `autocomplete="new-password"`}},
		{"/support", []string{`name="subject"`}},
	}
	for _, tc := range tests {
		resp, err := b.Get(ts.srv.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("GET %s: %d", tc.path, resp.StatusCode)
		}
		for _, w := range tc.want {
			if !strings.Contains(string(body), w) {
				t.Errorf("GET %s lacks %q", tc.path, w)
			}
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("GET %s: Content-Security-Policy %q", tc.path, csp)
		}
	}
	// The device cookie is HttpOnly and long-lived.
	resp, _ := http.Get(ts.srv.URL + "/")
	resp.Body.Close()
	var found bool
	for _, c := range resp.Cookies() {
		if c.Name == demo.DeviceCookie {
			found = c.HttpOnly && c.MaxAge > 365*24*3600
		}
	}
	if !found {
		t.Error("no HttpOnly, long-lived device cookie on the first visit")
	}
}
