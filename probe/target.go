package probe

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// HostPort is a parsed "host[:port]" target.
type HostPort struct {
	Host string // a name, an IPv4 address or an IPv6 address without brackets (zone kept)
	Port int    // 0 when the input had none and no default was given
}

// String renders the target back, with brackets around IPv6 literals.
func (h HostPort) String() string {
	if h.Port == 0 {
		if strings.Contains(h.Host, ":") {
			return "[" + h.Host + "]"
		}
		return h.Host
	}
	return net.JoinHostPort(h.Host, strconv.Itoa(h.Port))
}

// ParseHostPort parses "host", "host:port", "1.2.3.4:53", "[::1]:53", "::1"
// and "fe80::1%eth0". defaultPort (0 for none) fills in a missing port. Every
// problem is a *UsageError.
func ParseHostPort(s string, defaultPort int) (HostPort, error) {
	if s == "" {
		return HostPort{}, Usagef("empty address")
	}
	if strings.ContainsAny(s, " \t\r\n/") {
		return HostPort{}, Usagef("bad address %q", s)
	}
	host, portStr := s, ""
	switch {
	case strings.HasPrefix(s, "["):
		end := strings.Index(s, "]")
		if end < 0 {
			return HostPort{}, Usagef("bad address %q: missing ]", s)
		}
		host = s[1:end]
		rest := s[end+1:]
		switch {
		case rest == "":
		case strings.HasPrefix(rest, ":"):
			portStr = rest[1:]
			if portStr == "" {
				return HostPort{}, Usagef("bad address %q: empty port", s)
			}
		default:
			return HostPort{}, Usagef("bad address %q", s)
		}
		if _, err := netip.ParseAddr(host); err != nil {
			return HostPort{}, Usagef("bad address %q: %q is not an IPv6 address", s, host)
		}
	case strings.Count(s, ":") > 1:
		// A bare IPv6 literal; it cannot carry a port without brackets.
		if _, err := netip.ParseAddr(s); err != nil {
			return HostPort{}, Usagef("bad address %q (write IPv6 with a port as [addr]:port)", s)
		}
	case strings.Contains(s, ":"):
		i := strings.LastIndex(s, ":")
		host, portStr = s[:i], s[i+1:]
		if portStr == "" {
			return HostPort{}, Usagef("bad address %q: empty port", s)
		}
	}
	if host == "" {
		return HostPort{}, Usagef("bad address %q: empty host", s)
	}
	if strings.ContainsAny(host, "[]") {
		// An IPv6 zone may hold any byte, but "fe80::1%e]th0" could not
		// be written back as [host]:port.
		return HostPort{}, Usagef("bad address %q", s)
	}
	port := defaultPort
	if portStr != "" {
		p, err := ParsePort(portStr)
		if err != nil {
			return HostPort{}, Usagef("bad address %q: %v", s, err)
		}
		port = p
	}
	return HostPort{Host: host, Port: port}, nil
}

// ParsePort parses a decimal port number 1-65535.
func ParsePort(s string) (int, error) {
	p, err := strconv.Atoi(s)
	if err != nil || p < 1 || p > 65535 || s[0] == '+' || s[0] == '-' {
		return 0, Usagef("bad port %q (want 1-65535)", s)
	}
	return p, nil
}
