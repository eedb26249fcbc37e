package assistant

import (
	"regexp"
	"strings"
)

// What redact removed from a message.
const (
	secretCard     = "card number"
	secretPassword = "password"
	secretCode     = "one-time code"
	secretCVC      = "card security code"
)

var (
	// cardLike is 13 to 19 digits, maybe in groups.
	cardLike = regexp.MustCompile(`\b(?:\d[ -]?){12,18}\d\b`)
	// passwordIs is a password given in the text ("my password is x",
	// "pw: x", "passwort x").
	passwordIs = regexp.MustCompile(`(?i)\b(pass\s?word|passwort|pwd|pw|passcode)\b(\s+(is|was|=)|\s*[:=])\s*(\S+)`)
	// cvcIs is a card security code given in the text.
	cvcIs = regexp.MustCompile(`(?i)\b(cvv2?|cvc2?|csc|security code)\b\s*(is|:|=)?\s*(\d{3,4})\b`)
	// codeIs is a one-time code given as such ("the code is 482913",
	// "OTP: 4829").
	codeIs = regexp.MustCompile(`(?i)\b(code|otp|pin|passcode|tan)\b\s*(is|was|:|=|-)?\s*(\d{4,8})\b`)
	// onlyNumber is a message that is nothing but a code-sized number.
	onlyNumber = regexp.MustCompile(`^\s*\d{4,8}\s*$`)
)

// redact removes secrets a customer must never type into a chat: card
// numbers (13–19 digits passing the Luhn check), card security codes,
// passwords given as such, and one-time codes. It returns the text to
// keep and what it removed.
func redact(s string) (string, []string) {
	var found []string
	note := func(what string) {
		for _, f := range found {
			if f == what {
				return
			}
		}
		found = append(found, what)
	}
	s = cardLike.ReplaceAllStringFunc(s, func(m string) string {
		if luhn(m) {
			note(secretCard)
			return "[card number removed]"
		}
		return m
	})
	s = cvcIs.ReplaceAllStringFunc(s, func(m string) string {
		note(secretCVC)
		sub := cvcIs.FindStringSubmatch(m)
		return strings.TrimSuffix(m, sub[3]) + "[removed]"
	})
	s = passwordIs.ReplaceAllStringFunc(s, func(m string) string {
		note(secretPassword)
		sub := passwordIs.FindStringSubmatch(m)
		return strings.TrimSuffix(m, sub[4]) + "[removed]"
	})
	if onlyNumber.MatchString(s) {
		note(secretCode)
		return "[code removed]", found
	}
	// A one-time code, but not the digits that begin a verification code
	// of the shop's ("code 4827-QMX2"): those the customer is meant to quote.
	var b strings.Builder
	last := 0
	for _, m := range codeIs.FindAllStringSubmatchIndex(s, -1) {
		if startsCode(s[m[6]:]) {
			continue
		}
		note(secretCode)
		b.WriteString(s[last:m[6]])
		b.WriteString("[removed]")
		last = m[7]
	}
	b.WriteString(s[last:])
	return b.String(), found
}

// startsCode reports whether s begins with a verification code.
func startsCode(s string) bool {
	m := codeInText.FindStringSubmatchIndex(s)
	return m != nil && m[0] == 0 && hasDigitAndLetter(strings.ToUpper(s[m[2]:m[3]]+s[m[4]:m[5]]))
}

// luhn reports whether the digits of s pass the Luhn check.
func luhn(s string) bool {
	sum, n := 0, 0
	for i := len(s) - 1; i >= 0; i-- {
		c := s[i]
		if c < '0' || c > '9' {
			continue
		}
		d := int(c - '0')
		if n%2 == 1 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
		n++
	}
	return n >= 13 && sum%10 == 0
}

// manipulation matches text that tries to instruct the assistant rather
// than ask it something.
var manipulation = regexp.MustCompile(`(?i)(ignore|disregard|forget|override|bypass)\s+(all\s+|any\s+|your\s+|the\s+|my\s+)*(previous|prior|above|earlier|security|safety)?\s*(instructions|rules|prompts?|checks|verification|guidelines)` +
	`|\byou\s+are\s+now\b|\bsystem\s+prompt\b|\bdeveloper\s+mode\b|\bjailbreak|\bpretend\s+(to\s+be|you)` +
	`|\b(as|i\s+am|i'm|im)\s+(an?\s+|the\s+|your\s+)?(admin|administrator|developer|moderator|supervisor|manager|staff|employee|owner|ceo)\b` +
	`|\bact\s+as\b|\bno\s+need\s+(to|for)\s+(verify|verification|check)|\bskip\s+(the\s+)?(verification|check|step)`)

// manipulates reports whether s tries to instruct the assistant.
func manipulates(s string) bool { return manipulation.MatchString(s) }
