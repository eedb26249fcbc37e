package dashboard

import (
	"errors"
	"net/http"
	"strings"

	"github.com/shopguard/shopguard/internal/storage"
)

type usersView struct {
	Users []storage.User
	Roles []string
	// Password is a new user's password: shown once.
	Password, NewUser string
	Done              string
}

func (s *Server) usersPage(w http.ResponseWriter, r *http.Request, sess *session) {
	s.renderUsers(w, r, sess, http.StatusOK, usersView{Done: r.URL.Query().Get("done")}, nil)
}

func (s *Server) renderUsers(w http.ResponseWriter, r *http.Request, sess *session, status int, v usersView, errs map[string]string) {
	us, err := s.store.Users(r.Context(), sess.user.Tenant)
	if err != nil {
		s.fail(w, r, sess, statusOf(err), "The users could not be loaded.")
		return
	}
	v.Users, v.Roles = us, Roles
	s.render(w, status, "users", view{Title: "Users", Nav: "users", User: &sess.user, CSRF: sess.csrf, Data: v, Errors: errs})
}

func (s *Server) userCreate(w http.ResponseWriter, r *http.Request, sess *session) {
	name, role := strings.TrimSpace(r.PostForm.Get("name")), r.PostForm.Get("role")
	password := NewPassword()
	u, err := NewUser(name, sess.user.Tenant, role, password, s.cfg.Now())
	if err == nil {
		err = s.store.CreateUser(r.Context(), u)
	}
	switch {
	case errors.Is(err, ErrInvalidUser):
		field := "name"
		if strings.Contains(err.Error(), "role") {
			field = "role"
		}
		s.renderUsers(w, r, sess, http.StatusBadRequest, usersView{}, map[string]string{field: err.Error()})
		return
	case errors.Is(err, storage.ErrConflict):
		s.renderUsers(w, r, sess, http.StatusConflict, usersView{}, map[string]string{"name": "this name is taken"})
		return
	case err != nil:
		s.fail(w, r, sess, statusOf(err), "The user was not created.")
		return
	}
	s.audit(r.Context(), sess, "user.create", name, "role "+role)
	s.renderUsers(w, r, sess, http.StatusOK, usersView{Password: password, NewUser: name}, nil)
}

func (s *Server) userDisable(w http.ResponseWriter, r *http.Request, sess *session) {
	name := r.PathValue("name")
	u, err := s.store.UserByName(r.Context(), name)
	if err != nil || u.Tenant != sess.user.Tenant {
		s.fail(w, r, sess, http.StatusNotFound, "There is no such user.")
		return
	}
	if name == sess.user.Name {
		s.fail(w, r, sess, http.StatusBadRequest, "You cannot disable yourself.")
		return
	}
	u.DisabledAt = s.cfg.Now()
	if err := s.store.UpdateUser(r.Context(), u); err != nil {
		s.fail(w, r, sess, statusOf(err), "The user was not disabled.")
		return
	}
	if err := s.store.DeleteUserSessions(r.Context(), name); err != nil {
		s.log.Error("dashboard: sign out disabled user", "error", err)
	}
	s.audit(r.Context(), sess, "user.disable", name, "")
	http.Redirect(w, r, Prefix+"/users?done="+urlQueryEscape("Disabled "+name+" and ended their sessions."), http.StatusSeeOther)
}
