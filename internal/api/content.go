package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"

	"github.com/shopguard/shopguard/internal/apikey"
	"github.com/shopguard/shopguard/internal/content"
	"github.com/shopguard/shopguard/internal/phishing"
	"github.com/shopguard/shopguard/internal/risk"
)

// ContentAnalyzer analyses posts' text before the engine assesses them
// (a *content.Analyzer).
type ContentAnalyzer interface {
	Analyze(tenant string, p *content.Post, protected phishing.Protected) *content.Analysis
}

// SetContentAnalyzer makes a analyse the posts of POST /v1/content (the
// default checks links by the rules only and has no text models).
func (s *Server) SetContentAnalyzer(a ContentAnalyzer) { s.content = a }

// Moderation actions: what the shop does with a post.
const (
	ModerationPublish = "publish"
	ModerationHold    = "hold"
	ModerationReject  = "reject"
)

// moderation maps the engine's action to the post's fate: allow
// publishes, review and challenge hold it for a moderator, block rejects.
func moderation(a risk.Action) string {
	switch a {
	case risk.ActionAllow:
		return ModerationPublish
	case risk.ActionBlock:
		return ModerationReject
	}
	return ModerationHold
}

// contentResponse is the answer of POST /v1/content.
type contentResponse struct {
	ID         string `json:"id"`
	ExternalID string `json:"external_id"`
	Score      int    `json:"score"`
	// Action is the engine's action; Moderation what to do with the post.
	Action     risk.Action     `json:"action"`
	Moderation string          `json:"moderation"`
	Scores     content.Scores  `json:"scores"`
	Reasons    []contentReason `json:"reasons"`
	// Findings are everything found in the text, with spans, whether or
	// not a rule acted on it.
	Findings      []content.Finding     `json:"findings"`
	Links         []content.LinkVerdict `json:"links"`
	RulesVersion  int64                 `json:"rules_version"`
	ModelVersion  string                `json:"model_version"`
	LatencyMicros int64                 `json:"latency_us"`
	Replayed      bool                  `json:"replayed,omitempty"`
}

// contentReason is a reason of the decision and the spans of text that
// caused it (none for reasons not about the text).
type contentReason struct {
	risk.Reason
	Spans []content.Finding `json:"spans,omitempty"`
}

func (s *Server) postContent(w http.ResponseWriter, r *http.Request, key apikey.Key) error {
	var p content.Post
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &p); err != nil {
		return err
	}
	if err := p.Validate(s.now()); err != nil {
		return err
	}
	resp, err := s.assessPost(r.Context(), key.Tenant, &p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// assessPost analyses a valid post's text, has the engine decide and
// answers with the scores and the spans behind every reason.
func (s *Server) assessPost(ctx context.Context, tenant string, p *content.Post) (contentResponse, error) {
	shop, errs := s.shopProfile(ctx, tenant, nil)
	if len(errs) > 0 {
		return contentResponse{}, errs[0]
	}
	an := s.content.Analyze(tenant, p, phishing.ParseProtected(shop.Protected))
	d, err := s.eng.Decide(ctx, tenant, p)
	if err != nil {
		return contentResponse{}, err
	}
	env := p.Assessed()
	if d.Replayed || env == nil {
		// The stored decision stands; its scores are in its stored
		// environment.
		ev, err := s.eng.Event(ctx, tenant, d.ID)
		if err != nil {
			return contentResponse{}, fmt.Errorf("api: stored post %s: %w", d.ID, err)
		}
		env = content.NewEnv()
		if err := json.Unmarshal(ev.Env, env); err != nil {
			return contentResponse{}, fmt.Errorf("api: stored post %s: %w", d.ID, err)
		}
	}
	resp := contentResponse{ID: d.ID, ExternalID: d.ExternalID, Score: d.Score, Action: d.Action, Moderation: moderation(d.Action),
		Scores: *env.Scores, Reasons: make([]contentReason, 0, len(d.Reasons)), Findings: an.Findings, Links: an.Links,
		RulesVersion: d.RulesVersion, ModelVersion: d.ModelVersion, LatencyMicros: d.LatencyMicros, Replayed: d.Replayed}
	if resp.Findings == nil {
		resp.Findings = []content.Finding{}
	}
	if resp.Links == nil {
		resp.Links = []content.LinkVerdict{}
	}
	for _, reason := range d.Reasons {
		cr := contentReason{Reason: reason}
		if codes := content.RuleFindings(reason.Code); codes != nil {
			for _, f := range an.Findings {
				if slices.Contains(codes, f.Code) {
					cr.Spans = append(cr.Spans, f)
				}
			}
		}
		resp.Reasons = append(resp.Reasons, cr)
	}
	return resp, nil
}
