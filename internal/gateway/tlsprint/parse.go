package tlsprint

import "fmt"

// cursor reads big-endian TLS wire fields; every method reports false instead
// of reading past the end.
type cursor []byte

func (c *cursor) empty() bool { return len(*c) == 0 }

func (c *cursor) uint8() (uint8, bool) {
	if len(*c) < 1 {
		return 0, false
	}
	v := (*c)[0]
	*c = (*c)[1:]
	return v, true
}

func (c *cursor) uint16() (uint16, bool) {
	if len(*c) < 2 {
		return 0, false
	}
	v := uint16((*c)[0])<<8 | uint16((*c)[1])
	*c = (*c)[2:]
	return v, true
}

func (c *cursor) bytes(n int) ([]byte, bool) {
	if len(*c) < n {
		return nil, false
	}
	v := (*c)[:n:n]
	*c = (*c)[n:]
	return v, true
}

// vec8 reads a vector with a one-byte length prefix.
func (c *cursor) vec8() (cursor, bool) {
	n, ok := c.uint8()
	if !ok {
		return nil, false
	}
	return c.bytes(int(n))
}

// vec16 reads a vector with a two-byte length prefix.
func (c *cursor) vec16() (cursor, bool) {
	n, ok := c.uint16()
	if !ok {
		return nil, false
	}
	return c.bytes(int(n))
}

func truncated(field string) error { return fmt.Errorf("%w: %s", ErrTruncated, field) }

// helloExts holds the raw data of the extensions the parser decodes (first
// occurrence of each) and the sizes the decoded lists need.
type helloExts struct {
	count int // extensions in the block

	groups, points, sigAlgs, alpn, versions cursor
	groupsN, sigsN, versionN                int
	alpnCount, alpnBytes                    int
	serverName                              cursor

	hasSNIExt, hasServerName                       bool
	hasGroups, hasPoints, hasSigs, hasALPN, hasVer bool
}

// parseMessage decodes a complete ClientHello handshake message (header
// included, exactly one message long).
func parseMessage(msg []byte) (*ClientHello, error) {
	body := cursor(msg[handshakeHeaderLen:])
	version, ok := body.uint16()
	if !ok {
		return nil, truncated("legacy_version")
	}
	if _, ok := body.bytes(32); !ok {
		return nil, truncated("random")
	}
	sid, ok := body.vec8()
	if !ok {
		return nil, truncated("legacy_session_id")
	}
	if len(sid) > 32 {
		return nil, fmt.Errorf("%w: legacy_session_id of %d bytes exceeds 32", ErrMalformed, len(sid))
	}
	suites, ok := body.vec16()
	if !ok {
		return nil, truncated("cipher_suites")
	}
	if len(suites)%2 != 0 {
		return nil, fmt.Errorf("%w: cipher_suites length %d is odd", ErrMalformed, len(suites))
	}
	if _, ok := body.vec8(); !ok {
		return nil, truncated("legacy_compression_methods")
	}
	var exts cursor
	hasExts := !body.empty() // SSL 3.0 era hellos may omit the extensions block
	if hasExts {
		if exts, ok = body.vec16(); !ok {
			return nil, truncated("extensions")
		}
		if !body.empty() {
			return nil, fmt.Errorf("%w: %d bytes after extensions", ErrMalformed, len(body))
		}
	}
	var he helloExts
	if err := he.scan(exts); err != nil {
		return nil, err
	}

	// One backing array for every uint16 list keeps allocations down; each
	// list is capped with a full slice expression so appends cannot overlap.
	nSuites := len(suites) / 2
	all := make([]uint16, nSuites+he.count+he.groupsN+he.sigsN+he.versionN)
	h := &ClientHello{Version: version}
	h.CipherSuites, all = fill16(all, nSuites, suites)
	if hasExts {
		h.Extensions = all[:he.count:he.count]
	}
	all = all[he.count:]
	for i, c := 0, exts; i < he.count; i++ {
		typ, _ := c.uint16()
		_, _ = c.vec16()
		h.Extensions[i] = typ
	}
	if he.hasGroups {
		h.SupportedGroups, all = fill16(all, he.groupsN, he.groups)
	}
	if he.hasSigs {
		h.SignatureAlgorithms, all = fill16(all, he.sigsN, he.sigAlgs)
	}
	if he.hasVer {
		h.SupportedVersions, _ = fill16(all, he.versionN, he.versions)
	}
	if he.hasPoints {
		h.PointFormats = append(make([]uint8, 0, len(he.points)), he.points...)
	}
	if he.hasServerName {
		h.ServerName = string(he.serverName)
	}
	if he.hasALPN {
		h.ALPN = decodeALPN(he.alpn, he.alpnCount, he.alpnBytes)
	}
	return h, nil
}

// fill16 decodes n big-endian uint16 values from src into the front of all
// and returns them with the rest of all.
func fill16(all []uint16, n int, src cursor) (list, rest []uint16) {
	list, rest = all[:n:n], all[n:]
	for i := range list {
		list[i] = uint16(src[2*i])<<8 | uint16(src[2*i+1])
	}
	return list, rest
}

// decodeALPN decodes an already validated protocol_name_list into strings
// that share one allocation.
func decodeALPN(list cursor, count, size int) []string {
	joined := make([]byte, 0, size)
	for c := list; !c.empty(); {
		p, _ := c.vec8()
		joined = append(joined, p...)
	}
	all := string(joined)
	protos := make([]string, count)
	off := 0
	for i, c := 0, list; i < count; i++ {
		p, _ := c.vec8()
		protos[i] = all[off : off+len(p)]
		off += len(p)
	}
	return protos
}

// scan walks the extensions block, counts the extensions and validates the
// ones that are decoded, so that decoding afterwards cannot fail.
func (he *helloExts) scan(exts cursor) error {
	for !exts.empty() {
		typ, ok := exts.uint16()
		if !ok {
			return truncated("extension type")
		}
		data, ok := exts.vec16()
		if !ok {
			return truncated(fmt.Sprintf("extension 0x%04x", typ))
		}
		he.count++
		var err error
		switch typ {
		case ExtServerName:
			if !he.hasSNIExt {
				he.hasSNIExt = true
				err = he.scanServerName(data)
			}
		case ExtSupportedGroups:
			if !he.hasGroups {
				he.groups, he.groupsN, err = list16(data, true, "supported_groups")
				he.hasGroups = err == nil
			}
		case ExtECPointFormats:
			if !he.hasPoints {
				he.points, err = whole8(data, "ec_point_formats")
				he.hasPoints = err == nil
			}
		case ExtSignatureAlgorithms:
			if !he.hasSigs {
				he.sigAlgs, he.sigsN, err = list16(data, true, "signature_algorithms")
				he.hasSigs = err == nil
			}
		case ExtALPN:
			if !he.hasALPN {
				err = he.scanALPN(data)
				he.hasALPN = err == nil
			}
		case ExtSupportedVersions:
			if !he.hasVer {
				he.versions, he.versionN, err = list16(data, false, "supported_versions")
				he.hasVer = err == nil
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// list16 reads an extension body that is one vector of uint16 values with a
// two-byte (wide) or one-byte length prefix and nothing after it.
func list16(data cursor, wide bool, name string) (cursor, int, error) {
	var (
		v  cursor
		ok bool
	)
	if wide {
		v, ok = data.vec16()
	} else {
		v, ok = data.vec8()
	}
	if !ok {
		return nil, 0, truncated(name)
	}
	if !data.empty() {
		return nil, 0, fmt.Errorf("%w: %d bytes after %s list", ErrMalformed, len(data), name)
	}
	if len(v)%2 != 0 {
		return nil, 0, fmt.Errorf("%w: %s length %d is odd", ErrMalformed, name, len(v))
	}
	return v, len(v) / 2, nil
}

// whole8 reads an extension body that is one vector of bytes with a one-byte
// length prefix and nothing after it.
func whole8(data cursor, name string) (cursor, error) {
	v, ok := data.vec8()
	if !ok {
		return nil, truncated(name)
	}
	if !data.empty() {
		return nil, fmt.Errorf("%w: %d bytes after %s list", ErrMalformed, len(data), name)
	}
	return v, nil
}

// scanServerName validates the server_name extension (RFC 6066 section 3)
// and keeps the first host_name entry.
func (he *helloExts) scanServerName(data cursor) error {
	list, ok := data.vec16()
	if !ok {
		return truncated("server_name list")
	}
	if !data.empty() {
		return fmt.Errorf("%w: %d bytes after server_name list", ErrMalformed, len(data))
	}
	for !list.empty() {
		nameType, ok := list.uint8()
		if !ok {
			return truncated("server_name type")
		}
		name, ok := list.vec16()
		if !ok {
			return truncated("server_name entry")
		}
		if nameType == 0 && !he.hasServerName {
			he.serverName, he.hasServerName = name, true
		}
	}
	return nil
}

// scanALPN validates the application_layer_protocol_negotiation extension
// (RFC 7301 section 3.1) and sizes the decoded list.
func (he *helloExts) scanALPN(data cursor) error {
	list, ok := data.vec16()
	if !ok {
		return truncated("alpn list")
	}
	if !data.empty() {
		return fmt.Errorf("%w: %d bytes after alpn list", ErrMalformed, len(data))
	}
	he.alpn = list
	for !list.empty() {
		p, ok := list.vec8()
		if !ok {
			return truncated("alpn protocol")
		}
		he.alpnCount++
		he.alpnBytes += len(p)
	}
	return nil
}
