package api

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/shopguard/shopguard/internal/apikey"
	"github.com/shopguard/shopguard/internal/phishing"
	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/storage"
)

// PhishingStore keeps tenants' phishing profiles and the phishing reports
// of their customers and staff (a storage backend).
type PhishingStore interface {
	PhishingProfile(ctx context.Context, tenant string) (storage.PhishingProfile, error)
	PutPhishingProfile(ctx context.Context, p storage.PhishingProfile) error
	CreatePhishingReport(ctx context.Context, r storage.PhishingReport) error
	PhishingReport(ctx context.Context, tenant, id string) (storage.PhishingReport, error)
	PhishingReports(ctx context.Context, q storage.PhishingReportQuery) ([]storage.PhishingReport, error)
	ReviewPhishingReport(ctx context.Context, v storage.PhishingReview) (storage.PhishingReport, error)
}

// ReportConfirmer acts on a reported link once a review confirms it as
// phishing, typically by listing it on the tenant's block list.
// ConfirmedPhishingURL is called before the review is stored, so that a
// failure leaves the report pending for another try; it must therefore be
// idempotent, and it may (rarely) be called for a report whose review then
// fails because a concurrent review of it was stored first.
type ReportConfirmer interface {
	ConfirmedPhishingURL(ctx context.Context, tenant string, u phishing.URL, reportID string) error
}

// phishingDeps are the optional components of the phishing routes.
type phishingDeps struct {
	store     PhishingStore
	confirmer ReportConfirmer
}

// SetPhishing serves /v1/phishing/profile and /v1/phishing/reports
// (without it, those routes answer 404).
func (s *Server) SetPhishing(p PhishingStore) { s.phishing.store = p }

// SetReportConfirmer makes reviews that confirm a reported link as
// phishing call c (without it, such a review only records the outcome).
func (s *Server) SetReportConfirmer(c ReportConfirmer) { s.phishing.confirmer = c }

// errNoPhishing answers the phishing routes of a server without a store.
var errNoPhishing = newStatusError(http.StatusNotFound, "not_found", "", "phishing profiles and reports are not available in this shopguard")

// Bounds of a listing of phishing reports.
const (
	defaultReportPage = 50
	maxReportPage     = 100
)

// phishingRoutes registers the phishing profile and report routes with
// v1, the helper of routes().
func (s *Server) phishingRoutes(v1 func(pattern string, scope apikey.Scope, h handlerFunc)) {
	v1("GET /v1/phishing/profile", apikey.ScopeRulesRead, needs(&s.phishing.store, errNoPhishing, s.getPhishingProfile))
	v1("PUT /v1/phishing/profile", apikey.ScopeRulesWrite, s.audited("phishing.profile", needs(&s.phishing.store, errNoPhishing, s.putPhishingProfile)))
	v1("POST /v1/phishing/reports", apikey.ScopeEventsWrite, needs(&s.phishing.store, errNoPhishing, s.postPhishingReport))
	v1("GET /v1/phishing/reports", apikey.ScopeEventsRead, needs(&s.phishing.store, errNoPhishing, s.getPhishingReports))
	v1("GET /v1/phishing/reports/{id}", apikey.ScopeEventsRead, needs(&s.phishing.store, errNoPhishing, s.getPhishingReport))
	v1("POST /v1/phishing/reports/{id}/review", apikey.ScopeRulesWrite, s.audited("phishing.report.review", needs(&s.phishing.store, errNoPhishing, s.reviewPhishingReport)))
}

// phishingProfileBody is the request of PUT /v1/phishing/profile.
type phishingProfileBody struct {
	ProtectedDomains []string `json:"protected_domains"`
	SenderNames      []string `json:"sender_names"`
	SendingDomains   []string `json:"sending_domains"`
}

// phishingProfileJSON is a tenant's phishing profile as the API shows it.
type phishingProfileJSON struct {
	ProtectedDomains []string   `json:"protected_domains"`
	SenderNames      []string   `json:"sender_names"`
	SendingDomains   []string   `json:"sending_domains"`
	UpdatedAt        *time.Time `json:"updated_at,omitempty"`
}

func toProfileJSON(p storage.PhishingProfile) phishingProfileJSON {
	orEmpty := func(ss []string) []string {
		if ss == nil {
			return []string{}
		}
		return ss
	}
	return phishingProfileJSON{ProtectedDomains: orEmpty(p.ProtectedDomains), SenderNames: orEmpty(p.SenderNames),
		SendingDomains: orEmpty(p.SendingDomains), UpdatedAt: optTime(p.UpdatedAt)}
}

// validateProfile checks and normalises a profile: protected domains
// become their registered domains, sending domains their ASCII host
// names, sender names are trimmed; repeats are dropped. Every problem is
// a field error naming its field ("protected_domains[2]").
func validateProfile(body phishingProfileBody) (storage.PhishingProfile, error) {
	var ps []error
	var p storage.PhishingProfile
	tooMany := func(field string, n, max int, what string) bool {
		if n > max {
			ps = append(ps, risk.Invalid(field, "has %d %s; at most %d are accepted", n, what, max))
			return true
		}
		return false
	}
	if !tooMany("protected_domains", len(body.ProtectedDomains), storage.MaxProtectedDomains, "domains") {
		for i, d := range body.ProtectedDomains {
			u, err := phishing.Parse(d)
			if err != nil || u.RegisteredDomain == "" || u.IP.IsValid() || len(u.RegisteredDomain) > storage.MaxDomainLen ||
				endsInNumber(u.RegisteredDomain) {
				ps = append(ps, risk.Invalid(fmt.Sprintf("protected_domains[%d]", i), "%q is not a domain name such as shop.example", d))
			} else if !slices.Contains(p.ProtectedDomains, u.RegisteredDomain) {
				p.ProtectedDomains = append(p.ProtectedDomains, u.RegisteredDomain)
			}
		}
	}
	if !tooMany("sender_names", len(body.SenderNames), storage.MaxSenderNames, "names") {
		seen := map[string]bool{}
		for i, n := range body.SenderNames {
			field := fmt.Sprintf("sender_names[%d]", i)
			n = strings.TrimSpace(n)
			switch c := utf8.RuneCountInString(n); {
			case !utf8.ValidString(n):
				ps = append(ps, risk.Invalid(field, "is not valid UTF-8"))
			case c == 0:
				ps = append(ps, risk.Invalid(field, "is empty"))
			case c > storage.MaxSenderNameLen:
				ps = append(ps, risk.Invalid(field, "is %d characters long; at most %d are accepted", c, storage.MaxSenderNameLen))
			case strings.ContainsFunc(n, unicode.IsControl):
				ps = append(ps, risk.Invalid(field, "contains a control character"))
			case !seen[strings.ToLower(n)]:
				seen[strings.ToLower(n)] = true
				p.SenderNames = append(p.SenderNames, n)
			}
		}
	}
	if !tooMany("sending_domains", len(body.SendingDomains), storage.MaxSendingDomains, "domains") {
		for i, d := range body.SendingDomains {
			host, ok := sendingDomain(d)
			if !ok {
				ps = append(ps, risk.Invalid(fmt.Sprintf("sending_domains[%d]", i),
					"%q is not a domain name such as mail.shop.example (no scheme, port or path)", d))
			} else if !slices.Contains(p.SendingDomains, host) {
				p.SendingDomains = append(p.SendingDomains, host)
			}
		}
	}
	return p, errors.Join(ps...)
}

// sendingDomain returns the ASCII host name of d, a bare domain name
// with a registered domain, or false.
func sendingDomain(d string) (string, bool) {
	d = strings.TrimSpace(d)
	if d == "" || strings.ContainsAny(d, "/\\:@?#% \t\r\n") {
		return "", false
	}
	u, err := phishing.Parse(d)
	if err != nil || u.RegisteredDomain == "" || u.IP.IsValid() || len(u.Host) > storage.MaxDomainLen {
		return "", false
	}
	return u.Host, true
}

func (s *Server) getPhishingProfile(w http.ResponseWriter, r *http.Request, key apikey.Key, p PhishingStore) error {
	prof, err := p.PhishingProfile(r.Context(), key.Tenant)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toProfileJSON(prof))
	return nil
}

func (s *Server) putPhishingProfile(w http.ResponseWriter, r *http.Request, key apikey.Key, p PhishingStore) error {
	var body phishingProfileBody
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &body); err != nil {
		return err
	}
	prof, err := validateProfile(body)
	if err != nil {
		return err
	}
	prof.Tenant, prof.UpdatedAt = key.Tenant, s.now().UTC().Truncate(time.Microsecond)
	if err := p.PutPhishingProfile(r.Context(), prof); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toProfileJSON(prof))
	return nil
}

// phishingReportBody is the request of POST /v1/phishing/reports.
type phishingReportBody struct {
	URL        string `json:"url,omitempty"`
	Message    string `json:"message,omitempty"`
	Channel    string `json:"channel,omitempty"`
	Sender     string `json:"sender,omitempty"`
	Reporter   string `json:"reporter"`
	ReporterID string `json:"reporter_id,omitempty"`
	Note       string `json:"note,omitempty"`
}

// phishingReportJSON is a phishing report as the API shows it.
type phishingReportJSON struct {
	ID         string     `json:"id"`
	Kind       string     `json:"kind"`
	URL        string     `json:"url,omitempty"`
	Message    string     `json:"message,omitempty"`
	Channel    string     `json:"channel,omitempty"`
	Sender     string     `json:"sender,omitempty"`
	Reporter   string     `json:"reporter"`
	ReporterID string     `json:"reporter_id,omitempty"`
	Note       string     `json:"note,omitempty"`
	Status     string     `json:"status"`
	CreatedAt  time.Time  `json:"created_at"`
	ReviewedAt *time.Time `json:"reviewed_at,omitempty"`
	ReviewedBy string     `json:"reviewed_by,omitempty"`
}

// phishingReportsJSON is a page of a tenant's reports, newest first.
type phishingReportsJSON struct {
	Reports    []phishingReportJSON `json:"reports"`
	NextCursor string               `json:"next_cursor,omitempty"`
}

// reviewBody is the request of POST /v1/phishing/reports/{id}/review.
type reviewBody struct {
	Status string `json:"status"`
}

func toReportJSON(r storage.PhishingReport) phishingReportJSON {
	return phishingReportJSON{ID: r.ID, Kind: r.Kind, URL: r.URL, Message: r.Message, Channel: r.Channel, Sender: r.Sender,
		Reporter: r.Reporter, ReporterID: r.ReporterID, Note: r.Note, Status: r.Status, CreatedAt: r.CreatedAt,
		ReviewedAt: optTime(r.ReviewedAt), ReviewedBy: r.ReviewedBy}
}

// checkMultiline checks a free-text field that may span lines: valid
// UTF-8, no control character but tab, CR and LF, at most max bytes.
func checkMultiline(field, v string, max int) *risk.FieldError {
	switch {
	case len(v) > max:
		return risk.Invalid(field, "is %d bytes long; at most %d are accepted", len(v), max)
	case !utf8.ValidString(v):
		return risk.Invalid(field, "is not valid UTF-8")
	case strings.ContainsFunc(v, func(r rune) bool { return unicode.IsControl(r) && r != '\t' && r != '\r' && r != '\n' }):
		return risk.Invalid(field, "contains a control character other than a tab or a line break")
	}
	return nil
}

// validateReport checks a report and returns it pending, its URL in
// canonical form, without its tenant, id and time. Every problem is a
// field error naming its field.
func validateReport(body phishingReportBody) (storage.PhishingReport, error) {
	var ps []error
	add := func(fe *risk.FieldError) {
		if fe != nil {
			ps = append(ps, fe)
		}
	}
	rep := storage.PhishingReport{Channel: body.Channel, Sender: body.Sender, Reporter: body.Reporter,
		ReporterID: body.ReporterID, Note: body.Note, Status: storage.ReportPending}
	hasMessage := strings.TrimSpace(body.Message) != ""
	switch {
	case body.URL == "" && !hasMessage:
		add(&risk.FieldError{Field: "url", Code: "missing_field", Message: "give url (a link) or message (a message's text)"})
	case body.URL != "" && body.Message != "":
		add(risk.Invalid("message", "give url or message, not both: report a link and a message as two reports"))
	case body.URL != "":
		rep.Kind = storage.ReportKindURL
		u, err := phishing.Parse(body.URL)
		if err != nil {
			add(risk.Invalid("url", "is not a link shopguard can check: %s", strings.TrimPrefix(err.Error(), phishing.ErrNotURL.Error()+": ")))
		} else {
			rep.URL = u.Canonical
		}
	default:
		rep.Kind, rep.Message = storage.ReportKindMessage, body.Message
		if fe := checkMultiline("message", body.Message, storage.MaxReportMessage); fe != nil {
			add(fe)
		}
	}
	if body.Channel != "" && !slices.Contains(storage.ReportChannels, body.Channel) {
		add(risk.Invalid("channel", "is %q; use one of %s", body.Channel, strings.Join(storage.ReportChannels, ", ")))
	}
	add(risk.CheckText("sender", body.Sender, storage.MaxReportSender))
	switch {
	case body.Reporter == "":
		add(risk.Missing("reporter"))
	case !slices.Contains(storage.Reporters, body.Reporter):
		add(risk.Invalid("reporter", "is %q; use one of %s", body.Reporter, strings.Join(storage.Reporters, ", ")))
	}
	add(risk.CheckText("reporter_id", body.ReporterID, storage.MaxReportReporterID))
	add(checkMultiline("note", body.Note, storage.MaxReportNote))
	return rep, errors.Join(ps...)
}

// newReportID returns a random report id: "rep_" and 16 hex digits.
func (s *Server) postPhishingReport(w http.ResponseWriter, r *http.Request, key apikey.Key, p PhishingStore) error {
	var body phishingReportBody
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &body); err != nil {
		return err
	}
	rep, err := validateReport(body)
	if err != nil {
		return err
	}
	rep.Tenant, rep.CreatedAt = key.Tenant, s.now().UTC().Truncate(time.Microsecond)
	if rep, err = storage.FileReport(r.Context(), p, rep); err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/phishing/reports/"+rep.ID)
	writeJSON(w, http.StatusCreated, toReportJSON(rep))
	return nil
}

func (s *Server) getPhishingReport(w http.ResponseWriter, r *http.Request, key apikey.Key, p PhishingStore) error {
	rep, err := p.PhishingReport(r.Context(), key.Tenant, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toReportJSON(rep))
	return nil
}

// encodeCursor returns the cursor of the page after the report at pos.
func encodeCursor(pos storage.ReportPosition) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(pos.CreatedAt.UnixMicro(), 10) + "." + pos.ID))
}

// decodeCursor reads a cursor encodeCursor made.
func decodeCursor(c string) (storage.ReportPosition, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return storage.ReportPosition{}, false
	}
	us, id, ok := strings.Cut(string(b), ".")
	n, err := strconv.ParseInt(us, 10, 64)
	if !ok || err != nil || n <= 0 || id == "" || len(id) > 64 || !utf8.ValidString(id) {
		return storage.ReportPosition{}, false
	}
	return storage.ReportPosition{CreatedAt: time.UnixMicro(n).UTC(), ID: id}, true
}

// reportQuery reads the query of GET /v1/phishing/reports.
func reportQuery(tenant string, v map[string][]string) (storage.PhishingReportQuery, error) {
	get := func(name string) string {
		if len(v[name]) == 0 {
			return ""
		}
		return v[name][0]
	}
	q := storage.PhishingReportQuery{Tenant: tenant, Status: get("status"), Limit: defaultReportPage}
	var ps []error
	if q.Status != "" && !slices.Contains(storage.ReportStatuses, q.Status) {
		ps = append(ps, risk.Invalid("status", "is %q; use one of %s", q.Status, strings.Join(storage.ReportStatuses, ", ")))
	}
	if l := get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > maxReportPage {
			ps = append(ps, risk.Invalid("limit", "must be a whole number in 1..%d", maxReportPage))
		}
		q.Limit = n
	}
	if c := get("cursor"); c != "" {
		pos, ok := decodeCursor(c)
		if !ok {
			ps = append(ps, risk.Invalid("cursor", "is not a cursor a listing of reports gave (next_cursor)"))
		}
		q.After = pos
	}
	return q, errors.Join(ps...)
}

func (s *Server) getPhishingReports(w http.ResponseWriter, r *http.Request, key apikey.Key, p PhishingStore) error {
	q, err := reportQuery(key.Tenant, r.URL.Query())
	if err != nil {
		return err
	}
	limit := q.Limit
	q.Limit++ // one more tells whether there is a next page
	reps, err := p.PhishingReports(r.Context(), q)
	if err != nil {
		return err
	}
	out := phishingReportsJSON{Reports: make([]phishingReportJSON, 0, min(len(reps), limit))}
	if len(reps) > limit {
		reps = reps[:limit]
		last := reps[limit-1]
		out.NextCursor = encodeCursor(storage.ReportPosition{CreatedAt: last.CreatedAt, ID: last.ID})
	}
	for _, rep := range reps {
		out.Reports = append(out.Reports, toReportJSON(rep))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// validateReview checks the request of a review.
func validateReview(body reviewBody) error {
	switch {
	case body.Status == "":
		return risk.Missing("status")
	case body.Status != storage.ReportConfirmedPhishing && body.Status != storage.ReportLegitimate:
		return risk.Invalid("status", "is %q; use %s or %s", body.Status, storage.ReportConfirmedPhishing, storage.ReportLegitimate)
	}
	return nil
}

func (s *Server) reviewPhishingReport(w http.ResponseWriter, r *http.Request, key apikey.Key, p PhishingStore) error {
	var body reviewBody
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &body); err != nil {
		return err
	}
	if err := validateReview(body); err != nil {
		return err
	}
	ctx, id := r.Context(), r.PathValue("id")
	rep, err := p.PhishingReport(ctx, key.Tenant, id)
	if err != nil {
		return err
	}
	if rep.Status != storage.ReportPending {
		return fmt.Errorf("%w: phishing report %s was reviewed already (%s)", storage.ErrConflict, id, rep.Status)
	}
	confirmed := false
	if c := s.phishing.confirmer; c != nil && body.Status == storage.ReportConfirmedPhishing && rep.Kind == storage.ReportKindURL {
		u, err := phishing.Parse(rep.URL)
		if err != nil {
			return fmt.Errorf("api: stored phishing report %s has a URL that does not parse: %w", id, err)
		}
		if err := c.ConfirmedPhishingURL(ctx, key.Tenant, u, id); err != nil {
			return fmt.Errorf("api: acting on confirmed phishing report %s: %w", id, err)
		}
		confirmed = true
	}
	rep, err = p.ReviewPhishingReport(ctx, storage.PhishingReview{Tenant: key.Tenant, ID: id, Status: body.Status,
		By: author(key), At: s.now().UTC().Truncate(time.Microsecond)})
	if err != nil {
		if confirmed && errors.Is(err, storage.ErrConflict) {
			s.log.Warn("a concurrent review of a phishing report won after its URL was acted on as phishing",
				"tenant", key.Tenant, "report", id, "error", err)
		}
		return err
	}
	writeJSON(w, http.StatusOK, toReportJSON(rep))
	return nil
}

// endsInNumber reports whether a host name's last label is all digits: no
// top-level domain is, and a browser reads such a name ("a.0.0", or the
// "0.0" it would register as) as an IPv4 address.
func endsInNumber(host string) bool {
	last := host[strings.LastIndexByte(host, '.')+1:]
	return last != "" && strings.Trim(last, "0123456789") == ""
}
