package resolve

import (
	"strings"
	"testing"

	"github.com/nettool/nettool/probe"
)

func FuzzParseServer(f *testing.F) {
	for _, s := range []string{"1.2.3.4", "@1.2.3.4:5353", "[::1]:53", "::1", "fe80::1%eth0", "host", "udp://1.2.3.4", "tcp://[::1]:53",
		"tls://dns.example:853", "https://dns.example/dns-query", "https://[::1]:8443/q?a=b", "quic://x", "https://", "[", "@@", "tls://", "https://a:0/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		srv, err := ParseServer(s)
		if err != nil {
			if !probe.IsUsage(err) {
				t.Fatalf("non-usage error %v", err)
			}
			return
		}
		if srv.Host == "" || srv.Port < 1 || srv.Port > 65535 {
			t.Fatalf("%q accepted as %+v", s, srv)
		}
		again, err := ParseServer(srv.String())
		if err != nil || again.String() != srv.String() {
			t.Fatalf("round trip %q -> %q -> %+v %v", s, srv.String(), again, err)
		}
	})
}

func FuzzParseArgs(f *testing.F) {
	for _, s := range []string{"example.com MX @1.2.3.4 +short", "ns1.example.com", "a. A IN", "+tries=3 +norec x", "@tls://h:853 TYPE65 CH y", "+subnet=::/0", "+bufsize=4096 +ndots=2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		a, err := ParseArgs(strings.Fields(line))
		if err != nil {
			if !probe.IsUsage(err) {
				t.Fatalf("non-usage error %v", err)
			}
			return
		}
		for _, n := range a.Names {
			if CheckName(n) != nil {
				t.Fatalf("accepted bad name %q", n)
			}
			if _, ok := ParseType(n); ok {
				t.Fatalf("type %q taken as a name", n)
			}
		}
	})
}

func FuzzParseBatchLine(f *testing.F) {
	for _, s := range []string{"www.example.com A", "example.com MX IN", "# c", "", "a..b", "x TYPE65", "x \xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		name, _, _, ok, err := ParseBatchLine(line)
		if err != nil && !probe.IsUsage(err) {
			t.Fatalf("non-usage error %v", err)
		}
		if ok && CheckName(name) != nil {
			t.Fatalf("accepted bad name %q", name)
		}
	})
}

func FuzzResolvConf(f *testing.F) {
	for _, s := range []string{"nameserver 127.0.0.1\nsearch a.example b\noptions ndots:3\n", "domain x\n", "nameserver ::1%lo\n", "search . ..\n"} {
		f.Add(s, "www")
	}
	f.Fuzz(func(t *testing.T, conf, name string) {
		c := ParseResolvConf(strings.NewReader(conf))
		if c.Ndots < 0 || c.Ndots > 15 {
			t.Fatalf("ndots %d", c.Ndots)
		}
		if CheckName(name) != nil {
			return
		}
		for _, cand := range c.Candidates(name) {
			if CheckName(cand) != nil || !strings.HasSuffix(cand, ".") {
				t.Fatalf("candidate %q from %q", cand, name)
			}
		}
	})
}
