package main

import (
	"bytes"
	"context"
	"flag"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

var resolveUpdate = flag.Bool("resolve-update", false, "rewrite the resolve golden files")

// A test that forgets to name a server must not read the machine's
// /etc/resolv.conf (and query its servers): point the default at a file
// that does not exist, so such a test ends with exit 3 instead.
func init() {
	os.Setenv("NETTOOL_RESOLV_CONF", "/nonexistent/nettool-test-resolv.conf")
}

// resolveZone answers like a small authoritative server.
func resolveZone(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	q := r.Question[0]
	add := func(sec *[]dns.RR, s string) {
		rr, err := dns.NewRR(s)
		if err != nil {
			panic(err)
		}
		*sec = append(*sec, rr)
	}
	switch {
	case q.Name == "www.example.test." && (q.Qtype == dns.TypeA || q.Qtype == dns.TypeAAAA):
		add(&m.Answer, "www.example.test. 300 IN CNAME web.example.test.")
		if q.Qtype == dns.TypeA {
			add(&m.Answer, "web.example.test. 300 IN A 192.0.2.10")
		} else {
			add(&m.Answer, "web.example.test. 300 IN AAAA 2001:db8::10")
		}
		add(&m.Ns, "example.test. 300 IN NS ns1.example.test.")
		add(&m.Extra, "ns1.example.test. 300 IN A 127.0.0.1")
	case q.Name == "example.test." && q.Qtype == dns.TypeMX:
		add(&m.Answer, "example.test. 300 IN MX 10 mail.example.test.")
		add(&m.Answer, "example.test. 300 IN MX 20 backup.example.test.")
	case q.Name == "example.test." && q.Qtype == dns.TypeTXT:
		add(&m.Answer, `example.test. 300 IN TXT "v=spf1 -all" "two words"`)
	case q.Name == "v4.example.test." && q.Qtype == dns.TypeA:
		add(&m.Answer, "v4.example.test. 300 IN A 192.0.2.4")
	case q.Name == "v4.example.test.":
		add(&m.Ns, "example.test. 300 IN SOA ns1.example.test. hostmaster.example.test. 1 3600 900 604800 300")
	case q.Name == "evil.example.test." && q.Qtype == dns.TypeTXT:
		m.Answer = append(m.Answer, &dns.TXT{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60},
			Txt: []string{"\x1b[2J\x1b[31mred", "line1\nline2\r", "bad\xff\xfe", "\u202eevil"}})
	case q.Name == "4.2.0.192.in-addr.arpa." && q.Qtype == dns.TypePTR:
		add(&m.Answer, "4.2.0.192.in-addr.arpa. 300 IN PTR v4.example.test.")
	case q.Name == "servfail.example.test.":
		m.Rcode = dns.RcodeServerFailure
	default:
		m.Rcode = dns.RcodeNameError
		add(&m.Ns, "example.test. 300 IN SOA ns1.example.test. hostmaster.example.test. 1 3600 900 604800 300")
	}
	if opt := r.IsEdns0(); opt != nil {
		m.SetEdns0(opt.UDPSize(), opt.Do())
	}
	_ = w.WriteMsg(m)
}

// resolveTruncating answers TC over UDP and in full over TCP.
func resolveTruncating(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	if w.LocalAddr().Network() == "udp" {
		m.Truncated = true
	} else {
		for i := 0; i < 60; i++ {
			rr, _ := dns.NewRR(r.Question[0].Name + " 60 IN TXT \"a long record to need more than the udp size allows, really\"")
			m.Answer = append(m.Answer, rr)
		}
	}
	_ = w.WriteMsg(m)
}

// resolveStartServer runs h on 127.0.0.1 over UDP and TCP on one port.
func resolveStartServer(t *testing.T, h dns.HandlerFunc) string {
	t.Helper()
	var pc net.PacketConn
	var l net.Listener
	for i := 0; ; i++ {
		var err error
		if pc, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		if l, err = net.Listen("tcp", pc.LocalAddr().String()); err == nil {
			break
		}
		pc.Close()
		if i > 20 {
			t.Fatal(err)
		}
	}
	for _, s := range []*dns.Server{{PacketConn: pc, Handler: h}, {Listener: l, Handler: h}} {
		started := make(chan struct{})
		s.NotifyStartedFunc = func() { close(started) }
		errc := make(chan error, 1)
		go func() { errc <- s.ActivateAndServe() }()
		select {
		case <-started:
		case err := <-errc:
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Shutdown(); <-errc })
	}
	return pc.LocalAddr().String()
}

// resolveSilent is a UDP server that never answers; seen is told of each
// query.
func resolveSilent(t *testing.T) (string, chan struct{}) {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	seen := make(chan struct{}, 1<<14)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, 2048)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
			select {
			case seen <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() { pc.Close(); wg.Wait() })
	return pc.LocalAddr().String(), seen
}

// resolveRunIn runs nettool in-process with stdin and a context.
func resolveRunIn(ctx context.Context, stdin string, args ...string) (string, string, int) {
	var out, errb bytes.Buffer
	code := run(ctx, append([]string{"nettool"}, args...), strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), code
}

// resolveConf writes a resolv.conf naming addr (OpenBSD's [addr]:port form).
func resolveConf(t *testing.T, addr string, extra string) string {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	p := filepath.Join(t.TempDir(), "resolv.conf")
	if err := os.WriteFile(p, []byte("nameserver ["+host+"]:"+port+"\n"+extra), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

var (
	resolveMaskRTT     = regexp.MustCompile(`rtt=[0-9.]+ms`)
	resolveMaskJSONNum = regexp.MustCompile(`"(rtt_ms|elapsed_ms)": [0-9.e+-]+`)
	resolveMaskStart   = regexp.MustCompile(`"start": "[^"]+"`)
)

// resolveMask hides what changes from run to run: the port, times.
func resolveMask(s, addr string) string {
	_, port, _ := net.SplitHostPort(addr)
	s = strings.ReplaceAll(s, ":"+port, ":PORT")
	s = resolveMaskRTT.ReplaceAllString(s, "rtt=Xms")
	s = resolveMaskJSONNum.ReplaceAllString(s, `"$1": 0`)
	return resolveMaskStart.ReplaceAllString(s, `"start": "T"`)
}

// resolveGolden compares got with testdata/resolve/name (rewritten with
// -resolve-update).
func resolveGolden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", "resolve", name)
	if *resolveUpdate {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("golden file: %v (run go test -run %s -resolve-update)", err, t.Name())
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file %s:\n--- got\n%s\n--- want\n%s", t.Name(), p, got, want)
	}
}
