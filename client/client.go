// Package client is the Go client for shopguard's /v1 HTTP API.
//
//	c, err := client.New("http://127.0.0.1:8080", os.Getenv("SHOPGUARD_API_KEY"))
//	d, err := c.ScoreTransaction(ctx, client.Transaction{ID: "ord_1", ...})
//	if d.Action == client.ActionBlock { ... }
//
// Non-2xx answers come back as *Error, which carries the HTTP status, the
// error code and the field at fault.
package client

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Error is an error answer from shopguard.
type Error struct {
	// Status is the HTTP status code.
	Status int
	// Code is the machine-readable error code (invalid_field, not_found, ...).
	Code string `json:"code"`
	// Message says what went wrong.
	Message string `json:"message"`
	// Field names the request field at fault, if any.
	Field string `json:"field,omitempty"`
	// Details lists every problem when there were several.
	Details []ErrorDetail `json:"details,omitempty"`
	// RequestID identifies the request in shopguard's log.
	RequestID string `json:"request_id,omitempty"`
}

// ErrorDetail is one of several problems.
type ErrorDetail struct {
	Field   string `json:"field,omitempty"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message"`
	Rule    string `json:"rule,omitempty"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
}

// Error returns "shopguard: <status> <code>: <message>".
func (e *Error) Error() string {
	return fmt.Sprintf("shopguard: %d %s: %s", e.Status, e.Code, e.Message)
}

// IsStatus reports whether err is an *Error with the given HTTP status.
func IsStatus(err error, status int) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == status
}

// Client calls the shopguard API. It is safe for concurrent use.
type Client struct {
	base    *url.URL
	key     string
	http    *http.Client
	retries int
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (default: one with a 10 s timeout).
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithRetries sets how often an idempotent call (scoring, which shopguard
// de-duplicates by id, and reads) is retried after a network error or a 503
// (default 2).
func WithRetries(n int) Option { return func(c *Client) { c.retries = max(0, n) } }

// New returns a client for the shopguard at baseURL using apiKey.
func New(baseURL, apiKey string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("shopguard: base URL %q must be http(s)://host[:port]", baseURL)
	}
	c := &Client{base: u, key: apiKey, http: &http.Client{Timeout: 10 * time.Second}, retries: 2}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// do sends a request with a JSON body (nil for none) and decodes a JSON
// answer into out (nil to discard). idempotent calls are retried.
func (c *Client) do(ctx context.Context, method, path string, body, out any, idempotent bool) error {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return fmt.Errorf("shopguard: encode request: %w", err)
		}
	}
	attempts := 1
	if idempotent {
		attempts += c.retries
	}
	var err error
	for i := range attempts {
		if i > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(i*i) * 100 * time.Millisecond):
			}
		}
		var retry bool
		retry, err = c.once(ctx, method, path, payload, out)
		if !retry {
			return err
		}
	}
	return err
}

func (c *Client) once(ctx context.Context, method, path string, payload []byte, out any) (retry bool, err error) {
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base.String()+path, rd)
	if err != nil {
		return false, fmt.Errorf("shopguard: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return ctx.Err() == nil, fmt.Errorf("shopguard: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return ctx.Err() == nil, fmt.Errorf("shopguard: read answer: %w", err)
	}
	if resp.StatusCode >= 300 {
		e := &Error{Status: resp.StatusCode}
		var wrapped struct {
			Error *Error `json:"error"`
		}
		wrapped.Error = e
		if json.Unmarshal(data, &wrapped) != nil || e.Code == "" {
			e.Code, e.Message = "http_"+strconv.Itoa(resp.StatusCode), strings.TrimSpace(string(data))
		}
		e.Status = resp.StatusCode
		return resp.StatusCode == http.StatusServiceUnavailable, e
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return false, fmt.Errorf("shopguard: decode answer: %w", err)
		}
	}
	return false, nil
}

// ScoreTransaction scores an order or payment attempt. Retrying is safe:
// shopguard answers a repeated transaction id with the first decision.
func (c *Client) ScoreTransaction(ctx context.Context, t Transaction) (*Decision, error) {
	var d Decision
	return &d, c.do(ctx, http.MethodPost, "/v1/transactions", t, &d, true)
}

// ScoreLogin assesses a login attempt: allow, challenge (step-up) or block.
func (c *Client) ScoreLogin(ctx context.Context, l Login) (*Decision, error) {
	var d Decision
	return &d, c.do(ctx, http.MethodPost, "/v1/logins", l, &d, true)
}

// CheckSession assesses a signed-in request whose IP, device or browser
// changed: block means the session cookie is most likely stolen (end the
// session), challenge asks the customer to sign in again.
func (c *Client) CheckSession(ctx context.Context, s SessionCheck) (*Decision, error) {
	var d Decision
	return &d, c.do(ctx, http.MethodPost, "/v1/sessions/check", s, &d, true)
}

// ScoreSignup assesses a new account (fake sign-ups: throw-away addresses,
// numbered address series, many accounts from one device or IP).
func (c *Client) ScoreSignup(ctx context.Context, s Signup) (*Decision, error) {
	var d Decision
	return &d, c.do(ctx, http.MethodPost, "/v1/signups", s, &d, true)
}

// PasswordHashPrefix returns the first 5 hex characters of the SHA-1 of
// password, the only part of a password Login ever carries.
func PasswordHashPrefix(password string) string {
	sum := sha1.Sum([]byte(password))
	return hex.EncodeToString(sum[:])[:5]
}

// PasswordRange returns the SHA-1 suffixes (35 upper-case hex characters)
// of the known-bad passwords whose hash starts with prefix (5 hex
// characters): the k-anonymity query behind KnownBadPassword.
func (c *Client) PasswordRange(ctx context.Context, prefix string) ([]string, error) {
	var r struct {
		Suffixes []string `json:"suffixes"`
	}
	err := c.do(ctx, http.MethodGet, "/v1/passwords/range/"+url.PathEscape(prefix), nil, &r, true)
	return r.Suffixes, err
}

// KnownBadPassword reports whether password is on shopguard's list of
// common and breached passwords. Only the first 5 hex characters of its
// SHA-1 are sent; the comparison happens here.
func (c *Client) KnownBadPassword(ctx context.Context, password string) (bool, error) {
	sum := sha1.Sum([]byte(password))
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	suffixes, err := c.PasswordRange(ctx, h[:5])
	if err != nil {
		return false, err
	}
	return slices.Contains(suffixes, h[5:]), nil
}

// Event returns a stored event with its decision, features and labels.
func (c *Client) Event(ctx context.Context, id string) (*Event, error) {
	var e Event
	return &e, c.do(ctx, http.MethodGet, "/v1/events/"+url.PathEscape(id), nil, &e, true)
}

// SendFeedback attaches a label (fraud, chargeback, legit, ...) to an event.
func (c *Client) SendFeedback(ctx context.Context, f Feedback) (*Label, error) {
	var l Label
	return &l, c.do(ctx, http.MethodPost, "/v1/feedback", f, &l, false)
}

// Rules returns the tenant's current rule set.
func (c *Client) Rules(ctx context.Context) (*RuleSet, error) {
	var rs RuleSet
	return &rs, c.do(ctx, http.MethodGet, "/v1/rules", nil, &rs, true)
}

// RuleSetVersion returns an earlier version of the tenant's rules.
func (c *Client) RuleSetVersion(ctx context.Context, version int64) (*RuleSet, error) {
	var rs RuleSet
	return &rs, c.do(ctx, http.MethodGet, "/v1/rules/versions/"+strconv.FormatInt(version, 10), nil, &rs, true)
}

// Rule returns one current rule.
func (c *Client) Rule(ctx context.Context, name string) (*RuleVersion, error) {
	var rv RuleVersion
	return &rv, c.do(ctx, http.MethodGet, "/v1/rules/"+url.PathEscape(name), nil, &rv, true)
}

// CreateRule adds a rule; it fails with 409 if the name exists.
func (c *Client) CreateRule(ctx context.Context, r Rule) (*RuleVersion, error) {
	var rv RuleVersion
	return &rv, c.do(ctx, http.MethodPost, "/v1/rules", r, &rv, false)
}

// PutRule creates or replaces the rule named r.Name.
func (c *Client) PutRule(ctx context.Context, r Rule) (*RuleVersion, error) {
	var rv RuleVersion
	return &rv, c.do(ctx, http.MethodPut, "/v1/rules/"+url.PathEscape(r.Name), r, &rv, false)
}

// DeleteRule removes a rule and returns the new rule-set version.
func (c *Client) DeleteRule(ctx context.Context, name string) (int64, error) {
	var out struct {
		Version int64 `json:"version"`
	}
	return out.Version, c.do(ctx, http.MethodDelete, "/v1/rules/"+url.PathEscape(name), nil, &out, false)
}

// ValidateRules compiles rules without saving them.
func (c *Client) ValidateRules(ctx context.Context, rs []Rule) error {
	return c.do(ctx, http.MethodPost, "/v1/rules/validate", map[string][]Rule{"rules": rs}, nil, true)
}

// Backtest runs draft rules over stored events.
func (c *Client) Backtest(ctx context.Context, req BacktestRequest) (*BacktestReport, error) {
	var rep BacktestReport
	return &rep, c.do(ctx, http.MethodPost, "/v1/backtests", req, &rep, true)
}

// Lists returns the tenant's lists, built-in ones included.
func (c *Client) Lists(ctx context.Context) ([]List, error) {
	var out struct {
		Lists []List `json:"lists"`
	}
	return out.Lists, c.do(ctx, http.MethodGet, "/v1/lists", nil, &out, true)
}

// List returns one list with its values.
func (c *Client) List(ctx context.Context, name string) (*ListValues, error) {
	var l ListValues
	return &l, c.do(ctx, http.MethodGet, "/v1/lists/"+url.PathEscape(name), nil, &l, true)
}

// CreateList creates a list.
func (c *Client) CreateList(ctx context.Context, l NewList) (*ListValues, error) {
	var out ListValues
	return &out, c.do(ctx, http.MethodPost, "/v1/lists", l, &out, false)
}

// UpdateList changes a list's effect or description.
func (c *Client) UpdateList(ctx context.Context, name string, u ListUpdate) (*ListValues, error) {
	var out ListValues
	return &out, c.do(ctx, http.MethodPatch, "/v1/lists/"+url.PathEscape(name), u, &out, false)
}

// DeleteList deletes a list.
func (c *Client) DeleteList(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, "/v1/lists/"+url.PathEscape(name), nil, nil, false)
}

// AddListValues adds values to a list and returns how many were new.
func (c *Client) AddListValues(ctx context.Context, name string, values ...string) (int, error) {
	var out struct {
		Added int `json:"added"`
	}
	return out.Added, c.do(ctx, http.MethodPost, "/v1/lists/"+url.PathEscape(name)+"/entries",
		map[string][]string{"values": values}, &out, true)
}

// RemoveListValues removes values from a list and returns how many were present.
func (c *Client) RemoveListValues(ctx context.Context, name string, values ...string) (int, error) {
	var out struct {
		Removed int `json:"removed"`
	}
	return out.Removed, c.do(ctx, http.MethodDelete, "/v1/lists/"+url.PathEscape(name)+"/entries",
		map[string][]string{"values": values}, &out, true)
}

// Ready reports whether shopguard is ready to serve (GET /readyz).
func (c *Client) Ready(ctx context.Context) error {
	return c.do(ctx, http.MethodGet, "/readyz", nil, nil, false)
}

// PromoteModel makes a trained model version the champion that scores the
// tenant's events of kind ("transaction").
func (c *Client) PromoteModel(ctx context.Context, kind, version string) (*Champion, error) {
	var out Champion
	return &out, c.do(ctx, http.MethodPost, "/v1/models/"+url.PathEscape(kind)+"/promote", map[string]string{"version": version}, &out, true)
}
