package client

import (
	"context"
	"net/http"
)

// URLReason is one thing that moved a URL's score.
type URLReason struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Weight  int    `json:"weight"`
}

// Lookalike says a domain imitates a protected one, and how.
type Lookalike struct {
	Domain string `json:"domain"`
	Brand  string `json:"brand"`
	Kind   string `json:"kind"`
	Reason string `json:"reason"`
}

// URLResult is shopguard's judgement of one link.
type URLResult struct {
	URL              string      `json:"url"`
	Canonical        string      `json:"canonical,omitempty"`
	Host             string      `json:"host,omitempty"`
	UnicodeHost      string      `json:"unicode_host,omitempty"`
	RegisteredDomain string      `json:"registered_domain,omitempty"`
	Score            int         `json:"score"`
	Verdict          string      `json:"verdict"` // safe, suspicious or phishing
	Reasons          []URLReason `json:"reasons"`
	Lookalike        *Lookalike  `json:"lookalike,omitempty"`
	Targets          []string    `json:"targets,omitempty"`
	// Features are what the link shows about itself (lengths, counts,
	// flags), as shopguard measured them.
	Features map[string]any `json:"features,omitempty"`
	// ModelVersion names the learned URL model that judged the link ("":
	// none is trained).
	ModelVersion string `json:"model_version,omitempty"`
}

// CheckURLs judges links (at most 100) against the shop's domains (its
// passkey domain, and protected, e.g. its brands' domains).
func (c *Client) CheckURLs(ctx context.Context, urls []string, protected ...string) ([]URLResult, error) {
	var out struct {
		Results []URLResult `json:"results"`
	}
	err := c.do(ctx, http.MethodPost, "/v1/urls/check", map[string]any{"urls": urls, "protected_domains": protected}, &out, true)
	return out.Results, err
}
