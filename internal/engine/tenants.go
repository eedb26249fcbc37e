package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/rules"
	"github.com/shopguard/shopguard/internal/storage"
)

// ErrBuiltinList means a change was attempted on a list shopguard ships.
var ErrBuiltinList = errors.New("engine: built-in lists cannot be changed")

// ErrListInUse means a list cannot be deleted while rules use it.
var ErrListInUse = errors.New("engine: list is used by rules")

// tenant is one shop's compiled rules and lists. Readers load the atomic
// pointers without locking; changes are serialised by mu.
type tenant struct {
	id    string
	mu    sync.Mutex
	rules atomic.Pointer[rules.Set]
	lists atomic.Pointer[rules.Lists]
	// models maps an event kind to the model that scores it, challengers
	// to the models scoring in shadow beside it (copy on write).
	models      atomic.Pointer[map[risk.EventKind]Model]
	challengers atomic.Pointer[map[risk.EventKind]Model]
}

func (t *tenant) model(kind risk.EventKind) Model {
	if m := t.models.Load(); m != nil {
		return (*m)[kind]
	}
	return nil
}

func (t *tenant) challenger(kind risk.EventKind) Model {
	if m := t.challengers.Load(); m != nil {
		return (*m)[kind]
	}
	return nil
}

// setIn replaces kind's model in a copy-on-write map (nil removes it).
func setIn(p *atomic.Pointer[map[risk.EventKind]Model], kind risk.EventKind, m Model) {
	next := map[risk.EventKind]Model{}
	if cur := p.Load(); cur != nil {
		for k, v := range *cur {
			next[k] = v
		}
	}
	if m == nil {
		delete(next, kind)
	} else {
		next[kind] = m
	}
	p.Store(&next)
}

// SetChallenger makes m score the tenant's events of kind in shadow (nil
// removes it): its score is recorded with each assessment as the shadow
// reason "challenger:<version>" and changes nothing, so that it can be
// compared with the champion on the same traffic before a promotion.
func (e *Engine) SetChallenger(ctx context.Context, tenantID string, kind risk.EventKind, m Model) error {
	t, err := e.tenant(ctx, tenantID)
	if err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	setIn(&t.challengers, kind, m)
	return nil
}

// SetModel makes m the model that scores the tenant's events of kind
// (nil removes it): its score feeds the rules (model.score) and adds to
// the assessment's score, and its reasons join the rules'.
func (e *Engine) SetModel(ctx context.Context, tenantID string, kind risk.EventKind, m Model) error {
	t, err := e.tenant(ctx, tenantID)
	if err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	setIn(&t.models, kind, m)
	return nil
}

// ModelVersion returns the version of the model scoring the tenant's
// events of kind, or "" without one.
func (e *Engine) ModelVersion(ctx context.Context, tenantID string, kind risk.EventKind) (string, error) {
	t, err := e.tenant(ctx, tenantID)
	if err != nil {
		return "", err
	}
	if m := t.model(kind); m != nil {
		return m.Version(), nil
	}
	return "", nil
}

// ChallengerVersion returns the version of the model scoring the tenant's
// events of kind in shadow, or "" without one.
func (e *Engine) ChallengerVersion(ctx context.Context, tenantID string, kind risk.EventKind) (string, error) {
	t, err := e.tenant(ctx, tenantID)
	if err != nil {
		return "", err
	}
	if m := t.challenger(kind); m != nil {
		return m.Version(), nil
	}
	return "", nil
}

// Lists implements rules.ListSource: rules always see the current lists.
func (t *tenant) Lists() *rules.Lists { return t.lists.Load() }

// tenant returns the tenant's state, loading it (and giving a new tenant
// its default rules) on first use.
func (e *Engine) tenant(ctx context.Context, id string) (*tenant, error) {
	e.tenantsMu.Lock()
	t, ok := e.tenants[id]
	if !ok {
		t = &tenant{id: id}
		e.tenants[id] = t
	}
	e.tenantsMu.Unlock()
	if t.rules.Load() != nil {
		return t, nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.rules.Load() != nil { // loaded while we waited
		return t, nil
	}
	if err := e.loadLists(ctx, t); err != nil {
		return nil, err
	}
	// Rules are stored last: a tenant with rules is fully loaded.
	if err := e.loadRules(ctx, t); err != nil {
		return nil, err
	}
	return t, nil
}

// Reload re-reads a tenant's lists and rules from storage, for changes
// another instance made to them; "" reloads every tenant loaded. A tenant
// not loaded yet is left to load on first use.
func (e *Engine) Reload(ctx context.Context, tenantID string) error {
	e.tenantsMu.Lock()
	var ts []*tenant
	for id, t := range e.tenants {
		if tenantID == "" || id == tenantID {
			ts = append(ts, t)
		}
	}
	e.tenantsMu.Unlock()
	var errs []error
	for _, t := range ts {
		errs = append(errs, e.reload(ctx, t))
	}
	return errors.Join(errs...)
}

func (e *Engine) reload(ctx context.Context, t *tenant) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.rules.Load() == nil {
		return nil // not loaded (or failed to): the next use loads it
	}
	if err := e.loadLists(ctx, t); err != nil {
		return err
	}
	return e.loadRules(ctx, t)
}

func (e *Engine) loadLists(ctx context.Context, t *tenant) error {
	ls, err := e.store.Lists(ctx, t.id)
	if err != nil {
		return fmt.Errorf("engine: load lists of %s: %w", t.id, err)
	}
	snap := e.builtin
	for _, l := range ls {
		entries, err := e.store.ListEntries(ctx, t.id, l.Name)
		if err != nil {
			return fmt.Errorf("engine: load list %s of %s: %w", l.Name, t.id, err)
		}
		if snap, err = snap.With(rules.ListEntries{List: listOf(l), Entries: entries}); err != nil {
			return fmt.Errorf("engine: load list %s of %s: %w", l.Name, t.id, err)
		}
	}
	t.lists.Store(snap)
	return nil
}

func listOf(l storage.List) rules.List {
	return rules.List{Name: l.Name, Description: l.Description, Kind: rules.ListKind(l.Kind), Effect: rules.Effect(l.Effect)}
}

// defaultRules returns every registered kind's default rules.
func (e *Engine) defaultRules() []rules.Rule {
	var out []rules.Rule
	for _, k := range e.Kinds() {
		out = append(out, e.kinds[k].DefaultRules()...)
	}
	return out
}

func (e *Engine) loadRules(ctx context.Context, t *tenant) error {
	rs, err := e.store.LatestRuleSet(ctx, t.id)
	if errors.Is(err, storage.ErrNotFound) {
		if _, err := e.saveRules(ctx, t, 1, e.defaultRules(), "shopguard defaults"); err == nil || !errors.Is(err, storage.ErrConflict) {
			return err
		}
		rs, err = e.store.LatestRuleSet(ctx, t.id) // another instance seeded them first
	}
	if err != nil {
		return fmt.Errorf("engine: load rules of %s: %w", t.id, err)
	}
	var list []rules.Rule
	if err := json.Unmarshal(rs.Rules, &list); err != nil {
		return fmt.Errorf("engine: decode rules of %s version %d: %w", t.id, rs.Version, err)
	}
	set, err := rules.Compile(rs.Version, list, e.schemas, t)
	if err != nil {
		// Stored rules that no longer compile (a list deleted elsewhere, a
		// field renamed by an upgrade) must not take the tenant down: run
		// the others and say loudly which were dropped.
		set = e.compileSurvivors(t, rs.Version, list, err)
	}
	t.rules.Store(set)
	return nil
}

// compileSurvivors compiles the rules that compile on their own, logging the others.
func (e *Engine) compileSurvivors(t *tenant, version int64, list []rules.Rule, err error) *rules.Set {
	var ce rules.CompileErrors
	bad := map[string]bool{}
	if errors.As(err, &ce) {
		for _, c := range ce {
			bad[c.Rule] = true
		}
	}
	var keep []rules.Rule
	for _, r := range list {
		if bad[r.Name] {
			e.log.Error("stored rule does not compile and is skipped", "tenant", t.id, "rule", r.Name, "error", err)
			continue
		}
		keep = append(keep, r)
	}
	set, err := rules.Compile(version, keep, e.schemas, t)
	if err != nil {
		e.log.Error("stored rules do not compile; running none", "tenant", t.id, "error", err)
		set, _ = rules.Compile(version, nil, e.schemas, t)
	}
	return set
}

// saveRules compiles list, stores it as the given version, makes it
// current and returns it as stored.
func (e *Engine) saveRules(ctx context.Context, t *tenant, version int64, list []rules.Rule, author string) (RuleSet, error) {
	for i := range list {
		list[i].Mode = list[i].EffectiveMode()
	}
	set, err := rules.Compile(version, list, e.schemas, t)
	if err != nil {
		return RuleSet{}, err
	}
	if list == nil {
		list = []rules.Rule{}
	}
	body, err := json.Marshal(list)
	if err != nil {
		return RuleSet{}, fmt.Errorf("engine: encode rules: %w", err)
	}
	rs := RuleSet{Version: version, CreatedAt: e.cfg.Now().UTC().Truncate(time.Microsecond), Author: author, Rules: list}
	if err := e.store.SaveRuleSet(ctx, storage.RuleSet{Tenant: t.id, Version: version,
		CreatedAt: rs.CreatedAt, Rules: body, Author: author}); err != nil {
		return RuleSet{}, fmt.Errorf("engine: save rules: %w", err)
	}
	t.rules.Store(set)
	return rs, nil
}

// RuleSet is one version of a tenant's rules.
type RuleSet struct {
	Version   int64        `json:"version"`
	CreatedAt time.Time    `json:"created_at"`
	Author    string       `json:"author"`
	Rules     []rules.Rule `json:"rules"`
}

// Rules returns the tenant's current rule set.
func (e *Engine) Rules(ctx context.Context, tenantID string) (RuleSet, error) {
	if _, err := e.tenant(ctx, tenantID); err != nil {
		return RuleSet{}, err
	}
	rs, err := e.store.LatestRuleSet(ctx, tenantID)
	if err != nil {
		return RuleSet{}, fmt.Errorf("engine: rules: %w", err)
	}
	return ruleSetOf(rs)
}

// RuleSetVersion returns one stored version of the tenant's rules; the
// error wraps storage.ErrNotFound when there is no such version.
func (e *Engine) RuleSetVersion(ctx context.Context, tenantID string, version int64) (RuleSet, error) {
	rs, err := e.store.RuleSetVersion(ctx, tenantID, version)
	if err != nil {
		return RuleSet{}, fmt.Errorf("engine: rules: %w", err)
	}
	return ruleSetOf(rs)
}

func ruleSetOf(rs storage.RuleSet) (RuleSet, error) {
	out := RuleSet{Version: rs.Version, CreatedAt: rs.CreatedAt, Author: rs.Author}
	if err := json.Unmarshal(rs.Rules, &out.Rules); err != nil {
		return RuleSet{}, fmt.Errorf("engine: decode rules version %d: %w", rs.Version, err)
	}
	if out.Rules == nil {
		out.Rules = []rules.Rule{}
	}
	return out, nil
}

// ChangeRules applies change to the tenant's current rules and, if the
// result compiles, stores it as the next version and makes it current at
// once. change may return an error (e.g. wrapping storage.ErrNotFound or
// storage.ErrConflict) to refuse; compile problems come back as
// rules.CompileErrors. It returns the new rule set.
func (e *Engine) ChangeRules(ctx context.Context, tenantID, author string, change func([]rules.Rule) ([]rules.Rule, error)) (RuleSet, error) {
	t, err := e.tenant(ctx, tenantID)
	if err != nil {
		return RuleSet{}, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for attempt := 0; ; attempt++ {
		cur, err := e.store.LatestRuleSet(ctx, tenantID)
		if err != nil {
			return RuleSet{}, fmt.Errorf("engine: rules: %w", err)
		}
		curSet, err := ruleSetOf(cur)
		if err != nil {
			return RuleSet{}, err
		}
		next, err := change(curSet.Rules)
		if err != nil {
			return RuleSet{}, err
		}
		saved, err := e.saveRules(ctx, t, cur.Version+1, next, author)
		if errors.Is(err, storage.ErrConflict) && attempt < 3 {
			continue // another instance saved a version in between: redo on top of it
		}
		return saved, err
	}
}

// ListInfo describes a list for listings; Size is its number of values.
type ListInfo struct {
	rules.List
	Size      int       `json:"size"`
	Builtin   bool      `json:"builtin"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// Lists returns the tenant's lists, built-in ones included, sorted by name.
func (e *Engine) Lists(ctx context.Context, tenantID string) ([]ListInfo, error) {
	t, err := e.tenant(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	stored, err := e.store.Lists(ctx, tenantID)
	if err != nil {
		return nil, fmt.Errorf("engine: lists: %w", err)
	}
	snap := t.lists.Load()
	out := make([]ListInfo, 0, len(stored))
	for _, l := range stored {
		out = append(out, ListInfo{List: listOf(l), Size: snap.Len(l.Name), CreatedAt: l.CreatedAt, UpdatedAt: l.UpdatedAt})
	}
	for _, name := range e.builtin.Names() {
		l, _ := e.builtin.Get(name)
		out = append(out, ListInfo{List: l, Size: e.builtin.Len(name), Builtin: true})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// List returns one list of the tenant with its entries; the error wraps
// storage.ErrNotFound when there is no such list.
func (e *Engine) List(ctx context.Context, tenantID, name string) (ListInfo, []string, error) {
	ls, err := e.Lists(ctx, tenantID)
	if err != nil {
		return ListInfo{}, nil, err
	}
	for _, l := range ls {
		if l.Name != name {
			continue
		}
		if l.Builtin {
			for _, b := range e.cfg.BuiltinLists {
				if b.Name == name {
					return l, b.Entries, nil
				}
			}
		}
		entries, err := e.store.ListEntries(ctx, tenantID, name)
		if err != nil {
			return ListInfo{}, nil, fmt.Errorf("engine: list entries: %w", err)
		}
		return l, entries, nil
	}
	return ListInfo{}, nil, fmt.Errorf("%w: list %q", storage.ErrNotFound, name)
}

func (e *Engine) refuseBuiltin(name string) error {
	if _, ok := e.builtin.Get(name); ok {
		return fmt.Errorf("%w: %q", ErrBuiltinList, name)
	}
	return nil
}

// CreateList creates an empty list; the error wraps storage.ErrConflict when
// the name is taken and risk.ErrInvalid for a bad list.
func (e *Engine) CreateList(ctx context.Context, tenantID string, l rules.List) error {
	if l.Effect == "" {
		l.Effect = rules.EffectNone
	}
	if err := l.Validate(); err != nil {
		return err
	}
	if _, ok := e.builtin.Get(l.Name); ok {
		return fmt.Errorf("%w: list %q is built in", storage.ErrConflict, l.Name)
	}
	t, err := e.tenant(ctx, tenantID)
	if err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := e.cfg.Now().UTC().Truncate(time.Microsecond)
	if err := e.store.CreateList(ctx, storage.List{Tenant: tenantID, Name: l.Name, Kind: string(l.Kind),
		Effect: string(l.Effect), Description: l.Description, CreatedAt: now, UpdatedAt: now}); err != nil {
		return fmt.Errorf("engine: create list: %w", err)
	}
	return e.refreshList(ctx, t, l)
}

// UpdateList changes a list's effect and description (its kind is fixed).
func (e *Engine) UpdateList(ctx context.Context, tenantID string, l rules.List) error {
	if err := e.refuseBuiltin(l.Name); err != nil {
		return err
	}
	if l.Effect == "" {
		l.Effect = rules.EffectNone
	}
	t, err := e.tenant(ctx, tenantID)
	if err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	cur, ok := t.lists.Load().Get(l.Name)
	if !ok {
		return fmt.Errorf("%w: list %q", storage.ErrNotFound, l.Name)
	}
	if l.Kind == "" {
		l.Kind = cur.Kind
	}
	if l.Kind != cur.Kind {
		return risk.Invalid("kind", "a list's kind cannot change (it is %s); create a new list", cur.Kind)
	}
	if err := l.Validate(); err != nil {
		return err
	}
	if err := e.store.UpdateList(ctx, storage.List{Tenant: tenantID, Name: l.Name, Effect: string(l.Effect),
		Description: l.Description, UpdatedAt: e.cfg.Now().UTC().Truncate(time.Microsecond)}); err != nil {
		return fmt.Errorf("engine: update list: %w", err)
	}
	return e.refreshList(ctx, t, l)
}

// DeleteList deletes a list; the error wraps ErrListInUse while a rule uses it.
func (e *Engine) DeleteList(ctx context.Context, tenantID, name string) error {
	if err := e.refuseBuiltin(name); err != nil {
		return err
	}
	t, err := e.tenant(ctx, tenantID)
	if err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	var users []string
	for _, r := range t.rules.Load().Rules() {
		one, err := rules.Compile(0, []rules.Rule{r}, e.schemas, t)
		if err == nil && slices.Contains(one.ReferencedLists(), name) {
			users = append(users, r.Name)
		}
	}
	if len(users) > 0 {
		return fmt.Errorf("%w: %q is used by rule(s) %v; change them first", ErrListInUse, name, users)
	}
	if err := e.store.DeleteList(ctx, tenantID, name); err != nil {
		return fmt.Errorf("engine: delete list: %w", err)
	}
	t.lists.Store(t.lists.Load().Without(name))
	return nil
}

// EditEntries adds (or, with remove, removes) values on a list, after
// normalising each for the list's kind; invalid values are reported as
// *risk.FieldError naming "values[i]" and nothing is changed. It returns
// how many values were added or removed.
func (e *Engine) EditEntries(ctx context.Context, tenantID, name string, values []string, remove bool) (int, error) {
	if err := e.refuseBuiltin(name); err != nil {
		return 0, err
	}
	t, err := e.tenant(ctx, tenantID)
	if err != nil {
		return 0, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	l, ok := t.lists.Load().Get(name)
	if !ok {
		return 0, fmt.Errorf("%w: list %q", storage.ErrNotFound, name)
	}
	norm := make([]string, 0, len(values))
	var errs []error
	for i, v := range values {
		n, err := rules.NormalizeEntry(l.Kind, v)
		if err != nil {
			errs = append(errs, risk.Invalid(fmt.Sprintf("values[%d]", i), "%s", err.Error()))
			continue
		}
		norm = append(norm, n)
	}
	if len(errs) > 0 {
		return 0, errors.Join(errs...)
	}
	var n int
	if remove {
		n, err = e.store.RemoveListEntries(ctx, tenantID, name, norm)
	} else {
		n, err = e.store.AddListEntries(ctx, tenantID, name, norm)
	}
	if err != nil {
		return 0, fmt.Errorf("engine: list entries: %w", err)
	}
	return n, e.refreshList(ctx, t, l)
}

// refreshList reloads list l's entries from storage into the tenant's
// snapshot (l carries the metadata just written).
func (e *Engine) refreshList(ctx context.Context, t *tenant, l rules.List) error {
	entries, err := e.store.ListEntries(ctx, t.id, l.Name)
	if err != nil {
		return fmt.Errorf("engine: reload list: %w", err)
	}
	snap, err := t.lists.Load().With(rules.ListEntries{List: l, Entries: entries})
	if err != nil {
		return fmt.Errorf("engine: reload list: %w", err)
	}
	t.lists.Store(snap)
	return nil
}

// ValidateRules compiles rules against the tenant's lists without saving
// them; problems come back as rules.CompileErrors.
func (e *Engine) ValidateRules(ctx context.Context, tenantID string, rs []rules.Rule) error {
	t, err := e.tenant(ctx, tenantID)
	if err != nil {
		return err
	}
	_, err = rules.Compile(0, rs, e.schemas, t)
	return err
}
