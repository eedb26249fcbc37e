package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/shopguard/shopguard/internal/apikey"
	"github.com/shopguard/shopguard/internal/phishing"
	"github.com/shopguard/shopguard/internal/risk"
)

// Bounds of a URL check request.
const (
	maxURLsPerCheck      = 100
	maxProtectedPerCheck = 50
)

// URLChecker judges links for a tenant (a *phishing.Checker, with the
// shopguard's lists and learned model).
type URLChecker interface {
	CheckURL(tenant string, u phishing.URL, protected phishing.Protected) phishing.Result
}

// SetURLChecker makes c judge /v1/urls/check (the default knows the
// rules only).
func (s *Server) SetURLChecker(c URLChecker) { s.urls = c }

// urlCheckBody is the request of POST /v1/urls/check.
type urlCheckBody struct {
	// URLs are the links to judge, as found (in a message, a review, a
	// customer's report).
	URLs []string `json:"urls"`
	// ProtectedDomains are the shop's own and brand domains a link must
	// not imitate; the shop's passkey domain (its relying party) is
	// always one.
	ProtectedDomains []string `json:"protected_domains,omitempty"`
}

// urlCheckJSON answers POST /v1/urls/check: a result per URL, in order.
type urlCheckJSON struct {
	Results []phishing.Result `json:"results"`
}

func (s *Server) postURLCheck(w http.ResponseWriter, r *http.Request, key apikey.Key) error {
	var body urlCheckBody
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &body); err != nil {
		return err
	}
	var ps []error
	switch {
	case len(body.URLs) == 0:
		ps = append(ps, risk.Missing("urls"))
	case len(body.URLs) > maxURLsPerCheck:
		ps = append(ps, risk.Invalid("urls", "has %d URLs; at most %d are checked at once", len(body.URLs), maxURLsPerCheck))
	}
	shop, perr := s.shopProfile(r.Context(), key.Tenant, body.ProtectedDomains)
	ps = append(ps, perr...)
	out := urlCheckJSON{Results: make([]phishing.Result, 0, len(body.URLs))}
	if len(ps) == 0 {
		brands := phishing.ParseProtected(shop.Protected)
		for i, raw := range body.URLs {
			u, err := phishing.Parse(raw)
			if err != nil {
				ps = append(ps, risk.Invalid(fmt.Sprintf("urls[%d]", i), "is not a link shopguard can check: %s",
					strings.TrimPrefix(err.Error(), phishing.ErrNotURL.Error()+": ")))
				continue
			}
			out.Results = append(out.Results, s.urls.CheckURL(key.Tenant, u, brands))
		}
	}
	if len(ps) > 0 {
		return errors.Join(ps...)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
