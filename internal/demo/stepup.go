package demo

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/shopguard/shopguard/client"
)

// StepUpPath is where the step-up page sends the customer's code.
const StepUpPath = "/login/step-up"

// PasskeyReturnPath is where shopguard's hosted page sends the customer
// back after a passkey step-up, with the challenge and the approval.
const PasskeyReturnPath = "/login/step-up/passkey"

// pendingTTL bounds how long a sign-in waits for its step-up (shopguard's
// challenge may expire sooner).
const pendingTTL = 5 * time.Minute

// pendingLogin is a sign-in whose password was right and whose step-up is
// under way: the shop resumes it from here, never from what the browser
// sends back.
type pendingLogin struct {
	email     string
	userID    string
	deviceID  string // the browser that typed the password
	attempt   client.Login
	challenge client.Challenge
	next      string
	expires   time.Time
	// passkeyURL is the challenge's hosted page ("" if none), set before
	// the sign-in is kept aside.
	passkeyURL string
}

// stepUpPage is the step-up template's data.
type stepUpPage struct {
	Token       string
	ChallengeID string
	Description string
	// TOTP says the customer can type their app's code; PasskeyURL is
	// shopguard's hosted page (under the shop's origin) for their passkey.
	TOTP       bool
	PasskeyURL string
}

// loginChallenge returns the step-up shopguard started for the sign-in
// when the shop can run it (a passkey or an authenticator app, for this
// account and this sign-in), nil otherwise.
func loginChallenge(v Verdict, userID, loginID string) *client.Challenge {
	ch := v.Challenge
	if ch == nil || ch.ID == "" || ch.UserID != userID || ch.Action.Type != "login" ||
		(ch.Action.Reference != "" && ch.Action.Reference != loginID) ||
		(!slices.Contains(ch.Methods, "totp") && !slices.Contains(ch.Methods, "passkey")) {
		return nil
	}
	return ch
}

// methods is the StepUpHeader value: what the page offers.
func (p stepUpPage) methods() string {
	var m []string
	if p.PasskeyURL != "" {
		m = append(m, "passkey")
	}
	if p.TOTP {
		m = append(m, "totp")
	}
	return strings.Join(m, ",")
}

// startStepUp keeps the sign-in aside under a random token and shows the
// step-up page.
func (s *Shop) startStepUp(w http.ResponseWriter, r *http.Request, a *Account, attempt client.Login, ch *client.Challenge) {
	now := s.cfg.Now()
	p := &pendingLogin{email: a.Email, userID: a.ID, deviceID: deviceID(r), attempt: attempt, challenge: *ch,
		next: safeNext(r.PostForm.Get("next")), expires: now.Add(pendingTTL)}
	if !ch.ExpiresAt.IsZero() && ch.ExpiresAt.Before(p.expires) {
		p.expires = ch.ExpiresAt
	}
	token := randomHex(16)
	if s.hosted != nil && slices.Contains(ch.Methods, "passkey") {
		back := "http://" + r.Host + PasskeyReturnPath + "?" + url.Values{"pending": {token}}.Encode()
		if linked, err := s.guard.HostedChallenge(r.Context(), ch.ID, back); err != nil || linked.HostedURL == "" {
			s.cfg.Log.Warn("demo: no hosted step-up page", "login", attempt.ID, "error", err)
		} else {
			p.passkeyURL = linked.HostedURL
		}
	}
	s.mu.Lock()
	for k, q := range s.pending {
		if now.After(q.expires) {
			delete(s.pending, k)
		}
	}
	s.pending[token] = p
	s.mu.Unlock()
	page := stepUpPageOf(token, p)
	if page.methods() == "" { // a passkey only, and no hosted page to answer it on
		s.failStepUp(w, r, token, p, false)
		return
	}
	w.Header().Set(StepUpHeader, page.methods())
	s.render(w, r, http.StatusUnauthorized, "stepup", "Confirm it is you", page, nil)
}

// stepUpPageOf returns the step-up page of the pending sign-in: the app's
// code form if the customer has an app, and the link to shopguard's
// hosted page for their passkey, which sends them back to
// PasskeyReturnPath.
func stepUpPageOf(token string, p *pendingLogin) stepUpPage {
	return stepUpPage{Token: token, ChallengeID: p.challenge.ID, Description: p.challenge.Action.Description,
		TOTP: slices.Contains(p.challenge.Methods, "totp"), PasskeyURL: p.passkeyURL}
}

// passkeyReturn completes a sign-in whose step-up the customer passed
// with their passkey on shopguard's hosted page: the approval it brings
// back must verify for this customer and this sign-in.
func (s *Shop) passkeyReturn(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	token := q.Get("pending")
	p := s.pendingLogin(token)
	if p == nil || p.challenge.ID != q.Get("shopguard_challenge") || p.deviceID != deviceID(r) || q.Get("shopguard_token") == "" {
		w.Header().Set(AccountStatusHeader, "step_up_failed")
		s.render(w, r, http.StatusUnauthorized, "login", "Sign in", nil, map[string]string{"form": "this confirmation has expired; please sign in again"})
		return
	}
	w.Header().Set(LoginHeader, p.attempt.ID)
	s.completeStepUp(w, r, token, p, q.Get("shopguard_token"))
}

// pendingLogin returns the sign-in waiting under token, if it has not expired.
func (s *Shop) pendingLogin(token string) *pendingLogin {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pending[token]
	if p != nil && s.cfg.Now().After(p.expires) {
		delete(s.pending, token)
		p = nil
	}
	return p
}

// stepUp takes the code of the customer's authenticator app: shopguard
// checks it, and the approval it signs, verified for this customer and
// this sign-in, completes the sign-in. A wrong code may be corrected
// while the challenge takes answers; then the sign-in is refused.
func (s *Shop) stepUp(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.render(w, r, http.StatusBadRequest, "login", "Sign in", nil, map[string]string{"form": "unreadable form"})
		return
	}
	token := r.PostForm.Get("pending")
	code := strings.ReplaceAll(strings.TrimSpace(r.PostForm.Get("code")), " ", "")
	p := s.pendingLogin(token)
	if p == nil || p.challenge.ID != r.PostForm.Get("challenge") || p.deviceID != deviceID(r) || !slices.Contains(p.challenge.Methods, "totp") {
		w.Header().Set(AccountStatusHeader, "step_up_failed")
		s.render(w, r, http.StatusUnauthorized, "login", "Sign in", nil, map[string]string{"form": "this confirmation has expired; please sign in again"})
		return
	}
	w.Header().Set(LoginHeader, p.attempt.ID)
	page := stepUpPageOf(token, p)
	retry := func(status int, account, msg string) {
		w.Header().Set(AccountStatusHeader, account)
		w.Header().Set(StepUpHeader, page.methods())
		s.render(w, r, status, "stepup", "Confirm it is you", page, map[string]string{"code": msg})
	}
	if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
		retry(http.StatusBadRequest, "wrong_code", "enter the 6 digits your authenticator app shows")
		return
	}
	ans, err := s.guard.AnswerChallenge(r.Context(), p.challenge.ID, "totp", code)
	switch {
	case err != nil && !isRefusal(err):
		s.cfg.Log.Warn("demo: step-up not checked", "login", p.attempt.ID, "error", err)
		retry(http.StatusServiceUnavailable, "step_up_error", "we could not check your code right now; please try again")
		return
	case err != nil: // closed, expired, or the app locked after too many wrong codes
		s.failStepUp(w, r, token, p, true)
		return
	case ans.Token == "":
		if ans.AttemptsLeft > 0 && ans.Challenge.Status != "failed" {
			retry(http.StatusUnauthorized, "wrong_code", "that code is not right; enter the code your app shows now")
			return
		}
		s.failStepUp(w, r, token, p, true)
		return
	}
	s.completeStepUp(w, r, token, p, ans.Token)
}

// completeStepUp signs the customer in on the approval of their step-up,
// verified for this customer and this sign-in; without it, no session.
func (s *Shop) completeStepUp(w http.ResponseWriter, r *http.Request, token string, p *pendingLogin, approval string) {
	v, err := s.guard.VerifyApproval(r.Context(), approval, p.userID, p.challenge.Action)
	if err != nil || !v.Valid {
		// The challenge passed but the approval does not hold for this
		// sign-in (or could not be checked): no session on that.
		s.cfg.Log.Warn("demo: step-up approval refused", "login", p.attempt.ID, "error", err)
		s.failStepUp(w, r, token, p, false)
		return
	}
	s.mu.Lock()
	_, still := s.pending[token]
	delete(s.pending, token)
	s.mu.Unlock()
	if !still { // another answer completed or ended it meanwhile
		s.failStepUp(w, r, token, p, false)
		return
	}
	// Only a reported success makes the device part of the customer's history.
	s.reportLogin(r, p.attempt, client.LoginSuccess)
	w.Header().Set(AccountStatusHeader, "signed_in")
	s.signIn(w, r, p.email)
	http.Redirect(w, r, p.next, http.StatusSeeOther)
}

// failStepUp ends a step-up the customer did not pass: the sign-in is
// refused, and reported as mfa_failed when the customer's answers failed it.
func (s *Shop) failStepUp(w http.ResponseWriter, r *http.Request, token string, p *pendingLogin, report bool) {
	s.mu.Lock()
	delete(s.pending, token)
	s.mu.Unlock()
	if report {
		s.reportLogin(r, p.attempt, client.LoginMFAFailed)
	}
	w.Header().Set(AccountStatusHeader, "step_up_failed")
	s.render(w, r, http.StatusUnauthorized, "login", "Sign in", nil, map[string]string{"form": "we could not confirm it is you, so you are not signed in; contact support if this is a mistake"})
}

// reportLogin sends a sign-in's outcome to shopguard under the attempt's
// id plus LoginResultSuffix, as the sign-in form does.
func (s *Shop) reportLogin(r *http.Request, attempt client.Login, outcome string) {
	l := attempt
	l.ID, l.Outcome, l.CreatedAt = attempt.ID+LoginResultSuffix, outcome, s.cfg.Now().UTC()
	s.guard.Login(r.Context(), l)
}

// SecurityPath sends the signed-in customer to shopguard's page where
// they add a passkey or an authenticator app.
const SecurityPath = "/account/security"

// security hands the signed-in customer an enrolment link (only to them:
// whoever holds it can add factors to the account until it expires) and
// sends them to shopguard's page under the shop's origin.
func (s *Shop) security(w http.ResponseWriter, r *http.Request) {
	acct := s.signedIn(w, r)
	if acct == nil {
		http.Redirect(w, r, "/login?next="+url.QueryEscape(SecurityPath), http.StatusSeeOther)
		return
	}
	if s.hosted == nil {
		s.render(w, r, http.StatusNotFound, "message", "Sign-in security", "Passkeys and authenticator apps are not set up in this shop.", nil)
		return
	}
	link, err := s.guard.EnrolmentLink(r.Context(), acct.ID, acct.Email, "http://"+r.Host+"/")
	if err != nil {
		s.cfg.Log.Warn("demo: no enrolment link", "account", acct.ID, "error", err)
		s.render(w, r, http.StatusServiceUnavailable, "message", "Sign-in security", "That page is not available right now; please try again.", nil)
		return
	}
	http.Redirect(w, r, link.URL, http.StatusSeeOther)
}
