package resolve

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/nettool/nettool/probe"
)

func TestParseServer(t *testing.T) {
	good := map[string]string{
		"1.2.3.4":                          "1.2.3.4:53",
		"@1.2.3.4:5353":                    "1.2.3.4:5353",
		"[::1]:53":                         "[::1]:53",
		"::1":                              "[::1]:53",
		"fe80::1%eth0":                     "[fe80::1%eth0]:53",
		"localhost":                        "localhost:53",
		"udp://127.0.0.1":                  "127.0.0.1:53",
		"tcp://127.0.0.1:5300":             "tcp://127.0.0.1:5300",
		"tcp://[::1]":                      "tcp://[::1]:53",
		"tls://dns.example":                "tls://dns.example:853",
		"tls://127.0.0.1:8853":             "tls://127.0.0.1:8853",
		"https://dns.example/dns-query":    "https://dns.example/dns-query",
		"https://dns.example":              "https://dns.example/dns-query",
		"https://127.0.0.1:8443/q?x=1":     "https://127.0.0.1:8443/q?x=1",
		"HTTPS://[::1]:443/dns-query":      "https://[::1]:443/dns-query",
		"ns_1.example":                     "ns_1.example:53",
		"udp://127.0.0.1:53/":              "127.0.0.1:53",
		"tls://[2001:db8::1]:853":          "tls://[2001:db8::1]:853",
		"https://dns.example:8443/a/b/c/d": "https://dns.example:8443/a/b/c/d",
	}
	for in, want := range good {
		s, err := ParseServer(in)
		if err != nil {
			t.Errorf("ParseServer(%q): %v", in, err)
			continue
		}
		if s.String() != want {
			t.Errorf("ParseServer(%q) = %q, want %q", in, s.String(), want)
		}
	}
	bad := []string{"", "@", "1.2.3.4:0", "1.2.3.4:99999", "[::1", "quic://1.2.3.4", "http://x/dns-query", "https://", "https://:443/x",
		"tcp://", "1.2.3.4:", "a b", "bad host!", "[nothost]:53", "tls://[::1", "https://u:p@host/x", "https://host:abc/x", "ex..ample", "1:2:3",
		"tcp://host/path"}
	for _, in := range bad {
		_, err := ParseServer(in)
		if err == nil || !probe.IsUsage(err) {
			t.Errorf("ParseServer(%q) err = %v, want a usage error", in, err)
		}
	}
}

func TestCheckName(t *testing.T) {
	for _, n := range []string{"example.com", "example.com.", ".", "a", "_sip._udp.example", `a\.b.example`, `\000.example`, strings.Repeat("a", 63) + ".x",
		strings.Repeat(strings.Repeat("a", 62)+".", 4) + "x"} {
		if err := CheckName(n); err != nil {
			t.Errorf("CheckName(%q): %v", n, err)
		}
	}
	bad := map[string]string{
		"":                             "empty name",
		"a..b":                         "empty label",
		".a":                           "empty label",
		"a.b..":                        "empty label",
		strings.Repeat("a", 64) + ".x": "label longer than 63",
		strings.Repeat(strings.Repeat("a", 62)+".", 4) + "xy": "longer than 253",
		"a b":   "white space",
		`a\`:    "backslash",
		`\999a`: "bad escape",
	}
	for n, want := range bad {
		err := CheckName(n)
		if err == nil || !probe.IsUsage(err) || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckName(%q) = %v, want %q", n, err, want)
		}
	}
}

func TestParseTypeAndClass(t *testing.T) {
	for s, want := range map[string]uint16{"A": dns.TypeA, "mx": dns.TypeMX, "AAAA": dns.TypeAAAA, "TYPE65": 65, "type65535": 65535, "https": dns.TypeHTTPS, "ANY": dns.TypeANY, "caa": dns.TypeCAA} {
		got, ok := ParseType(s)
		if !ok || got != want {
			t.Errorf("ParseType(%q) = %d %v, want %d", s, got, ok, want)
		}
	}
	for _, s := range []string{"ns1", "mx2", "www", "TYPE", "TYPE0", "TYPE65536", "TYPE-1", "example.com", "NONE", "a.", ""} {
		if _, ok := ParseType(s); ok {
			t.Errorf("ParseType(%q) accepted", s)
		}
	}
	for s, want := range map[string]uint16{"IN": 1, "ch": 3, "CHAOS": 3, "HS": 4, "CLASS255": 255} {
		got, ok := ParseClass(s)
		if !ok || got != want {
			t.Errorf("ParseClass(%q) = %d %v", s, got, ok)
		}
	}
	if _, ok := ParseClass("ANY"); ok {
		t.Error("ANY must be a type, not a class")
	}
}

func TestParseArgsAnyOrder(t *testing.T) {
	a, err := ParseArgs([]string{"MX", "@127.0.0.1:5353", "ns1.example.com", "+short", "txt", "CH", "@tls://127.0.0.1", "+tries=2", "+norec", "+subnet=192.0.2.0/24", "a."})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(a.Names) != "[ns1.example.com a.]" || len(a.Types) != 2 || a.Types[0] != dns.TypeMX || a.Types[1] != dns.TypeTXT {
		t.Fatalf("names %v types %v", a.Names, a.Types)
	}
	if a.Class != dns.ClassCHAOS || len(a.Servers) != 2 || a.Servers[1].Transport != TLS {
		t.Fatalf("class %d servers %v", a.Class, a.Servers)
	}
	if a.Plus.Short == nil || !*a.Plus.Short || a.Plus.Tries != 2 || a.Plus.NoRD == nil || !*a.Plus.NoRD || a.Plus.Subnet != "192.0.2.0/24" {
		t.Fatalf("plus %+v", a.Plus)
	}
	for _, bad := range [][]string{{"+bogus"}, {"+tries"}, {"+short=1"}, {"@"}, {"a..b"}, {"IN", "CH"}, {"+subnet=nope"}, {"+bufsize=100"}, {"+timeout=0"}} {
		if _, err := ParseArgs(bad); err == nil || !probe.IsUsage(err) {
			t.Errorf("ParseArgs(%q) err = %v, want usage error", bad, err)
		}
	}
}

func TestReverseName(t *testing.T) {
	for in, want := range map[string]string{"192.0.2.4": "4.2.0.192.in-addr.arpa.", "2001:db8::1": "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.", "::ffff:192.0.2.4": "4.2.0.192.in-addr.arpa."} {
		got, err := ReverseName(in)
		if err != nil || got != want {
			t.Errorf("ReverseName(%q) = %q %v, want %q", in, got, err, want)
		}
	}
	if _, err := ReverseName("example.com"); err == nil || !probe.IsUsage(err) {
		t.Errorf("ReverseName(name) err = %v", err)
	}
}

func TestResolvConf(t *testing.T) {
	c := ParseResolvConf(strings.NewReader("# comment\nnameserver 127.0.0.53\nnameserver ::1\nnameserver bogus\nnameserver [127.0.0.1]:5353\nnameserver [nope]:1\ndomain ignored.example\nsearch corp.example. lab.example . \noptions ndots:2 timeout:1\n"))
	if len(c.Servers) != 3 || c.Servers[0].String() != "127.0.0.53:53" || c.Servers[1].String() != "[::1]:53" || c.Servers[2].String() != "127.0.0.1:5353" || len(c.Skipped) != 2 {
		t.Fatalf("servers %v skipped %v", c.Servers, c.Skipped)
	}
	if fmt.Sprint(c.Search) != "[corp.example. lab.example.]" || c.Ndots != 2 {
		t.Fatalf("search %v ndots %d", c.Search, c.Ndots)
	}
	cases := map[string]string{
		"www":              "[www.corp.example. www.lab.example. www.]",
		"www.sub":          "[www.sub.corp.example. www.sub.lab.example. www.sub.]",
		"a.b.c":            "[a.b.c. a.b.c.corp.example. a.b.c.lab.example.]",
		"fully.qualified.": "[fully.qualified.]",
	}
	for in, want := range cases {
		if got := fmt.Sprint(c.Candidates(in)); got != want {
			t.Errorf("Candidates(%q) = %s, want %s", in, got, want)
		}
	}
	if got := ParseResolvConf(strings.NewReader("options ndots:99\n")).Ndots; got != 15 {
		t.Errorf("ndots cap: %d", got)
	}
	if got := fmt.Sprint(ParseResolvConf(strings.NewReader("search a.example\ndomain b.example\n")).Search); got != "[b.example.]" {
		t.Errorf("last of search/domain wins: %s", got)
	}
}

func lookup(t *testing.T, o Options, server string, name string, qt uint16) *Result {
	t.Helper()
	c := &Client{Opts: o}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return c.Lookup(ctx, mustServer(t, server), NewQuestion(name, qt, dns.ClassINET))
}

func TestLookupUDPAndTCP(t *testing.T) {
	addr := startServer(t, testZone)
	for _, srv := range []string{addr, "tcp://" + addr} {
		r := lookup(t, Options{Timeout: 5 * time.Second}, srv, "www.example.test", dns.TypeA)
		if !r.OK || r.Rcode != "NOERROR" || len(r.Answer) != 2 || r.Answer[0].Type != "CNAME" || r.Answer[1].Fields["address"] != "192.0.2.10" {
			t.Fatalf("%s: %+v", srv, r)
		}
		if r.EDNS == nil || r.EDNS.UDPSize != DefaultUDPSize || r.TCPFallback || !r.Flags.AA {
			t.Fatalf("%s: edns %+v fallback %v flags %+v", srv, r.EDNS, r.TCPFallback, r.Flags)
		}
	}
	r := lookup(t, Options{Timeout: 5 * time.Second}, addr, "nope.example.test", dns.TypeA)
	if r.OK || r.Failure != probe.FailDNSNXDomain || r.Rcode != "NXDOMAIN" || len(r.Authority) != 1 || r.Authority[0].Fields["serial"] != uint32(1) {
		t.Fatalf("nxdomain: %+v", r)
	}
	r = lookup(t, Options{Timeout: 5 * time.Second}, addr, "v4.example.test", dns.TypeAAAA)
	if r.OK || r.Failure != probe.FailDNSNoData {
		t.Fatalf("nodata: %+v", r)
	}
	r = lookup(t, Options{Timeout: 5 * time.Second}, addr, "servfail.example.test", dns.TypeA)
	if r.OK || r.Failure != probe.FailDNSServFail {
		t.Fatalf("servfail: %+v", r)
	}
	r = lookup(t, Options{Timeout: 5 * time.Second}, addr, "example.test", dns.TypeMX)
	if !r.OK || r.Answer[0].Fields["preference"] != uint16(10) || r.Answer[0].Fields["exchange"] != "mail.example.test." {
		t.Fatalf("mx: %+v", r.Answer)
	}
}

func TestQueryOptionsOnTheWire(t *testing.T) {
	var mu sync.Mutex
	var got *dns.Msg
	addr := startServer(t, func(w dns.ResponseWriter, r *dns.Msg) {
		mu.Lock()
		got = r.Copy()
		mu.Unlock()
		testZone(w, r)
	})
	r := lookup(t, Options{Timeout: 5 * time.Second, DNSSEC: true, NSID: true, NoRD: true, Subnet: "192.0.2.77/24"}, addr, "www.example.test", dns.TypeA)
	if !r.OK || r.EDNS == nil || !r.EDNS.DO || r.EDNS.NSID != "ns1-test" || r.EDNS.NSIDHex != "6e73312d74657374" {
		t.Fatalf("edns: %+v", r.EDNS)
	}
	mu.Lock()
	defer mu.Unlock()
	opt := got.IsEdns0()
	if got.RecursionDesired || opt == nil || !opt.Do() || opt.UDPSize() != 1232 {
		t.Fatalf("query on the wire: rd %v opt %v", got.RecursionDesired, opt)
	}
	var sawNSID, sawSubnet bool
	for _, o := range opt.Option {
		switch v := o.(type) {
		case *dns.EDNS0_NSID:
			sawNSID = true
		case *dns.EDNS0_SUBNET:
			sawSubnet = v.SourceNetmask == 24 && v.Address.String() == "192.0.2.0" && v.Family == 1
		}
	}
	if !sawNSID || !sawSubnet {
		t.Fatalf("options: %v", opt.Option)
	}
}

// A hostile UDP server: before the real reply it sends garbage, a reply
// with the wrong ID and a reply to another question. All are ignored.
func TestHostileRepliesIgnored(t *testing.T) {
	addr, _ := rawUDP(t, func(b []byte) [][]byte {
		q := new(dns.Msg)
		if q.Unpack(b) != nil {
			return nil
		}
		good := new(dns.Msg)
		good.SetReply(q)
		rr, _ := dns.NewRR(q.Question[0].Name + " 60 IN A 192.0.2.99")
		good.Answer = []dns.RR{rr}
		wrongID := good.Copy()
		wrongID.Id = q.Id + 1
		wrongQ := good.Copy()
		wrongQ.Question[0].Name = "other.example."
		notReply := good.Copy()
		notReply.Response = false
		g, _ := good.Pack()
		w1, _ := wrongID.Pack()
		w2, _ := wrongQ.Pack()
		w3, _ := notReply.Pack()
		garbage := append([]byte{b[0], b[1]}, []byte("\x81\x80\x00\x01garbage!")...)
		return [][]byte{garbage, w1, w2, w3, []byte("x"), g}
	})
	r := lookup(t, Options{Timeout: 5 * time.Second}, addr, "host.example", dns.TypeA)
	if !r.OK || len(r.Answer) != 1 || r.Answer[0].Data != "192.0.2.99" {
		t.Fatalf("%+v", r)
	}
}

// Only wrong replies: nettool keeps waiting until the deadline and says why.
func TestOnlyWrongRepliesTimeOut(t *testing.T) {
	addr, seen := rawUDP(t, func(b []byte) [][]byte {
		q := new(dns.Msg)
		if q.Unpack(b) != nil {
			return nil
		}
		bad := new(dns.Msg)
		bad.SetReply(q)
		bad.Id ^= 0xffff
		p, _ := bad.Pack()
		return [][]byte{p}
	})
	r := lookup(t, Options{Timeout: 300 * time.Millisecond, Retries: 1}, addr, "host.example", dns.TypeA)
	if r.OK || r.Failure != probe.FailTimeout || r.Tries != 2 || !strings.Contains(r.Error, "ignored 1 reply: wrong ID or question") {
		t.Fatalf("%+v", r)
	}
	if len(seen) != 2 {
		t.Fatalf("server saw %d queries, want 2 (one retry)", len(seen))
	}
}

func TestSilentServerTimesOut(t *testing.T) {
	addr, seen := rawUDP(t, func([]byte) [][]byte { return nil })
	r := lookup(t, Options{Timeout: 200 * time.Millisecond, Retries: 2}, addr, "host.example", dns.TypeA)
	if r.OK || r.Failure != probe.FailTimeout || r.Tries != 3 || !strings.Contains(r.Error, "no reply from") {
		t.Fatalf("%+v", r)
	}
	if len(seen) != 3 {
		t.Fatalf("server saw %d queries, want 3", len(seen))
	}
}

func TestCanceledLookupEndsAtOnce(t *testing.T) {
	addr, seen := rawUDP(t, func([]byte) [][]byte { return nil })
	c := &Client{Opts: Options{Timeout: time.Hour}}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-seen; cancel() }()
	r := c.Lookup(ctx, mustServer(t, addr), NewQuestion("x.example", dns.TypeA, 1))
	if r.OK || r.Failure != probe.FailCanceled {
		t.Fatalf("%+v", r)
	}
}

// truncating answers TC over UDP and fully over TCP.
func truncating(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	if w.LocalAddr().Network() == "udp" {
		m.Truncated = true
		_ = w.WriteMsg(m)
		return
	}
	for i := 0; i < 100; i++ {
		rr, _ := dns.NewRR(fmt.Sprintf("%s 60 IN TXT \"record number %03d with some padding to make it big\"", r.Question[0].Name, i))
		m.Answer = append(m.Answer, rr)
	}
	_ = w.WriteMsg(m)
}

func TestTruncatedRetriedOverTCP(t *testing.T) {
	addr := startServer(t, truncating)
	// Many lookups at once on one client: the fallback must not touch
	// shared state (doggo's race); -race checks it.
	c := &Client{Opts: Options{Timeout: 10 * time.Second}}
	var wg sync.WaitGroup
	res := make([]*Result, 20)
	for i := range res {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i] = c.Lookup(context.Background(), mustServer(t, addr), NewQuestion(fmt.Sprintf("big%d.example", i), dns.TypeTXT, 1))
		}()
	}
	wg.Wait()
	for _, r := range res {
		if !r.OK || !r.TCPFallback || r.Transport != "tcp" || len(r.Answer) != 100 {
			t.Fatalf("%+v", r)
		}
	}
	// The next plain lookup goes over UDP again.
	other := startServer(t, testZone)
	r := c.Lookup(context.Background(), mustServer(t, other), NewQuestion("www.example.test", dns.TypeA, 1))
	if !r.OK || r.TCPFallback || r.Transport != "udp" {
		t.Fatalf("after fallback: %+v", r)
	}
}

func TestTXTFromTheWireStaysEscaped(t *testing.T) {
	addr := startServer(t, testZone)
	r := lookup(t, Options{Timeout: 5 * time.Second}, addr, "evil.example.test", dns.TypeTXT)
	if !r.OK {
		t.Fatalf("%+v", r)
	}
	d := r.Answer[0].Data
	for _, b := range []byte(d) {
		if b < 0x20 || b >= 0x7f {
			t.Fatalf("raw byte %#x in data %q", b, d)
		}
	}
	if !strings.Contains(d, `\027[31mred`) || !strings.Contains(d, `line1\010line2`) || !strings.Contains(d, `bad\255\254utf8`) {
		t.Fatalf("data %q", d)
	}
	j, _ := json.Marshal(r.Answer[0])
	if bytes.ContainsAny(j, "\x1b\n") {
		t.Fatalf("json %s", j)
	}
}

func TestDoT(t *testing.T) {
	cert, pool := testCert(t)
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	startOn(t, &dns.Server{Listener: l, Net: "tcp-tls", Handler: dns.HandlerFunc(testZone)})
	r := lookup(t, Options{Timeout: 10 * time.Second, TLS: &tls.Config{RootCAs: pool}}, "tls://"+l.Addr().String(), "www.example.test", dns.TypeA)
	if !r.OK || r.Transport != "tls" || len(r.Answer) != 2 {
		t.Fatalf("%+v", r)
	}
	// Without the CA the certificate is refused.
	r = lookup(t, Options{Timeout: 10 * time.Second, TLS: &tls.Config{}}, "tls://"+l.Addr().String(), "www.example.test", dns.TypeA)
	if r.OK || r.Failure != probe.FailCertificate {
		t.Fatalf("unverified: %+v", r)
	}
}

func dohHandler(t *testing.T) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/dns-message" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		body, _ := io.ReadAll(req.Body)
		q := new(dns.Msg)
		if err := q.Unpack(body); err != nil || q.Id != 0 {
			http.Error(w, "bad message", http.StatusBadRequest)
			return
		}
		rec := &recorder{}
		testZone(rec, q)
		out, _ := rec.msg.Pack()
		w.Header().Set("Content-Type", "application/dns-message")
		_, _ = w.Write(out)
	}
}

type recorder struct {
	dns.ResponseWriter
	msg *dns.Msg
}

func (r *recorder) WriteMsg(m *dns.Msg) error { r.msg = m; return nil }

func TestDoH(t *testing.T) {
	srv := httptest.NewTLSServer(dohHandler(t))
	defer srv.Close()
	pool := srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	r := lookup(t, Options{Timeout: 10 * time.Second, TLS: &tls.Config{RootCAs: pool}}, srv.URL+"/dns-query", "www.example.test", dns.TypeAAAA)
	if !r.OK || r.Transport != "https" || len(r.Answer) != 2 || r.Answer[1].Fields["address"] != "2001:db8::10" {
		t.Fatalf("%+v", r)
	}
	// A DoH server that answers HTML is a protocol failure, not a hang.
	html := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, "<html>\x1b[31m</html>")
	}))
	defer html.Close()
	r = lookup(t, Options{Timeout: 10 * time.Second, TLS: &tls.Config{RootCAs: html.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}}, html.URL, "x.example", dns.TypeA)
	if r.OK || r.Failure != probe.FailProtocol || !strings.Contains(r.Error, "content type") {
		t.Fatalf("html: %+v", r)
	}
}

func TestTCPGarbageIsProtocolError(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 512)
		_, _ = c.Read(buf)
		_, _ = c.Write([]byte("\x00\x10this is garbage!"))
	}()
	defer func() { l.Close(); wg.Wait() }()
	r := lookup(t, Options{Timeout: 5 * time.Second}, "tcp://"+l.Addr().String(), "x.example", dns.TypeA)
	if r.OK || r.Failure != probe.FailProtocol {
		t.Fatalf("%+v", r)
	}
}

func TestSearchStopsAtFirstAnswer(t *testing.T) {
	var mu sync.Mutex
	var asked []string
	addr := startServer(t, func(w dns.ResponseWriter, r *dns.Msg) {
		mu.Lock()
		asked = append(asked, r.Question[0].Name)
		mu.Unlock()
		testZone(w, r)
	})
	conf := ParseResolvConf(strings.NewReader("nameserver 127.0.0.1\nsearch nope.test example.test other.test\n"))
	c := &Client{Opts: Options{Timeout: 5 * time.Second}}
	r := c.Search(context.Background(), Job{Input: "www", Candidates: conf.Candidates("www"), Type: dns.TypeA, Class: 1, Server: mustServer(t, addr)})
	if !r.OK || r.Question.Name != "www.example.test." || r.InputName != "www" {
		t.Fatalf("%+v", r)
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(asked) != "[www.nope.test. www.example.test.]" {
		t.Fatalf("asked %v", asked)
	}
}

func TestTypeAndClassStrings(t *testing.T) {
	for ty, name := range dns.TypeToString {
		if got := TypeString(ty); got != name {
			t.Errorf("TypeString(%d) = %q, want %q", ty, got, name)
		}
	}
	if TypeString(65534) != "TYPE65534" || ClassString(dns.ClassINET) != "IN" || ClassString(dns.ClassCHAOS) != "CH" || ClassString(999) != "CLASS999" {
		t.Error("fallbacks")
	}
}

// A long line (a comment) is skipped and the lines after it still count;
// an endless file is read up to the cap only.
func TestResolvConfLongLinesAndCap(t *testing.T) {
	c := ParseResolvConf(strings.NewReader("nameserver 127.0.0.1\n#" + strings.Repeat("x", 20000) + "\nnameserver 127.0.0.2\nsearch a.example"))
	if len(c.Servers) != 2 || c.Servers[1].Host != "127.0.0.2" || len(c.Search) != 1 || c.Truncated {
		t.Fatalf("%+v", c)
	}
	c = ParseResolvConf(strings.NewReader("nameserver 127.0.0.1\n" + strings.Repeat("#\n", maxResolvConf) + "nameserver 127.0.0.2\n"))
	if len(c.Servers) != 1 || !c.Truncated {
		t.Fatalf("over the cap: %+v", c.Servers)
	}
	c = ParseResolvConf(io.LimitReader(zeroReader{}, 1<<30))
	if len(c.Servers) != 0 || !c.Truncated {
		t.Fatalf("endless: %+v", c)
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }
