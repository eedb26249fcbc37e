package rules

import (
	"github.com/shopguard/shopguard/internal/reference"
	"github.com/shopguard/shopguard/internal/risk"

	"fmt"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Entry length limits.
const (
	maxTextEntry   = 256 // user, device, string (characters)
	maxCardEntry   = 128 // card fingerprint (bytes)
	maxEmailLen    = 254
	maxLocalPart   = 64
	maxDomainLen   = 253
	maxDomainLabel = 63
	maxQuoted      = 64 // how much of a bad value an error message quotes
)

// NormalizeEntry returns the canonical form of a list entry of the given
// kind, or an error wrapping ErrInvalid that says what is wrong:
//
//   - email: trimmed, lowercased; local@domain with a valid domain.
//   - email_domain: trimmed, lowercased, one trailing dot removed; ASCII
//     labels of letters, digits and hyphens (internationalized names in
//     their punycode "xn--" form), at least two labels.
//   - ip: an address in canonical form, or a CIDR prefix with its host bits
//     cleared ("10.1.2.3/8" becomes "10.0.0.0/8"); IPv4-mapped IPv6
//     addresses and prefixes become IPv4; a full-length prefix becomes the
//     address; zones are refused.
//   - card: an opaque token or fingerprint of 1..128 printable ASCII
//     characters without spaces. Anything that looks like a card number
//     (13-19 digits, spaces or hyphens ignored, passing the Luhn check) is
//     refused with an error wrapping ErrCardNumber: shopguard never stores
//     card numbers. Card errors never quote the value.
//   - bin: 6 to 8 digits.
//   - country: an ISO 3166-1 alpha-2 code (plus XK for Kosovo), uppercased.
//   - user, device, string: trimmed, 1..256 printable characters.
func NormalizeEntry(kind ListKind, v string) (string, error) {
	if !utf8.ValidString(v) {
		return "", entryError(kind, "is not valid UTF-8")
	}
	switch kind {
	case ListEmail:
		return normalizeEmail(v)
	case ListEmailDomain, ListLinkDomain:
		d := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(v)), ".")
		if msg := checkDomain(d); msg != "" {
			return "", entryError(kind, "%q %s", quote(v), msg)
		}
		return d, nil
	case ListIP:
		p, err := parseIPEntry(v)
		if err != nil {
			return "", err
		}
		if p.IsSingleIP() {
			return p.Addr().String(), nil
		}
		return p.String(), nil
	case ListCard:
		return normalizeCard(v)
	case ListBIN:
		s := strings.TrimSpace(v)
		if len(s) < 6 || len(s) > 8 || !allDigits(s) {
			return "", entryError(kind, "%q must be 6 to 8 digits", quote(v))
		}
		return s, nil
	case ListCountry:
		s := strings.ToUpper(strings.TrimSpace(v))
		if _, ok := reference.CountryName(s); !ok {
			return "", entryError(kind, "%q is not an ISO 3166-1 alpha-2 country code such as US or DE", quote(v))
		}
		return s, nil
	case ListUser, ListDevice, ListString:
		s := strings.TrimSpace(v)
		switch {
		case s == "":
			return "", entryError(kind, "is empty")
		case utf8.RuneCountInString(s) > maxTextEntry:
			return "", entryError(kind, "is longer than %d characters", maxTextEntry)
		}
		for _, r := range s {
			if !unicode.IsPrint(r) {
				return "", entryError(kind, "%q contains a control or non-printable character", quote(v))
			}
		}
		return s, nil
	}
	return "", fmt.Errorf("%w: unknown list kind %q", ErrInvalid, kind)
}

// lookupKey returns the form of v that NormalizeEntry would return for a
// valid v of a non-ip kind, without validating it: lookups of invalid
// values then simply find nothing, and no allocation happens for values
// already in canonical form.
func lookupKey(kind ListKind, v string) string {
	v = strings.TrimSpace(v)
	switch kind {
	case ListEmail:
		return strings.ToLower(v)
	case ListEmailDomain, ListLinkDomain:
		return strings.TrimSuffix(strings.ToLower(v), ".")
	case ListCountry:
		return strings.ToUpper(v)
	}
	return v
}

// entryError returns an error wrapping ErrInvalid about an entry of kind.
func entryError(kind ListKind, format string, args ...any) error {
	return fmt.Errorf("%w: %s entry %s", ErrInvalid, kind, fmt.Sprintf(format, args...))
}

// quote shortens v for an error message.
func quote(v string) string {
	return truncate(v, maxQuoted)
}

func normalizeEmail(v string) (string, error) {
	s := strings.ToLower(strings.TrimSpace(v))
	at := strings.IndexByte(s, '@')
	switch {
	case s == "":
		return "", entryError(ListEmail, "is empty")
	case len(s) > maxEmailLen:
		return "", entryError(ListEmail, "is longer than %d characters", maxEmailLen)
	case at < 0 || strings.Count(s, "@") != 1:
		return "", entryError(ListEmail, "%q must look like name@example.com", quote(v))
	}
	local, domain := s[:at], s[at+1:]
	switch {
	case local == "":
		return "", entryError(ListEmail, "%q has nothing before the @", quote(v))
	case len(local) > maxLocalPart:
		return "", entryError(ListEmail, "%q has more than %d characters before the @", quote(v), maxLocalPart)
	}
	for _, r := range local {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return "", entryError(ListEmail, "%q contains a space or control character", quote(v))
		}
	}
	if msg := checkDomain(domain); msg != "" {
		return "", entryError(ListEmail, "%q: domain %s", quote(v), msg)
	}
	return s, nil
}

// checkDomain returns why the lowercase d is not a valid ASCII domain name
// with at least two labels, or "".
func checkDomain(d string) string {
	switch {
	case d == "":
		return "is empty"
	case len(d) > maxDomainLen:
		return fmt.Sprintf("is longer than %d characters", maxDomainLen)
	}
	for i := 0; i < len(d); i++ {
		if d[i] >= utf8.RuneSelf {
			return `must be ASCII: write internationalized names in their punycode form ("xn--...")`
		}
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return "needs at least two labels, e.g. example.com"
	}
	for _, l := range labels {
		switch {
		case l == "":
			return "has an empty label"
		case len(l) > maxDomainLabel:
			return fmt.Sprintf("has a label longer than %d characters", maxDomainLabel)
		case l[0] == '-' || l[len(l)-1] == '-':
			return "has a label starting or ending with a hyphen"
		case len(l) >= 4 && l[2:4] == "--" && !strings.HasPrefix(l, "xn--"):
			return `has a label with "--" in positions 3-4 that is not punycode ("xn--")`
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return "may contain only letters, digits, hyphens and dots"
			}
		}
	}
	if allDigits(labels[len(labels)-1]) {
		return "has an all-numeric top-level label (an IP address is not a domain)"
	}
	return ""
}

// parseIPEntry parses an ip list entry as a prefix; an address becomes its
// full-length prefix. The prefix is masked and IPv4-mapped forms unmapped.
func parseIPEntry(v string) (netip.Prefix, error) {
	s := strings.TrimSpace(v)
	if strings.IndexByte(s, '/') < 0 {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, entryError(ListIP, "%q is neither an IP address nor a CIDR prefix", quote(v))
		}
		if a.Zone() != "" {
			return netip.Prefix{}, entryError(ListIP, "%q must not have a zone", quote(v))
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, entryError(ListIP, "%q is not a valid CIDR prefix such as 192.0.2.0/24", quote(v))
	}
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}

// normalizeCard checks a card token or fingerprint.
func normalizeCard(v string) (string, error) {
	s := strings.TrimSpace(v)
	if risk.LooksLikeCardNumber(s) {
		return "", fmt.Errorf("%w: card entries must be a token or fingerprint; shopguard never stores card numbers", ErrCardNumber)
	}
	switch {
	case s == "":
		return "", entryError(ListCard, "is empty")
	case len(s) > maxCardEntry:
		return "", entryError(ListCard, "is longer than %d characters", maxCardEntry)
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return "", entryError(ListCard, "may contain only printable ASCII characters without spaces")
		}
	}
	return s, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
