package main

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
)

// FuzzServeListenAddr feeds the listen-address parsers of serve dns, serve
// http and serve echo: each either refuses with a usage error (exit 2) or
// gives an address net.Listen takes (an IP or localhost, a port 0-65535)
// that parses to itself again.
func FuzzServeListenAddr(f *testing.F) {
	for _, s := range []string{"", "5353", ":53", "127.0.0.1:0", "[::1]:8000", "::1", "[::1", "localhost", "localhost:99999",
		"fe80::1%eth0", "[fe80::1%eth0]:80", "1.2.3.4:+80", "1.2.3.4:-0", "example.com:80", "0.0.0.0:", ":", "[]:1", "1.2.3.4:0x50"} {
		f.Add(s)
	}
	parsers := map[string]func(string) (string, error){
		"serve dns": serveDNSParseAddr, "serve http": serveHTTPAddr, "serve echo": echoParseAddr,
	}
	f.Fuzz(func(t *testing.T, s string) {
		for name, parse := range parsers {
			out, err := parse(s)
			if err != nil {
				if code, _ := codeFor(err); code != exitUsage {
					t.Fatalf("%s %q: %v is not a usage error", name, s, err)
				}
				continue
			}
			host, port, err := net.SplitHostPort(out)
			if err != nil {
				t.Fatalf("%s %q -> %q: %v", name, s, out, err)
			}
			if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 || strconv.Itoa(n) != port {
				t.Fatalf("%s %q -> %q: bad port", name, s, out)
			}
			if _, err := netip.ParseAddr(host); err != nil && host != "" && host != "localhost" {
				t.Fatalf("%s %q -> %q: host is not an address", name, s, out)
			}
			if again, err := parse(out); err != nil || again != out {
				t.Fatalf("%s %q -> %q -> %q, %v", name, s, out, again, err)
			}
		}
	})
}

// serve echo takes a bare number as a port, as serve dns does, and refuses
// host names instead of looking them up: `serve echo 5353` used to ask the
// system's resolvers for a host called "5353" and exit 3.
func TestEchoServeAddrNoLookup(t *testing.T) {
	if got, err := echoParseAddr("5353"); err != nil || got != "127.0.0.1:5353" {
		t.Fatalf("5353 -> %q, %v", got, err)
	}
	for _, s := range []string{"localhost:0", "[::1]:7", ":0", "127.0.0.1"} {
		if _, err := echoParseAddr(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	out, errs, code := runCLI(t, "serve", "echo", "nettool-no-such-host.invalid:7")
	if code != exitUsage || out != "" || !strings.Contains(errs, "want an IP address (or localhost) to listen on") {
		t.Fatalf("exit %d out %q err %q", code, out, errs)
	}
}
