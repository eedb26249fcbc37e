// Package memory is a storage backend that keeps everything in process
// memory. It loses everything on exit: use it for tests and for trying
// shopguard out, and the sqlite backend for anything that must persist.
package memory

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/storage"
)

var _ storage.Backend = (*Store)(nil)

type extKey struct {
	tenant string
	kind   risk.EventKind
	ext    string
}

type tenantID struct{ tenant, id string }

// Store is the in-memory backend. The zero value is not usable; call New.
type Store struct {
	mu        sync.RWMutex
	closed    bool
	seq       int64
	labelSeq  int64
	events    []*storage.Event // in Seq order
	byID      map[tenantID]*storage.Event
	byExt     map[extKey]*storage.Event
	labels    map[tenantID][]storage.Label
	ruleSets  map[string][]storage.RuleSet
	lists     map[tenantID]*storage.List
	entries   map[tenantID]map[string]struct{}
	keys      []storage.APIKey
	keyByHash map[string]int
	// maxEvents, if positive, bounds the events kept (NewBounded).
	maxEvents int
	analysts
	webhooks
	authn
	passkeys *passkeys
	urlLists *urlLists
	phishing *phishing
	outbound *outbound
}

// NewBounded returns an empty store that keeps only about the latest
// maxEvents events: once it holds twice as many, it forgets the older
// half (their labels stay). It is for simulations and evaluations that
// decide millions of events and read back only recent ones, never for a
// shop's data.
func NewBounded(maxEvents int) *Store {
	s := New()
	s.maxEvents = maxEvents
	return s
}

// forgetOldEvents drops the older half of the events when a bounded
// store holds twice its bound.
func (s *Store) forgetOldEvents() {
	if s.maxEvents <= 0 || len(s.events) < 2*s.maxEvents {
		return
	}
	drop := len(s.events) - s.maxEvents
	for _, e := range s.events[:drop] {
		delete(s.byID, tenantID{e.Tenant, e.ID})
		delete(s.byExt, extKey{e.Tenant, e.Kind, e.ExternalID})
	}
	s.events = slices.Clone(s.events[drop:])
}

// New returns an empty store.
func New() *Store {
	return &Store{
		byID:      map[tenantID]*storage.Event{},
		byExt:     map[extKey]*storage.Event{},
		labels:    map[tenantID][]storage.Label{},
		ruleSets:  map[string][]storage.RuleSet{},
		lists:     map[tenantID]*storage.List{},
		entries:   map[tenantID]map[string]struct{}{},
		keyByHash: map[string]int{},
		analysts:  newAnalysts(),
		webhooks:  newWebhooks(),
		authn:     newAuthn(),
		passkeys:  newPasskeys(),
		urlLists:  newURLLists(),
		phishing:  newPhishing(),
		outbound:  newOutbound(),
	}
}

func (s *Store) check() error {
	if s.closed {
		return storage.ErrClosed
	}
	return nil
}

// SaveEvent implements storage.EventWriter.
func (s *Store) SaveEvent(_ context.Context, e *storage.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return err
	}
	if _, ok := s.byID[tenantID{e.Tenant, e.ID}]; ok {
		return fmt.Errorf("%w: event id %q exists", storage.ErrConflict, e.ID)
	}
	ek := extKey{e.Tenant, e.Kind, e.ExternalID}
	if _, ok := s.byExt[ek]; ok {
		return fmt.Errorf("%w: %s %q exists", storage.ErrConflict, e.Kind, e.ExternalID)
	}
	s.seq++
	e.Seq = s.seq
	c := copyEvent(e)
	c.Labels = nil
	s.events = append(s.events, c)
	s.byID[tenantID{e.Tenant, e.ID}] = c
	s.byExt[ek] = c
	s.countMinute(c)
	s.forgetOldEvents()
	return nil
}

func copyEvent(e *storage.Event) *storage.Event {
	c := *e
	c.Payload = slices.Clone(e.Payload)
	c.Env = slices.Clone(e.Env)
	c.Assessment.Reasons = slices.Clone(e.Assessment.Reasons)
	c.Assessment.Shadow = slices.Clone(e.Assessment.Shadow)
	c.Labels = slices.Clone(e.Labels)
	return &c
}

func (s *Store) withLabels(e *storage.Event) storage.Event {
	c := copyEvent(e)
	c.Labels = slices.Clone(s.labels[tenantID{e.Tenant, e.ID}])
	return *c
}

// Event implements storage.EventReader.
func (s *Store) Event(_ context.Context, tenant, id string) (storage.Event, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(); err != nil {
		return storage.Event{}, err
	}
	e, ok := s.byID[tenantID{tenant, id}]
	if !ok {
		return storage.Event{}, fmt.Errorf("%w: event %q", storage.ErrNotFound, id)
	}
	return s.withLabels(e), nil
}

// EventByExternalID implements storage.EventReader.
func (s *Store) EventByExternalID(_ context.Context, tenant string, kind risk.EventKind, ext string) (storage.Event, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(); err != nil {
		return storage.Event{}, err
	}
	e, ok := s.byExt[extKey{tenant, kind, ext}]
	if !ok {
		return storage.Event{}, fmt.Errorf("%w: %s %q", storage.ErrNotFound, kind, ext)
	}
	return s.withLabels(e), nil
}

// ScanEvents implements storage.EventScanner. It copies the matching events
// under the lock and calls fn without holding it.
func (s *Store) ScanEvents(ctx context.Context, q storage.EventQuery, fn func(*storage.Event) error) error {
	s.mu.RLock()
	if err := s.check(); err != nil {
		s.mu.RUnlock()
		return err
	}
	var out []storage.Event
	for _, e := range s.events {
		if e.Tenant != q.Tenant || e.Kind != q.Kind || e.OccurredAt.Before(q.From) || !e.OccurredAt.Before(q.To) {
			continue
		}
		out = append(out, s.withLabels(e))
	}
	s.mu.RUnlock()
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].OccurredAt.Equal(out[j].OccurredAt) {
			return out[i].OccurredAt.Before(out[j].OccurredAt)
		}
		return out[i].Seq < out[j].Seq
	})
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	for i := range out {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(&out[i]); err != nil {
			return err
		}
	}
	return nil
}

// EventsAfter implements storage.EventScanner.
func (s *Store) EventsAfter(ctx context.Context, seq int64, fn func(*storage.Event) error) error {
	s.mu.RLock()
	if err := s.check(); err != nil {
		s.mu.RUnlock()
		return err
	}
	i := sort.Search(len(s.events), func(i int) bool { return s.events[i].Seq > seq })
	var out []*storage.Event
	for _, e := range s.events[i:] {
		out = append(out, copyEvent(e))
	}
	s.mu.RUnlock()
	for _, e := range out {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// MaxSeq implements storage.EventScanner.
func (s *Store) MaxSeq(context.Context) (int64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.seq, s.check()
}

// AddLabel implements storage.LabelStore.
func (s *Store) AddLabel(_ context.Context, l *storage.Label) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return err
	}
	k := tenantID{l.Tenant, l.EventID}
	if _, ok := s.byID[k]; !ok {
		return fmt.Errorf("%w: event %q", storage.ErrNotFound, l.EventID)
	}
	s.labelSeq++
	l.ID = s.labelSeq
	s.labels[k] = append(s.labels[k], *l)
	return nil
}

// LabelsAfter implements storage.LabelStore.
func (s *Store) LabelsAfter(ctx context.Context, id int64, fn func(*storage.Label) error) error {
	s.mu.RLock()
	if err := s.check(); err != nil {
		s.mu.RUnlock()
		return err
	}
	var out []storage.Label
	for _, ls := range s.labels {
		for _, l := range ls {
			if l.ID > id {
				out = append(out, l)
			}
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b storage.Label) int { return cmp.Compare(a.ID, b.ID) })
	for i := range out {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(&out[i]); err != nil {
			return err
		}
	}
	return nil
}

// MaxLabelID implements storage.LabelStore.
func (s *Store) MaxLabelID(context.Context) (int64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.labelSeq, s.check()
}

// SaveRuleSet implements storage.RuleStore.
func (s *Store) SaveRuleSet(_ context.Context, rs storage.RuleSet) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return err
	}
	have := s.ruleSets[rs.Tenant]
	if want := int64(len(have)) + 1; rs.Version != want {
		return fmt.Errorf("%w: rule set version %d, expected %d", storage.ErrConflict, rs.Version, want)
	}
	rs.Rules = slices.Clone(rs.Rules)
	s.ruleSets[rs.Tenant] = append(have, rs)
	return nil
}

// LatestRuleSet implements storage.RuleStore.
func (s *Store) LatestRuleSet(ctx context.Context, tenant string) (storage.RuleSet, error) {
	s.mu.RLock()
	n := int64(len(s.ruleSets[tenant]))
	s.mu.RUnlock()
	return s.RuleSetVersion(ctx, tenant, n)
}

// RuleSetVersion implements storage.RuleStore.
func (s *Store) RuleSetVersion(_ context.Context, tenant string, version int64) (storage.RuleSet, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(); err != nil {
		return storage.RuleSet{}, err
	}
	have := s.ruleSets[tenant]
	if version < 1 || version > int64(len(have)) {
		return storage.RuleSet{}, fmt.Errorf("%w: rule set version %d", storage.ErrNotFound, version)
	}
	rs := have[version-1]
	rs.Rules = slices.Clone(rs.Rules)
	return rs, nil
}

// CreateList implements storage.ListStore.
func (s *Store) CreateList(_ context.Context, l storage.List) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return err
	}
	k := tenantID{l.Tenant, l.Name}
	if _, ok := s.lists[k]; ok {
		return fmt.Errorf("%w: list %q exists", storage.ErrConflict, l.Name)
	}
	s.lists[k] = &l
	s.entries[k] = map[string]struct{}{}
	return nil
}

// UpdateList implements storage.ListStore.
func (s *Store) UpdateList(_ context.Context, l storage.List) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return err
	}
	have, ok := s.lists[tenantID{l.Tenant, l.Name}]
	if !ok {
		return fmt.Errorf("%w: list %q", storage.ErrNotFound, l.Name)
	}
	have.Effect, have.Description, have.UpdatedAt = l.Effect, l.Description, l.UpdatedAt
	return nil
}

// DeleteList implements storage.ListStore.
func (s *Store) DeleteList(_ context.Context, tenant, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return err
	}
	k := tenantID{tenant, name}
	if _, ok := s.lists[k]; !ok {
		return fmt.Errorf("%w: list %q", storage.ErrNotFound, name)
	}
	delete(s.lists, k)
	delete(s.entries, k)
	return nil
}

// AddListEntries implements storage.ListStore.
func (s *Store) AddListEntries(_ context.Context, tenant, name string, values []string) (int, error) {
	return s.editEntries(tenant, name, values, true)
}

// RemoveListEntries implements storage.ListStore.
func (s *Store) RemoveListEntries(_ context.Context, tenant, name string, values []string) (int, error) {
	return s.editEntries(tenant, name, values, false)
}

func (s *Store) editEntries(tenant, name string, values []string, add bool) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return 0, err
	}
	k := tenantID{tenant, name}
	set, ok := s.entries[k]
	if !ok {
		return 0, fmt.Errorf("%w: list %q", storage.ErrNotFound, name)
	}
	s.lists[k].UpdatedAt = time.Now().UTC()
	n := 0
	for _, v := range values {
		_, had := set[v]
		switch {
		case add && !had:
			set[v] = struct{}{}
			n++
		case !add && had:
			delete(set, v)
			n++
		}
	}
	return n, nil
}

// Lists implements storage.ListStore.
func (s *Store) Lists(_ context.Context, tenant string) ([]storage.List, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(); err != nil {
		return nil, err
	}
	var out []storage.List
	for k, l := range s.lists {
		if k.tenant == tenant {
			out = append(out, *l)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// ListEntries implements storage.ListStore.
func (s *Store) ListEntries(_ context.Context, tenant, name string) ([]string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(); err != nil {
		return nil, err
	}
	set, ok := s.entries[tenantID{tenant, name}]
	if !ok {
		return nil, fmt.Errorf("%w: list %q", storage.ErrNotFound, name)
	}
	out := make([]string, 0, len(set))
	for v := range set {
		out = append(out, v)
	}
	sort.Strings(out)
	return out, nil
}

// CreateKey implements storage.KeyStore.
func (s *Store) CreateKey(_ context.Context, k storage.APIKey) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return err
	}
	if _, ok := s.keyByHash[k.Hash]; ok {
		return fmt.Errorf("%w: key hash exists", storage.ErrConflict)
	}
	for _, have := range s.keys {
		if have.ID == k.ID {
			return fmt.Errorf("%w: key %q exists", storage.ErrConflict, k.ID)
		}
	}
	k.Scopes = slices.Clone(k.Scopes)
	s.keys = append(s.keys, k)
	s.keyByHash[k.Hash] = len(s.keys) - 1
	return nil
}

// KeyByHash implements storage.KeyStore.
func (s *Store) KeyByHash(_ context.Context, hash string) (storage.APIKey, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(); err != nil {
		return storage.APIKey{}, err
	}
	i, ok := s.keyByHash[hash]
	if !ok {
		return storage.APIKey{}, fmt.Errorf("%w: key", storage.ErrNotFound)
	}
	k := s.keys[i]
	k.Scopes = slices.Clone(k.Scopes)
	return k, nil
}

// Keys implements storage.KeyStore.
func (s *Store) Keys(_ context.Context, tenant string) ([]storage.APIKey, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(); err != nil {
		return nil, err
	}
	var out []storage.APIKey
	for _, k := range s.keys {
		if tenant == "" || k.Tenant == tenant {
			k.Scopes = slices.Clone(k.Scopes)
			out = append(out, k)
		}
	}
	return out, nil
}

// RevokeKey implements storage.KeyStore.
func (s *Store) RevokeKey(_ context.Context, id string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return err
	}
	for i := range s.keys {
		if s.keys[i].ID == id {
			s.keys[i].RevokedAt = at
			return nil
		}
	}
	return fmt.Errorf("%w: key %q", storage.ErrNotFound, id)
}

// Ping implements storage.Backend.
func (s *Store) Ping(context.Context) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.check()
}

// Close implements storage.Backend.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}
