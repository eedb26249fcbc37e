package content

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"slices"
	"strings"
	"unicode/utf8"
)

// Kinds of part of a phone number.
const (
	unitNone    = iota
	unitDigits  // digits
	unitLetters // digits with O, l or I for some ("O7911", "l23456")
	unitWord    // a digit spelled out ("seven"), "double", "triple"
	unitWeak    // "o", "oh": zero, but only inside a number
)

// unit tells whether token i can be part of a phone number, and how
// many digits it gives.
func (sc *scanner) unit(i int) (kind, digits int) {
	t := &sc.toks[i]
	if t.flags&(tDigit|tNum) == 0 {
		return unitNone, 0
	}
	raw := sc.raw(i)
	if t.flags&tDigits != 0 {
		return unitDigits, len(raw)
	}
	if sc.cls(i)&(clsNumWord|clsMult) != 0 {
		switch string(sc.canonOf(i)) {
		case "o", "oh":
			return unitWeak, 1
		case "triple":
			return unitWord, 2
		}
		return unitWord, 1
	}
	if t.flags&tDigit == 0 {
		return unitNone, 0
	}
	d, l := 0, 0
	for _, c := range raw {
		switch {
		case isDigit(c):
			d++
		case c == 'o' || c == 'l' || c == 'i':
			l++
		default:
			return unitNone, 0
		}
	}
	if d < 3 || l > d || l == 0 || d <= 3 && raw[len(raw)-1] == 'l' {
		return unitNone, 0
	}
	return unitLetters, len(raw)
}

// phones reports phone numbers: runs of digits with the separators
// numbers are written with, spaced-out digits, digits spelled out and
// digits with letters for some, of 7 to 15 digits, that are not prices,
// dates, years, ranges, counts, quantities, or numbers of orders, parts
// and the like.
func (sc *scanner) phones() {
	for i := 0; i < len(sc.toks); i++ {
		if sc.toks[i].flags&(tDigit|tNum) == 0 {
			continue
		}
		k, _ := sc.unit(i)
		if k == unitNone || k == unitWeak {
			continue
		}
		if i > 0 && !sc.brk(i-1) {
			if kp, _ := sc.unit(i - 1); kp == unitWeak && phoneSep(sc.sep(i-1), kp, k) {
				i-- // "oh seven nine"
			}
		}
		j := i
		_, total := sc.unit(i)
		for j+1 < len(sc.toks) && !sc.brk(j) {
			k2, d := sc.unit(j + 1)
			if k2 == unitNone || !phoneSep(sc.sep(j), k, k2) {
				break
			}
			j++
			k = k2
			total += d
		}
		if total >= 7 {
			sc.phone(i, j)
		}
		i = j
	}
}

// phoneSep reports whether sep can be between two parts of a phone
// number of kinds k1 and k2: a comma only between digits spelled out,
// brackets, slashes and dots only between digits.
func phoneSep(sep []byte, k1, k2 int) bool {
	words := k1 >= unitWord || k2 >= unitWord
	if len(sep) == 0 || len(sep) > 3 {
		return false
	}
	if string(sep) == "." {
		return !words
	}
	for _, c := range sep {
		switch c {
		case ' ', '-':
		case ',':
			if k1 < unitWord || k2 < unitWord {
				return false
			}
		case '(', ')', '/':
			if words {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// group is a run of digits of a number: how many digits, their value.
type group struct{ n, v int }

// phone reports the tokens [i, j] if they make a phone number.
func (sc *scanner) phone(i, j int) {
	if j > i && bytes.HasPrefix(sc.sep(j), []byte(":")) { // a time: "2024-03-15 10:30"
		j--
	}
	var groups [16]group
	var digits [40]byte
	total, ng, nd := 0, 0, 0
	words, letters, spaced := false, false, true
	for k := i; k <= j; k++ {
		kind, d := sc.unit(k)
		total += d
		spaced = spaced && d == 1
		switch kind {
		case unitWord, unitWeak:
			words = true
			if w := sc.word(k); w != nil && w.digit != 0 && ng < len(groups) {
				groups[ng] = group{1, int(w.digit - '0')}
				ng++
			}
		case unitLetters:
			letters = true
		}
		if kind != unitDigits {
			continue
		}
		raw := sc.raw(k)
		v := 0
		for _, c := range raw[:min(len(raw), 9)] {
			v = v*10 + int(c-'0')
		}
		if ng < len(groups) {
			groups[ng] = group{len(raw), v}
			ng++
		}
		if nd+len(raw) <= len(digits) {
			nd += copy(digits[nd:], raw)
		}
	}
	if total < 7 || total > 15 {
		return
	}
	before := sc.sepBefore(i)
	if bytes.IndexByte(before, '#') >= 0 || hasCurrency(before) {
		return
	}
	if sc.near(i, i-1, 1) && sc.cls(i-1)&(clsNoPhone|clsCurrency) != 0 {
		return
	}
	if sc.near(i, i-2, 2) && sc.cls(i-2)&clsNoPhone != 0 &&
		(sc.is(i-1, "number") || sc.is(i-1, "no") || sc.is(i-1, "num") || sc.is(i-1, "nr") || sc.is(i-1, "is")) {
		return
	}
	after := sc.sep(j)
	if j+1 < len(sc.toks) && !sc.brk(j) && sc.cls(j+1)&(clsUnit|clsCurrency) != 0 ||
		len(after) > 0 && after[0] == '%' || startsCurrency(after) {
		return
	}
	plus := len(before) > 0 && before[len(before)-1] == '+'
	if !letters && !plus && notPhone(groups[:ng], digits[:nd]) {
		return
	}
	if !plus && !words && !letters && i == j && digits[0] != '0' && nd < 10 &&
		sc.cls(i-1)&clsPhoneCtx == 0 && sc.cls(i-2)&clsPhoneCtx == 0 {
		return // "by 1234567 users": seven to nine digits in one piece are a number unless said to be a phone's
	}
	if dots := sc.dotted(i, j); dots && ng >= 3 && !spaced {
		ip := ng == 4
		for _, g := range groups[:ng] {
			ip = ip && g.n <= 3 && g.v <= 255
			if g.n == 1 {
				return // a version: "10.0.19045"
			}
		}
		if ip {
			return // an IP address
		}
	}
	start := int(sc.toks[i].s)
	if plus || len(before) > 0 && before[len(before)-1] == '(' {
		start--
	}
	detail := dPhone
	switch {
	case words:
		detail = dPhoneWords
	case letters:
		detail = dPhoneLetters
	case spaced:
		detail = dPhoneSpaced
	}
	sc.emit(cPhone, detail, start, int(sc.toks[j].e))
}

// dotted reports whether the tokens [i, j] are separated by dots only.
func (sc *scanner) dotted(i, j int) bool {
	for k := i; k < j; k++ {
		if string(sc.sep(k)) != "." {
			return false
		}
	}
	return true
}

// startsCurrency reports whether b starts with a currency sign.
func startsCurrency(b []byte) bool {
	r, _ := utf8.DecodeRune(bytes.TrimLeft(b, " "))
	switch r {
	case '$', '€', '£', '¥', '₹', '₽', '₩':
		return true
	}
	return false
}

// notPhone reports whether digit groups of 7 to 15 digits read as
// something else: one digit repeated, dates, years, a range, a count
// ("1 2 3 4 5 6 7", "36 38 40 42"), an EAN or ISBN.
func notPhone(groups []group, digits []byte) bool {
	if len(digits) > 0 && len(bytes.Trim(digits, string(digits[:1]))) == 0 {
		return true
	}
	year := func(g group) bool { return g.n == 4 && 1900 <= g.v && g.v <= 2099 }
	if len(groups)%3 == 0 {
		dates := true
		for k := 0; k < len(groups); k += 3 {
			a, b, c := groups[k], groups[k+1], groups[k+2]
			dmy := a.n <= 2 && b.n <= 2 && (c.n == 2 || year(c)) && a.v >= 1 && b.v >= 1 &&
				(a.v <= 31 && b.v <= 12 || a.v <= 12 && b.v <= 31)
			ymd := year(a) && b.n <= 2 && c.n <= 2 && 1 <= b.v && b.v <= 12 && 1 <= c.v && c.v <= 31
			dates = dates && (dmy || ymd)
		}
		if dates {
			return true
		}
	}
	if len(groups) == 1 && groups[0].n == 8 {
		y1, m1, d1 := groups[0].v/10000, groups[0].v/100%100, groups[0].v%100
		d2, m2, y2 := groups[0].v/1000000, groups[0].v/10000%100, groups[0].v%10000
		if 1900 <= y1 && y1 <= 2099 && 1 <= m1 && m1 <= 12 && 1 <= d1 && d1 <= 31 ||
			1900 <= y2 && y2 <= 2099 && 1 <= m2 && m2 <= 12 && 1 <= d2 && d2 <= 31 {
			return true
		}
	}
	if len(groups) >= 2 {
		years := true
		for _, g := range groups {
			years = years && year(g)
		}
		if years {
			return true
		}
	}
	lead0 := func(g group) bool { return g.n > 1 && g.v < pow10(g.n-1) }
	if len(groups) == 2 && groups[0].n == groups[1].n && groups[0].n >= 3 &&
		!lead0(groups[0]) && !lead0(groups[1]) && groups[0].v < groups[1].v {
		return true
	}
	if len(groups) >= 4 {
		step := groups[1].v - groups[0].v
		count := step > 0
		for k := 1; k < len(groups) && count; k++ {
			count = groups[k].n <= 3 && groups[k].v-groups[k-1].v == step
		}
		if count {
			return true
		}
	}
	if len(digits) == 13 && (bytes.HasPrefix(digits, []byte("978")) || bytes.HasPrefix(digits, []byte("979"))) {
		return true
	}
	if len(groups) == 1 && len(digits) == 13 {
		sum := 0
		for k, c := range digits[:12] {
			sum += int(c-'0') * (1 + 2*(k%2))
		}
		return (10-sum%10)%10 == int(digits[12]-'0')
	}
	return false
}

func pow10(n int) int {
	p := 1
	for range n {
		p *= 10
	}
	return p
}

// symbols reports what hangs on a symbol of the folded text: e-mail
// addresses and handles at "@", PayPal's "F&F" at "&", "100% free" at
// "%".
func (sc *scanner) symbols() {
	n := sc.norm
	for i := 0; i < len(n); i++ {
		k := bytes.IndexByte(n[i:], '@')
		if k < 0 {
			break
		}
		i = sc.at(i + k)
	}
	for i := 0; i < len(n); i++ {
		k := bytes.IndexByte(n[i:], '&')
		if k < 0 {
			break
		}
		i += k
		word := func(k int) bool { return k >= 0 && k < len(n) && (isDigit(n[k]) || 'a' <= n[k] && n[k] <= 'z') }
		for _, w := range [2]int{1, 2} { // "f&f", "f & f"
			l, r := i-w, i+w
			if l >= 0 && r < len(n) && n[l] == 'f' && n[r] == 'f' && !word(l-1) && !word(r+1) &&
				(w == 1 || n[i-1] == ' ' && n[i+1] == ' ') {
				sc.emit(cPayment, dFriends, l, r+1)
			}
		}
	}
	for i := 0; i < len(n); i++ {
		k := bytes.IndexByte(n[i:], '%')
		if k < 0 {
			break
		}
		i += k
		s := i - 3
		if s >= 1 && n[s] == ' ' {
			s--
		}
		if s < 0 || string(n[s:s+3]) != "100" || s > 0 && (isDigit(n[s-1]) || n[s-1] == '.') {
			continue
		}
		e := i + 1
		if e < len(n) && n[e] == ' ' {
			e++
		}
		rest := n[min(e+4, len(n)):]
		if bytes.HasPrefix(n[e:], []byte("free")) && (len(rest) == 0 || rest[0] < 'a' || rest[0] > 'z') &&
			!bytes.HasPrefix(rest, []byte(" of ")) && !bytes.HasPrefix(rest, []byte(" from ")) { // "100% free of BPA"
			sc.emit(cSpam, dFree, s, e+4)
		}
	}
}

// isLocal reports whether c can be in the local part of an e-mail
// address; isHost whether in a host name.
func isLocal(c byte) bool {
	return 'a' <= c && c <= 'z' || isDigit(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-'
}
func isHost(c byte) bool { return 'a' <= c && c <= 'z' || isDigit(c) || c == '.' || c == '-' }

// at reports the e-mail address or the messenger handle at the "@" at
// i, and returns where to go on from.
func (sc *scanner) at(i int) int {
	n := sc.norm
	ls := i
	for ls > 0 && isLocal(n[ls-1]) {
		ls--
	}
	for ls < i && n[ls] == '.' {
		ls++
	}
	if ls < i { // an address
		de := i + 1
		for de < len(n) && isHost(n[de]) {
			de++
		}
		for de > i+1 && (n[de-1] == '.' || n[de-1] == '-') {
			de--
		}
		dom := n[i+1 : de]
		dot := bytes.LastIndexByte(dom, '.')
		if dot <= 0 || len(dom)-dot-1 < 2 || bytes.ContainsFunc(dom[dot+1:], func(r rune) bool { return r < 'a' || r > 'z' }) {
			return i
		}
		sc.emit(cEmail, dEmail, ls, de)
		return de - 1
	}
	he := i + 1
	for he < len(n) && (isLocal(n[he]) && n[he] != '%' && n[he] != '+' && n[he] != '-') {
		he++
	}
	for he > i+1 && n[he-1] == '.' {
		he--
	}
	handle := n[i+1 : he]
	if len(handle) < 3 || len(handle) > 32 || !bytes.ContainsFunc(handle, func(r rune) bool { return 'a' <= r && r <= 'z' }) {
		return i
	}
	ti, _ := slices.BinarySearchFunc(sc.toks, i, func(t token, at int) int { return cmp.Compare(int(t.e), at+1) })
	for d := 1; d <= 5; d++ {
		for _, j := range [2]int{ti - d, ti + d} {
			c := sc.cls(j)
			if c&clsMsgName == 0 || c&clsMsgWeak != 0 && d > 2 || !sc.near(ti, j, d) {
				continue
			}
			name := dMessengerHandle
			if c&clsTelegram != 0 {
				name = dTelegramHandle
			}
			sc.emitWith(cMessenger, name, i, he, i, he)
			return he - 1
		}
	}
	return he - 1
}

// emails reports e-mail addresses written to dodge filters: "jane at
// gmail dot com", "jane(at)example(dot)com", "jane [at] example", "jane @
// gmail . com". A plain "at" needs a spelled-out dot or a mail provider
// ("found it at walmart.com" is no address).
func (sc *scanner) emails() {
	atSign := bytes.IndexByte(sc.norm, '@') >= 0
	for i := 1; i+1 < len(sc.toks); i++ {
		t := &sc.toks[i]
		at := t.e-t.s == 2 && sc.norm[t.s] == 'a' && sc.norm[t.s+1] == 't'
		if !at && (!atSign || sc.norm[t.s] != '@' && sc.norm[t.s-1] == ' ' && sc.norm[t.s-2] != '@') {
			continue // neither "at" nor "@" before
		}
		local, dom := i-1, i+1
		bracket, spaced := false, false
		pre := sc.sep(i - 1)
		switch {
		case at:
			bracket = bytes.ContainsAny(pre, "([{<") && bytes.ContainsAny(sc.sep(i), ")]}>")
		case len(pre) > 1 && string(bytes.TrimSpace(pre)) == "@":
			dom, spaced = i, true
		case sc.norm[t.s] == '@' && len(bytes.TrimSpace(pre)) == 0:
			dom, spaced = i, true
		default:
			continue
		}
		localPart := func(k int) bool {
			return !bytes.ContainsFunc(sc.raw(k), func(r rune) bool { return r >= utf8.RuneSelf || !isLocal(byte(r)) })
		}
		if sc.brk(local) || dom != i && sc.brk(i) || sc.cls(local)&clsLocalStop != 0 || !localPart(local) {
			continue
		}
		for local > 0 && len(sc.sep(local-1)) == 1 && bytes.IndexByte([]byte(".-+"), sc.sep(local - 1)[0]) >= 0 && localPart(local-1) {
			local-- // "jane.doe at"
		}
		label := func(k int) bool {
			raw := bytes.TrimPrefix(sc.raw(k), []byte("@"))
			return len(raw) > 0 && !bytes.ContainsFunc(raw, func(r rune) bool { return r >= utf8.RuneSelf || !isHost(byte(r)) || r == '.' })
		}
		if !label(dom) {
			continue
		}
		last, labels, spelled := dom, 1, false
		for last+1 < len(sc.toks) {
			s := bytes.TrimSpace(sc.sep(last))
			if string(s) == "." && label(last+1) { // "gmail.com", "gmail . com"
				last++
			} else if !sc.brk(last) && len(bytes.Trim(s, "([{<")) == 0 && sc.is(last+1, "dot") && last+2 < len(sc.toks) &&
				!sc.brk(last+1) && len(bytes.Trim(sc.sep(last+1), " )]}>")) == 0 && label(last+2) {
				last += 2
				spelled = true
			} else {
				break
			}
			labels++
		}
		tld := labels >= 2 && sc.cls(last)&clsTLD != 0
		first := bytes.TrimPrefix(sc.canonOf(dom), []byte("@"))
		provider := sc.lx.lookup(first) != nil && sc.lx.lookup(first).class&clsProvider != 0
		strongProvider := false
		switch string(first) {
		case "gmail", "googlemail", "yahoo", "hotmail", "protonmail", "icloud", "gmx", "yandex", "aol":
			strongProvider = true
		}
		if bracket || (spaced || spelled || provider) && tld || labels == 1 && strongProvider {
			sc.emitToks(cEmail, dEmailDodge, local, last+1)
			i = last
		}
	}
}

// messengerHosts are the hosts of links that open a chat in a
// messenger, with what must follow the host.
var messengerHosts = [...]struct {
	host, path string
	detail     uint16
}{
	{"wa.me", "", dWhatsAppLink}, {"whatsapp.com", "", dWhatsAppLink}, {"wa.link", "", dWhatsAppLink},
	{"t.me", "", dTelegramLink}, {"telegram.me", "", dTelegramLink}, {"telegram.dog", "", dTelegramLink},
	{"discord.gg", "", dDiscordInvite}, {"discord.com", "invite/", dDiscordInvite},
	{"m.me", "", dMessengerLink}, {"line.me", "", dLineLink}, {"signal.me", "", dSignalLink},
	{"kik.me", "", dKikLink}, {"snapchat.com", "add/", dSnapchatLink},
}

// links reports links that open a chat in a messenger (links as such
// are left to the link checks): at each "/", the host before it.
func (sc *scanner) links() {
	n := sc.norm
	for off := 0; off < len(n); {
		k := bytes.IndexByte(n[off:], '/')
		if k < 0 {
			return
		}
		slash := off + k
		off = slash + 1
		hs := slash
		for hs > 0 && isHost(n[hs-1]) {
			hs--
		}
		host := n[hs:slash]
		if len(host) < 4 {
			continue
		}
		for _, m := range messengerHosts {
			if !bytes.HasSuffix(host, []byte(m.host)) || !bytes.HasPrefix(n[off:], []byte(m.path)) {
				continue
			}
			// "bat.me/" is not "t.me/", but "chat.whatsapp.com/" is WhatsApp's.
			if len(host) > len(m.host) && (host[len(host)-len(m.host)-1] != '.' || strings.IndexByte(m.host, '.') < 5) {
				continue
			}
			e := off + len(m.path)
			for e < len(n) && n[e] > ' ' && n[e] < utf8.RuneSelf && bytes.IndexByte([]byte("\"'<>()[]{}"), n[e]) < 0 {
				e++
			}
			if e > off+len(m.path) {
				sc.emit(cMessenger, m.detail, hs, e)
				off = e
			}
			break
		}
	}
}

// shouting reports text mostly in capitals (cased letters, upper of
// them) and runs of repeated punctuation or letters.
func (sc *scanner) shouting(cased, upper int) {
	n := sc.norm
	if cased >= 20 && upper*10 >= cased*7 {
		s, e := 0, len(n)
		for s < e && n[s] == ' ' {
			s++
		}
		for e > s && n[e-1] == ' ' {
			e--
		}
		sc.emit(cShouting, dCapitals, s, e)
	}
	for _, p := range [...]string{"!!!!", "????", "$$$$", "####"} {
		for i := 0; i < len(n); {
			k := bytes.Index(n[i:], []byte(p))
			if k < 0 {
				break
			}
			s, e := i+k, i+k+4
			for e < len(n) && n[e] == p[0] {
				e++
			}
			sc.emit(cShouting, dPunctuation, s, e)
			i = e
		}
	}
	for i := range sc.toks { // letters: only in words with a letter three times in a row
		if sc.toks[i].flags&tRun3 == 0 {
			continue
		}
		raw, s := sc.raw(i), int(sc.toks[i].s)
		for j := 0; j < len(raw); {
			k := j + 1
			for k < len(raw) && raw[k] == raw[j] {
				k++
			}
			if k-j >= 5 && 'a' <= raw[j] && raw[j] <= 'z' {
				sc.emit(cShouting, dLetters, s+j, s+k)
			}
			j = k
		}
	}
}

// cryptoAddress reports token i if it is a cryptocurrency address:
// Ethereum (0x and 40 hex digits), Bitcoin or Litecoin bech32 with a
// valid checksum, or base58check (Bitcoin 1… and 3…, Litecoin L… and M…,
// Tron T…) with a valid checksum.
func (sc *scanner) cryptoAddress(i int) {
	raw := sc.raw(i)
	switch {
	case len(raw) == 42 && raw[0] == '0' && raw[1] == 'x' &&
		!bytes.ContainsFunc(raw[2:], func(r rune) bool { return !isDigit(byte(r)) && (r < 'a' || r > 'f') }):
		sc.emitToks(cPayment, dEthereum, i, i+1)
	case bytes.HasPrefix(raw, []byte("bc1")) && bech32Valid(raw):
		sc.emitToks(cPayment, dBitcoin, i, i+1)
	case bytes.HasPrefix(raw, []byte("ltc1")) && bech32Valid(raw):
		sc.emitToks(cPayment, dLitecoin, i, i+1)
	case len(raw) <= 35:
		s, e := spanOf(sc.orig, sc.src, int(sc.toks[i].s), int(sc.toks[i].e))
		o := sc.src[s:e]
		if len(o) != len(raw) || !base58Check(o) {
			return
		}
		switch o[0] {
		case '1', '3':
			sc.emitToks(cPayment, dBitcoin, i, i+1)
		case 'L', 'M':
			sc.emitToks(cPayment, dLitecoin, i, i+1)
		case 'T':
			sc.emitToks(cPayment, dTron, i, i+1)
		}
	}
}

// bech32Valid reports whether s (lower case) is bech32 or bech32m with a
// valid checksum (BIP 173, BIP 350).
func bech32Valid(s []byte) bool {
	const charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
	sep := bytes.LastIndexByte(s, '1')
	if sep < 1 || sep+7 > len(s) || len(s) > 90 {
		return false
	}
	chk := uint32(1)
	for _, c := range s[:sep] {
		chk = bech32Step(chk, c>>5)
	}
	chk = bech32Step(chk, 0)
	for _, c := range s[:sep] {
		chk = bech32Step(chk, c&31)
	}
	for _, c := range s[sep+1:] {
		v := strings.IndexByte(charset, c)
		if v < 0 {
			return false
		}
		chk = bech32Step(chk, byte(v))
	}
	return chk == 1 || chk == 0x2bc830a3
}

func bech32Step(chk uint32, v byte) uint32 {
	gen := [5]uint32{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3}
	b := chk >> 25
	chk = (chk&0x1ffffff)<<5 ^ uint32(v)
	for i := range gen {
		if b>>i&1 == 1 {
			chk ^= gen[i]
		}
	}
	return chk
}

// base58Digits has 1 + the value of each base58 digit, 0 for what is not
// one.
var base58Digits = func() (t [utf8.RuneSelf]byte) {
	const alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
	for i := range len(alphabet) {
		t[alphabet[i]] = byte(i + 1)
	}
	return t
}()

// base58Check reports whether s is base58 for 25 bytes (a version byte,
// a 20-byte hash, 4 bytes of checksum) whose checksum is right.
func base58Check(s string) bool {
	if len(s) < 26 || len(s) > 35 {
		return false
	}
	var out [25]byte
	for i := 0; i < len(s); i++ {
		v := -1
		if c := s[i]; c < utf8.RuneSelf && base58Digits[c] > 0 {
			v = int(base58Digits[c]) - 1
		}
		if v < 0 {
			return false
		}
		carry := v
		for k := len(out) - 1; k >= 0; k-- {
			carry += 58 * int(out[k])
			out[k] = byte(carry)
			carry >>= 8
		}
		if carry != 0 {
			return false
		}
	}
	ones, zeros := 0, 0
	for ones < len(s) && s[ones] == '1' {
		ones++
	}
	for zeros < len(out) && out[zeros] == 0 {
		zeros++
	}
	if ones != zeros {
		return false
	}
	sum := sha256.Sum256(out[:21])
	sum = sha256.Sum256(sum[:])
	return [4]byte(sum[:4]) == [4]byte(out[21:])
}

// spelledOut reports abuse spelled out letter by letter ("f u c k",
// "s.h.i.t"): three or more one-letter tokens a space, dot, dash,
// underscore or asterisk apart that make a word of the lexicon.
func (sc *scanner) spelledOut() {
	single := func(i int) bool {
		t := &sc.toks[i]
		return t.e-t.s == 1 && 'a' <= sc.norm[t.s] && sc.norm[t.s] <= 'z'
	}
	for i := 0; i < len(sc.toks); i++ {
		j := i
		for single(j) && j-i < 15 && j+1 < len(sc.toks) && single(j+1) && !sc.brk(j) {
			sep := sc.sep(j)
			if len(sep) > 2 || len(bytes.Trim(sep, " .-_*")) > 0 {
				break
			}
			j++
		}
		if j-i < 2 {
			continue
		}
		var word [16]byte
		for k := i; k <= j; k++ {
			word[k-i] = sc.raw(k)[0]
		}
		if w := sc.lx.lookup(word[:j-i+1]); w != nil && w.lex != nil && w.lex.code != cSpam &&
			(w.lex.mode == modeAlways || w.lex.mode == modeUpgrade) {
			sc.emitToks(w.lex.code, w.lex.detail, i, j+1)
		}
		i = j
	}
}
