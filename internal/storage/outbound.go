package storage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"
)

// Outbound-message channels: how the shop sent a message.
const (
	OutboundEmail = "email"
	OutboundSMS   = "sms"
	OutboundPush  = "push"
	OutboundChat  = "chat"
	OutboundPhone = "phone"
)

// OutboundChannels lists the channels an outbound message may use.
var OutboundChannels = []string{OutboundEmail, OutboundSMS, OutboundPush, OutboundChat, OutboundPhone}

// Bounds of an outbound message's fields.
const (
	// MaxOutboundTemplate bounds OutboundMessage.Template, in bytes.
	MaxOutboundTemplate = 100
	// MaxOutboundSummary bounds OutboundMessage.Summary, in characters.
	MaxOutboundSummary = 200
	// MaxOutboundLinks bounds OutboundMessage.Links.
	MaxOutboundLinks = 20
	// MaxOutboundLink bounds one link, in bytes.
	MaxOutboundLink = 2048
	// MaxOutboundUserID bounds OutboundMessage.UserID, in bytes.
	MaxOutboundUserID = 128
)

// ErrInvalidOutbound means an outbound message has a field out of its
// bounds or an unknown value.
var ErrInvalidOutbound = errors.New("storage: invalid outbound message")

// OutboundMessage is a message the shop really sent to a customer,
// registered so that a customer who doubts a message can be told with
// certainty whether it is the shop's: by the verification code it
// carries, by its links, or by what the shop sent that customer lately.
// It holds no message text and no recipient in clear: the recipient is a
// hash and the summary is what the shop chose to show.
type OutboundMessage struct {
	Tenant string
	// ID is the message's public identifier ("out_" and 16 hex digits),
	// unique per tenant.
	ID string
	// Channel is one of OutboundChannels.
	Channel string
	// RecipientHash is the hex SHA-256 of the normalised recipient (a
	// lower-cased e-mail address, a phone number in E.164), or "".
	RecipientHash string
	// UserID is the customer's id in the shop, or "".
	UserID string
	// Template names what kind of message it is ("order_confirmation").
	Template string
	// Summary is what the customer may be told about it ("Order 8812
	// confirmed, 129.00 EUR"), or "".
	Summary string
	// Links are the links the message holds, in canonical form.
	Links []string
	// Code is the short verification code the message carries, unique
	// per tenant while the message is kept.
	Code   string
	SentAt time.Time
	// CreatedAt is when it was registered.
	CreatedAt time.Time
}

// Validate reports whether m can be stored: an ID, a code, a known
// channel, a template, times, a recipient hash of 64 hex digits or none,
// fields within their bounds and valid UTF-8. The error wraps
// ErrInvalidOutbound.
func (m *OutboundMessage) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidOutbound, fmt.Sprintf(format, args...))
	}
	switch {
	case m.ID == "" || len(m.ID) > 64:
		return bad("id %q is not 1-64 bytes", m.ID)
	case m.Code == "" || len(m.Code) > 32:
		return bad("code %q is not 1-32 bytes", m.Code)
	case !slices.Contains(OutboundChannels, m.Channel):
		return bad("channel %q is not one of %v", m.Channel, OutboundChannels)
	case m.Template == "" || len(m.Template) > MaxOutboundTemplate:
		return bad("template is not 1-%d bytes", MaxOutboundTemplate)
	case utf8.RuneCountInString(m.Summary) > MaxOutboundSummary:
		return bad("summary is over %d characters", MaxOutboundSummary)
	case len(m.UserID) > MaxOutboundUserID:
		return bad("user id is over %d bytes", MaxOutboundUserID)
	case m.RecipientHash != "" && !isHex(m.RecipientHash, 64):
		return bad("recipient hash is not 64 hex digits")
	case len(m.Links) > MaxOutboundLinks:
		return bad("%d links, at most %d", len(m.Links), MaxOutboundLinks)
	case m.SentAt.IsZero() || m.CreatedAt.IsZero():
		return bad("no sending or creation time")
	}
	for _, l := range m.Links {
		if l == "" || len(l) > MaxOutboundLink {
			return bad("a link is not 1-%d bytes", MaxOutboundLink)
		}
	}
	for _, s := range append([]string{m.ID, m.Code, m.Template, m.Summary, m.UserID}, m.Links...) {
		if !utf8.ValidString(s) {
			return bad("a field is not valid UTF-8")
		}
	}
	return nil
}

// isHex reports whether s is n lower-case hex digits.
func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// OutboundQuery selects a tenant's outbound messages to one customer,
// newest first.
type OutboundQuery struct {
	Tenant string
	// UserID or RecipientHash (or both: either matches) say whose
	// messages; a query with neither matches nothing.
	UserID        string
	RecipientHash string
	// Since keeps only messages sent at or after it (zero: all).
	Since time.Time
	// Limit caps the number of messages (0 = no limit).
	Limit int
}

// OutboundStore keeps the register of messages the shop really sent.
type OutboundStore interface {
	// CreateOutbound registers m: ErrConflict if the tenant has a message
	// with its ID or its code, an error wrapping ErrInvalidOutbound if
	// m.Validate fails.
	CreateOutbound(ctx context.Context, m OutboundMessage) error
	// Outbound returns the tenant's message id, or ErrNotFound.
	Outbound(ctx context.Context, tenant, id string) (OutboundMessage, error)
	// OutboundByCode returns the tenant's message with the verification
	// code, or ErrNotFound.
	OutboundByCode(ctx context.Context, tenant, code string) (OutboundMessage, error)
	// OutboundByLink returns up to limit of the tenant's messages that
	// hold the link (canonical form, compared exactly), newest first.
	OutboundByLink(ctx context.Context, tenant, link string, limit int) ([]OutboundMessage, error)
	// OutboundMessages returns the messages q selects, newest first (by
	// SentAt, then ID, descending).
	OutboundMessages(ctx context.Context, q OutboundQuery) ([]OutboundMessage, error)
	// PurgeOutbound deletes every tenant's messages sent before t and
	// returns how many it deleted.
	PurgeOutbound(ctx context.Context, before time.Time) (int, error)
}
