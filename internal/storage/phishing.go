package storage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"
)

// Bounds of a tenant's phishing profile.
const (
	// MaxProtectedDomains bounds PhishingProfile.ProtectedDomains.
	MaxProtectedDomains = 50
	// MaxSenderNames bounds PhishingProfile.SenderNames.
	MaxSenderNames = 20
	// MaxSenderNameLen bounds one sender name, in characters.
	MaxSenderNameLen = 100
	// MaxSendingDomains bounds PhishingProfile.SendingDomains.
	MaxSendingDomains = 50
	// MaxDomainLen bounds one domain name, in bytes (as DNS does).
	MaxDomainLen = 253
)

// Bounds of a phishing report's fields, in bytes.
const (
	// MaxReportURL bounds PhishingReport.URL (the canonical URL).
	MaxReportURL = 8192
	// MaxReportMessage bounds PhishingReport.Message (64 KiB).
	MaxReportMessage = 64 << 10
	// MaxReportSender bounds PhishingReport.Sender (an e-mail address,
	// a phone number, a chat handle).
	MaxReportSender = 320
	// MaxReportReporterID bounds PhishingReport.ReporterID.
	MaxReportReporterID = 128
	// MaxReportNote bounds PhishingReport.Note.
	MaxReportNote = 2000
	// MaxReportReviewer bounds PhishingReport.ReviewedBy.
	MaxReportReviewer = 128
)

// Phishing-report kinds: what is reported.
const (
	// ReportKindURL reports a link; PhishingReport.URL holds it.
	ReportKindURL = "url"
	// ReportKindMessage reports a message (an e-mail, a text, a chat
	// message); PhishingReport.Message holds its text.
	ReportKindMessage = "message"
)

// Phishing-report statuses: a report is pending until reviewed, then
// confirmed as phishing or found legitimate, once.
const (
	ReportPending           = "pending"
	ReportConfirmedPhishing = "confirmed_phishing"
	ReportLegitimate        = "legitimate"
)

// Phishing reporters: who made a report.
const (
	// ReporterCustomer is one of the shop's customers.
	ReporterCustomer = "customer"
	// ReporterStaff is the shop's own staff.
	ReporterStaff = "staff"
)

// Phishing-report channels: where the reported link or message arrived.
const (
	ChannelEmail = "email"
	ChannelSMS   = "sms"
	ChannelChat  = "chat"
)

// The values each enumerated field of a phishing report may take, in the
// order documentation lists them.
var (
	ReportKinds    = []string{ReportKindURL, ReportKindMessage}
	ReportStatuses = []string{ReportPending, ReportConfirmedPhishing, ReportLegitimate}
	Reporters      = []string{ReporterCustomer, ReporterStaff}
	ReportChannels = []string{ChannelEmail, ChannelSMS, ChannelChat}
)

// ErrInvalidPhishingProfile means a phishing profile breaks its bounds.
var ErrInvalidPhishingProfile = errors.New("storage: invalid phishing profile")

// ErrInvalidPhishingReport means a phishing report, or a review of one,
// has a field out of its bounds or an unknown value.
var ErrInvalidPhishingReport = errors.New("storage: invalid phishing report")

// PhishingProfile is what a tenant tells shopguard about itself to judge
// phishing aimed at its customers: the domains a link must not imitate
// and how the shop really sends its messages. Callers normalise the
// values before storing them (domains as lower-case ASCII); backends keep
// them as given, in order, and give empty lists back as nil.
type PhishingProfile struct {
	Tenant string
	// ProtectedDomains are the shop's own and brand registered domains
	// ("northwind.shop"), which links must not imitate.
	ProtectedDomains []string
	// SenderNames are the display names the shop's messages are sent
	// under ("Northwind", "Northwind Support"); a message from another
	// domain under one of them spoofs the shop.
	SenderNames []string
	// SendingDomains are the domains the shop really sends from
	// ("northwind.shop", "mail.northwind.shop").
	SendingDomains []string
	// UpdatedAt is when the profile was last put; zero when it never was.
	UpdatedAt time.Time
}

// Validate reports whether p keeps its bounds: at most
// MaxProtectedDomains protected and MaxSendingDomains sending domains,
// each 1 to MaxDomainLen bytes, and at most MaxSenderNames sender names,
// each 1 to MaxSenderNameLen characters of valid UTF-8. The error wraps
// ErrInvalidPhishingProfile.
func (p *PhishingProfile) Validate() error {
	for _, l := range []struct {
		name   string
		values []string
		max    int
	}{{"protected domains", p.ProtectedDomains, MaxProtectedDomains}, {"sending domains", p.SendingDomains, MaxSendingDomains}} {
		if len(l.values) > l.max {
			return fmt.Errorf("%w: %d %s, at most %d", ErrInvalidPhishingProfile, len(l.values), l.name, l.max)
		}
		for _, d := range l.values {
			if d == "" || len(d) > MaxDomainLen {
				return fmt.Errorf("%w: %s: %q is not 1-%d bytes", ErrInvalidPhishingProfile, l.name, d, MaxDomainLen)
			}
		}
	}
	if len(p.SenderNames) > MaxSenderNames {
		return fmt.Errorf("%w: %d sender names, at most %d", ErrInvalidPhishingProfile, len(p.SenderNames), MaxSenderNames)
	}
	for _, n := range p.SenderNames {
		if c := utf8.RuneCountInString(n); c == 0 || c > MaxSenderNameLen || !utf8.ValidString(n) {
			return fmt.Errorf("%w: sender name %q is not 1-%d characters of UTF-8", ErrInvalidPhishingProfile, n, MaxSenderNameLen)
		}
	}
	return nil
}

// PhishingReport is a link or a message that a customer or the shop's
// staff reported as phishing, and its review. Reports confirmed as
// phishing feed the tenant's block list; reviewed reports of either
// outcome are labels for training.
type PhishingReport struct {
	Tenant string
	// ID is the report's public identifier ("rep_" and 16 hex digits),
	// unique per tenant.
	ID string
	// Kind is ReportKindURL or ReportKindMessage.
	Kind string
	// URL is the reported link in canonical form (Kind url only).
	URL string
	// Message is the reported message's text (Kind message only).
	Message string
	// Channel is where the link or message arrived (ChannelEmail,
	// ChannelSMS, ChannelChat), or "" when not told.
	Channel string
	// Sender is who sent it (an address, a number), or "".
	Sender string
	// Reporter is ReporterCustomer or ReporterStaff; ReporterID is the
	// customer's user id (or the staff member's), or "".
	Reporter   string
	ReporterID string
	// Note is the reporter's free text, or "".
	Note      string
	CreatedAt time.Time
	// Status is ReportPending until the report is reviewed, then
	// ReportConfirmedPhishing or ReportLegitimate.
	Status string
	// ReviewedAt and ReviewedBy say when and by whom ("api key sgk_...",
	// "user:ana") it was reviewed; zero and "" while pending.
	ReviewedAt time.Time
	ReviewedBy string
}

// Validate reports whether r is a report that can be created: an ID and
// a creation time, a known kind with its content (a URL of at most
// MaxReportURL bytes for url, a message of 1 to MaxReportMessage bytes
// for message, never both), a known reporter, a known channel or none,
// fields within their bounds, valid UTF-8, and the pending status
// without a review. The error wraps ErrInvalidPhishingReport.
func (r *PhishingReport) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidPhishingReport, fmt.Sprintf(format, args...))
	}
	switch {
	case r.ID == "" || len(r.ID) > 64:
		return bad("id %q is not 1-64 bytes", r.ID)
	case r.CreatedAt.IsZero():
		return bad("no creation time")
	case r.Kind == ReportKindURL && (r.URL == "" || len(r.URL) > MaxReportURL || r.Message != ""):
		return bad("a url report has a URL of 1-%d bytes and no message", MaxReportURL)
	case r.Kind == ReportKindMessage && (r.Message == "" || len(r.Message) > MaxReportMessage || r.URL != ""):
		return bad("a message report has a message of 1-%d bytes and no URL", MaxReportMessage)
	case r.Kind != ReportKindURL && r.Kind != ReportKindMessage:
		return bad("kind %q is not one of %v", r.Kind, ReportKinds)
	case r.Channel != "" && !slices.Contains(ReportChannels, r.Channel):
		return bad("channel %q is not one of %v", r.Channel, ReportChannels)
	case !slices.Contains(Reporters, r.Reporter):
		return bad("reporter %q is not one of %v", r.Reporter, Reporters)
	case len(r.Sender) > MaxReportSender:
		return bad("sender is %d bytes, at most %d", len(r.Sender), MaxReportSender)
	case len(r.ReporterID) > MaxReportReporterID:
		return bad("reporter id is %d bytes, at most %d", len(r.ReporterID), MaxReportReporterID)
	case len(r.Note) > MaxReportNote:
		return bad("note is %d bytes, at most %d", len(r.Note), MaxReportNote)
	case r.Status != ReportPending || !r.ReviewedAt.IsZero() || r.ReviewedBy != "":
		return bad("a new report is %s and not reviewed", ReportPending)
	}
	for _, s := range []string{r.ID, r.URL, r.Message, r.Sender, r.ReporterID, r.Note} {
		if !utf8.ValidString(s) {
			return bad("a field is not valid UTF-8")
		}
	}
	return nil
}

// PhishingReview is the outcome of a report's review.
type PhishingReview struct {
	Tenant string
	ID     string
	// Status is ReportConfirmedPhishing or ReportLegitimate.
	Status string
	// By names the reviewer (1 to MaxReportReviewer bytes); At is when.
	By string
	At time.Time
}

// Validate reports whether v has a reviewed status, a reviewer of 1 to
// MaxReportReviewer bytes and a time; the error wraps
// ErrInvalidPhishingReport.
func (v *PhishingReview) Validate() error {
	switch {
	case v.Status != ReportConfirmedPhishing && v.Status != ReportLegitimate:
		return fmt.Errorf("%w: a review's status is %s or %s, not %q", ErrInvalidPhishingReport, ReportConfirmedPhishing, ReportLegitimate, v.Status)
	case v.By == "" || len(v.By) > MaxReportReviewer:
		return fmt.Errorf("%w: reviewer %q is not 1-%d bytes", ErrInvalidPhishingReport, v.By, MaxReportReviewer)
	case v.At.IsZero():
		return fmt.Errorf("%w: a review has no time", ErrInvalidPhishingReport)
	}
	return nil
}

// ReportPosition is a report's place in a tenant's listing, newest
// first: by CreatedAt, then ID, both descending.
type ReportPosition struct {
	CreatedAt time.Time
	ID        string
}

// IsZero reports whether p is the zero position (the start of a listing).
func (p ReportPosition) IsZero() bool { return p.CreatedAt.IsZero() && p.ID == "" }

// Before reports whether a report at p is listed before one at q
// (it is newer, or as new with a greater ID).
func (p ReportPosition) Before(q ReportPosition) bool {
	if c := p.CreatedAt.Compare(q.CreatedAt); c != 0 {
		return c > 0
	}
	return p.ID > q.ID
}

// PhishingReportQuery selects a page of a tenant's reports.
type PhishingReportQuery struct {
	Tenant string
	// Status, if set, keeps only reports with it.
	Status string
	// After, if set, keeps only reports listed after it (the position
	// of the last report of the previous page).
	After ReportPosition
	// Limit caps the number of reports (0 = no limit).
	Limit int
}

// PhishingProfileStore keeps tenants' phishing profiles.
type PhishingProfileStore interface {
	// PhishingProfile returns the tenant's profile; a tenant that never
	// put one gets the zero profile (with Tenant set), not an error.
	PhishingProfile(ctx context.Context, tenant string) (PhishingProfile, error)
	// PutPhishingProfile stores p as its tenant's profile, replacing the
	// earlier one. An invalid profile is an error wrapping
	// ErrInvalidPhishingProfile.
	PutPhishingProfile(ctx context.Context, p PhishingProfile) error
}

// ReportCreator is what FileReport needs of storage.
type ReportCreator interface {
	CreatePhishingReport(ctx context.Context, r PhishingReport) error
}

// FileReport stores r as a new report under a fresh random id ("rep_" and
// 64 random bits, in hex) and returns it as stored. An id that clashes
// with one of the tenant's (next to impossible) is drawn again.
func FileReport(ctx context.Context, st ReportCreator, r PhishingReport) (PhishingReport, error) {
	var err error
	for range 3 {
		var b [8]byte
		_, _ = rand.Read(b[:])
		r.ID = "rep_" + hex.EncodeToString(b[:])
		if err = st.CreatePhishingReport(ctx, r); !errors.Is(err, ErrConflict) {
			break
		}
	}
	if err != nil {
		return PhishingReport{}, err
	}
	return r, nil
}

// PhishingReportStore keeps phishing reports and their reviews.
type PhishingReportStore interface {
	// CreatePhishingReport stores a new report; ErrConflict if the tenant
	// has one with its ID, an error wrapping ErrInvalidPhishingReport if
	// r.Validate fails.
	CreatePhishingReport(ctx context.Context, r PhishingReport) error
	// PhishingReport returns the tenant's report id, or ErrNotFound.
	PhishingReport(ctx context.Context, tenant, id string) (PhishingReport, error)
	// PhishingReports returns a page of the tenant's reports matching q,
	// newest first (by CreatedAt, then ID, descending).
	PhishingReports(ctx context.Context, q PhishingReportQuery) ([]PhishingReport, error)
	// ReviewPhishingReport sets the status of a pending report once and
	// returns the report as reviewed: ErrNotFound if the tenant has no
	// such report, ErrConflict if it was reviewed already (of two
	// concurrent reviews one gets it), an error wrapping
	// ErrInvalidPhishingReport if v.Validate fails.
	ReviewPhishingReport(ctx context.Context, v PhishingReview) (PhishingReport, error)
	// ReviewedPhishingReports calls fn for every reviewed report (either
	// outcome: both are labels for training) of the tenant, or of every
	// tenant when tenant is "", in order of ReviewedAt, then Tenant and
	// ID, stopping at the first error fn returns. fn must not keep the
	// report after it returns: backends reuse it.
	ReviewedPhishingReports(ctx context.Context, tenant string, fn func(*PhishingReport) error) error
}
