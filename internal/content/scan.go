package content

import (
	"bytes"
	"slices"
	"unicode"
	"unicode/utf8"
)

// Scan appends the findings in text (as posted, possibly invalid UTF-8)
// to dst, in order of Start: hidden characters, mixed-script words,
// contact details and messenger invitations, payment outside the shop,
// abuse, shouting and spam phrases. Start and End are byte offsets into
// text, on character boundaries. Links are left to the link checks.
//
// Scan folds the text (Normalize) and reads it as words, so that
// spacing, look-alike letters, invisible characters, leetspeak and
// stretched letters do not hide what it looks for; abuse is matched on
// whole words, never inside other words.
func Scan(text string, dst []Finding) []Finding {
	lx := theLexicon()
	// The work of a post of ordinary length stays on the stack (see
	// folder).
	var bufArr [1024]byte
	var origArr [1025]int32
	var toksArr [192]token
	var canonArr [1024]byte
	var foundArr [32]rawFinding
	f := folder{buf: bufArr[:0], orig: origArr[:0], scan: true, found: foundArr[:0]}
	f.run(text)
	sc := scanner{lx: lx, src: text, norm: f.buf, orig: f.orig,
		toks: toksArr[:0], canon: canonArr[:0], found: f.found}
	sc.tokenize()
	sc.words()
	sc.phones()
	sc.symbols()
	sc.emails()
	sc.links()
	sc.shouting(f.cased, f.upper)

	found := sc.found
	slices.SortFunc(found, func(a, b rawFinding) int {
		switch {
		case a.s != b.s:
			return int(a.s - b.s)
		case a.e != b.e:
			return int(b.e - a.e)
		}
		return int(a.code) - int(b.code)
	})
	// Drop a finding inside an earlier one of the same code ("gift cards"
	// in "Steam gift cards").
	kept := 0
next:
	for _, r := range found {
		for k := kept - 1; k >= 0 && k >= kept-8; k-- {
			if found[k].code == r.code && found[k].e >= r.e {
				continue next
			}
		}
		found[kept] = r
		kept++
	}
	for _, r := range found[:kept] {
		d := lx.details[r.detail]
		if r.b > r.a {
			d += string(sc.norm[r.a:r.b])
		}
		dst = append(dst, Finding{Code: codeNames[r.code], Start: int(r.s), End: int(r.e), Detail: d})
	}
	return dst
}

// rawFinding is a finding while Scan works: offsets in the original,
// the code and detail as indexes into codeNames and lexicon.details, and
// a range of the folded text to add to the detail (a handle). It holds no
// pointers, to stay on the stack.
type rawFinding struct {
	s, e   int32
	a, b   int32
	code   uint8
	detail uint16
}

// Codes by index.
const (
	cPhone uint8 = iota
	cEmail
	cMessenger
	cPayment
	cInsult
	cProfanity
	cThreat
	cZeroWidth
	cBidi
	cMixedScript
	cShouting
	cSpam
)

// codeNames are the codes by index.
var codeNames = [...]string{cPhone: CodeContactPhone, cEmail: CodeContactEmail, cMessenger: CodeContactMessenger,
	cPayment: CodeOffPlatformPayment, cInsult: CodeAbuseInsult, cProfanity: CodeAbuseProfanity, cThreat: CodeAbuseThreat,
	cZeroWidth: CodeHiddenZeroWidth, cBidi: CodeHiddenBidi, cMixedScript: CodeMixedScript, cShouting: CodeShouting,
	cSpam: CodeSpamPhrase}

// Details of the findings of Scan's own logic, by index into
// staticDetails (and lexicon.details, which starts with them).
const (
	dPhone uint16 = iota
	dPhoneWords
	dPhoneLetters
	dPhoneSpaced
	dEmail
	dEmailDodge
	dZeroWidth
	dBidi
	dMixedScript
	dCapitals
	dPunctuation
	dLetters
	dFriends
	dFree
	dCashtag
	dEthereum
	dBitcoin
	dLitecoin
	dTron
	dTelegramHandle
	dMessengerHandle
	dWhatsAppLink
	dTelegramLink
	dDiscordInvite
	dMessengerLink
	dLineLink
	dSignalLink
	dKikLink
	dSnapchatLink
)

// staticDetails are the details of Scan's own findings, by index.
var staticDetails = [...]string{
	dPhone:           "phone number",
	dPhoneWords:      "phone number spelled out in words",
	dPhoneLetters:    "phone number with letters for some digits",
	dPhoneSpaced:     "phone number with spaced-out digits",
	dEmail:           "e-mail address",
	dEmailDodge:      "e-mail address written to dodge filters",
	dZeroWidth:       "invisible characters inside the text",
	dBidi:            "bidirectional control characters that reorder the text",
	dMixedScript:     "word mixing Latin letters with look-alike Cyrillic, Greek or Armenian ones",
	dCapitals:        "mostly capital letters",
	dPunctuation:     "repeated punctuation",
	dLetters:         "letter repeated five times or more",
	dFriends:         "PayPal friends and family",
	dFree:            "\"100% free\"",
	dCashtag:         "Cash App $cashtag",
	dEthereum:        "Ethereum address",
	dBitcoin:         "Bitcoin address",
	dLitecoin:        "Litecoin address",
	dTron:            "Tron address",
	dTelegramHandle:  "Telegram handle ",
	dMessengerHandle: "messenger handle ",
	dWhatsAppLink:    "WhatsApp link",
	dTelegramLink:    "Telegram link",
	dDiscordInvite:   "Discord invite",
	dMessengerLink:   "Messenger link",
	dLineLink:        "Line link",
	dSignalLink:      "Signal link",
	dKikLink:         "Kik link",
	dSnapchatLink:    "Snapchat link",
}

// token is a word of the folded text.
type token struct {
	s, e   int32 // where it is in the folded text
	cs, ce int32 // its canonical form (leetspeak folded), in the folded text or scanner.canon
	wi     int32 // 1 + the index in lexicon.all of its word, or 0
	flags  uint8
}

// Flags of tokens.
const (
	tDigits = 1 << iota // only ASCII digits
	tAlpha              // has a letter
	tBreak              // a sentence ends after it
	tLeet               // written in leetspeak
	tDigit              // has a digit
	tRun3               // has a letter three times in a row
	tOwn                // its canonical form is in scanner.canon, not the folded text
	tNum                // a digit spelled out, "double" or "triple"
)

// scanner holds a text being scanned. Like folder, it never appends to
// its slices, so that they stay on Scan's stack.
type scanner struct {
	lx    *lexicon
	src   string  // the original
	norm  []byte  // folded
	orig  []int32 // norm to src
	toks  []token
	canon []byte
	found []rawFinding

	cashApp bool // the text names Cash App
}

// emit adds a finding for the folded range [s, e).
func (sc *scanner) emit(code uint8, detail uint16, s, e int) {
	sc.emitWith(code, detail, s, e, 0, 0)
}

// emitWith adds a finding for the folded range [s, e) whose detail ends
// with the folded text [a, b).
func (sc *scanner) emitWith(code uint8, detail uint16, s, e, a, b int) {
	os, oe := spanOf(sc.orig, sc.src, s, e)
	if os >= oe {
		return
	}
	if len(sc.found) == cap(sc.found) {
		g := make([]rawFinding, len(sc.found), 2*cap(sc.found)+8)
		copy(g, sc.found)
		sc.found = g
	}
	sc.found = sc.found[:len(sc.found)+1]
	sc.found[len(sc.found)-1] = rawFinding{s: int32(os), e: int32(oe), a: int32(a), b: int32(b), code: code, detail: detail}
}

// emitToks adds a finding for the tokens [i, j).
func (sc *scanner) emitToks(code uint8, detail uint16, i, j int) {
	sc.emit(code, detail, int(sc.toks[i].s), int(sc.toks[j-1].e))
}

// addCanon adds b to the canonical forms.
func (sc *scanner) addCanon(b []byte) {
	if cap(sc.canon)-len(sc.canon) < len(b) {
		g := make([]byte, len(sc.canon), 2*cap(sc.canon)+len(b))
		copy(g, sc.canon)
		sc.canon = g
	}
	n := len(sc.canon)
	sc.canon = sc.canon[:n+len(b)]
	copy(sc.canon[n:], b)
}

// raw returns token i as it is in the folded text.
func (sc *scanner) raw(i int) []byte {
	t := &sc.toks[i]
	return sc.norm[t.s:t.e]
}

// canonOf returns the canonical form of token i: leetspeak folded, and
// the word of the lexicon it was read as.
func (sc *scanner) canonOf(i int) []byte {
	t := &sc.toks[i]
	if t.flags&tOwn == 0 {
		return sc.norm[t.cs:t.ce]
	}
	return sc.canon[t.cs:t.ce]
}

// is reports whether token i exists and is the word w.
func (sc *scanner) is(i int, w string) bool {
	return i >= 0 && i < len(sc.toks) && string(sc.canonOf(i)) == w
}

// word returns what the lexicon knows of token i, or nil.
func (sc *scanner) word(i int) *wordInfo {
	if wi := sc.toks[i].wi; wi > 0 {
		return &sc.lx.all[wi-1]
	}
	return nil
}

// cls returns the classes of token i, 0 if there is none.
func (sc *scanner) cls(i int) uint64 {
	if i < 0 || i >= len(sc.toks) || sc.toks[i].wi == 0 {
		return 0
	}
	return sc.lx.all[sc.toks[i].wi-1].class
}

// brk reports whether a sentence ends after token i.
func (sc *scanner) brk(i int) bool { return sc.toks[i].flags&tBreak != 0 }

// sep returns what lies between tokens i and i+1 (or the end).
func (sc *scanner) sep(i int) []byte {
	if i+1 < len(sc.toks) {
		return sc.norm[sc.toks[i].e:sc.toks[i+1].s]
	}
	return sc.norm[sc.toks[i].e:]
}

// sepBefore returns what lies before token i, after the one before it.
func (sc *scanner) sepBefore(i int) []byte {
	if i == 0 {
		return sc.norm[:sc.toks[0].s]
	}
	return sc.sep(i - 1)
}

// near reports whether token j is in the same sentence as token i and
// within reach (0 < |i-j| <= reach).
func (sc *scanner) near(i, j, reach int) bool {
	if j < 0 || j >= len(sc.toks) || j == i || j < i-reach || j > i+reach {
		return false
	}
	for k := min(i, j); k < max(i, j); k++ {
		if sc.brk(k) {
			return false
		}
	}
	return true
}

// sentence returns the tokens [s, e) of the sentence of token i, or of
// the 30 tokens either side of it in a longer sentence.
func (sc *scanner) sentence(i int) (int, int) {
	s, e := i, i
	for s > 0 && s > i-30 && !sc.brk(s-1) {
		s--
	}
	for e < len(sc.toks)-1 && e < i+30 && !sc.brk(e) {
		e++
	}
	return s, e + 1
}

// Classes of ASCII bytes for tokens.
const (
	bNone   = iota
	bLetter // a-z
	bDigit  // 0-9
	bJoin   // ' and _: inside words, trimmed at their ends
	bLeet   // $ @ * ! |: leetspeak inside words
)

// byteClass classifies ASCII bytes for tokens (the folded text has no
// upper case).
var byteClass = func() (t [utf8.RuneSelf]uint8) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = bLetter
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = bDigit
	}
	t['\''], t['_'] = bJoin, bJoin
	for _, c := range "$@*!|" {
		t[c] = bLeet
	}
	return t
}()

// tokenize splits the folded text into tokens: runs of letters, digits,
// apostrophes, underscores and leetspeak symbols, less the symbols,
// apostrophes and underscores at their ends ("$" too before a digit, to
// leave prices alone).
func (sc *scanner) tokenize() {
	n := sc.norm
	for i := 0; i < len(n); {
		start, letters, digits, leets := i, 0, 0, 0
		run3, same, prev := false, 0, byte(0)
	word:
		for i < len(n) {
			c := n[i]
			if c < utf8.RuneSelf {
				switch byteClass[c] {
				case bNone:
					break word
				case bLetter:
					letters++
					if c == prev {
						same++
						run3 = run3 || same >= 2
					} else {
						same, prev = 0, c
					}
				case bDigit:
					digits++
				case bLeet:
					leets++
				}
				i++
				continue
			}
			r, size := utf8.DecodeRune(n[i:])
			if !isWordRune(r) {
				if i == start {
					i += size
					start = i
					continue
				}
				break
			}
			letters++
			i += size
		}
		if i == start {
			i++
			continue
		}
		if letters+digits > 0 {
			sc.addToken(start, i, letters, digits, leets, run3)
		}
	}
	if len(sc.toks) > 0 {
		sc.toks[len(sc.toks)-1].flags |= tBreak
	}
}

// isWordRune reports whether the non-ASCII r can be part of a token.
func isWordRune(r rune) bool {
	return r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.In(r, unicode.Mn, unicode.Mc))
}

// addToken adds the token [s, e) with so many letters, digits and
// leetspeak symbols, trimming its ends.
func (sc *scanner) addToken(s, e, letters, digits, leets int, run3 bool) {
	n := sc.norm
	for ; s < e && n[s] < utf8.RuneSelf && byteClass[n[s]] > bDigit; s++ {
		c := n[s]
		if c == '$' && s+1 < e && isDigit(n[s+1]) || c == '!' || c == '|' || c == '*' {
			leets--
		} else if c != '\'' && c != '_' {
			break
		}
	}
	for ; e > s && n[e-1] < utf8.RuneSelf && byteClass[n[e-1]] > bDigit; e-- {
		c := n[e-1]
		if c == '!' || c == '|' || c == '*' {
			leets--
		} else if c != '\'' && c != '_' {
			break
		}
	}
	if s == e {
		return
	}
	var flags uint8
	if letters > 0 {
		flags |= tAlpha
	}
	if digits > 0 {
		flags |= tDigit
		if digits == e-s {
			flags |= tDigits
		}
	}
	if run3 {
		flags |= tRun3
	}
	raw := n[s:e]
	if leets > 0 || letters > 0 && digits > 0 && !sc.modelLike(raw) {
		flags |= tLeet
	}
	if k := len(sc.toks); k > 0 && isBreak(n[sc.toks[k-1].e:s]) {
		sc.toks[k-1].flags |= tBreak
	}
	t := token{s: int32(s), e: int32(e), flags: flags, cs: int32(s), ce: int32(e)}
	if flags&tLeet != 0 {
		t.flags |= tOwn
		t.cs = int32(len(sc.canon))
		sc.addCanon(raw)
		c := sc.canon[t.cs:]
		for j, b := range c {
			if letters > 0 || !isDigit(b) {
				c[j] = leet(b)
			}
		}
		t.ce = int32(len(sc.canon))
	}
	if len(sc.toks) == cap(sc.toks) {
		g := make([]token, len(sc.toks), 2*cap(sc.toks)+16)
		copy(g, sc.toks)
		sc.toks = g
	}
	sc.toks = sc.toks[:len(sc.toks)+1]
	sc.toks[len(sc.toks)-1] = t
	sc.lookup(len(sc.toks) - 1)
	if sc.cls(len(sc.toks)-1)&(clsNumWord|clsMult) != 0 {
		sc.toks[len(sc.toks)-1].flags |= tNum
	}
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// leet folds a character of leetspeak to the letter it most often
// stands for ("1" to "i"; lookup also tries "l").
func leet(c byte) byte {
	switch c {
	case '0':
		return 'o'
	case '1', '!':
		return 'i'
	case '3':
		return 'e'
	case '4', '@':
		return 'a'
	case '5', '$':
		return 's'
	case '7':
		return 't'
	case '|':
		return 'l'
	}
	return c
}

// isBreak reports whether the text between two tokens ends a sentence.
func isBreak(sep []byte) bool {
	stop := false
	for _, c := range sep {
		switch c {
		case '.', '!', '?', ';':
			stop = true
		case ' ':
			if stop {
				return true
			}
		}
	}
	return false
}

// modelLike reports whether a token of letters and digits is a model
// number or a quantity ("a55", "rtx4090", "4k", "10mm", "2nd"), not
// leetspeak.
func (sc *scanner) modelLike(raw []byte) bool {
	i := 0
	for i < len(raw) && 'a' <= raw[i] && raw[i] <= 'z' {
		i++
	}
	j := i
	for j < len(raw) && isDigit(raw[j]) {
		j++
	}
	if j == i {
		return false
	}
	if i > 0 {
		return i <= 4 && j == len(raw)
	}
	suffix := raw[j:]
	for _, c := range suffix {
		if c < 'a' || c > 'z' {
			return false
		}
	}
	if len(suffix) <= 1 {
		return true
	}
	switch string(suffix) {
	case "st", "nd", "rd", "th", "pk", "yr", "yo", "am", "pm", "gen", "bit", "db", "ah", "wh", "ct", "ply":
		return true
	}
	w := sc.lx.lookup(suffix)
	return w != nil && w.class&clsUnit != 0
}

// lookup finds token i in the lexicon, trying the readings of leetspeak
// ("1" as "i" or "l", "*" as any letter) and stretched letters
// ("fuuuck"), and sets its word and canonical form.
func (sc *scanner) lookup(i int) {
	t := &sc.toks[i]
	c := sc.canonOf(i)
	if t.wi = sc.lx.id(c); t.wi != 0 || len(c) > 48 {
		return
	}
	var tmp [48]byte
	if t.flags&tLeet != 0 {
		raw := sc.raw(i)
		var amb [3]int
		k := 0
		for j, b := range raw {
			if (b == '1' || b == '!' || b == '|') && k < len(amb) && len(raw) == len(c) {
				amb[k] = j
				k++
			}
		}
		for mask := 1; mask < 1<<k; mask++ {
			v := append(tmp[:0], c...)
			for b := range k {
				if mask&(1<<b) != 0 {
					if v[amb[b]] == 'i' {
						v[amb[b]] = 'l'
					} else {
						v[amb[b]] = 'i'
					}
				}
			}
			if sc.setWord(i, v) {
				return
			}
		}
		if bytes.IndexByte(c, '*') >= 0 && sc.masked(i, c) {
			return
		}
	}
	// Stretched letters: each run of three or more to one or two letters
	// ("fuuuck", "asssshole", "shiiiit"), then every run to one.
	if t.flags&tRun3 == 0 {
		return
	}
	var runs [4]int // where the runs of three or more start
	k := 0
	for j := 2; j < len(c); j++ {
		if c[j] == c[j-1] && c[j] == c[j-2] && (j == 2 || c[j] != c[j-3]) && k < len(runs) {
			runs[k] = j - 2
			k++
		}
	}
	for mask := 0; mask <= 1<<k; mask++ {
		v, r := tmp[:0], 0
		for j := 0; j < len(c); j++ {
			b := c[j]
			v = append(v, b)
			if mask == 1<<k { // every run to one
				for j+1 < len(c) && c[j+1] == b {
					j++
				}
				continue
			}
			if r < k && j == runs[r] {
				if mask&(1<<r) != 0 {
					v = append(v, b)
				}
				for j+1 < len(c) && c[j+1] == b {
					j++
				}
				r++
			}
		}
		if sc.setWord(i, v) {
			return
		}
	}
}

// setWord sets token i to the word v if the lexicon has it.
func (sc *scanner) setWord(i int, v []byte) bool {
	id := sc.lx.id(v)
	if id == 0 {
		return false
	}
	cs := int32(len(sc.canon))
	sc.addCanon(v)
	t := &sc.toks[i]
	t.wi, t.cs, t.ce = id, cs, int32(len(sc.canon))
	t.flags |= tOwn
	return true
}

// masked matches token i, written with asterisks for letters ("f*ck",
// "a**hole"), to the words that may be masked so. At least two letters
// must show.
func (sc *scanner) masked(i int, c []byte) bool {
	shown := 0
	for _, b := range c {
		if 'a' <= b && b <= 'z' {
			shown++
		}
	}
	if shown < 2 || len(c) < 3 {
		return false
	}
next:
	for _, w := range sc.lx.masked {
		if len(w) != len(c) {
			continue
		}
		for j := range len(w) {
			if c[j] != '*' && c[j] != w[j] && !(c[j] == 'i' && w[j] == 'l') {
				continue next
			}
		}
		var tmp [48]byte
		return sc.setWord(i, append(tmp[:0], w...))
	}
	return false
}
