package memory

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/shopguard/shopguard/internal/storage"
)

// outbound holds the outbound-message register; Store's mutex guards it.
type outbound struct {
	byID   map[tenantID]storage.OutboundMessage
	byCode map[tenantID]string // (tenant, code) -> id
}

func newOutbound() *outbound {
	return &outbound{byID: map[tenantID]storage.OutboundMessage{}, byCode: map[tenantID]string{}}
}

func copyOutbound(m storage.OutboundMessage) storage.OutboundMessage {
	m.Links = cloneStrings(m.Links)
	return m
}

// CreateOutbound implements storage.OutboundStore.
func (s *Store) CreateOutbound(_ context.Context, m storage.OutboundMessage) error {
	if err := m.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return err
	}
	o := s.outbound
	if _, ok := o.byID[tenantID{m.Tenant, m.ID}]; ok {
		return fmt.Errorf("%w: outbound message %s exists", storage.ErrConflict, m.ID)
	}
	if _, ok := o.byCode[tenantID{m.Tenant, m.Code}]; ok {
		return fmt.Errorf("%w: outbound code %s exists", storage.ErrConflict, m.Code)
	}
	m = copyOutbound(m)
	m.SentAt, m.CreatedAt = micro(m.SentAt), micro(m.CreatedAt)
	o.byID[tenantID{m.Tenant, m.ID}] = m
	o.byCode[tenantID{m.Tenant, m.Code}] = m.ID
	return nil
}

// Outbound implements storage.OutboundStore.
func (s *Store) Outbound(_ context.Context, tenant, id string) (storage.OutboundMessage, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(); err != nil {
		return storage.OutboundMessage{}, err
	}
	m, ok := s.outbound.byID[tenantID{tenant, id}]
	if !ok {
		return storage.OutboundMessage{}, fmt.Errorf("%w: outbound message %s", storage.ErrNotFound, id)
	}
	return copyOutbound(m), nil
}

// OutboundByCode implements storage.OutboundStore.
func (s *Store) OutboundByCode(_ context.Context, tenant, code string) (storage.OutboundMessage, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(); err != nil {
		return storage.OutboundMessage{}, err
	}
	m, ok := s.outbound.byID[tenantID{tenant, s.outbound.byCode[tenantID{tenant, code}]}]
	if !ok {
		return storage.OutboundMessage{}, fmt.Errorf("%w: outbound message with code %s", storage.ErrNotFound, code)
	}
	return copyOutbound(m), nil
}

// OutboundByLink implements storage.OutboundStore.
func (s *Store) OutboundByLink(_ context.Context, tenant, link string, limit int) ([]storage.OutboundMessage, error) {
	return s.selectOutbound(limit, func(m *storage.OutboundMessage) bool {
		return m.Tenant == tenant && slices.Contains(m.Links, link)
	})
}

// OutboundMessages implements storage.OutboundStore.
func (s *Store) OutboundMessages(_ context.Context, q storage.OutboundQuery) ([]storage.OutboundMessage, error) {
	since := micro(q.Since)
	return s.selectOutbound(q.Limit, func(m *storage.OutboundMessage) bool {
		return m.Tenant == q.Tenant && !m.SentAt.Before(since) &&
			(q.UserID != "" && m.UserID == q.UserID || q.RecipientHash != "" && m.RecipientHash == q.RecipientHash)
	})
}

// selectOutbound returns up to limit messages keep accepts, newest first.
func (s *Store) selectOutbound(limit int, keep func(*storage.OutboundMessage) bool) ([]storage.OutboundMessage, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(); err != nil {
		return nil, err
	}
	var out []storage.OutboundMessage
	for _, m := range s.outbound.byID {
		if keep(&m) {
			out = append(out, copyOutbound(m))
		}
	}
	slices.SortFunc(out, func(a, b storage.OutboundMessage) int {
		if c := b.SentAt.Compare(a.SentAt); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// PurgeOutbound implements storage.OutboundStore.
func (s *Store) PurgeOutbound(_ context.Context, before time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return 0, err
	}
	n := 0
	for k, m := range s.outbound.byID {
		if m.SentAt.Before(before) {
			delete(s.outbound.byID, k)
			delete(s.outbound.byCode, tenantID{m.Tenant, m.Code})
			n++
		}
	}
	return n, nil
}
