package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/shopguard/shopguard/internal/apikey"
	"github.com/shopguard/shopguard/internal/assistant"
	"github.com/shopguard/shopguard/internal/phishing"
	"github.com/shopguard/shopguard/internal/storage"
)

// Assistant is the support assistant (an *assistant.Assistant).
type Assistant interface {
	Start(ctx context.Context, tenant string, in assistant.StartInput) (*assistant.Conversation, error)
	Conversation(ctx context.Context, tenant, id string) (*assistant.Conversation, error)
	Post(ctx context.Context, tenant, id string, in assistant.MessageInput) (assistant.Reply, error)
}

// OutboundRegistry keeps the register of messages the shop sent.
type OutboundRegistry interface {
	CreateOutbound(ctx context.Context, m storage.OutboundMessage) error
	Outbound(ctx context.Context, tenant, id string) (storage.OutboundMessage, error)
}

// assistantDeps are the assistant's parts of the server.
type assistantDeps struct {
	bot      Assistant
	tokens   *assistant.Tokens
	registry OutboundRegistry
	// tokenTTL is how long a conversation's client token is valid.
	tokenTTL time.Duration
}

// SetAssistant serves the assistant's routes with a, its client tokens
// signed by tokens, and the outbound register with reg.
func (s *Server) SetAssistant(a Assistant, tokens *assistant.Tokens, reg OutboundRegistry) {
	s.assistant = assistantDeps{bot: a, tokens: tokens, registry: reg, tokenTTL: 24 * time.Hour}
}

// errNoAssistant answers the assistant's routes of a server without it.
var errNoAssistant = newStatusError(http.StatusNotFound, "not_found", "", "the support assistant is not available in this shopguard")

func (s *Server) assistantRoutes(v1 func(pattern string, scope apikey.Scope, h handlerFunc)) {
	v1("POST /v1/outbound", apikey.ScopeEventsWrite, needs(&s.assistant.registry, errNoAssistant, s.postOutbound))
	v1("GET /v1/outbound/{id}", apikey.ScopeEventsRead, needs(&s.assistant.registry, errNoAssistant, s.getOutbound))
	v1("POST /v1/assistant/conversations", apikey.ScopeEventsWrite, needs(&s.assistant.bot, errNoAssistant, s.postConversation))
	v1("GET /v1/assistant/conversations/{id}", apikey.ScopeEventsRead, needs(&s.assistant.bot, errNoAssistant, s.getConversation))
	v1("POST /v1/assistant/conversations/{id}/messages", apikey.ScopeEventsWrite, needs(&s.assistant.bot, errNoAssistant,
		func(w http.ResponseWriter, r *http.Request, key apikey.Key, a Assistant) error {
			return s.postAssistantMessage(w, r, a, key.Tenant, r.PathValue("id"))
		}))
	// The widget's route: a conversation's client token instead of an
	// API key, from the shop's pages in the customer's browser.
	s.mux.HandleFunc("POST /assistant/v1/conversations/{id}/messages", s.widgetMessage)
	s.mux.HandleFunc("OPTIONS /assistant/v1/conversations/{id}/messages", s.widgetPreflight)
}

// outboundJSON is a registered message as the API shows it.
type outboundJSON struct {
	ID            string    `json:"id"`
	Channel       string    `json:"channel"`
	RecipientHash string    `json:"recipient_hash,omitempty"`
	UserID        string    `json:"user_id,omitempty"`
	Template      string    `json:"template"`
	Summary       string    `json:"summary,omitempty"`
	Links         []string  `json:"links"`
	Code          string    `json:"code"`
	SentAt        time.Time `json:"sent_at"`
	CreatedAt     time.Time `json:"created_at"`
}

func toOutboundJSON(m storage.OutboundMessage) outboundJSON {
	links := m.Links
	if links == nil {
		links = []string{}
	}
	return outboundJSON{ID: m.ID, Channel: m.Channel, RecipientHash: m.RecipientHash, UserID: m.UserID, Template: m.Template,
		Summary: m.Summary, Links: links, Code: m.Code, SentAt: m.SentAt, CreatedAt: m.CreatedAt}
}

func (s *Server) postOutbound(w http.ResponseWriter, r *http.Request, key apikey.Key, reg OutboundRegistry) error {
	var in assistant.OutboundInput
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &in); err != nil {
		return err
	}
	var err error
	var m storage.OutboundMessage
	for range 3 { // a made code or id that clashes is made again
		if m, err = in.OutboundMessage(key.Tenant, s.now()); err != nil {
			return err
		}
		if err = reg.CreateOutbound(r.Context(), m); !errors.Is(err, storage.ErrConflict) || in.Code != "" {
			break
		}
	}
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/outbound/"+m.ID)
	writeJSON(w, http.StatusCreated, toOutboundJSON(m))
	return nil
}

func (s *Server) getOutbound(w http.ResponseWriter, r *http.Request, key apikey.Key, reg OutboundRegistry) error {
	m, err := reg.Outbound(r.Context(), key.Tenant, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toOutboundJSON(m))
	return nil
}

// conversationJSON is a new conversation and the token its widget uses.
type conversationJSON struct {
	Conversation *assistant.Conversation `json:"conversation"`
	ClientToken  string                  `json:"client_token,omitempty"`
	ExpiresAt    *time.Time              `json:"expires_at,omitempty"`
}

func (s *Server) postConversation(w http.ResponseWriter, r *http.Request, key apikey.Key, a Assistant) error {
	var in assistant.StartInput
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &in); err != nil {
		return err
	}
	if in.ReturnURL != "" {
		if s.passkeys == nil {
			return newStatusError(http.StatusBadRequest, "invalid_field", "return_url", "return URLs need the shop's origins, and passkeys are not available")
		}
		if e := s.passkeys.CheckReturnURL(r.Context(), key.Tenant, "return_url", in.ReturnURL); e != nil {
			return e
		}
	}
	c, err := a.Start(r.Context(), key.Tenant, in)
	if err != nil {
		return err
	}
	out := conversationJSON{Conversation: c}
	if s.assistant.tokens != nil {
		exp := s.now().Add(s.assistant.tokenTTL).UTC().Truncate(time.Second)
		out.ClientToken, out.ExpiresAt = s.assistant.tokens.Issue(key.Tenant, c.ID, exp), &exp
	}
	w.Header().Set("Location", "/v1/assistant/conversations/"+c.ID)
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func (s *Server) getConversation(w http.ResponseWriter, r *http.Request, key apikey.Key, a Assistant) error {
	c, err := a.Conversation(r.Context(), key.Tenant, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) postAssistantMessage(w http.ResponseWriter, r *http.Request, a Assistant, tenant, id string) error {
	var in assistant.MessageInput
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &in); err != nil {
		return err
	}
	reply, err := a.Post(r.Context(), tenant, id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, reply)
	return nil
}

// widgetMessage is a customer's message from the widget, authorised by
// the conversation's client token.
func (s *Server) widgetMessage(w http.ResponseWriter, r *http.Request) {
	if s.assistant.bot == nil || s.assistant.tokens == nil {
		s.writeError(w, r, errNoAssistant)
		return
	}
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	tenant, id, err := s.assistant.tokens.Check(strings.TrimSpace(token), s.now())
	if !ok || err != nil || id != r.PathValue("id") {
		s.writeError(w, r, newStatusError(http.StatusUnauthorized, "unauthenticated", "", assistant.ErrBadToken.Error()))
		return
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		if !s.shopOrigin(r.Context(), tenant, origin) {
			s.writeError(w, r, newStatusError(http.StatusForbidden, "forbidden", "", "this page's origin is not one of the shop's"))
			return
		}
		w.Header().Set("Access-Control-Allow-Origin", origin)
		w.Header().Add("Vary", "Origin")
	}
	if err := s.postAssistantMessage(w, r, s.assistant.bot, tenant, id); err != nil {
		s.writeError(w, r, err)
	}
}

// widgetPreflight answers a browser's CORS preflight for the widget's
// route. The token is checked on the request itself (preflights carry
// none), with the origin.
func (s *Server) widgetPreflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	if origin := r.Header.Get("Origin"); origin != "" {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Add("Vary", "Origin")
	}
	h.Set("Access-Control-Allow-Methods", "POST")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}

// shopOrigin reports whether origin may use the tenant's widget: one of
// its passkey origins, or any when the tenant has set none.
func (s *Server) shopOrigin(ctx context.Context, tenant, origin string) bool {
	if s.passkeys == nil {
		return true
	}
	rp, err := s.passkeys.RelyingParty(ctx, tenant)
	if err != nil || len(rp.Origins) == 0 {
		return true
	}
	return slices.Contains(rp.Origins, origin)
}

// assistantShops tells the assistant what the checks know of a shop
// (phishing.Shop), as /v1/messages/check does.
type assistantShops struct{ s *Server }

// Shop implements assistant.ShopProfiles.
func (a assistantShops) Shop(ctx context.Context, tenant string) (phishing.Shop, error) {
	shop, errs := a.s.shopProfile(ctx, tenant, nil)
	return shop, errors.Join(errs...)
}

// ShopProfiles returns what the assistant's checks know of each tenant's
// shop, from the same sources as /v1/messages/check.
func (s *Server) ShopProfiles() assistant.ShopProfiles { return assistantShops{s} }
