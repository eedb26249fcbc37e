package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopguard/shopguard/internal/account"
	"github.com/shopguard/shopguard/internal/apikey"
	"github.com/shopguard/shopguard/internal/authn"
	"github.com/shopguard/shopguard/internal/engine"
	"github.com/shopguard/shopguard/internal/fraud"
	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/rules"
	"github.com/shopguard/shopguard/internal/storage"
)

// decisionResponse is the answer to an assessed event.
type decisionResponse struct {
	ID            string        `json:"id"`
	Kind          string        `json:"kind"`
	ExternalID    string        `json:"external_id"`
	Score         int           `json:"score"`
	Action        risk.Action   `json:"action"`
	Reasons       []risk.Reason `json:"reasons"`
	RulesVersion  int64         `json:"rules_version"`
	ModelVersion  string        `json:"model_version"`
	LatencyMicros int64         `json:"latency_us"`
	Replayed      bool          `json:"replayed,omitempty"`
	// Challenge is the step-up to run when Action is challenge and the
	// customer has a second factor (see POST /v1/challenges).
	Challenge *challengeJSON `json:"challenge,omitempty"`
}

func (s *Server) postTransaction(w http.ResponseWriter, r *http.Request, key apikey.Key) error {
	var tx fraud.Transaction
	if err := decodeJSONFast(w, r, s.cfg.MaxBodyBytes, &tx); err != nil {
		return err
	}
	if err := tx.Validate(s.now()); err != nil {
		return err
	}
	return s.decide(w, r, key, &tx)
}

func (s *Server) postLogin(w http.ResponseWriter, r *http.Request, key apikey.Key) error {
	var l account.Login
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &l); err != nil {
		return err
	}
	if err := l.Validate(s.now()); err != nil {
		return err
	}
	if l.RememberedDevice != "" {
		ok := false
		if s.devices != nil && l.UserID != "" {
			// A failure to check leaves the device unremembered, nothing more.
			var why string
			var err error
			if ok, why, err = s.devices.Check(r.Context(), key.Tenant, l.UserID, l.DeviceID, l.RememberedDevice); err != nil {
				s.log.Warn("remembered-device check failed", "tenant", key.Tenant, "error", err)
			} else if !ok {
				s.log.Debug("remembered-device token refused", "tenant", key.Tenant, "reason", why)
			}
		}
		l.SetDeviceRemembered(ok)
	}
	ks := l.Keystrokes
	typed := ks != nil && l.UserID != "" && s.typing != nil
	if typed {
		// A failure to read the profile leaves the signal out, nothing more.
		if d, ok, err := s.typing.Distance(r.Context(), key.Tenant, l.UserID, ks.HoldMS, ks.FlightMS); err != nil {
			s.log.Warn("typing distance failed", "tenant", key.Tenant, "error", err)
		} else if ok {
			l.SetTypingDistance(d)
		}
	}
	d, err := s.decision(r.Context(), key.Tenant, &l)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	// A confirmed sign-in teaches the customer's typing rhythm (a retry
	// of one already counted does not).
	if typed && l.Outcome == account.OutcomeSuccess && !d.Replayed {
		if err := s.typing.Learn(r.Context(), key.Tenant, l.UserID, d.ID, ks.HoldMS, ks.FlightMS); err != nil {
			s.log.Warn("learning the typing rhythm failed", "tenant", key.Tenant, "error", err)
		}
	}
	return nil
}

func (s *Server) postSessionCheck(w http.ResponseWriter, r *http.Request, key apikey.Key) error {
	var c account.SessionCheck
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &c); err != nil {
		return err
	}
	l := c.Login()
	if err := l.Validate(s.now()); err != nil {
		return err
	}
	return s.decide(w, r, key, l)
}

func (s *Server) postSignup(w http.ResponseWriter, r *http.Request, key apikey.Key) error {
	var su account.Signup
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &su); err != nil {
		return err
	}
	if err := su.Validate(s.now()); err != nil {
		return err
	}
	return s.decide(w, r, key, &su)
}

// passwordRange is the answer to a password range query.
type passwordRange struct {
	Prefix   string   `json:"prefix"`
	Suffixes []string `json:"suffixes"`
}

func (s *Server) getPasswordRange(w http.ResponseWriter, r *http.Request, _ apikey.Key) error {
	if s.cfg.Passwords == nil {
		return fmt.Errorf("%w: no password list is loaded", storage.ErrNotFound)
	}
	prefix := r.PathValue("prefix")
	suffixes, err := s.cfg.Passwords.Range(prefix)
	if err != nil {
		return err
	}
	if suffixes == nil {
		suffixes = []string{}
	}
	w.Header().Set("Cache-Control", "private, max-age=3600")
	writeJSON(w, http.StatusOK, passwordRange{Prefix: strings.ToUpper(prefix), Suffixes: suffixes})
	return nil
}

// decide runs the engine on a validated input and writes the decision.
func (s *Server) decide(w http.ResponseWriter, r *http.Request, key apikey.Key, in engine.Input) error {
	resp, err := s.decision(r.Context(), key.Tenant, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// decision assesses in and returns the answer, with the step-up started
// when the action is challenge.
func (s *Server) decision(ctx context.Context, tenant string, in engine.Input) (decisionResponse, error) {
	d, err := s.eng.Decide(ctx, tenant, in)
	if err != nil {
		return decisionResponse{}, err
	}
	resp := decisionResponse{
		ID: d.ID, Kind: string(d.Kind), ExternalID: d.ExternalID, Score: d.Score, Action: d.Action,
		Reasons: d.Reasons, RulesVersion: d.RulesVersion, ModelVersion: d.ModelVersion,
		LatencyMicros: d.LatencyMicros, Replayed: d.Replayed,
	}
	if d.Action == risk.ActionChallenge {
		resp.Challenge = s.startStepUp(ctx, tenant, d.ID, in)
	}
	return resp, nil
}

// stepUpper is an input that can say what a challenge of it approves.
type stepUpper interface {
	StepUp() (risk.StepUp, bool)
}

// startStepUp starts the challenge a challenge decision asks for, when
// the input names a customer who has a second factor; nil otherwise. The
// decision stands either way: a failure to start one is logged, not
// returned (the shop then steps up by its own means).
func (s *Server) startStepUp(ctx context.Context, tenant, eventID string, in engine.Input) *challengeJSON {
	su, ok := in.(stepUpper)
	if !ok || s.challenges == nil {
		return nil
	}
	want, ok := su.StepUp()
	if !ok {
		return nil
	}
	ch, err := s.challenges.Create(ctx, tenant, authn.ChallengeInput{UserID: want.UserID, EventID: eventID, DeviceID: truncateRunes(want.DeviceID, 128),
		Action: authn.Action{Type: want.Type, Description: truncateRunes(want.Description, 256), AmountMinor: want.AmountMinor,
			Currency: want.Currency, Reference: truncateRunes(want.Reference, 128)}})
	if errors.Is(err, authn.ErrNoFactor) {
		return nil
	}
	if err != nil {
		s.log.Warn("could not start the step-up of a challenge decision", "tenant", tenant, "event", eventID, "error", err)
		return nil
	}
	c := s.challengeJSON(ch, "")
	return &c
}

// truncateRunes cuts s to at most n bytes on a rune boundary.
func truncateRunes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func (s *Server) getEvent(w http.ResponseWriter, r *http.Request, key apikey.Key) error {
	ev, err := s.eng.Event(r.Context(), key.Tenant, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ev)
	return nil
}

func (s *Server) postFeedback(w http.ResponseWriter, r *http.Request, key apikey.Key) error {
	var f engine.Feedback
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &f); err != nil {
		return err
	}
	l, err := s.eng.AddFeedback(r.Context(), key.Tenant, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, l)
	return nil
}

func author(key apikey.Key) string { return "api key " + key.ID }

func (s *Server) getRules(w http.ResponseWriter, r *http.Request, key apikey.Key) error {
	rs, err := s.eng.Rules(r.Context(), key.Tenant)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rs)
	return nil
}

func (s *Server) getRuleVersion(w http.ResponseWriter, r *http.Request, key apikey.Key) error {
	v, err := strconv.ParseInt(r.PathValue("version"), 10, 64)
	if err != nil || v < 1 {
		return newStatusError(http.StatusBadRequest, "invalid_field", "version", "version must be a positive integer")
	}
	rs, err := s.eng.RuleSetVersion(r.Context(), key.Tenant, v)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rs)
	return nil
}

func (s *Server) getRule(w http.ResponseWriter, r *http.Request, key apikey.Key) error {
	rs, err := s.eng.Rules(r.Context(), key.Tenant)
	if err != nil {
		return err
	}
	name := r.PathValue("name")
	for _, rule := range rs.Rules {
		if rule.Name == name {
			writeJSON(w, http.StatusOK, ruleResponse{Version: rs.Version, Rule: rule})
			return nil
		}
	}
	return fmt.Errorf("%w: rule %q", storage.ErrNotFound, name)
}

// ruleResponse is a rule with the rule-set version that holds it.
type ruleResponse struct {
	Version int64      `json:"version"`
	Rule    rules.Rule `json:"rule"`
}

func (s *Server) postRule(w http.ResponseWriter, r *http.Request, key apikey.Key) error {
	var rule rules.Rule
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &rule); err != nil {
		return err
	}
	rs, err := s.eng.ChangeRules(r.Context(), key.Tenant, author(key), func(cur []rules.Rule) ([]rules.Rule, error) {
		for _, c := range cur {
			if c.Name == rule.Name {
				return nil, fmt.Errorf("%w: rule %q exists; PUT /v1/rules/%s replaces it", storage.ErrConflict, rule.Name, rule.Name)
			}
		}
		return append(cur, rule), nil
	})
	if err != nil {
		return err
	}
	return writeRule(w, http.StatusCreated, rs, rule.Name)
}

func writeRule(w http.ResponseWriter, status int, rs engine.RuleSet, name string) error {
	for _, rule := range rs.Rules {
		if rule.Name == name {
			writeJSON(w, status, ruleResponse{Version: rs.Version, Rule: rule})
			return nil
		}
	}
	return fmt.Errorf("api: rule %q missing after save", name)
}

func (s *Server) putRule(w http.ResponseWriter, r *http.Request, key apikey.Key) error {
	var rule rules.Rule
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &rule); err != nil {
		return err
	}
	name := r.PathValue("name")
	if rule.Name == "" {
		rule.Name = name
	}
	if rule.Name != name {
		return newStatusError(http.StatusBadRequest, "invalid_field", "name",
			fmt.Sprintf("name %q differs from the rule %q in the path; rules cannot be renamed", rule.Name, name))
	}
	status := http.StatusOK
	rs, err := s.eng.ChangeRules(r.Context(), key.Tenant, author(key), func(cur []rules.Rule) ([]rules.Rule, error) {
		status = http.StatusOK
		for i, c := range cur {
			if c.Name == name {
				out := append([]rules.Rule(nil), cur...)
				out[i] = rule
				return out, nil
			}
		}
		status = http.StatusCreated
		return append(cur, rule), nil
	})
	if err != nil {
		return err
	}
	return writeRule(w, status, rs, name)
}

func (s *Server) deleteRule(w http.ResponseWriter, r *http.Request, key apikey.Key) error {
	name := r.PathValue("name")
	rs, err := s.eng.ChangeRules(r.Context(), key.Tenant, author(key), func(cur []rules.Rule) ([]rules.Rule, error) {
		for i, c := range cur {
			if c.Name == name {
				out := append([]rules.Rule(nil), cur[:i]...)
				return append(out, cur[i+1:]...), nil
			}
		}
		return nil, fmt.Errorf("%w: rule %q", storage.ErrNotFound, name)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]int64{"version": rs.Version})
	return nil
}

// rulesBody carries several rules.
type rulesBody struct {
	Rules []rules.Rule `json:"rules"`
}

func (s *Server) validateRules(w http.ResponseWriter, r *http.Request, key apikey.Key) error {
	var body rulesBody
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &body); err != nil {
		return err
	}
	if len(body.Rules) == 0 {
		return risk.Missing("rules")
	}
	if err := s.eng.ValidateRules(r.Context(), key.Tenant, body.Rules); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]bool{"valid": true})
	return nil
}

// backtestBody is the request of POST /v1/backtests.
type backtestBody struct {
	Kind  string       `json:"kind"`
	From  string       `json:"from"`
	To    string       `json:"to"`
	Rules []rules.Rule `json:"rules"`
	Limit int          `json:"limit"`
}

func (s *Server) postBacktest(w http.ResponseWriter, r *http.Request, key apikey.Key) error {
	var body backtestBody
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &body); err != nil {
		return err
	}
	req := engine.BacktestRequest{Kind: risk.EventKind(body.Kind), Rules: body.Rules, Limit: body.Limit}
	if req.Kind == "" {
		req.Kind = risk.EventTransaction
	}
	var errs []error
	for _, t := range []struct {
		field, v string
		dst      *time.Time
	}{{"from", body.From, &req.From}, {"to", body.To, &req.To}} {
		if t.v == "" {
			continue // the engine reports it missing
		}
		v, err := time.Parse(time.RFC3339Nano, t.v)
		if err != nil {
			errs = append(errs, risk.Invalid(t.field, "%q is not an RFC 3339 timestamp", t.v))
			continue
		}
		*t.dst = v
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	rep, err := s.eng.Backtest(r.Context(), key.Tenant, req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}
