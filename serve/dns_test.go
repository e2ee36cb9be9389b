package serve

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// dnsTestZones are the example zones plus testdata/dns_special.zone.
func dnsTestZones(t testing.TB) []*DNSZone {
	t.Helper()
	z, err := DNSLoadZoneFile("testdata/dns_special.zone", "")
	if err != nil {
		t.Fatal(err)
	}
	return append(append([]*DNSZone(nil), DNSExampleZones()...), z)
}

// dnsStartTest starts a server on 127.0.0.1:0 that stops when the test ends.
func dnsStartTest(t testing.TB, opts DNSOptions) *DNSServer {
	t.Helper()
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.Zones == nil {
		opts.Zones = dnsTestZones(t)
	}
	s, err := NewDNSServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return s
}

// dnsMsg builds a query; edns 0 means no OPT record.
func dnsMsg(name string, qtype uint16, edns int) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	if edns > 0 {
		m.SetEdns0(uint16(edns), false)
	}
	return m
}

// dnsAsk sends m over net ("udp" or "tcp") and returns the reply.
func dnsAsk(t testing.TB, s *DNSServer, network string, m *dns.Msg) *dns.Msg {
	t.Helper()
	c := &dns.Client{Net: network, Timeout: 10 * time.Second, UDPSize: 65535}
	r, _, err := c.Exchange(m, s.Addr())
	if err != nil {
		t.Fatalf("%s %s over %s: %v", m.Question[0].Name, dns.TypeToString[m.Question[0].Qtype], network, err)
	}
	return r
}

// dnsRawUDP sends raw bytes and returns the raw reply.
func dnsRawUDP(t testing.TB, s *DNSServer, b []byte) []byte {
	t.Helper()
	c, err := net.Dial("udp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 65536)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("no reply: %v", err)
	}
	return buf[:n]
}

func dnsPack(t testing.TB, m *dns.Msg) []byte {
	t.Helper()
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// dnsSection renders records one per line, TTL and all, as dig shows them.
func dnsSection(rrs []dns.RR) string {
	var lines []string
	for _, rr := range rrs {
		if rr.Header().Rrtype == dns.TypeOPT {
			continue
		}
		lines = append(lines, strings.ReplaceAll(rr.String(), "\t", " "))
	}
	return strings.Join(lines, "\n")
}

// TestDNSExampleAnswers checks positive answers as nsd gives them: the
// zone's NS in the authority section (not after NS, DNSKEY, DS and ANY
// questions, nor after a CNAME that leaves the zone), the addresses of the
// names NS, MX and SRV records point to in the additional section.
func TestDNSExampleAnswers(t *testing.T) {
	s := dnsStartTest(t, DNSOptions{})
	ns := "example.test. 300 IN NS ns1.example.test."
	nsA, nsAAAA := "ns1.example.test. 300 IN A 127.0.0.1", "ns1.example.test. 300 IN AAAA ::1"
	cases := []struct {
		name   string
		qtype  uint16
		answer string
		ns     string
		extra  string
	}{
		{"www.example.test.", dns.TypeA, "www.example.test. 300 IN CNAME host.example.test.\nhost.example.test. 300 IN A 127.0.0.1", ns, nsA + "\n" + nsAAAA},
		{"www.example.test.", dns.TypeAAAA, "www.example.test. 300 IN CNAME host.example.test.\nhost.example.test. 300 IN AAAA ::1", ns, nsA + "\n" + nsAAAA},
		{"alias.example.test.", dns.TypeA, "alias.example.test. 300 IN CNAME www.example.test.\nwww.example.test. 300 IN CNAME host.example.test.\nhost.example.test. 300 IN A 127.0.0.1", ns, nsA + "\n" + nsAAAA},
		{"www.example.test.", dns.TypeCNAME, "www.example.test. 300 IN CNAME host.example.test.", ns, nsA + "\n" + nsAAAA},
		{"example.test.", dns.TypeMX, "example.test. 300 IN MX 10 mail.example.test.", ns, "mail.example.test. 300 IN A 127.0.0.2\n" + nsA + "\n" + nsAAAA},
		{"example.test.", dns.TypeNS, ns, "", nsA + "\n" + nsAAAA},
		{"example.test.", dns.TypeTXT, `example.test. 300 IN TXT "v=spf1 -all"`, ns, nsA + "\n" + nsAAAA},
		{"txt.example.test.", dns.TypeTXT, `txt.example.test. 300 IN TXT "hello from nettool" "a second string"`, ns, nsA + "\n" + nsAAAA},
		{"example.test.", dns.TypeSOA, "example.test. 3600 IN SOA ns1.example.test. hostmaster.example.test. 2026112501 3600 600 86400 60", ns, nsA + "\n" + nsAAAA},
		{"_http._tcp.example.test.", dns.TypeSRV, "_http._tcp.example.test. 300 IN SRV 0 0 8000 host.example.test.", ns,
			"host.example.test. 300 IN A 127.0.0.1\n" + nsA + "\nhost.example.test. 300 IN AAAA ::1\n" + nsAAAA},
		{"1.0.0.127.in-addr.arpa.", dns.TypePTR, "1.0.0.127.in-addr.arpa. 300 IN PTR host.example.test.", "127.in-addr.arpa. 300 IN NS ns1.example.test.", ""},
		{"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.", dns.TypePTR, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa. 300 IN PTR host.example.test.",
			"0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa. 300 IN NS ns1.example.test.", ""},
	}
	for _, network := range []string{"udp", "tcp"} {
		for _, c := range cases {
			r := dnsAsk(t, s, network, dnsMsg(c.name, c.qtype, 1232))
			what := fmt.Sprintf("%s %s %s", network, c.name, dns.TypeToString[c.qtype])
			if r.Rcode != dns.RcodeSuccess || !r.Authoritative || r.Truncated || !r.Response {
				t.Errorf("%s: rcode %s aa=%v tc=%v", what, dns.RcodeToString[r.Rcode], r.Authoritative, r.Truncated)
			}
			if got := dnsSection(r.Answer); got != c.answer {
				t.Errorf("%s: answer\n%s\nwant\n%s", what, got, c.answer)
			}
			if got := dnsSection(r.Ns); got != c.ns {
				t.Errorf("%s: authority\n%s\nwant\n%s", what, got, c.ns)
			}
			if got := dnsSection(r.Extra); got != c.extra {
				t.Errorf("%s: additional\n%s\nwant\n%s", what, got, c.extra)
			}
		}
	}
}

func TestDNSNegativeAnswers(t *testing.T) {
	s := dnsStartTest(t, DNSOptions{})
	soa := "example.test. 60 IN SOA ns1.example.test. hostmaster.example.test. 2026112501 3600 600 86400 60"
	cases := []struct {
		name   string
		qtype  uint16
		rcode  int
		answer string
	}{
		{"nope.example.test.", dns.TypeA, dns.RcodeNameError, ""},                                                // NXDOMAIN
		{"a.b.nope.example.test.", dns.TypeAAAA, dns.RcodeNameError, ""},                                         // NXDOMAIN deeper
		{"host.example.test.", dns.TypeMX, dns.RcodeSuccess, ""},                                                 // NODATA
		{"deep.example.test.", dns.TypeA, dns.RcodeSuccess, ""},                                                  // empty non-terminal: NODATA
		{"www.example.test.", dns.TypeMX, dns.RcodeSuccess, "www.example.test. 300 IN CNAME host.example.test."}, // NODATA after a CNAME
		{"dangling.example.test.", dns.TypeA, dns.RcodeNameError, "dangling.example.test. 300 IN CNAME nowhere.example.test."},
	}
	for _, c := range cases {
		r := dnsAsk(t, s, "udp", dnsMsg(c.name, c.qtype, 1232))
		what := c.name + " " + dns.TypeToString[c.qtype]
		if r.Rcode != c.rcode || !r.Authoritative {
			t.Errorf("%s: rcode %s aa=%v, want %s aa", what, dns.RcodeToString[r.Rcode], r.Authoritative, dns.RcodeToString[c.rcode])
		}
		if got := dnsSection(r.Answer); got != c.answer {
			t.Errorf("%s: answer %q, want %q", what, got, c.answer)
		}
		// RFC 2308: the SOA in authority, with TTL min(SOA TTL, MINIMUM).
		if got := dnsSection(r.Ns); got != soa {
			t.Errorf("%s: authority %q, want %q", what, got, soa)
		}
	}
}

func TestDNSRefusedOutsideZones(t *testing.T) {
	s := dnsStartTest(t, DNSOptions{})
	for _, name := range []string{"www.google.com.", "test.", ".", "example.test.com.", "xexample.test."} {
		r := dnsAsk(t, s, "udp", dnsMsg(name, dns.TypeA, 1232))
		if r.Rcode != dns.RcodeRefused || r.Authoritative || len(r.Answer)+len(r.Ns) != 0 {
			t.Errorf("%s: rcode %s aa=%v answer %v ns %v, want REFUSED without data", name, dns.RcodeToString[r.Rcode], r.Authoritative, r.Answer, r.Ns)
		}
	}
	// Other classes and zone transfers are refused too.
	m := dnsMsg("example.test.", dns.TypeTXT, 0)
	m.Question[0].Qclass = dns.ClassCHAOS
	if r := dnsAsk(t, s, "udp", m); r.Rcode != dns.RcodeRefused {
		t.Errorf("CH TXT: %s, want REFUSED", dns.RcodeToString[r.Rcode])
	}
	if r := dnsAsk(t, s, "tcp", dnsMsg("example.test.", dns.TypeAXFR, 0)); r.Rcode != dns.RcodeRefused {
		t.Errorf("AXFR: %s, want REFUSED", dns.RcodeToString[r.Rcode])
	}
}

func TestDNSCaseInsensitiveQuestionKept(t *testing.T) {
	s := dnsStartTest(t, DNSOptions{})
	for _, name := range []string{"WwW.ExAmPlE.TeSt.", "HOST.EXAMPLE.TEST.", "nOpE.eXaMpLe.TeSt."} {
		b := dnsRawUDP(t, s, dnsPack(t, dnsMsg(name, dns.TypeA, 1232)))
		r := new(dns.Msg)
		if err := r.Unpack(b); err != nil {
			t.Fatal(err)
		}
		if len(r.Question) != 1 || r.Question[0].Name != name {
			t.Errorf("question %v, want %q exactly", r.Question, name)
		}
		// The question's bytes are the query's bytes (0x20 bit preserved).
		if !strings.Contains(string(b), string(dnsPack(t, dnsMsg(name, dns.TypeA, 0))[12:12+len(name)])) {
			t.Errorf("%s: the question's case is not kept on the wire", name)
		}
		want := dns.RcodeSuccess
		if strings.HasPrefix(strings.ToLower(name), "nope") {
			want = dns.RcodeNameError
		}
		if r.Rcode != want || (want == dns.RcodeSuccess && len(r.Answer) == 0) {
			t.Errorf("%s: rcode %s answers %d", name, dns.RcodeToString[r.Rcode], len(r.Answer))
		}
	}
}

func TestDNSEDNS(t *testing.T) {
	s := dnsStartTest(t, DNSOptions{})
	m := dnsMsg("host.example.test.", dns.TypeA, 0)
	m.SetEdns0(4096, true)
	r := dnsAsk(t, s, "udp", m)
	opt := r.IsEdns0()
	if opt == nil {
		t.Fatal("no OPT in the reply to an EDNS query")
	}
	if opt.Version() != 0 || opt.UDPSize() != DNSDefaultUDPSize || !opt.Do() {
		t.Errorf("OPT version %d size %d do=%v, want 0 1232 true", opt.Version(), opt.UDPSize(), opt.Do())
	}
	r = dnsAsk(t, s, "udp", dnsMsg("host.example.test.", dns.TypeA, 0))
	if r.IsEdns0() != nil {
		t.Error("OPT in the reply to a query without EDNS")
	}
	// EDNS version 1: BADVERS, with an OPT of version 0.
	m = dnsMsg("host.example.test.", dns.TypeA, 1232)
	m.IsEdns0().SetVersion(1)
	r = dnsAsk(t, s, "udp", m)
	if r.Rcode != dns.RcodeBadVers || r.IsEdns0() == nil || r.IsEdns0().Version() != 0 || len(r.Answer) != 0 {
		t.Errorf("EDNS version 1: rcode %s, opt %v", dns.RcodeToString[r.Rcode], r.IsEdns0())
	}
}

func TestDNSTruncation(t *testing.T) {
	s := dnsStartTest(t, DNSOptions{})
	cases := []struct {
		name  string
		edns  int // 0: none
		limit int
		tc    bool
	}{
		{"big.example.test.", 1232, 1232, true},
		{"big.example.test.", 4096, 1232, true}, // the server's own cap
		{"big.example.test.", 0, 512, true},
		{"medium.special.test.", 4096, 1232, false},
		{"medium.special.test.", 1232, 1232, false},
		{"medium.special.test.", 700, 700, true}, // the client's size is respected
		{"medium.special.test.", 100, 512, true}, // below 512 counts as 512
		{"medium.special.test.", 0, 512, true},
	}
	for _, c := range cases {
		b := dnsRawUDP(t, s, dnsPack(t, dnsMsg(c.name, dns.TypeTXT, c.edns)))
		r := new(dns.Msg)
		if err := r.Unpack(b); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		what := fmt.Sprintf("%s edns=%d", c.name, c.edns)
		if len(b) > c.limit {
			t.Errorf("%s: %d bytes over UDP, limit %d", what, len(b), c.limit)
		}
		if r.Truncated != c.tc {
			t.Errorf("%s: TC=%v, want %v (%d bytes)", what, r.Truncated, c.tc, len(b))
		}
		if c.tc && (len(r.Answer) != 0 || r.Rcode != dns.RcodeSuccess || len(r.Question) != 1) {
			t.Errorf("%s: truncated reply should keep the question and carry no partial answer: %v", what, r)
		}
		if c.tc && c.edns > 0 && r.IsEdns0() == nil {
			t.Errorf("%s: truncated reply lost its OPT", what)
		}
		if !c.tc && len(r.Answer) != 12 {
			t.Errorf("%s: %d answers, want 12", what, len(r.Answer))
		}
	}
	// Over TCP the whole answer arrives, as the zone has it.
	r := dnsAsk(t, s, "tcp", dnsMsg("big.example.test.", dns.TypeTXT, 1232))
	zone := s.zones["example.test."].node("big.example.test.").rrs(dns.TypeTXT)
	if r.Truncated || len(r.Answer) != 40 || dnsSection(r.Answer) != dnsSection(zone) {
		t.Errorf("big over TCP: tc=%v %d answers, want the zone's 40", r.Truncated, len(r.Answer))
	}
	// A server with a larger cap sends it over UDP to a client that can take it.
	s2 := dnsStartTest(t, DNSOptions{MaxUDPSize: 4096})
	b := dnsRawUDP(t, s2, dnsPack(t, dnsMsg("big.example.test.", dns.TypeTXT, 4096)))
	r = new(dns.Msg)
	if err := r.Unpack(b); err != nil || r.Truncated || len(r.Answer) != 40 || len(b) <= 1232 {
		t.Errorf("--udp-size 4096: err %v tc=%v answers %d size %d", err, r.Truncated, len(r.Answer), len(b))
	}
}

func TestDNSAdditionalDroppedBeforeTC(t *testing.T) {
	// NS at the apex with glue fits in 512 bytes; the glue that does not
	// fit is left out, whole RRsets at a time, without TC (as nsd does).
	const zone = `$ORIGIN glue.test.
$TTL 60
@ SOA ns0 h 1 1 1 1 1
@ NS ns-with-a-rather-long-name-number-one
@ NS ns-with-a-rather-long-name-number-two
@ NS ns-with-a-rather-long-name-number-three
`
	var b strings.Builder
	b.WriteString(zone)
	for _, n := range []string{"one", "two", "three"} {
		for i := 1; i <= 8; i++ {
			fmt.Fprintf(&b, "ns-with-a-rather-long-name-number-%s AAAA 2001:db8::%d\n", n, i)
		}
	}
	z, err := DNSParseZone(strings.NewReader(b.String()), "", "glue")
	if err != nil {
		t.Fatal(err)
	}
	s := dnsStartTest(t, DNSOptions{Zones: []*DNSZone{z}})
	raw := dnsRawUDP(t, s, dnsPack(t, dnsMsg("glue.test.", dns.TypeNS, 0)))
	r := new(dns.Msg)
	if err := r.Unpack(raw); err != nil {
		t.Fatal(err)
	}
	if r.Truncated || len(r.Answer) != 3 || len(r.Extra) >= 24 || len(r.Extra)%8 != 0 || len(raw) > 512 {
		t.Errorf("tc=%v answers %d extra %d size %d, want 3 answers, whole glue RRsets that fit, no TC", r.Truncated, len(r.Answer), len(r.Extra), len(raw))
	}
	r = dnsAsk(t, s, "tcp", dnsMsg("glue.test.", dns.TypeNS, 0))
	if len(r.Extra) != 24 {
		t.Errorf("over TCP: %d glue records, want 24", len(r.Extra))
	}
}

func TestDNSNSID(t *testing.T) {
	ask := func(s *DNSServer, withOption bool) *dns.OPT {
		m := dnsMsg("host.example.test.", dns.TypeA, 1232)
		if withOption {
			m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID})
		}
		return dnsAsk(t, s, "udp", m).IsEdns0()
	}
	nsidOf := func(o *dns.OPT) (string, bool) {
		for _, e := range o.Option {
			if n, ok := e.(*dns.EDNS0_NSID); ok {
				return n.Nsid, true
			}
		}
		return "", false
	}
	s := dnsStartTest(t, DNSOptions{NSID: "ns-test-1"})
	if got, ok := nsidOf(ask(s, true)); !ok || got != fmt.Sprintf("%x", "ns-test-1") {
		t.Errorf("NSID %q (present %v), want hex of ns-test-1", got, ok)
	}
	if _, ok := nsidOf(ask(s, false)); ok {
		t.Error("NSID sent to a client that did not ask")
	}
	plain := dnsStartTest(t, DNSOptions{})
	if _, ok := nsidOf(ask(plain, true)); ok {
		t.Error("NSID sent by a server without one")
	}
}

func TestDNSANYIsMinimal(t *testing.T) {
	s := dnsStartTest(t, DNSOptions{})
	cases := map[string]string{
		// The apex has SOA, NS, MX and TXT: ANY gets one RRset, the first
		// A, AAAA, SOA, MX or PTR in the zone file, as nsd picks.
		"example.test.":      "example.test. 3600 IN SOA ns1.example.test. hostmaster.example.test. 2026112501 3600 600 86400 60",
		"host.example.test.": "host.example.test. 300 IN A 127.0.0.1",
		// A CNAME is the answer to ANY: not followed.
		"www.example.test.": "www.example.test. 300 IN CNAME host.example.test.",
	}
	for name, want := range cases {
		r := dnsAsk(t, s, "udp", dnsMsg(name, dns.TypeANY, 1232))
		if r.Rcode != dns.RcodeSuccess || dnsSection(r.Answer) != want {
			t.Errorf("%s ANY: %s\n%s\nwant\n%s", name, dns.RcodeToString[r.Rcode], dnsSection(r.Answer), want)
		}
	}
	if r := dnsAsk(t, s, "udp", dnsMsg("deep.example.test.", dns.TypeANY, 1232)); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 0 || len(r.Ns) != 1 {
		t.Errorf("ANY at an empty non-terminal: %v", r)
	}
}

func TestDNSSpecialZone(t *testing.T) {
	s := dnsStartTest(t, DNSOptions{})
	ns := "special.test. 120 IN NS ns.special.test."
	cases := []struct {
		name   string
		qtype  uint16
		rcode  int
		aa     bool
		answer string
		ns     string
	}{
		{"x.wild.special.test.", dns.TypeA, dns.RcodeSuccess, true, "x.wild.special.test. 120 IN A 127.0.0.9", ns},
		{"a.b.wild.special.test.", dns.TypeTXT, dns.RcodeSuccess, true, `a.b.wild.special.test. 120 IN TXT "synthesised"`, ns},
		{"exists.wild.special.test.", dns.TypeA, dns.RcodeSuccess, true, "exists.wild.special.test. 120 IN A 127.0.0.10", ns},
		// The wildcard does not reach below a name that exists.
		{"x.exists.wild.special.test.", dns.TypeA, dns.RcodeNameError, true, "", "special.test. 30 IN SOA ns.special.test. hostmaster.special.test. 1 3600 600 86400 30"},
		{"x.wild.special.test.", dns.TypeMX, dns.RcodeSuccess, true, "", "special.test. 30 IN SOA ns.special.test. hostmaster.special.test. 1 3600 600 86400 30"},
		// A CNAME loop ends: each CNAME once.
		{"loop-a.special.test.", dns.TypeA, dns.RcodeSuccess, true, "loop-a.special.test. 120 IN CNAME loop-b.special.test.\nloop-b.special.test. 120 IN CNAME loop-a.special.test.", ""},
		// Into another zone served here: followed, as nsd does.
		{"outside.special.test.", dns.TypeA, dns.RcodeSuccess, true, "outside.special.test. 120 IN CNAME www.example.test.\nwww.example.test. 300 IN CNAME host.example.test.\nhost.example.test. 300 IN A 127.0.0.1",
			"example.test. 300 IN NS ns1.example.test."},
		// A delegation: a referral, not authoritative.
		{"www.child.special.test.", dns.TypeA, dns.RcodeSuccess, false, "", "child.special.test. 120 IN NS ns.child.special.test."},
		{"child.special.test.", dns.TypeNS, dns.RcodeSuccess, false, "", "child.special.test. 120 IN NS ns.child.special.test."},
	}
	for _, c := range cases {
		r := dnsAsk(t, s, "udp", dnsMsg(c.name, c.qtype, 1232))
		what := c.name + " " + dns.TypeToString[c.qtype]
		if r.Rcode != c.rcode || r.Authoritative != c.aa {
			t.Errorf("%s: rcode %s aa=%v, want %s aa=%v", what, dns.RcodeToString[r.Rcode], r.Authoritative, dns.RcodeToString[c.rcode], c.aa)
		}
		if got := dnsSection(r.Answer); got != c.answer {
			t.Errorf("%s: answer\n%s\nwant\n%s", what, got, c.answer)
		}
		if got := dnsSection(r.Ns); got != c.ns {
			t.Errorf("%s: authority\n%s\nwant\n%s", what, got, c.ns)
		}
	}
	r := dnsAsk(t, s, "udp", dnsMsg("www.child.special.test.", dns.TypeA, 1232))
	if got := dnsSection(r.Extra); got != "ns.child.special.test. 120 IN A 127.0.0.11" {
		t.Errorf("referral glue %q", got)
	}
}

// dnsReadUntilID reads UDP replies until one with id arrives; any other
// reply first is an error. It shows that a message got no reply without
// waiting for a timeout: the next query's reply comes first.
func dnsReadUntilID(t *testing.T, c net.Conn, id uint16) *dns.Msg {
	r, _ := dnsReadUntilIDSize(t, c, id)
	return r
}

// dnsReadUntilIDSize is dnsReadUntilID that also returns the reply's size.
func dnsReadUntilIDSize(t *testing.T, c net.Conn, id uint16) (*dns.Msg, int) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 65536)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	r := new(dns.Msg)
	if err := r.Unpack(buf[:n]); err != nil {
		t.Fatal(err)
	}
	if r.Id != id {
		t.Fatalf("reply with id %d came first, want %d (a message that deserves no reply got one)", r.Id, id)
	}
	return r, n
}

func TestDNSMalformed(t *testing.T) {
	s := dnsStartTest(t, DNSOptions{})
	hdr := func(id uint16, flags uint16, qd, an, ns, ar uint16) []byte {
		b := make([]byte, 12)
		binary.BigEndian.PutUint16(b[0:], id)
		binary.BigEndian.PutUint16(b[2:], flags)
		binary.BigEndian.PutUint16(b[4:], qd)
		binary.BigEndian.PutUint16(b[6:], an)
		binary.BigEndian.PutUint16(b[8:], ns)
		binary.BigEndian.PutUint16(b[10:], ar)
		return b
	}
	twoQ := dnsMsg("host.example.test.", dns.TypeA, 0)
	twoQ.Question = append(twoQ.Question, twoQ.Question[0])
	twoOPT := dnsMsg("host.example.test.", dns.TypeA, 1232)
	twoOPT.Extra = append(twoOPT.Extra, twoOPT.Extra[0])
	update := dnsMsg("example.test.", dns.TypeSOA, 0)
	update.Opcode = dns.OpcodeUpdate
	cases := []struct {
		what  string
		msg   []byte
		rcode int
	}{
		{"question count 1, no question", hdr(0x1234, 0x0100, 1, 0, 0, 0), dns.RcodeFormatError},
		{"garbage after header", append(hdr(0x1235, 0, 1, 0, 0, 0), 0xff, 0xff, 0xff), dns.RcodeFormatError},
		{"no question", hdr(0x1236, 0, 0, 0, 0, 0), dns.RcodeFormatError},
		{"two questions", dnsPack(t, twoQ), dns.RcodeFormatError},
		{"two OPT records", dnsPack(t, twoOPT), dns.RcodeFormatError},
		{"UPDATE", dnsPack(t, update), dns.RcodeNotImplemented},
	}
	for _, c := range cases {
		b := dnsRawUDP(t, s, c.msg)
		r := new(dns.Msg)
		if err := r.Unpack(b); err != nil {
			t.Errorf("%s: reply does not parse: %v", c.what, err)
			continue
		}
		if r.Rcode != c.rcode || !r.Response || r.Id != binary.BigEndian.Uint16(c.msg) {
			t.Errorf("%s: rcode %s qr=%v id %d, want %s to id %d", c.what, dns.RcodeToString[r.Rcode], r.Response, r.Id, dns.RcodeToString[c.rcode], binary.BigEndian.Uint16(c.msg))
		}
	}

	// Too short for a header, and responses: no reply at all. The next
	// query's reply arrives first.
	c, err := net.Dial("udp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	resp := dnsMsg("host.example.test.", dns.TypeA, 0)
	resp.Id, resp.Response = 7, true
	for i, junk := range [][]byte{{}, {1, 2, 3}, hdr(5, 0, 1, 0, 0, 0)[:11], dnsPack(t, resp)} {
		if _, err := c.Write(junk); err != nil {
			t.Fatal(err)
		}
		q := dnsMsg("host.example.test.", dns.TypeA, 0)
		q.Id = uint16(100 + i)
		if _, err := c.Write(dnsPack(t, q)); err != nil {
			t.Fatal(err)
		}
		if r := dnsReadUntilID(t, c, q.Id); r.Rcode != dns.RcodeSuccess {
			t.Errorf("after junk %d: %s", i, dns.RcodeToString[r.Rcode])
		}
	}
	// The counters of a batch are updated after its replies are sent: stop
	// the server so that every message is counted.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Dropped != 4 {
		t.Errorf("dropped %d, want 4", st.Dropped)
	}
}

func TestDNSTCP(t *testing.T) {
	s := dnsStartTest(t, DNSOptions{})
	if s.UDPAddr().Port() != s.TCPAddr().Port() || s.UDPAddr().Port() == 0 {
		t.Fatalf("udp %v tcp %v: want one port", s.UDPAddr(), s.TCPAddr())
	}
	// Several queries on one connection, answered in order.
	conn, err := dns.DialTimeout("tcp", s.Addr(), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	for i, name := range []string{"host.example.test.", "nope.example.test.", "big.example.test."} {
		m := dnsMsg(name, dns.TypeTXT, 0)
		m.Id = uint16(i + 1)
		if err := conn.WriteMsg(m); err != nil {
			t.Fatal(err)
		}
		r, err := conn.ReadMsg()
		if err != nil || r.Id != m.Id || r.Truncated {
			t.Fatalf("query %d on one connection: %v %v", i, r, err)
		}
	}
	// Garbage over TCP gets FORMERR too, and a zero length closes.
	raw, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	_ = raw.SetDeadline(time.Now().Add(10 * time.Second))
	junk := []byte{0, 13, 0xab, 0xcd, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xff}
	if _, err := raw.Write(junk); err != nil {
		t.Fatal(err)
	}
	var l [2]byte
	if _, err := raw.Read(l[:1]); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Read(l[1:]); err != nil {
		t.Fatal(err)
	}
	body := make([]byte, binary.BigEndian.Uint16(l[:]))
	if _, err := fullRead(raw, body); err != nil {
		t.Fatal(err)
	}
	r := new(dns.Msg)
	if err := r.Unpack(body); err != nil || r.Rcode != dns.RcodeFormatError || r.Id != 0xabcd {
		t.Fatalf("TCP garbage: %v %v", r, err)
	}
	if _, err := raw.Write([]byte{0, 0}); err != nil {
		t.Fatal(err)
	}
	if n, err := raw.Read(l[:]); err == nil {
		t.Fatalf("connection still open after a zero length: read %d", n)
	}
}

func fullRead(c net.Conn, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		k, err := c.Read(b[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func TestDNSQueryLog(t *testing.T) {
	var mu sync.Mutex
	var log []DNSQuery
	s := dnsStartTest(t, DNSOptions{OnQuery: func(q DNSQuery) {
		mu.Lock()
		log = append(log, q)
		mu.Unlock()
	}})
	c, err := net.Dial("udp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	m := dnsMsg("WWW.example.test.", dns.TypeAAAA, 0)
	m.SetEdns0(1232, true)
	if _, err := c.Write(dnsPack(t, m)); err != nil {
		t.Fatal(err)
	}
	_, size := dnsReadUntilIDSize(t, c, m.Id)
	r2 := dnsAsk(t, s, "tcp", dnsMsg("big.example.test.", dns.TypeTXT, 0))
	// The callback runs after the reply is written: shut down to be sure
	// both have run.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(log) != 2 {
		t.Fatalf("%d log entries, want 2: %+v", len(log), log)
	}
	// The UDP entry is logged after its reply is sent, so the TCP query
	// that follows may be logged first: take each by its transport.
	byTransport := map[string]DNSQuery{}
	for _, e := range log {
		byTransport[e.Transport] = e
	}
	q := byTransport["udp"]
	if q.Transport != "udp" || q.Client.String() != c.LocalAddr().String() || q.Name != "WWW.example.test." || q.Type != "AAAA" ||
		q.Class != "IN" || q.Rcode != "NOERROR" || q.Answers != 2 || q.Size != size || !q.EDNS || q.UDPSize != 1232 || !q.DO || q.Truncated || q.ID != m.Id {
		t.Errorf("udp log entry %+v (client want %s, size %d)", q, c.LocalAddr(), size)
	}
	q = byTransport["tcp"]
	if q.Transport != "tcp" || q.Answers != 40 || q.EDNS || q.Rcode != "NOERROR" || q.Truncated || q.ID != r2.Id {
		t.Errorf("tcp log entry %+v", q)
	}
	st := s.Stats()
	if st.Queries != 2 || st.UDP != 1 || st.TCP != 1 || st.Rcodes["NOERROR"] != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestDNSStartAndShutdown(t *testing.T) {
	s := dnsStartTest(t, DNSOptions{})
	if err := s.Start(context.Background()); err == nil {
		t.Error("second Start succeeded")
	}
	// The bound port is taken for both transports.
	other, err := NewDNSServer(DNSOptions{Addr: s.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Start(context.Background()); err == nil {
		t.Error("a second server bound the same address")
		_ = other.Shutdown(context.Background())
	}

	// A cancelled context stops the server: Shutdown then has nothing left
	// to wait for, and the port is free again.
	ctx, cancel := context.WithCancel(context.Background())
	s2, err := NewDNSServer(DNSOptions{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.Start(ctx); err != nil {
		t.Fatal(err)
	}
	addr := s2.Addr()
	r := dnsAsk(t, s2, "tcp", dnsMsg("host.example.test.", dns.TypeA, 0))
	if r.Rcode != dns.RcodeSuccess {
		t.Fatal(dns.RcodeToString[r.Rcode])
	}
	// An idle TCP connection must not hold the shutdown up.
	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	cancel()
	sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer scancel()
	if err := s2.Shutdown(sctx); err != nil {
		t.Fatalf("shutdown after cancel: %v", err)
	}
	s3, err := NewDNSServer(DNSOptions{Addr: addr})
	if err != nil {
		t.Fatal(err)
	}
	if err := s3.Start(context.Background()); err != nil {
		t.Fatalf("port not released after shutdown: %v", err)
	}
	if err := s3.Shutdown(sctx); err != nil {
		t.Fatal(err)
	}
	// Shutdown of a server never started is fine.
	s4, _ := NewDNSServer(DNSOptions{})
	if err := s4.Shutdown(sctx); err != nil {
		t.Fatal(err)
	}
}

func TestDNSListenAndServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := NewDNSServer(DNSOptions{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.ListenAndServe(ctx) }()
	// Wait for the bound address (Start binds before ListenAndServe blocks).
	deadline := time.Now().Add(30 * time.Second)
	for !s.UDPAddr().IsValid() {
		select {
		case err := <-done:
			t.Fatalf("ListenAndServe ended: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("server did not bind within 30s")
		}
		runtime.Gosched()
	}
	r := dnsAsk(t, s, "udp", dnsMsg("host.example.test.", dns.TypeAAAA, 0))
	if len(r.Answer) != 1 {
		t.Errorf("answer %v", r.Answer)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestDNSIPv6Loopback(t *testing.T) {
	s, err := NewDNSServer(DNSOptions{Addr: "[::1]:0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Skipf("NOT RUN: no IPv6 loopback here: %v", err)
	}
	defer s.Shutdown(context.Background())
	if !strings.HasPrefix(s.Addr(), "[::1]:") {
		t.Errorf("addr %s", s.Addr())
	}
	for _, network := range []string{"udp", "tcp"} {
		if r := dnsAsk(t, s, network, dnsMsg("host.example.test.", dns.TypeAAAA, 0)); len(r.Answer) != 1 {
			t.Errorf("%s over IPv6: %v", network, r.Answer)
		}
	}
}

func TestDNSNewServerErrors(t *testing.T) {
	z := DNSExampleZones()
	if _, err := NewDNSServer(DNSOptions{Zones: []*DNSZone{z[0], z[0]}}); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("same zone twice: %v", err)
	}
	if _, err := NewDNSServer(DNSOptions{NSID: strings.Repeat("x", 600)}); err == nil {
		t.Error("a 600-byte NSID was accepted")
	}
	s, _ := NewDNSServer(DNSOptions{Addr: "not-an-address"})
	if err := s.Start(context.Background()); err == nil {
		t.Error("bad address accepted")
	}
	got := strings.Join(func() []string { s, _ := NewDNSServer(DNSOptions{}); return s.Zones() }(), " ")
	if got != "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa. 127.in-addr.arpa. example.test." {
		t.Errorf("built-in zones %q", got)
	}
}

func TestDNSTCPIdleAndLimits(t *testing.T) {
	// A silent client is cut off after the idle timeout (short and explicit
	// here); what is asserted is that the server closed it, not when.
	s := dnsStartTest(t, DNSOptions{TCPIdleTimeout: 100 * time.Millisecond, MaxTCPConns: 1})
	silent, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	// A half-sent message: a length of 100, then 10 bytes and silence.
	if _, err := silent.Write(append([]byte{0, 100}, make([]byte, 10)...)); err != nil {
		t.Fatal(err)
	}
	_ = silent.SetReadDeadline(time.Now().Add(30 * time.Second))
	var b [1]byte
	if n, err := silent.Read(b[:]); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("idle connection not closed by the server: read %d, %v", n, err)
	}

	// With MaxTCPConns 1, a second connection while one is open is closed
	// at once, and the first still works.
	first, err := dns.DialTimeout("tcp", s.Addr(), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	_ = first.SetDeadline(time.Now().Add(30 * time.Second))
	if err := first.WriteMsg(dnsMsg("host.example.test.", dns.TypeA, 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := first.ReadMsg(); err != nil { // the server has taken this connection
		t.Fatal(err)
	}
	second, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	_ = second.SetReadDeadline(time.Now().Add(30 * time.Second))
	if n, err := second.Read(b[:]); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("connection over the limit not closed: read %d, %v", n, err)
	}
}

func TestDNSOversizeDatagram(t *testing.T) {
	// A query longer than the read buffer is cut and answered FORMERR, with
	// its ID; the server reads no more than dnsUDPBuf bytes of it.
	s := dnsStartTest(t, DNSOptions{})
	m := dnsMsg("host.example.test.", dns.TypeA, 1232)
	m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_PADDING{Padding: make([]byte, 6000)})
	b := dnsRawUDP(t, s, dnsPack(t, m))
	r := new(dns.Msg)
	if err := r.Unpack(b); err != nil || r.Rcode != dns.RcodeFormatError || r.Id != m.Id {
		t.Fatalf("oversize query: %v %v", r, err)
	}
	// The same query is fine over TCP.
	if r := dnsAsk(t, s, "tcp", m); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
		t.Fatalf("padded query over TCP: %v", r)
	}
}
