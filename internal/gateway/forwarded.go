package gateway

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Trusted is the set of proxies (load balancers, CDNs) in front of the
// gateway whose X-Forwarded-For entries are believed. A request from any
// other peer is the client itself, whatever its headers claim.
type Trusted []netip.Prefix

// trusts reports whether ip is one of the trusted proxies.
func (t Trusted) trusts(ip netip.Addr) bool {
	for _, p := range t {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// maxForwardedHops bounds how many X-Forwarded-For entries are read: a
// real chain of proxies is a handful long; a longer one is a forgery or a
// loop, and reading it would let a client make the gateway work.
const maxForwardedHops = 32

// ClientIP returns the address of the client that sent r: the peer's,
// unless the peer is a trusted proxy, in which case X-Forwarded-For is
// read from the right (the entries the trusted proxies appended) and the
// first address that is not itself a trusted proxy is the client. An
// entry that is not an address ends the walk at the last trusted hop: a
// forged or garbled header never names the client. ok is false when the
// peer's own address cannot be read (not a TCP peer).
func (t Trusted) ClientIP(r *http.Request) (ip netip.Addr, ok bool) {
	p := peerOf(r)
	peer, ok := p.addr, p.ok
	if !ok {
		return netip.Addr{}, false
	}
	if !t.trusts(peer) {
		return peer, true
	}
	client := peer
	hops := 0
	values := r.Header.Values("X-Forwarded-For")
	for i := len(values) - 1; i >= 0; i-- {
		entries := values[i]
		for entries != "" {
			if hops == maxForwardedHops {
				return client, true
			}
			hops++
			var entry string
			if j := strings.LastIndexByte(entries, ','); j >= 0 {
				entry, entries = entries[j+1:], entries[:j]
			} else {
				entry, entries = entries, ""
			}
			addr, ok := parseForwardedAddr(strings.TrimSpace(entry))
			if !ok {
				return client, true
			}
			client = addr
			if !t.trusts(addr) {
				return client, true
			}
		}
	}
	return client, true
}

// peerIP reads the address of a request's RemoteAddr ("ip:port").
func peerIP(remote string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(remote); err == nil {
		return ap.Addr().Unmap(), true
	}
	if a, err := netip.ParseAddr(remote); err == nil { // no port (a test's RemoteAddr)
		return a.Unmap(), true
	}
	return netip.Addr{}, false
}

// parseForwardedAddr reads one X-Forwarded-For entry: an IPv4 or IPv6
// address, optionally with a port ("203.0.113.9:4711", "[2001:db8::1]:443")
// as some proxies write it. Zones are refused.
func parseForwardedAddr(s string) (netip.Addr, bool) {
	if s == "" || len(s) > 64 {
		return netip.Addr{}, false
	}
	if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
		return a.Unmap(), true
	}
	if host, _, err := net.SplitHostPort(s); err == nil {
		if a, err := netip.ParseAddr(host); err == nil && a.Zone() == "" {
			return a.Unmap(), true
		}
	}
	return netip.Addr{}, false
}

// forwardHeaders sets the X-Forwarded-* headers of out, the request sent
// upstream for in, after dropping out's copies of them and of Forwarded
// (see forwarded).
func (t Trusted) forwardHeaders(out, in *http.Request) {
	for _, h := range [...]string{"Forwarded", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host"} {
		out.Header.Del(h)
	}
	t.forwarded(in, out.Header.Set)
}

// forwarded calls set with the X-Forwarded-* headers of the request sent
// upstream for in: X-Forwarded-For is the chain the trusted proxies
// reported (none from an untrusted peer: whatever it sent is dropped)
// followed by the peer; X-Forwarded-Proto and X-Forwarded-Host say how
// the client reached the gateway (a trusted proxy's values are kept).
// The caller drops the client's own copies, and the standard Forwarded
// header: shopguard does not read it and an untrusted peer's copy would
// reach the shop unchecked.
func (t Trusted) forwarded(in *http.Request, set func(name, value string)) {
	peer := peerOf(in)
	trusted := peer.ok && t.trusts(peer.addr)
	if peer.ok {
		chain := peer.text
		if prior := strings.Join(in.Header.Values("X-Forwarded-For"), ", "); trusted && prior != "" {
			chain = prior + ", " + chain
		}
		set("X-Forwarded-For", chain)
	}
	proto, host := t.proto(in), in.Host
	if trusted {
		if h := in.Header.Get("X-Forwarded-Host"); h != "" {
			host = h
		}
	}
	set("X-Forwarded-Proto", proto)
	if host != "" {
		set("X-Forwarded-Host", host)
	}
}

// proto returns how the client reached the gateway, "http" or "https":
// r's own connection, or what a trusted proxy in front says.
func (t Trusted) proto(r *http.Request) string {
	proto := "http"
	if r.TLS != nil {
		proto = "https"
	}
	if peer := peerOf(r); peer.ok && t.trusts(peer.addr) {
		if p := r.Header.Get("X-Forwarded-Proto"); p == "http" || p == "https" {
			proto = p
		}
	}
	return proto
}
