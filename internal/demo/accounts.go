package demo

import (
	"encoding/json"
	"net/http"
	"net/mail"
	"strings"
	"sync"

	"golang.org/x/crypto/bcrypt"

	"github.com/shopguard/shopguard/client"
	"github.com/shopguard/shopguard/internal/risk"
)

func (s *Shop) signup(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.render(w, r, http.StatusBadRequest, "signup", "Create an account", nil, map[string]string{"form": "unreadable form"})
		return
	}
	email, name, password := strings.TrimSpace(r.PostForm.Get("email")), strings.TrimSpace(r.PostForm.Get("name")), r.PostForm.Get("password")
	errs := map[string]string{}
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email || len(email) > 254 {
		errs["email"] = "enter an e-mail address such as ada@example.com"
	}
	if name == "" || len(name) > 100 {
		errs["name"] = "enter your name (at most 100 characters)"
	}
	if len(password) < 10 || len(password) > 72 {
		errs["password"] = "use 10 to 72 characters"
	}
	addr, addrErrs := addressFrom(r, "address")
	for k, v := range addrErrs {
		errs[k] = v
	}
	if len(errs) > 0 {
		s.render(w, r, http.StatusBadRequest, "signup", "Create an account", nil, errs)
		return
	}
	v := s.guard.Signup(r.Context(), client.Signup{ID: "signup-" + randomHex(8), CreatedAt: s.cfg.Now().UTC(), Email: email,
		IP: s.clientIP(r), DeviceID: deviceID(r), UserAgent: r.UserAgent(), Name: name})
	if v.Action == risk.ActionBlock {
		w.Header().Set(AccountStatusHeader, "blocked")
		s.render(w, r, http.StatusForbidden, "signup", "Create an account", nil, map[string]string{"form": "we could not create this account; contact support if this is a mistake"})
		return
	}
	a := Account{Email: email, Name: name, CreatedAt: s.cfg.Now(), Address: addr}
	if err := s.ImportAccount(a, password); err != nil {
		s.render(w, r, http.StatusConflict, "signup", "Create an account", nil, map[string]string{"email": "an account with this e-mail exists; sign in instead"})
		return
	}
	s.signIn(w, r, email)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Shop) login(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.render(w, r, http.StatusBadRequest, "login", "Sign in", nil, map[string]string{"form": "unreadable form"})
		return
	}
	email, password := strings.TrimSpace(r.PostForm.Get("email")), r.PostForm.Get("password")
	s.mu.Lock()
	a := s.accounts[strings.ToLower(email)]
	s.mu.Unlock()
	// Ask shopguard before checking the password, act on that answer, and
	// report the outcome (a success only once the customer is signed in).
	attempt := client.Login{ID: "login-" + randomHex(8), CreatedAt: s.cfg.Now().UTC(), IP: s.clientIP(r), DeviceID: deviceID(r),
		UserAgent: r.UserAgent(), Outcome: client.LoginAttempt, PasswordHashPrefix: client.PasswordHashPrefix(password),
		Keystrokes: typedKeystrokes(r.PostForm.Get("keystrokes"))}
	if a != nil {
		attempt.UserID = a.ID
	} else {
		attempt.Identifier = email
	}
	w.Header().Set(LoginHeader, attempt.ID)
	pre := s.guard.Login(r.Context(), attempt)
	report := func(outcome string) {
		l := attempt
		l.ID, l.Outcome = attempt.ID+LoginResultSuffix, outcome
		s.guard.Login(r.Context(), l)
	}
	if pre.Action == risk.ActionBlock {
		w.Header().Set(AccountStatusHeader, "blocked")
		s.render(w, r, http.StatusForbidden, "login", "Sign in", nil, map[string]string{"form": "sign-in is not possible right now; contact support if this is a mistake"})
		return
	}
	var hash []byte
	if a != nil {
		hash = a.hash
	} else {
		hash = dummyHash(s.cfg.PasswordCost) // same work for unknown accounts: no user enumeration by timing
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || a == nil || len(password) > 72 {
		if a == nil {
			report(client.LoginUnknownUser)
		} else {
			report(client.LoginBadPassword)
		}
		w.Header().Set(AccountStatusHeader, "wrong")
		s.render(w, r, http.StatusUnauthorized, "login", "Sign in", nil, map[string]string{"password": "e-mail or password is wrong"})
		return
	}
	if pre.Action == risk.ActionChallenge || pre.Action == risk.ActionReview {
		w.Header().Set(AccountStatusHeader, "challenged")
		if ch := loginChallenge(pre, a.ID, attempt.ID); ch != nil {
			// The customer has an authenticator app: shopguard started the
			// step-up, and the sign-in resumes once it has passed.
			s.startStepUp(w, r, a, attempt, ch)
			return
		}
		// No second factor to step up with: the sign-in waits for a
		// confirmation by e-mail the demo shop never sends.
		s.render(w, r, http.StatusUnauthorized, "login", "Sign in", nil, map[string]string{"form": "please confirm it is you: we sent a link to your e-mail address"})
		return
	}
	report(client.LoginSuccess)
	w.Header().Set(AccountStatusHeader, "signed_in")
	s.signIn(w, r, email)
	http.Redirect(w, r, safeNext(r.PostForm.Get("next")), http.StatusSeeOther)
}

// safeNext returns next when it is a path on this shop, "/" otherwise.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") {
		return "/"
	}
	return next
}

var dummyHashes sync.Map // cost -> []byte

func dummyHash(cost int) []byte {
	if h, ok := dummyHashes.Load(cost); ok {
		return h.([]byte)
	}
	h, _ := bcrypt.GenerateFromPassword([]byte("not-a-password-anyone-has"), cost)
	dummyHashes.Store(cost, h)
	return h
}

// signIn binds the session (a new one, against fixation) to the account,
// keeping the cart.
func (s *Shop) signIn(w http.ResponseWriter, r *http.Request, email string) {
	oldID, old := s.session(w, r, false)
	id := randomHex(16)
	s.mu.Lock()
	a := s.accounts[strings.ToLower(email)]
	sess := &session{accountID: a.ID, cart: map[string]int{}}
	if old != nil {
		sess.cart = old.cart
		delete(s.sessions, oldID)
	}
	s.sessions[id] = sess
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: id, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
}

func (s *Shop) logout(w http.ResponseWriter, r *http.Request) {
	if id, sess := s.session(w, r, false); sess != nil {
		s.mu.Lock()
		delete(s.sessions, id)
		s.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// typedKeystrokes reads the password field's typing rhythm the login
// page's shopguard.js measured (JSON {hold_ms, flight_ms}): nil when it is
// missing or not a rhythm shopguard takes, since a measurement never
// decides whether a customer may sign in.
func typedKeystrokes(field string) *client.Keystrokes {
	if field == "" || len(field) > 16<<10 {
		return nil
	}
	var k client.Keystrokes
	if json.Unmarshal([]byte(field), &k) != nil || len(k.HoldMS) < 2 || len(k.HoldMS) > 128 || len(k.FlightMS) != len(k.HoldMS)-1 {
		return nil
	}
	for _, v := range k.HoldMS {
		if !(v >= 0 && v <= 2000) {
			return nil
		}
	}
	for _, v := range k.FlightMS {
		if !(v >= -2000 && v <= 5000) {
			return nil
		}
	}
	return &k
}
