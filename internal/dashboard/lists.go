package dashboard

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/shopguard/shopguard/internal/engine"
	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/rules"
	"github.com/shopguard/shopguard/internal/storage"
)

type listsView struct {
	Lists   []engine.ListInfo
	Kinds   []rules.ListKind
	Effects []rules.Effect
	Done    string
}

var (
	listKinds   = []rules.ListKind{rules.ListIP, rules.ListEmail, rules.ListEmailDomain, rules.ListCard, rules.ListBIN, rules.ListDevice, rules.ListUser, rules.ListCountry, rules.ListLinkDomain, rules.ListString}
	listEffects = []rules.Effect{rules.EffectNone, rules.EffectAllow, rules.EffectReview, rules.EffectChallenge, rules.EffectBlock}
)

func (s *Server) listsPage(w http.ResponseWriter, r *http.Request, sess *session) {
	ls, err := s.eng.Lists(r.Context(), sess.user.Tenant)
	if err != nil {
		s.fail(w, r, sess, statusOf(err), "The lists could not be loaded.")
		return
	}
	s.render(w, http.StatusOK, "lists", view{Title: "Lists", Nav: "lists", User: &sess.user, CSRF: sess.csrf,
		Data: listsView{Lists: ls, Kinds: listKinds, Effects: listEffects, Done: r.URL.Query().Get("done")}})
}

func (s *Server) listCreate(w http.ResponseWriter, r *http.Request, sess *session) {
	l := rules.List{Name: strings.TrimSpace(r.PostForm.Get("name")), Kind: rules.ListKind(r.PostForm.Get("kind")),
		Effect: rules.Effect(r.PostForm.Get("effect")), Description: strings.TrimSpace(r.PostForm.Get("description"))}
	if err := s.eng.CreateList(r.Context(), sess.user.Tenant, l); err != nil {
		ls, _ := s.eng.Lists(r.Context(), sess.user.Tenant)
		errs := fieldErrors(err)
		if errors.Is(err, storage.ErrConflict) {
			errs["name"] = "a list with this name exists"
		}
		s.render(w, statusOf(err), "lists", view{Title: "Lists", Nav: "lists", User: &sess.user, CSRF: sess.csrf,
			Data: listsView{Lists: ls, Kinds: listKinds, Effects: listEffects}, Errors: errs, Error: "The list was not created."})
		return
	}
	s.audit(r.Context(), sess, "list.create", l.Name, fmt.Sprintf("kind %s, effect %s", l.Kind, l.Effect))
	http.Redirect(w, r, Prefix+"/lists/"+l.Name, http.StatusSeeOther)
}

// fieldErrors maps validation errors to form fields.
func fieldErrors(err error) map[string]string {
	out := map[string]string{}
	for _, e := range unwrapAll(err) {
		var fe *risk.FieldError
		if errors.As(e, &fe) {
			out[fe.Field] = fe.Message
		}
	}
	return out
}

func unwrapAll(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, unwrapAll(e)...)
		}
		return out
	}
	return []error{err}
}

type listView struct {
	Info   engine.ListInfo
	Values []string
	Shown  int
	Done   string
}

func (s *Server) listPage(w http.ResponseWriter, r *http.Request, sess *session) {
	info, values, err := s.eng.List(r.Context(), sess.user.Tenant, r.PathValue("name"))
	if err != nil {
		s.fail(w, r, sess, statusOf(err), "There is no such list.")
		return
	}
	v := listView{Info: info, Values: values, Shown: len(values), Done: r.URL.Query().Get("done")}
	if len(v.Values) > 1000 {
		v.Values = v.Values[:1000]
	}
	s.render(w, http.StatusOK, "list", view{Title: "List " + info.Name, Nav: "lists", User: &sess.user, CSRF: sess.csrf, Data: v})
}

// listEntries adds or removes pasted values (one per line, or separated by
// commas or spaces).
func (s *Server) listEntries(w http.ResponseWriter, r *http.Request, sess *session) {
	name := r.PathValue("name")
	values := strings.FieldsFunc(r.PostForm.Get("values"), func(c rune) bool {
		return c == '\n' || c == '\r' || c == ',' || c == ' ' || c == '\t' || c == ';'
	})
	if len(values) == 0 || len(values) > 100_000 {
		s.fail(w, r, sess, http.StatusBadRequest, "Paste 1 to 100,000 values.")
		return
	}
	remove := r.PostForm.Get("op") == "remove"
	n, err := s.eng.EditEntries(r.Context(), sess.user.Tenant, name, values, remove)
	if err != nil {
		s.fail(w, r, sess, statusOf(err), "The list was not changed: "+err.Error())
		return
	}
	verb := "added"
	if remove {
		verb = "removed"
	}
	s.audit(r.Context(), sess, "list."+strings.TrimSuffix(verb, "d")+"e", name, fmt.Sprintf("%d of %d values %s: %s", n, len(values), verb, preview(values)))
	http.Redirect(w, r, Prefix+"/lists/"+name+"?done="+urlQueryEscape(fmt.Sprintf("%d values %s.", n, verb)), http.StatusSeeOther)
}

func preview(values []string) string {
	if len(values) > 10 {
		return strings.Join(values[:10], ", ") + fmt.Sprintf(", … (%d more)", len(values)-10)
	}
	return strings.Join(values, ", ")
}

func (s *Server) listDelete(w http.ResponseWriter, r *http.Request, sess *session) {
	name := r.PathValue("name")
	if err := s.eng.DeleteList(r.Context(), sess.user.Tenant, name); err != nil {
		s.fail(w, r, sess, statusOf(err), "The list was not deleted: "+err.Error())
		return
	}
	s.audit(r.Context(), sess, "list.delete", name, "")
	http.Redirect(w, r, Prefix+"/lists?done="+urlQueryEscape("Deleted "+name+"."), http.StatusSeeOther)
}

// snoozeLists are the allow lists a false positive's entities go on.
var snoozeLists = map[string]rules.List{
	"user":  {Name: "snoozed-users", Kind: rules.ListUser, Effect: rules.EffectAllow, Description: "customers an analyst cleared after a false positive"},
	"email": {Name: "snoozed-emails", Kind: rules.ListEmail, Effect: rules.EffectAllow, Description: "guest e-mails an analyst cleared after a false positive"},
	"card":  {Name: "snoozed-cards", Kind: rules.ListCard, Effect: rules.EffectAllow, Description: "cards an analyst cleared after a false positive"},
}

// snooze puts the event's customer (or guest e-mail) and card on allow
// lists so that they are not stopped again; it returns how many values
// were added. Removing them from the list ends the snooze.
func (s *Server) snooze(r *http.Request, sess *session, eventID string) (int, error) {
	ev, err := s.eng.Event(r.Context(), sess.user.Tenant, eventID)
	if err != nil {
		return 0, err
	}
	ents := entitiesOf(ev.Payload)
	hasUser := false
	for _, en := range ents {
		hasUser = hasUser || en.Kind == "user"
	}
	total := 0
	for _, en := range ents {
		l, ok := snoozeLists[en.Kind]
		if !ok || (en.Kind == "email" && hasUser) {
			continue
		}
		if err := s.eng.CreateList(r.Context(), sess.user.Tenant, l); err != nil && !errors.Is(err, storage.ErrConflict) {
			return total, err
		}
		n, err := s.eng.EditEntries(r.Context(), sess.user.Tenant, l.Name, []string{en.Value}, false)
		if err != nil {
			return total, err
		}
		total += n
		s.audit(r.Context(), sess, "list.add", l.Name, fmt.Sprintf("%s (snoozed after a false positive on %s)", en.Value, eventID))
	}
	return total, nil
}
