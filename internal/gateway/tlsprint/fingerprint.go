package tlsprint

import (
	"crypto/md5" //nolint:gosec // JA3 is defined as an MD5 digest; it is an identifier, not a security control.
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
)

// Transport markers for the first character of a JA4 fingerprint.
const (
	// ProtocolTCP marks TLS over TCP ("t").
	ProtocolTCP byte = 't'
	// ProtocolQUIC marks a ClientHello carried in QUIC ("q").
	ProtocolQUIC byte = 'q'
)

// IsGREASE reports whether v is one of the sixteen GREASE values reserved by
// RFC 8701 (0x0a0a, 0x1a1a, ..., 0xfafa), which fingerprints ignore.
func IsGREASE(v uint16) bool {
	return v&0x0f0f == 0x0a0a && v>>8 == v&0xff
}

// JA3 returns the Salesforce JA3 string
// "SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats"
// (decimal values joined by '-', GREASE values removed from every list) and
// its lower-case hex MD5 digest.
func (h *ClientHello) JA3() (raw, hash string) {
	var stack [512]byte
	b := strconv.AppendUint(stack[:0], uint64(h.Version), 10)
	b = append(b, ',')
	b = appendDecimal16(b, h.CipherSuites)
	b = append(b, ',')
	b = appendDecimal16(b, h.Extensions)
	b = append(b, ',')
	b = appendDecimal16(b, h.SupportedGroups)
	b = append(b, ',')
	for i, p := range h.PointFormats {
		if i > 0 {
			b = append(b, '-')
		}
		b = strconv.AppendUint(b, uint64(p), 10)
	}
	sum := md5.Sum(b) //nolint:gosec // see import
	return string(b), hex.EncodeToString(sum[:])
}

func appendDecimal16(b []byte, list []uint16) []byte {
	first := true
	for _, v := range list {
		if IsGREASE(v) {
			continue
		}
		if !first {
			b = append(b, '-')
		}
		first = false
		b = strconv.AppendUint(b, uint64(v), 10)
	}
	return b
}

// JA4 returns the FoxIO JA4 fingerprint, e.g.
// "t13d1516h2_8daaf6152771_e5627efa2ab1": transport, TLS version, SNI
// marker, cipher and extension counts, ALPN marker, then the truncated
// SHA-256 of the sorted cipher list and of the sorted extension list (SNI and
// ALPN removed) followed by the signature algorithms in their original order.
// GREASE values are ignored everywhere. protocol is ProtocolTCP or
// ProtocolQUIC; any other value is rendered as ProtocolTCP.
func (h *ClientHello) JA4(protocol byte) string {
	return h.ja4(protocol, true)
}

// JA4Raw returns the JA4_r form of the fingerprint: the same as JA4 but with
// the sorted cipher list and the extension and signature algorithm lists
// written out in hex instead of hashed. It is meant for debugging and tests.
func (h *ClientHello) JA4Raw(protocol byte) string {
	return h.ja4(protocol, false)
}

func (h *ClientHello) ja4(protocol byte, hashed bool) string {
	var (
		stack   [1024]byte
		scratch [128]uint16
	)
	out := h.appendJA4A(stack[:0], protocol)

	out = append(out, '_')
	ciphers := sortedNonGREASE(scratch[:0], h.CipherSuites, false)
	start := len(out)
	out = appendHex16(out, ciphers)
	if hashed {
		out = hash12(out, start)
	}

	out = append(out, '_')
	exts := sortedNonGREASE(ciphers[:0], h.Extensions, true)
	start = len(out)
	out = appendHex16(out, exts)
	if len(exts) > 0 && hasNonGREASE(h.SignatureAlgorithms) {
		out = append(out, '_')
		first := true
		for _, s := range h.SignatureAlgorithms {
			if IsGREASE(s) {
				continue
			}
			if !first {
				out = append(out, ',')
			}
			first = false
			out = appendHex4(out, s)
		}
	}
	if hashed {
		// An empty extension list hashes to zeros even if signature
		// algorithms were sent (which needs extension 0x000d, so cannot happen).
		if len(exts) == 0 {
			out = append(out[:start], "000000000000"...)
		} else {
			out = hash12(out, start)
		}
	}
	return string(out)
}

// appendJA4A appends the readable first section, e.g. "t13d1516h2".
func (h *ClientHello) appendJA4A(b []byte, protocol byte) []byte {
	if protocol != ProtocolQUIC {
		protocol = ProtocolTCP
	}
	b = append(b, protocol)
	b = append(b, versionCode(h.ja4Version())...)
	if h.HasExtension(ExtServerName) {
		b = append(b, 'd')
	} else {
		b = append(b, 'i')
	}
	b = appendCount(b, countNonGREASE(h.CipherSuites))
	b = appendCount(b, countNonGREASE(h.Extensions))
	return appendALPNCode(b, h.ALPN)
}

// ja4Version is the highest non-GREASE supported_versions value, or the
// legacy version when that extension is absent or holds only GREASE.
func (h *ClientHello) ja4Version() uint16 {
	var best uint16
	found := false
	for _, v := range h.SupportedVersions {
		if !IsGREASE(v) && (!found || v > best) {
			best, found = v, true
		}
	}
	if !found {
		return h.Version
	}
	return best
}

// versionCode maps a protocol version to its two JA4 characters.
func versionCode(v uint16) string {
	switch v {
	case 0x0304:
		return "13"
	case 0x0303:
		return "12"
	case 0x0302:
		return "11"
	case 0x0301:
		return "10"
	case 0x0300:
		return "s3"
	case 0x0002:
		return "s2"
	case 0xfeff:
		return "d1"
	case 0xfefd:
		return "d2"
	case 0xfefc:
		return "d3"
	}
	return "00"
}

// appendALPNCode appends the first and last characters of the first ALPN
// value, "00" when there is none or it is empty; when either end byte is not
// an ASCII letter or digit it uses the first and last characters of the
// value's hex encoding instead (JA4.md, "ALPN Extension Value").
func appendALPNCode(b []byte, alpn []string) []byte {
	if len(alpn) == 0 || alpn[0] == "" {
		return append(b, '0', '0')
	}
	first, last := alpn[0][0], alpn[0][len(alpn[0])-1]
	if isAlnum(first) && isAlnum(last) {
		return append(b, first, last)
	}
	const digits = "0123456789abcdef"
	return append(b, digits[first>>4], digits[last&0x0f])
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z'
}

func appendCount(b []byte, n int) []byte {
	n = min(n, 99)
	return append(b, byte('0'+n/10), byte('0'+n%10))
}

func countNonGREASE(list []uint16) int {
	n := 0
	for _, v := range list {
		if !IsGREASE(v) {
			n++
		}
	}
	return n
}

func hasNonGREASE(list []uint16) bool {
	for _, v := range list {
		if !IsGREASE(v) {
			return true
		}
	}
	return false
}

// sortedNonGREASE appends the non-GREASE values of src to dst (dropping SNI
// and ALPN when dropNamed is set) and sorts the result.
func sortedNonGREASE(dst, src []uint16, dropNamed bool) []uint16 {
	for _, v := range src {
		if IsGREASE(v) || dropNamed && (v == ExtServerName || v == ExtALPN) {
			continue
		}
		dst = append(dst, v)
	}
	slices.Sort(dst)
	return dst
}

// appendHex16 appends the values as 4-digit lower-case hex joined by ','.
func appendHex16(b []byte, list []uint16) []byte {
	for i, v := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendHex4(b, v)
	}
	return b
}

func appendHex4(b []byte, v uint16) []byte {
	const digits = "0123456789abcdef"
	return append(b, digits[v>>12], digits[v>>8&0xf], digits[v>>4&0xf], digits[v&0xf])
}

// hash12 replaces b[start:] with the first 12 hex characters of its SHA-256,
// or with twelve zeros when it is empty (JA4+ rule for empty lists).
func hash12(b []byte, start int) []byte {
	if len(b) == start {
		return append(b, "000000000000"...)
	}
	sum := sha256.Sum256(b[start:])
	b = b[:start]
	var enc [12]byte
	hex.Encode(enc[:], sum[:6])
	return append(b, enc[:]...)
}
