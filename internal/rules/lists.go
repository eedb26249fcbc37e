package rules

import (
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/shopguard/shopguard/internal/risk"
)

// maxEntryErrors is how many invalid entries one list error reports.
const maxEntryErrors = 10

// ListKind says what a list's entries are and how they are normalized.
type ListKind string

// The list kinds. A list's kind also selects the entities it applies to in
// Lists.Match: an entity matches lists whose kind string equals its kind.
const (
	ListUser        ListKind = "user"
	ListEmail       ListKind = "email"
	ListEmailDomain ListKind = "email_domain"
	ListIP          ListKind = "ip" // addresses and CIDR prefixes
	ListCard        ListKind = "card"
	ListBIN         ListKind = "bin"
	ListDevice      ListKind = "device"
	ListCountry     ListKind = "country"
	// ListLinkDomain holds registered domains of links in user content.
	ListLinkDomain ListKind = "link_domain"
	ListString     ListKind = "string" // free-form; only for in_list
)

// Valid reports whether k is one of the list kinds.
func (k ListKind) Valid() bool {
	switch k {
	case ListUser, ListEmail, ListEmailDomain, ListIP, ListCard, ListBIN, ListDevice, ListCountry, ListLinkDomain, ListString:
		return true
	}
	return false
}

// Effect is what a list does on its own when an event's entity is on it.
type Effect string

// The effects. The empty effect means EffectNone.
const (
	// EffectNone lists only serve rules (through in_list).
	EffectNone      Effect = "none"
	EffectAllow     Effect = "allow"
	EffectReview    Effect = "review"
	EffectChallenge Effect = "challenge"
	EffectBlock     Effect = "block"
)

// Valid reports whether e is one of the effects (not the empty one).
func (e Effect) Valid() bool {
	_, ok := e.Action()
	return ok || e == EffectNone
}

// Action returns the risk action of the effect, and false for EffectNone
// and invalid effects.
func (e Effect) Action() (risk.Action, bool) {
	switch e {
	case EffectAllow:
		return risk.ActionAllow, true
	case EffectReview:
		return risk.ActionReview, true
	case EffectChallenge:
		return risk.ActionChallenge, true
	case EffectBlock:
		return risk.ActionBlock, true
	}
	return "", false
}

// List describes one named list of a tenant.
type List struct {
	// Name identifies the list: [a-z0-9][a-z0-9_-]{0,63}.
	Name string `json:"name"`
	// Description says what the list is for (at most 500 characters).
	Description string `json:"description"`
	// Kind says what the entries are.
	Kind ListKind `json:"kind"`
	// Effect applies to entities on the list; empty means none.
	Effect Effect `json:"effect"`
}

// Validate checks l's fields and returns nil or one *FieldError per
// problem, joined with errors.Join.
func (l List) Validate() error {
	var errs []error
	if msg := checkName(l.Name); msg != "" {
		errs = append(errs, fieldError("name", msg))
	}
	if !l.Kind.Valid() {
		errs = append(errs, fieldError("kind", fmt.Sprintf(
			"%q is not one of user, email, email_domain, ip, card, bin, device, country, string", l.Kind)))
	}
	if l.Effect != "" && !l.Effect.Valid() {
		errs = append(errs, fieldError("effect", fmt.Sprintf(
			"%q is not one of none, allow, review, challenge, block", l.Effect)))
	}
	switch {
	case !utf8.ValidString(l.Description):
		errs = append(errs, fieldError("description", "is not valid UTF-8"))
	case utf8.RuneCountInString(l.Description) > MaxDescriptionLen:
		errs = append(errs, fieldError("description", fmt.Sprintf("is longer than %d characters", MaxDescriptionLen)))
	}
	return errors.Join(errs...)
}

// ListEntries is a list with its entries.
type ListEntries struct {
	List
	// Entries may be given in any form NormalizeEntry accepts; they are
	// normalized (and deduplicated) when a Lists is built.
	Entries []string `json:"entries"`
}

// Hit is an entity found on a list with an effect.
type Hit struct {
	List   List
	Entity risk.Entity
}

// Lists is an immutable snapshot of a tenant's lists, safe for concurrent
// use. Updates (With, Without) return a new snapshot that shares the
// unchanged lists. A nil *Lists behaves as an empty one.
type Lists struct {
	byName map[string]*listData
	names  []string               // sorted
	byKind map[string][]*listData // lists with an effect, by kind, sorted by name
}

// listData is one list's entries, indexed for lookups.
type listData struct {
	list List
	n    int                 // number of distinct entries
	strs map[string]struct{} // every kind but ip
	ips  *ipSet              // ip lists
}

// NewLists validates the lists, normalizes their entries with
// NormalizeEntry and returns the snapshot. List names must be unique. An
// invalid list or entry fails the whole call with an error wrapping
// ErrInvalid that names the list and the entry's index (reporting at most
// 10 bad entries per list).
func NewLists(lists []ListEntries) (*Lists, error) {
	l := &Lists{byName: make(map[string]*listData, len(lists))}
	var errs []error
	for _, le := range lists {
		d, err := buildList(le)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if _, dup := l.byName[d.list.Name]; dup {
			errs = append(errs, fmt.Errorf("%w: list %q is defined twice", ErrInvalid, d.list.Name))
			continue
		}
		l.byName[d.list.Name] = d
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	l.index()
	return l, nil
}

// With returns a snapshot in which the list named le.Name (added or
// replaced) has exactly le's entries; l is unchanged. Errors are as for
// NewLists.
func (l *Lists) With(le ListEntries) (*Lists, error) {
	d, err := buildList(le)
	if err != nil {
		return nil, err
	}
	n := l.clone(1)
	n.byName[d.list.Name] = d
	n.index()
	return n, nil
}

// Without returns a snapshot without the list named name (l itself when
// there is no such list).
func (l *Lists) Without(name string) *Lists {
	if _, ok := l.get(name); !ok {
		return l
	}
	n := l.clone(0)
	delete(n.byName, name)
	n.index()
	return n
}

// Lists returns l, so that a fixed snapshot is a ListSource.
func (l *Lists) Lists() *Lists { return l }

// Get returns the list named name.
func (l *Lists) Get(name string) (List, bool) {
	d, ok := l.get(name)
	if !ok {
		return List{}, false
	}
	return d.list, true
}

// Names returns the sorted list names.
func (l *Lists) Names() []string {
	if l == nil {
		return nil
	}
	out := make([]string, len(l.names))
	copy(out, l.names)
	return out
}

// Len returns the number of distinct entries of the list named name (0 if
// there is none).
func (l *Lists) Len(name string) int {
	d, ok := l.get(name)
	if !ok {
		return 0
	}
	return d.n
}

// Contains reports whether value, normalized for the list's kind, is on the
// list named name. On an ip list an address matches equal entries and every
// prefix containing it; a prefix matches only an equal entry. An unknown
// list or invalid value is simply not contained.
func (l *Lists) Contains(name, value string) bool {
	d, ok := l.get(name)
	return ok && d.contains(value)
}

// Match appends to out a Hit for every entity that is on a list whose kind
// string equals the entity's kind and whose effect is not none (pseudo
// entity kinds such as "bin" and "country" work the same way), in entity
// order and then list name order, and returns out.
func (l *Lists) Match(entities []risk.Entity, out []Hit) []Hit {
	if l == nil {
		return out
	}
	for _, e := range entities {
		for _, d := range l.byKind[string(e.Kind)] {
			if d.contains(e.Value) {
				out = append(out, Hit{List: d.list, Entity: e})
			}
		}
	}
	return out
}

func (l *Lists) get(name string) (*listData, bool) {
	if l == nil {
		return nil, false
	}
	d, ok := l.byName[name]
	return d, ok
}

// clone returns a copy of l sharing the list data, with room for extra lists.
func (l *Lists) clone(extra int) *Lists {
	n := &Lists{}
	if l == nil {
		n.byName = make(map[string]*listData, extra)
		return n
	}
	n.byName = make(map[string]*listData, len(l.byName)+extra)
	for k, v := range l.byName {
		n.byName[k] = v
	}
	return n
}

// index rebuilds names and byKind from byName.
func (l *Lists) index() {
	l.names = make([]string, 0, len(l.byName))
	for name := range l.byName {
		l.names = append(l.names, name)
	}
	sort.Strings(l.names)
	l.byKind = make(map[string][]*listData)
	for _, name := range l.names {
		d := l.byName[name]
		if d.list.Effect != EffectNone {
			l.byKind[string(d.list.Kind)] = append(l.byKind[string(d.list.Kind)], d)
		}
	}
}

// buildList validates le and indexes its normalized entries.
func buildList(le ListEntries) (*listData, error) {
	if err := le.List.Validate(); err != nil {
		return nil, fmt.Errorf("list %q: %w", le.Name, err)
	}
	d := &listData{list: le.List}
	if d.list.Effect == "" {
		d.list.Effect = EffectNone
	}
	if le.Kind == ListIP {
		d.ips = &ipSet{}
	} else {
		d.strs = make(map[string]struct{}, len(le.Entries))
	}
	var errs []error
	bad := 0
	for i, v := range le.Entries {
		if le.Kind == ListIP {
			p, err := parseIPEntry(v)
			if err == nil {
				if d.ips.add(p) {
					d.n++
				}
				continue
			}
			bad, errs = bad+1, appendEntryError(errs, bad, le.Name, i, err)
			continue
		}
		norm, err := NormalizeEntry(le.Kind, v)
		if err != nil {
			bad, errs = bad+1, appendEntryError(errs, bad, le.Name, i, err)
			continue
		}
		if _, dup := d.strs[norm]; !dup {
			d.strs[norm] = struct{}{}
			d.n++
		}
	}
	if bad > maxEntryErrors {
		errs = append(errs, fmt.Errorf("%w: list %q: %d more invalid entries", ErrInvalid, le.Name, bad-maxEntryErrors))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return d, nil
}

// appendEntryError appends the error of entry i unless enough were reported.
func appendEntryError(errs []error, reported int, list string, i int, err error) []error {
	if reported >= maxEntryErrors {
		return errs
	}
	return append(errs, fmt.Errorf("list %q entry #%d: %w", list, i, err))
}

// contains reports whether value is on d (see Lists.Contains).
func (d *listData) contains(value string) bool {
	if d.ips != nil {
		return d.ips.containsString(value)
	}
	_, ok := d.strs[lookupKey(d.list.Kind, value)]
	return ok
}

// AtomicLists holds a tenant's current Lists snapshot for concurrent
// readers and serialized writers. The zero value holds no lists and is
// ready to use; it must not be copied after first use.
type AtomicLists struct {
	mu  sync.Mutex // serializes Update and Store
	cur atomic.Pointer[Lists]
}

var _ ListSource = (*AtomicLists)(nil)
var _ ListSource = (*Lists)(nil)

// Lists returns the current snapshot (nil, which behaves as empty, before
// the first Store).
func (a *AtomicLists) Lists() *Lists { return a.cur.Load() }

// Store replaces the current snapshot.
func (a *AtomicLists) Store(l *Lists) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.cur.Store(l)
}

// Update replaces the current snapshot with fn's result, or keeps it when
// fn returns an error (which Update returns). Updates are serialized, so
// fn sees the latest snapshot, e.g. a.Update(func(l *Lists) (*Lists, error)
// { return l.With(le) }).
func (a *AtomicLists) Update(fn func(*Lists) (*Lists, error)) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	n, err := fn(a.cur.Load())
	if err != nil {
		return err
	}
	a.cur.Store(n)
	return nil
}

// ipSet holds addresses and prefixes, grouped by prefix length so that a
// lookup costs one mask and one map access per distinct length.
type ipSet struct {
	v4 []bucket[uint32]   // sorted by bits, longest first
	v6 []bucket[[16]byte] // likewise
}

// bucket holds the masked prefix addresses of one length.
type bucket[K comparable] struct {
	bits int
	set  map[K]struct{}
}

// add adds p (masked, unmapped) and reports whether it was new.
func (s *ipSet) add(p netip.Prefix) bool {
	a := p.Addr()
	if a.Is4() {
		return addTo(&s.v4, p.Bits(), v4key(a))
	}
	return addTo(&s.v6, p.Bits(), a.As16())
}

func addTo[K comparable](bs *[]bucket[K], bits int, k K) bool {
	i := sort.Search(len(*bs), func(i int) bool { return (*bs)[i].bits <= bits })
	if i == len(*bs) || (*bs)[i].bits != bits {
		*bs = append(*bs, bucket[K]{})
		copy((*bs)[i+1:], (*bs)[i:])
		(*bs)[i] = bucket[K]{bits: bits, set: make(map[K]struct{})}
	}
	set := (*bs)[i].set
	if _, dup := set[k]; dup {
		return false
	}
	set[k] = struct{}{}
	return true
}

// containsString parses value as an address or a prefix and looks it up.
func (s *ipSet) containsString(value string) bool {
	value = strings.TrimSpace(value)
	if strings.IndexByte(value, '/') >= 0 {
		p, err := parseIPEntry(value)
		if err != nil {
			return false
		}
		if p.IsSingleIP() {
			return s.containsAddr(p.Addr())
		}
		return s.containsPrefix(p)
	}
	a, err := netip.ParseAddr(value)
	if err != nil {
		return false
	}
	return s.containsAddr(a.WithZone("").Unmap())
}

// containsAddr reports whether a (unmapped, no zone) is in the set.
func (s *ipSet) containsAddr(a netip.Addr) bool {
	if a.Is4() {
		u := v4key(a)
		for _, b := range s.v4 {
			if _, ok := b.set[u&mask4(b.bits)]; ok {
				return true
			}
		}
		return false
	}
	for _, b := range s.v6 {
		p, _ := a.Prefix(b.bits)
		if _, ok := b.set[p.Addr().As16()]; ok {
			return true
		}
	}
	return false
}

// containsPrefix reports whether exactly p (masked, unmapped) is in the set.
func (s *ipSet) containsPrefix(p netip.Prefix) bool {
	a := p.Addr()
	if a.Is4() {
		for _, b := range s.v4 {
			if b.bits == p.Bits() {
				_, ok := b.set[v4key(a)]
				return ok
			}
		}
		return false
	}
	for _, b := range s.v6 {
		if b.bits == p.Bits() {
			_, ok := b.set[a.As16()]
			return ok
		}
	}
	return false
}

func v4key(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func mask4(bits int) uint32 {
	if bits == 0 {
		return 0
	}
	return ^uint32(0) << (32 - bits)
}
