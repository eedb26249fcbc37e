package content

import (
	"bytes"
	"unicode/utf8"
)

// words reports single words and phrases of the lexicon, crypto
// addresses and Cash App tags.
func (sc *scanner) words() {
	for i := range sc.toks {
		if w := sc.word(i); w != nil {
			if w.lex != nil {
				sc.lexHit(i, w.lex)
			}
			for _, p := range w.first {
				if end := sc.match(p, 0, i, i); end > i && sc.cond(p, i, end) {
					sc.emitToks(p.code, p.detail, i, end)
					if p.cashApp {
						sc.cashApp = true
					}
				}
			}
		}
		if raw := sc.raw(i); len(raw) >= 26 {
			sc.cryptoAddress(i)
		}
	}
	sc.spelledOut()
	if !sc.cashApp {
		return
	}
	for i := range sc.toks {
		if raw := sc.raw(i); len(raw) >= 3 && raw[0] == '$' && 'a' <= raw[1] && raw[1] <= 'z' {
			sc.emitToks(cPayment, dCashtag, i, i+1)
		}
	}
}

// lexHit reports the single word at token i.
func (sc *scanner) lexHit(i int, e *lexEntry) {
	switch e.mode {
	case modeAlways:
		sc.emitToks(e.code, e.detail, i, i+1)
	case modeTargeted, modeTargetedAdj, modeYouOnly:
		if sc.targeted(i, e.mode != modeTargeted, e.mode != modeYouOnly) {
			sc.emitToks(cInsult, e.insult, i, i+1)
		}
	case modeUpgrade:
		if sc.targeted(i, false, true) {
			sc.emitToks(cInsult, e.insult, i, i+1)
		} else {
			sc.emitToks(e.code, e.detail, i, i+1)
		}
	}
}

// targeted reports whether the insult at token i is aimed at someone:
// "you idiot", "you're so stupid", "the seller is an idiot", "what a
// loser", "idiot seller". An adjective (adj) is not aimed by "what a" or
// "such a", which mostly speak of things ("what a stupid lid"); without
// persons only "you" aims it ("support is useless" is a complaint, "you
// are useless" an insult). Compounds ("idiot-proof") and speaking of
// oneself ("stupid me") are not insults.
func (sc *scanner) targeted(i int, adj, persons bool) bool {
	if i > 0 && !sc.brk(i-1) && string(sc.sep(i-1)) == "-" ||
		i+1 < len(sc.toks) && !sc.brk(i) && string(sc.sep(i)) == "-" {
		return false
	}
	if i+1 < len(sc.toks) && !sc.brk(i) {
		next := sc.cls(i + 1)
		if next&clsProof != 0 || next&clsSelf != 0 && string(sc.sep(i)) == " " {
			return false
		}
		if persons && next&clsPerson != 0 && string(sc.sep(i)) == " " {
			return true
		}
	}
	for j := i - 1; j >= 0 && j >= i-5; j-- {
		if sc.brk(j) {
			break
		}
		c := sc.cls(j)
		if c&clsYou != 0 || persons && c&clsPerson != 0 || !adj && c&clsExclaim != 0 {
			return true
		}
		if c&clsFiller == 0 {
			break
		}
	}
	return false
}

// match matches the slots of p from si on to the tokens from ti on (the
// phrase started at token start) and returns the token after the match,
// or -1.
func (sc *scanner) match(p *phrase, si, ti, start int) int {
	if si == len(p.slots) {
		return ti
	}
	s := &p.slots[si]
	ok := ti < len(sc.toks) && (ti == start || !sc.brk(ti-1))
	if s.kind == slotGap {
		for k := 0; k <= s.max; k++ {
			if k > 0 {
				j := ti + k - 1
				if j >= len(sc.toks) || j > start && sc.brk(j-1) || s.class != 0 && sc.cls(j)&s.class == 0 {
					break
				}
			}
			if r := sc.match(p, si+1, ti+k, start); r >= 0 {
				return r
			}
		}
		return -1
	}
	if ok {
		if n := sc.slotMatch(s, ti); n > 0 {
			if r := sc.match(p, si+1, ti+n, start); r >= 0 {
				return r
			}
		}
	}
	if s.opt {
		return sc.match(p, si+1, ti, start)
	}
	return -1
}

// slotMatch returns how many tokens from ti the slot s matches (0: it
// does not).
func (sc *scanner) slotMatch(s *slot, ti int) int {
	t := &sc.toks[ti]
	switch s.kind {
	case slotNumber:
		if t.flags&tDigits != 0 {
			return 1
		}
	case slotMoney:
		raw := sc.raw(ti)
		digits := bytes.TrimRight(raw, "k$")
		if len(digits) == 0 || bytes.IndexFunc(digits, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
			return 0
		}
		if len(digits) < len(raw) && raw[len(raw)-1] == '$' || hasCurrency(sc.sepBefore(ti)) {
			return 1
		}
		if !sc.brk(ti) && sc.cls(ti+1)&clsCurrency != 0 {
			return 2
		}
	default:
		if sc.cls(ti)&s.class != 0 {
			return 1
		}
		c := sc.canonOf(ti)
		for _, w := range s.words {
			if string(c) == w {
				return 1
			}
		}
	}
	return 0
}

// hasCurrency reports whether b ends with a currency sign.
func hasCurrency(b []byte) bool {
	r, _ := utf8.DecodeLastRune(bytes.TrimRight(b, " "))
	switch r {
	case '$', '€', '£', '¥', '₹', '₽', '₩':
		return true
	}
	return false
}

// cond checks the condition of p matched at tokens [s, e).
func (sc *scanner) cond(p *phrase, s, e int) bool {
	after := e < len(sc.toks) && !sc.brk(e-1)
	switch p.cond {
	case condEnd:
		return !after || bytes.ContainsAny(sc.sep(e-1), ",:") || sc.cls(e)&clsEnd != 0
	case condNoPurchase:
		ss, se := sc.sentence(s)
		for j := ss; j < se; j++ {
			if sc.cls(j)&clsPurchase != 0 {
				return false
			}
		}
		return true
	case condPayCtx, condPayPal:
		for j := s - 1; j >= s-4 && sc.near(s, j, 4); j-- {
			if sc.cls(j)&clsPayCtx != 0 || (sc.is(j, "send") || sc.is(j, "sending")) && sc.cls(j+1)&clsMeUs != 0 {
				return true
			}
			if p.cond == condPayPal && (sc.is(j, "send") || sc.is(j, "sent") || sc.is(j, "sending")) {
				return true
			}
		}
		if p.cond == condPayPal {
			ss, se := sc.sentence(s)
			for j := ss; j < se; j++ {
				if sc.is(j, "paypal") || sc.is(j, "pp") {
					return true
				}
			}
			return false
		}
		return after && sc.cls(e)&clsPayAfter != 0
	case condMsg, condMsgStrong:
		return sc.msgContext(s, e, p.cond == condMsgStrong)
	case condStart:
		if s == 0 || sc.brk(s-1) {
			return true
		}
		for j := s - 1; j >= s-3 && sc.near(s, j, 3); j-- {
			if sc.cls(j)&clsSubj != 0 {
				return true
			}
		}
		return false
	}
	return true
}

// msgContext reports whether the messenger named at tokens [s, e) is
// named as a way to get in touch: "(add) me on WhatsApp", "my WhatsApp",
// "WhatsApp me", "WhatsApp: +44 ...", "Telegram @handle". A name that is
// also an ordinary word (strong) needs "me on", a contact verb before it
// or a handle, number or ID after it.
func (sc *scanner) msgContext(s, e int, strong bool) bool {
	b1, b2, b3 := sc.clsNear(s, s-1), sc.clsNear(s, s-2), sc.clsNear(s, s-3)
	if b1&clsPrep != 0 && (b2&clsMeUs != 0 || sc.is(s-2, "up") && b3&clsMeUs != 0) || b1&clsStrongVerb != 0 {
		return true // "me on", "hit me up on", "dm snap"
	}
	if b1&clsMy != 0 && e+1 < len(sc.toks) && !sc.brk(e-1) && !sc.brk(e) && (sc.is(e, "is") || sc.is(e, "id")) {
		if raw := sc.raw(e + 1); raw[0] == '@' || bytes.ContainsAny(raw, "0123456789_") {
			return true // "my snap is kylie_22"
		}
	}
	if !strong && (b1&clsMy != 0 && sc.cls(e)&clsUsage == 0 || sc.is(s-1, "via") || sc.is(s-1, "through") || sc.is(s-1, "thru")) {
		return true
	}
	if e >= len(sc.toks) || sc.brk(e-1) {
		return false
	}
	sep, next, raw := sc.sep(e-1), sc.cls(e), sc.raw(e)
	handleLike := raw[0] == '@' || sc.toks[e].flags&tDigits != 0 || bytes.ContainsAny(raw, "0123456789_")
	switch {
	case raw[0] == '@' || bytes.IndexByte(sep, '@') >= 0 || handleLike && bytes.IndexByte(sep, ':') >= 0:
		return true
	case bytes.IndexByte(sep, '+') >= 0 && sc.toks[e].flags&tDigits != 0:
		return true
	case !strong && (next&clsMsgAfter != 0 || bytes.IndexByte(sep, ':') >= 0 || handleLike):
		return true
	case strong && (sc.is(e, "me") || sc.is(e, "id") || sc.is(e, "handle") || sc.is(e, "username") || sc.is(e, "user")):
		return true
	}
	return false
}

// clsNear returns the classes of token j if it is in the sentence of
// token i, 0 if not.
func (sc *scanner) clsNear(i, j int) uint64 {
	if !sc.near(i, j, max(i-j, j-i)) {
		return 0
	}
	return sc.cls(j)
}
