package client

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// Outbound is a message the shop sent, registered so that the support
// assistant can tell customers whether a message is genuine
// (POST /v1/outbound). Give Recipient (only its hash is kept) or
// RecipientHash.
type Outbound struct {
	ID            string    `json:"id,omitempty"`
	Channel       string    `json:"channel"`
	Recipient     string    `json:"recipient,omitempty"`
	RecipientHash string    `json:"recipient_hash,omitempty"`
	UserID        string    `json:"user_id,omitempty"`
	Template      string    `json:"template"`
	Summary       string    `json:"summary,omitempty"`
	Links         []string  `json:"links,omitempty"`
	SentAt        time.Time `json:"sent_at"`
	// Code is the verification code to put in the message (made by
	// shopguard when not given).
	Code      string     `json:"code,omitempty"`
	CreatedAt *time.Time `json:"created_at,omitempty"`
}

// RegisterOutbound registers a message the shop sent and returns it with
// its id and verification code.
func (c *Client) RegisterOutbound(ctx context.Context, m Outbound) (Outbound, error) {
	in := m
	in.ID, in.CreatedAt = "", nil
	var out Outbound
	err := c.do(ctx, http.MethodPost, "/v1/outbound", in, &out, false)
	return out, err
}

// Conversation is a chat between a customer and the support assistant.
type Conversation struct {
	ID            string             `json:"id"`
	UserID        string             `json:"user_id,omitempty"`
	DeviceID      string             `json:"device_id,omitempty"`
	ReturnURL     string             `json:"return_url,omitempty"`
	CreatedAt     time.Time          `json:"created_at"`
	UpdatedAt     time.Time          `json:"updated_at"`
	Turns         []ConversationTurn `json:"turns"`
	Pending       *PendingStepUp     `json:"pending,omitempty"`
	Awaiting      string             `json:"awaiting,omitempty"`
	Manipulations int                `json:"manipulations"`
	Handoff       bool               `json:"handoff"`
	Closed        bool               `json:"closed"`
}

// ConversationTurn is one message of a conversation.
type ConversationTurn struct {
	Role    string            `json:"role"`
	Text    string            `json:"text"`
	Intent  string            `json:"intent,omitempty"`
	Actions []AssistantAction `json:"actions,omitempty"`
	Choices []AssistantChoice `json:"choices,omitempty"`
	At      time.Time         `json:"at"`
}

// PendingStepUp is a sensitive request waiting for its step-up.
type PendingStepUp struct {
	Intent      string    `json:"intent"`
	ChallengeID string    `json:"challenge_id"`
	HostedURL   string    `json:"hosted_url"`
	Since       time.Time `json:"since"`
}

// AssistantAction is one thing a reply did or asks the widget to do.
type AssistantAction struct {
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

// AssistantChoice is a quick reply.
type AssistantChoice struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

// AssistantReply is the assistant's answer to one message.
type AssistantReply struct {
	Text       string            `json:"text"`
	Intent     string            `json:"intent,omitempty"`
	Confidence float64           `json:"confidence,omitempty"`
	Actions    []AssistantAction `json:"actions,omitempty"`
	Choices    []AssistantChoice `json:"choices,omitempty"`
}

// ConversationStart opens a conversation: UserID for a signed-in
// customer, ReturnURL for where a passed step-up returns.
type ConversationStart struct {
	UserID    string `json:"user_id,omitempty"`
	DeviceID  string `json:"device_id,omitempty"`
	ReturnURL string `json:"return_url,omitempty"`
}

// StartedConversation is a new conversation and the token its widget
// uses from the customer's browser.
type StartedConversation struct {
	Conversation Conversation `json:"conversation"`
	ClientToken  string       `json:"client_token,omitempty"`
	ExpiresAt    *time.Time   `json:"expires_at,omitempty"`
}

// AssistantMessage is the customer's message: Text, or Choice (a
// choice's value), or StepUp (the pending challenge's id).
type AssistantMessage struct {
	Text   string `json:"text,omitempty"`
	Choice string `json:"choice,omitempty"`
	StepUp string `json:"step_up,omitempty"`
}

// StartConversation opens a conversation with the support assistant.
func (c *Client) StartConversation(ctx context.Context, in ConversationStart) (StartedConversation, error) {
	var out StartedConversation
	err := c.do(ctx, http.MethodPost, "/v1/assistant/conversations", in, &out, false)
	return out, err
}

// Conversation returns a conversation with its turns.
func (c *Client) Conversation(ctx context.Context, id string) (Conversation, error) {
	var out Conversation
	err := c.do(ctx, http.MethodGet, "/v1/assistant/conversations/"+url.PathEscape(id), nil, &out, true)
	return out, err
}

// SendMessage relays the customer's message and returns the reply.
func (c *Client) SendMessage(ctx context.Context, conversation string, m AssistantMessage) (AssistantReply, error) {
	var out AssistantReply
	err := c.do(ctx, http.MethodPost, "/v1/assistant/conversations/"+url.PathEscape(conversation)+"/messages", m, &out, false)
	return out, err
}
