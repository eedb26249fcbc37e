package content_test

import (
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/content"
	"github.com/shopguard/shopguard/internal/risk"
)

var now = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func validPost() content.Post {
	return content.Post{ID: "r1", CreatedAt: "2026-05-01T11:59:00Z", PostKind: content.KindReview, Title: "Solid kettle",
		Text: "Boils fast, the lid closes well.", Rating: 5, TargetID: "sku-1",
		Author: content.Author{UserID: "u1", CreatedAt: "2025-01-01T00:00:00Z", VerifiedPurchase: true, IP: "203.0.113.9", DeviceID: "d1"}}
}

// TestPostValidation names the field of every mistake; the cases are in
// testdata/posts/invalid.json (a post patch and the fields it must name).
func TestPostValidation(t *testing.T) {
	raw, err := os.ReadFile("testdata/posts/invalid.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Name   string         `json:"name"`
		Patch  map[string]any `json:"patch"`
		Fields []string       `json:"fields"`
	}
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	good := validPost()
	if err := good.Validate(now); err != nil {
		t.Fatalf("valid post: %v", err)
	}
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			p := patched(t, tc.Patch)
			err := p.Validate(now)
			if err == nil {
				t.Fatalf("Validate accepted %+v", p)
			}
			var got []string
			for _, e := range unjoin(err) {
				var fe *risk.FieldError
				if !errors.As(e, &fe) {
					t.Fatalf("error %v is no field error", e)
				}
				got = append(got, fe.Field)
			}
			if !slices.Equal(got, tc.Fields) {
				t.Errorf("fields %v, want %v (%v)", got, tc.Fields, err)
			}
		})
	}
}

// patched returns the valid post with patch's JSON fields replaced
// (author fields as "author.x").
func patched(t *testing.T, patch map[string]any) content.Post {
	t.Helper()
	var m map[string]any
	b, _ := json.Marshal(validPost())
	_ = json.Unmarshal(b, &m)
	for k, v := range patch {
		if a, ok := strings.CutPrefix(k, "author."); ok {
			author := m["author"].(map[string]any)
			if v == nil {
				delete(author, a)
			} else {
				author[a] = v
			}
			continue
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	b, _ = json.Marshal(m)
	var p content.Post
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// TestPostNormalises writes times and IPs back in one spelling, so that a
// retry with another spelling of the same post is the same event.
func TestPostNormalises(t *testing.T) {
	p := validPost()
	p.CreatedAt = "2026-05-01T13:59:00+02:00"
	p.Author.IP = " ::ffff:203.0.113.9 "
	if err := p.Validate(now); err != nil {
		t.Fatal(err)
	}
	if p.CreatedAt != "2026-05-01T11:59:00Z" || p.Author.IP != "203.0.113.9" {
		t.Errorf("normalised %q %q", p.CreatedAt, p.Author.IP)
	}
}

func TestDecodeStoredPost(t *testing.T) {
	p := validPost()
	if err := p.Validate(now); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(&p)
	in, err := content.Kind{}.Decode(b)
	if err != nil || in.ExternalID() != "r1" || !in.OccurredAt().Equal(time.Date(2026, 5, 1, 11, 59, 0, 0, time.UTC)) {
		t.Fatalf("Decode = %v, %v", in, err)
	}
	if _, err := (content.Kind{}).Decode([]byte(`{"id":""}`)); err == nil {
		t.Error("Decode accepted a post without id")
	}
}
