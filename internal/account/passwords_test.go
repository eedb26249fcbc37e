package account_test

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/shopguard/shopguard/internal/account"
	"github.com/shopguard/shopguard/internal/reference"
	"github.com/shopguard/shopguard/internal/risk"
)

func sha1hex(s string) string {
	sum := sha1.Sum([]byte(s))
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

func TestPasswordRange(t *testing.T) {
	p := account.NewPasswords(reference.CommonPasswords())
	if p.Len() < 49000 {
		t.Fatalf("%d passwords indexed", p.Len())
	}
	tests := []struct {
		password string
		listed   bool
	}{
		{"123456", true}, {"password", true}, {"qwerty", true},
		{"correct horse battery staple 9f2c41d7", false},
	}
	for _, tc := range tests {
		h := sha1hex(tc.password)
		// The shop's side: ask for the prefix in lower case, compare locally.
		got, err := p.Range(strings.ToLower(h[:5]))
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(got, h[5:]) != tc.listed || p.Contains(tc.password) != tc.listed {
			t.Errorf("%q: listed = %v, want %v", tc.password, !tc.listed, tc.listed)
		}
		for _, s := range got {
			if len(s) != 35 || strings.ToUpper(s) != s {
				t.Errorf("suffix %q is not 35 upper-case hex characters", s)
			}
		}
	}
	for _, bad := range []string{"", "abcd", "abcdef", "abcdg", "ab cd"} {
		var fe *risk.FieldError
		if _, err := p.Range(bad); !errors.As(err, &fe) || fe.Field != "prefix" {
			t.Errorf("Range(%q) = %v, want a field error on prefix", bad, err)
		}
	}
}
