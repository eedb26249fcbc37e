package dashboard

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/shopguard/shopguard/internal/phishing"
	"github.com/shopguard/shopguard/internal/storage"
)

// The phishing reports page: links and messages customers reported (from
// the support assistant's chat, the shop's "report" button, or the API)
// and staff's reviews of them, the same reviews as POST
// /v1/phishing/reports/{id}/review.

// PhishingReports keeps phishing reports and their reviews.
type PhishingReports interface {
	PhishingReport(ctx context.Context, tenant, id string) (storage.PhishingReport, error)
	PhishingReports(ctx context.Context, q storage.PhishingReportQuery) ([]storage.PhishingReport, error)
	ReviewPhishingReport(ctx context.Context, v storage.PhishingReview) (storage.PhishingReport, error)
}

// ReportConfirmer acts on a link confirmed as phishing (blocks it for
// the tenant), as the API's review does.
type ReportConfirmer interface {
	ConfirmedPhishingURL(ctx context.Context, tenant string, u phishing.URL, reportID string) error
}

// SetPhishingReports shows the tenant's phishing reports on the Reports
// page, reviewed through reports and, for confirmed links, confirmer.
func (s *Server) SetPhishingReports(reports PhishingReports, confirmer ReportConfirmer) {
	s.reports, s.confirmer = reports, confirmer
}

func (s *Server) reportRoutes() {
	s.mux.HandleFunc("GET "+Prefix+"/reports", s.page(anyone, s.reportsPage))
	s.mux.HandleFunc("POST "+Prefix+"/reports/{id}/review", s.page(anyone, s.reportReview))
}

// reportsView is the Reports page.
type reportsView struct {
	Status   string
	Statuses []string
	Reports  []storage.PhishingReport
	More     bool
}

// reportsPageSize is how many reports a page shows.
const reportsPageSize = 100

func (s *Server) reportsPage(w http.ResponseWriter, r *http.Request, sess *session) {
	if s.reports == nil {
		s.fail(w, r, sess, http.StatusNotFound, "Phishing reports are not available in this shopguard.")
		return
	}
	status := r.URL.Query().Get("status")
	if status == "" {
		status = storage.ReportPending
	}
	v := reportsView{Status: status, Statuses: append([]string{"all"}, storage.ReportStatuses...)}
	if !slices.Contains(v.Statuses, status) {
		s.render(w, http.StatusBadRequest, "reports", view{Title: "Phishing reports", Nav: "reports", User: &sess.user, CSRF: sess.csrf,
			Data: v, Errors: map[string]string{"status": "choose one of the statuses"}})
		return
	}
	q := storage.PhishingReportQuery{Tenant: sess.user.Tenant, Limit: reportsPageSize + 1}
	if status != "all" {
		q.Status = status
	}
	reps, err := s.reports.PhishingReports(r.Context(), q)
	if err != nil {
		s.log.Error("dashboard: phishing reports", "error", err)
		s.fail(w, r, sess, http.StatusServiceUnavailable, "The reports could not be loaded.")
		return
	}
	if len(reps) > reportsPageSize {
		reps, v.More = reps[:reportsPageSize], true
	}
	v.Reports = reps
	s.render(w, http.StatusOK, "reports", view{Title: "Phishing reports", Nav: "reports", User: &sess.user, CSRF: sess.csrf,
		Flash: r.URL.Query().Get("done"), Data: v})
}

// reportReview records staff's review of a pending report: confirmed as
// phishing (a reported link is then blocked for the tenant) or
// legitimate.
func (s *Server) reportReview(w http.ResponseWriter, r *http.Request, sess *session) {
	if s.reports == nil {
		s.fail(w, r, sess, http.StatusNotFound, "Phishing reports are not available in this shopguard.")
		return
	}
	ctx, id := r.Context(), r.PathValue("id")
	outcome := r.PostForm.Get("outcome")
	if outcome != storage.ReportConfirmedPhishing && outcome != storage.ReportLegitimate {
		s.fail(w, r, sess, http.StatusBadRequest, "Choose phishing or legitimate.")
		return
	}
	rep, err := s.reports.PhishingReport(ctx, sess.user.Tenant, id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		s.fail(w, r, sess, http.StatusNotFound, "There is no such report.")
		return
	case err != nil:
		s.log.Error("dashboard: phishing report", "error", err)
		s.fail(w, r, sess, http.StatusServiceUnavailable, "The report could not be loaded.")
		return
	case rep.Status != storage.ReportPending:
		s.fail(w, r, sess, http.StatusConflict, "This report was reviewed already ("+rep.Status+").")
		return
	}
	if s.confirmer != nil && outcome == storage.ReportConfirmedPhishing && rep.Kind == storage.ReportKindURL {
		u, err := phishing.Parse(rep.URL)
		if err == nil {
			err = s.confirmer.ConfirmedPhishingURL(ctx, sess.user.Tenant, u, id)
		}
		if err != nil {
			s.log.Error("dashboard: confirming a phishing link", "report", id, "error", err)
			s.fail(w, r, sess, http.StatusServiceUnavailable, "The link could not be blocked; the report is still pending.")
			return
		}
	}
	_, err = s.reports.ReviewPhishingReport(ctx, storage.PhishingReview{Tenant: sess.user.Tenant, ID: id, Status: outcome,
		By: "user:" + sess.user.Name, At: s.cfg.Now().UTC().Truncate(time.Microsecond)})
	if errors.Is(err, storage.ErrConflict) {
		s.fail(w, r, sess, http.StatusConflict, "This report was reviewed meanwhile.")
		return
	}
	if err != nil {
		s.log.Error("dashboard: reviewing a phishing report", "error", err)
		s.fail(w, r, sess, http.StatusServiceUnavailable, "The review was not saved.")
		return
	}
	s.audit(ctx, sess, "phishing.report.review", id, "reviewed as "+outcome)
	http.Redirect(w, r, Prefix+"/reports?done="+urlQueryEscape(fmt.Sprintf("Report %s reviewed: %s.", id, outcome)), http.StatusSeeOther)
}
