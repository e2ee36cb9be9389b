package probetest

import (
	"strings"
	"testing"
)

// Two namespaces joined by a veth pair reach each other, in both families,
// and nothing else: each has only its own loopback and the pair.
func TestNetnsVeth(t *testing.T) {
	ping := LookPeer(t, "ping")
	a, b := NewNetns(t, "pta"), NewNetns(t, "ptb")
	Veth(t, a, "va", b, "vb")
	a.IP("addr", "add", "198.51.100.1/24", "dev", "va")
	b.IP("addr", "add", "198.51.100.2/24", "dev", "vb")
	a.IP("addr", "add", "2001:db8::1/64", "dev", "va", "nodad")
	b.IP("addr", "add", "2001:db8::2/64", "dev", "vb", "nodad")
	for _, dst := range []string{"198.51.100.2", "2001:db8::2"} {
		if out := a.Run(ping, "-c", "1", "-W", "10", dst); !strings.Contains(out, "1 received") {
			t.Errorf("ping %s from %s: %s", dst, a.Name, out)
		}
	}
	links := a.IP("-o", "link", "show")
	if n := strings.Count(links, "\n"); n != 2 {
		t.Errorf("namespace %s has %d links, want lo and va:\n%s", a.Name, n, links)
	}
}
