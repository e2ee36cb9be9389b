package probe

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// ParseListenAddr reads the ADDR of a server (nettool serve dns|http|echo)
// and returns host:port to listen on. Every server reads it the same way:
//
//	""                     127.0.0.1:defaultPort
//	"PORT", ":PORT"        127.0.0.1:PORT (0: a free port)
//	"HOST", "[V6]", "V6"   HOST:defaultPort
//	"HOST:PORT", "[V6]:PORT"
//
// HOST is an IP address or localhost (127.0.0.1): a server never looks a
// name up. Every interface only when asked for by address: 0.0.0.0 or [::].
func ParseListenAddr(s string, defaultPort int) (string, error) {
	bad := func(why string) error { return Usagef("bad listen address %q: %s", s, why) }
	if s == "" {
		return net.JoinHostPort("127.0.0.1", strconv.Itoa(defaultPort)), nil
	}
	if _, err := strconv.Atoi(s); err == nil {
		s = "127.0.0.1:" + s
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		// No port: a bare host or IPv6 literal.
		host, port = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"), strconv.Itoa(defaultPort)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 || port[0] == '+' || port[0] == '-' {
		return "", bad("port must be 0-65535")
	}
	switch host {
	case "", "localhost":
		host = "127.0.0.1"
	default:
		a, err := netip.ParseAddr(host)
		if err != nil || strings.ContainsAny(host, "[]") { // a zone may hold "]": not writable as [host]:port
			return "", bad("host must be an IP address or localhost")
		}
		host = a.String()
	}
	return net.JoinHostPort(host, strconv.Itoa(n)), nil
}
