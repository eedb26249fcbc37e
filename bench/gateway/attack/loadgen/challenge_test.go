package main

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// The pages in testdata/challenge-pow.html and challenge-wait.html were
// served by `shopguard gateway` (a route with challenge: pow in
// under-attack mode, and one with challenge: wait).
func TestParseChallenge(t *testing.T) {
	const powToken = "cA79HxaBz_O7zDNXba6Rviy0AAAAAGsTkqcAAAAAAAAAANrqzsBW4P0hBNWaN7dY7Ve7dAr5i0h9yXfiDm009EqKdp0Wt1cFwxHBfc2G"
	tests := []struct {
		file    string
		want    challengePage
		wantErr bool
	}{
		{file: "challenge-pow.html", want: challengePage{Action: "/.shopguard/challenge", Puzzle: powToken, Bits: 14, Return: "/product/3",
			WaitURL:     "/.shopguard/challenge?return=%2Fproduct%2F3&wait=dwD9HxaBz_O7zDNXba6Rviy0AAAAAGsTkqcAAAGiRHBe7t5mIejgQf-GJrOhfa8dLBOZaQk7AnlEyc6Fm5zmUrpqwhmE2vm6ISj46HWb",
			WaitSeconds: 5}},
		{file: "challenge-wait.html", want: challengePage{
			WaitURL:     "/.shopguard/challenge?return=%2Fproduct%2F7%3Fa%3D1%26b%3D2&wait=dwD9HxaBz_O7zDNXba6Rviy0AAAAAGsTkq8AAAGiRHB8t8tnh5quHlOYdtEc392RK68bVv6Fsoo11JfKDQJXB2EmRKnPo36cQ4-Hr0Fg",
			WaitSeconds: 5}},
		{file: "not-a-challenge.html", wantErr: true},
		{file: "challenge-other-site.html", wantErr: true},
		{file: "challenge-too-hard.html", wantErr: true},
		{file: "challenge-mismatch.html", wantErr: true},
		{file: "challenge-no-form.html", wantErr: true},
		{file: "challenge-protocol-relative.html", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			got, err := parseChallenge(body)
			if tt.wantErr {
				if !errors.Is(err, errNoChallenge) {
					t.Fatalf("parseChallenge = %+v, %v; want errNoChallenge", got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("parseChallenge =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestLeadingZeros(t *testing.T) {
	// Expected counts from Python's hashlib, an independent SHA-256.
	tests := []struct {
		in   string
		want int
	}{
		{"", 0},               // e3b0c442…
		{"abc", 0},            // ba7816bf…
		{"vector:234802", 20}, // 00000b51…
	}
	for _, tt := range tests {
		if got := leadingZeros(tt.in); got != tt.want {
			t.Errorf("leadingZeros(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestSolve(t *testing.T) {
	body, err := os.ReadFile(filepath.Join("testdata", "challenge-pow.html"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := parseChallenge(body)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		bits        int
		wantCounter string // "" when only checked, not known
	}{
		{bits: 14, wantCounter: "4560"}, // the smallest, from Python's hashlib
		{bits: 1},
		{bits: 10},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.bits), func(t *testing.T) {
			counter, hashes := solve(p.Puzzle, tt.bits)
			if tt.wantCounter != "" && counter != tt.wantCounter {
				t.Errorf("solve = %s, want %s", counter, tt.wantCounter)
			}
			n, err := strconv.Atoi(counter)
			if err != nil || hashes != n+1 {
				t.Fatalf("solve = %q after %d hashes", counter, hashes)
			}
			if z := leadingZeros(p.Puzzle + ":" + counter); z < tt.bits {
				t.Errorf("counter %s gives %d zero bits, want ≥ %d", counter, z, tt.bits)
			}
			for i := range n { // the script stops at the first: so must we
				if leadingZeros(p.Puzzle+":"+strconv.Itoa(i)) >= tt.bits {
					t.Fatalf("counter %d solves it already", i)
				}
			}
		})
	}
}

func FuzzParseChallenge(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.html"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := parseChallenge(body)
		if err != nil {
			if !errors.Is(err, errNoChallenge) {
				t.Fatalf("error %v does not wrap errNoChallenge", err)
			}
			return
		}
		if p.Puzzle == "" && p.WaitURL == "" {
			t.Fatal("a challenge with neither puzzle nor wait")
		}
		if p.Puzzle != "" && (p.Bits < 1 || p.Bits > maxChallengeBits || !sitePath(p.Action)) {
			t.Fatalf("puzzle with bits %d, action %q", p.Bits, p.Action)
		}
		if p.WaitURL != "" && (!sitePath(p.WaitURL) || p.WaitSeconds < 0 || p.WaitSeconds > 600) {
			t.Fatalf("wait %q after %d s", p.WaitURL, p.WaitSeconds)
		}
	})
}
