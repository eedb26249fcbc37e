package content

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopguard/shopguard/internal/engine"
	"github.com/shopguard/shopguard/internal/features"
	"github.com/shopguard/shopguard/internal/risk"
)

// Kinds of post.
const (
	KindReview   = "review"
	KindQuestion = "question"
	KindAnswer   = "answer"
	KindComment  = "comment"
	KindListing  = "listing"
	KindProfile  = "profile"
)

// Kinds lists every kind of post, in the order the API documents them.
var Kinds = []string{KindReview, KindQuestion, KindAnswer, KindComment, KindListing, KindProfile}

// Limits of a post's fields, in bytes.
const (
	MaxTextBytes  = 20000
	MaxTitleBytes = 500
	maxIDBytes    = 128
	maxLangBytes  = 35 // a BCP 47 tag
	maxFutureSkew = 24 * time.Hour
)

// Post is what a user posted, as the shop sends it to POST /v1/content
// before publishing it.
type Post struct {
	// ID is the shop's id for the post (unique per tenant).
	ID string `json:"id"`
	// CreatedAt is when the user pressed post (RFC 3339).
	CreatedAt string `json:"created_at"`
	// PostKind is review, question, answer, comment, listing or profile.
	PostKind string `json:"kind"`
	Title    string `json:"title,omitempty"`
	Text     string `json:"text,omitempty"`
	// Language is the post's language if the shop knows it (BCP 47).
	Language string `json:"language,omitempty"`
	// Rating is a review's stars, 1 to 5 (0: none).
	Rating int    `json:"rating,omitempty"`
	Author Author `json:"author"`
	// TargetID is the product or listing the post is about ("" for a
	// profile); ParentID the post an answer or comment replies to.
	TargetID string `json:"target_id,omitempty"`
	ParentID string `json:"parent_id,omitempty"`

	at        time.Time
	createdAt time.Time // the author's account
	ip        netip.Addr
	analysis  *Analysis
	env       *Env
}

// Author is who posted.
type Author struct {
	UserID string `json:"user_id"`
	// CreatedAt is when the author's account was created (RFC 3339).
	CreatedAt string `json:"created_at,omitempty"`
	// VerifiedPurchase is true when the author bought the reviewed product.
	VerifiedPurchase bool   `json:"verified_purchase,omitempty"`
	IP               string `json:"ip,omitempty"`
	DeviceID         string `json:"device_id,omitempty"`
}

// Validate checks every field against now, normalises values and returns
// every problem as joined *risk.FieldError.
func (p *Post) Validate(now time.Time) error {
	errs := p.normalize()
	if !p.at.IsZero() && p.at.After(now.Add(maxFutureSkew)) {
		errs = append(errs, risk.Invalid("created_at", "lies more than 24h in the future"))
	}
	return errors.Join(errs...)
}

// normalize checks and normalises what does not depend on the current
// time; stored payloads are decoded through it again on replay.
func (p *Post) normalize() []error {
	var errs []error
	add := func(e *risk.FieldError) {
		if e != nil {
			errs = append(errs, e)
		}
	}
	if p.ID == "" {
		add(risk.Missing("id"))
	} else {
		add(risk.CheckText("id", p.ID, maxIDBytes))
	}
	var err *risk.FieldError
	p.at, err = risk.ParseTimestamp("created_at", p.CreatedAt, true)
	add(err)
	if err == nil {
		p.CreatedAt = p.at.Format(time.RFC3339Nano)
	}
	knownKind := false
	switch p.PostKind {
	case "":
		add(risk.Missing("kind"))
	case KindReview, KindQuestion, KindAnswer, KindComment, KindListing, KindProfile:
		knownKind = true
	default:
		add(risk.Invalid("kind", "%q is not one of %s", Clip(p.PostKind), strings.Join(Kinds, ", ")))
	}
	add(CheckText("title", p.Title, MaxTitleBytes))
	add(CheckText("text", p.Text, MaxTextBytes))
	if strings.TrimSpace(p.Text) == "" && strings.TrimSpace(p.Title) == "" {
		add(&risk.FieldError{Field: "text", Code: "missing_field", Message: "is required (or a title): a post says something"})
	}
	add(risk.CheckText("language", p.Language, maxLangBytes))
	switch {
	case p.Rating == 0:
	case p.Rating < 1 || p.Rating > 5:
		add(risk.Invalid("rating", "is %d; ratings are 1 to 5 stars (leave it out for none)", p.Rating))
	case knownKind && p.PostKind != KindReview:
		add(risk.Invalid("rating", "only a review has a rating, not a %s", p.PostKind))
	}
	if p.Author.UserID == "" {
		add(risk.Missing("author.user_id"))
	} else {
		add(risk.CheckText("author.user_id", p.Author.UserID, maxIDBytes))
	}
	p.createdAt, err = risk.ParseTimestamp("author.created_at", p.Author.CreatedAt, false)
	add(err)
	if err == nil && !p.createdAt.IsZero() {
		p.Author.CreatedAt = p.createdAt.Format(time.RFC3339Nano)
	}
	p.Author.IP = strings.TrimSpace(p.Author.IP)
	p.ip, err = risk.ParseIP("author.ip", p.Author.IP, false)
	add(err)
	if p.ip.IsValid() {
		p.Author.IP = p.ip.String()
	}
	add(risk.CheckText("author.device_id", p.Author.DeviceID, maxIDBytes))
	add(risk.CheckText("target_id", p.TargetID, maxIDBytes))
	add(risk.CheckText("parent_id", p.ParentID, maxIDBytes))
	if p.PostKind == KindReview && p.TargetID == "" {
		add(&risk.FieldError{Field: "target_id", Code: "missing_field", Message: "is required for a review: the product it reviews"})
	}
	return errs
}

// CheckText checks a post's free text: valid UTF-8, at most max
// bytes, and no control characters other than tab, line feed and carriage
// return (invisible and bidi characters are allowed: they are signals).
func CheckText(field, v string, max int) *risk.FieldError {
	if len(v) > max {
		return risk.Invalid(field, "is %d bytes long; at most %d are accepted", len(v), max)
	}
	for i, r := range v {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(v[i:]); size == 1 {
				return risk.Invalid(field, "is not valid UTF-8 (byte %d)", i)
			}
		}
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f || r >= 0x80 && r < 0xa0 {
			return risk.Invalid(field, "contains the control character U+%04X at byte %d: post text, not binary data", r, i)
		}
	}
	return nil
}

// Clip shortens a caller's value for an error message (40 bytes and an
// ellipsis at most, cut at a rune boundary).
func Clip(s string) string {
	if len(s) <= 40 {
		return s
	}
	i := 40
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

var (
	_ engine.Kind  = Kind{}
	_ engine.Input = (*Post)(nil)
)

// Kind registers posts with the engine.
type Kind struct{}

// Kind returns risk.EventContent.
func (Kind) Kind() risk.EventKind { return risk.EventContent }

// NewEnv returns a new, fully allocated *Env.
func (Kind) NewEnv() any { return NewEnv() }

// Decode parses a stored post without the time-dependent checks. A
// decoded post carries no analysis: its environment, stored with the
// event, is what backtests read.
func (Kind) Decode(payload []byte) (engine.Input, error) {
	var p Post
	if err := json.Unmarshal(payload, &p); err != nil {
		return nil, fmt.Errorf("content: decode post: %w", err)
	}
	if err := errors.Join(p.normalize()...); err != nil {
		return nil, fmt.Errorf("content: decode post: %w", err)
	}
	return &p, nil
}

// Kind returns risk.EventContent.
func (p *Post) Kind() risk.EventKind { return risk.EventContent }

// ExternalID returns the shop's id for the post.
func (p *Post) ExternalID() string { return p.ID }

// OccurredAt returns created_at.
func (p *Post) OccurredAt() time.Time { return p.at }

// Money returns nothing: a post involves no money.
func (p *Post) Money() (int64, string) { return 0, "" }

// LabelScope returns "": posts keep no label counts (moderators' verdicts
// are training labels for the text models).
func (p *Post) LabelScope() string { return "" }

// Entities appends what lists are matched against: the author, IP,
// network and device, and the registered domains of the post's links.
func (p *Post) Entities(buf []risk.Entity) []risk.Entity {
	buf = append(buf, risk.Entity{Kind: risk.EntityUser, Value: p.Author.UserID})
	if p.ip.IsValid() {
		buf = append(buf, risk.Entity{Kind: risk.EntityIP, Value: p.Author.IP}, risk.Entity{Kind: risk.EntityIPPrefix, Value: risk.IPPrefix(p.ip)})
	}
	if p.Author.DeviceID != "" {
		buf = append(buf, risk.Entity{Kind: risk.EntityDevice, Value: p.Author.DeviceID})
	}
	if p.analysis != nil {
		for _, l := range p.analysis.Links {
			if l.RegisteredDomain != "" {
				buf = append(buf, risk.Entity{Kind: EntityLinkDomain, Value: l.RegisteredDomain})
			}
		}
	}
	return buf
}

// EntityLinkDomain is the entity kind of a post's links' registered
// domains (a list of kind link_domain blocks or allows them).
const EntityLinkDomain risk.EntityKind = "link_domain"

// Feature-store entity kinds of posts.
const (
	entityTarget       risk.EntityKind = "target"
	entityTargetRating risk.EntityKind = "target_rating"
	entityShingleBand  risk.EntityKind = "shingle_band"
)

// post slots, in Observations order; the bands follow.
const (
	slotAuthor = iota
	slotIP
	slotIPPrefix
	slotDevice
	slotTarget
	slotTargetRating
	numSlots
)

// keys returns the post's feature-store keys (an empty Value: none).
func (p *Post) keys(tenant string) [numSlots]features.Key {
	k := func(kind risk.EntityKind, v string) features.Key {
		return features.Key{Tenant: tenant, Scope: string(risk.EventContent), Kind: kind, Value: v}
	}
	var rating string
	if p.Rating != 0 && p.TargetID != "" {
		rating = p.TargetID + "|" + strconv.Itoa(p.Rating)
	}
	return [numSlots]features.Key{
		slotAuthor: k(risk.EntityUser, p.Author.UserID), slotIP: k(risk.EntityIP, p.Author.IP),
		slotIPPrefix: k(risk.EntityIPPrefix, risk.IPPrefix(p.ip)), slotDevice: k(risk.EntityDevice, p.Author.DeviceID),
		slotTarget: k(entityTarget, p.TargetID), slotTargetRating: k(entityTargetRating, rating),
	}
}

// bands returns the post's near-duplicate band keys: of the analysis
// when there is one, else computed (a replayed post).
func (p *Post) bands() []uint64 {
	if p.analysis != nil {
		return p.analysis.Bands
	}
	return Bands(Normalize(p.Title+"\n"+p.Text).Text, nil)
}

// Observations appends the post's feature-store observations: per author
// (distinct targets), IP, network, device and target (distinct authors),
// target and rating
// (a burst of one star rating), and one per near-duplicate band (distinct
// authors: a campaign of pasted reviews).
func (p *Post) Observations(tenant string, buf []features.Observation) []features.Observation {
	author := features.Dim{Kind: risk.EntityUser, Value: p.Author.UserID}
	day := features.Windows(features.W1h, features.W24h)
	for slot, k := range p.keys(tenant) {
		if k.Value == "" {
			continue
		}
		o := features.Observation{Key: k, DistinctWindows: day}
		switch slot {
		case slotAuthor:
			o.Distinct[0] = features.Dim{Kind: entityTarget, Value: p.TargetID}
		default:
			o.Distinct[0] = author
		}
		buf = append(buf, o)
	}
	// The bands' keys, in base 36, cut from one string.
	bands := p.bands()
	var digits []byte
	ends := make([]int, len(bands))
	for i, b := range bands {
		digits = strconv.AppendUint(digits, b, 36)
		ends[i] = len(digits)
	}
	all, start := string(digits), 0
	for i := range bands {
		buf = append(buf, features.Observation{Key: features.Key{Tenant: tenant, Scope: string(risk.EventContent), Kind: entityShingleBand,
			Value: all[start:ends[i]]}, Distinct: [features.MaxDistinct]features.Dim{author}, DistinctWindows: day})
		start = ends[i]
	}
	return buf
}
