package phishing

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// Fuzzer classes: how a permutation was made from the domain, with
// dnstwist's names (https://github.com/elceef/dnstwist; Debian package
// dnstwist 20221213, and plural from later releases). The glyph,
// Cyrillic and keyboard tables below are dnstwist's (Apache License 2.0,
// Marcin Ulikowski).
const (
	// FuzzerAddition appends a letter or digit to the name (and, as
	// later dnstwist releases do, to each hyphen-separated part).
	FuzzerAddition = "addition"
	// FuzzerBitsquatting flips one bit of one character.
	FuzzerBitsquatting = "bitsquatting"
	// FuzzerCyrillic writes the whole name in Cyrillic lookalikes.
	FuzzerCyrillic = "cyrillic"
	// FuzzerHomoglyph swaps characters for lookalike ones, once or twice.
	FuzzerHomoglyph = "homoglyph"
	// FuzzerHyphenation inserts a hyphen.
	FuzzerHyphenation = "hyphenation"
	// FuzzerInsertion inserts a key next to one of the name's characters
	// (QWERTY, QWERTZ and AZERTY keyboards).
	FuzzerInsertion = "insertion"
	// FuzzerOmission leaves a character out.
	FuzzerOmission = "omission"
	// FuzzerPlural adds an s (es after s, x, z) inside the name.
	FuzzerPlural = "plural"
	// FuzzerRepetition doubles a character.
	FuzzerRepetition = "repetition"
	// FuzzerReplacement replaces a character with a key next to it.
	FuzzerReplacement = "replacement"
	// FuzzerSubdomain inserts a dot, making part of the name a subdomain.
	FuzzerSubdomain = "subdomain"
	// FuzzerTransposition swaps two neighbouring characters.
	FuzzerTransposition = "transposition"
	// FuzzerVowelSwap replaces a vowel with another.
	FuzzerVowelSwap = "vowel-swap"
	// FuzzerDictionary adds a word (PermuteOptions.Dictionary).
	FuzzerDictionary = "dictionary"
	// FuzzerTLDSwap puts the name under another top-level domain
	// (PermuteOptions.TLDs).
	FuzzerTLDSwap = "tld-swap"
	// FuzzerVarious covers dnstwist's odd ones: the suffix glued to the
	// name (paypalcom.com), a two-label suffix cut to its last label, the
	// subdomain glued to the name.
	FuzzerVarious = "various"
)

// FuzzerNames lists the fuzzer classes in the order dnstwist runs them. A
// domain that several classes generate is credited to the first.
var FuzzerNames = []string{FuzzerAddition, FuzzerBitsquatting, FuzzerCyrillic, FuzzerHomoglyph, FuzzerHyphenation,
	FuzzerInsertion, FuzzerOmission, FuzzerPlural, FuzzerRepetition, FuzzerReplacement, FuzzerSubdomain,
	FuzzerTransposition, FuzzerVowelSwap, FuzzerDictionary, FuzzerTLDSwap, FuzzerVarious}

// DefaultMaxPermutations bounds Permutations' output when
// PermuteOptions.Max is 0: every class of a name of 30 characters fits.
const DefaultMaxPermutations = 100_000

// ErrTruncated means Permutations stopped at its bound
// (PermuteOptions.Max); the permutations it returns with it are those it
// made.
var ErrTruncated = errors.New("phishing: permutations truncated")

// DefaultTLDs returns the top-level domains tld-swap uses by default:
// the most used generic and country ones and those most abused for
// phishing and fake shops.
func DefaultTLDs() []string {
	return []string{
		"com", "net", "org", "info", "biz", "co", "io", "me", "app", "dev", "xyz", "online", "site", "shop", "store",
		"top", "club", "live", "world", "today", "support", "help", "services", "link", "click", "website", "space",
		"tech", "cloud", "buzz", "icu", "vip", "cc", "tk", "ml", "ga", "cf", "gq", "ws", "pw", "cn", "ru", "su", "ua",
		"de", "uk", "co.uk", "fr", "es", "it", "nl", "be", "ch", "at", "pl", "cz", "se", "no", "dk", "fi", "pt", "ie",
		"eu", "us", "ca", "mx", "br", "ar", "au", "nz", "in", "jp", "kr", "sg", "hk", "tw", "za", "tr", "ro", "gr",
		"hu", "sk", "lt", "lv", "ee", "bg", "hr", "si", "rs", "il", "ae", "sa", "ng", "ke", "ph", "my", "id", "vn", "th",
	}
}

// DefaultDictionary returns the words the dictionary fuzzer adds by
// default: the words of shop phishing.
func DefaultDictionary() []string {
	return []string{
		"login", "signin", "secure", "security", "account", "accounts", "verify", "verification", "support", "help",
		"service", "customer", "shop", "store", "online", "official", "pay", "payment", "billing", "checkout", "order",
		"orders", "my", "auth", "update", "confirm", "portal", "app", "mail", "www", "sale", "outlet", "deals", "promo",
	}
}

// PermuteOptions tunes Permutations.
type PermuteOptions struct {
	// Fuzzers are the classes to run (FuzzerNames); nil runs them all.
	Fuzzers []string
	// TLDs are tld-swap's top-level domains ("com", "co.uk"); nil uses
	// DefaultTLDs, an empty list none.
	TLDs []string
	// Dictionary is the dictionary fuzzer's words; nil uses
	// DefaultDictionary, an empty list none.
	Dictionary []string
	// Max bounds the output (0: DefaultMaxPermutations).
	Max int
}

// Permutation is a domain made from another by one of the fuzzers.
type Permutation struct {
	// Fuzzer is the class that made it (one of FuzzerNames).
	Fuzzer string `json:"fuzzer"`
	// Domain is the domain in ASCII (punycode); Unicode is how a reader
	// sees it, "" when that is the same.
	Domain  string `json:"domain"`
	Unicode string `json:"unicode,omitempty"`
}

// Permutations generates the typosquatting and lookalike permutations of
// domain (a host name or URL) that dnstwist's fuzzers make: the name
// below the public suffix is fuzzed, any subdomain kept. Only names valid
// for registration as IDNs (RFC 5891) are returned, each once, the
// domain itself excluded, ordered by class (in FuzzerNames' order) and
// then by domain. When the output reaches opts.Max, or the candidates
// tried five times that (homoglyph on a long name), the permutations made
// so far are returned with an error wrapping ErrTruncated; every class
// but homoglyph is made before homoglyph starts.
func Permutations(domain string, opts PermuteOptions) ([]Permutation, error) {
	p, err := newPermuter(domain, opts)
	if err != nil {
		return nil, err
	}
	return p.run()
}

// permuter holds a domain cut the way dnstwist cuts it and the options.
type permuter struct {
	sub, tld string // ASCII
	name     string // the fuzzed label, Unicode
	original string // ASCII
	fuzzers  map[string]bool
	tlds     []string
	words    []string
	max      int

	// The output so far, indexed by ASCII domain and by the Unicode
	// names that made it.
	out     []Permutation
	byASCII map[string]int
	seen    map[string]int // Unicode name → index in out
	full    bool
	work    int // candidates tried
}

func newPermuter(domain string, opts PermuteOptions) (*permuter, error) {
	u, err := Parse(domain)
	if err != nil {
		return nil, fmt.Errorf("phishing: permutations of %q: %w", domain, err)
	}
	if u.IP.IsValid() || u.RegisteredDomain == "" {
		return nil, fmt.Errorf("phishing: permutations of %q: not a domain name under a public suffix", domain)
	}
	if ascii, err := idna.Registration.ToASCII(u.Host); err != nil || !validFQDN(ascii) {
		return nil, fmt.Errorf("phishing: permutations of %q: %s is not a name valid for registration", domain, u.Host)
	}
	name, err := idnaToUnicode(label(u.RegisteredDomain, u.PublicSuffix))
	if err != nil {
		return nil, fmt.Errorf("phishing: permutations of %q: %w", domain, err)
	}
	p := &permuter{sub: u.Subdomain, tld: u.PublicSuffix, name: name, original: u.Host, max: opts.Max,
		fuzzers: map[string]bool{}, byASCII: map[string]int{}, seen: map[string]int{}}
	switch {
	case p.max < 0:
		return nil, fmt.Errorf("phishing: permutations: Max %d is negative", p.max)
	case p.max == 0:
		p.max = DefaultMaxPermutations
	}
	if opts.Fuzzers == nil {
		for _, f := range FuzzerNames {
			p.fuzzers[f] = true
		}
	}
	for _, f := range opts.Fuzzers {
		if !slices.Contains(FuzzerNames, f) {
			return nil, fmt.Errorf("phishing: permutations: unknown fuzzer %q (known: %s)", f, strings.Join(FuzzerNames, ", "))
		}
		p.fuzzers[f] = true
	}
	tlds := opts.TLDs
	if tlds == nil {
		tlds = DefaultTLDs()
	}
	for i, t := range tlds {
		n, err := normaliseTLD(t)
		if err != nil {
			return nil, fmt.Errorf("phishing: permutations: TLD %d: %w", i+1, err)
		}
		p.tlds = append(p.tlds, n)
	}
	words := opts.Dictionary
	if words == nil {
		words = DefaultDictionary()
	}
	for i, w := range words {
		n, err := normaliseWord(w)
		if err != nil {
			return nil, fmt.Errorf("phishing: permutations: dictionary word %d: %w", i+1, err)
		}
		p.words = append(p.words, n)
	}
	return p, nil
}

// normaliseTLD checks a tld-swap entry the way dnstwist reads its TLD
// files (one or two labels of 2 to 63 letters, digits and hyphens), IDN
// TLDs allowed and written in punycode.
func normaliseTLD(t string) (string, error) {
	s := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(t)), ".")
	ascii, err := idna.Registration.ToASCII(s)
	if err != nil {
		return "", fmt.Errorf("%q is not a top-level domain: %w", t, err)
	}
	labels := strings.Split(ascii, ".")
	if len(labels) > 2 {
		return "", fmt.Errorf("%q is not a top-level domain: more than two labels", t)
	}
	for _, l := range labels {
		if len(l) < 2 || !isLDH(l) {
			return "", fmt.Errorf("%q is not a top-level domain: labels are 2 to 63 letters, digits and hyphens", t)
		}
	}
	return ascii, nil
}

// normaliseWord checks a dictionary word: letters and digits (dnstwist
// keeps only those), and hyphens inside ("log-in"); lower case.
func normaliseWord(w string) (string, error) {
	s := strings.ToLower(strings.TrimSpace(w))
	if s == "" || utf8.RuneCountInString(s) > 63 {
		return "", fmt.Errorf("%q is not a word of 1 to 63 letters and digits", w)
	}
	if s[0] == '-' || s[len(s)-1] == '-' {
		return "", fmt.Errorf("%q starts or ends with a hyphen", w)
	}
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' {
			return "", fmt.Errorf("%q has %q: only letters, digits and hyphens", w, r)
		}
	}
	return s, nil
}

// isLDH says whether s is only lower-case letters, digits and inner
// hyphens, and at most 63 long.
func isLDH(s string) bool {
	if s == "" || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// validFQDN is dnstwist's test of a generated name: 4 to 253 characters,
// at least two labels of letters, digits and inner hyphens, the last at
// least two long.
func validFQDN(ascii string) bool {
	if len(ascii) < 4 || len(ascii) > 253 {
		return false
	}
	labels := strings.Split(ascii, ".")
	if len(labels) < 2 || len(labels[len(labels)-1]) < 2 {
		return false
	}
	for _, l := range labels {
		if !isLDH(l) {
			return false
		}
	}
	return true
}

// joinName writes subdomain, name and suffix as one name, skipping empty parts.
func joinName(parts ...string) string {
	var kept []string
	for _, s := range parts {
		if s != "" {
			kept = append(kept, s)
		}
	}
	return strings.Join(kept, ".")
}

// fuzzerRank is a class's place in FuzzerNames.
func fuzzerRank(fuzzer string) int { return slices.Index(FuzzerNames, fuzzer) }

// workPerPermutation bounds the candidates tried per permutation wanted:
// homoglyph's second round on a long name makes millions that punycode
// leaves too long. An ordinary name takes about two a permutation.
const workPerPermutation = 5

// add records a generated name (Unicode) for a class. A name another
// class made already stays with the class that comes first. It returns
// false once the output is full or enough candidates were tried.
func (p *permuter) add(fuzzer, name string) bool {
	if i, ok := p.seen[name]; ok {
		if fuzzerRank(fuzzer) < fuzzerRank(p.out[i].Fuzzer) {
			p.out[i].Fuzzer = fuzzer
		}
		return true
	}
	if p.full {
		return false
	}
	// Invalid names are not remembered: they would take the memory the
	// bound on the output saves.
	ascii, err := idna.Registration.ToASCII(name)
	if err != nil || !validFQDN(ascii) || ascii == p.original {
		return true
	}
	if i, ok := p.byASCII[ascii]; ok {
		p.seen[name] = i
		if fuzzerRank(fuzzer) < fuzzerRank(p.out[i].Fuzzer) {
			p.out[i].Fuzzer = fuzzer
		}
		return true
	}
	if len(p.out) >= p.max {
		p.full = true
		return false
	}
	perm := Permutation{Fuzzer: fuzzer, Domain: ascii}
	if uni, err := idnaToUnicode(ascii); err == nil && uni != ascii {
		perm.Unicode = uni
	}
	p.byASCII[ascii] = len(p.out)
	p.seen[name] = len(p.out)
	p.out = append(p.out, perm)
	return true
}

// hopeless says whether a label, and any made from it by swapping in
// glyphs (which never shorten it nor make it ASCII again), is too long
// for DNS: more than 63 characters, or in a name of more than 253, once
// in punycode. Punycode writes "xn--", the ASCII characters, a hyphen if
// there are any, and at least a digit for each other character; the
// first of those takes at least three when there is an ASCII character
// (its delta is at least (0xA0-0x80)*2 = 64 and two digits hold 35).
func (p *permuter) hopeless(label string) bool {
	n, other := 0, 0
	for _, r := range label {
		n++
		if r >= utf8.RuneSelf {
			other++
		}
	}
	switch {
	case other > 0 && other < n:
		n += 4 + 1 + 2
	case other > 0:
		n += 4
	}
	return n > 63 || len(p.sub)+len(p.tld)+2+n > 253
}

// run runs the chosen fuzzers. Homoglyph runs last, whatever its rank,
// since it alone can fill the output on a long name: the others all get
// their share first.
func (p *permuter) run() ([]Permutation, error) {
	order := slices.DeleteFunc(slices.Clone(FuzzerNames), func(f string) bool { return f == FuzzerHomoglyph })
	order = append(order, FuzzerHomoglyph)
	for _, f := range order {
		if !p.fuzzers[f] {
			continue
		}
		emit := func(name string) bool { return p.add(f, name) }
		if !fuzzerFuncs[f](p, emit) {
			break
		}
	}
	slices.SortFunc(p.out, func(a, b Permutation) int {
		if c := fuzzerRank(a.Fuzzer) - fuzzerRank(b.Fuzzer); c != 0 {
			return c
		}
		return strings.Compare(a.Domain, b.Domain)
	})
	if p.full {
		return p.out, fmt.Errorf("%w for %s: %d permutations (at most %d) from %d candidates (at most %d)",
			ErrTruncated, p.original, len(p.out), p.max, p.work, workPerPermutation*p.max)
	}
	return p.out, nil
}

// fuzzerFuncs make each class's names and hand them to emit; they stop,
// returning false, when emit does.
var fuzzerFuncs = map[string]func(p *permuter, emit func(string) bool) bool{
	FuzzerAddition:      (*permuter).addition,
	FuzzerBitsquatting:  (*permuter).bitsquatting,
	FuzzerCyrillic:      (*permuter).cyrillic,
	FuzzerHomoglyph:     (*permuter).homoglyph,
	FuzzerHyphenation:   (*permuter).hyphenation,
	FuzzerInsertion:     (*permuter).insertion,
	FuzzerOmission:      (*permuter).omission,
	FuzzerPlural:        (*permuter).plural,
	FuzzerRepetition:    (*permuter).repetition,
	FuzzerReplacement:   (*permuter).replacement,
	FuzzerSubdomain:     (*permuter).subdomain,
	FuzzerTransposition: (*permuter).transposition,
	FuzzerVowelSwap:     (*permuter).vowelSwap,
	FuzzerDictionary:    (*permuter).dictionary,
	FuzzerTLDSwap:       (*permuter).tldSwap,
	FuzzerVarious:       (*permuter).various,
}

// labels emits each fuzzed name with the subdomain and suffix around it.
func (p *permuter) labels(emit func(string) bool, names ...string) bool {
	for _, n := range names {
		if !p.tick() || !p.emitLabel(emit, n) {
			return false
		}
	}
	return true
}

// emitLabel emits a fuzzed name with the subdomain and suffix around it,
// leaving it out at once if it cannot be valid.
func (p *permuter) emitLabel(emit func(string) bool, n string) bool {
	full := joinName(p.sub, n, p.tld)
	if _, ok := p.seen[full]; !ok && !p.validLabel(n) {
		return true
	}
	return emit(full)
}

// tick counts a candidate tried and says whether more may be.
func (p *permuter) tick() bool {
	if p.work++; p.work > workPerPermutation*p.max {
		p.full = true
		return false
	}
	return true
}

// validLabel says whether a fuzzed name (one label or, from subdomain,
// two) is valid for registration and fits between the subdomain and the
// suffix: a check of the name alone, quicker than of the whole domain
// when the subdomain is long.
func (p *permuter) validLabel(n string) bool {
	ascii, err := idna.Registration.ToASCII(n)
	if err != nil || len(p.sub)+len(p.tld)+2+len(ascii) > 253 {
		return false
	}
	for _, l := range strings.Split(ascii, ".") {
		if !isLDH(l) {
			return false
		}
	}
	return true
}

// alphanumerics are what addition appends: digits, then letters.
const alphanumerics = "0123456789abcdefghijklmnopqrstuvwxyz"

func (p *permuter) addition(emit func(string) bool) bool {
	parts := strings.Split(p.name, "-")
	for _, c := range alphanumerics {
		if !p.labels(emit, p.name+string(c)) {
			return false
		}
		for i := 1; i < len(parts); i++ { // later dnstwist: before each hyphen too
			if !p.labels(emit, strings.Join(parts[:i], "-")+string(c)+"-"+strings.Join(parts[i:], "-")) {
				return false
			}
		}
	}
	return true
}

// bitsquatChars are the characters a flipped bit may make: those of a
// host name.
const bitsquatChars = "abcdefghijklmnopqrstuvwxyz0123456789-"

func (p *permuter) bitsquatting(emit func(string) bool) bool {
	r := []rune(p.name)
	for i, c := range r {
		for mask := rune(1); mask <= 128; mask <<= 1 {
			b := c ^ mask
			if b < utf8.RuneSelf && strings.ContainsRune(bitsquatChars, b) {
				if !p.labels(emit, string(r[:i])+string(b)+string(r[i+1:])) {
					return false
				}
			}
		}
	}
	return true
}

// latinToCyrillic are dnstwist's Cyrillic lookalikes of Latin letters.
var latinToCyrillic = map[rune]rune{
	'a': 'а', 'b': 'ь', 'c': 'с', 'd': 'ԁ', 'e': 'е', 'g': 'ԍ', 'h': 'һ', 'i': 'і', 'j': 'ј', 'k': 'к', 'l': 'ӏ',
	'm': 'м', 'o': 'о', 'p': 'р', 'q': 'ԛ', 's': 'ѕ', 't': 'т', 'v': 'ѵ', 'w': 'ԝ', 'x': 'х', 'y': 'у',
}

// cyrillic writes the whole name in Cyrillic, when every character has a
// lookalike (a mixed-script name is refused by most registries).
func (p *permuter) cyrillic(emit func(string) bool) bool {
	var b strings.Builder
	for _, r := range p.name {
		c, ok := latinToCyrillic[r]
		if !ok {
			return true
		}
		b.WriteRune(c)
	}
	return p.labels(emit, b.String())
}

func (p *permuter) hyphenation(emit func(string) bool) bool {
	r := []rune(p.name)
	for i := 1; i < len(r); i++ {
		if !p.labels(emit, string(r[:i])+"-"+string(r[i:])) {
			return false
		}
	}
	return true
}

// qwertz and azerty are the neighbours of each key on German and French
// keyboards (keyboard, in lookalike.go, is QWERTY).
var (
	qwertz = map[rune]string{
		'1': "2q", '2': "3wq1", '3': "4ew2", '4': "5re3", '5': "6tr4", '6': "7zt5", '7': "8uz6", '8': "9iu7", '9': "0oi8", '0': "po9",
		'q': "12wa", 'w': "3esaq2", 'e': "4rdsw3", 'r': "5tfde4", 't': "6zgfr5", 'z': "7uhgt6", 'u': "8ijhz7", 'i': "9okju8", 'o': "0plki9", 'p': "lo0",
		'a': "qwsy", 's': "edxyaw", 'd': "rfcxse", 'f': "tgvcdr", 'g': "zhbvft", 'h': "ujnbgz", 'j': "ikmnhu", 'k': "olmji", 'l': "kop",
		'y': "asx", 'x': "ysdc", 'c': "xdfv", 'v': "cfgb", 'b': "vghn", 'n': "bhjm", 'm': "njk",
	}
	azerty = map[rune]string{
		'1': "2a", '2': "3za1", '3': "4ez2", '4': "5re3", '5': "6tr4", '6': "7yt5", '7': "8uy6", '8': "9iu7", '9': "0oi8", '0': "po9",
		'a': "2zq1", 'z': "3esqa2", 'e': "4rdsz3", 'r': "5tfde4", 't': "6ygfr5", 'y': "7uhgt6", 'u': "8ijhy7", 'i': "9okju8", 'o': "0plki9", 'p': "lo0m",
		'q': "zswa", 's': "edxwqz", 'd': "rfcxse", 'f': "tgvcdr", 'g': "yhbvft", 'h': "ujnbgy", 'j': "iknhu", 'k': "olji", 'l': "kopm", 'm': "lp",
		'w': "sxq", 'x': "wsdc", 'c': "xdfv", 'v': "cfgb", 'b': "vghn", 'n': "bhj",
	}
)

// neighbours are the keys next to r on any of the three keyboards.
func neighbours(r rune) string { return keyboard[r] + qwertz[r] + azerty[r] }

// insertion inserts a neighbouring key before or after each character
// (dnstwist 20221213 skips the first and last; later releases only the
// last; the first is kept here).
func (p *permuter) insertion(emit func(string) bool) bool {
	r := []rune(p.name)
	for i := 0; i < len(r)-1; i++ {
		pre, c, suf := string(r[:i]), string(r[i]), string(r[i+1:])
		for _, k := range neighbours(r[i]) {
			if !p.labels(emit, pre+string(k)+c+suf, pre+c+string(k)+suf) {
				return false
			}
		}
	}
	return true
}

func (p *permuter) omission(emit func(string) bool) bool {
	r := []rune(p.name)
	for i := range r {
		if !p.labels(emit, string(r[:i])+string(r[i+1:])) {
			return false
		}
	}
	return true
}

func (p *permuter) plural(emit func(string) bool) bool {
	r := []rune(p.name)
	for i := 2; i < len(r)-2; i++ {
		s := "s"
		if r[i] == 's' || r[i] == 'x' || r[i] == 'z' {
			s = "es"
		}
		if !p.labels(emit, string(r[:i+1])+s+string(r[i+1:])) {
			return false
		}
	}
	return true
}

func (p *permuter) repetition(emit func(string) bool) bool {
	r := []rune(p.name)
	for i, c := range r {
		if !p.labels(emit, string(r[:i])+string(c)+string(r[i:])) {
			return false
		}
	}
	return true
}

func (p *permuter) replacement(emit func(string) bool) bool {
	r := []rune(p.name)
	for i, c := range r {
		for _, k := range neighbours(c) {
			if !p.labels(emit, string(r[:i])+string(k)+string(r[i+1:])) {
				return false
			}
		}
	}
	return true
}

func (p *permuter) subdomain(emit func(string) bool) bool {
	r := []rune(p.name)
	for i := 1; i < len(r)-1; i++ {
		if r[i] != '-' && r[i] != '.' && r[i-1] != '-' && r[i-1] != '.' {
			if !p.labels(emit, string(r[:i])+"."+string(r[i:])) {
				return false
			}
		}
	}
	return true
}

func (p *permuter) transposition(emit func(string) bool) bool {
	r := []rune(p.name)
	for i := 0; i+1 < len(r); i++ {
		if !p.labels(emit, string(r[:i])+string(r[i+1])+string(r[i])+string(r[i+2:])) {
			return false
		}
	}
	return true
}

func (p *permuter) vowelSwap(emit func(string) bool) bool {
	const vowels = "aeiou" // dnstwist's: y is not one
	r := []rune(p.name)
	for i, c := range r {
		if !strings.ContainsRune(vowels, c) {
			continue
		}
		for _, v := range vowels {
			if !p.labels(emit, string(r[:i])+string(v)+string(r[i+1:])) {
				return false
			}
		}
	}
	return true
}

func (p *permuter) dictionary(emit func(string) bool) bool {
	d := p.name
	for _, w := range p.words {
		if strings.HasPrefix(d, w) && strings.HasSuffix(d, w) {
			continue
		}
		if !p.labels(emit, d+"-"+w, d+w, w+"-"+d, w+d) {
			return false
		}
	}
	if parts := strings.Split(d, "-"); len(parts) > 1 {
		for _, w := range p.words { // a word for the first or the last part
			if !p.labels(emit, strings.Join(parts[:len(parts)-1], "-")+"-"+w, w+"-"+strings.Join(parts[1:], "-")) {
				return false
			}
		}
	}
	return true
}

func (p *permuter) tldSwap(emit func(string) bool) bool {
	for _, t := range p.tlds {
		if t != p.tld && (!p.tick() || !emit(joinName(p.sub, p.name, t))) {
			return false
		}
	}
	return true
}

func (p *permuter) various(emit func(string) bool) bool {
	d, t, sub := p.name, p.tld, p.sub
	var names []string
	if strings.Contains(t, ".") {
		names = append(names, joinName(sub, d, t[strings.LastIndex(t, ".")+1:]), joinName(sub, d+t))
	} else {
		names = append(names, joinName(sub, d+t, t))
		if t != "com" {
			names = append(names, joinName(sub, d+"-"+t, "com"), joinName(sub, d+t, "com")) // the second: later dnstwist
		}
	}
	if sub != "" {
		names = append(names, sub+d+"."+t, strings.ReplaceAll(sub, ".", "")+d+"."+t,
			sub+"-"+d+"."+t, strings.ReplaceAll(sub, ".", "-")+"-"+d+"."+t)
	}
	for _, n := range names {
		if !p.tick() || !emit(n) {
			return false
		}
	}
	return true
}

// glyphs are dnstwist's lookalikes of each letter and digit (some are
// two letters: "rn" for m).
var glyphs = map[rune][]string{
	'0': {"o"},
	'1': {"l", "i"},
	'2': {"ƻ"},
	'3': {"8"},
	'5': {"ƽ"},
	'6': {"9"},
	'8': {"3"},
	'9': {"6"},
	'a': {"à", "á", "â", "ã", "ä", "å", "ɑ", "ạ", "ǎ", "ă", "ȧ", "ą", "ə"},
	'b': {"d", "lb", "ʙ", "ɓ", "ḃ", "ḅ", "ḇ", "ƅ"},
	'c': {"e", "ƈ", "ċ", "ć", "ç", "č", "ĉ", "ᴄ"},
	'd': {"b", "cl", "dl", "ɗ", "đ", "ď", "ɖ", "ḑ", "ḋ", "ḍ", "ḏ", "ḓ"},
	'e': {"c", "é", "è", "ê", "ë", "ē", "ĕ", "ě", "ė", "ẹ", "ę", "ȩ", "ɇ", "ḛ"},
	'f': {"ƒ", "ḟ"},
	'g': {"q", "ɢ", "ɡ", "ġ", "ğ", "ǵ", "ģ", "ĝ", "ǧ", "ǥ"},
	'h': {"lh", "ĥ", "ȟ", "ħ", "ɦ", "ḧ", "ḩ", "ⱨ", "ḣ", "ḥ", "ḫ", "ẖ"},
	'i': {"1", "l", "í", "ì", "ï", "ı", "ɩ", "ǐ", "ĭ", "ỉ", "ị", "ɨ", "ȋ", "ī", "ɪ"},
	'j': {"ʝ", "ǰ", "ɉ", "ĵ"},
	'k': {"lk", "ik", "lc", "ḳ", "ḵ", "ⱪ", "ķ", "ᴋ"},
	'l': {"1", "i", "ɫ", "ł"},
	'm': {"n", "nn", "rn", "rr", "ṁ", "ṃ", "ᴍ", "ɱ", "ḿ"},
	'n': {"m", "r", "ń", "ṅ", "ṇ", "ṉ", "ñ", "ņ", "ǹ", "ň", "ꞑ"},
	'o': {"0", "ȯ", "ọ", "ỏ", "ơ", "ó", "ö", "ᴏ"},
	'p': {"ƿ", "ƥ", "ṕ", "ṗ"},
	'q': {"g", "ʠ"},
	'r': {"ʀ", "ɼ", "ɽ", "ŕ", "ŗ", "ř", "ɍ", "ɾ", "ȓ", "ȑ", "ṙ", "ṛ", "ṟ"},
	's': {"ʂ", "ś", "ṣ", "ṡ", "ș", "ŝ", "š", "ꜱ"},
	't': {"ţ", "ŧ", "ṫ", "ṭ", "ț", "ƫ"},
	'u': {"ᴜ", "ǔ", "ŭ", "ü", "ʉ", "ù", "ú", "û", "ũ", "ū", "ų", "ư", "ů", "ű", "ȕ", "ȗ", "ụ"},
	'v': {"ṿ", "ⱱ", "ᶌ", "ṽ", "ⱴ", "ᴠ"},
	'w': {"vv", "ŵ", "ẁ", "ẃ", "ẅ", "ⱳ", "ẇ", "ẉ", "ẘ", "ᴡ"},
	'x': {"ẋ", "ẍ"},
	'y': {"ʏ", "ý", "ÿ", "ŷ", "ƴ", "ȳ", "ɏ", "ỿ", "ẏ", "ỵ"},
	'z': {"ʐ", "ż", "ź", "ᴢ", "ƶ", "ẓ", "ẕ", "ⱬ"},
}

// homoglyph swaps lookalikes in, as dnstwist does: within any window of
// the name shorter than the name, every occurrence of one character
// becomes one of its glyphs; and that once more on each result. A window
// matters only by which occurrences of the character it covers, so each
// run of consecutive occurrences that fits in a window is tried once.
func (p *permuter) homoglyph(emit func(string) bool) bool {
	var first []string
	round1 := map[string]bool{}
	ok := mixGlyphs(p.name, func(s string) bool {
		if !p.tick() {
			return false
		}
		if round1[s] {
			return true
		}
		round1[s] = true
		if p.hopeless(s) {
			return true
		}
		first = append(first, s)
		return p.emitLabel(emit, s)
	})
	if !ok {
		return false
	}
	for _, s := range first {
		if !mixGlyphs(s, func(t string) bool { return p.tick() && (p.hopeless(t) || p.emitLabel(emit, t)) }) {
			return false
		}
	}
	return true
}

// mixGlyphs yields the one-step homoglyph swaps of name.
func mixGlyphs(name string, yield func(string) bool) bool {
	r := []rune(name)
	n := len(r)
	at := map[rune][]int{}
	var chars []rune
	for i, c := range r {
		if _, ok := glyphs[c]; !ok {
			continue
		}
		if at[c] == nil {
			chars = append(chars, c)
		}
		at[c] = append(at[c], i)
	}
	var b strings.Builder
	for _, c := range chars {
		pos := at[c]
		for a := range pos {
			for z := a; z < len(pos); z++ {
				if pos[z]-pos[a]+1 > n-1 { // no window shorter than the name covers them
					break
				}
				for _, g := range glyphs[c] {
					b.Reset()
					last := 0
					for _, q := range pos[a : z+1] {
						b.WriteString(string(r[last:q]))
						b.WriteString(g)
						last = q + 1
					}
					b.WriteString(string(r[last:]))
					if !yield(b.String()) {
						return false
					}
				}
			}
		}
	}
	return true
}

// maxListLine bounds a line of a TLD or dictionary file.
const maxListLine = 1024

// ReadTLDs reads a tld-swap list: one top-level domain a line ("com",
// "co.uk"), blank lines and comments (# or //) skipped. A bad line is an
// error naming it.
func ReadTLDs(r io.Reader) ([]string, error) {
	return readList(r, normaliseTLD)
}

// ReadDictionary reads a dictionary: one word a line, blank lines and
// comments (# or //) skipped. A bad line is an error naming it.
func ReadDictionary(r io.Reader) ([]string, error) {
	return readList(r, normaliseWord)
}

func readList(r io.Reader, norm func(string) (string, error)) ([]string, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 256), maxListLine)
	out := []string{}
	seen := map[string]bool{}
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "//") {
			continue
		}
		v, err := norm(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("line %d: longer than %d bytes", n+1, maxListLine)
		}
		return nil, err
	}
	return out, nil
}
