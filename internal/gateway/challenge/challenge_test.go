package challenge

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func signer(t testing.TB) *Signer {
	t.Helper()
	s, err := NewSigner([]byte(strings.Repeat("k", MinKeyLen)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var (
	alice   = Client{Prefix: "198.51.100.0/24", Fingerprint: "t13d1516h2_8daaf6152771_02713d6af862", UserAgent: "Mozilla/5.0 Chrome/131"}
	mallory = Client{Prefix: "203.0.113.0/24", Fingerprint: alice.Fingerprint, UserAgent: alice.UserAgent}
	now     = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
)

func TestNewSignerNeedsALongSecret(t *testing.T) {
	if _, err := NewSigner(make([]byte, MinKeyLen-1)); err == nil {
		t.Fatal("a short secret was accepted")
	}
}

func TestPuzzle(t *testing.T) {
	s := signer(t)
	p, err := s.Puzzle(alice, 10, time.Minute, now)
	if err != nil {
		t.Fatal(err)
	}
	counter := Solve(p)
	if err := s.Solved(p.Token, counter, alice, now.Add(30*time.Second)); err != nil {
		t.Fatalf("the solution was refused: %v", err)
	}
	other, err := NewSigner([]byte(strings.Repeat("x", MinKeyLen)))
	if err != nil {
		t.Fatal(err)
	}
	// A counter that does not solve it: the first one with too few zeros.
	wrong := "0"
	for i := 0; LeadingZeros(p.Token, wrong) >= p.Bits; i++ {
		wrong = strings.Repeat("1", i+1)
	}
	for _, tc := range []struct {
		name    string
		s       *Signer
		puzzle  string
		counter string
		client  Client
		at      time.Time
		want    string
	}{
		{"another client", s, p.Token, counter, mallory, now, "another client"},
		{"expired", s, p.Token, counter, alice, now.Add(2 * time.Minute), "expired"},
		{"wrong counter", s, p.Token, wrong, alice, now, "does not solve"},
		{"counter not a number", s, p.Token, "12a", alice, now, "not a number"},
		{"no counter", s, p.Token, "", alice, now, "no counter"},
		{"another gateway's secret", other, p.Token, counter, alice, now, "bad signature"},
		{"tampered", s, p.Token[:len(p.Token)-2] + "AA", counter, alice, now, "signature"},
		{"garbage", s, "%%%", counter, alice, now, "malformed"},
		{"a clearance is no puzzle", s, s.Clearance(alice, time.Hour, now), counter, alice, now, "kind"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.s.Solved(tc.puzzle, tc.counter, tc.client, tc.at)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Solved = %v, want ErrInvalid saying %q", err, tc.want)
			}
		})
	}
	if _, err := s.Puzzle(alice, MaxBits+1, time.Minute, now); err == nil {
		t.Error("a puzzle beyond MaxBits was issued")
	}
}

func TestWait(t *testing.T) {
	s := signer(t)
	ticket := s.Wait(alice, 5*time.Second, time.Minute, now)
	if err := s.Waited(ticket, alice, now.Add(2*time.Second)); err == nil || !strings.Contains(err.Error(), "too early") {
		t.Fatalf("submitted after 2 s of 5: %v", err)
	}
	if err := s.Waited(ticket, alice, now.Add(5*time.Second)); err != nil {
		t.Fatalf("submitted after the wait: %v", err)
	}
	if err := s.Waited(ticket, mallory, now.Add(5*time.Second)); err == nil {
		t.Fatal("another client's ticket was accepted")
	}
	if err := s.Waited(ticket, alice, now.Add(2*time.Minute)); err == nil {
		t.Fatal("an expired ticket was accepted")
	}
}

func TestClearance(t *testing.T) {
	s := signer(t)
	c := s.Clearance(alice, time.Hour, now)
	if err := s.Cleared(c, alice, now.Add(59*time.Minute)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		client Client
		at     time.Time
	}{
		{"another network", mallory, now},
		{"another user agent", Client{Prefix: alice.Prefix, Fingerprint: alice.Fingerprint, UserAgent: "curl/8"}, now},
		{"another TLS stack", Client{Prefix: alice.Prefix, Fingerprint: "t13d311100_e8f1e7e78f70_d41ae481755e", UserAgent: alice.UserAgent}, now},
		{"expired", alice, now.Add(61 * time.Minute)},
	} {
		if err := s.Cleared(c, tc.client, tc.at); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Cleared = %v", tc.name, err)
		}
	}
}

func FuzzOpen(f *testing.F) {
	s := signer(f)
	p, _ := s.Puzzle(alice, 4, time.Minute, now)
	f.Add(p.Token, "7")
	f.Add(s.Clearance(alice, time.Hour, now), "")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, tok, counter string) {
		// Never a panic; anything accepted is a real solution.
		if s.Solved(tok, counter, alice, now) == nil && LeadingZeros(tok, counter) < 4 {
			t.Fatalf("accepted %q %q", tok, counter)
		}
		_ = s.Cleared(tok, alice, now)
		_ = s.Waited(tok, alice, now)
	})
}

func BenchmarkCleared(b *testing.B) {
	s := signer(b)
	c := s.Clearance(alice, time.Hour, now)
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Cleared(c, alice, now); err != nil {
			b.Fatal(err)
		}
	}
}
