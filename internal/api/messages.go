package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/shopguard/shopguard/internal/apikey"
	"github.com/shopguard/shopguard/internal/phishing"
	"github.com/shopguard/shopguard/internal/risk"
)

// MessageChecker judges messages for a tenant (a *phishing.Checker).
type MessageChecker interface {
	CheckMessage(tenant string, m phishing.Message, shop phishing.Shop) (phishing.MessageResult, error)
}

// SetMessageChecker makes c judge /v1/messages/check (the default knows
// the rules only).
func (s *Server) SetMessageChecker(c MessageChecker) { s.messages = c }

// messageCheckBody is the request of POST /v1/messages/check.
type messageCheckBody struct {
	// Channel is email, sms or chat.
	Channel string `json:"channel"`
	// Raw is an e-mail as received, headers and all (RFC 5322); else
	// Text is the message.
	Raw     string `json:"raw,omitempty"`
	Text    string `json:"text,omitempty"`
	Sender  string `json:"sender,omitempty"`
	Subject string `json:"subject,omitempty"`
	// ProtectedDomains add to the shop's protected domains for this check.
	ProtectedDomains []string `json:"protected_domains,omitempty"`
}

// maxSenderLength bounds a message's sender.
const maxSenderLength = 320

func (s *Server) postMessageCheck(w http.ResponseWriter, r *http.Request, key apikey.Key) error {
	var body messageCheckBody
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &body); err != nil {
		return err
	}
	var ps []error
	if body.Channel == "" {
		ps = append(ps, risk.Missing("channel"))
	}
	if len(body.Sender) > maxSenderLength {
		ps = append(ps, risk.Invalid("sender", "%d bytes; at most %d", len(body.Sender), maxSenderLength))
	}
	if len(body.Subject) > maxSenderLength*4 {
		ps = append(ps, risk.Invalid("subject", "%d bytes; at most %d", len(body.Subject), maxSenderLength*4))
	}
	shop, perr := s.shopProfile(r.Context(), key.Tenant, body.ProtectedDomains)
	ps = append(ps, perr...)
	if len(ps) > 0 {
		return errors.Join(ps...)
	}
	res, err := s.messages.CheckMessage(key.Tenant, phishing.Message{Channel: body.Channel, Raw: []byte(body.Raw), Text: body.Text,
		Sender: body.Sender, Subject: body.Subject}, shop)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// shopProfile is what a tenant's checks know of the shop: the domains
// links must not imitate — its passkey domain (relying party), its stored
// phishing profile's and those of the request, which are validated (field
// errors name protected_domains[i]) — and who its messages come from.
func (s *Server) shopProfile(ctx context.Context, tenant string, extra []string) (phishing.Shop, []error) {
	var ps []error
	if len(extra) > maxProtectedPerCheck {
		ps = append(ps, risk.Invalid("protected_domains", "has %d domains; at most %d are accepted", len(extra), maxProtectedPerCheck))
	}
	var shop phishing.Shop
	for i, d := range extra {
		u, err := phishing.Parse(d)
		if err != nil || u.RegisteredDomain == "" {
			ps = append(ps, risk.Invalid(fmt.Sprintf("protected_domains[%d]", i), "%q is not a domain name such as shop.example", d))
			continue
		}
		shop.Protected = append(shop.Protected, u.RegisteredDomain)
	}
	if s.passkeys != nil {
		if rp, err := s.passkeys.RelyingParty(ctx, tenant); err == nil {
			if u, err := phishing.Parse(rp.ID); err == nil && u.RegisteredDomain != "" {
				shop.Protected = append(shop.Protected, u.RegisteredDomain)
			}
		}
	}
	if s.phishing.store != nil {
		p, err := s.phishing.store.PhishingProfile(ctx, tenant)
		if err != nil {
			return shop, []error{fmt.Errorf("api: phishing profile: %w", err)}
		}
		shop.Protected = append(shop.Protected, p.ProtectedDomains...)
		shop.Sender.Names = p.SenderNames
		shop.Sender.Domains = p.SendingDomains
	}
	// The shop's own domains send its mail too.
	for _, d := range shop.Protected {
		if !slices.Contains(shop.Sender.Domains, d) {
			shop.Sender.Domains = append(shop.Sender.Domains, d)
		}
	}
	return shop, ps
}
