package resolve

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// The built-in root hints are IANA's thirteen servers, each with an IPv4
// and an IPv6 address that parse. Data only: nothing is sent to them.
func TestRootHintsData(t *testing.T) {
	h := RootHints()
	if len(h) != 13 {
		t.Fatalf("%d root servers, want 13", len(h))
	}
	for i, ns := range h {
		want := fmt.Sprintf("%c.root-servers.net.", 'a'+i)
		if ns.Name != want {
			t.Errorf("server %d is %s, want %s", i, ns.Name, want)
		}
		var v4, v6 int
		for _, a := range ns.Addrs {
			if !a.IsValid() || !a.IsGlobalUnicast() {
				t.Errorf("%s: bad address %s", ns.Name, a)
			}
			if a.Is4() {
				v4++
			} else {
				v6++
			}
		}
		if v4 != 1 || v6 != 1 {
			t.Errorf("%s: %d IPv4 and %d IPv6 addresses, want 1 and 1", ns.Name, v4, v6)
		}
	}
	if h[0].Addrs[0] != netip.MustParseAddr("198.41.0.4") {
		t.Errorf("a.root-servers.net. is %s", h[0].Addrs[0])
	}
	a := RootAnchors()
	tags := map[uint16]bool{}
	for _, rr := range a {
		ds, ok := rr.(*DS)
		if !ok || ds.Hdr.Name != "." || ds.DigestType != dns.SHA256 || len(ds.Digest) != 64 {
			t.Errorf("anchor %v", rr)
			continue
		}
		tags[ds.KeyTag] = true
	}
	if !tags[20326] || !tags[38696] {
		t.Errorf("anchor key tags %v, want 20326 and 38696", tags)
	}
}

// DS is a local name for the miekg type (keeps the test readable).
type DS = dns.DS

func TestParseRootHintsAndAnchor(t *testing.T) {
	h, err := ParseRootHints(strings.NewReader("; hints\n. 3600 NS a.x.\n. NS b.x.\na.x. A 192.0.2.1\na.x. AAAA 2001:db8::1\nother. NS c.x.\n"), "f")
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 2 || h[0].Name != "a.x." || len(h[0].Addrs) != 2 || h[1].Name != "b.x." || len(h[1].Addrs) != 0 {
		t.Errorf("%v", h)
	}
	for _, bad := range []string{"", "example. NS a.x.\n", ". NS\n", "$INCLUDE /etc/passwd\n"} {
		if _, err := ParseRootHints(strings.NewReader(bad), "f"); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	if _, err := ParseTrustAnchor(strings.NewReader(". DS 1 13 2 AA\nx. DS 2 13 2 BB\n"), "f"); err == nil {
		t.Error("two owners accepted")
	}
	if a, err := ParseTrustAnchor(strings.NewReader(". IN DS 1 13 2 AABB\n"), "f"); err != nil || len(a) != 1 {
		t.Errorf("%v %v", a, err)
	}
}

func TestMinimise(t *testing.T) {
	q := "www.sub.example.test."
	var got []string
	zone, last := ".", 0
	for i := 0; i < 10; i++ {
		n, qt, l := minimise(q, dns.TypeAAAA, zone, last)
		got = append(got, n+"/"+TypeString(qt))
		if n == q {
			break
		}
		last = l
	}
	want := "test./A example.test./A sub.example.test./A www.sub.example.test./AAAA"
	if strings.Join(got, " ") != want {
		t.Errorf("got %v, want %s", got, want)
	}
	// From a zone cut, the next label below it.
	if n, _, _ := minimise(q, dns.TypeA, "example.test.", 2); n != "sub.example.test." {
		t.Errorf("from example.test.: %s", n)
	}
}

func TestCanonicalOrder(t *testing.T) {
	// RFC 4034 section 6.1's example order.
	names := []string{"example.", "a.example.", "yljkjljk.a.example.", "Z.a.example.", "zABC.a.EXAMPLE.", "z.example.", "\\001.z.example.", "*.z.example.", "\\200.z.example."}
	for i := 0; i+1 < len(names); i++ {
		if !canonicalLess(names[i], names[i+1]) || canonicalLess(names[i+1], names[i]) {
			t.Errorf("%s should sort before %s", names[i], names[i+1])
		}
	}
}

// hostile is a set of in-process servers on 127.0.0.x sharing one port, as
// a hierarchy of root, referral and answering servers.
type hostile struct {
	port    int
	servers []*dns.Server
}

func newHostile(t *testing.T, handlers map[string]dns.HandlerFunc) *hostile {
	t.Helper()
	for attempt := 0; attempt < 20; attempt++ {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := pc.LocalAddr().(*net.UDPAddr).Port
		h := &hostile{port: port}
		conns := []net.PacketConn{pc}
		ok := true
		addrs := []string{"127.0.0.1"}
		for a := range handlers {
			if a != "127.0.0.1" {
				addrs = append(addrs, a)
			}
		}
		for _, a := range addrs[1:] {
			c, err := net.ListenPacket("udp", net.JoinHostPort(a, strconv.Itoa(port)))
			if err != nil {
				ok = false
				break
			}
			conns = append(conns, c)
		}
		if !ok {
			for _, c := range conns {
				c.Close()
			}
			continue
		}
		for i, a := range addrs {
			hf := handlers[a]
			if hf == nil {
				hf = func(w dns.ResponseWriter, r *dns.Msg) {}
			}
			started := make(chan struct{})
			s := &dns.Server{PacketConn: conns[i], Handler: hf, NotifyStartedFunc: func() { close(started) }}
			go func() { _ = s.ActivateAndServe() }()
			<-started
			h.servers = append(h.servers, s)
		}
		t.Cleanup(func() {
			for _, s := range h.servers {
				_ = s.Shutdown()
			}
		})
		return h
	}
	t.Fatal("no free port on 127.0.0.x")
	return nil
}

func mustRR(s string) dns.RR {
	rr, err := dns.NewRR(s)
	if err != nil {
		panic(err)
	}
	return rr
}

func (h *hostile) opts() TraceOptions {
	return TraceOptions{
		Hints: []NameServer{{Name: "root.test.", Addrs: []netip.Addr{netip.MustParseAddr("127.0.0.1")}, Source: "hint"}},
		Port:  h.port,
		Query: Options{Timeout: 200 * time.Millisecond, Retries: 0},
	}
}

// root refers test. to 127.0.0.2 unless told otherwise.
func rootReferral(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	m.Ns = []dns.RR{mustRR("test. 300 IN NS ns.test.")}
	m.Extra = []dns.RR{mustRR("ns.test. 300 IN A 127.0.0.2")}
	_ = w.WriteMsg(m)
}

func answerA(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	if r.Question[0].Qtype == dns.TypeA {
		m.Answer = []dns.RR{mustRR(r.Question[0].Name + " 300 IN A 192.0.2.80")}
	}
	_ = w.WriteMsg(m)
}

func TestTraceHostile(t *testing.T) {
	t.Run("oversized referral", func(t *testing.T) {
		h := newHostile(t, map[string]dns.HandlerFunc{
			"127.0.0.1": func(w dns.ResponseWriter, r *dns.Msg) {
				m := new(dns.Msg)
				m.SetReply(r)
				for i := 0; i < 400; i++ {
					m.Ns = append(m.Ns, mustRR(fmt.Sprintf("test. 300 IN NS ns%d.test.", i)))
					m.Extra = append(m.Extra, mustRR(fmt.Sprintf("ns%d.test. 300 IN A 127.0.0.2", i)))
				}
				m.Compress = true
				_ = w.WriteMsg(m) // over 1232 bytes: miekg truncates, the client retries on TCP (refused: UDP only)
			},
			"127.0.0.2": answerA,
		})
		res, err := Trace(context.Background(), "www.test", dns.TypeA, dns.ClassINET, h.opts())
		if err != nil {
			t.Fatal(err)
		}
		for _, lv := range res.Levels {
			if len(lv.Servers) > 16 {
				t.Errorf("level %s asked %d servers, more than the bound", lv.Zone, len(lv.Servers))
			}
			for _, s := range lv.Servers {
				if len(s.Answer) > 32 || len(s.NS) > 400 {
					t.Errorf("unbounded server summary: %d answers %d NS", len(s.Answer), len(s.NS))
				}
			}
		}
		if res.Status == "" {
			t.Errorf("no status: %+v", res)
		}
	})
	t.Run("garbage and wrong IDs", func(t *testing.T) {
		h := newHostile(t, map[string]dns.HandlerFunc{
			"127.0.0.1": rootReferral,
			"127.0.0.2": func(w dns.ResponseWriter, r *dns.Msg) {
				m := new(dns.Msg)
				m.SetReply(r)
				m.Id++
				_ = w.WriteMsg(m)
				_, _ = w.Write([]byte("\x00\x01garbage that is no DNS message"))
			},
		})
		start := time.Now()
		res, _ := Trace(context.Background(), "www.test", dns.TypeA, dns.ClassINET, h.opts())
		if res.OK || res.Status != "failed" {
			t.Fatalf("%+v", res)
		}
		var f *Finding
		for i := range res.Findings {
			if res.Findings[i].Code == FindTimeout {
				f = &res.Findings[i]
			}
		}
		if f == nil || !strings.Contains(f.Message, "ignored") {
			t.Errorf("findings %+v", res.Findings)
		}
		if time.Since(start) > 10*time.Second {
			t.Errorf("took %s", time.Since(start))
		}
	})
	t.Run("escapes in names", func(t *testing.T) {
		evil := "ns\\007\\027[31m.test."
		h := newHostile(t, map[string]dns.HandlerFunc{
			"127.0.0.1": func(w dns.ResponseWriter, r *dns.Msg) {
				m := new(dns.Msg)
				m.SetReply(r)
				m.Ns = []dns.RR{mustRR("test. 300 IN NS " + evil)}
				m.Extra = []dns.RR{mustRR(evil + " 300 IN A 127.0.0.2")}
				_ = w.WriteMsg(m)
			},
			"127.0.0.2": func(w dns.ResponseWriter, r *dns.Msg) {
				m := new(dns.Msg)
				m.SetReply(r)
				m.Authoritative = true
				if r.Question[0].Qtype == dns.TypeA {
					m.Answer = []dns.RR{mustRR(r.Question[0].Name + " 300 IN CNAME x\\010y.test.")}
				}
				_ = w.WriteMsg(m)
			},
		})
		res, _ := Trace(context.Background(), "www.test", dns.TypeA, dns.ClassINET, h.opts())
		b, _ := json.Marshal(res)
		for _, c := range string(b) {
			if c == 0x1b || c == 0x07 {
				t.Fatalf("raw control byte in %s", b)
			}
		}
		if !strings.Contains(string(b), `ns\\007\\027[31m.test.`) {
			t.Errorf("escaped name missing: %s", b)
		}
	})
	t.Run("referral up is a loop", func(t *testing.T) {
		h := newHostile(t, map[string]dns.HandlerFunc{
			"127.0.0.1": rootReferral,
			"127.0.0.2": func(w dns.ResponseWriter, r *dns.Msg) {
				m := new(dns.Msg)
				m.SetReply(r)
				m.Ns = []dns.RR{mustRR(". 300 IN NS root.test.")}
				m.Extra = []dns.RR{mustRR("root.test. 300 IN A 127.0.0.1")}
				_ = w.WriteMsg(m)
			},
		})
		res, _ := Trace(context.Background(), "www.test", dns.TypeA, dns.ClassINET, h.opts())
		if res.OK || res.Failure != FindLoop {
			t.Errorf("%+v", res.Meta)
		}
	})
	t.Run("too deep", func(t *testing.T) {
		// Each level delegates one label further down, forever.
		h := newHostile(t, map[string]dns.HandlerFunc{
			"127.0.0.1": func(w dns.ResponseWriter, r *dns.Msg) {
				m := new(dns.Msg)
				m.SetReply(r)
				q := r.Question[0].Name
				labels := dns.SplitDomainName(q)
				child := strings.Join(labels[len(labels)-min(len(labels), 1+len(labels)/2):], ".") + "."
				m.Ns = []dns.RR{mustRR(child + " 300 IN NS ns.deep.")}
				m.Extra = []dns.RR{mustRR("ns.deep. 300 IN A 127.0.0.1")}
				_ = w.WriteMsg(m)
			},
		})
		o := h.opts()
		o.MaxDepth = 3
		res, _ := Trace(context.Background(), "a.b.c.d.e.f.g.h.i.j.k.l", dns.TypeA, dns.ClassINET, o)
		if res.OK || (res.Failure != FindTooDeep && res.Failure != FindLoop) {
			t.Errorf("%+v", res.Meta)
		}
		if len(res.Levels) > 4 {
			t.Errorf("%d levels past a bound of 3", len(res.Levels))
		}
	})
	t.Run("overall deadline", func(t *testing.T) {
		h := newHostile(t, map[string]dns.HandlerFunc{"127.0.0.1": func(w dns.ResponseWriter, r *dns.Msg) {}})
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		o := h.opts()
		o.Query.Timeout = 5 * time.Second
		start := time.Now()
		res, _ := Trace(ctx, "www.test", dns.TypeA, dns.ClassINET, o)
		if res.OK || time.Since(start) > 4*time.Second {
			t.Errorf("%+v after %s", res.Meta, time.Since(start))
		}
		if res.Failure != "timeout" || !strings.Contains(res.Error, "deadline") {
			t.Errorf("failure %q %q, want the deadline named", res.Failure, res.Error)
		}
	})
}

// The glue check takes the zone's address of an in-zone name server from
// the additional section of the server's authoritative NS reply, and asks
// for it when the reply has none: both find glue that differs from the
// zone, and only the second costs a query of its own.
func TestTraceGlueCheck(t *testing.T) {
	child := func(withExtra bool) dns.HandlerFunc {
		return func(w dns.ResponseWriter, r *dns.Msg) {
			m := new(dns.Msg)
			m.SetReply(r)
			m.Authoritative = true
			q := r.Question[0]
			switch {
			case q.Name == "test." && q.Qtype == dns.TypeNS:
				m.Answer = []dns.RR{mustRR("test. 300 IN NS ns.test.")}
				if withExtra {
					m.Extra = []dns.RR{mustRR("ns.test. 300 IN A 127.0.0.9")}
				}
			case q.Name == "ns.test." && q.Qtype == dns.TypeA:
				m.Answer = []dns.RR{mustRR("ns.test. 300 IN A 127.0.0.9")}
			case q.Name == "test." && q.Qtype == dns.TypeSOA:
				m.Answer = []dns.RR{mustRR("test. 300 IN SOA ns.test. h.test. 1 2 3 4 5")}
			case q.Qtype == dns.TypeA:
				m.Answer = []dns.RR{mustRR(q.Name + " 300 IN A 192.0.2.80")}
			}
			_ = w.WriteMsg(m)
		}
	}
	var queries [2]int
	for i, withExtra := range []bool{true, false} {
		h := newHostile(t, map[string]dns.HandlerFunc{"127.0.0.1": rootReferral, "127.0.0.2": child(withExtra)})
		res, err := Trace(context.Background(), "www.test", dns.TypeA, dns.ClassINET, h.opts())
		if err != nil || !res.OK {
			t.Fatalf("additional section %v: %v %+v", withExtra, err, res)
		}
		found := false
		for _, f := range res.Findings {
			if f.Code == FindGlueMismatch && strings.Contains(f.Message, "[127.0.0.2]") && strings.Contains(f.Message, "[127.0.0.9]") {
				found = true
			}
		}
		if !found {
			t.Errorf("additional section %v: no glue_mismatch finding naming both addresses: %+v", withExtra, res.Findings)
		}
		queries[i] = res.Queries
	}
	if queries[1] != queries[0]+1 {
		t.Errorf("queries with the address in the NS reply %d, without %d: want exactly one more without", queries[0], queries[1])
	}
}

// answerAt answers every question authoritatively with an A record of
// addr (so the reply tells which server gave it) and counts the queries.
func answerAt(addr string, n *atomic.Int32) dns.HandlerFunc {
	return func(w dns.ResponseWriter, r *dns.Msg) {
		n.Add(1)
		m := new(dns.Msg)
		m.SetReply(r)
		m.Authoritative = true
		if r.Question[0].Qtype == dns.TypeA {
			m.Answer = []dns.RR{mustRR(r.Question[0].Name + " 300 IN A " + addr)}
		}
		_ = w.WriteMsg(m)
	}
}

func needIPv6Loopback(t *testing.T) {
	t.Helper()
	pc, err := net.ListenPacket("udp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	pc.Close()
}

// TestTraceFamily: NoIPv6 (-4) asks only the IPv4 addresses of name
// servers and NoIPv4 (-6) only the IPv6 ones, for hints and glue alike; a
// level with no address of the family asked ends the trace with a finding
// that says so, without a query to the other family.
func TestTraceFamily(t *testing.T) {
	needIPv6Loopback(t)
	serverAddrs := func(res *TraceResult, zone string) []string {
		var out []string
		for _, lv := range res.Levels {
			if lv.Zone == zone {
				for _, s := range lv.Servers {
					out = append(out, s.Addr)
				}
			}
		}
		sort.Strings(out)
		return out
	}
	t.Run("glue", func(t *testing.T) {
		var n4, n6 atomic.Int32
		h := newHostile(t, map[string]dns.HandlerFunc{
			"127.0.0.1": func(w dns.ResponseWriter, r *dns.Msg) {
				m := new(dns.Msg)
				m.SetReply(r)
				m.Ns = []dns.RR{mustRR("test. 300 IN NS ns.test.")}
				m.Extra = []dns.RR{mustRR("ns.test. 300 IN A 127.0.0.2"), mustRR("ns.test. 300 IN AAAA ::1")}
				_ = w.WriteMsg(m)
			},
			"127.0.0.2": answerAt("192.0.2.4", &n4),
			"::1":       answerAt("192.0.2.6", &n6),
		})
		res, err := Trace(context.Background(), "www.test", dns.TypeA, dns.ClassINET, h.opts())
		if err != nil {
			t.Fatal(err)
		}
		if got := serverAddrs(res, "test."); strings.Join(got, " ") != "127.0.0.2 ::1" {
			t.Fatalf("both families: test. asked at %v, want both glue addresses", got)
		}
		n4.Store(0)
		n6.Store(0)
		o := h.opts()
		o.NoIPv6 = true
		res, _ = Trace(context.Background(), "www.test", dns.TypeA, dns.ClassINET, o)
		if got := serverAddrs(res, "test."); strings.Join(got, " ") != "127.0.0.2" || !res.OK || res.Answer[0].Data != "192.0.2.4" {
			t.Errorf("-4: test. asked at %v, answer %+v (%s)", got, res.Answer, res.Error)
		}
		if n6.Load() != 0 || n4.Load() == 0 {
			t.Errorf("-4: %d queries to ::1, %d to 127.0.0.2", n6.Load(), n4.Load())
		}
	})
	t.Run("hints", func(t *testing.T) {
		var n4, n6 atomic.Int32
		h := newHostile(t, map[string]dns.HandlerFunc{
			"127.0.0.1": answerAt("192.0.2.4", &n4),
			"::1":       answerAt("192.0.2.6", &n6),
		})
		o := h.opts()
		o.Hints = []NameServer{{Name: "a.root.test.", Addrs: []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")}, Source: "hint"}}
		o.NoIPv4 = true
		res, _ := Trace(context.Background(), "www", dns.TypeA, dns.ClassINET, o)
		if got := serverAddrs(res, "."); strings.Join(got, " ") != "::1" || !res.OK || res.Answer[0].Data != "192.0.2.6" {
			t.Errorf("-6: . asked at %v, answer %+v (%s)", got, res.Answer, res.Error)
		}
		if n4.Load() != 0 {
			t.Errorf("-6: %d queries to 127.0.0.1", n4.Load())
		}
	})
	t.Run("no address of the family", func(t *testing.T) {
		var n4 atomic.Int32
		h := newHostile(t, map[string]dns.HandlerFunc{
			"127.0.0.1": answerAt("192.0.2.4", &n4),
			"127.0.0.2": answerAt("192.0.2.4", &n4),
			"::1":       rootReferral, // glue: ns.test. A 127.0.0.2 only
		})
		o := h.opts()
		o.Hints = []NameServer{{Name: "a.root.test.", Addrs: []netip.Addr{netip.MustParseAddr("::1")}, Source: "hint"}}
		o.NoIPv4 = true
		res, _ := Trace(context.Background(), "www.test", dns.TypeA, dns.ClassINET, o)
		want := "no name server of test. has an IPv6 address, and only IPv6 is asked (-6); left out: ns.test. 127.0.0.2"
		if res.OK || res.Status != "failed" || res.Error != want {
			t.Fatalf("status %s ok %v error %q, want %q", res.Status, res.OK, res.Error, want)
		}
		found := false
		for _, f := range res.Findings {
			found = found || f.Code == FindNoServer && f.Message == want && f.Severity == "error"
		}
		if !found {
			t.Errorf("findings %+v", res.Findings)
		}
		if n4.Load() != 0 {
			t.Errorf("%d queries over IPv4 with -6", n4.Load())
		}
	})
	t.Run("both off", func(t *testing.T) {
		o := TraceOptions{NoIPv4: true, NoIPv6: true}
		if _, err := Trace(context.Background(), "www.test", dns.TypeA, dns.ClassINET, o); err == nil {
			t.Error("no error with both families off")
		}
	})
}

// An in-zone name server two labels below the apex may sit below a cut in
// the zone, where the NS reply's additional section is the server's glue,
// not zone data: its address is asked for, not read from there.
func TestTraceGlueCheckDeepName(t *testing.T) {
	var asked atomic.Int32
	root := func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		m.Ns = []dns.RR{mustRR("test. 300 IN NS ns.sub.test.")}
		m.Extra = []dns.RR{mustRR("ns.sub.test. 300 IN A 127.0.0.2")}
		_ = w.WriteMsg(m)
	}
	child := func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		m.Authoritative = true
		q := r.Question[0]
		switch {
		case q.Name == "test." && q.Qtype == dns.TypeNS:
			m.Answer = []dns.RR{mustRR("test. 300 IN NS ns.sub.test.")}
			m.Extra = []dns.RR{mustRR("ns.sub.test. 300 IN A 127.0.0.2")}
		case q.Name == "ns.sub.test." && q.Qtype == dns.TypeA:
			asked.Add(1)
			m.Answer = []dns.RR{mustRR("ns.sub.test. 300 IN A 127.0.0.2")}
		case q.Qtype == dns.TypeA:
			m.Answer = []dns.RR{mustRR(q.Name + " 300 IN A 192.0.2.80")}
		}
		_ = w.WriteMsg(m)
	}
	h := newHostile(t, map[string]dns.HandlerFunc{"127.0.0.1": root, "127.0.0.2": child})
	res, err := Trace(context.Background(), "www.test", dns.TypeA, dns.ClassINET, h.opts())
	if err != nil || !res.OK {
		t.Fatalf("%v %+v", err, res)
	}
	if asked.Load() != 1 {
		t.Errorf("the address of ns.sub.test. was asked %d times, want once (not taken from the additional section)", asked.Load())
	}
}
