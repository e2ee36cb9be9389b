package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// traceEvil is root, TLD and answering server at once on one loopback
// address: it names its name server with control bytes and answers with a
// CNAME whose target has them too.
func traceEvil(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	q := r.Question[0]
	add := func(sec *[]dns.RR, s string) {
		rr, err := dns.NewRR(s)
		if err != nil {
			panic(err)
		}
		*sec = append(*sec, rr)
	}
	switch {
	case q.Name == "." && q.Qtype == dns.TypeNS:
		m.Authoritative = true
		add(&m.Answer, `. 300 IN NS r\027[31m.test.`)
		add(&m.Extra, `r\027[31m.test. 300 IN A 127.0.0.1`)
	case q.Name == "www.test." && q.Qtype == dns.TypeA:
		m.Authoritative = true
		add(&m.Answer, `www.test. 300 IN CNAME x\007y.www.test.`)
		add(&m.Answer, `x\007y.www.test. 300 IN A 192.0.2.7`)
	case q.Qtype == dns.TypeSOA || q.Qtype == dns.TypeNS:
		m.Authoritative = true
	default:
		m.Authoritative = true
		m.Rcode = dns.RcodeNameError
	}
	_ = w.WriteMsg(m)
}

// A trace from @SERVER (as dig +trace does) shows every name from the wire
// escaped: no raw control byte reaches the terminal.
func TestResolveTraceEscapes(t *testing.T) {
	addr := resolveStartServer(t, traceEvil)
	for _, format := range []string{"text", "json"} {
		out, errOut, code := resolveRunIn(context.Background(), "", "resolve", "--trace", "@"+addr, "www.test", "-o", format, "--timeout", "500ms", "--retries", "0")
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s\n%s", format, code, out, errOut)
		}
		for _, c := range out + errOut {
			if c == 0x1b || c == 0x07 {
				t.Fatalf("%s: raw control byte in output:\n%q", format, out)
			}
		}
		want := `r\027[31m.test.`
		if format == "json" {
			want = `r\\027[31m.test.`
		}
		if !strings.Contains(out, want) || !strings.Contains(out, "192.0.2.7") {
			t.Errorf("%s: escaped server name or answer missing:\n%s", format, out)
		}
	}
}

func TestResolveTraceBadInput(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("; nothing\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--qmin", "@127.0.0.1", "x.test"}, "--qmin needs --trace"},
		{[]string{"+qmin", "@127.0.0.1", "x.test"}, "--qmin needs --trace"},
		{[]string{"--trace", "--root-hints", filepath.Join(dir, "missing"), "x.test"}, "cannot read --root-hints"},
		{[]string{"--trace", "--root-hints", empty, "x.test"}, "no NS records"},
		{[]string{"--trace", "--trust-anchor", empty, "x.test", "--validate"}, "no DS or DNSKEY"},
		{[]string{"--trace", "@127.0.0.1", "@127.0.0.2", "x.test"}, "one @SERVER"},
		{[]string{"--trace", "a.test", "b.test"}, "one name"},
		{[]string{"--trace", "x.test", "--max-depth", "0"}, "--max-depth"},
		{[]string{"+trace", "x..test"}, ""},
		{[]string{"--trace", "-4", "-6", "x.test"}, "-4 and -6 cannot be used together"},
		{[]string{"--trace", "--ipv4", "--ipv6", "x.test"}, "-4 and -6 cannot be used together"},
		{[]string{"-6", "@127.0.0.1", "x.test"}, "@127.0.0.1 is not an IPv6 address, and -6 asks over IPv6 only"},
		{[]string{"-6", "--validate", "@127.0.0.1", "x.test"}, "@127.0.0.1 is not an IPv6 address"},
		{[]string{"-4", "@https://[::1]/dns-query", "x.test"}, "@::1 is not an IPv4 address"},
		{[]string{"-4", "-f", "names.txt", "@::1"}, "@::1 is not an IPv4 address"},
		{[]string{"--trace", "-6", "@127.0.0.1", "x.test"}, "@127.0.0.1 is not an IPv6 address, and -6 asks over IPv6 only"},
		{[]string{"--trace", "-4", "@::1", "x.test"}, "@::1 is not an IPv4 address"},
	} {
		out, errOut, code := resolveRunIn(context.Background(), "", append([]string{"resolve"}, c.args...)...)
		if code != 2 || !strings.Contains(errOut, c.want) || !strings.HasPrefix(errOut, "nettool: resolve: ") || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q, stdout %q; want exit 2 and %q", c.args, code, errOut, out, c.want)
		}
	}
}

// The hints and the anchor can come from the environment too.
func TestResolveTraceEnv(t *testing.T) {
	t.Setenv("NETTOOL_RESOLVE_ROOT_HINTS", filepath.Join(t.TempDir(), "missing.hints"))
	_, errOut, code := resolveRunIn(context.Background(), "", "resolve", "--trace", "x.test")
	if code != 2 || !strings.Contains(errOut, "missing.hints") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

// --validate without --trace, with a server that gives no DNSSEC data at
// all: indeterminate or bogus is never "secure", and it exits 1.
func TestResolveValidateUnsigned(t *testing.T) {
	addr := resolveStartServer(t, resolveZone)
	dir := t.TempDir()
	ta := filepath.Join(dir, "root.ds")
	if err := os.WriteFile(ta, []byte(". IN DS 12345 13 2 "+strings.Repeat("AB", 32)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := resolveRunIn(context.Background(), "", "resolve", "@"+addr, "v4.example.test", "A", "--validate", "--trust-anchor", ta, "--timeout", "500ms", "--retries", "0")
	if code != 1 || strings.Contains(out, ";; answer: secure") || !strings.Contains(out, ";; answer: ") {
		t.Errorf("exit %d\n%s\n%s", code, out, errOut)
	}
	jout, _, code := resolveRunIn(context.Background(), "", "resolve", "@"+addr, "v4.example.test", "A", "--validate", "--trust-anchor", ta, "--timeout", "500ms", "--retries", "0", "--json")
	if code != 1 || !strings.Contains(jout, `"validations"`) || !strings.Contains(jout, `"ok": false`) {
		t.Errorf("json: exit %d\n%s", code, jout)
	}
}

// -6 with root hints that have IPv4 addresses only: the trace says that no
// server of "." can be asked over IPv6 and exits 1, without asking any.
func TestResolveTraceFamilyNoAddress(t *testing.T) {
	hints := filepath.Join(t.TempDir(), "hints")
	if err := os.WriteFile(hints, []byte(". NS a.root.test.\na.root.test. A 127.0.0.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"text", "json"} {
		out, errOut, code := resolveRunIn(context.Background(), "", "resolve", "--trace", "-6", "--root-hints", hints, "www.test", "-o", format, "--timeout", "500ms", "--retries", "0")
		if code != 1 || !strings.Contains(out, "no name server of . has an IPv6 address, and only IPv6 is asked (-6); left out: a.root.test. 127.0.0.1") {
			t.Errorf("%s: exit %d\n%s\n%s", format, code, out, errOut)
		}
		if format == "json" && (!strings.Contains(out, `"code": "no_server"`) || !strings.Contains(out, `"queries": 0`)) {
			t.Errorf("json: want a no_server finding and no query:\n%s", out)
		}
	}
}

// -4/-6 on an ordinary query (dig's): resolv.conf's servers of the other IP
// version are left out, and when none is left the run says so.
func TestResolveFamilyOrdinary(t *testing.T) {
	pc, err := net.ListenPacket("udp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	pc.Close()
	answer := func(addr string) dns.HandlerFunc {
		return func(w dns.ResponseWriter, r *dns.Msg) {
			m := new(dns.Msg)
			m.SetReply(r)
			m.Answer = append(m.Answer, &dns.TXT{Hdr: dns.RR_Header{Name: r.Question[0].Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 1}, Txt: []string{addr}})
			_ = w.WriteMsg(m)
		}
	}
	v4 := resolveStartServer(t, answer("from-v4"))
	_, port4, _ := net.SplitHostPort(v4)
	v6c, err := net.ListenPacket("udp", "[::1]:0")
	if err != nil {
		t.Fatal(err)
	}
	v6 := v6c.LocalAddr().String()
	srv := &dns.Server{PacketConn: v6c, Handler: answer("from-v6")}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go func() { _ = srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() { _ = srv.Shutdown() })
	_, port6, _ := net.SplitHostPort(v6)
	dir := t.TempDir()
	both := filepath.Join(dir, "both")
	only4 := filepath.Join(dir, "only4")
	if err := os.WriteFile(both, []byte("nameserver [127.0.0.1]:"+port4+"\nnameserver [::1]:"+port6+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(only4, []byte("nameserver [127.0.0.1]:"+port4+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		flag, want, not string
	}{{"-4", "from-v4", "from-v6"}, {"-6", "from-v6", "from-v4"}} {
		out, errOut, code := resolveRunIn(context.Background(), "", "resolve", "x.test", "TXT", c.flag, "--resolv-conf", both, "--short", "--no-search")
		if code != 0 || !strings.Contains(out, c.want) || strings.Contains(out, c.not) {
			t.Errorf("%s: exit %d, out %q err %q; want the answer %s only", c.flag, code, out, errOut, c.want)
		}
	}
	_, errOut, code := resolveRunIn(context.Background(), "", "resolve", "x.test", "TXT", "-6", "--resolv-conf", only4)
	if code == 0 || !strings.Contains(errOut, "no DNS server to ask") || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Errorf("-6 with IPv4 servers only: exit %d, stderr %q; want one line saying no server is left", code, errOut)
	}
}
