package assistant

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/shopguard/shopguard/internal/authn"
	"github.com/shopguard/shopguard/internal/phishing"
	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/storage"
)

// MessageChecker judges a message said to come from the shop (a
// *phishing.Checker).
type MessageChecker interface {
	CheckMessage(tenant string, m phishing.Message, shop phishing.Shop) (phishing.MessageResult, error)
}

// ShopProfiles tells what the checks know of a tenant's shop: the domains
// links must not imitate and who its messages come from.
type ShopProfiles interface {
	Shop(ctx context.Context, tenant string) (phishing.Shop, error)
}

// Reports files phishing reports.
type Reports interface {
	CreatePhishingReport(ctx context.Context, r storage.PhishingReport) error
}

// Registry looks up the messages the shop registered as sent.
type Registry interface {
	OutboundByCode(ctx context.Context, tenant, code string) (storage.OutboundMessage, error)
	OutboundByLink(ctx context.Context, tenant, link string, limit int) ([]storage.OutboundMessage, error)
	OutboundMessages(ctx context.Context, q storage.OutboundQuery) ([]storage.OutboundMessage, error)
}

// StepUps starts and follows step-up challenges (an *authn.Challenges).
type StepUps interface {
	Create(ctx context.Context, tenant string, in authn.ChallengeInput) (storage.Challenge, error)
	Get(ctx context.Context, tenant, id string) (storage.Challenge, error)
}

// HostedPages makes the address of a challenge's hosted step-up page.
type HostedPages interface {
	ChallengeURL(tenant, id, returnURL string) string
}

// Deps are the parts of shopguard the assistant works with.
type Deps struct {
	// Classifier recognises intents; nil: the built-in one, trained in
	// the background from New on (under a second), which the first
	// messages wait for.
	Classifier *Classifier
	Messages   MessageChecker
	Shops      ShopProfiles
	Reports    Reports
	Registry   Registry
	StepUps    StepUps
	Pages      HostedPages
	// Conversations keeps conversations (default: in memory).
	Conversations Conversations
	// Writer, if set, words the answers to questions that need only words
	// (AnswerIntents but goodbye and account_security) from the shop's
	// answer; off by default, and never asked about anything else.
	Writer Writer
}

// Config configures the assistant. Zero values take defaults.
type Config struct {
	// ConversationTTL is how long an idle conversation is kept (default 24 h).
	ConversationTTL time.Duration
	// MaxTurns bounds a conversation's turns (default 200): after it the
	// customer is asked to start a new one.
	MaxTurns int
	// RegistryWindow is how far back the register is searched for what
	// was sent to a customer (default 90 days).
	RegistryWindow time.Duration
	// MaxMessagesPerMinute bounds a conversation's customer messages a
	// minute (default 20).
	MaxMessagesPerMinute int
	// Answers are the shop's own answers, by intent (AnswerIntents), to
	// questions that need only words; the others keep the default ones.
	Answers map[string]string
	// Now returns the time (default time.Now).
	Now func() time.Time
}

// MaxAnswerRunes bounds one of Config.Answers.
const MaxAnswerRunes = 1000

func (c *Config) defaults() {
	if c.ConversationTTL <= 0 {
		c.ConversationTTL = 24 * time.Hour
	}
	if c.MaxTurns <= 0 {
		c.MaxTurns = 200
	}
	if c.RegistryWindow <= 0 {
		c.RegistryWindow = 90 * 24 * time.Hour
	}
	if c.MaxMessagesPerMinute <= 0 {
		c.MaxMessagesPerMinute = 20
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Errors of the assistant. Transports map them to statuses.
var (
	// ErrConversationOver means the conversation reached its turn limit
	// or was closed: the customer starts a new one.
	ErrConversationOver = errors.New("assistant: the conversation is over; start a new one")
	// ErrTooFast means the conversation sends messages faster than its limit.
	ErrTooFast = errors.New("assistant: too many messages; wait a moment")
)

// Assistant answers customers' messages.
type Assistant struct {
	cfg  Config
	deps Deps

	// ready is closed once deps.Classifier is set (or trainErr).
	ready    chan struct{}
	trainErr error
}

// New returns an assistant over deps. Without Messages, Registry,
// Reports or StepUps the assistant says it cannot do what needs them and
// hands over to the shop's staff.
func New(cfg Config, deps Deps) (*Assistant, error) {
	cfg.defaults()
	for intent, text := range cfg.Answers {
		if !slices.Contains(AnswerIntents(), intent) {
			return nil, fmt.Errorf("assistant: no answer can be set for %q; these can: %s", intent, strings.Join(AnswerIntents(), ", "))
		}
		if n := utf8.RuneCountInString(strings.TrimSpace(text)); n == 0 || n > MaxAnswerRunes || !utf8.ValidString(text) {
			return nil, fmt.Errorf("assistant: the answer for %s must be 1 to %d characters of UTF-8", intent, MaxAnswerRunes)
		}
	}
	if deps.Conversations == nil {
		deps.Conversations = NewMemoryConversations(cfg.ConversationTTL, 100_000, cfg.Now)
	}
	a := &Assistant{cfg: cfg, deps: deps, ready: make(chan struct{})}
	if deps.Classifier != nil {
		close(a.ready)
		return a, nil
	}
	go func() {
		defer close(a.ready)
		a.deps.Classifier, a.trainErr = BuiltinClassifier()
	}()
	return a, nil
}

// BuiltinClassifier returns the classifier of the built-in intent set,
// trained on the first call (under a second) and shared by every later
// call and assistant of the process (it is read-only once trained).
// Calling it early warms the assistant up; New calls it in the
// background.
func BuiltinClassifier() (*Classifier, error) { return builtinClassifier() }

var builtinClassifier = sync.OnceValues(func() (*Classifier, error) {
	ex, err := TrainingExamples()
	if err != nil {
		return nil, err
	}
	return TrainClassifier(ex)
})

// waitReady waits for the classifier.
func (a *Assistant) waitReady(ctx context.Context) error {
	select {
	case <-a.ready:
		return a.trainErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

// StartInput opens a conversation for a tenant's customer.
type StartInput struct {
	// UserID is the signed-in customer's id in the shop, or "" for a
	// guest: only a signed-in customer can be stepped up for sensitive
	// requests.
	UserID string `json:"user_id,omitempty"`
	// DeviceID is the shop's id of the customer's device, if known.
	DeviceID string `json:"device_id,omitempty"`
	// ReturnURL is the shop's page a passed step-up returns to (on one
	// of its passkey origins); the action is added to its query as
	// action=change_address and so on, with the challenge and the
	// approval token, for the shop to carry the change out.
	ReturnURL string `json:"return_url,omitempty"`
}

// Start opens a conversation and returns it with the assistant's
// greeting as its first turn.
func (a *Assistant) Start(ctx context.Context, tenant string, in StartInput) (*Conversation, error) {
	var ps []error
	if e := risk.CheckText("user_id", in.UserID, 128); e != nil {
		ps = append(ps, e)
	}
	if e := risk.CheckText("device_id", in.DeviceID, 128); e != nil {
		ps = append(ps, e)
	}
	if len(in.ReturnURL) > 2048 {
		ps = append(ps, risk.Invalid("return_url", "%d bytes; at most 2048", len(in.ReturnURL)))
	}
	if len(ps) > 0 {
		return nil, errors.Join(ps...)
	}
	now := a.cfg.Now().UTC()
	c := &Conversation{Tenant: tenant, ID: newID("conv_"), UserID: in.UserID, DeviceID: in.DeviceID, ReturnURL: in.ReturnURL,
		CreatedAt: now, UpdatedAt: now}
	c.add(Turn{Role: RoleAssistant, Text: greetingText(in.UserID != ""), At: now})
	if err := a.deps.Conversations.Put(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}

// Conversation returns the tenant's conversation id.
func (a *Assistant) Conversation(ctx context.Context, tenant, id string) (*Conversation, error) {
	return a.deps.Conversations.Get(ctx, tenant, id)
}

// MessageInput is one message of the customer: text they typed or
// pasted, a choice among the options of the last reply, or the id of a
// step-up challenge the widget saw finish.
type MessageInput struct {
	Text string `json:"text,omitempty"`
	// Choice is the value of one of the last reply's choices.
	Choice string `json:"choice,omitempty"`
	// StepUp is the id of the conversation's pending challenge, sent when
	// its page closed.
	StepUp string `json:"step_up,omitempty"`
}

// MaxMessageRunes bounds a customer message (a pasted e-mail fits).
const MaxMessageRunes = 8000

func (in *MessageInput) validate() error {
	var ps []error
	n := utf8.RuneCountInString(in.Text)
	switch {
	case !utf8.ValidString(in.Text):
		ps = append(ps, risk.Invalid("text", "is not valid UTF-8"))
	case n > MaxMessageRunes:
		ps = append(ps, risk.Invalid("text", "%d characters; at most %d", n, MaxMessageRunes))
	}
	if in.Choice != "" && len(in.Choice) > 64 {
		ps = append(ps, risk.Invalid("choice", "is not one of the offered choices"))
	}
	if len(in.StepUp) > 64 {
		ps = append(ps, risk.Invalid("step_up", "is not a challenge id"))
	}
	if strings.TrimSpace(in.Text) == "" && in.Choice == "" && in.StepUp == "" {
		ps = append(ps, risk.Missing("text"))
	}
	if len(ps) > 0 {
		return errors.Join(ps...)
	}
	return nil
}

// Post takes the customer's message in the tenant's conversation id and
// returns the assistant's reply, both appended to the conversation.
func (a *Assistant) Post(ctx context.Context, tenant, id string, in MessageInput) (Reply, error) {
	if err := in.validate(); err != nil {
		return Reply{}, err
	}
	if err := a.waitReady(ctx); err != nil {
		return Reply{}, err
	}
	var reply Reply
	err := a.deps.Conversations.Update(ctx, tenant, id, func(c *Conversation) error {
		now := a.cfg.Now().UTC()
		if c.Closed || len(c.Turns)+2 > a.cfg.MaxTurns {
			return ErrConversationOver
		}
		if c.recent(now, time.Minute) >= a.cfg.MaxMessagesPerMinute {
			return ErrTooFast
		}
		var err error
		reply, err = a.respond(ctx, c, in, now)
		if err != nil {
			return err
		}
		c.UpdatedAt = now
		c.add(Turn{Role: RoleAssistant, Text: reply.Text, Intent: reply.Intent, Actions: reply.Actions, Choices: reply.Choices, At: now})
		return nil
	})
	return reply, err
}

// newID returns prefix and 16 random hex digits.
func newID(prefix string) string {
	var b [8]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}
