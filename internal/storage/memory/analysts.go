package memory

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/storage"
)

type minuteKey struct {
	tenant   string
	minute   int64
	kind     risk.EventKind
	action   risk.Action
	currency string
}

// analysts holds the dashboard's records; Store's mutex guards it.
type analysts struct {
	users    map[string]storage.User
	sessions map[string]storage.Session
	audit    []storage.AuditEntry
	cases    map[tenantID]*storage.Case
	minutes  map[minuteKey]*storage.MinuteStat
}

func newAnalysts() analysts {
	return analysts{users: map[string]storage.User{}, sessions: map[string]storage.Session{},
		cases: map[tenantID]*storage.Case{}, minutes: map[minuteKey]*storage.MinuteStat{}}
}

func (s *Store) countMinute(e *storage.Event) {
	m := e.ReceivedAt.Unix() / 60
	k := minuteKey{e.Tenant, m, e.Kind, e.Assessment.Action, e.Currency}
	st := s.minutes[k]
	if st == nil {
		st = &storage.MinuteStat{Minute: time.Unix(m*60, 0).UTC(), Kind: e.Kind, Action: e.Assessment.Action, Currency: e.Currency}
		s.minutes[k] = st
	}
	st.Count++
	st.AmountMinor += e.AmountMinor
}

// CreateUser implements storage.UserStore.
func (s *Store) CreateUser(_ context.Context, u storage.User) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return err
	}
	if _, ok := s.users[u.Name]; ok {
		return fmt.Errorf("%w: user %s exists", storage.ErrConflict, u.Name)
	}
	s.users[u.Name] = u
	return nil
}

// UserByName implements storage.UserStore.
func (s *Store) UserByName(_ context.Context, name string) (storage.User, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(); err != nil {
		return storage.User{}, err
	}
	u, ok := s.users[name]
	if !ok {
		return u, fmt.Errorf("%w: user %q", storage.ErrNotFound, name)
	}
	return u, nil
}

// Users implements storage.UserStore.
func (s *Store) Users(_ context.Context, tenant string) ([]storage.User, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(); err != nil {
		return nil, err
	}
	var out []storage.User
	for _, u := range s.users {
		if tenant == "" || u.Tenant == tenant {
			out = append(out, u)
		}
	}
	slices.SortFunc(out, func(a, b storage.User) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// UpdateUser implements storage.UserStore.
func (s *Store) UpdateUser(_ context.Context, u storage.User) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return err
	}
	old, ok := s.users[u.Name]
	if !ok {
		return fmt.Errorf("%w: user %q", storage.ErrNotFound, u.Name)
	}
	old.Role, old.PasswordHash, old.DisabledAt = u.Role, u.PasswordHash, u.DisabledAt
	s.users[u.Name] = old
	return nil
}

// CreateSession implements storage.SessionStore.
func (s *Store) CreateSession(_ context.Context, se storage.Session) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return err
	}
	if _, ok := s.sessions[se.IDHash]; ok {
		return fmt.Errorf("%w: session exists", storage.ErrConflict)
	}
	s.sessions[se.IDHash] = se
	return nil
}

// Session implements storage.SessionStore.
func (s *Store) Session(_ context.Context, idHash string) (storage.Session, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(); err != nil {
		return storage.Session{}, err
	}
	se, ok := s.sessions[idHash]
	if !ok {
		return se, fmt.Errorf("%w: session", storage.ErrNotFound)
	}
	return se, nil
}

// DeleteSession implements storage.SessionStore.
func (s *Store) DeleteSession(_ context.Context, idHash string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return err
	}
	delete(s.sessions, idHash)
	return nil
}

// DeleteUserSessions implements storage.SessionStore.
func (s *Store) DeleteUserSessions(_ context.Context, userName string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return err
	}
	for k, se := range s.sessions {
		if se.UserName == userName {
			delete(s.sessions, k)
		}
	}
	return nil
}

// DeleteExpiredSessions implements storage.SessionStore.
func (s *Store) DeleteExpiredSessions(_ context.Context, now time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return 0, err
	}
	n := 0
	for k, se := range s.sessions {
		if !se.ExpiresAt.After(now) {
			delete(s.sessions, k)
			n++
		}
	}
	return n, nil
}

// AppendAudit implements storage.AuditLog.
func (s *Store) AppendAudit(_ context.Context, e *storage.AuditEntry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return err
	}
	e.ID = int64(len(s.audit) + 1)
	s.audit = append(s.audit, *e)
	return nil
}

// Audit implements storage.AuditLog.
func (s *Store) Audit(_ context.Context, tenant string, beforeID int64, limit int) ([]storage.AuditEntry, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(); err != nil {
		return nil, err
	}
	var out []storage.AuditEntry
	for i := len(s.audit) - 1; i >= 0 && len(out) < limit; i-- {
		e := s.audit[i]
		if e.Tenant == tenant && (beforeID <= 0 || e.ID < beforeID) {
			out = append(out, e)
		}
	}
	return out, nil
}

func (s *Store) caseOf(tenant, eventID string) *storage.Case {
	k := tenantID{tenant, eventID}
	c := s.cases[k]
	if c == nil {
		c = &storage.Case{Tenant: tenant, EventID: eventID}
		s.cases[k] = c
	}
	return c
}

// AssignCase implements storage.CaseStore.
func (s *Store) AssignCase(_ context.Context, tenant, eventID, assignee, by string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return err
	}
	c := s.caseOf(tenant, eventID)
	c.Assignee, c.UpdatedAt, c.UpdatedBy = assignee, at, by
	return nil
}

// AddCaseNote implements storage.CaseStore.
func (s *Store) AddCaseNote(_ context.Context, tenant, eventID string, n storage.CaseNote) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return err
	}
	c := s.caseOf(tenant, eventID)
	c.Notes = append(c.Notes, n)
	c.UpdatedAt, c.UpdatedBy = n.At, n.Author
	return nil
}

// Cases implements storage.CaseStore.
func (s *Store) Cases(_ context.Context, tenant string, eventIDs []string) (map[string]storage.Case, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(); err != nil {
		return nil, err
	}
	out := map[string]storage.Case{}
	for _, id := range eventIDs {
		if c, ok := s.cases[tenantID{tenant, id}]; ok {
			cc := *c
			cc.Notes = slices.Clone(c.Notes)
			out[id] = cc
		}
	}
	return out, nil
}

// SearchEvents implements storage.EventSearcher.
func (s *Store) SearchEvents(_ context.Context, q storage.EventSearch) ([]storage.Event, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(); err != nil {
		return nil, err
	}
	maxScore := q.MaxScore
	if maxScore == 0 {
		maxScore = 100
	}
	floor := int64(0)
	if q.ScanLimit > 0 {
		floor = s.seq - q.ScanLimit
	}
	limit := min(max(q.Limit, 1), 1000)
	match := func(e *storage.Event) bool {
		a := e.Assessment
		switch {
		case e.Tenant != q.Tenant || e.Seq <= floor,
			q.Kind != "" && e.Kind != q.Kind,
			len(q.Actions) > 0 && !slices.Contains(q.Actions, a.Action),
			a.Score < q.MinScore || a.Score > maxScore,
			!q.From.IsZero() && e.OccurredAt.Before(q.From),
			!q.To.IsZero() && !e.OccurredAt.Before(q.To),
			q.Contains != "" && !bytes.Contains(e.Payload, []byte(q.Contains)),
			q.Unlabelled && len(s.labels[tenantID{e.Tenant, e.ID}]) > 0,
			q.BeforeSeq > 0 && e.Seq >= q.BeforeSeq,
			q.AfterSeq > 0 && e.Seq <= q.AfterSeq:
			return false
		}
		return true
	}
	var out []storage.Event
	add := func(e *storage.Event) bool {
		if match(e) {
			out = append(out, s.withLabels(e))
		}
		return len(out) < limit
	}
	if q.OldestFirst {
		for _, e := range s.events {
			if !add(e) {
				break
			}
		}
	} else {
		for i := len(s.events) - 1; i >= 0; i-- {
			if !add(s.events[i]) {
				break
			}
		}
	}
	return out, nil
}

// MinuteStats implements storage.StatsReader.
func (s *Store) MinuteStats(_ context.Context, tenant string, from, to time.Time) ([]storage.MinuteStat, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(); err != nil {
		return nil, err
	}
	lo, hi := from.Unix()/60, (to.Add(time.Minute-1)).Unix()/60
	var out []storage.MinuteStat
	for k, st := range s.minutes {
		if k.tenant == tenant && k.minute >= lo && k.minute < hi {
			out = append(out, *st)
		}
	}
	slices.SortFunc(out, func(a, b storage.MinuteStat) int {
		if c := a.Minute.Compare(b.Minute); c != 0 {
			return c
		}
		return strings.Compare(string(a.Kind)+"/"+string(a.Action)+"/"+a.Currency, string(b.Kind)+"/"+string(b.Action)+"/"+b.Currency)
	})
	return out, nil
}
