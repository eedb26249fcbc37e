package dashboard

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/shopguard/shopguard/internal/authn"
	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/storage"
)

// Passkeys runs WebAuthn ceremonies on a given relying party (an
// *authn.Passkeys): dashboard users sign in with passkeys made for the
// dashboard's own domain.
type Passkeys interface {
	BeginRegistrationAt(ctx context.Context, rp storage.RelyingParty, tenant, userID string, in authn.RegistrationInput) (authn.CeremonyStart, error)
	FinishRegistrationAt(ctx context.Context, rp storage.RelyingParty, tenant, userID, ceremonyID string, response []byte) (storage.Passkey, error)
	BeginDiscoverableAt(ctx context.Context, rp storage.RelyingParty, tenant string) (authn.CeremonyStart, error)
	FinishDiscoverableAt(ctx context.Context, rp storage.RelyingParty, tenant, ceremonyID string, response []byte) (storage.Passkey, error)
	List(ctx context.Context, tenant, userID string) ([]storage.Passkey, error)
	Revoke(ctx context.Context, tenant, userID, id string) error
}

// SetPasskeys lets dashboard users add passkeys and sign in with them
// (without it, the dashboard is password-only).
func (s *Server) SetPasskeys(p Passkeys) { s.passkeys = p }

// passkeyTenant keeps dashboard users' passkeys apart from every shop's
// customers' (tenant names cannot start with "_").
const passkeyTenant = "_dashboard"

// relyingParty returns the dashboard's relying party as the request
// reached it: its host name as RP ID and its origin (the host's, with the
// scheme the browser used). A dashboard reached by IP address has none
// (passkeys need a domain name, e.g. localhost). A forged Host or Origin
// header gains nothing: the passkeys are looked up under the RP ID, and
// the browser signs the origin it really is on.
func (s *Server) relyingParty(r *http.Request) (storage.RelyingParty, bool) {
	host := strings.ToLower(r.Host)
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	if name == "" || net.ParseIP(strings.Trim(name, "[]")) != nil {
		return storage.RelyingParty{}, false
	}
	// Behind a proxy that terminates TLS, the browser's Origin header (set
	// on every fetch, and not one a page can change) says https.
	scheme := "http"
	if o, err := url.Parse(r.Header.Get("Origin")); err == nil && strings.EqualFold(o.Host, host) && (o.Scheme == "https" || o.Scheme == "http") {
		scheme = o.Scheme
	} else if r.TLS != nil || s.cfg.SecureCookies {
		scheme = "https"
	}
	return storage.RelyingParty{ID: name, Name: "shopguard dashboard", Origins: []string{scheme + "://" + host}}, true
}

// passkeyJSON answers a dashboard passkey endpoint.
func passkeyJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// passkeyError answers a dashboard passkey endpoint with a message for
// the page to show.
func passkeyError(w http.ResponseWriter, status int, msg string) {
	passkeyJSON(w, status, map[string]string{"error": msg})
}

// passkeyFailure maps an error of a ceremony to a status and a message.
func (s *Server) passkeyFailure(w http.ResponseWriter, err error) {
	var re *authn.RejectedError
	switch {
	case errors.As(err, &re):
		passkeyError(w, http.StatusBadRequest, "The passkey was not accepted: "+re.Reason+".")
	case errors.Is(err, authn.ErrCeremony):
		passkeyError(w, http.StatusConflict, "That took too long. Try again.")
	case errors.Is(err, authn.ErrTooManyPasskeys):
		passkeyError(w, http.StatusConflict, "You have as many passkeys as allowed. Remove one first.")
	case len(risk.FieldErrors(err)) > 0:
		passkeyError(w, http.StatusBadRequest, "The browser's answer could not be read: "+risk.FieldErrors(err)[0].Message+".")
	default:
		s.log.Error("dashboard: passkey", "error", err)
		passkeyError(w, http.StatusServiceUnavailable, "Something went wrong. Try again.")
	}
}

// ceremonyBody is a browser's answer to a ceremony.
type ceremonyBody struct {
	CeremonyID string          `json:"ceremony_id"`
	Credential json.RawMessage `json:"credential"`
	Name       string          `json:"name,omitempty"`
	Next       string          `json:"next,omitempty"`
}

// readJSON decodes a JSON request body into v.
func readJSON(r *http.Request, v any) error {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		return errors.New("send application/json")
	}
	b, err := io.ReadAll(r.Body) // bounded by ServeHTTP
	if err != nil {
		return err
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil
	}
	return json.Unmarshal(b, v)
}

// jsonPage wraps a passkey endpoint of a signed-in user: a session, and
// the CSRF token in the X-CSRF-Token header (a JSON body has no form).
func (s *Server) jsonPage(h func(http.ResponseWriter, *http.Request, *session, storage.RelyingParty)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess, ok := s.current(r)
		if !ok {
			passkeyError(w, http.StatusUnauthorized, "Your session has ended. Sign in again.")
			return
		}
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("X-CSRF-Token")), []byte(sess.csrf)) != 1 {
			passkeyError(w, http.StatusForbidden, "The page had expired. Reload it and try again.")
			return
		}
		rp, ok := s.relyingParty(r)
		if s.passkeys == nil || !ok {
			passkeyError(w, http.StatusNotFound, "Passkeys need the dashboard opened by its domain name (e.g. localhost), not an IP address.")
			return
		}
		h(w, r, sess, rp)
	}
}

// accountView is the account page's data.
type accountView struct {
	Passkeys []storage.Passkey
	// Available says the dashboard can use passkeys as reached.
	Available bool
	Done      string
}

func (s *Server) accountPage(w http.ResponseWriter, r *http.Request, sess *session) {
	v := accountView{Done: doneMessage(r.URL.Query().Get("done"))}
	rp, ok := s.relyingParty(r)
	v.Available = ok && s.passkeys != nil
	if s.passkeys != nil {
		keys, err := s.passkeys.List(r.Context(), passkeyTenant, sess.user.Name)
		if err != nil {
			s.fail(w, r, sess, http.StatusServiceUnavailable, "Your passkeys could not be loaded.")
			return
		}
		for _, k := range keys {
			if !ok || k.RPID == rp.ID {
				v.Passkeys = append(v.Passkeys, k)
			}
		}
	}
	s.render(w, http.StatusOK, "account", view{Title: "Your account", Nav: "account", User: &sess.user, CSRF: sess.csrf, Data: v})
}

// doneMessage names what the account page just did.
func doneMessage(done string) string {
	switch done {
	case "added":
		return "Passkey added. You can sign in with it from now on."
	case "removed":
		return "Passkey removed."
	}
	return ""
}

func (s *Server) passkeyOptions(w http.ResponseWriter, r *http.Request, sess *session, rp storage.RelyingParty) {
	start, err := s.passkeys.BeginRegistrationAt(r.Context(), rp, passkeyTenant, sess.user.Name,
		authn.RegistrationInput{UserName: sess.user.Name, DisplayName: sess.user.Name + " (" + sess.user.Tenant + ")"})
	if err != nil {
		s.passkeyFailure(w, err)
		return
	}
	passkeyJSON(w, http.StatusCreated, start)
}

func (s *Server) passkeyAdd(w http.ResponseWriter, r *http.Request, sess *session, rp storage.RelyingParty) {
	var body ceremonyBody
	if err := readJSON(r, &body); err != nil {
		passkeyError(w, http.StatusBadRequest, "The request could not be read.")
		return
	}
	k, err := s.passkeys.FinishRegistrationAt(r.Context(), rp, passkeyTenant, sess.user.Name, body.CeremonyID, body.Credential)
	if err != nil {
		s.passkeyFailure(w, err)
		return
	}
	s.audit(r.Context(), sess, "passkey.add", k.ID, "")
	passkeyJSON(w, http.StatusCreated, map[string]string{"id": k.ID, "redirect": Prefix + "/account?done=added"})
}

func (s *Server) passkeyRemove(w http.ResponseWriter, r *http.Request, sess *session) {
	if s.passkeys == nil {
		s.fail(w, r, sess, http.StatusNotFound, "Passkeys are not available.")
		return
	}
	id := r.PathValue("id")
	if err := s.passkeys.Revoke(r.Context(), passkeyTenant, sess.user.Name, id); err != nil {
		s.fail(w, r, sess, statusOf(err), "The passkey could not be removed.")
		return
	}
	s.audit(r.Context(), sess, "passkey.remove", id, "")
	http.Redirect(w, r, Prefix+"/account?done=removed", http.StatusSeeOther)
}

// passkeySignInOptions begins a sign-in with any of the dashboard users'
// passkeys (the browser offers those it holds for this domain).
func (s *Server) passkeySignInOptions(w http.ResponseWriter, r *http.Request) {
	rp, ok := s.relyingParty(r)
	if s.passkeys == nil || !ok {
		passkeyError(w, http.StatusNotFound, "Passkeys need the dashboard opened by its domain name (e.g. localhost), not an IP address.")
		return
	}
	if wait := s.limiter.blocked("ip:" + clientIP(r)); wait > 0 {
		passkeyError(w, http.StatusTooManyRequests, "Too many failed sign-ins. Try again later.")
		return
	}
	start, err := s.passkeys.BeginDiscoverableAt(r.Context(), rp, passkeyTenant)
	if err != nil {
		s.passkeyFailure(w, err)
		return
	}
	passkeyJSON(w, http.StatusCreated, start)
}

// passkeySignIn finishes a passkey sign-in: the passkey names the user,
// who must still be active.
func (s *Server) passkeySignIn(w http.ResponseWriter, r *http.Request) {
	rp, ok := s.relyingParty(r)
	if s.passkeys == nil || !ok {
		passkeyError(w, http.StatusNotFound, "Passkeys are not available here.")
		return
	}
	ip := clientIP(r)
	if wait := s.limiter.blocked("ip:" + ip); wait > 0 {
		passkeyError(w, http.StatusTooManyRequests, "Too many failed sign-ins. Try again later.")
		return
	}
	var body ceremonyBody
	if err := readJSON(r, &body); err != nil {
		passkeyError(w, http.StatusBadRequest, "The request could not be read.")
		return
	}
	k, err := s.passkeys.FinishDiscoverableAt(r.Context(), rp, passkeyTenant, body.CeremonyID, body.Credential)
	if err != nil {
		var re *authn.RejectedError
		if errors.As(err, &re) {
			s.limiter.fail("ip:" + ip)
		}
		s.passkeyFailure(w, err)
		return
	}
	u, err := s.store.UserByName(r.Context(), k.UserID)
	if err != nil || !u.DisabledAt.IsZero() {
		s.limiter.fail("ip:" + ip)
		passkeyError(w, http.StatusUnauthorized, "This passkey's user cannot sign in.")
		return
	}
	if err := s.startSession(w, r, u); err != nil {
		passkeyError(w, http.StatusServiceUnavailable, "Signing in failed; try again.")
		return
	}
	passkeyJSON(w, http.StatusOK, map[string]string{"redirect": safeNext(body.Next)})
}
