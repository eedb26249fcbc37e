package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shopguard/shopguard/client"
)

// Inline protection: a route with protect: login or protect: content sends
// what passes through it to shopguard's risk API (Config.Risk) before the
// shop sees it, and applies the decision on the spot. A sign-in is scored
// as an attempt (pre-authentication risk: credential stuffing, a known bad
// network, an account under attack) and, once the shop has answered, its
// outcome is reported, so the account's history counts it. A post is
// judged by the content filter (spam, malicious links, fake reviews). The
// shop is told the decision in headers it can act on (a step-up for a
// risky sign-in, a post held for a moderator). When the API does not
// answer within Risk.Timeout the request passes (fail open), counted.

// Protections of a route.
const (
	// ProtectLogin scores sign-ins with account protection.
	ProtectLogin = "login"
	// ProtectContent judges posts with the content filter.
	ProtectContent = "content"
)

// The headers that tell the shop a protected request's decision; clients'
// own copies are always dropped.
const (
	// HeaderDecision is the action: allow, review or challenge (a request
	// the API blocks never reaches the shop).
	HeaderDecision = "X-Shopguard-Decision"
	// HeaderEventID is the API's id of the event, for the shop's step-up
	// (POST /v1/challenges) or feedback.
	HeaderEventID = "X-Shopguard-Event-Id"
	// HeaderModeration is what to do with a post: publish or hold (for a
	// moderator).
	HeaderModeration = "X-Shopguard-Moderation"
)

// RiskAPI is the shopguard API a gateway sends protected requests to.
type RiskAPI struct {
	// URL is its base URL, e.g. http://127.0.0.1:8080; "" for none.
	URL string
	// Key is an API key with the events:write scope.
	Key string
	// Timeout bounds one call; past it the request passes.
	Timeout time.Duration
}

// ContentFields names the body fields of a protected post route.
type ContentFields struct {
	// Kind is what the route's posts are: review, question, answer,
	// comment, listing or profile.
	Kind string
	// Text, Title, Rating (1 to 5) and Target (the product) are body
	// fields; Author the field of the author's user id, and when it is ""
	// or absent the shop's session cookie stands for the author, else the
	// client's address.
	Text, Title, Rating, Target, Author string
}

// scorer is the part of the API client inline protection uses.
type scorer interface {
	ScoreLogin(ctx context.Context, l client.Login) (*client.Decision, error)
	AssessContent(ctx context.Context, p client.Post) (client.ContentDecision, error)
}

// maxOutcomeReports bounds the sign-in outcomes being reported at once;
// past it they are dropped (counted) rather than queued without end.
const maxOutcomeReports = 64

// inline sends protected requests to the risk API.
type inline struct {
	api     scorer
	timeout time.Duration
	// reports bounds the outcome reports in flight; wg waits for them at
	// shutdown.
	reports chan struct{}
	wg      sync.WaitGroup
}

// newInline returns inline protection through the API at cfg, nil when
// cfg has no URL.
func newInline(cfg RiskAPI) (*inline, error) {
	if cfg.URL == "" {
		return nil, nil
	}
	c, err := client.New(cfg.URL, cfg.Key, client.WithRetries(0),
		client.WithHTTPClient(&http.Client{Timeout: cfg.Timeout, Transport: &http.Transport{
			Proxy: nil, MaxIdleConnsPerHost: 64, IdleConnTimeout: 90 * time.Second}}))
	if err != nil {
		return nil, fmt.Errorf("risk_url: %w", err)
	}
	return &inline{api: c, timeout: cfg.Timeout, reports: make(chan struct{}, maxOutcomeReports)}, nil
}

// protectedRequest is what the response path needs of a protected request.
type protectedRequest struct {
	route   *Route
	id      string // the shop-side id of the sign-in (the attempt's, without its suffix)
	login   client.Login
	eventID string
}

// newEventID returns a fresh id for an event the gateway reports.
func newEventID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "gw_" + hex.EncodeToString(b[:])
}

// protect runs rt's protection for r before it is forwarded. It reports
// whether r may go on; when not, it has answered. st receives what the
// response path needs.
func (g *Gateway) protect(w http.ResponseWriter, r *http.Request, rt *Route, keys clientKeys, st *requestState) bool {
	var action client.Action
	var eventID, moderation string
	var err error
	ctx, cancel := context.WithTimeout(r.Context(), g.inline.timeout)
	defer cancel()
	switch rt.Protect {
	case ProtectLogin:
		account := strings.TrimSpace(bodyFields(r, rt.AccountField)[0])
		p := &protectedRequest{route: rt, id: newEventID(), login: client.Login{CreatedAt: time.Now().UTC(),
			Identifier: account, IP: keys.ip, UserAgent: r.UserAgent(), Outcome: client.LoginAttempt}}
		p.login.ID = p.id + "_attempt"
		if account == "" {
			return true // not a sign-in the gateway can read: the shop decides
		}
		var d *client.Decision
		if d, err = g.inline.api.ScoreLogin(ctx, p.login); err == nil {
			action, eventID, p.eventID = d.Action, d.ID, d.ID
			st.protected = p
		}
	case ProtectContent:
		action, eventID, moderation, err = g.judgePost(ctx, r, rt, keys)
	default:
		return true
	}
	if err != nil {
		g.metrics.protect(rt.Name, "error")
		g.log.Warn("risk API call failed; request passed", "route", rt.Name, "error", err)
		return true
	}
	g.metrics.protect(rt.Name, string(action))
	st.decision, st.eventID, st.moderation = string(action), eventID, moderation
	switch {
	case action == client.ActionBlock || moderation == "reject":
		msg := "this sign-in was refused for your account's safety; try again later or contact the shop"
		if rt.Protect == ProtectContent {
			msg = "this post was not accepted"
		}
		g.decided(r, st, rt.Name, ActionBlocked, http.StatusForbidden, "risk API "+string(action)+" "+moderation)
		refuse(w, http.StatusForbidden, msg, 0)
		return false
	case action == client.ActionChallenge && !g.challenges.cleared(r, g.challenges.client(r, keys)):
		// The API suspects a bot: prove a browser first. A client that
		// already did passes, and the shop steps the customer up.
		g.decided(r, st, rt.Name, ActionChallenged, http.StatusForbidden, "risk API challenge")
		g.challenge(w, r, &riskChallengeRoute, keys)
		return false
	}
	return true
}

// riskChallengeRoute is the challenge of a protected request the API
// wants challenged.
var riskChallengeRoute = Route{Name: "risk", Challenge: ChallengePoW, ChallengeBits: DefaultChallengeBits, Priority: PriorityNormal}

// judgePost sends r's post to the content filter.
func (g *Gateway) judgePost(ctx context.Context, r *http.Request, rt *Route, keys clientKeys) (action client.Action, eventID, moderation string, err error) {
	f := rt.Content
	v := bodyFields(r, f.Text, f.Title, f.Rating, f.Target, f.Author)
	post := client.Post{ID: newEventID(), CreatedAt: time.Now().UTC().Format(time.RFC3339Nano), Kind: f.Kind,
		Text: v[0], Title: v[1], TargetID: v[3], Author: client.PostAuthor{UserID: v[4], IP: keys.ip}}
	if post.Text == "" && post.Title == "" {
		return "", "", "", nil // nothing to judge: the shop decides
	}
	if n, err := strconv.Atoi(strings.TrimSpace(v[2])); err == nil && n >= 1 && n <= 5 {
		post.Rating = n
	}
	if post.Author.UserID == "" {
		post.Author.UserID = "ip:" + keys.ip
		if ck, err := r.Cookie(g.cfg.Policy.SessionCookie); g.cfg.Policy.SessionCookie != "" && err == nil && ck.Value != "" {
			post.Author.UserID = "session:" + hashValue(ck.Value)
		}
	}
	d, err := g.inline.api.AssessContent(ctx, post)
	if err != nil {
		return "", "", "", err
	}
	return d.Action, d.ID, d.Moderation, nil
}

// decisionHeaders calls set with st's decision headers (none for a
// request the risk API did not decide).
func decisionHeaders(st *requestState, set func(name, value string)) {
	if st == nil || st.decision == "" {
		return
	}
	set(HeaderDecision, st.decision)
	set(HeaderEventID, st.eventID)
	if st.moderation != "" {
		set(HeaderModeration, st.moderation)
	}
}

// loginOutcome returns the outcome a protected sign-in's answer means: a
// status among the route's SuccessStatuses (by default any 2xx or 3xx) is
// a success, another 2xx, 3xx or 4xx a bad password; 429 and 5xx say
// nothing ("").
func loginOutcome(rt *Route, status int) string {
	switch {
	case status == http.StatusTooManyRequests || status >= 500 || status < 200:
		return ""
	case len(rt.SuccessStatuses) > 0 && slices.Contains(rt.SuccessStatuses, status):
		return client.LoginSuccess
	case len(rt.SuccessStatuses) == 0 && status < 400:
		return client.LoginSuccess
	}
	return client.LoginBadPassword
}

// reportOutcome sends a protected sign-in's outcome in the background.
func (g *Gateway) reportOutcome(p *protectedRequest, status int) {
	outcome := loginOutcome(p.route, status)
	if outcome == "" {
		return
	}
	select {
	case g.inline.reports <- struct{}{}:
	default:
		g.metrics.protect(p.route.Name, "outcome_dropped")
		return
	}
	l := p.login
	l.ID, l.Outcome, l.CreatedAt = p.id+"_"+outcome, outcome, time.Now().UTC()
	g.inline.wg.Go(func() {
		defer func() { <-g.inline.reports }()
		ctx, cancel := context.WithTimeout(context.Background(), 5*g.inline.timeout)
		defer cancel()
		if _, err := g.inline.api.ScoreLogin(ctx, l); err != nil && !errors.Is(err, context.Canceled) {
			g.metrics.protect(p.route.Name, "outcome_error")
			g.log.Warn("reporting a sign-in's outcome failed", "route", p.route.Name, "error", err)
		}
	})
}
