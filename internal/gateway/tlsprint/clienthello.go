// Package tlsprint computes TLS client fingerprints (JA3 and JA4) from the
// raw ClientHello a client sends first on a TLS connection, and offers a
// net.Listener wrapper that captures that ClientHello as it passes through
// to crypto/tls, so the gateway can read the fingerprint in its handlers.
//
// The parser reads only what fingerprinting needs and checks every length
// field; bad input gives a wrapped sentinel error, never a panic.
package tlsprint

import (
	"errors"
	"fmt"
)

// Sentinel errors returned (wrapped, test with errors.Is) by the parsers.
var (
	// ErrNeedMore means the input is a valid but incomplete prefix of a
	// ClientHello: read more bytes from the connection and parse again.
	ErrNeedMore = errors.New("tlsprint: need more data")
	// ErrNotClientHello means the input is not a TLS handshake carrying a
	// ClientHello (another record or handshake type, SSLv2 framing, plain HTTP).
	ErrNotClientHello = errors.New("tlsprint: not a TLS ClientHello")
	// ErrTruncated means a length field inside the ClientHello points past
	// the end of the structure that contains it.
	ErrTruncated = errors.New("tlsprint: truncated ClientHello")
	// ErrMalformed means the ClientHello is complete but structurally invalid
	// (odd vector length, trailing bytes, empty or oversized record, ...).
	ErrMalformed = errors.New("tlsprint: malformed ClientHello")
	// ErrTooLarge means the ClientHello, or the bytes needed to capture it,
	// exceed the size limit.
	ErrTooLarge = errors.New("tlsprint: ClientHello too large")
)

const (
	// MaxHelloLen is the largest ClientHello body (handshake length field)
	// the parser accepts; real clients send well under 4 KiB.
	MaxHelloLen = 16 << 10

	recordTypeHandshake      = 22
	handshakeTypeClientHello = 1
	recordHeaderLen          = 5
	handshakeHeaderLen       = 4
	// maxRecordLen is the largest record fragment accepted. RFC 8446 caps
	// plaintext at 2^14, but crypto/tls tolerates up to 2^14+2048 before it
	// has negotiated a version, so the parser does too.
	maxRecordLen = 1<<14 + 2048
)

// Extension type IDs the parser reads (IANA TLS ExtensionType registry).
const (
	// ExtServerName is server_name (SNI, RFC 6066).
	ExtServerName uint16 = 0x0000
	// ExtSupportedGroups is supported_groups, formerly elliptic_curves (RFC 8422).
	ExtSupportedGroups uint16 = 0x000a
	// ExtECPointFormats is ec_point_formats (RFC 8422).
	ExtECPointFormats uint16 = 0x000b
	// ExtSignatureAlgorithms is signature_algorithms (RFC 8446).
	ExtSignatureAlgorithms uint16 = 0x000d
	// ExtALPN is application_layer_protocol_negotiation (RFC 7301).
	ExtALPN uint16 = 0x0010
	// ExtSupportedVersions is supported_versions (RFC 8446).
	ExtSupportedVersions uint16 = 0x002b
)

// ClientHello is the part of a TLS ClientHello that fingerprints use. Lists
// keep the client's order and include GREASE values; a list is nil when its
// extension is absent and empty (non-nil) when the extension is present but
// empty. If an extension appears more than once, every occurrence is listed in
// Extensions and the data of the first one is used.
type ClientHello struct {
	// Version is the legacy_version field (0x0303 for TLS 1.2 and 1.3 clients).
	Version uint16
	// CipherSuites lists the offered cipher suites.
	CipherSuites []uint16
	// Extensions lists the extension type IDs in the order sent.
	Extensions []uint16
	// ServerName is the first host_name of the server_name extension (SNI),
	// exactly as sent; empty when absent.
	ServerName string
	// SupportedGroups lists the supported_groups (elliptic curves) extension.
	SupportedGroups []uint16
	// PointFormats lists the ec_point_formats extension.
	PointFormats []uint8
	// SignatureAlgorithms lists the signature_algorithms extension.
	SignatureAlgorithms []uint16
	// ALPN lists the application protocols offered, in order.
	ALPN []string
	// SupportedVersions lists the supported_versions extension.
	SupportedVersions []uint16
}

// HasExtension reports whether the client sent extension typ.
func (h *ClientHello) HasExtension(typ uint16) bool {
	for _, e := range h.Extensions {
		if e == typ {
			return true
		}
	}
	return false
}

// ParseClientHello parses the first bytes a client sends on a TLS connection:
// one or more handshake records (content type 22) carrying a ClientHello,
// reassembled across records up to MaxHelloLen. Bytes after the ClientHello
// are ignored. It returns ErrNeedMore (unwrapped) when data is a valid prefix
// that ends before the ClientHello does, and otherwise a wrapped
// ErrNotClientHello, ErrTruncated, ErrMalformed or ErrTooLarge for bad input.
// The result does not alias data.
func ParseClientHello(data []byte) (*ClientHello, error) {
	var r reassembler
	msg, _, err := r.next(data)
	if err != nil {
		return nil, err
	}
	return parseMessage(msg)
}

// ParseClientHelloMessage parses a bare ClientHello handshake message (the
// 4-byte handshake header and body, without TLS records), as carried in QUIC
// CRYPTO frames. Bytes after the message are ignored; errors are as for
// ParseClientHello.
func ParseClientHelloMessage(msg []byte) (*ClientHello, error) {
	if len(msg) == 0 {
		return nil, ErrNeedMore
	}
	if msg[0] != handshakeTypeClientHello {
		return nil, fmt.Errorf("%w: handshake type %d", ErrNotClientHello, msg[0])
	}
	if len(msg) < handshakeHeaderLen {
		return nil, ErrNeedMore
	}
	n, err := helloLen(msg)
	if err != nil {
		return nil, err
	}
	if len(msg) < n {
		return nil, ErrNeedMore
	}
	return parseMessage(msg[:n])
}

// helloLen checks a ClientHello handshake header and returns the length of
// the whole message, header included.
func helloLen(hdr []byte) (int, error) {
	if hdr[0] != handshakeTypeClientHello {
		return 0, fmt.Errorf("%w: handshake type %d", ErrNotClientHello, hdr[0])
	}
	body := int(hdr[1])<<16 | int(hdr[2])<<8 | int(hdr[3])
	if body > MaxHelloLen {
		return 0, fmt.Errorf("%w: handshake body of %d bytes exceeds %d", ErrTooLarge, body, MaxHelloLen)
	}
	return handshakeHeaderLen + body, nil
}

// ClientHelloSize reports how many bytes at the start of data carry the
// ClientHello records, so a caller reading from a socket knows how far to
// read. With a complete ClientHello it returns that count (at most len(data))
// and a nil error. With an incomplete one it returns ErrNeedMore and a lower
// bound greater than len(data): ParseClientHello cannot succeed before data
// reaches that length. Invalid input gives 0 and the ParseClientHello error.
func ClientHelloSize(data []byte) (int, error) {
	var r reassembler
	_, size, err := r.next(data)
	if err != nil && err != ErrNeedMore {
		return 0, err
	}
	return size, err
}

// reassembler walks the handshake records at the start of a byte stream and
// collects the ClientHello message they carry. Its zero value starts at the
// beginning of the stream; next can be called again with the stream extended
// and resumes where it stopped, so feeding a stream read by read costs time
// linear in its length.
type reassembler struct {
	hdr       [handshakeHeaderLen]byte
	hdrN      int  // bytes of hdr filled so far
	needKnown bool // hdr is complete and need is set
	need      int  // length of the whole message, header included
	have      int  // message bytes in the records walked so far
	records   int  // records walked so far
	off       int  // stream offset of the next record
}

// missing is a lower bound on the message bytes still to come.
func (r *reassembler) missing() int {
	if !r.needKnown {
		return handshakeHeaderLen - r.hdrN
	}
	return r.need - r.have
}

// next continues the walk over data, which must extend the data of earlier
// calls. It returns the message and the length of the records that carry it;
// or ErrNeedMore and a lower bound on the stream length that could complete
// it; or a wrapped parse error. When the message sits in the first record it
// is a subslice of data; otherwise the fragments are copied.
func (r *reassembler) next(data []byte) (msg []byte, size int, err error) {
	for {
		off := r.off
		if len(data)-off < 1 {
			return nil, off + recordHeaderLen + r.missing(), ErrNeedMore
		}
		if err := checkRecordStart(data[off:], r.records); err != nil {
			return nil, 0, err
		}
		if len(data)-off < recordHeaderLen {
			return nil, off + recordHeaderLen + r.missing(), ErrNeedMore
		}
		n := int(data[off+3])<<8 | int(data[off+4])
		if n == 0 {
			return nil, 0, fmt.Errorf("%w: empty handshake record", ErrMalformed)
		}
		if n > maxRecordLen {
			return nil, 0, fmt.Errorf("%w: record of %d bytes exceeds %d", ErrMalformed, n, maxRecordLen)
		}
		if len(data)-off-recordHeaderLen < n {
			end := off + recordHeaderLen + n
			if rest := r.missing() - n; rest > 0 {
				end += recordHeaderLen + rest
			}
			return nil, end, ErrNeedMore
		}
		frag := data[off+recordHeaderLen : off+recordHeaderLen+n]
		r.off = off + recordHeaderLen + n
		r.records++
		// Until the header is complete every message byte seen went into hdr,
		// so the header continues at the start of this fragment.
		for i := 0; r.hdrN < handshakeHeaderLen && i < len(frag); i++ {
			r.hdr[r.hdrN] = frag[i]
			r.hdrN++
		}
		if r.hdr[0] != handshakeTypeClientHello {
			return nil, 0, fmt.Errorf("%w: handshake type %d", ErrNotClientHello, r.hdr[0])
		}
		r.have += len(frag)
		if !r.needKnown && r.hdrN == handshakeHeaderLen {
			total, err := helloLen(r.hdr[:])
			if err != nil {
				return nil, 0, err
			}
			r.need, r.needKnown = total, true
		}
		if r.needKnown && r.have >= r.need {
			if r.records == 1 {
				return frag[:r.need], r.off, nil
			}
			return gather(data[:r.off], r.need), r.off, nil
		}
	}
}

// checkRecordStart checks the content type and version major byte of the
// record that starts rec; index is the record's position in the stream.
func checkRecordStart(rec []byte, index int) error {
	if rec[0] != recordTypeHandshake {
		if index == 0 {
			return fmt.Errorf("%w: record content type %d", ErrNotClientHello, rec[0])
		}
		return fmt.Errorf("%w: record content type %d inside ClientHello", ErrMalformed, rec[0])
	}
	if len(rec) > 1 && rec[1] != 3 {
		if index == 0 {
			return fmt.Errorf("%w: record version major %d", ErrNotClientHello, rec[1])
		}
		return fmt.Errorf("%w: record version major %d", ErrMalformed, rec[1])
	}
	return nil
}

// gather copies the first need message bytes out of the already validated
// records in data.
func gather(data []byte, need int) []byte {
	msg := make([]byte, 0, need)
	for len(msg) < need {
		n := int(data[3])<<8 | int(data[4])
		frag := data[recordHeaderLen : recordHeaderLen+n]
		if rest := need - len(msg); len(frag) > rest {
			frag = frag[:rest]
		}
		msg = append(msg, frag...)
		data = data[recordHeaderLen+n:]
	}
	return msg
}
