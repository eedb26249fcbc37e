// Package stepup serves shopguard's hosted pages for a shop's customers:
// the step-up page where a customer approves one action (a payment, a
// change of e-mail, a sign-in) with a passkey or an authenticator app,
// the enrolment page where they add those factors, and the small script
// shops include to open them and to measure typing rhythm. The pages need
// no API key: each link is signed for what it opens (authn.Links).
package stepup

import (
	"context"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/shopguard/shopguard/internal/authn"
	"github.com/shopguard/shopguard/internal/authn/webauthnjs"
	"github.com/shopguard/shopguard/internal/reference"
	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/storage"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Challenges runs step-up challenges (an *authn.Challenges).
type Challenges interface {
	Get(ctx context.Context, tenant, id string) (storage.Challenge, error)
	PasskeyOptions(ctx context.Context, tenant, id string) (authn.CeremonyStart, error)
	Answer(ctx context.Context, tenant, id string, in authn.AnswerInput) (authn.Answer, error)
}

// Passkeys registers passkeys (an *authn.Passkeys).
type Passkeys interface {
	RelyingParty(ctx context.Context, tenant string) (storage.RelyingParty, error)
	BeginRegistration(ctx context.Context, tenant, userID string, in authn.RegistrationInput) (authn.CeremonyStart, error)
	FinishRegistration(ctx context.Context, tenant, userID, ceremonyID string, response []byte) (storage.Passkey, error)
	List(ctx context.Context, tenant, userID string) ([]storage.Passkey, error)
}

// Factors enrols authenticator apps (an *authn.Authenticators).
type Factors interface {
	Factors(ctx context.Context, tenant, userID string) (authn.Factors, error)
	Enrol(ctx context.Context, tenant, userID string, in authn.EnrolInput) (authn.Enrolment, error)
	Confirm(ctx context.Context, tenant, userID, code string) ([]string, error)
}

// ErrorWriter answers a request with err as a JSON error (the API's).
type ErrorWriter func(w http.ResponseWriter, r *http.Request, err error)

// Config configures the pages. Zero values take defaults.
type Config struct {
	// MaxBodyBytes bounds a request body (default 128 KiB).
	MaxBodyBytes int64
	// Now returns the time (default time.Now).
	Now func() time.Time
}

// Server serves the hosted pages under authn.HostedPrefix.
type Server struct {
	cfg        Config
	challenges Challenges
	passkeys   Passkeys
	factors    Factors
	links      *authn.Links
	writeErr   ErrorWriter
	log        *slog.Logger
	pages      map[string]*template.Template
	mux        *http.ServeMux
}

// New returns the hosted pages' server.
func New(cfg Config, c Challenges, p Passkeys, f Factors, links *authn.Links, writeErr ErrorWriter, log *slog.Logger) (*Server, error) {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 128 << 10
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{cfg: cfg, challenges: c, passkeys: p, factors: f, links: links, writeErr: writeErr, log: log,
		pages: map[string]*template.Template{}, mux: http.NewServeMux()}
	funcs := template.FuncMap{"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	}}
	for _, name := range []string{"challenge", "enrol", "invalid"} {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("stepup: templates: %w", err)
		}
		s.pages[name] = t
	}
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, fmt.Errorf("stepup: static files: %w", err)
	}
	p0 := authn.HostedPrefix
	s.mux.Handle("GET "+p0+"/static/webauthn.js", webauthnjs.Handler())
	s.mux.Handle("GET "+p0+"/static/", http.StripPrefix(p0+"/static/", http.FileServerFS(static)))
	s.mux.HandleFunc("GET "+p0+"/shopguard.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		w.Header().Set("Access-Control-Allow-Origin", "*")
		http.ServeFileFS(w, r, static, "shopguard.js")
	})
	s.mux.HandleFunc("GET "+p0+"/c/{id}", s.challengePage)
	s.mux.HandleFunc("POST "+p0+"/c/{id}/passkey-options", s.api(s.challengePasskeyOptions))
	s.mux.HandleFunc("POST "+p0+"/c/{id}/answer", s.api(s.challengeAnswer))
	s.mux.HandleFunc("GET "+p0+"/enrol", s.enrolPage)
	s.mux.HandleFunc("POST "+p0+"/enrol/passkey-options", s.api(s.enrolPasskeyOptions))
	s.mux.HandleFunc("POST "+p0+"/enrol/passkey", s.api(s.enrolPasskey))
	s.mux.HandleFunc("POST "+p0+"/enrol/totp", s.api(s.enrolTOTP))
	s.mux.HandleFunc("POST "+p0+"/enrol/totp/confirm", s.api(s.confirmTOTP))
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// The links carry their own credential in the query: never send them on.
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	s.mux.ServeHTTP(w, r)
}

// errInvalidLink answers a link that is wrong, changed or expired.
var errInvalidLink = &linkError{}

type linkError struct{}

func (*linkError) Error() string {
	return "stepup: the link is not valid: it was changed, has expired or belongs to something else"
}

// Is makes a bad link a not-found for the API's error mapping.
func (*linkError) Is(target error) bool { return target == storage.ErrNotFound }

// page headers: no caching, no framing except by the shop's own pages,
// scripts and styles from shopguard only.
func (s *Server) pageHeaders(w http.ResponseWriter, rp storage.RelyingParty) {
	ancestors := "'none'"
	if len(rp.Origins) > 0 {
		ancestors = strings.Join(rp.Origins, " ")
	}
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors "+ancestors)
	h.Set("Content-Type", "text/html; charset=utf-8")
}

// render writes a page.
func (s *Server) render(w http.ResponseWriter, status int, name string, rp storage.RelyingParty, data any) {
	s.pageHeaders(w, rp)
	w.WriteHeader(status)
	if err := s.pages[name].Execute(w, data); err != nil {
		s.log.Error("stepup: rendering a page failed", "page", name, "error", err)
	}
}

// invalid renders the page for a link that does not open anything.
func (s *Server) invalid(w http.ResponseWriter, msg string) {
	s.render(w, http.StatusNotFound, "invalid", storage.RelyingParty{}, map[string]string{"Title": "Link not valid", "Message": msg})
}

// apiFunc is a JSON endpoint of the pages; it returns the value to write.
type apiFunc func(r *http.Request, body []byte) (int, any, error)

// api wraps a JSON endpoint: JSON bodies only (a cross-site form cannot
// send one without asking), bounded, errors as the API writes them.
func (s *Server) api(h apiFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			s.writeErr(w, r, risk.Invalid("content_type", "send application/json"))
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.writeErr(w, r, risk.Invalid("body", "is larger than %d bytes", s.cfg.MaxBodyBytes))
			return
		}
		if err != nil {
			s.writeErr(w, r, fmt.Errorf("stepup: read body: %w", err))
			return
		}
		status, out, err := h(r, body)
		if err != nil {
			s.writeErr(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(out)
	}
}

// decode parses a JSON body into v (an empty body leaves v as it is).
func decode(body []byte, v any) error {
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return risk.Invalid("body", "is not the JSON expected: %v", err)
	}
	return nil
}

// challengeOf returns the challenge a request's link opens.
func (s *Server) challengeOf(r *http.Request) (storage.Challenge, string, error) {
	q := r.URL.Query()
	tenant, id, ret := q.Get("t"), r.PathValue("id"), q.Get("r")
	if tenant == "" || !s.links.CheckChallenge(tenant, id, ret, q.Get("k")) {
		return storage.Challenge{}, "", errInvalidLink
	}
	ch, err := s.challenges.Get(r.Context(), tenant, id)
	if err != nil {
		return storage.Challenge{}, "", err
	}
	return ch, ret, nil
}

// relyingParty returns the tenant's passkey settings, or none.
func (s *Server) relyingParty(ctx context.Context, tenant string) storage.RelyingParty {
	rp, err := s.passkeys.RelyingParty(ctx, tenant)
	if err != nil {
		return storage.RelyingParty{}
	}
	return rp
}

// pageConfig is what a page's script needs, in a data attribute.
type pageConfig struct {
	// Base is the path the page's endpoints hang off; Query the link's query.
	Base  string `json:"base"`
	Query string `json:"query"`
	// Origins are the shop's origins, the only ones told the outcome.
	Origins []string `json:"origins"`
	// ChallengeID is set on a step-up page.
	ChallengeID string `json:"challenge_id,omitempty"`
}

// challengeView is the step-up page's data.
type challengeView struct {
	Title       string
	Shop        string
	Description string
	Amount      string
	Status      string
	Passkey     bool
	TOTP        bool
	Recovery    bool
	ExpiresAt   time.Time
	Config      pageConfig
}

func (s *Server) challengePage(w http.ResponseWriter, r *http.Request) {
	ch, _, err := s.challengeOf(r)
	if err != nil {
		s.invalid(w, "This approval link is not valid. Go back to the shop and start again.")
		return
	}
	rp := s.relyingParty(r.Context(), ch.Tenant)
	var action authn.Action
	_ = json.Unmarshal(ch.Action, &action) // stored by Create from the same type
	v := challengeView{Title: "Confirm it's you", Shop: rp.Name, Description: action.Description, Status: ch.Status,
		ExpiresAt: ch.ExpiresAt, Config: pageConfig{Base: authn.HostedPrefix + "/c/" + url.PathEscape(ch.ID),
			Query: r.URL.RawQuery, Origins: rp.Origins, ChallengeID: ch.ID}}
	if v.Shop == "" {
		v.Shop = "the shop"
	}
	if action.Currency != "" {
		v.Amount = formatAmount(action.AmountMinor, action.Currency)
	}
	for _, m := range ch.Methods {
		switch m {
		case authn.MethodPasskey:
			v.Passkey = true
		case authn.MethodTOTP:
			v.TOTP = true
		case authn.MethodRecovery:
			v.Recovery = true
		}
	}
	s.render(w, http.StatusOK, "challenge", rp, v)
}

// formatAmount writes minor units of currency with its ISO 4217 exponent.
func formatAmount(minor int64, currency string) string {
	exp, ok := reference.CurrencyExponent(currency)
	if !ok {
		exp = 2
	}
	if exp == 0 {
		return strconv.FormatInt(minor, 10) + " " + currency
	}
	div := int64(1)
	for range exp {
		div *= 10
	}
	return fmt.Sprintf("%d.%0*d %s", minor/div, exp, minor%div, currency)
}

func (s *Server) challengePasskeyOptions(r *http.Request, _ []byte) (int, any, error) {
	ch, _, err := s.challengeOf(r)
	if err != nil {
		return 0, nil, err
	}
	start, err := s.challenges.PasskeyOptions(r.Context(), ch.Tenant, ch.ID)
	return http.StatusCreated, start, err
}

// answerView is the outcome of an answer as the page's script sees it.
type answerView struct {
	Status       string `json:"status"`
	Token        string `json:"token,omitempty"`
	AttemptsLeft int    `json:"attempts_left"`
	Reason       string `json:"reason,omitempty"`
	// Redirect is where to send the customer (the shop's return URL with
	// the challenge id and token), when the link has one.
	Redirect string `json:"redirect,omitempty"`
}

func (s *Server) challengeAnswer(r *http.Request, body []byte) (int, any, error) {
	ch, ret, err := s.challengeOf(r)
	if err != nil {
		return 0, nil, err
	}
	var in authn.AnswerInput
	if err := decode(body, &in); err != nil {
		return 0, nil, err
	}
	a, err := s.challenges.Answer(r.Context(), ch.Tenant, ch.ID, in)
	if err != nil {
		return 0, nil, err
	}
	out := answerView{Status: a.Challenge.Status, Token: a.Token, AttemptsLeft: a.AttemptsLeft, Reason: a.Reason}
	if a.Token != "" && ret != "" {
		out.Redirect = withParams(ret, url.Values{"shopguard_challenge": {ch.ID}, "shopguard_token": {a.Token}})
	}
	return http.StatusOK, out, nil
}

// withParams adds params to the query of u (a URL checked when its link
// was made).
func withParams(u string, params url.Values) string {
	parsed, err := url.Parse(u)
	if err != nil {
		return u
	}
	q := parsed.Query()
	for k, vs := range params {
		q[k] = vs
	}
	parsed.RawQuery = q.Encode()
	return parsed.String()
}

// enrolmentOf returns the enrolment a request's link opens.
func (s *Server) enrolmentOf(r *http.Request) (authn.EnrolLink, error) {
	e, ok := s.links.ParseEnrolment(r.URL.Query(), s.cfg.Now())
	if !ok {
		return authn.EnrolLink{}, errInvalidLink
	}
	return e, nil
}

// enrolView is the enrolment page's data.
type enrolView struct {
	Title       string
	Shop        string
	Account     string
	Passkeys    []storage.Passkey
	CanPasskey  bool
	TOTP        string
	ReturnURL   string
	ExpiresAt   time.Time
	Config      pageConfig
	PasskeyNote string
}

func (s *Server) enrolPage(w http.ResponseWriter, r *http.Request) {
	e, err := s.enrolmentOf(r)
	if err != nil {
		s.invalid(w, "This link to set up sign-in is not valid or has expired. Go back to the shop and ask for a new one.")
		return
	}
	ctx := r.Context()
	rp := s.relyingParty(ctx, e.Tenant)
	f, err := s.factors.Factors(ctx, e.Tenant, e.UserID)
	if err != nil {
		s.log.Error("stepup: reading factors failed", "error", err)
		s.invalid(w, "Something went wrong on our side. Try again in a moment.")
		return
	}
	v := enrolView{Title: "Secure your account", Shop: rp.Name, Account: e.AccountName, TOTP: f.TOTP, ReturnURL: e.ReturnURL,
		CanPasskey: rp.ID != "", ExpiresAt: time.Unix(e.Expires, 0).UTC(),
		Config: pageConfig{Base: authn.HostedPrefix + "/enrol", Query: r.URL.RawQuery, Origins: rp.Origins}}
	if v.Shop == "" {
		v.Shop = "the shop"
	}
	if v.Account == "" {
		v.Account = e.UserID
	}
	if rp.ID != "" {
		keys, err := s.passkeys.List(ctx, e.Tenant, e.UserID)
		if err != nil {
			s.log.Error("stepup: listing passkeys failed", "error", err)
		}
		for _, k := range keys {
			if k.RPID == rp.ID {
				v.Passkeys = append(v.Passkeys, k)
			}
		}
	}
	s.render(w, http.StatusOK, "enrol", rp, v)
}

// passkeyNameBody names a new passkey.
type passkeyNameBody struct {
	Name string `json:"passkey_name"`
}

func (s *Server) enrolPasskeyOptions(r *http.Request, body []byte) (int, any, error) {
	e, err := s.enrolmentOf(r)
	if err != nil {
		return 0, nil, err
	}
	var in passkeyNameBody
	if err := decode(body, &in); err != nil {
		return 0, nil, err
	}
	start, err := s.passkeys.BeginRegistration(r.Context(), e.Tenant, e.UserID,
		authn.RegistrationInput{UserName: e.AccountName, DisplayName: e.AccountName, Name: in.Name})
	return http.StatusCreated, start, err
}

// finishBody is a browser's answer to a registration ceremony.
type finishBody struct {
	CeremonyID string          `json:"ceremony_id"`
	Credential json.RawMessage `json:"credential"`
}

// passkeyView is a new passkey as the page shows it.
type passkeyView struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func (s *Server) enrolPasskey(r *http.Request, body []byte) (int, any, error) {
	e, err := s.enrolmentOf(r)
	if err != nil {
		return 0, nil, err
	}
	var in finishBody
	if err := decode(body, &in); err != nil {
		return 0, nil, err
	}
	k, err := s.passkeys.FinishRegistration(r.Context(), e.Tenant, e.UserID, in.CeremonyID, in.Credential)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, passkeyView{ID: k.ID, Name: k.Name}, nil
}

// totpView is a new authenticator-app secret as the page shows it.
type totpView struct {
	Secret string `json:"secret"`
	// QRCode is a data: URL of the PNG.
	QRCode string `json:"qr_code"`
}

func (s *Server) enrolTOTP(r *http.Request, _ []byte) (int, any, error) {
	e, err := s.enrolmentOf(r)
	if err != nil {
		return 0, nil, err
	}
	issuer := s.relyingParty(r.Context(), e.Tenant).Name
	if issuer == "" {
		issuer = e.Tenant
	}
	account := e.AccountName
	if account == "" {
		account = e.UserID
	}
	en, err := s.factors.Enrol(r.Context(), e.Tenant, e.UserID, authn.EnrolInput{Issuer: issuerName(issuer), AccountName: account})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, totpView{Secret: en.Secret, QRCode: "data:image/png;base64," + base64.StdEncoding.EncodeToString(en.QRCode)}, nil
}

// issuerName makes a shop name fit an otpauth issuer (no colon).
func issuerName(s string) string {
	s = strings.ReplaceAll(s, ":", " ")
	if len(s) > 64 {
		s = s[:64]
	}
	return strings.TrimSpace(s)
}

// codeBody carries a code the customer typed.
type codeBody struct {
	Code string `json:"code"`
}

// recoveryView carries the customer's new recovery codes.
type recoveryView struct {
	RecoveryCodes []string `json:"recovery_codes"`
}

func (s *Server) confirmTOTP(r *http.Request, body []byte) (int, any, error) {
	e, err := s.enrolmentOf(r)
	if err != nil {
		return 0, nil, err
	}
	var in codeBody
	if err := decode(body, &in); err != nil {
		return 0, nil, err
	}
	codes, err := s.factors.Confirm(r.Context(), e.Tenant, e.UserID, in.Code)
	if errors.Is(err, authn.ErrWrongCode) {
		return 0, nil, risk.Invalid("code", "the code is wrong or expired: enter the code the app shows now")
	}
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, recoveryView{RecoveryCodes: codes}, nil
}
