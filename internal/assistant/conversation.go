package assistant

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/shopguard/shopguard/internal/storage"
)

// Roles of a turn.
const (
	RoleCustomer  = "customer"
	RoleAssistant = "assistant"
)

// Conversation is one chat between a customer and the assistant.
type Conversation struct {
	Tenant    string    `json:"-"`
	ID        string    `json:"id"`
	UserID    string    `json:"user_id,omitempty"`
	DeviceID  string    `json:"device_id,omitempty"`
	ReturnURL string    `json:"return_url,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Turns     []Turn    `json:"turns"`
	// Pending is the sensitive request waiting for its step-up, if any.
	Pending *Pending `json:"pending,omitempty"`
	// Awaiting says what the assistant asked the customer for: a message
	// to check or to report, or a choice among intents.
	Awaiting string `json:"awaiting,omitempty"`
	// Manipulations counts messages that tried to instruct the assistant
	// ("ignore your rules", "I am an admin"); staff see it.
	Manipulations int `json:"manipulations"`
	// Handoff is set when the customer asked for, or the assistant
	// called, a person from the shop's staff.
	Handoff bool `json:"handoff"`
	Closed  bool `json:"closed"`
}

// What the assistant awaits.
const (
	awaitVerify = "message_to_verify"
	awaitReport = "message_to_report"
	awaitChoice = "choice"
)

// Pending is a sensitive request and the challenge that guards it.
type Pending struct {
	Intent      string    `json:"intent"`
	ChallengeID string    `json:"challenge_id"`
	HostedURL   string    `json:"hosted_url"`
	Since       time.Time `json:"since"`
}

// Turn is one message of the conversation. A customer's text is kept as
// redacted (no card numbers, passwords or one-time codes).
type Turn struct {
	Role    string    `json:"role"`
	Text    string    `json:"text"`
	Intent  string    `json:"intent,omitempty"`
	Actions []Action  `json:"actions,omitempty"`
	Choices []Choice  `json:"choices,omitempty"`
	At      time.Time `json:"at"`
}

// Reply is the assistant's answer to one message.
type Reply struct {
	Text string `json:"text"`
	// Intent is what the assistant understood, "" when it asked.
	Intent string `json:"intent,omitempty"`
	// Confidence is the classifier's share for Intent (0 when the intent
	// came from a choice or the conversation's state).
	Confidence float64 `json:"confidence,omitempty"`
	// Actions are what the reply did or asks the widget to do.
	Actions []Action `json:"actions,omitempty"`
	// Choices are quick replies the widget offers.
	Choices []Choice `json:"choices,omitempty"`
}

// Kinds of action.
const (
	// ActionVerdict is the answer about a message: Verdict is genuine,
	// not_ours or unknown; Evidence says why.
	ActionVerdict = "message_verdict"
	// ActionStepUp asks the widget to open HostedURL for ChallengeID.
	ActionStepUp = "step_up"
	// ActionVerified says the customer passed the step-up for Intent.
	ActionVerified = "verified"
	// ActionReported says a phishing report (ReportID) was filed.
	ActionReported = "phishing_reported"
	// ActionHandoff asks for a person from the shop's staff.
	ActionHandoff = "handoff"
	// ActionRedacted says something secret was removed from the
	// customer's message before it was kept.
	ActionRedacted = "redacted"
	// ActionRefused says a request was refused (Reason says why).
	ActionRefused = "refused"
	// ActionGenerated says the reply's words came from the operator's
	// language model (from the shop's answer, checked before it is shown).
	ActionGenerated = "generated"
)

// Verdicts about a message.
const (
	VerdictGenuine = "genuine"
	VerdictNotOurs = "not_ours"
	VerdictUnknown = "unknown"
)

// Action is one thing a reply did or asks for.
type Action struct {
	Type        string   `json:"type"`
	Intent      string   `json:"intent,omitempty"`
	Verdict     string   `json:"verdict,omitempty"`
	Evidence    []string `json:"evidence,omitempty"`
	MessageID   string   `json:"message_id,omitempty"`
	ChallengeID string   `json:"challenge_id,omitempty"`
	HostedURL   string   `json:"hosted_url,omitempty"`
	ReportID    string   `json:"report_id,omitempty"`
	Reason      string   `json:"reason,omitempty"`
}

// Choice is a quick reply: a label shown and the value sent back.
type Choice struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

func (c *Conversation) add(t Turn) { c.Turns = append(c.Turns, t) }

// recent counts the customer's turns in the last d before now.
func (c *Conversation) recent(now time.Time, d time.Duration) int {
	n := 0
	for i := len(c.Turns) - 1; i >= 0 && now.Sub(c.Turns[i].At) < d; i-- {
		if c.Turns[i].Role == RoleCustomer {
			n++
		}
	}
	return n
}

// clone returns a deep enough copy for a caller to keep.
func (c *Conversation) clone() *Conversation {
	d := *c
	d.Turns = append([]Turn(nil), c.Turns...)
	if c.Pending != nil {
		p := *c.Pending
		d.Pending = &p
	}
	return &d
}

// Conversations keeps conversations.
type Conversations interface {
	// Put stores a new conversation.
	Put(ctx context.Context, c *Conversation) error
	// Get returns a copy of the tenant's conversation id, or an error
	// wrapping storage.ErrNotFound.
	Get(ctx context.Context, tenant, id string) (*Conversation, error)
	// Update runs fn on the conversation, alone, and keeps its changes
	// when fn returns nil.
	Update(ctx context.Context, tenant, id string, fn func(*Conversation) error) error
}

// MemoryConversations keeps conversations in memory, each until it has
// been idle for the TTL, at most max of them (the longest idle go first).
type MemoryConversations struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu    sync.Mutex
	convs map[convKey]*memConv
}

type convKey struct{ tenant, id string }

// memConv is a conversation and the lock its updates take, so that one
// slow update does not hold up the others.
type memConv struct {
	mu sync.Mutex
	c  *Conversation
}

// NewMemoryConversations returns an empty in-memory store.
func NewMemoryConversations(ttl time.Duration, max int, now func() time.Time) *MemoryConversations {
	return &MemoryConversations{ttl: ttl, max: max, now: now, convs: map[convKey]*memConv{}}
}

// Put implements Conversations.
func (m *MemoryConversations) Put(_ context.Context, c *Conversation) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := convKey{c.Tenant, c.ID}
	if _, ok := m.convs[k]; ok {
		return fmt.Errorf("%w: conversation %s", storage.ErrConflict, c.ID)
	}
	if len(m.convs) >= m.max {
		m.evict()
	}
	m.convs[k] = &memConv{c: c.clone()}
	return nil
}

// evict drops expired conversations, and if none had expired the one idle
// longest. Called with m.mu held.
func (m *MemoryConversations) evict() {
	now := m.now()
	var oldest convKey
	var oldestAt time.Time
	dropped := false
	for k, mc := range m.convs {
		if !mc.mu.TryLock() {
			continue // being updated: not idle
		}
		at := mc.c.UpdatedAt
		mc.mu.Unlock()
		if now.Sub(at) > m.ttl {
			delete(m.convs, k)
			dropped = true
		} else if oldestAt.IsZero() || at.Before(oldestAt) {
			oldest, oldestAt = k, at
		}
	}
	if !dropped && !oldestAt.IsZero() {
		delete(m.convs, oldest)
	}
}

func (m *MemoryConversations) find(tenant, id string) (*memConv, error) {
	m.mu.Lock()
	mc, ok := m.convs[convKey{tenant, id}]
	m.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("%w: conversation %s", storage.ErrNotFound, id)
	}
	return mc, nil
}

// Get implements Conversations.
func (m *MemoryConversations) Get(_ context.Context, tenant, id string) (*Conversation, error) {
	mc, err := m.find(tenant, id)
	if err != nil {
		return nil, err
	}
	mc.mu.Lock()
	defer mc.mu.Unlock()
	if m.now().Sub(mc.c.UpdatedAt) > m.ttl {
		return nil, fmt.Errorf("%w: conversation %s has expired", storage.ErrNotFound, id)
	}
	return mc.c.clone(), nil
}

// Update implements Conversations.
func (m *MemoryConversations) Update(_ context.Context, tenant, id string, fn func(*Conversation) error) error {
	mc, err := m.find(tenant, id)
	if err != nil {
		return err
	}
	mc.mu.Lock()
	defer mc.mu.Unlock()
	if m.now().Sub(mc.c.UpdatedAt) > m.ttl {
		return fmt.Errorf("%w: conversation %s has expired", storage.ErrNotFound, id)
	}
	work := mc.c.clone()
	if err := fn(work); err != nil {
		return err
	}
	mc.c = work
	return nil
}
