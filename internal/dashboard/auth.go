package dashboard

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/shopguard/shopguard/internal/storage"
)

// Roles. Admins change rules, lists, keys and users; analysts review
// cases and label events. Both see everything of their tenant.
const (
	RoleAdmin   = "admin"
	RoleAnalyst = "analyst"
)

// Roles lists the valid roles.
var Roles = []string{RoleAdmin, RoleAnalyst}

const (
	sessionCookie = "sg_dashboard"
	minPassword   = 12
)

var userNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._@-]{1,63}$`)

// ErrInvalidUser wraps the reasons NewUser refuses a user.
var ErrInvalidUser = errors.New("dashboard: invalid user")

// NewUser validates a new dashboard user and hashes the password.
func NewUser(name, tenant, role, password string, now time.Time) (storage.User, error) {
	switch {
	case !userNameRE.MatchString(name):
		return storage.User{}, fmt.Errorf("%w: name %q: use 2-64 lower-case letters, digits and . _ @ -", ErrInvalidUser, name)
	case tenant == "":
		return storage.User{}, fmt.Errorf("%w: tenant is required", ErrInvalidUser)
	case !slices.Contains(Roles, role):
		return storage.User{}, fmt.Errorf("%w: role %q: use admin or analyst", ErrInvalidUser, role)
	case len(password) < minPassword || len(password) > 72:
		return storage.User{}, fmt.Errorf("%w: password: use %d to 72 characters", ErrInvalidUser, minPassword)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return storage.User{}, fmt.Errorf("dashboard: hash password: %w", err)
	}
	return storage.User{Name: name, Tenant: tenant, Role: role, PasswordHash: string(hash), CreatedAt: now}, nil
}

// NewPassword returns a random password of 20 characters.
func NewPassword() string {
	b := make([]byte, 15)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// session is a signed-in request's user and session.
type session struct {
	user   storage.User
	idHash string
	csrf   string
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// current returns the request's session, if it has a valid one.
func (s *Server) current(r *http.Request) (*session, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || len(c.Value) < 20 || len(c.Value) > 100 {
		return nil, false
	}
	idHash := hashToken(c.Value)
	se, err := s.store.Session(r.Context(), idHash)
	if err != nil || !se.ExpiresAt.After(s.cfg.Now()) {
		return nil, false
	}
	u, err := s.store.UserByName(r.Context(), se.UserName)
	if err != nil || !u.DisabledAt.IsZero() || u.Tenant != se.Tenant {
		return nil, false
	}
	return &session{user: u, idHash: idHash, csrf: se.CSRF}, true
}

// page wraps a handler: it needs a session (else sign-in), the role if one
// is named, and on POST a valid CSRF token.
func (s *Server) page(role string, h func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess, ok := s.current(r)
		if !ok {
			if r.Method == http.MethodGet && r.URL.Path != Prefix+"/live" {
				http.Redirect(w, r, Prefix+"/signin?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			s.fail(w, r, nil, http.StatusUnauthorized, "Your session has ended. Sign in again.")
			return
		}
		if r.Method == http.MethodPost {
			if err := r.ParseForm(); err != nil {
				s.fail(w, r, sess, http.StatusBadRequest, "The form could not be read.")
				return
			}
			if subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf")), []byte(sess.csrf)) != 1 {
				s.fail(w, r, sess, http.StatusForbidden, "The form had expired or did not come from this dashboard. Reload the page and try again.")
				return
			}
		}
		if role != anyone && sess.user.Role != role {
			s.fail(w, r, sess, http.StatusForbidden, "Only an admin can do that.")
			return
		}
		h(w, r, sess)
	}
}

func (s *Server) signInPage(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.current(r); ok {
		http.Redirect(w, r, Prefix+"/", http.StatusSeeOther)
		return
	}
	s.render(w, http.StatusOK, "signin", view{Title: "Sign in", Data: signInView{Next: safeNext(r.URL.Query().Get("next"))}})
}

type signInView struct {
	Name, Next string
}

// safeNext keeps a redirect target inside the dashboard.
func safeNext(next string) string {
	if strings.HasPrefix(next, Prefix+"/") && !strings.ContainsAny(next, "\\\r\n") {
		return next
	}
	return Prefix + "/"
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.render(w, http.StatusBadRequest, "signin", view{Title: "Sign in", Error: "The form could not be read."})
		return
	}
	name, password := r.PostForm.Get("name"), r.PostForm.Get("password")
	next := safeNext(r.PostForm.Get("next"))
	v := view{Title: "Sign in", Data: signInView{Name: name, Next: next}}
	ip := clientIP(r)
	if wait := max(s.limiter.blocked("ip:"+ip), s.limiter.blocked("user:"+name)); wait > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(int(wait.Seconds())+1))
		v.Error = fmt.Sprintf("Too many failed sign-ins. Try again in %s.", wait.Round(time.Second))
		s.render(w, http.StatusTooManyRequests, "signin", v)
		return
	}
	u, err := s.store.UserByName(r.Context(), name)
	hash := []byte(u.PasswordHash)
	if err != nil {
		hash = dummyHash() // the same work for unknown names: no user enumeration by timing
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || err != nil || !u.DisabledAt.IsZero() {
		s.limiter.fail("ip:" + ip)
		s.limiter.fail("user:" + name)
		v.Error = "The name or the password is wrong."
		v.Errors = map[string]string{"password": v.Error}
		s.render(w, http.StatusUnauthorized, "signin", v)
		return
	}
	s.limiter.reset("user:" + name)
	if err := s.startSession(w, r, u); err != nil {
		s.render(w, http.StatusServiceUnavailable, "signin", view{Title: "Sign in", Error: "Signing in failed; try again."})
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// startSession signs u in: a new session and its cookie.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, u storage.User) error {
	token := randomToken()
	now := s.cfg.Now()
	se := storage.Session{IDHash: hashToken(token), UserName: u.Name, Tenant: u.Tenant, CSRF: randomToken(),
		CreatedAt: now, ExpiresAt: now.Add(s.cfg.SessionTTL)}
	if err := s.store.CreateSession(r.Context(), se); err != nil {
		s.log.Error("dashboard: create session", "error", err)
		return err
	}
	if _, err := s.store.DeleteExpiredSessions(r.Context(), now); err != nil {
		s.log.Warn("dashboard: delete expired sessions", "error", err)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: Prefix, HttpOnly: true,
		Secure: s.cfg.SecureCookies || r.TLS != nil, SameSite: http.SameSiteStrictMode, MaxAge: int(s.cfg.SessionTTL.Seconds())})
	return nil
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request, sess *session) {
	if err := s.store.DeleteSession(r.Context(), sess.idHash); err != nil {
		s.log.Warn("dashboard: delete session", "error", err)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: Prefix, MaxAge: -1, HttpOnly: true})
	http.Redirect(w, r, Prefix+"/signin", http.StatusSeeOther)
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

var dummyOnce = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("no user has this password"), bcrypt.DefaultCost)
	return h
})

func dummyHash() []byte { return dummyOnce() }

// limiter counts failures per key in a sliding window and blocks a key
// with max failures in the window until the oldest expires.
type limiter struct {
	max    int
	window time.Duration
	now    func() time.Time

	mu    sync.Mutex
	fails map[string][]time.Time
}

func newLimiter(max int, window time.Duration, now func() time.Time) *limiter {
	return &limiter{max: max, window: window, now: now, fails: map[string][]time.Time{}}
}

func (l *limiter) prune(key string, now time.Time) []time.Time {
	ts := l.fails[key]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= l.window {
		i++
	}
	ts = ts[i:]
	if len(ts) == 0 {
		delete(l.fails, key)
	} else {
		l.fails[key] = ts
	}
	return ts
}

// blocked returns how long key must wait, 0 if it may try.
func (l *limiter) blocked(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	ts := l.prune(key, now)
	if len(ts) < l.max {
		return 0
	}
	return l.window - now.Sub(ts[len(ts)-l.max])
}

func (l *limiter) fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.fails[key] = append(l.prune(key, now), now)
	if len(l.fails) > 100_000 { // bounded memory under a spray of names
		for k := range l.fails {
			delete(l.fails, k)
			if len(l.fails) <= 50_000 {
				break
			}
		}
	}
}

func (l *limiter) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.fails, key)
}
