package client

import (
	"context"
	"net/http"
)

// Post is what a user posted, sent before it is published (POST
// /v1/content).
type Post struct {
	ID        string `json:"id"`
	CreatedAt string `json:"created_at"`
	// Kind is review, question, answer, comment, listing or profile.
	Kind     string `json:"kind"`
	Title    string `json:"title,omitempty"`
	Text     string `json:"text,omitempty"`
	Language string `json:"language,omitempty"`
	// Rating is a review's stars, 1 to 5 (0: none).
	Rating   int        `json:"rating,omitempty"`
	Author   PostAuthor `json:"author"`
	TargetID string     `json:"target_id,omitempty"`
	ParentID string     `json:"parent_id,omitempty"`
}

// PostAuthor is who posted.
type PostAuthor struct {
	UserID string `json:"user_id"`
	// CreatedAt is when the author's account was created (RFC 3339).
	CreatedAt        string `json:"created_at,omitempty"`
	VerifiedPurchase bool   `json:"verified_purchase,omitempty"`
	IP               string `json:"ip,omitempty"`
	DeviceID         string `json:"device_id,omitempty"`
}

// ContentScores are a post's four verdicts, 0-100 each.
type ContentScores struct {
	Spam       float64 `json:"spam"`
	Links      float64 `json:"links"`
	FakeReview float64 `json:"fake_review"`
	Abuse      float64 `json:"abuse"`
}

// Finding is something found in a post's text: Start and End are byte
// offsets into the field (text or title) as posted.
type Finding struct {
	Code   string `json:"code"`
	Field  string `json:"field,omitempty"`
	Start  int    `json:"start"`
	End    int    `json:"end"`
	Detail string `json:"detail,omitempty"`
}

// ContentReason is a reason of the decision with the spans of text that
// caused it.
type ContentReason struct {
	Reason
	Spans []Finding `json:"spans,omitempty"`
}

// PostLink is the phishing check of one link of a post.
type PostLink struct {
	Field            string `json:"field"`
	Start            int    `json:"start"`
	End              int    `json:"end"`
	URL              string `json:"url"`
	RegisteredDomain string `json:"registered_domain,omitempty"`
	Score            int    `json:"score"`
	Verdict          string `json:"verdict"`
	Reason           string `json:"reason,omitempty"`
}

// ContentDecision is shopguard's answer for a post.
type ContentDecision struct {
	ID         string `json:"id"`
	ExternalID string `json:"external_id"`
	Score      int    `json:"score"`
	Action     Action `json:"action"`
	// Moderation is what to do with the post: publish, hold (for a
	// moderator) or reject.
	Moderation    string          `json:"moderation"`
	Scores        ContentScores   `json:"scores"`
	Reasons       []ContentReason `json:"reasons"`
	Findings      []Finding       `json:"findings"`
	Links         []PostLink      `json:"links"`
	RulesVersion  int64           `json:"rules_version"`
	ModelVersion  string          `json:"model_version"`
	LatencyMicros int64           `json:"latency_us"`
	Replayed      bool            `json:"replayed,omitempty"`
}

// AssessContent judges a post before it is published: spam, malicious
// links, fake reviews, abusive language, near-copies posted by other
// accounts and the author's behaviour.
func (c *Client) AssessContent(ctx context.Context, p Post) (ContentDecision, error) {
	var out ContentDecision
	err := c.do(ctx, http.MethodPost, "/v1/content", p, &out, true)
	return out, err
}
