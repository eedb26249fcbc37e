package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/shopguard/shopguard/internal/apikey"
	"github.com/shopguard/shopguard/internal/phishing"
	"github.com/shopguard/shopguard/internal/risk"
)

// Bounds of a URL check request.
const (
	maxURLsPerCheck      = 100
	maxProtectedPerCheck = 50
)

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
	if len(body.ProtectedDomains) > maxProtectedPerCheck {
		ps = append(ps, risk.Invalid("protected_domains", "has %d domains; at most %d are accepted", len(body.ProtectedDomains), maxProtectedPerCheck))
	}
	protected := make([]string, 0, len(body.ProtectedDomains)+1)
	for i, d := range body.ProtectedDomains {
		u, err := phishing.Parse(d)
		if err != nil || u.RegisteredDomain == "" {
			ps = append(ps, risk.Invalid(fmt.Sprintf("protected_domains[%d]", i), "%q is not a domain name such as shop.example", d))
			continue
		}
		protected = append(protected, u.RegisteredDomain)
	}
	if s.passkeys != nil {
		if rp, err := s.passkeys.RelyingParty(r.Context(), key.Tenant); err == nil {
			if u, err := phishing.Parse(rp.ID); err == nil && u.RegisteredDomain != "" {
				protected = append(protected, u.RegisteredDomain)
			}
		}
	}
	out := urlCheckJSON{Results: make([]phishing.Result, 0, len(body.URLs))}
	if len(ps) == 0 {
		for i, raw := range body.URLs {
			res, err := phishing.Check(raw, protected)
			var fe *risk.FieldError
			if errors.As(err, &fe) {
				ps = append(ps, risk.Invalid(fmt.Sprintf("urls[%d]", i), "%s", fe.Message))
				continue
			}
			if err != nil {
				return err
			}
			out.Results = append(out.Results, res)
		}
	}
	if len(ps) > 0 {
		return errors.Join(ps...)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
