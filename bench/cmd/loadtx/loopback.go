package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
)

// errNotLoopback is returned for any target outside 127.0.0.0/8 and ::1.
var errNotLoopback = errors.New("loadtx only attacks loopback addresses (127.0.0.0/8 or ::1)")

// loopbackURL checks raw: an http URL whose host is a loopback IP literal
// (or "localhost", which must resolve to loopback addresses only). It
// returns the URL of POST /v1/transactions below it and the base URL.
func loopbackURL(ctx context.Context, raw string) (endpoint, base string, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", fmt.Errorf("-target %q: %w", raw, err)
	}
	if u.Scheme != "http" {
		return "", "", fmt.Errorf("-target %q: scheme must be http", raw)
	}
	if u.User != nil {
		return "", "", fmt.Errorf("-target %q: no credentials in the URL; use -key", raw)
	}
	host := u.Hostname()
	if host == "" || u.Port() == "" {
		return "", "", fmt.Errorf("-target %q: need host:port, e.g. http://127.0.0.1:8080", raw)
	}
	if err := checkLoopbackHost(ctx, host); err != nil {
		return "", "", fmt.Errorf("-target %q: %w", raw, err)
	}
	base = u.Scheme + "://" + u.Host
	path := strings.TrimSuffix(u.Path, "/")
	if path == "" {
		path = "/v1/transactions"
	}
	return base + path, base, nil
}

func checkLoopbackHost(ctx context.Context, host string) error {
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip.Zone() != "" || !ip.Unmap().IsLoopback() {
			return errNotLoopback
		}
		return nil
	}
	if !strings.EqualFold(host, "localhost") {
		return errNotLoopback
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return fmt.Errorf("resolve localhost: %v", err)
	}
	for _, a := range addrs {
		if !a.Unmap().IsLoopback() {
			return fmt.Errorf("localhost resolves to %s: %w", a, errNotLoopback)
		}
	}
	return nil
}

// loopbackOnly is a net.Dialer Control function that refuses to connect
// anywhere but loopback, whatever a resolver or redirect says.
func loopbackOnly(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("dial %s: %w", address, err)
	}
	if !ap.Addr().Unmap().IsLoopback() {
		return fmt.Errorf("dial %s: %w", address, errNotLoopback)
	}
	return nil
}
