package assistant

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopguard/shopguard/internal/phishing"
	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/storage"
)

// codeAlphabet has no letters or digits that read alike (0/O, 1/I/L, U/V).
const codeAlphabet = "23456789ABCDEFGHJKMNPQRSTWXYZ"

// NewCode returns a random verification code, "XXXX-XXXX" over 29
// symbols with at least one digit and one letter (about 38 bits): short
// enough to read out, too many to guess one of a shop's live codes, and
// never a word or a number, so that it is found in what a customer
// writes (codesIn).
func NewCode() string {
	for {
		var b [8]byte
		rand.Read(b[:])
		out := make([]byte, 0, 9)
		for i, v := range b {
			if i == 4 {
				out = append(out, '-')
			}
			out = append(out, codeAlphabet[int(v)%len(codeAlphabet)])
		}
		if c := string(out); hasDigitAndLetter(c) {
			return c
		}
	}
}

// codeInText finds verification codes in a customer's message, in any
// case, with or without the dash.
var codeInText = regexp.MustCompile(`(?i)\b([2-9a-hj-np-tw-z]{4})[- ]?([2-9a-hj-np-tw-z]{4})\b`)

// codesIn returns the distinct codes in s, normalised ("7KQ4-MD2X"),
// leaving out those named as an order's, invoice's or parcel's number.
func codesIn(s string) []string {
	var out []string
	for _, m := range codeInText.FindAllStringSubmatchIndex(s, 8) {
		c := strings.ToUpper(s[m[2]:m[3]] + "-" + s[m[4]:m[5]])
		if hasDigitAndLetter(c) && !slices.Contains(out, c) && !referenceBefore.MatchString(s[max(0, m[0]-24):m[0]]) {
			out = append(out, c)
		}
	}
	return out
}

// referenceBefore ends in words that make the next token a number of the
// customer's ("order number 7KQ4MD2X"), not a verification code. A
// "reference code" someone gave them is checked as a code.
var referenceBefore = regexp.MustCompile(`(?i)(\b(order|invoice|parcel|package|tracking|booking)\b(\s*(no\.?|number|nr\.?|id))?\s*(is|was|:|#)?\s*|#\s*)$`)

// hasDigitAndLetter keeps ordinary words ("customer", "password") and
// numbers from reading as codes: every code has both kinds.
func hasDigitAndLetter(c string) bool {
	return strings.ContainsAny(c, "23456789") && strings.ContainsAny(c, "ABCDEFGHJKMNPQRSTWXYZ")
}

// NormaliseCode returns code as the register keeps it, or "" if it is not
// a code NewCode could have made.
func NormaliseCode(code string) string {
	m := codeInText.FindStringSubmatch(strings.TrimSpace(code))
	if m == nil || len(m[0]) != len(strings.TrimSpace(code)) {
		return ""
	}
	c := strings.ToUpper(m[1] + "-" + m[2])
	if !hasDigitAndLetter(c) {
		return ""
	}
	return c
}

// HashRecipient returns the hex SHA-256 of a recipient as the register
// keeps it: an e-mail address lower-cased, a phone number as its digits
// with a leading +. The shop may send the hash itself, computed the
// same way, and never the address.
func HashRecipient(recipient string) (string, error) {
	r := strings.TrimSpace(recipient)
	var norm string
	switch {
	case strings.Contains(r, "@"):
		a, err := mail.ParseAddress(r)
		if err != nil {
			return "", errors.New("is neither an e-mail address nor a phone number")
		}
		norm = strings.ToLower(a.Address)
	default:
		digits := strings.Map(func(c rune) rune {
			if c >= '0' && c <= '9' {
				return c
			}
			if strings.ContainsRune(" -().+/", c) {
				return -1
			}
			return 'x'
		}, r)
		if strings.ContainsRune(digits, 'x') || len(digits) < 6 || len(digits) > 15 {
			return "", errors.New("is neither an e-mail address nor a phone number")
		}
		norm = "+" + digits
	}
	sum := sha256.Sum256([]byte(norm))
	return hex.EncodeToString(sum[:]), nil
}

// OutboundInput is a message the shop registers as sent
// (POST /v1/outbound).
type OutboundInput struct {
	Channel string `json:"channel"`
	// Recipient is the address or number it went to: shopguard keeps
	// only its hash. Or RecipientHash is that hash (HashRecipient).
	Recipient     string    `json:"recipient,omitempty"`
	RecipientHash string    `json:"recipient_hash,omitempty"`
	UserID        string    `json:"user_id,omitempty"`
	Template      string    `json:"template"`
	Summary       string    `json:"summary,omitempty"`
	Links         []string  `json:"links,omitempty"`
	SentAt        time.Time `json:"sent_at"`
	// Code is the verification code the message carries; empty: one is
	// made (NewCode) for the shop to put in it.
	Code string `json:"code,omitempty"`
}

// OutboundMessage validates in and returns the message to register for
// tenant at now: field errors name the field, links are canonical, the
// recipient is hashed and forgotten, a code is made if none was given.
func (in *OutboundInput) OutboundMessage(tenant string, now time.Time) (storage.OutboundMessage, error) {
	var ps []error
	add := func(e *risk.FieldError) {
		if e != nil {
			ps = append(ps, e)
		}
	}
	m := storage.OutboundMessage{Tenant: tenant, ID: newID("out_"), Channel: in.Channel, UserID: in.UserID,
		Template: in.Template, Summary: in.Summary, CreatedAt: now.UTC().Truncate(time.Microsecond)}
	switch {
	case in.Channel == "":
		add(risk.Missing("channel"))
	case !slices.Contains(storage.OutboundChannels, in.Channel):
		add(risk.Invalid("channel", "%q is not one of %s", in.Channel, strings.Join(storage.OutboundChannels, ", ")))
	}
	switch {
	case in.Recipient != "" && in.RecipientHash != "":
		add(risk.Invalid("recipient_hash", "give recipient or recipient_hash, not both"))
	case in.Recipient != "":
		h, err := HashRecipient(in.Recipient)
		if err != nil {
			add(risk.Invalid("recipient", "%s", err.Error()))
		}
		m.RecipientHash = h
	case in.RecipientHash != "":
		h := strings.ToLower(in.RecipientHash)
		if _, err := hex.DecodeString(h); err != nil || len(h) != 64 {
			add(risk.Invalid("recipient_hash", "is not a hex SHA-256 (64 hex digits)"))
		}
		m.RecipientHash = h
	}
	add(risk.CheckText("user_id", in.UserID, storage.MaxOutboundUserID))
	if in.Template == "" {
		add(risk.Missing("template"))
	} else {
		add(risk.CheckText("template", in.Template, storage.MaxOutboundTemplate))
	}
	if n := utf8.RuneCountInString(in.Summary); n > storage.MaxOutboundSummary {
		add(risk.Invalid("summary", "%d characters; at most %d", n, storage.MaxOutboundSummary))
	} else {
		add(risk.CheckText("summary", in.Summary, 4*storage.MaxOutboundSummary))
	}
	if len(in.Links) > storage.MaxOutboundLinks {
		add(risk.Invalid("links", "%d links; at most %d", len(in.Links), storage.MaxOutboundLinks))
	}
	for i, l := range in.Links {
		u, err := phishing.Parse(l)
		if err != nil || len(l) > storage.MaxOutboundLink {
			add(risk.Invalid(fmt.Sprintf("links[%d]", i), "is not an absolute http(s) URL of at most %d bytes", storage.MaxOutboundLink))
			continue
		}
		if !slices.Contains(m.Links, u.Canonical) {
			m.Links = append(m.Links, u.Canonical)
		}
	}
	switch {
	case in.SentAt.IsZero():
		add(risk.Missing("sent_at"))
	case in.SentAt.After(now.Add(5 * time.Minute)):
		add(risk.Invalid("sent_at", "is in the future"))
	}
	m.SentAt = in.SentAt.UTC().Truncate(time.Microsecond)
	if in.Code == "" {
		m.Code = NewCode()
	} else if m.Code = NormaliseCode(in.Code); m.Code == "" {
		add(risk.Invalid("code", "is not a code of 8 symbols from %s with at least one digit and one letter, as XXXX-XXXX", codeAlphabet))
	}
	if len(ps) > 0 {
		return storage.OutboundMessage{}, errors.Join(ps...)
	}
	return m, nil
}
