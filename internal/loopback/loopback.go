// Package loopback is the desk's one answer to "does this stay on this
// computer?": plain IMAP, SMTP and webhook HTTP are allowed only to a
// loopback server (app checks the configuration, inbox checks again before
// it dials), and browsers keep Secure cookies over plain HTTP only on a
// loopback host (ui and app warn otherwise).
package loopback

import (
	"net"
	"net/netip"
	"strings"
)

// Host reports whether host, a name or an IP address (IPv6 with or without
// brackets), is this computer: "localhost" in any case, or a loopback
// address. A name is taken at its word; a dialer that must be sure checks
// the address it reached.
func Host(host string) bool {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// HostPort is Host of the host of "host:port"; false when hostport is not
// host:port.
func HostPort(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	return err == nil && Host(host)
}

// SecureContext reports whether browsers treat host, with or without a
// port, as a secure context over plain HTTP, and so keep Secure cookies
// there: localhost, any name under .localhost, or a loopback address.
func SecureContext(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	name := strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"))
	return Host(name) || strings.HasSuffix(name, ".localhost")
}
