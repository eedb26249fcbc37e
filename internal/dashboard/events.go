package dashboard

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/shopguard/shopguard/internal/engine"
	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/storage"
)

// eventFilter is the events page's filter form.
type eventFilter struct {
	Kind, Action, Entity, From, To, MinScore, MaxScore string
}

type eventsView struct {
	Filter  eventFilter
	Kinds   []risk.EventKind
	Actions []risk.Action
	Events  []storage.Event
	Older   int64 // BeforeSeq for the next page, 0 if none
	Scan    int64
}

const pageSize = 50

// parseFilter reads the filter from the query, returning field errors.
func (s *Server) parseFilter(r *http.Request) (eventFilter, storage.EventSearch, map[string]string) {
	q := r.URL.Query()
	f := eventFilter{Kind: q.Get("kind"), Action: q.Get("action"), Entity: strings.TrimSpace(q.Get("entity")),
		From: q.Get("from"), To: q.Get("to"), MinScore: q.Get("min_score"), MaxScore: q.Get("max_score")}
	search := storage.EventSearch{Limit: pageSize, ScanLimit: s.cfg.ScanLimit}
	errs := map[string]string{}
	if f.Kind != "" {
		k, err := risk.ParseEventKind(f.Kind)
		if err != nil {
			errs["kind"] = "unknown kind"
		}
		search.Kind = k
	}
	if f.Action != "" {
		a, err := risk.ParseAction(f.Action)
		if err != nil {
			errs["action"] = "unknown action"
		}
		search.Actions = []risk.Action{a}
	}
	score := func(field, v string, dst *int) {
		if v == "" {
			return
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 100 {
			errs[field] = "a score from 0 to 100"
			return
		}
		*dst = n
	}
	score("min_score", f.MinScore, &search.MinScore)
	score("max_score", f.MaxScore, &search.MaxScore)
	if f.MaxScore == "0" {
		errs["max_score"] = "a score from 1 to 100" // 0 means no bound to the store
	}
	if search.MaxScore > 0 && search.MinScore > search.MaxScore {
		errs["min_score"] = "at most the maximum score"
	}
	when := func(field, v string, dst *time.Time) {
		if v == "" {
			return
		}
		for _, layout := range []string{"2006-01-02T15:04", time.RFC3339, "2006-01-02"} {
			if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
				*dst = t
				return
			}
		}
		errs[field] = "a time such as 2026-11-22T14:00 (UTC)"
	}
	when("from", f.From, &search.From)
	when("to", f.To, &search.To)
	if len(f.Entity) > 256 {
		errs["entity"] = "at most 256 characters"
	} else if f.Entity != "" {
		search.Contains = needle(f.Entity)
	}
	if b := q.Get("before"); b != "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n <= 0 {
			errs["before"] = "a page cursor"
		}
		search.BeforeSeq = n
	}
	return f, search, errs
}

func (s *Server) events(w http.ResponseWriter, r *http.Request, sess *session) {
	f, search, errs := s.parseFilter(r)
	v := eventsView{Filter: f, Kinds: s.eng.Kinds(), Actions: risk.Actions, Scan: s.cfg.ScanLimit}
	status := http.StatusOK
	if len(errs) == 0 {
		search.Tenant = sess.user.Tenant
		evs, err := s.store.SearchEvents(r.Context(), search)
		if err != nil {
			s.log.Error("dashboard: search events", "error", err)
			s.fail(w, r, sess, http.StatusServiceUnavailable, "The search failed.")
			return
		}
		v.Events = evs
		if len(evs) == pageSize {
			v.Older = evs[len(evs)-1].Seq
		}
	} else {
		status = http.StatusBadRequest
	}
	s.render(w, status, "events", view{Title: "Events", Nav: "events", User: &sess.user, CSRF: sess.csrf, Data: v, Errors: errs})
}

// eventView is one event with everything an analyst needs to judge it.
type eventView struct {
	Event    storage.Event
	Entities []entityHistory
	Case     storage.Case
	Labels   []risk.Label
	Verdicts []verdict
}

type entityHistory struct {
	entity
	Events []storage.Event
}

// verdict is a one-click outcome in the review queue.
type verdict struct {
	Label risk.Label
	Text  string
}

var verdicts = []verdict{
	{risk.LabelLegit, "Approve (legitimate)"},
	{risk.LabelFraud, "Confirm fraud"},
	{risk.LabelFalsePositive, "False positive"},
}

func (s *Server) event(w http.ResponseWriter, r *http.Request, sess *session) {
	ev, err := s.eng.Event(r.Context(), sess.user.Tenant, r.PathValue("id"))
	if errors.Is(err, storage.ErrNotFound) {
		s.fail(w, r, sess, http.StatusNotFound, "There is no such event.")
		return
	}
	if err != nil {
		s.log.Error("dashboard: event", "error", err)
		s.fail(w, r, sess, http.StatusServiceUnavailable, "The event could not be loaded.")
		return
	}
	v := eventView{Event: ev, Labels: risk.Labels, Verdicts: verdicts}
	for _, en := range entitiesOf(ev.Payload) {
		others, err := s.store.SearchEvents(r.Context(), storage.EventSearch{Tenant: sess.user.Tenant, Contains: needle(en.Value),
			Limit: 11, ScanLimit: s.cfg.ScanLimit})
		if err != nil {
			s.log.Error("dashboard: entity history", "error", err)
			continue
		}
		h := entityHistory{entity: en}
		for _, o := range others {
			if o.ID != ev.ID && len(h.Events) < 10 {
				h.Events = append(h.Events, o)
			}
		}
		v.Entities = append(v.Entities, h)
	}
	cases, err := s.store.Cases(r.Context(), sess.user.Tenant, []string{ev.ID})
	if err == nil {
		v.Case = cases[ev.ID]
	}
	s.render(w, http.StatusOK, "event", view{Title: "Event " + ev.ExternalID, Nav: "events", User: &sess.user, CSRF: sess.csrf,
		Flash: r.URL.Query().Get("done"), Data: v})
}

// verdict labels the event through the same feedback path as the API,
// and after a false positive can snooze the customer and card.
func (s *Server) verdict(w http.ResponseWriter, r *http.Request, sess *session) {
	id := r.PathValue("id")
	label, err := risk.ParseLabel(r.PostForm.Get("label"))
	if err != nil {
		s.fail(w, r, sess, http.StatusBadRequest, "Choose a verdict.")
		return
	}
	note := strings.TrimSpace(r.PostForm.Get("note"))
	if len(note) > 2000 {
		s.fail(w, r, sess, http.StatusBadRequest, "The note is longer than 2,000 characters.")
		return
	}
	l, err := s.eng.AddFeedback(r.Context(), sess.user.Tenant, engine.Feedback{EventID: id, Label: string(label),
		Source: "analyst:" + sess.user.Name, Note: note})
	if errors.Is(err, storage.ErrNotFound) {
		s.fail(w, r, sess, http.StatusNotFound, "There is no such event.")
		return
	}
	if err != nil {
		s.log.Error("dashboard: verdict", "error", err)
		s.fail(w, r, sess, http.StatusBadRequest, "The verdict was not saved: "+err.Error())
		return
	}
	s.audit(r.Context(), sess, "verdict", id, fmt.Sprintf("label %s (label id %d)%s", label, l.ID, noteSuffix(note)))
	done := "Verdict saved: " + string(label) + "."
	if label == risk.LabelFalsePositive && r.PostForm.Get("snooze") == "1" {
		n, err := s.snooze(r, sess, id)
		if err != nil {
			s.log.Error("dashboard: snooze", "error", err)
			done += " Snoozing failed: " + err.Error()
		} else if n > 0 {
			done += fmt.Sprintf(" %d entities added to the snooze lists.", n)
		}
	}
	next := r.PostForm.Get("next")
	if next != "review" {
		next = "events/" + id
	}
	http.Redirect(w, r, Prefix+"/"+next+"?done="+urlQueryEscape(done), http.StatusSeeOther)
}

func noteSuffix(note string) string {
	if note == "" {
		return ""
	}
	return ": " + note
}

func (s *Server) assign(w http.ResponseWriter, r *http.Request, sess *session) {
	id := r.PathValue("id")
	if _, err := s.eng.Event(r.Context(), sess.user.Tenant, id); err != nil {
		s.fail(w, r, sess, http.StatusNotFound, "There is no such event.")
		return
	}
	to := r.PostForm.Get("assignee")
	if to == "me" {
		to = sess.user.Name
	}
	if to != "" {
		u, err := s.store.UserByName(r.Context(), to)
		if err != nil || u.Tenant != sess.user.Tenant {
			s.fail(w, r, sess, http.StatusBadRequest, "There is no such user.")
			return
		}
	}
	if err := s.store.AssignCase(r.Context(), sess.user.Tenant, id, to, sess.user.Name, s.cfg.Now()); err != nil {
		s.log.Error("dashboard: assign", "error", err)
		s.fail(w, r, sess, http.StatusServiceUnavailable, "The assignment was not saved.")
		return
	}
	s.audit(r.Context(), sess, "case.assign", id, "assigned to "+cmpOr(to, "nobody"))
	http.Redirect(w, r, Prefix+"/"+backTo(r, id), http.StatusSeeOther)
}

func (s *Server) note(w http.ResponseWriter, r *http.Request, sess *session) {
	id := r.PathValue("id")
	text := strings.TrimSpace(r.PostForm.Get("text"))
	if text == "" || len(text) > 2000 {
		s.fail(w, r, sess, http.StatusBadRequest, "Write a note of 1 to 2,000 characters.")
		return
	}
	if _, err := s.eng.Event(r.Context(), sess.user.Tenant, id); err != nil {
		s.fail(w, r, sess, http.StatusNotFound, "There is no such event.")
		return
	}
	if err := s.store.AddCaseNote(r.Context(), sess.user.Tenant, id, storage.CaseNote{Author: sess.user.Name, Text: text, At: s.cfg.Now()}); err != nil {
		s.log.Error("dashboard: note", "error", err)
		s.fail(w, r, sess, http.StatusServiceUnavailable, "The note was not saved.")
		return
	}
	s.audit(r.Context(), sess, "case.note", id, text)
	http.Redirect(w, r, Prefix+"/"+backTo(r, id), http.StatusSeeOther)
}

func backTo(r *http.Request, id string) string {
	if r.PostForm.Get("next") == "review" {
		return "review"
	}
	return "events/" + id
}

func cmpOr(a, b string) string {
	if a == "" {
		return b
	}
	return a
}

// reviewView is the review queue.
type reviewView struct {
	Cases    []reviewCase
	Verdicts []verdict
	Done     string
}

type reviewCase struct {
	Event storage.Event
	Case  storage.Case
}

func (s *Server) review(w http.ResponseWriter, r *http.Request, sess *session) {
	evs, err := s.store.SearchEvents(r.Context(), storage.EventSearch{Tenant: sess.user.Tenant,
		Actions: []risk.Action{risk.ActionReview}, Unlabelled: true, OldestFirst: true, Limit: 100, ScanLimit: s.cfg.ScanLimit})
	if err != nil {
		s.log.Error("dashboard: review queue", "error", err)
		s.fail(w, r, sess, http.StatusServiceUnavailable, "The review queue could not be loaded.")
		return
	}
	ids := make([]string, len(evs))
	for i, e := range evs {
		ids[i] = e.ID
	}
	cases, err := s.store.Cases(r.Context(), sess.user.Tenant, ids)
	if err != nil {
		s.log.Error("dashboard: cases", "error", err)
	}
	v := reviewView{Verdicts: verdicts, Done: r.URL.Query().Get("done")}
	for _, e := range evs {
		v.Cases = append(v.Cases, reviewCase{Event: e, Case: cases[e.ID]})
	}
	s.render(w, http.StatusOK, "review", view{Title: "Review queue", Nav: "review", User: &sess.user, CSRF: sess.csrf, Data: v})
}
