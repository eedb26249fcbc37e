package apikey

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/storage"
	"github.com/shopguard/shopguard/internal/storage/memory"
)

func TestNewAndAuthenticate(t *testing.T) {
	store := memory.New()
	ctx := context.Background()
	secret, rec, err := New("shop", "checkout", []Scope{ScopeEventsWrite}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, "sg_") || len(secret) < 40 || strings.Contains(rec.Hash, secret) || rec.Hash != Hash(secret) {
		t.Fatalf("secret %q, record %+v", secret, rec)
	}
	if err := store.CreateKey(ctx, rec); err != nil {
		t.Fatal(err)
	}
	auth := NewAuthenticator(store, time.Minute)
	k, err := auth.Authenticate(ctx, "Bearer "+secret)
	if err != nil || k.Tenant != "shop" || !k.Allows(ScopeEventsWrite) || k.Allows(ScopeRulesWrite) {
		t.Fatalf("Authenticate = %+v, %v", k, err)
	}
	tests := []struct {
		header string
		want   error
	}{
		{"", ErrMissing},
		{"Basic abc", ErrInvalid},
		{"Bearer", ErrInvalid},
		{"Bearer sk_live_123", ErrInvalid},
		{"Bearer sg_unknown", ErrInvalid},
		{"Bearer sg_" + strings.Repeat("a", 200), ErrInvalid},
	}
	for _, tc := range tests {
		if _, err := auth.Authenticate(ctx, tc.header); !errors.Is(err, tc.want) {
			t.Errorf("Authenticate(%q) = %v, want %v", tc.header, err, tc.want)
		}
	}
	// Revocation: immediately without a cache, after Forget with one.
	if err := store.RevokeKey(ctx, rec.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := NewAuthenticator(store, 0).Authenticate(ctx, "Bearer "+secret); !errors.Is(err, ErrInvalid) {
		t.Errorf("revoked key accepted: %v", err)
	}
	if _, err := auth.Authenticate(ctx, "Bearer "+secret); err != nil {
		t.Errorf("cached key refused before the TTL: %v", err)
	}
	auth.Forget()
	if _, err := auth.Authenticate(ctx, "Bearer "+secret); !errors.Is(err, ErrInvalid) {
		t.Errorf("revoked key accepted after Forget: %v", err)
	}
}

func TestStorageErrorsAreNotCached(t *testing.T) {
	store := memory.New()
	auth := NewAuthenticator(store, time.Minute)
	store.Close()
	if _, err := auth.Authenticate(context.Background(), "Bearer sg_x"); errors.Is(err, ErrInvalid) || !errors.Is(err, storage.ErrClosed) {
		t.Errorf("storage failure reported as %v", err)
	}
}

func TestParseScopesAndTenants(t *testing.T) {
	if s, err := ParseScopes([]string{"events:write", " rules:read", "events:write", ""}); err != nil || len(s) != 2 {
		t.Errorf("ParseScopes = %v, %v", s, err)
	}
	for _, bad := range [][]string{{"admin"}, {}, {" "}} {
		if _, err := ParseScopes(bad); err == nil {
			t.Errorf("ParseScopes(%q) accepted", bad)
		}
	}
	for name, want := range map[string]bool{"shop": true, "my-shop_2": true, "": false, "Shop": false, "-x": false, strings.Repeat("a", 65): false} {
		if ValidTenant(name) != want {
			t.Errorf("ValidTenant(%q) = %v", name, !want)
		}
	}
	if _, _, err := New("Bad", "", AllScopes, time.Now()); err == nil {
		t.Error("New accepted a bad tenant")
	}
}
