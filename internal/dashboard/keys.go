package dashboard

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/shopguard/shopguard/internal/apikey"
	"github.com/shopguard/shopguard/internal/storage"
)

type keysView struct {
	Keys   []storage.APIKey
	Scopes []apikey.Scope
	// Secret is a key just created: shown once, never again.
	Secret string
	Done   string
}

func (s *Server) keysPage(w http.ResponseWriter, r *http.Request, sess *session) {
	s.renderKeys(w, r, sess, http.StatusOK, keysView{Done: r.URL.Query().Get("done")}, nil)
}

func (s *Server) renderKeys(w http.ResponseWriter, r *http.Request, sess *session, status int, v keysView, errs map[string]string) {
	keys, err := s.store.Keys(r.Context(), sess.user.Tenant)
	if err != nil {
		s.fail(w, r, sess, statusOf(err), "The keys could not be loaded.")
		return
	}
	v.Keys, v.Scopes = keys, apikey.AllScopes
	s.render(w, status, "keys", view{Title: "API keys", Nav: "keys", User: &sess.user, CSRF: sess.csrf, Data: v, Errors: errs})
}

func (s *Server) keyCreate(w http.ResponseWriter, r *http.Request, sess *session) {
	name := strings.TrimSpace(r.PostForm.Get("name"))
	scopes, err := apikey.ParseScopes(r.PostForm["scope"])
	errs := map[string]string{}
	if err != nil || len(scopes) == 0 {
		errs["scope"] = "choose at least one scope"
	}
	if name == "" || len(name) > 100 {
		errs["name"] = "name the key (at most 100 characters), e.g. checkout-service"
	}
	if len(errs) > 0 {
		s.renderKeys(w, r, sess, http.StatusBadRequest, keysView{}, errs)
		return
	}
	secret, rec, err := apikey.New(sess.user.Tenant, name, scopes, s.cfg.Now())
	if err == nil {
		err = s.store.CreateKey(r.Context(), rec)
	}
	if err != nil {
		s.log.Error("dashboard: create key", "error", err)
		s.fail(w, r, sess, statusOf(err), "The key was not created.")
		return
	}
	names := make([]string, len(scopes))
	for i, sc := range scopes {
		names[i] = string(sc)
	}
	s.audit(r.Context(), sess, "key.create", rec.ID, fmt.Sprintf("%s, scopes %s", name, strings.Join(names, " ")))
	s.renderKeys(w, r, sess, http.StatusOK, keysView{Secret: secret}, nil)
}

func (s *Server) keyRevoke(w http.ResponseWriter, r *http.Request, sess *session) {
	id := r.PathValue("id")
	keys, err := s.store.Keys(r.Context(), sess.user.Tenant)
	if err != nil || !slices.ContainsFunc(keys, func(k storage.APIKey) bool { return k.ID == id }) {
		s.fail(w, r, sess, http.StatusNotFound, "There is no such key.")
		return
	}
	if err := s.store.RevokeKey(r.Context(), id, s.cfg.Now()); err != nil && !errors.Is(err, storage.ErrNotFound) {
		s.fail(w, r, sess, statusOf(err), "The key was not revoked.")
		return
	}
	s.audit(r.Context(), sess, "key.revoke", id, "")
	http.Redirect(w, r, Prefix+"/keys?done="+urlQueryEscape("Revoked "+id+". Services using it are refused within a minute."), http.StatusSeeOther)
}
