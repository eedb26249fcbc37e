package api

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/shopguard/shopguard/internal/apikey"
	"github.com/shopguard/shopguard/internal/authn"
	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/storage"
)

// Challenges runs step-up challenges (an *authn.Challenges).
type Challenges interface {
	Create(ctx context.Context, tenant string, in authn.ChallengeInput) (storage.Challenge, error)
	Get(ctx context.Context, tenant, id string) (storage.Challenge, error)
	Answer(ctx context.Context, tenant, id string, in authn.AnswerInput) (authn.Answer, error)
	PasskeyOptions(ctx context.Context, tenant, id string) (authn.CeremonyStart, error)
	Verify(ctx context.Context, tenant string, in authn.VerifyInput) (authn.Verification, error)
	PublicKeys() []authn.JWK
}

// SetChallenges serves /v1/challenges (without it, those routes answer 404).
func (s *Server) SetChallenges(c Challenges) { s.challenges = c }

// errNoChallenges answers the challenge routes of a server without them.
var errNoChallenges = newStatusError(http.StatusNotFound, "not_found", "", "step-up challenges are not available in this shopguard")

// challengeJSON is a challenge as the API shows it.
type challengeJSON struct {
	ID         string          `json:"id"`
	UserID     string          `json:"user_id"`
	Action     json.RawMessage `json:"action"`
	ActionHash string          `json:"action_hash"`
	Methods    []string        `json:"methods"`
	EventID    string          `json:"event_id,omitempty"`
	DeviceID   string          `json:"device_id,omitempty"`
	Status     string          `json:"status"`
	Failures   int             `json:"failures"`
	CreatedAt  time.Time       `json:"created_at"`
	ExpiresAt  time.Time       `json:"expires_at"`
	PassedAt   *time.Time      `json:"passed_at,omitempty"`
	Method     string          `json:"method,omitempty"`
	ConsumedAt *time.Time      `json:"consumed_at,omitempty"`
	// HostedURL is the page where the customer answers it (pending only).
	HostedURL string `json:"hosted_url,omitempty"`
}

// challengeJSON returns the challenge as the API shows it, with the link
// to its hosted page (that sends the customer to returnURL afterwards)
// while it can be answered.
func (s *Server) challengeJSON(c storage.Challenge, returnURL string) challengeJSON {
	out := challengeJSON{ID: c.ID, UserID: c.UserID, Action: c.Action, ActionHash: c.ActionHash, Methods: c.Methods,
		EventID: c.EventID, DeviceID: c.DeviceID, Status: c.Status, Failures: c.Failures, CreatedAt: c.CreatedAt, ExpiresAt: c.ExpiresAt,
		PassedAt: optTime(c.PassedAt), Method: c.Method, ConsumedAt: optTime(c.ConsumedAt)}
	if s.links != nil && c.Status == authn.StatusPending {
		out.HostedURL = s.cfg.PublicURL + s.links.ChallengePath(c.Tenant, c.ID, returnURL)
	}
	return out
}

// answerJSON is the outcome of an answer: the challenge, and the signed
// approval when it passed.
type answerJSON struct {
	Challenge    challengeJSON `json:"challenge"`
	Token        string        `json:"token,omitempty"`
	AttemptsLeft int           `json:"attempts_left"`
	// Reason says why a passkey answer was refused.
	Reason string `json:"reason,omitempty"`
}

func (s *Server) postChallenge(w http.ResponseWriter, r *http.Request, key apikey.Key, c Challenges) error {
	var in authn.ChallengeInput
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &in); err != nil {
		return err
	}
	ch, err := c.Create(r.Context(), key.Tenant, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, s.challengeJSON(ch, in.ReturnURL))
	return nil
}

// getChallenge answers a challenge; with ?return_url= its hosted_url
// sends the customer back there (a page on one of the shop's origins), so
// a shop can send the customer to the page of a challenge a decision
// started.
func (s *Server) getChallenge(w http.ResponseWriter, r *http.Request, key apikey.Key, c Challenges) error {
	ret := r.URL.Query().Get("return_url")
	if ret != "" {
		if s.passkeys == nil {
			return risk.Invalid("return_url", "return URLs need the shop's origins, and passkeys are not available")
		}
		if e := s.passkeys.CheckReturnURL(r.Context(), key.Tenant, "return_url", ret); e != nil {
			return e
		}
	}
	ch, err := c.Get(r.Context(), key.Tenant, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.challengeJSON(ch, ret))
	return nil
}

func (s *Server) answerChallenge(w http.ResponseWriter, r *http.Request, key apikey.Key, c Challenges) error {
	var in authn.AnswerInput
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &in); err != nil {
		return err
	}
	a, err := c.Answer(r.Context(), key.Tenant, r.PathValue("id"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, answerJSON{Challenge: s.challengeJSON(a.Challenge, ""), Token: a.Token, AttemptsLeft: a.AttemptsLeft, Reason: a.Reason})
	return nil
}

func (s *Server) challengePasskeyOptions(w http.ResponseWriter, r *http.Request, key apikey.Key, c Challenges) error {
	start, err := c.PasskeyOptions(r.Context(), key.Tenant, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, start)
	return nil
}

func (s *Server) verifyChallenge(w http.ResponseWriter, r *http.Request, key apikey.Key, c Challenges) error {
	var in authn.VerifyInput
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &in); err != nil {
		return err
	}
	v, err := c.Verify(r.Context(), key.Tenant, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) getChallengeKeys(w http.ResponseWriter, _ *http.Request, _ apikey.Key, c Challenges) error {
	writeJSON(w, http.StatusOK, map[string][]authn.JWK{"keys": c.PublicKeys()})
	return nil
}
