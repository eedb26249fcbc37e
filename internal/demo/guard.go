package demo

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/shopguard/shopguard/client"
	"github.com/shopguard/shopguard/internal/risk"
)

// Scorer is what the shop needs from shopguard's API (a *client.Client):
// its checks, its labels, and the step-up of challenged sign-ins.
type Scorer interface {
	ScoreTransaction(ctx context.Context, t client.Transaction) (*client.Decision, error)
	ScoreLogin(ctx context.Context, l client.Login) (*client.Decision, error)
	ScoreSignup(ctx context.Context, s client.Signup) (*client.Decision, error)
	SendFeedback(ctx context.Context, f client.Feedback) (*client.Label, error)
	AnswerChallenge(ctx context.Context, id, method, code string) (*client.ChallengeAnswer, error)
	VerifyApproval(ctx context.Context, token, userID string, action client.ChallengeAction) (*client.ApprovalCheck, error)
	ChallengeReturning(ctx context.Context, id, returnURL string) (*client.Challenge, error)
	CreateEnrolmentLink(ctx context.Context, userID string, in client.EnrolmentLinkInput) (*client.EnrolmentLink, error)
	Challenge(ctx context.Context, id string) (*client.Challenge, error)
	RegisterOutbound(ctx context.Context, m client.Outbound) (client.Outbound, error)
	StartConversation(ctx context.Context, in client.ConversationStart) (client.StartedConversation, error)
}

var _ Scorer = (*client.Client)(nil)

// GuardConfig sets how the shop calls shopguard.
type GuardConfig struct {
	// Timeout bounds each call; a call that takes longer fails.
	Timeout time.Duration
	// CheckoutOnFailure is the action the shop takes when shopguard cannot
	// answer a checkout in time: allow (fail open), review (hold the order)
	// or block (fail closed).
	CheckoutOnFailure risk.Action
}

// Verdict is the shop's decision at a checkpoint: shopguard's, or the
// failure policy's when shopguard did not answer.
type Verdict struct {
	Action     risk.Action
	Score      int
	Reasons    []client.Reason
	DecisionID string
	// Challenge is the step-up shopguard started with a challenge for a
	// customer who has a second factor (nil otherwise).
	Challenge *client.Challenge
	// Fallback is set when shopguard failed and the policy decided; Err says why.
	Fallback bool
	Err      error
}

// GuardStats counts the shop's calls to shopguard.
type GuardStats struct {
	// Calls counts checkouts, AccountCalls sign-ins and sign-ups.
	Calls        int
	AccountCalls int
	Failures     int // errors and timeouts
	Timeouts     int
	Fallbacks    map[risk.Action]int
	Feedback     int
	// Imported counts past orders sent by Import, ImportedSignIns past
	// sign-ins sent by ImportLogin.
	Imported        int
	ImportedSignIns int
	// FeedbackFailures counts labels that could not be delivered.
	FeedbackFailures int
	// StepUpCalls counts answers to challenges and approval checks;
	// shopguard's refusals (a closed challenge, a locked app) are answers,
	// not failures.
	StepUpCalls int
}

// Guard is the shop's side of the integration: it calls shopguard with a
// timeout and applies the failure policy when shopguard is slow or down.
type Guard struct {
	cfg    GuardConfig
	scorer Scorer

	mu    sync.Mutex
	stats GuardStats
}

// NewGuard returns a guard over scorer.
func NewGuard(cfg GuardConfig, scorer Scorer) (*Guard, error) {
	if cfg.Timeout <= 0 {
		return nil, fmt.Errorf("demo: guard timeout must be positive, got %s", cfg.Timeout)
	}
	if !cfg.CheckoutOnFailure.Valid() {
		return nil, fmt.Errorf("demo: checkout failure policy %q is not an action", cfg.CheckoutOnFailure)
	}
	return &Guard{cfg: cfg, scorer: scorer, stats: GuardStats{Fallbacks: map[risk.Action]int{}}}, nil
}

// Checkout asks shopguard about an order before the card is charged.
func (g *Guard) Checkout(ctx context.Context, t client.Transaction) Verdict {
	ctx, cancel := context.WithTimeout(ctx, g.cfg.Timeout)
	defer cancel()
	d, err := g.scorer.ScoreTransaction(ctx, t)
	g.mu.Lock()
	defer g.mu.Unlock()
	g.stats.Calls++
	if err != nil {
		g.stats.Failures++
		if errors.Is(err, context.DeadlineExceeded) {
			g.stats.Timeouts++
		}
		g.stats.Fallbacks[g.cfg.CheckoutOnFailure]++
		return Verdict{Action: g.cfg.CheckoutOnFailure, Fallback: true, Err: err}
	}
	return Verdict{Action: risk.Action(d.Action), Score: d.Score, Reasons: d.Reasons, DecisionID: d.ID}
}

// Login asks shopguard about a sign-in attempt. When shopguard does not
// answer in time the shop lets the customer in (fail open: sign-in must not
// depend on the risk service), counted as a fallback.
func (g *Guard) Login(ctx context.Context, l client.Login) Verdict {
	return g.account(ctx, func(ctx context.Context) (*client.Decision, error) { return g.scorer.ScoreLogin(ctx, l) })
}

// Signup asks shopguard about a new account (fail open, like Login).
func (g *Guard) Signup(ctx context.Context, su client.Signup) Verdict {
	return g.account(ctx, func(ctx context.Context) (*client.Decision, error) { return g.scorer.ScoreSignup(ctx, su) })
}

func (g *Guard) account(ctx context.Context, call func(context.Context) (*client.Decision, error)) Verdict {
	ctx, cancel := context.WithTimeout(ctx, g.cfg.Timeout)
	defer cancel()
	d, err := call(ctx)
	g.mu.Lock()
	defer g.mu.Unlock()
	g.stats.AccountCalls++
	if err != nil {
		g.stats.Failures++
		if errors.Is(err, context.DeadlineExceeded) {
			g.stats.Timeouts++
		}
		g.stats.Fallbacks[risk.ActionAllow]++
		return Verdict{Action: risk.ActionAllow, Fallback: true, Err: err}
	}
	return Verdict{Action: risk.Action(d.Action), Score: d.Score, Reasons: d.Reasons, DecisionID: d.ID, Challenge: d.Challenge}
}

// AnswerChallenge passes the customer's code to shopguard. There is no
// failure policy: when shopguard does not answer, the step-up has not
// passed (failing open would let anyone with the password in).
func (g *Guard) AnswerChallenge(ctx context.Context, id, method, code string) (*client.ChallengeAnswer, error) {
	ctx, cancel := context.WithTimeout(ctx, g.cfg.Timeout)
	defer cancel()
	a, err := g.scorer.AnswerChallenge(ctx, id, method, code)
	g.countStepUp(err)
	if err != nil {
		return nil, fmt.Errorf("demo: answer challenge %s: %w", id, err)
	}
	return a, nil
}

// HostedChallenge returns the challenge with the link to its hosted page
// that sends the customer back to returnURL.
func (g *Guard) HostedChallenge(ctx context.Context, id, returnURL string) (*client.Challenge, error) {
	ctx, cancel := context.WithTimeout(ctx, g.cfg.Timeout)
	defer cancel()
	ch, err := g.scorer.ChallengeReturning(ctx, id, returnURL)
	g.countStepUp(err)
	if err != nil {
		return nil, fmt.Errorf("demo: link challenge %s: %w", id, err)
	}
	return ch, nil
}

// EnrolmentLink returns a link to shopguard's page where the signed-in
// customer adds a passkey or an authenticator app.
func (g *Guard) EnrolmentLink(ctx context.Context, userID, accountName, returnURL string) (*client.EnrolmentLink, error) {
	ctx, cancel := context.WithTimeout(ctx, g.cfg.Timeout)
	defer cancel()
	l, err := g.scorer.CreateEnrolmentLink(ctx, userID, client.EnrolmentLinkInput{AccountName: accountName, ReturnURL: returnURL})
	g.countStepUp(err)
	if err != nil {
		return nil, fmt.Errorf("demo: enrolment link for %s: %w", userID, err)
	}
	return l, nil
}

// Challenge returns a step-up challenge as shopguard has it.
func (g *Guard) Challenge(ctx context.Context, id string) (*client.Challenge, error) {
	ctx, cancel := context.WithTimeout(ctx, g.cfg.Timeout)
	defer cancel()
	ch, err := g.scorer.Challenge(ctx, id)
	g.countStepUp(err)
	if err != nil {
		return nil, fmt.Errorf("demo: challenge %s: %w", id, err)
	}
	return ch, nil
}

// RegisterOutbound tells shopguard about a message the shop sends, and
// returns it with the verification code to put in it.
func (g *Guard) RegisterOutbound(ctx context.Context, m client.Outbound) (client.Outbound, error) {
	ctx, cancel := context.WithTimeout(ctx, g.cfg.Timeout)
	defer cancel()
	out, err := g.scorer.RegisterOutbound(ctx, m)
	if err != nil {
		return client.Outbound{}, fmt.Errorf("demo: register %s: %w", m.Template, err)
	}
	return out, nil
}

// StartConversation opens a chat with shopguard's support assistant.
func (g *Guard) StartConversation(ctx context.Context, in client.ConversationStart) (client.StartedConversation, error) {
	ctx, cancel := context.WithTimeout(ctx, g.cfg.Timeout)
	defer cancel()
	c, err := g.scorer.StartConversation(ctx, in)
	if err != nil {
		return client.StartedConversation{}, fmt.Errorf("demo: start a conversation: %w", err)
	}
	return c, nil
}

// VerifyApproval checks (and redeems) the approval token for the customer
// and the action the shop is about to perform; like AnswerChallenge, an
// error means no approval.
func (g *Guard) VerifyApproval(ctx context.Context, token, userID string, action client.ChallengeAction) (*client.ApprovalCheck, error) {
	ctx, cancel := context.WithTimeout(ctx, g.cfg.Timeout)
	defer cancel()
	v, err := g.scorer.VerifyApproval(ctx, token, userID, action)
	g.countStepUp(err)
	if err != nil {
		return nil, fmt.Errorf("demo: verify approval for %s: %w", userID, err)
	}
	return v, nil
}

func (g *Guard) countStepUp(err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.stats.StepUpCalls++
	if err != nil && !isRefusal(err) {
		g.stats.Failures++
		if errors.Is(err, context.DeadlineExceeded) {
			g.stats.Timeouts++
		}
	}
}

// isRefusal reports whether err is shopguard's answer to the request (a
// 4xx: the challenge is closed or expired, the app is locked) rather than
// a failure to answer.
func isRefusal(err error) bool {
	var e *client.Error
	return errors.As(err, &e) && e.Status >= 400 && e.Status < 500
}

// Import sends a past order to shopguard (no failure policy: the import
// stops at the first error so that nothing is silently missing).
func (g *Guard) Import(ctx context.Context, t client.Transaction) error {
	if _, err := g.scorer.ScoreTransaction(ctx, t); err != nil {
		return fmt.Errorf("demo: import order %s: %w", t.ID, err)
	}
	g.mu.Lock()
	g.stats.Imported++
	g.mu.Unlock()
	return nil
}

// ImportLogin sends a past sign-in to shopguard (no failure policy, like Import).
func (g *Guard) ImportLogin(ctx context.Context, l client.Login) error {
	if _, err := g.scorer.ScoreLogin(ctx, l); err != nil {
		return fmt.Errorf("demo: import sign-in %s: %w", l.ID, err)
	}
	g.mu.Lock()
	g.stats.ImportedSignIns++
	g.mu.Unlock()
	return nil
}

// Label sends feedback about an order (a chargeback, say). Labels matter
// for training, so a failure is counted and returned for the caller to log.
func (g *Guard) Label(ctx context.Context, orderID, label, note string, at time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, g.cfg.Timeout)
	defer cancel()
	_, err := g.scorer.SendFeedback(ctx, client.Feedback{
		Kind: string(risk.EventTransaction), ExternalID: orderID, Label: label,
		Source: "demo-shop", Note: note, OccurredAt: at,
	})
	g.mu.Lock()
	defer g.mu.Unlock()
	g.stats.Feedback++
	if err != nil {
		g.stats.FeedbackFailures++
		return fmt.Errorf("demo: label %s %s: %w", orderID, label, err)
	}
	return nil
}

// Stats returns the counts so far.
func (g *Guard) Stats() GuardStats {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.stats
	s.Fallbacks = make(map[risk.Action]int, len(g.stats.Fallbacks))
	for k, v := range g.stats.Fallbacks {
		s.Fallbacks[k] = v
	}
	return s
}

// noteFailure counts a failed call to shopguard with the guard's
// failures (and timeouts), unless shopguard refused the request (4xx):
// a refusal is an answer, not a failure.
func (g *Guard) noteFailure(err error) {
	if isRefusal(err) {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.stats.Failures++
	if errors.Is(err, context.DeadlineExceeded) {
		g.stats.Timeouts++
	}
}
