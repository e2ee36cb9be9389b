package serve

import (
	"context"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/nettool/nettool/probe/probetest"
)

// Interop: the real dig and kdig against the in-process server on
// 127.0.0.1:<random>, answers compared with what the zone says.

// dnsPeer runs a peer client (dig or kdig) against s and returns its stdout.
func dnsPeer(t *testing.T, peer string, s *DNSServer, args ...string) string {
	t.Helper()
	path := probetest.LookPeer(t, peer)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	full := append([]string{"@127.0.0.1", "-p", strconv.Itoa(int(s.UDPAddr().Port())), "+timeout=10", "+retry=1"}, args...)
	cmd := exec.CommandContext(ctx, path, full...)
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("%s %s: %v\n%s%s", peer, strings.Join(full, " "), err, out, stderr)
	}
	return string(out)
}

// dnsZoneShort is what `+short` prints for name/type according to the zone:
// the data of each record, one per line.
func dnsZoneShort(t *testing.T, s *DNSServer, name string, qtype uint16) string {
	t.Helper()
	name = dns.CanonicalName(name)
	z := s.dnsFindZone(dnsKey(name))
	var lines []string
	for i := 0; i < 8; i++ {
		n := z.node(name)
		if c := n.rrs(dns.TypeCNAME); len(c) > 0 && qtype != dns.TypeCNAME {
			target := c[0].(*dns.CNAME).Target
			lines = append(lines, target)
			name = target
			continue
		}
		for _, rr := range n.rrs(qtype) {
			lines = append(lines, strings.TrimPrefix(rr.String(), rr.Header().String()))
		}
		break
	}
	return strings.Join(lines, "\n") + "\n"
}

var dnsDigStatus = regexp.MustCompile(`status: ([A-Z]+)`)
var dnsDigFlags = regexp.MustCompile(`;; (?:flags|Flags): ([a-z ]+);`)

func TestDNSInteropDigShortExact(t *testing.T) {
	s := dnsStartTest(t, DNSOptions{})
	got := dnsPeer(t, "dig", s, "+short", "www.example.test")
	if got != "host.example.test.\n127.0.0.1\n" {
		t.Fatalf("dig +short www.example.test:\n%q", got)
	}
}

func TestDNSInteropShort(t *testing.T) {
	s := dnsStartTest(t, DNSOptions{})
	cases := []struct {
		name  string
		qtype uint16
	}{
		{"www.example.test", dns.TypeA},
		{"www.example.test", dns.TypeAAAA},
		{"host.example.test", dns.TypeAAAA},
		{"alias.example.test", dns.TypeA},
		{"example.test", dns.TypeMX},
		{"example.test", dns.TypeNS},
		{"example.test", dns.TypeSOA},
		{"txt.example.test", dns.TypeTXT},
		{"_http._tcp.example.test", dns.TypeSRV},
		{"big.example.test", dns.TypeTXT}, // TC over UDP, then TCP
		{"medium.special.test", dns.TypeTXT},
		{"x.wild.special.test", dns.TypeA},
	}
	for _, peer := range []string{"dig", "kdig"} {
		for _, c := range cases {
			typ := dns.TypeToString[c.qtype]
			got := dnsPeer(t, peer, s, "+short", c.name, typ)
			if peer == "kdig" {
				// kdig prints an empty line for the truncated UDP reply
				// before the TCP one.
				got = strings.TrimLeft(got, "\n")
			}
			want := "127.0.0.9\n" // the wildcard's address
			if !strings.Contains(c.name, "wild") {
				want = dnsZoneShort(t, s, c.name, c.qtype)
			}
			if got != want {
				t.Errorf("%s +short %s %s:\n%s\nthe zone says:\n%s", peer, c.name, typ, got, want)
			}
		}
		// -x: the reverse zones answer PTR.
		for addr, want := range map[string]string{"127.0.0.1": "host.example.test.\n", "127.0.0.2": "mail.example.test.\n", "::1": "host.example.test.\n"} {
			if got := dnsPeer(t, peer, s, "+short", "-x", addr); got != want {
				t.Errorf("%s -x %s: %q, want %q", peer, addr, got, want)
			}
		}
	}
}

func TestDNSInteropStatus(t *testing.T) {
	s := dnsStartTest(t, DNSOptions{NSID: "nettool-test"})
	for _, peer := range []string{"dig", "kdig"} {
		status := func(out string) string {
			m := dnsDigStatus.FindStringSubmatch(out)
			if m == nil {
				t.Fatalf("%s printed no status:\n%s", peer, out)
			}
			return m[1]
		}
		flags := func(out string) string {
			m := dnsDigFlags.FindStringSubmatch(out)
			if m == nil {
				t.Fatalf("%s printed no flags:\n%s", peer, out)
			}
			return " " + m[1] + " "
		}
		// NXDOMAIN with the SOA in authority.
		out := dnsPeer(t, peer, s, "nope.example.test", "A")
		if status(out) != "NXDOMAIN" || !strings.Contains(flags(out), " aa ") || !regexp.MustCompile(`AUTHORITY: 1\b`).MatchString(out) ||
			!regexp.MustCompile(`example\.test\.\s+60\s+IN\s+SOA`).MatchString(out) {
			t.Errorf("%s NXDOMAIN:\n%s", peer, out)
		}
		// NODATA: NOERROR, no answer, SOA.
		out = dnsPeer(t, peer, s, "host.example.test", "MX")
		if status(out) != "NOERROR" || !regexp.MustCompile(`ANSWER: 0\b`).MatchString(out) || !regexp.MustCompile(`AUTHORITY: 1\b`).MatchString(out) {
			t.Errorf("%s NODATA:\n%s", peer, out)
		}
		// REFUSED outside the zones, without aa.
		out = dnsPeer(t, peer, s, "www.example.com", "A")
		if status(out) != "REFUSED" || strings.Contains(flags(out), " aa ") {
			t.Errorf("%s REFUSED:\n%s", peer, out)
		}
		// +norec: no rd in the reply, still authoritative.
		out = dnsPeer(t, peer, s, "+norec", "host.example.test", "A")
		if f := flags(out); strings.Contains(f, " rd ") || !strings.Contains(f, " aa ") || !strings.Contains(out, "127.0.0.1") {
			t.Errorf("%s +norec:\n%s", peer, out)
		}
		// +nsid: the server's identifier comes back.
		out = dnsPeer(t, peer, s, "+nsid", "host.example.test", "A")
		if !strings.Contains(out, "NSID") || !strings.Contains(out, "nettool-test") {
			t.Errorf("%s +nsid:\n%s", peer, out)
		}
		// +dnssec: the DO bit is echoed and the answer is unchanged.
		out = dnsPeer(t, peer, s, "+dnssec", "www.example.test", "A")
		if status(out) != "NOERROR" || !regexp.MustCompile(`flags: do;|flags:\s*do\b`).MatchString(out) || !strings.Contains(out, "127.0.0.1") {
			t.Errorf("%s +dnssec:\n%s", peer, out)
		}
	}
	// The big name arrives over TCP after TC, complete (kdig says "retrying
	// over TCP" on stderr; its "From ...(TCP)" line shows it on stdout).
	out := dnsPeer(t, "dig", s, "big.example.test", "TXT")
	if !strings.Contains(out, ";; Truncated, retrying in TCP mode.") || !strings.Contains(out, "(TCP)") || !regexp.MustCompile(`ANSWER: 40\b`).MatchString(out) {
		t.Errorf("dig big TXT did not retry over TCP:\n%s", out)
	}
	out = dnsPeer(t, "kdig", s, "big.example.test", "TXT")
	if !strings.Contains(out, "(TCP)") || !regexp.MustCompile(`ANSWER: 40\b`).MatchString(out) {
		t.Errorf("kdig big TXT did not retry over TCP:\n%s", out)
	}
	// +notcp +ignore: dig shows the truncated UDP reply itself.
	out = dnsPeer(t, "dig", s, "+ignore", "big.example.test", "TXT")
	if !strings.Contains(dnsDigFlags.FindString(out), " tc") || !regexp.MustCompile(`ANSWER: 0\b`).MatchString(out) {
		t.Errorf("dig +ignore big TXT: want tc and no answer:\n%s", out)
	}
	// +tcp from the start.
	out = dnsPeer(t, "dig", s, "+tcp", "+short", "www.example.test")
	if out != "host.example.test.\n127.0.0.1\n" {
		t.Errorf("dig +tcp: %q", out)
	}
}
