package demo

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/shopguard/shopguard/client"
)

// StepUpPath is where the step-up page sends the customer's code.
const StepUpPath = "/login/step-up"

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
}

// stepUpPage is the step-up template's data.
type stepUpPage struct {
	Token       string
	ChallengeID string
	Description string
}

// loginChallenge returns the step-up shopguard started for the sign-in
// when the shop can run it (an authenticator app code, for this account
// and this sign-in), nil otherwise.
func loginChallenge(v Verdict, userID, loginID string) *client.Challenge {
	ch := v.Challenge
	if ch == nil || ch.ID == "" || ch.UserID != userID || ch.Action.Type != "login" ||
		(ch.Action.Reference != "" && ch.Action.Reference != loginID) || !slices.Contains(ch.Methods, "totp") {
		return nil
	}
	return ch
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
	s.mu.Lock()
	for k, q := range s.pending {
		if now.After(q.expires) {
			delete(s.pending, k)
		}
	}
	s.pending[token] = p
	s.mu.Unlock()
	w.Header().Set(StepUpHeader, "totp")
	s.render(w, r, http.StatusUnauthorized, "stepup", "Confirm it is you",
		stepUpPage{Token: token, ChallengeID: ch.ID, Description: ch.Action.Description}, nil)
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
	s.mu.Lock()
	p := s.pending[token]
	if p != nil && s.cfg.Now().After(p.expires) {
		delete(s.pending, token)
		p = nil
	}
	s.mu.Unlock()
	if p == nil || p.challenge.ID != r.PostForm.Get("challenge") || p.deviceID != deviceID(r) {
		w.Header().Set(AccountStatusHeader, "step_up_failed")
		s.render(w, r, http.StatusUnauthorized, "login", "Sign in", nil, map[string]string{"form": "this confirmation has expired; please sign in again"})
		return
	}
	w.Header().Set(LoginHeader, p.attempt.ID)
	page := stepUpPage{Token: token, ChallengeID: p.challenge.ID, Description: p.challenge.Action.Description}
	retry := func(status int, account, msg string) {
		w.Header().Set(AccountStatusHeader, account)
		w.Header().Set(StepUpHeader, "totp")
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
	v, err := s.guard.VerifyApproval(r.Context(), ans.Token, p.userID, p.challenge.Action)
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
