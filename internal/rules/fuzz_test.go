package rules

import (
	"errors"
	"testing"

	"github.com/shopguard/shopguard/internal/risk"
)

// FuzzCompile checks that Compile never panics and returns either a Set or
// CompileErrors, and that a compiled Set evaluates without panicking.
func FuzzCompile(f *testing.F) {
	for _, seed := range []struct{ expression, description string }{
		{"amount_minor > 100", "amount {{ amount_minor }}"},
		{`in_list("blocked-ips", ip) && currency == "EUR"`, "IP {{ ip }}"},
		{`in_list(currency, ip)`, "{{"},
		{"features.card.count_1h >= 5 ||\n ratio > 2.5", "{{ ratio * 100 }}% {{ }}"},
		{"let x = amount_minor; x > 1", "{{ tags[0] }}"},
		{"all(tags, # startsWith 'a')", "{{ in_list('bad-bins', bin) }}"},
		{"extra.y.z > 1", "}} {{ extra }}"},
		{"len(map(1..100000, #)) > 0", ""},
		{"user.email matches '^a'", "{{ 1/0 }}"},
	} {
		f.Add(seed.expression, seed.description)
	}
	lists := testLists(f)
	schemas := testSchemas()
	f.Fuzz(func(t *testing.T, expression, description string) {
		rs := []Rule{
			{Name: "fuzz", Kind: risk.EventTransaction, Expression: expression, Score: 10, Description: description},
			{Name: "fuzz_shadow", Kind: risk.EventTransaction, Expression: expression, Action: risk.ActionBlock, Mode: ModeShadow},
		}
		set, err := Compile(1, rs, schemas, lists)
		if (set == nil) == (err == nil) {
			t.Fatalf("Compile returned set %v and error %v", set, err)
		}
		if err != nil {
			var ces CompileErrors
			if !errors.As(err, &ces) || len(ces) == 0 || !errors.Is(err, ErrInvalid) {
				t.Fatalf("error is not a non-empty CompileErrors: %v", err)
			}
			for _, ce := range ces {
				if ce.Message == "" || (ce.Line == 0) != (ce.Column == 0) {
					t.Fatalf("bad CompileError %#v", ce)
				}
			}
			return
		}
		var res Result
		env := benignEnv()
		env.Tags = []string{"a", "b"}
		set.Evaluate(risk.EventTransaction, env, &res)
		if len(res.Active) != len(res.Shadow) {
			t.Fatalf("active and shadow copies of one rule disagree: %+v", res)
		}
	})
}

// FuzzNormalizeEntry checks that normalization never panics, is
// idempotent, agrees with the lookup form used by Contains, and never lets
// a card number through.
func FuzzNormalizeEntry(f *testing.F) {
	kinds := []ListKind{ListUser, ListEmail, ListEmailDomain, ListIP, ListCard, ListBIN, ListDevice, ListCountry, ListString}
	for i, seed := range []string{
		"Alice@Example.com", "example.com.", "203.0.113.7/24", "::ffff:1.2.3.4", "fp_123",
		"411111", "user-1", "de", "free text", "4111 1111 1111 1111", "fe80::1%eth0", "xn--bcher-kva.example",
	} {
		f.Add(uint8(i), seed)
	}
	f.Fuzz(func(t *testing.T, k uint8, v string) {
		kind := kinds[int(k)%len(kinds)]
		norm, err := NormalizeEntry(kind, v)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		again, err := NormalizeEntry(kind, norm)
		if err != nil || again != norm {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", v, norm, again, err)
		}
		if kind != ListIP && lookupKey(kind, v) != norm {
			t.Fatalf("lookupKey(%s, %q) = %q, NormalizeEntry = %q", kind, v, lookupKey(kind, v), norm)
		}
		if kind == ListCard && risk.LooksLikeCardNumber(norm) {
			t.Fatalf("card number %q accepted", v)
		}
		l, err := NewLists([]ListEntries{{List: List{Name: "l", Kind: kind}, Entries: []string{v}}})
		if err != nil {
			t.Fatalf("NewLists refused a valid entry %q: %v", v, err)
		}
		if !l.Contains("l", v) || !l.Contains("l", norm) {
			t.Fatalf("list of %q (normalized %q) does not contain it", v, norm)
		}
	})
}
