package tlsprint

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fixtureNames lists the ClientHello byte dumps under testdata/. They are
// the published inputs of CyberChef's fingerprint tests:
//   - cyberchef_ja3_*.hex: gchq/CyberChef tests/operations/tests/JA3Fingerprint.mjs
//   - cyberchef_ja4_*.hex: gchq/CyberChef tests/operations/tests/JA4Fingerprint.mjs
var fixtureNames = []string{
	"cyberchef_ja3_tls10",
	"cyberchef_ja3_tls11",
	"cyberchef_ja3_tls12",
	"cyberchef_ja3_tls13",
	"cyberchef_ja4_chrome",
	"cyberchef_ja4_firefox",
}

// loadHex reads testdata/<name>.hex, a hex dump of the bytes a client sent.
func loadHex(tb testing.TB, name string) []byte {
	tb.Helper()
	text, err := os.ReadFile(filepath.Join("testdata", name+".hex"))
	if err != nil {
		tb.Fatal(err)
	}
	b, err := hex.DecodeString(strings.Join(strings.Fields(string(text)), ""))
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return b
}

// messageOf strips the record header of a single-record fixture and returns
// the handshake message it carries.
func messageOf(tb testing.TB, records []byte) []byte {
	tb.Helper()
	n := int(records[3])<<8 | int(records[4])
	if len(records) != recordHeaderLen+n {
		tb.Fatalf("fixture is not exactly one record")
	}
	return records[recordHeaderLen:]
}

// splitRecords frames msg as handshake records whose fragments have the
// given sizes, repeating the last size until msg is used up.
func splitRecords(msg []byte, sizes ...int) []byte {
	var out []byte
	for i := 0; len(msg) > 0; i++ {
		n := sizes[min(i, len(sizes)-1)]
		n = min(n, len(msg))
		out = append(out, recordTypeHandshake, 3, 1, byte(n>>8), byte(n))
		out = append(out, msg[:n]...)
		msg = msg[n:]
	}
	return out
}

// helloSpec describes a synthetic ClientHello for the builder.
type helloSpec struct {
	version    uint16
	sessionID  []byte
	suites     []byte // raw cipher_suites vector body
	oddSuites  bool   // add one byte to make the vector length odd
	noExts     bool   // omit the extensions block entirely
	extensions [][]byte
	trailing   []byte // bytes after the extensions block
}

// ext encodes one extension with the given type and body.
func ext(typ uint16, body ...byte) []byte {
	return append([]byte{byte(typ >> 8), byte(typ), byte(len(body) >> 8), byte(len(body))}, body...)
}

// u16s encodes values big-endian.
func u16s(vs ...uint16) []byte {
	var b []byte
	for _, v := range vs {
		b = append(b, byte(v>>8), byte(v))
	}
	return b
}

// vec16 prefixes b with its two-byte length.
func vec16(b []byte) []byte { return append([]byte{byte(len(b) >> 8), byte(len(b))}, b...) }

// vec8 prefixes b with its one-byte length.
func vec8(b []byte) []byte { return append([]byte{byte(len(b))}, b...) }

// message encodes the spec as a ClientHello handshake message.
func (s helloSpec) message() []byte {
	body := []byte{byte(s.version >> 8), byte(s.version)}
	body = append(body, make([]byte, 32)...)
	body = append(body, vec8(s.sessionID)...)
	suites := s.suites
	if s.oddSuites {
		suites = append(append([]byte(nil), suites...), 0)
	}
	body = append(body, vec16(suites)...)
	body = append(body, 1, 0) // compression methods: null
	if !s.noExts {
		var exts []byte
		for _, e := range s.extensions {
			exts = append(exts, e...)
		}
		body = append(body, vec16(exts)...)
	}
	body = append(body, s.trailing...)
	n := len(body)
	return append([]byte{handshakeTypeClientHello, byte(n >> 16), byte(n >> 8), byte(n)}, body...)
}
