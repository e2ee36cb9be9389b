package probe

import (
	"net"
	"net/netip"
	"strconv"
	"testing"
)

// FuzzParseListenAddr feeds the listen-address parser of serve dns, http
// and echo: it either refuses with a usage error (exit 2) or gives an
// address net.Listen takes without a name lookup (an IP address, a port
// 0-65535) that parses to itself again. (Found: "::%]0", an IPv6 zone
// holding "]", was accepted and written back as "[::%]0]:5353", which
// nothing parses.)
func FuzzParseListenAddr(f *testing.F) {
	for _, s := range []string{"", "5353", ":53", "127.0.0.1:0", "[::1]:8000", "::1", "[::1", "localhost", "localhost:99999",
		"fe80::1%eth0", "[fe80::1%eth0]:80", "1.2.3.4:+80", "1.2.3.4:-0", "example.com:80", "0.0.0.0:", ":", "[]:1", "1.2.3.4:0x50", "::%]0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := ParseListenAddr(s, 5353)
		if err != nil {
			if !IsUsage(err) {
				t.Fatalf("%q: %v is not a usage error", s, err)
			}
			return
		}
		host, port, err := net.SplitHostPort(out)
		if err != nil {
			t.Fatalf("%q -> %q: %v", s, out, err)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 || strconv.Itoa(n) != port {
			t.Fatalf("%q -> %q: bad port", s, out)
		}
		if _, err := netip.ParseAddr(host); err != nil {
			t.Fatalf("%q -> %q: host is not an address", s, out)
		}
		if again, err := ParseListenAddr(out, 5353); err != nil || again != out {
			t.Fatalf("%q -> %q -> %q, %v", s, out, again, err)
		}
	})
}
