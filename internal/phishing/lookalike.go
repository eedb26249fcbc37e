package phishing

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"golang.org/x/net/idna"
)

//go:embed confusables.txt
var confusablesData []byte

// confusables maps a character that can pass for a letter or digit of a
// domain name to what it passes for ("0" → "o", Cyrillic "о" → "o").
var confusables = sync.OnceValue(func() map[rune]string {
	m := map[rune]string{}
	sc := bufio.NewScanner(bytes.NewReader(confusablesData))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		code, to, ok := strings.Cut(line, "\t")
		r, err := strconv.ParseUint(code, 16, 32)
		if !ok || err != nil {
			panic(fmt.Sprintf("phishing: confusables.txt: bad line %q", line))
		}
		m[rune(r)] = to
	}
	return m
})

// lookalikePairs are letter sequences that pass for another in a domain
// name at a glance (dnstwist's ASCII homoglyphs), folded after the
// per-character confusables.
var lookalikePairs = strings.NewReplacer("rn", "m", "vv", "w", "cl", "d", "nn", "m")

// skeleton folds a domain label to what it looks like: every character
// to the letter or digit it passes for, digits that pass for letters to
// the letters, lookalike pairs to the letter they imitate. Two labels
// with one skeleton read the same.
func skeleton(label string) string {
	m := confusables()
	var b strings.Builder
	for _, r := range strings.ToLower(label) {
		if to, ok := m[r]; ok {
			b.WriteString(to)
			continue
		}
		b.WriteRune(r)
	}
	s := b.String()
	for i := 0; i < 3; i++ { // a folded digit may fold again ("1" → "l")
		t := lookalikePairs.Replace(s)
		if t == s {
			break
		}
		s = t
	}
	return strings.ReplaceAll(s, "i", "l") // i, l, 1 and I read alike in most fonts
}

// Kinds of lookalike.
const (
	KindHomoglyph     = "homoglyph"
	KindTLDSwap       = "tld_swap"
	KindSubdomain     = "brand_in_subdomain"
	KindHyphenation   = "hyphenation"
	KindAddedWord     = "added_word"
	KindOmission      = "omission"
	KindInsertion     = "insertion"
	KindRepetition    = "repetition"
	KindTransposition = "transposition"
	KindReplacement   = "replacement"
	KindKeyboard      = "keyboard_typo"
	KindBitsquat      = "bitsquatting"
	KindVowelSwap     = "vowel_swap"
)

// LookalikeKinds lists the kinds of lookalike.
var LookalikeKinds = []string{KindHomoglyph, KindTLDSwap, KindSubdomain, KindHyphenation, KindAddedWord, KindOmission,
	KindInsertion, KindRepetition, KindTransposition, KindReplacement, KindKeyboard, KindBitsquat, KindVowelSwap}

// Lookalike is a domain found to imitate a protected one.
type Lookalike struct {
	// Domain is the imitating registered domain (as a reader sees it);
	// Brand the protected domain it imitates.
	Domain string `json:"domain"`
	Brand  string `json:"brand"`
	// Kind says how (one of the Kind constants); Reason says it to a
	// person ("digit 1 for letter i").
	Kind   string `json:"kind"`
	Reason string `json:"reason"`
}

// String says the finding in a sentence.
func (l Lookalike) String() string {
	return fmt.Sprintf("registered domain %s imitates %s: %s", l.Domain, l.Brand, l.Reason)
}

// label splits a registered domain into its label and public suffix.
func label(registered, suffix string) string {
	return strings.TrimSuffix(strings.TrimSuffix(registered, suffix), ".")
}

// FindLookalike reports whether u's domain imitates one of the protected
// registered domains (e.g. "shopping-example.com"), and how. The
// protected domains themselves, and their subdomains, are not lookalikes.
func FindLookalike(u URL, protected []string) (Lookalike, bool) {
	return findLookalike(u, parseBrands(protected))
}

// parseBrands parses protected domains, skipping those without a
// registered domain.
func parseBrands(protected []string) []URL {
	brands := make([]URL, 0, len(protected))
	for _, p := range protected {
		if b, err := Parse(p); err == nil && b.RegisteredDomain != "" {
			brands = append(brands, b)
		}
	}
	return brands
}

// findLookalike is FindLookalike over parsed protected domains.
func findLookalike(u URL, brands []URL) (Lookalike, bool) {
	if u.RegisteredDomain == "" {
		return Lookalike{}, false
	}
	for _, b := range brands {
		if u.RegisteredDomain == b.RegisteredDomain {
			return Lookalike{}, false
		}
	}
	shown := u.RegisteredDomain
	candLabel := label(u.RegisteredDomain, u.PublicSuffix)
	if u.UnicodeHost != "" {
		if uni, err := idnaToUnicode(u.RegisteredDomain); err == nil {
			shown = uni
			if s, err := idnaToUnicode(u.PublicSuffix); err == nil {
				candLabel = label(uni, s)
			}
		}
	}
	for _, brand := range brands {
		bLabel := label(brand.RegisteredDomain, brand.PublicSuffix)
		if bLabel == "" || candLabel == "" {
			continue
		}
		l := Lookalike{Domain: shown, Brand: brand.RegisteredDomain}
		if kind, reason, ok := compareLabels(candLabel, bLabel); ok {
			l.Kind, l.Reason = kind, reason
			return l, true
		}
		if candLabel == bLabel {
			l.Kind, l.Reason = KindTLDSwap, fmt.Sprintf("the same name under .%s instead of .%s", u.PublicSuffix, brand.PublicSuffix)
			return l, true
		}
		// The brand's whole name in the subdomain of another site
		// (shopping-example.com.secure-login.net).
		sub := strings.ReplaceAll(u.Subdomain, "-", ".")
		if sub != "" && (strings.Contains("."+sub+".", "."+strings.ReplaceAll(bLabel, "-", ".")+".") || strings.Contains(u.Subdomain, brand.RegisteredDomain)) {
			l.Kind, l.Reason = KindSubdomain, fmt.Sprintf("%s is only the subdomain %q of %s", brand.RegisteredDomain, u.Subdomain, shown)
			return l, true
		}
	}
	return Lookalike{}, false
}

// compareLabels says whether the candidate label imitates the brand's and
// how: it reads the same (confusable characters), or it is one typing
// slip away, or it is the brand with words or hyphens added.
func compareLabels(cand, brand string) (kind, reason string, ok bool) {
	if cand == brand {
		return "", "", false
	}
	if skeleton(cand) == skeleton(brand) {
		return KindHomoglyph, describeSwaps(cand, brand), true
	}
	if strings.ReplaceAll(cand, "-", "") == strings.ReplaceAll(brand, "-", "") {
		return KindHyphenation, "hyphens added or removed", true
	}
	if kind, reason, ok := oneSlip(cand, brand); ok {
		return kind, reason, true
	}
	if i := strings.Index(cand, brand); i >= 0 && len(brand) >= 4 {
		extra := strings.Trim(cand[:i]+"-"+cand[i+len(brand):], "-")
		if extra != "" {
			return KindAddedWord, fmt.Sprintf("the brand with %q added", extra), true
		}
	}
	return "", "", false
}

// describeSwaps names the characters that stand in for others, position
// by position where the labels line up ("digit 1 for letter i").
func describeSwaps(cand, brand string) string {
	c, b := []rune(cand), []rune(brand)
	if len(c) != len(b) {
		return "characters that read alike (" + cand + " for " + brand + ")"
	}
	var parts []string
	for i := range c {
		if c[i] != b[i] {
			parts = append(parts, fmt.Sprintf("%s for %s", describeRune(c[i]), describeRune(b[i])))
		}
	}
	return strings.Join(parts, ", ")
}

// describeRune names a character for a reason.
func describeRune(r rune) string {
	switch {
	case r >= '0' && r <= '9':
		return "digit " + string(r)
	case r >= 'a' && r <= 'z':
		return "letter " + string(r)
	case unicode.Is(unicode.Cyrillic, r):
		return fmt.Sprintf("Cyrillic %c (U+%04X)", r, r)
	case unicode.Is(unicode.Greek, r):
		return fmt.Sprintf("Greek %c (U+%04X)", r, r)
	}
	return fmt.Sprintf("%c (U+%04X)", r, r)
}

// keyboard holds each key's neighbours on a QWERTY keyboard.
var keyboard = map[rune]string{
	'1': "2q", '2': "13wq", '3': "24ew", '4': "35re", '5': "46tr", '6': "57yt", '7': "68uy", '8': "79iu", '9': "80oi", '0': "9po",
	'q': "12wa", 'w': "23qeas", 'e': "34wrsd", 'r': "45etdf", 't': "56ryfg", 'y': "67tugh", 'u': "78yihj", 'i': "89uojk", 'o': "90ipkl",
	'p': "0ol", 'a': "qwsz", 's': "weadzx", 'd': "ersfxc", 'f': "rtdgcv", 'g': "tyfhvb", 'h': "yugjbn", 'j': "uihknm", 'k': "iojlm",
	'l': "opk", 'z': "asx", 'x': "zsdc", 'c': "xdfv", 'v': "cfgb", 'b': "vghn", 'n': "bhjm", 'm': "njk",
}

func isVowel(r rune) bool { return strings.ContainsRune("aeiouy", r) }

// oneSlip reports whether cand is brand with one typing slip: a letter
// left out, added, doubled, two swapped, or one replaced (by a key next
// to it, by a letter one bit away, by another vowel).
func oneSlip(cand, brand string) (kind, reason string, ok bool) {
	c, b := []rune(cand), []rune(brand)
	switch len(c) - len(b) {
	case -1:
		for i := range b {
			if string(b[:i])+string(b[i+1:]) == cand {
				return KindOmission, fmt.Sprintf("%q left out", string(b[i])), true
			}
		}
	case 1:
		for i := range c {
			if string(c[:i])+string(c[i+1:]) == brand {
				if (i > 0 && c[i-1] == c[i]) || (i+1 < len(c) && c[i+1] == c[i]) {
					return KindRepetition, fmt.Sprintf("%q doubled", string(c[i])), true
				}
				return KindInsertion, fmt.Sprintf("%q added", string(c[i])), true
			}
		}
	case 0:
		var diff []int
		for i := range c {
			if c[i] != b[i] {
				diff = append(diff, i)
			}
		}
		switch {
		case len(diff) == 2 && diff[1] == diff[0]+1 && c[diff[0]] == b[diff[1]] && c[diff[1]] == b[diff[0]]:
			return KindTransposition, fmt.Sprintf("%q and %q swapped", string(b[diff[0]]), string(b[diff[1]])), true
		case len(diff) == 1:
			x, y := c[diff[0]], b[diff[0]]
			switch {
			case strings.ContainsRune(keyboard[y], x):
				return KindKeyboard, fmt.Sprintf("%s for %s, the key next to it", describeRune(x), describeRune(y)), true
			case x < 0x80 && y < 0x80 && bitsApart(byte(x), byte(y)) == 1:
				return KindBitsquat, fmt.Sprintf("%s for %s, one bit apart", describeRune(x), describeRune(y)), true
			case isVowel(x) && isVowel(y):
				return KindVowelSwap, fmt.Sprintf("vowel %c for %c", x, y), true
			default:
				return KindReplacement, fmt.Sprintf("%s for %s", describeRune(x), describeRune(y)), true
			}
		}
	}
	return "", "", false
}

func bitsApart(a, b byte) int {
	n := 0
	for x := a ^ b; x != 0; x &= x - 1 {
		n++
	}
	return n
}

// idnaToUnicode writes a punycode name as a reader sees it.
func idnaToUnicode(s string) (string, error) { return idna.Punycode.ToUnicode(s) }
