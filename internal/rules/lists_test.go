package rules

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/shopguard/shopguard/internal/risk"
)

func TestListValidate(t *testing.T) {
	tests := []struct {
		name   string
		list   List
		fields []string
	}{
		{"valid", List{Name: "blocked-ips", Kind: ListIP, Effect: EffectBlock, Description: "known bad"}, nil},
		{"empty effect means none", List{Name: "x", Kind: ListString}, nil},
		{"bad name", List{Name: "Blocked IPs", Kind: ListIP}, []string{"name"}},
		{"unknown kind", List{Name: "x", Kind: "phone"}, []string{"kind"}},
		{"unknown effect", List{Name: "x", Kind: ListIP, Effect: "deny"}, []string{"effect"}},
		{"long description", List{Name: "x", Kind: ListIP, Description: strings.Repeat("x", 501)}, []string{"description"}},
		{"everything wrong", List{Kind: "", Effect: "x"}, []string{"name", "kind", "effect"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fieldsOf(t, tt.list.Validate()); !slices.Equal(got, tt.fields) {
				t.Errorf("fields with problems = %q, want %q", got, tt.fields)
			}
		})
	}
}

func TestEffectAction(t *testing.T) {
	for e, want := range map[Effect]risk.Action{EffectAllow: risk.ActionAllow, EffectReview: risk.ActionReview,
		EffectChallenge: risk.ActionChallenge, EffectBlock: risk.ActionBlock} {
		if got, ok := e.Action(); !ok || got != want {
			t.Errorf("%s.Action() = %q, %v", e, got, ok)
		}
	}
	if _, ok := EffectNone.Action(); ok || !EffectNone.Valid() || Effect("").Valid() {
		t.Error("EffectNone must be valid without an action; the empty effect is not Valid")
	}
}

func TestNewListsErrors(t *testing.T) {
	many := make([]string, 15)
	for i := range many {
		many[i] = fmt.Sprintf("bad-%d", i)
	}
	tests := []struct {
		name  string
		lists []ListEntries
		want  []string // substrings of the error
		card  bool     // the error must wrap ErrCardNumber
	}{
		{"duplicate list", []ListEntries{{List: List{Name: "a", Kind: ListUser}}, {List: List{Name: "a", Kind: ListIP}}},
			[]string{`list "a" is defined twice`}, false},
		{"invalid list", []ListEntries{{List: List{Name: "a", Kind: "phone"}}},
			[]string{`list "a": kind:`}, false},
		{"invalid entry", []ListEntries{{List: List{Name: "ips", Kind: ListIP}, Entries: []string{"10.0.0.1", "10.0.0.300"}}},
			[]string{`list "ips" entry #1:`, `"10.0.0.300" is neither`}, false},
		{"card number", []ListEntries{{List: List{Name: "cards", Kind: ListCard}, Entries: []string{"fp_1", "4111111111111111"}}},
			[]string{`list "cards" entry #1:`, "never stores card numbers"}, true},
		{"many bad entries", []ListEntries{{List: List{Name: "ips", Kind: ListIP}, Entries: many}},
			[]string{`entry #0:`, `entry #9:`, `5 more invalid entries`}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := NewLists(tt.lists)
			if err == nil || l != nil {
				t.Fatalf("NewLists = %v, %v; want only an error", l, err)
			}
			if !errors.Is(err, risk.ErrInvalid) || errors.Is(err, ErrCardNumber) != tt.card {
				t.Errorf("error %v: wraps ErrInvalid %v, ErrCardNumber %v", err, errors.Is(err, risk.ErrInvalid), errors.Is(err, ErrCardNumber))
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "4111111111111111") || strings.Contains(err.Error(), "bad-10") {
				t.Errorf("error %q says too much", err)
			}
		})
	}
}

func TestListsContains(t *testing.T) {
	l := testLists(t)
	tests := []struct {
		list, value string
		want        bool
	}{
		{"blocked-ips", "203.0.113.0", true},
		{"blocked-ips", "203.0.113.255", true},
		{"blocked-ips", " 203.0.113.9 ", true},
		{"blocked-ips", "203.0.114.1", false},
		{"blocked-ips", "198.51.100.7", true},
		{"blocked-ips", "198.51.100.7/32", true},
		{"blocked-ips", "::ffff:198.51.100.7", true},
		{"blocked-ips", "2001:db8:ffff::1", true},
		{"blocked-ips", "2001:db9::1", false},
		{"blocked-ips", "203.0.113.0/24", true},
		{"blocked-ips", "203.0.113.128/25", false}, // a prefix matches only an equal entry
		{"blocked-ips", "203.0.113.5/24", true},
		{"blocked-ips", "garbage", false},
		{"blocked-ips", "garbage/8", false},
		{"vip-emails", "alice@example.com", true},
		{"vip-emails", "ALICE@EXAMPLE.COM", true},
		{"vip-emails", "bob@example.com", false},
		{"risky-countries", "kp", true},
		{"risky-countries", "DE", false},
		{"bad-bins", "411111", true},
		{"bad-bins", "41111", false},
		{"no-such-list", "x", false},
	}
	for _, tt := range tests {
		if got := l.Contains(tt.list, tt.value); got != tt.want {
			t.Errorf("Contains(%q, %q) = %v, want %v", tt.list, tt.value, got, tt.want)
		}
	}
	if l.Len("blocked-ips") != 3 || l.Len("risky-countries") != 2 || l.Len("nope") != 0 {
		t.Errorf("Len = %d, %d", l.Len("blocked-ips"), l.Len("risky-countries"))
	}
}

func TestListsDeduplicates(t *testing.T) {
	l, err := NewLists([]ListEntries{
		{List: List{Name: "ips", Kind: ListIP}, Entries: []string{"10.0.0.1", "10.0.0.1/32", "::ffff:10.0.0.1", "10.0.0.0/8", "10.1.2.3/8"}},
		{List: List{Name: "emails", Kind: ListEmail}, Entries: []string{"a@example.com", "A@Example.com "}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if l.Len("ips") != 2 || l.Len("emails") != 1 {
		t.Errorf("Len(ips) = %d, Len(emails) = %d; want 2 and 1", l.Len("ips"), l.Len("emails"))
	}
	if got, _ := l.Get("ips"); got.Effect != EffectNone {
		t.Errorf("empty effect stored as %q, want none", got.Effect)
	}
}

func TestListsCopyOnWrite(t *testing.T) {
	l := testLists(t)
	n, err := l.With(ListEntries{List: List{Name: "new-users", Kind: ListUser, Effect: EffectReview}, Entries: []string{"u1"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := l.Get("new-users"); ok {
		t.Error("With changed the original snapshot")
	}
	if !n.Contains("new-users", "u1") || !n.Contains("blocked-ips", "198.51.100.7") {
		t.Error("the new snapshot lost entries")
	}
	if l.byName["blocked-ips"] != n.byName["blocked-ips"] {
		t.Error("an unchanged list was copied instead of shared")
	}
	want := []string{"bad-bins", "blocked-ips", "new-users", "risky-countries", "vip-emails"}
	if got := n.Names(); !slices.Equal(got, want) {
		t.Errorf("Names() = %q, want %q", got, want)
	}

	r, err := n.With(ListEntries{List: List{Name: "blocked-ips", Kind: ListIP, Effect: EffectBlock}, Entries: []string{"10.0.0.0/8"}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Contains("blocked-ips", "198.51.100.7") || !r.Contains("blocked-ips", "10.9.9.9") || !n.Contains("blocked-ips", "198.51.100.7") {
		t.Error("replacing a list did not replace exactly its entries in the new snapshot only")
	}
	if _, err := n.With(ListEntries{List: List{Name: "x", Kind: ListBIN}, Entries: []string{"12"}}); !errors.Is(err, risk.ErrInvalid) {
		t.Errorf("With(invalid) error = %v", err)
	}

	w := r.Without("new-users")
	if _, ok := w.Get("new-users"); ok || !r.Contains("new-users", "u1") {
		t.Error("Without did not remove the list from the new snapshot only")
	}
	if r.Without("no-such-list") != r {
		t.Error("Without(unknown) should return the same snapshot")
	}
}

func TestListsNil(t *testing.T) {
	var l *Lists
	if l.Contains("x", "y") || l.Names() != nil || l.Len("x") != 0 || l.Lists() != nil {
		t.Error("nil Lists is not empty")
	}
	if _, ok := l.Get("x"); ok {
		t.Error("nil Lists has a list")
	}
	if hits := l.Match([]risk.Entity{{Kind: risk.EntityIP, Value: "1.2.3.4"}}, nil); hits != nil {
		t.Errorf("nil Lists matched %v", hits)
	}
	if l.Without("x") != nil {
		t.Error("nil.Without should stay nil")
	}
	n, err := l.With(ListEntries{List: List{Name: "x", Kind: ListUser}, Entries: []string{"u"}})
	if err != nil || !n.Contains("x", "u") {
		t.Errorf("nil.With = %v, %v", n, err)
	}
}

func TestListsMatch(t *testing.T) {
	l, err := testLists(t).With(ListEntries{List: List{Name: "allowed-ips", Kind: ListIP, Effect: EffectAllow}, Entries: []string{"203.0.113.9"}})
	if err != nil {
		t.Fatal(err)
	}
	entities := []risk.Entity{
		{Kind: risk.EntityUser, Value: "u1"},
		{Kind: risk.EntityIP, Value: "203.0.113.9"},
		{Kind: risk.EntityEmail, Value: "Alice@example.com"},
		{Kind: "bin", Value: "411111"},
		{Kind: "country", Value: "KP"}, // on a list with effect none
		{Kind: risk.EntityIPPrefix, Value: "203.0.113.0/24"},
	}
	buf := make([]Hit, 0, 8)
	hits := l.Match(entities, buf)
	var got []string
	for _, h := range hits {
		got = append(got, h.List.Name+"="+h.Entity.String())
	}
	want := []string{
		"allowed-ips=ip:203.0.113.9",
		"blocked-ips=ip:203.0.113.9",
		"vip-emails=email:Alice@example.com",
		"bad-bins=bin:411111",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Match = %q, want %q", got, want)
	}
	if hits[1].List.Effect != EffectBlock {
		t.Errorf("hit list = %+v", hits[1].List)
	}
}

func TestAtomicListsUpdateError(t *testing.T) {
	var a AtomicLists
	if a.Lists() != nil {
		t.Fatal("zero AtomicLists is not empty")
	}
	first := testLists(t)
	a.Store(first)
	boom := errors.New("boom")
	if err := a.Update(func(*Lists) (*Lists, error) { return nil, boom }); err != boom {
		t.Errorf("Update error = %v", err)
	}
	if a.Lists() != first {
		t.Error("a failed Update replaced the snapshot")
	}
}

// TestListsLarge builds lists of 100k entries and checks lookups.
func TestListsLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("large lists are skipped in -short mode")
	}
	l := largeLists(t, 100_000)
	if l.Len("ips") != 100_000 || l.Len("emails") != 100_000 {
		t.Fatalf("Len = %d, %d", l.Len("ips"), l.Len("emails"))
	}
	for _, tt := range []struct {
		list, value string
		want        bool
	}{
		{"ips", "10.0.1.2", true}, {"ips", "10.200.0.1", false}, {"ips", "172.16.5.77", true},
		{"emails", "user99999@example.com", true}, {"emails", "user100000@example.com", false},
	} {
		if got := l.Contains(tt.list, tt.value); got != tt.want {
			t.Errorf("Contains(%q, %q) = %v", tt.list, tt.value, got)
		}
	}
}

// largeLists returns an ip list of n entries (mostly /32 addresses and one
// in ten a /24 prefix) and an email list of n entries.
func largeLists(t testing.TB, n int) *Lists {
	t.Helper()
	ips := make([]string, n)
	emails := make([]string, n)
	for i := range n {
		if i%10 == 0 {
			ips[i] = fmt.Sprintf("172.%d.%d.0/24", 16+(i/10)>>8, (i/10)&255)
		} else {
			ips[i] = fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
		}
		emails[i] = fmt.Sprintf("user%d@example.com", i)
	}
	l, err := NewLists([]ListEntries{
		{List: List{Name: "ips", Kind: ListIP, Effect: EffectBlock}, Entries: ips},
		{List: List{Name: "emails", Kind: ListEmail, Effect: EffectReview}, Entries: emails},
	})
	if err != nil {
		t.Fatal(err)
	}
	return l
}
