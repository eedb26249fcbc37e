package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// PhishingProfile is what shopguard's phishing checks know of the shop:
// the domains links must not imitate (its passkey domain is always one)
// and who its messages really come from.
type PhishingProfile struct {
	ProtectedDomains []string   `json:"protected_domains"`
	SenderNames      []string   `json:"sender_names"`
	SendingDomains   []string   `json:"sending_domains"`
	UpdatedAt        *time.Time `json:"updated_at,omitempty"`
}

// SetPhishingProfile replaces the shop's phishing profile and returns it
// as stored (domains reduced to their registered domains).
func (c *Client) SetPhishingProfile(ctx context.Context, p PhishingProfile) (PhishingProfile, error) {
	var out PhishingProfile
	err := c.do(ctx, http.MethodPut, "/v1/phishing/profile", p, &out, true)
	return out, err
}

// GetPhishingProfile returns the shop's phishing profile.
func (c *Client) GetPhishingProfile(ctx context.Context) (PhishingProfile, error) {
	var out PhishingProfile
	err := c.do(ctx, http.MethodGet, "/v1/phishing/profile", nil, &out, true)
	return out, err
}

// PhishingReport is a link or message a customer or the shop's staff
// reported as phishing.
type PhishingReport struct {
	ID string `json:"id,omitempty"`
	// Kind is url or message (set by shopguard).
	Kind string `json:"kind,omitempty"`
	// URL or Message is what is reported.
	URL     string `json:"url,omitempty"`
	Message string `json:"message,omitempty"`
	// Channel (email, sms, chat) and Sender of a reported message.
	Channel string `json:"channel,omitempty"`
	Sender  string `json:"sender,omitempty"`
	// Reporter is customer or staff; ReporterID the customer's user id.
	Reporter   string     `json:"reporter"`
	ReporterID string     `json:"reporter_id,omitempty"`
	Note       string     `json:"note,omitempty"`
	Status     string     `json:"status,omitempty"` // pending, confirmed_phishing or legitimate
	CreatedAt  time.Time  `json:"created_at,omitzero"`
	ReviewedAt *time.Time `json:"reviewed_at,omitempty"`
	ReviewedBy string     `json:"reviewed_by,omitempty"`
}

// ReportPhishing files a report.
func (c *Client) ReportPhishing(ctx context.Context, r PhishingReport) (PhishingReport, error) {
	var out PhishingReport
	err := c.do(ctx, http.MethodPost, "/v1/phishing/reports", r, &out, false)
	return out, err
}

// PhishingReport returns one of the shop's reports.
func (c *Client) PhishingReport(ctx context.Context, id string) (PhishingReport, error) {
	var out PhishingReport
	err := c.do(ctx, http.MethodGet, "/v1/phishing/reports/"+url.PathEscape(id), nil, &out, true)
	return out, err
}

// PhishingReports lists the shop's reports, newest first: status ""
// for all, at most limit (0: the server's default), after cursor (""
// for the first page). It returns the next page's cursor ("" at the end).
func (c *Client) PhishingReports(ctx context.Context, status string, limit int, cursor string) ([]PhishingReport, string, error) {
	q := url.Values{}
	if status != "" {
		q.Set("status", status)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	path := "/v1/phishing/reports"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var out struct {
		Reports    []PhishingReport `json:"reports"`
		NextCursor string           `json:"next_cursor"`
	}
	err := c.do(ctx, http.MethodGet, path, nil, &out, true)
	return out.Reports, out.NextCursor, err
}

// ReviewPhishingReport settles a pending report: confirmed_phishing (a
// reported link goes on the shop's block list at once) or legitimate.
func (c *Client) ReviewPhishingReport(ctx context.Context, id, status string) (PhishingReport, error) {
	var out PhishingReport
	err := c.do(ctx, http.MethodPost, "/v1/phishing/reports/"+url.PathEscape(id)+"/review", map[string]string{"status": status}, &out, false)
	return out, err
}
