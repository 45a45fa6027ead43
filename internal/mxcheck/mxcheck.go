// Package mxcheck answers whether a mail domain can receive mail at all:
// an MX record, or else an A or AAAA record (RFC 5321 section 5.1, the
// implicit MX). It asks one configured resolver with a short timeout, and
// an answer it cannot get (a timeout, SERVFAIL) is "unknown", never "no":
// a sign-up must not be refused because DNS is slow.
package mxcheck

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Defaults of Checker's zero fields.
const (
	DefaultTimeout = 300 * time.Millisecond
	DefaultTTL     = 10 * time.Minute
	maxCached      = 100_000
)

// Checker asks Server (host:port) about domains and remembers the answers
// for TTL. Safe for concurrent use.
type Checker struct {
	Server  string
	Timeout time.Duration // per question; DefaultTimeout if 0
	TTL     time.Duration // how long an answer is kept; DefaultTTL if 0
	Now     func() time.Time

	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	has     bool
	expires time.Time
}

// errUnknown: the resolver gave no usable answer.
var errUnknown = errors.New("no usable answer")

// HasMailServer reports whether domain has an MX, A or AAAA record; known
// is false when the resolver did not answer in time or failed, and then
// has means nothing.
func (c *Checker) HasMailServer(ctx context.Context, domain string) (has, known bool) {
	domain = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(domain)), ".")
	if domain == "" {
		return false, false
	}
	now := c.now()
	c.mu.Lock()
	if e, ok := c.cache[domain]; ok && now.Before(e.expires) {
		c.mu.Unlock()
		return e.has, true
	}
	c.mu.Unlock()
	has, err := c.lookup(ctx, domain)
	if err != nil {
		return false, false // unknown answers are not kept: the next sign-up asks again
	}
	c.mu.Lock()
	if c.cache == nil || len(c.cache) >= maxCached {
		c.cache = map[string]cached{} // a bounded cache: start over rather than grow
	}
	c.cache[domain] = cached{has: has, expires: now.Add(c.ttl())}
	c.mu.Unlock()
	return has, true
}

// lookup asks for MX, then A, then AAAA; NXDOMAIN is a definite "no".
func (c *Checker) lookup(ctx context.Context, domain string) (bool, error) {
	for _, t := range []uint16{dns.TypeMX, dns.TypeA, dns.TypeAAAA} {
		n, err := c.ask(ctx, domain, t)
		switch {
		case errors.Is(err, errNXDomain):
			return false, nil
		case err != nil:
			return false, err
		case n > 0:
			return true, nil
		}
	}
	return false, nil
}

var errNXDomain = errors.New("no such domain")

// ask returns how many records of type t the answer holds.
func (c *Checker) ask(ctx context.Context, domain string, t uint16) (int, error) {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(domain), t)
	cl := &dns.Client{Timeout: timeout}
	in, _, err := cl.ExchangeContext(ctx, m, c.Server)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", errUnknown, err)
	}
	switch in.Rcode {
	case dns.RcodeSuccess:
	case dns.RcodeNameError:
		return 0, errNXDomain
	default: // SERVFAIL, REFUSED…: the resolver could not say
		return 0, fmt.Errorf("%w: rcode %s", errUnknown, dns.RcodeToString[in.Rcode])
	}
	n := 0
	for _, rr := range in.Answer {
		if rr.Header().Rrtype == t {
			n++
		}
	}
	return n, nil
}

func (c *Checker) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Checker) ttl() time.Duration {
	if c.TTL > 0 {
		return c.TTL
	}
	return DefaultTTL
}

// SystemResolver is the first nameserver of /etc/resolv.conf, as host:port.
func SystemResolver() (string, error) {
	cc, err := dns.ClientConfigFromFile("/etc/resolv.conf")
	if err != nil {
		return "", fmt.Errorf("read the system's resolver: %w", err)
	}
	if len(cc.Servers) == 0 {
		return "", errors.New("no nameserver in /etc/resolv.conf")
	}
	return net.JoinHostPort(cc.Servers[0], cc.Port), nil
}
