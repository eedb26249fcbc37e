package demo

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/shopguard/shopguard/client"
)

// The support assistant in the demo shop: the shop registers the order
// confirmations it e-mails, embeds shopguard's chat widget on its support
// page, and carries out an address change only after the customer passed
// the step-up the assistant started.
const (
	// AssistantReturnPath is where a passed step-up from the assistant
	// sends the customer back to.
	AssistantReturnPath = "/account/verified"
	// AddressPath takes the new address after such a step-up.
	AddressPath = "/account/address"
	// addressWindow is how long a passed step-up allows an address change.
	addressWindow = 10 * time.Minute
)

// confirm "e-mails" the order confirmation: registered with shopguard
// (which gives its verification code), kept on the order for the
// customer to see as the e-mail they got.
func (s *Shop) confirm(r *http.Request, o *Order, acct *Account) {
	link := "http://" + r.Host + "/orders/" + o.ID
	summary := fmt.Sprintf("Order %s confirmed, %s", o.ID, FormatMoney(o.AmountMinor))
	reg, err := s.guard.RegisterOutbound(r.Context(), client.Outbound{Channel: "email", Recipient: acct.Email, UserID: acct.ID,
		Template: "order_confirmation", Summary: summary, Links: []string{link}, SentAt: s.cfg.Now()})
	if err != nil {
		s.cfg.Log.Warn("demo: order confirmation not registered", "order", o.ID, "error", err)
		return
	}
	o.ConfirmationCode = reg.Code
	o.Confirmation = fmt.Sprintf("From: %s <orders@%s>\nSubject: Your order %s\n\nThank you for your order %s (%s). See it at %s\nVerification code: %s (ask our support assistant if in doubt)",
		s.cfg.Name, strings.Split(r.Host, ":")[0], o.ID, o.ID, FormatMoney(o.AmountMinor), link, reg.Code)
}

// supportView is the support page: the contact form, and the chat
// widget's conversation when shopguard is there.
type supportView struct {
	Conversation string
	Token        string
	Greeting     string
}

// supportPage shows the contact form and opens a conversation with the
// assistant for the widget (as the signed-in customer, if any).
func (s *Shop) supportPage(w http.ResponseWriter, r *http.Request) {
	var view supportView
	if s.hosted != nil {
		_, sess := s.session(w, r, false)
		in := client.ConversationStart{DeviceID: deviceID(r), ReturnURL: "http://" + r.Host + AssistantReturnPath}
		if sess != nil {
			in.UserID = sess.accountID
		}
		c, err := s.guard.StartConversation(r.Context(), in)
		if isRefusal(err) {
			// This host is not one of the shop's passkey origins (say
			// 127.0.0.1 for localhost): chat without a way back from the
			// step-up page; the widget still follows it.
			in.ReturnURL = ""
			c, err = s.guard.StartConversation(r.Context(), in)
		}
		if err != nil {
			s.cfg.Log.Warn("demo: no assistant for the support page", "error", err)
		} else {
			view.Conversation, view.Token = c.Conversation.ID, c.ClientToken
			if len(c.Conversation.Turns) > 0 {
				view.Greeting = c.Conversation.Turns[0].Text
			}
		}
	}
	s.render(w, r, http.StatusOK, "support", "Contact support", view, nil)
}

// assistantVerified is where the hosted step-up page returns: the shop
// reads the challenge back from shopguard, checks it is this customer's
// and for an address change, and redeems its approval before it shows
// the address form.
func (s *Shop) assistantVerified(w http.ResponseWriter, r *http.Request) {
	sessID, sess := s.session(w, r, false)
	q := r.URL.Query()
	refuse := func(msg string) {
		w.Header().Set(AccountStatusHeader, "step_up_failed")
		s.render(w, r, http.StatusUnauthorized, "message", "Not verified", msg, nil)
	}
	if sess == nil || sess.accountID == "" {
		refuse("Please sign in first.")
		return
	}
	ch, err := s.guard.Challenge(r.Context(), q.Get("shopguard_challenge"))
	if err != nil || ch.UserID != sess.accountID || ch.Action.Type != q.Get("action") {
		refuse("This confirmation is not valid for your account.")
		return
	}
	v, err := s.guard.VerifyApproval(r.Context(), q.Get("shopguard_token"), sess.accountID, ch.Action)
	if err != nil || !v.Valid {
		refuse("This confirmation has expired or was used already.")
		return
	}
	if ch.Action.Type != "change_address" {
		s.render(w, r, http.StatusOK, "message", "Verified", "Thank you, you are verified. This demo shop changes addresses only; close this window.", nil)
		return
	}
	s.mu.Lock()
	if cur, ok := s.sessions[sessID]; ok {
		cur.addressUntil = s.cfg.Now().Add(addressWindow)
	}
	acct := *s.byID[sess.accountID]
	s.mu.Unlock()
	w.Header().Set(AccountStatusHeader, "verified")
	s.render(w, r, http.StatusOK, "address", "Change your address", acct.Address, nil)
}

// changeAddress takes the new address within the window a passed step-up
// opened, once.
func (s *Shop) changeAddress(w http.ResponseWriter, r *http.Request) {
	sessID, sess := s.session(w, r, false)
	if err := r.ParseForm(); err != nil {
		s.render(w, r, http.StatusBadRequest, "message", "Change your address", "Unreadable form.", nil)
		return
	}
	s.mu.Lock()
	cur := s.sessions[sessID]
	allowed := sess != nil && cur != nil && sess.accountID != "" && s.cfg.Now().Before(cur.addressUntil)
	s.mu.Unlock()
	if !allowed {
		w.Header().Set(AccountStatusHeader, "step_up_required")
		s.render(w, r, http.StatusForbidden, "message", "Change your address",
			"An address change needs a fresh check that it is you: ask our support assistant.", nil)
		return
	}
	addr, errs := addressFrom(r, "address")
	if len(errs) > 0 {
		s.render(w, r, http.StatusBadRequest, "address", "Change your address", addr, errs)
		return
	}
	s.mu.Lock()
	cur.addressUntil = time.Time{}
	s.byID[sess.accountID].Address = addr
	s.mu.Unlock()
	w.Header().Set(AccountStatusHeader, "address_changed")
	s.render(w, r, http.StatusOK, "message", "Address changed", "Your address is now "+addr.Line1+", "+addr.PostalCode+" "+addr.City+".", nil)
}
