package content

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Normalized is a text folded for matching, with a map back to the
// original: compatibility forms decomposed (fullwidth letters and digits,
// ligatures, circled and mathematical letters), combining marks dropped,
// lower-cased, Cyrillic, Greek and Armenian letters that look like Latin
// ones folded to those, typographic quotes and dashes folded to ASCII,
// invisible and bidirectional control characters removed, and runs of
// white space and control characters collapsed to one space. Invalid UTF-8
// bytes become U+FFFD.
type Normalized struct {
	// Text is the folded text.
	Text string
	// Orig maps each byte offset of Text, and len(Text), to a byte offset
	// in the original: Orig[i] is where the character that produced
	// Text[i] starts, Orig[len(Text)] is the length of the original. It
	// never decreases.
	Orig []int32
	// ZeroWidth counts the invisible characters removed that hide
	// something (Scan reports them as CodeHiddenZeroWidth): a byte order
	// mark at the start and the joiners and variation selectors inside
	// emoji or between letters of scripts that need them are not counted.
	ZeroWidth int
	// Bidi counts the bidirectional control characters removed that can
	// reorder what a reader sees (Scan reports them as CodeHiddenBidi);
	// marks between right-to-left letters are not counted.
	Bidi int

	src string // the original, to find where its characters end
}

// Normalize folds text for matching (see Normalized).
func Normalize(text string) Normalized {
	f := folder{
		buf:  make([]byte, 0, len(text)),
		orig: make([]int32, 0, len(text)+1),
	}
	f.run(text)
	return Normalized{Text: string(f.buf), Orig: f.orig, ZeroWidth: f.zw, Bidi: f.bidi, src: text}
}

// Span maps the byte range [start, end) of n.Text to the range of the
// original that produced it, from the start of the character that
// produced Text[start] to the end of the one that produced Text[end-1]
// (with the combining marks after it that folding dropped). Offsets out of
// range are clamped; an empty range maps to an empty one.
func (n Normalized) Span(start, end int) (int, int) {
	return spanOf(n.Orig, n.src, start, end)
}

// spanOf is Normalized.Span over its parts. Without the original (src
// empty) the end is where the next folded character came from.
func spanOf(orig []int32, src string, start, end int) (int, int) {
	if len(orig) == 0 {
		return 0, 0
	}
	last := len(orig) - 1
	start = min(max(start, 0), last)
	end = min(max(end, start), last)
	s := int(orig[start])
	if end == start {
		return s, s
	}
	e := int(orig[end-1])
	if src == "" || e >= len(src) {
		return s, max(int(orig[end]), s)
	}
	_, size := utf8.DecodeRuneInString(src[e:])
	e += size
	for e < len(src) {
		r, size := utf8.DecodeRuneInString(src[e:])
		if r < utf8.RuneSelf || !isMark(r) {
			break
		}
		e += size
	}
	return s, e
}

// folder folds a text into buf, with orig mapping it back. Scan also has
// it report hidden characters and mixed-script words as it goes (scan
// set, found the findings so far) and count cased letters.
//
// Scan keeps buf, orig and found on its stack: they only ever grow by
// reslicing within their capacity or by moving to a new array (append
// would let them escape), and found holds no pointers.
type folder struct {
	buf      []byte
	orig     []int32
	zw, bidi int
	space    bool // the last byte written is a space

	scan         bool
	found        []rawFinding
	cased, upper int
	// The word being read, for mixed scripts: where it starts and ends
	// (-1: none), whether it has Latin letters and look-alike letters of
	// another script.
	wordStart, wordEnd int
	latin, look        bool
}

// Kinds of hidden character.
const (
	hiddenNone = iota
	hiddenZW
	hiddenBidi
)

// run folds s.
func (f *folder) run(s string) {
	f.wordStart = -1
	prev := rune(-1) // the last visible character, for the context of hidden ones
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			i = f.asciiRun(s, i)
			prev = rune(s[i-1])
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			f.endWord()
			f.emitRune(utf8.RuneError, i)
			prev = r
			i++
			continue
		}
		if k := hiddenKind(r); k != hiddenNone {
			if i == 0 && r == 0xFEFF { // a byte order mark
				i += size
				continue
			}
			i = f.hiddenRun(s, i, k, prev)
			continue
		}
		if f.scan {
			f.track(r, i, size)
		}
		f.fold(r, i, 0)
		prev = r
		i += size
	}
	f.endWord()
	f.room(0)
	f.orig = f.orig[:len(f.orig)+1]
	f.orig[len(f.orig)-1] = int32(len(s))
}

// room makes room in buf for n more bytes and in orig for n+1 more
// offsets.
func (f *folder) room(n int) {
	if cap(f.buf)-len(f.buf) < n {
		g := make([]byte, len(f.buf), 2*cap(f.buf)+n)
		copy(g, f.buf)
		f.buf = g
	}
	if cap(f.orig)-len(f.orig) < n+1 {
		g := make([]int32, len(f.orig), 2*cap(f.orig)+n+1)
		copy(g, f.orig)
		f.orig = g
	}
}

// report adds a finding at [start, end) of the original.
func (f *folder) report(code uint8, detail uint16, start, end int) {
	if len(f.found) == cap(f.found) {
		g := make([]rawFinding, len(f.found), 2*cap(f.found)+8)
		copy(g, f.found)
		f.found = g
	}
	f.found = f.found[:len(f.found)+1]
	f.found[len(f.found)-1] = rawFinding{s: int32(start), e: int32(end), code: code, detail: detail}
}

// asciiRun folds the run of ASCII bytes of s from i on, and returns
// where it ends. It is the hot loop: it writes into the arrays of buf and
// orig directly and keeps the word being read in local variables (a word
// ends before the byte that ends it, so only its start needs following).
func (f *folder) asciiRun(s string, i int) int {
	n := len(f.buf)
	if cap(f.buf)-n < len(s)-i || cap(f.orig)-n < len(s)-i+1 {
		f.room(len(s) - i)
	}
	buf, orig := f.buf[:cap(f.buf)], f.orig[:cap(f.orig)]
	space := f.space
	cased, upper := f.cased, f.upper
	wordStart, latin := f.wordStart, f.latin
	for ; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			break
		}
		switch {
		case 'a' <= c && c <= 'z':
			cased++
			if wordStart < 0 {
				wordStart = i
				f.look = false
			}
			latin = true
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
			cased++
			upper++
			if wordStart < 0 {
				wordStart = i
				f.look = false
			}
			latin = true
		case '0' <= c && c <= '9':
		default:
			if wordStart >= 0 {
				if latin && f.look && f.scan {
					f.report(cMixedScript, dMixedScript, wordStart, i)
				}
				wordStart = -1
			}
			if c <= ' ' || c == 0x7f {
				if space {
					continue
				}
				c = ' '
			}
		}
		space = c == ' '
		buf[n], orig[n] = c, int32(i)
		n++
	}
	f.buf, f.orig = f.buf[:n], f.orig[:n]
	f.space, f.cased, f.upper = space, cased, upper
	f.wordStart, f.wordEnd, f.latin = wordStart, i, latin
	return i
}

// emitByte writes the ASCII byte c that came from offset at, collapsing
// spaces.
func (f *folder) emitByte(c byte, at int) {
	if c == ' ' {
		if f.space {
			return
		}
		f.space = true
	} else {
		f.space = false
	}
	f.room(1)
	n := len(f.buf)
	f.buf = f.buf[:n+1]
	f.buf[n] = c
	f.orig = f.orig[:n+1]
	f.orig[n] = int32(at)
}

// emitRune writes the non-ASCII r that came from offset at.
func (f *folder) emitRune(r rune, at int) {
	f.space = false
	f.room(utf8.UTFMax)
	n := len(f.buf)
	size := utf8.EncodeRune(f.buf[n:n+utf8.UTFMax], r)
	f.buf = f.buf[:n+size]
	f.orig = f.orig[:n+size]
	for i := n; i < n+size; i++ {
		f.orig[i] = int32(at)
	}
}

// fold writes the folded form of the non-ASCII, visible r that came from
// offset at; depth bounds the folding of what it decomposes to.
func (f *folder) fold(r rune, at, depth int) {
	if unicode.IsSpace(r) || unicode.Is(unicode.Cc, r) {
		f.emitByte(' ', at)
		return
	}
	if c := foldASCII(r); c != 0 {
		f.emitByte(c, at)
		return
	}
	if isMark(r) {
		return
	}
	if depth < 3 {
		var tmp [utf8.UTFMax]byte
		n := utf8.EncodeRune(tmp[:], r)
		if d := norm.NFKD.Properties(tmp[:n]).Decomposition(); d != nil {
			for len(d) > 0 {
				dr, size := utf8.DecodeRune(d)
				d = d[size:]
				if dr < utf8.RuneSelf {
					c := byte(dr)
					if 'A' <= c && c <= 'Z' {
						c += 'a' - 'A'
					} else if c < ' ' || c == 0x7f {
						c = ' '
					}
					f.emitByte(c, at)
					continue
				}
				f.fold(dr, at, depth+1)
			}
			return
		}
		if l := unicode.ToLower(r); l != r {
			if l < utf8.RuneSelf {
				f.emitByte(byte(l), at)
			} else {
				f.fold(l, at, depth+1)
			}
			return
		}
	}
	f.emitRune(r, at)
}

// isMark reports whether r is a combining mark that folding drops.
func isMark(r rune) bool {
	return unicode.In(r, unicode.Mn, unicode.Me)
}

// hiddenKind tells whether r is an invisible character (hiddenZW), a
// bidirectional control (hiddenBidi) or neither. Variation selectors and
// joiners count as invisible; hiddenRun decides when they hide something.
func hiddenKind(r rune) int {
	switch {
	case r == 0x200E || r == 0x200F || r == 0x061C ||
		0x202A <= r && r <= 0x202E || 0x2066 <= r && r <= 0x2069:
		return hiddenBidi
	case 0x200B <= r && r <= 0x200D, 0x2060 <= r && r <= 0x2064, 0x206A <= r && r <= 0x206F,
		r == 0xFEFF, r == 0x00AD, r == 0x180E, r == 0x034F, r == 0x115F, r == 0x1160,
		r == 0x3164, r == 0xFFA0, r == 0x17B4, r == 0x17B5, 0xFFF9 <= r && r <= 0xFFFB,
		0x1D173 <= r && r <= 0x1D17A, 0xE0000 <= r && r <= 0xE007F,
		0xFE00 <= r && r <= 0xFE0F, 0xE0100 <= r && r <= 0xE01EF:
		return hiddenZW
	}
	return hiddenNone
}

// hiddenRun removes the run of hidden characters of kind k that starts
// at i, prev being the visible character before it; it counts and (when
// scanning) reports the run if it hides something, and returns where the
// run ends. Joiners and variation selectors hide something only next to
// Latin letters or digits (elsewhere they join emoji and the letters of
// scripts that need them); left-to-right, right-to-left and Arabic letter
// marks only in Latin text, not next to right-to-left letters.
func (f *folder) hiddenRun(s string, i, k int, prev rune) int {
	start, n := i, 0
	strong, onlyVS := false, true
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if hiddenKind(r) != k {
			break
		}
		vs := 0xFE00 <= r && r <= 0xFE0F
		if k == hiddenZW && !vs && r != 0x200C && r != 0x200D ||
			k == hiddenBidi && r != 0x200E && r != 0x200F && r != 0x061C {
			strong = true
		}
		onlyVS = onlyVS && vs
		n++
		i += size
	}
	next := rune(-1)
	if i < len(s) {
		next, _ = utf8.DecodeRuneInString(s[i:])
	}
	hides := strong
	switch {
	case hides:
	case k == hiddenBidi:
		hides = !isRTL(prev) && !isRTL(next) && (isLatinAlnum(prev) || isLatinAlnum(next))
	case onlyVS:
		hides = isLatinAlnum(prev) && isLatinAlnum(next)
	default:
		hides = isLatinAlnum(prev) || isLatinAlnum(next)
	}
	if !hides {
		return i
	}
	if k == hiddenZW {
		f.zw += n
		if f.scan {
			f.report(cZeroWidth, dZeroWidth, start, i)
		}
	} else {
		f.bidi += n
		if f.scan {
			f.report(cBidi, dBidi, start, i)
		}
	}
	return i
}

// isLatinAlnum reports whether r is a Latin letter or an ASCII digit.
func isLatinAlnum(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
	}
	return unicode.Is(unicode.Latin, r)
}

// isRTL reports whether r is a letter of a right-to-left script.
func isRTL(r rune) bool {
	return r >= 0x0590 && unicode.In(r, unicode.Hebrew, unicode.Arabic, unicode.Syriac, unicode.Thaana, unicode.Nko)
}

// track follows words for mixed scripts and counts cased letters, for
// the non-ASCII visible r at offset at.
func (f *folder) track(r rune, at, size int) {
	switch {
	case unicode.IsLetter(r):
		if unicode.IsUpper(r) {
			f.cased++
			f.upper++
		} else if unicode.IsLower(r) {
			f.cased++
		}
		latin := unicode.Is(unicode.Latin, r)
		f.letter(at, at+size, latin, !latin && lookalike(r) != 0)
	case isMark(r), unicode.IsDigit(r):
		if f.wordStart >= 0 {
			f.wordEnd = at + size
		}
	default:
		f.endWord()
	}
}

// letter adds the letter at [start, end) to the current word.
func (f *folder) letter(start, end int, latin, look bool) {
	if f.wordStart < 0 {
		f.wordStart = start
		f.latin, f.look = false, false
	}
	f.wordEnd = end
	f.latin = f.latin || latin
	f.look = f.look || look
}

// endWord ends the current word, reporting it if it mixes scripts.
func (f *folder) endWord() {
	if f.wordStart < 0 {
		return
	}
	if f.latin && f.look {
		f.report(cMixedScript, dMixedScript, f.wordStart, f.wordEnd)
	}
	f.wordStart = -1
}

// foldASCII folds r to the ASCII character it passes for, or returns 0:
// look-alike letters of other scripts, typographic quotes, dashes and
// full stops.
func foldASCII(r rune) byte {
	if c := lookalike(r); c != 0 {
		return c
	}
	switch r {
	case 0x2018, 0x2019, 0x201A, 0x201B, 0x2032, 0x2035, 0x02BC, 0x02B9, 0xFF07:
		return '\''
	case 0x201C, 0x201D, 0x201E, 0x201F, 0x2033, 0x2036, 0x00AB, 0x00BB:
		return '"'
	case 0x2010, 0x2011, 0x2012, 0x2013, 0x2014, 0x2015, 0x2212, 0xFE58, 0xFE63, 0xFF0D:
		return '-'
	case 0x3002, 0xFF61, 0x2024:
		return '.'
	case 0x2044, 0x2215:
		return '/'
	case 0xFF03, 0xFE5F:
		return '#'
	}
	return 0
}

// lookalike folds a letter of another script that looks like a Latin
// letter to that letter, or returns 0. Upper-case forms fold to the
// lower-case letter they look like in upper case (Greek Η to h, though
// its lower case η folds to n).
func lookalike(r rune) byte {
	if r < 0x0131 || r > 0x0587 {
		return 0
	}
	switch r {
	// Latin letters that are not ASCII but read as ASCII.
	case 'ı', 'ɩ':
		return 'i'
	case 'ȷ':
		return 'j'
	case 'ɑ':
		return 'a'
	case 'ɡ':
		return 'g'
	// Cyrillic.
	case 'А', 'а':
		return 'a'
	case 'В', 'Ь', 'ь':
		return 'b'
	case 'Е', 'е':
		return 'e'
	case 'К', 'к':
		return 'k'
	case 'М', 'м':
		return 'm'
	case 'Н', 'н', 'Һ', 'һ':
		return 'h'
	case 'О', 'о':
		return 'o'
	case 'Р', 'р':
		return 'p'
	case 'С', 'с':
		return 'c'
	case 'Т', 'т':
		return 't'
	case 'У', 'у', 'Ү', 'ү':
		return 'y'
	case 'Х', 'х':
		return 'x'
	case 'Ѕ', 'ѕ':
		return 's'
	case 'І', 'і':
		return 'i'
	case 'Ј', 'ј':
		return 'j'
	case 'Ԁ', 'ԁ':
		return 'd'
	case 'Ԛ', 'ԛ':
		return 'q'
	case 'Ԝ', 'ԝ':
		return 'w'
	case 'Ӏ', 'ӏ':
		return 'l'
	case 'п':
		return 'n'
	case 'Ѵ', 'ѵ':
		return 'v'
	// Greek.
	case 'Α', 'α':
		return 'a'
	case 'Β':
		return 'b'
	case 'Ε', 'ε':
		return 'e'
	case 'Ζ':
		return 'z'
	case 'Η':
		return 'h'
	case 'η':
		return 'n'
	case 'Ι', 'ι':
		return 'i'
	case 'Κ', 'κ':
		return 'k'
	case 'Μ':
		return 'm'
	case 'Ν':
		return 'n'
	case 'ν':
		return 'v'
	case 'Ο', 'ο':
		return 'o'
	case 'Ρ', 'ρ':
		return 'p'
	case 'Τ', 'τ':
		return 't'
	case 'Υ', 'γ', 'ϒ':
		return 'y'
	case 'υ':
		return 'u'
	case 'Χ', 'χ':
		return 'x'
	case 'ω':
		return 'w'
	case 'Ϲ', 'ϲ':
		return 'c'
	case 'ϳ':
		return 'j'
	// Armenian.
	case 'օ':
		return 'o'
	case 'ս':
		return 'u'
	case 'հ':
		return 'h'
	case 'ո':
		return 'n'
	case 'ց':
		return 'g'
	}
	return 0
}
