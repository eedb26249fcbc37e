package gateway

import (
	"net/http"
	"strconv"

	"github.com/shopguard/shopguard/internal/http1"
)

// HeaderHeaderOrder tells the shop the fingerprint of the order in which
// the client sent its header fields (see headerOrderPrint); absent for
// HTTP/2, whose field order the gateway does not see. A client's own
// copy is always dropped.
const HeaderHeaderOrder = "X-Shopguard-Header-Order"

// headerOrderPrint returns the fingerprint of r's header field order:
// "h1", the number of fields (two digits at least), and a 64-bit FNV-1a
// hash of the field names lower-cased, in order, each followed by a
// comma — "h1_12_9f3c1b0e5a7d2c44". Browsers send their fields in an
// order of their own (Chrome puts Connection and the client hints before
// User-Agent, Firefox User-Agent right after Host), and HTTP libraries in
// theirs, which a script changing its User-Agent rarely imitates: the
// same tool keeps one print across addresses and user agents. "" when the
// order is unknown (HTTP/2, or a request not served by the gateway's own
// HTTP/1 server).
func headerOrderPrint(r *http.Request) string {
	names := http1.HeaderOrder(r)
	if names == nil {
		return ""
	}
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	for _, n := range names {
		for i := 0; i < len(n); i++ {
			c := n[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			h = (h ^ uint64(c)) * prime
		}
		h = (h ^ ',') * prime
	}
	var buf [32]byte
	b := append(buf[:0], "h1_"...)
	if len(names) < 10 {
		b = append(b, '0')
	}
	b = strconv.AppendInt(b, int64(len(names)), 10)
	b = append(b, '_')
	var hexBuf [16]byte
	hex := strconv.AppendUint(hexBuf[:0], h, 16)
	for range 16 - len(hex) {
		b = append(b, '0')
	}
	b = append(b, hex...)
	return string(b)
}
