package demo

import (
	"fmt"
	"net/http"
	"net/mail"
	"strconv"
	"strings"

	"github.com/shopguard/shopguard/client"
	"github.com/shopguard/shopguard/internal/risk"
)

func (s *Shop) addToCart(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.render(w, r, http.StatusBadRequest, "message", "Cart", "That form could not be read.", map[string]string{"form": "unreadable form"})
		return
	}
	p, ok := s.catalog.Product(r.PostForm.Get("product"))
	if !ok {
		s.render(w, r, http.StatusBadRequest, "message", "Cart", "That product does not exist.", map[string]string{"product": "unknown product"})
		return
	}
	// quantity adds to the cart; set replaces the line (set=0 removes it).
	field, limit := "quantity", 1
	if r.PostForm.Has("set") {
		field, limit = "set", 0
	}
	qty, err := strconv.Atoi(r.PostForm.Get(field))
	if err != nil || qty < limit || qty > 20 {
		s.render(w, r, http.StatusBadRequest, "message", "Cart", fmt.Sprintf("Choose a quantity from %d to 20.", limit),
			map[string]string{field: fmt.Sprintf("%d to 20", limit)})
		return
	}
	_, sess := s.session(w, r, true)
	s.mu.Lock()
	if field == "set" {
		sess.cart[p.ID] = qty
	} else {
		sess.cart[p.ID] = min(sess.cart[p.ID]+qty, 20)
	}
	if sess.cart[p.ID] == 0 {
		delete(sess.cart, p.ID)
	}
	s.mu.Unlock()
	http.Redirect(w, r, "/cart", http.StatusSeeOther)
}

// cartLines returns the session's cart as order lines and their total.
func (s *Shop) cartLines(sess *session) ([]OrderItem, int64) {
	if sess == nil {
		return nil, 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var items []OrderItem
	var total int64
	for _, p := range s.catalog.products {
		if n := sess.cart[p.ID]; n > 0 {
			items = append(items, OrderItem{Product: p, Quantity: n})
			total += p.PriceMinor * int64(n)
		}
	}
	return items, total
}

type cartView struct {
	Items     []OrderItem
	Total     int64
	TestCards []TestCard
}

func (s *Shop) cart(w http.ResponseWriter, r *http.Request) {
	_, sess := s.session(w, r, false)
	items, total := s.cartLines(sess)
	s.render(w, r, http.StatusOK, "cart", "Your cart", cartView{Items: items, Total: total}, nil)
}

func (s *Shop) checkoutForm(w http.ResponseWriter, r *http.Request) {
	_, sess := s.session(w, r, false)
	items, total := s.cartLines(sess)
	if len(items) == 0 {
		http.Redirect(w, r, "/cart", http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "checkout", "Checkout", cartView{items, total, s.proc.TestCards()}, nil)
}

// addressFrom reads and checks an address from the form fields prefix_line1,
// prefix_city, prefix_postal_code and prefix_country.
func addressFrom(r *http.Request, prefix string) (Address, map[string]string) {
	a := Address{
		Line1:      strings.TrimSpace(r.PostForm.Get(prefix + "_line1")),
		City:       strings.TrimSpace(r.PostForm.Get(prefix + "_city")),
		PostalCode: strings.TrimSpace(r.PostForm.Get(prefix + "_postal_code")),
		Country:    strings.ToUpper(strings.TrimSpace(r.PostForm.Get(prefix + "_country"))),
	}
	errs := map[string]string{}
	for field, v := range map[string]string{"_line1": a.Line1, "_city": a.City, "_postal_code": a.PostalCode} {
		if v == "" || len(v) > 100 {
			errs[prefix+field] = "required, at most 100 characters"
		}
	}
	if len(a.Country) != 2 || a.Country[0] < 'A' || a.Country[0] > 'Z' || a.Country[1] < 'A' || a.Country[1] > 'Z' {
		errs[prefix+"_country"] = "two-letter country code such as DE"
	}
	return a, errs
}

func (s *Shop) checkout(w http.ResponseWriter, r *http.Request) {
	sessID, sess := s.session(w, r, false)
	items, total := s.cartLines(sess)
	if len(items) == 0 {
		s.render(w, r, http.StatusBadRequest, "message", "Checkout", "Your cart is empty.", map[string]string{"cart": "empty"})
		return
	}
	if err := r.ParseForm(); err != nil {
		s.render(w, r, http.StatusBadRequest, "checkout", "Checkout", cartView{items, total, s.proc.TestCards()}, map[string]string{"form": "unreadable form"})
		return
	}
	errs := map[string]string{}
	s.mu.Lock()
	acct := s.byID[sess.accountID]
	s.mu.Unlock()
	email := strings.TrimSpace(r.PostForm.Get("email"))
	if acct != nil {
		email = acct.Email
	} else if a, err := mail.ParseAddress(email); err != nil || a.Address != email || len(email) > 254 {
		errs["email"] = "enter an e-mail address such as ada@example.com"
	}
	billing, berrs := addressFrom(r, "billing")
	shipping, serrs := billing, map[string]string(nil)
	if r.PostForm.Get("ship_to_billing") == "" {
		shipping, serrs = addressFrom(r, "shipping")
	}
	for _, m := range []map[string]string{berrs, serrs} {
		for k, v := range m {
			errs[k] = v
		}
	}
	card, err := s.proc.Card(r.PostForm.Get("card_token"))
	if err != nil {
		errs["card_token"] = "the card could not be read; enter it again"
	}
	if len(errs) > 0 {
		s.render(w, r, http.StatusBadRequest, "checkout", "Checkout", cartView{items, total, s.proc.TestCards()}, errs)
		return
	}

	now := s.cfg.Now().UTC()
	o := &Order{ID: fmt.Sprintf("%s-%06d", s.cfg.OrderPrefix, s.seq.Add(1)), CreatedAt: now, Email: email,
		Items: items, AmountMinor: total, Card: card, Billing: billing, Shipping: shipping,
		IP: s.clientIP(r), DeviceID: deviceID(r), UserAgent: r.UserAgent()}
	if acct != nil {
		o.AccountID = acct.ID
	}
	o.Sent = s.transaction(o, acct)
	o.Verdict = s.guard.Checkout(r.Context(), o.Sent)
	switch o.Verdict.Action {
	case risk.ActionAllow:
		if err := s.proc.Charge(card.Token, o.ID, total, now); err != nil {
			o.Status = StatusDeclined
		} else {
			o.Status = StatusPaid
		}
	case risk.ActionReview:
		o.Status = StatusHeld
	case risk.ActionChallenge:
		o.Status = StatusChallenged
	default:
		o.Status = StatusBlocked
	}
	if o.Status == StatusPaid && acct != nil {
		s.confirm(r, o, acct)
	}
	s.mu.Lock()
	s.orders[o.ID] = o
	s.order = append(s.order, o.ID)
	if o.Status == StatusPaid || o.Status == StatusHeld || o.Status == StatusChallenged {
		if cur, ok := s.sessions[sessID]; ok {
			cur.cart = map[string]int{}
		}
	}
	view := *o
	s.mu.Unlock()

	w.Header().Set(OrderHeader, o.ID)
	w.Header().Set(OrderStatusHeader, o.Status)
	status := http.StatusOK
	switch o.Status {
	case StatusBlocked:
		status = http.StatusForbidden
	case StatusDeclined:
		status = http.StatusPaymentRequired
	}
	s.render(w, r, status, "order", "Your order", view, nil)
}

// transaction is the order as the shop describes it to shopguard.
func (s *Shop) transaction(o *Order, acct *Account) client.Transaction {
	t := client.Transaction{
		ID: o.ID, CreatedAt: o.CreatedAt, AmountMinor: o.AmountMinor, Currency: Currency,
		IP: o.IP, DeviceID: o.DeviceID, UserAgent: o.UserAgent,
		Payment: &client.Payment{Method: "card", CardFingerprint: o.Card.Fingerprint, BIN: o.Card.BIN,
			Last4: o.Card.Last4, CardCountry: o.Card.Country},
		BillingAddress:  clientAddress(o.Billing),
		ShippingAddress: clientAddress(o.Shipping),
	}
	if acct != nil {
		t.User = &client.User{ID: acct.ID, Email: acct.Email, CreatedAt: acct.CreatedAt}
	} else {
		t.User = &client.User{Email: o.Email}
	}
	for _, it := range o.Items {
		t.Items = append(t.Items, client.Item{SKU: it.Product.ID, Name: it.Product.Name,
			PriceMinor: it.Product.PriceMinor, Quantity: int64(it.Quantity)})
	}
	return t
}

func clientAddress(a Address) *client.Address {
	return &client.Address{Line1: a.Line1, City: a.City, PostalCode: a.PostalCode, Country: a.Country}
}

func (s *Shop) orderPage(w http.ResponseWriter, r *http.Request) {
	_, sess := s.session(w, r, false)
	s.mu.Lock()
	o, ok := s.orders[r.PathValue("id")]
	var view Order
	if ok {
		view = *o
	}
	s.mu.Unlock()
	// Only the customer who placed an order sees it.
	if !ok || sess == nil || view.AccountID == "" || view.AccountID != sess.accountID {
		s.notFound(w, r, "That order")
		return
	}
	s.render(w, r, http.StatusOK, "order", "Your order", view, nil)
}
