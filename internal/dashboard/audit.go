package dashboard

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"time"

	"github.com/shopguard/shopguard/internal/storage"
)

type auditView struct {
	Entries []storage.AuditEntry
	Older   int64
}

func (s *Server) auditPage(w http.ResponseWriter, r *http.Request, sess *session) {
	before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	es, err := s.store.Audit(r.Context(), sess.user.Tenant, before, 100)
	if err != nil {
		s.fail(w, r, sess, statusOf(err), "The audit log could not be loaded.")
		return
	}
	v := auditView{Entries: es}
	if len(es) == 100 {
		v.Older = es[len(es)-1].ID
	}
	s.render(w, http.StatusOK, "audit", view{Title: "Audit log", Nav: "audit", User: &sess.user, CSRF: sess.csrf, Data: v})
}

// auditCSV exports the tenant's whole audit log, newest first.
func (s *Server) auditCSV(w http.ResponseWriter, r *http.Request, sess *session) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="shopguard-audit-`+sess.user.Tenant+`.csv"`)
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"id", "at", "actor", "action", "target", "detail"})
	before := int64(0)
	for {
		es, err := s.store.Audit(r.Context(), sess.user.Tenant, before, 1000)
		if err != nil {
			s.log.Error("dashboard: audit export", "error", err)
			return
		}
		for _, e := range es {
			_ = cw.Write([]string{strconv.FormatInt(e.ID, 10), e.At.UTC().Format(time.RFC3339), csvSafe(e.Actor), e.Action, csvSafe(e.Target), csvSafe(e.Detail)})
		}
		if len(es) < 1000 {
			break
		}
		before = es[len(es)-1].ID
	}
	cw.Flush()
}

// csvSafe stops spreadsheet formula injection: a cell starting with = + -
// @ is prefixed with a quote.
func csvSafe(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@') {
		return "'" + s
	}
	return s
}
