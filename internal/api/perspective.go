package api

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/shopguard/shopguard/internal/apikey"
	"github.com/shopguard/shopguard/internal/content"
	"github.com/shopguard/shopguard/internal/phishing"
	"github.com/shopguard/shopguard/internal/risk"
)

// The Perspective-compatible endpoint: Google's Perspective API
// (comments:analyze, v1alpha1) closes at the end of 2026; its users point
// their client at shopguard instead. It scores one comment without
// storing it (as if doNotStore were always set) and without the author's
// history: POST /v1/content is the full moderation path. docs/perspective.md
// says what maps and what does not.

// Perspective attributes shopguard scores.
const (
	attrToxicity       = "TOXICITY"
	attrSevereToxicity = "SEVERE_TOXICITY"
	attrInsult         = "INSULT"
	attrProfanity      = "PROFANITY"
	attrThreat         = "THREAT"
	attrSpam           = "SPAM"
)

// perspectiveAttributes lists the attributes shopguard scores, sorted.
var perspectiveAttributes = []string{attrInsult, attrProfanity, attrSevereToxicity, attrSpam, attrThreat, attrToxicity}

// perspectiveUnsupported are Perspective's attributes shopguard does not
// score: asking for one is a clear 400, not a silent zero.
var perspectiveUnsupported = []string{"IDENTITY_ATTACK", "SEXUALLY_EXPLICIT", "FLIRTATION", "INCOHERENT", "INFLAMMATORY",
	"LIKELY_TO_REJECT", "OBSCENE", "UNSUBSTANTIAL", "ATTACK_ON_AUTHOR", "ATTACK_ON_COMMENTER", "TOXICITY_EXPERIMENTAL",
	"SEVERE_TOXICITY_EXPERIMENTAL", "IDENTITY_ATTACK_EXPERIMENTAL", "INSULT_EXPERIMENTAL", "PROFANITY_EXPERIMENTAL",
	"THREAT_EXPERIMENTAL", "AFFINITY_EXPERIMENTAL", "COMPASSION_EXPERIMENTAL", "CURIOSITY_EXPERIMENTAL", "NUANCE_EXPERIMENTAL",
	"PERSONAL_STORY_EXPERIMENTAL", "REASONING_EXPERIMENTAL", "RESPECT_EXPERIMENTAL"}

// perspectiveRequest is Perspective's AnalyzeCommentRequest.
type perspectiveRequest struct {
	Comment             perspectiveText                `json:"comment"`
	Context             *perspectiveContext            `json:"context,omitempty"`
	RequestedAttributes map[string]perspectiveAttrSpec `json:"requestedAttributes"`
	Languages           []string                       `json:"languages,omitempty"`
	DoNotStore          bool                           `json:"doNotStore,omitempty"`
	ClientToken         string                         `json:"clientToken,omitempty"`
	SessionID           string                         `json:"sessionId,omitempty"`
	CommunityID         string                         `json:"communityId,omitempty"`
	SpanAnnotations     bool                           `json:"spanAnnotations,omitempty"`
}

// perspectiveText is a text and its type (PLAIN_TEXT or HTML).
type perspectiveText struct {
	Text string `json:"text"`
	Type string `json:"type,omitempty"`
}

// perspectiveContext is accepted and, as by Perspective, not used.
type perspectiveContext struct {
	Entries []perspectiveText `json:"entries,omitempty"`
}

// perspectiveAttrSpec configures one requested attribute.
type perspectiveAttrSpec struct {
	ScoreType      string   `json:"scoreType,omitempty"`
	ScoreThreshold *float64 `json:"scoreThreshold,omitempty"`
}

// perspectiveResponse is Perspective's AnalyzeCommentResponse.
type perspectiveResponse struct {
	AttributeScores map[string]perspectiveAttrScore `json:"attributeScores"`
	Languages       []string                        `json:"languages"`
	ClientToken     string                          `json:"clientToken,omitempty"`
}

// perspectiveAttrScore is one attribute's scores.
type perspectiveAttrScore struct {
	SpanScores   []perspectiveSpan `json:"spanScores,omitempty"`
	SummaryScore perspectiveScore  `json:"summaryScore"`
}

// perspectiveSpan scores a span; Begin and End count Unicode code points.
type perspectiveSpan struct {
	Begin int              `json:"begin"`
	End   int              `json:"end"`
	Score perspectiveScore `json:"score"`
}

// perspectiveScore is a value of a type (always PROBABILITY).
type perspectiveScore struct {
	Value float64 `json:"value"`
	Type  string  `json:"type"`
}

// Limits of the Perspective-compatible endpoint.
const (
	maxPerspectiveText  = 20480 // Perspective's own limit, in bytes
	maxClientToken      = 256
	perspectiveProbType = "PROBABILITY"
)

func (s *Server) postCommentsAnalyze(w http.ResponseWriter, r *http.Request, key apikey.Key) error {
	var req perspectiveRequest
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		return err
	}
	if err := validatePerspective(&req); err != nil {
		return err
	}
	shop, errs := s.shopProfile(r.Context(), key.Tenant, nil)
	if len(errs) > 0 {
		return errs[0]
	}
	text := req.Comment.Text
	if req.Comment.Type == "HTML" {
		text = blankTags(text)
	}
	p := &content.Post{PostKind: content.KindComment, Text: text}
	an := s.content.Analyze(key.Tenant, p, phishing.ParseProtected(shop.Protected))
	env := p.Env(nil, nil).(*content.Env)
	resp := perspectiveResponse{AttributeScores: map[string]perspectiveAttrScore{}, Languages: []string{"en"}, ClientToken: req.ClientToken}
	if len(req.Languages) > 0 {
		resp.Languages = req.Languages
	}
	for name, spec := range req.RequestedAttributes {
		value, codes := perspectiveScoreOf(name, env)
		if spec.ScoreThreshold != nil && value < *spec.ScoreThreshold {
			continue
		}
		as := perspectiveAttrScore{SummaryScore: perspectiveScore{Value: value, Type: perspectiveProbType}}
		if req.SpanAnnotations {
			as.SpanScores = perspectiveSpans(text, an.Findings, codes)
		}
		resp.AttributeScores[name] = as
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// validatePerspective checks a request the way Perspective does, with
// shopguard's field errors.
func validatePerspective(req *perspectiveRequest) error {
	var ps []error
	switch t := req.Comment.Text; {
	case strings.TrimSpace(t) == "":
		ps = append(ps, risk.Missing("comment.text"))
	case len(t) > maxPerspectiveText:
		ps = append(ps, risk.Invalid("comment.text", "is %d bytes long; at most %d are accepted", len(t), maxPerspectiveText))
	default:
		if e := content.CheckText("comment.text", t, maxPerspectiveText); e != nil {
			ps = append(ps, e)
		}
	}
	if t := req.Comment.Type; t != "" && t != "PLAIN_TEXT" && t != "HTML" {
		ps = append(ps, risk.Invalid("comment.type", "%q is not PLAIN_TEXT or HTML", content.Clip(t)))
	}
	if len(req.RequestedAttributes) == 0 {
		ps = append(ps, risk.Invalid("requestedAttributes", "names no attribute; shopguard scores %s", strings.Join(perspectiveAttributes, ", ")))
	}
	names := make([]string, 0, len(req.RequestedAttributes))
	for name := range req.RequestedAttributes {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		spec := req.RequestedAttributes[name]
		field := "requestedAttributes." + name
		switch {
		case slices.Contains(perspectiveAttributes, name):
		case slices.Contains(perspectiveUnsupported, name):
			ps = append(ps, risk.Invalid(field, "is a Perspective attribute shopguard does not score; it scores %s", strings.Join(perspectiveAttributes, ", ")))
			continue
		default:
			ps = append(ps, risk.Invalid(field, "%q is no attribute; shopguard scores %s", content.Clip(name), strings.Join(perspectiveAttributes, ", ")))
			continue
		}
		if spec.ScoreType != "" && spec.ScoreType != perspectiveProbType {
			ps = append(ps, risk.Invalid(field+".scoreType", "%q is not supported; only PROBABILITY is", content.Clip(spec.ScoreType)))
		}
		if th := spec.ScoreThreshold; th != nil && (math.IsNaN(*th) || *th < 0 || *th > 1) {
			ps = append(ps, risk.Invalid(field+".scoreThreshold", "is %v; a threshold lies between 0 and 1", *th))
		}
	}
	for i, l := range req.Languages {
		if !strings.EqualFold(l, "en") && !strings.HasPrefix(strings.ToLower(l), "en-") {
			ps = append(ps, risk.Invalid(fmt.Sprintf("languages[%d]", i), "%q is not supported: shopguard's abuse lexicon is English (\"en\")", content.Clip(l)))
		}
	}
	if len(req.ClientToken) > maxClientToken {
		ps = append(ps, risk.Invalid("clientToken", "is %d bytes long; at most %d are accepted", len(req.ClientToken), maxClientToken))
	}
	return errors.Join(ps...)
}

// perspectiveScoreOf returns an attribute's probability for a scored
// comment and the finding codes whose spans it scores.
func perspectiveScoreOf(name string, env *content.Env) (float64, []string) {
	sig := env.Signals
	atLeast := func(p float64, n int) float64 { return 1 - math.Pow(1-p, float64(min(n, 4))) }
	insult, profanity, threat := atLeast(0.6, sig.Insults), atLeast(0.35, sig.Profanity), atLeast(0.9, sig.Threats)
	switch name {
	case attrToxicity:
		return round3(env.Scores.Abuse / 100), []string{content.CodeAbuseInsult, content.CodeAbuseProfanity, content.CodeAbuseThreat}
	case attrSevereToxicity:
		return round3(math.Max(threat, insult*profanity)), []string{content.CodeAbuseThreat}
	case attrInsult:
		return round3(insult), []string{content.CodeAbuseInsult}
	case attrProfanity:
		return round3(profanity), []string{content.CodeAbuseProfanity}
	case attrThreat:
		return round3(threat), []string{content.CodeAbuseThreat}
	case attrSpam:
		v := env.Scores.Spam / 100
		if sig.PhishingLinks+sig.SuspiciousLinks > 0 {
			v = math.Max(v, env.Scores.Links/100) // a bad link is spam's payload
		}
		return round3(v), []string{content.CodeSpamPhrase, content.CodeContactPhone, content.CodeContactEmail,
			content.CodeContactMessenger, content.CodeOffPlatformPayment, content.CodeLinkPhishing, content.CodeLinkSuspicious}
	}
	return 0, nil
}

// perspectiveSpans turns the findings of codes into span scores whose
// offsets count code points, as Perspective's do.
func perspectiveSpans(text string, fs []content.Finding, codes []string) []perspectiveSpan {
	var out []perspectiveSpan
	for _, f := range fs {
		if !slices.Contains(codes, f.Code) || f.Start < 0 || f.End > len(text) || f.Start >= f.End {
			continue
		}
		begin := utf8.RuneCountInString(text[:f.Start])
		out = append(out, perspectiveSpan{Begin: begin, End: begin + utf8.RuneCountInString(text[f.Start:f.End]),
			Score: perspectiveScore{Value: findingWeight(f.Code), Type: perspectiveProbType}})
	}
	return out
}

// findingWeight is how likely one finding alone makes its attribute.
func findingWeight(code string) float64 {
	switch code {
	case content.CodeAbuseThreat, content.CodeLinkPhishing:
		return 0.9
	case content.CodeAbuseInsult, content.CodeOffPlatformPayment:
		return 0.6
	case content.CodeContactPhone, content.CodeContactEmail, content.CodeContactMessenger, content.CodeLinkSuspicious:
		return 0.45
	}
	return 0.35
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// blankTags replaces every HTML tag of s (from '<' and a letter, '/' or
// '!' to the next '>') by one space per character, so that markup neither
// hides words from the scan ("an <b>idiot</b>") nor moves what is found
// in code points, the offsets Perspective's spans count. Links in
// attributes are blanked with their tags.
func blankTags(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		if s[i] == '<' && i+1 < len(s) && (s[i+1] == '/' || s[i+1] == '!' || s[i+1]|0x20 >= 'a' && s[i+1]|0x20 <= 'z') {
			if end := strings.IndexByte(s[i:], '>'); end >= 0 {
				b.WriteString(strings.Repeat(" ", utf8.RuneCountInString(s[i:i+end+1])))
				i += end + 1
				continue
			}
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		b.WriteString(s[i : i+size])
		i += size
	}
	return b.String()
}

// keyParam lets a request without an Authorization header carry its API
// key in the query parameter key, as Perspective's clients send theirs
// (?key=...). Keys in URLs end up in access logs: prefer the header.
func keyParam(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			if k := r.URL.Query().Get("key"); k != "" {
				r = r.Clone(r.Context())
				r.Header.Set("Authorization", "Bearer "+k)
			}
		}
		h.ServeHTTP(w, r)
	})
}
