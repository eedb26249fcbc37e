package main

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"html"
	"math/bits"
	"regexp"
	"strconv"
	"strings"
)

// challengePage is what a browser reads from the gateway's challenge page
// (internal/gateway/challenges.go, challengeTemplate): the proof-of-work
// form the page's script fills in and submits, or for a wait challenge
// the ticket URL its meta refresh goes to.
type challengePage struct {
	// Action is the form's action (POST), "" on a wait page.
	Action string
	// Puzzle is the signed puzzle, the nonce the script hashes; "" on a
	// wait page.
	Puzzle string
	// Bits is how many leading zero bits the hash must have.
	Bits int
	// Return is where the gateway sends the browser back to.
	Return string
	// WaitURL is the wait ticket's URL and WaitSeconds how long the page
	// waits before following it (the fallback without JavaScript).
	WaitURL     string
	WaitSeconds int
}

// maxChallengeBits is the hardest puzzle solved (the gateway's own bound is
// 24 bits).
const maxChallengeBits = 24

var (
	reForm    = regexp.MustCompile(`<form\b[^>]*\baction="([^"]*)"`)
	reInput   = regexp.MustCompile(`<input\b[^>]*\bname="([^"]*)"[^>]*\bvalue="([^"]*)"`)
	reToken   = regexp.MustCompile(`\bvar token = "([A-Za-z0-9_\-]*)", bits =\s*(\d+)\s*;`)
	reRefresh = regexp.MustCompile(`<meta http-equiv="refresh" content="(\d+);url=([^"]*)">`)
)

// errNoChallenge means a page is not a challenge page this browser can
// pass.
var errNoChallenge = errors.New("not a challenge page")

// parseChallenge reads a challenge page as the browser sees it: the form
// and the script's token and difficulty for a proof of work, and the meta
// refresh of a wait.
func parseChallenge(body []byte) (challengePage, error) {
	s := string(body)
	var p challengePage
	if m := reRefresh.FindStringSubmatch(s); m != nil {
		n, err := strconv.Atoi(m[1])
		if err != nil || n > 600 {
			return p, fmt.Errorf("%w: refresh after %q seconds", errNoChallenge, m[1])
		}
		p.WaitSeconds, p.WaitURL = n, html.UnescapeString(m[2])
	}
	if m := reToken.FindStringSubmatch(s); m != nil {
		n, err := strconv.Atoi(m[2])
		if err != nil || n < 1 || n > maxChallengeBits {
			return p, fmt.Errorf("%w: %q bits", errNoChallenge, m[2])
		}
		p.Puzzle, p.Bits = m[1], n
		f := reForm.FindStringSubmatch(s)
		if f == nil {
			return p, fmt.Errorf("%w: a puzzle without a form", errNoChallenge)
		}
		p.Action = html.UnescapeString(f[1])
		var formPuzzle string
		for _, in := range reInput.FindAllStringSubmatch(s, -1) {
			switch in[1] {
			case "puzzle":
				formPuzzle = html.UnescapeString(in[2])
			case "return":
				p.Return = html.UnescapeString(in[2])
			}
		}
		if formPuzzle != p.Puzzle {
			return p, fmt.Errorf("%w: the form's puzzle is not the script's", errNoChallenge)
		}
	}
	if p.Puzzle == "" && p.WaitURL == "" {
		return p, errNoChallenge
	}
	if p.Action != "" && !sitePath(p.Action) || p.WaitURL != "" && !sitePath(p.WaitURL) {
		return p, fmt.Errorf("%w: a form or refresh to another site", errNoChallenge)
	}
	return p, nil
}

// sitePath reports whether p is a path on the same site ("/x", not
// "//host/x" or "https://host/x").
func sitePath(p string) bool {
	return strings.HasPrefix(p, "/") && !strings.HasPrefix(p, "//") && !strings.HasPrefix(p, "/\\")
}

// leadingZeros returns the leading zero bits of SHA-256(s), as the page's
// script computes them.
func leadingZeros(s string) int {
	sum := sha256.Sum256([]byte(s))
	n := 0
	for _, b := range sum {
		if b != 0 {
			return n + bits.LeadingZeros8(b)
		}
		n += 8
	}
	return n
}

// solve does what the page's script does: counters 0, 1, 2, … until
// SHA-256("puzzle:counter") starts with bits zero bits. It returns the
// counter in decimal and how many hashes it took.
func solve(puzzle string, bits int) (counter string, hashes int) {
	prefix := puzzle + ":"
	for i := 0; ; i++ {
		c := strconv.Itoa(i)
		if leadingZeros(prefix+c) >= bits {
			return c, i + 1
		}
	}
}
