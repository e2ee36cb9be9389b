package resolve

import (
	"context"
	"crypto/tls"
	"encoding/binary"
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
	"github.com/nettool/nettool/probe/probetest"
)

func TestSameNameComparesAsDNS(t *testing.T) {
	same := [][2]string{
		{"a.example.", "A.EXAMPLE."},
		{`a\032b.example.`, `a\ b.example.`},
		{`\$x.example.`, `$x.example.`},
		{`\~.example.`, `~.example.`},
		{`\126.example.`, `~.example.`},
		{`a\044b.example.`, `a,b.example.`},
		{`caf\195\169.example.`, "caf\xc3\xa9.example."},
		{`\065.example.`, `a.example.`}, // \065 is "A": ASCII case folds
		{`a\.b.example.`, `a\046b.example.`},
	}
	for _, p := range same {
		if !sameName(p[0], p[1]) || !sameName(p[1], p[0]) {
			t.Errorf("sameName(%q, %q) = false, want true", p[0], p[1])
		}
	}
	differ := [][2]string{
		{`a\.b.example.`, `a.b.example.`},                // one label against two
		{"caf\xc3\xa9.example.", "CAF\xc3\x89.example."}, // no Unicode case folding (RFC 4343)
		{"k.example.", "\u212a.example."},                // the Kelvin sign is not k
		{`a\032b.example.`, `ab.example.`},
		{"a.example.", "b.example."},
	}
	for _, p := range differ {
		if sameName(p[0], p[1]) || sameName(p[1], p[0]) {
			t.Errorf("sameName(%q, %q) = true, want false", p[0], p[1])
		}
	}
}

func TestQueryName(t *testing.T) {
	for in, want := range map[string]string{
		"bücher.example":          "xn--bcher-kva.example",
		"BÜCHER.example.":         "xn--bcher-kva.example.",
		"faß.example":             "xn--fa-hia.example",  // non-transitional, as kdig
		`caf\195\169.example`:     `caf\195\169.example`, // escapes are bytes, sent as written
		`a\ b.example`:            `a\032b.example`,      // written as dig writes it
		`\126x.example.`:          `~x.example.`,
		`\$x.Example`:             `\$x.Example`,
		`a\.`:                     `a\.`, // one label "a.", not fully qualified
		`a\\.`:                    `a\\.`,
		"plain.Example":           "plain.Example",
		"www.münchen.example.com": "www.xn--mnchen-3ya.example.com",
	} {
		got, err := QueryName(in)
		if err != nil || got != want {
			t.Errorf("QueryName(%q) = %q %v, want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"caf\xe9.example", "a b.example", "a\\\tb.example", "caf\xc3\xa9\\032.example"} {
		if _, err := QueryName(bad); err == nil || !probe.IsUsage(err) {
			t.Errorf("QueryName(%q) err = %v, want a usage error", bad, err)
		}
	}
}

// echoZone answers every A question with one record whose owner is the
// question's name, as miekg/dns writes it back (its own escaping, which is
// not the user's: \$ comes back as $, \126 as ~, raw UTF-8 as \DDD).
func echoZone(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	m.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: r.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.IPv4(192, 0, 2, 1)}}
	_ = w.WriteMsg(m)
}

// escapedNames are names whose presentation form the server writes
// differently from the user.
var escapedNames = []string{`a\032b.example`, `a\ b.example`, `\$x.example`, `\~y.example`, `\126z.example`, `a\044b.example`, `caf\195\169.example`, "bücher.example", `Mixed\.Case.Example`}

// TestEscapedNamesAreAnswered: replies to names with escaped bytes are
// matched with their query over every transport (before the fix they were
// ignored as "wrong ID or question" and the lookup timed out).
func TestEscapedNamesAreAnswered(t *testing.T) {
	addr := startServer(t, echoZone)
	cert, pool := testCert(t)
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	startOn(t, &dns.Server{Listener: l, Net: "tcp-tls", Handler: dns.HandlerFunc(echoZone)})
	doh := httptest.NewUnstartedServer(dohEcho())
	doh.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	doh.StartTLS()
	defer doh.Close()
	o := Options{Timeout: 5 * time.Second, TLS: &tls.Config{RootCAs: pool}}
	for _, server := range []string{addr, "tcp://" + addr, "tls://" + l.Addr().String(), doh.URL + "/dns-query"} {
		for _, n := range escapedNames {
			q, err := QueryName(n)
			if err != nil {
				t.Fatal(err)
			}
			r := lookup(t, o, server, q, dns.TypeA)
			if !r.OK || len(r.Answer) != 1 {
				t.Errorf("%s %s: %s %s", server, n, r.Failure, r.Error)
			}
		}
	}
	// Batches: the UDP engine (fast path and miekg path) and the pool.
	in := strings.Join(escapedNames, "\n") + "\n"
	for _, server := range []string{addr, "tcp://" + addr} {
		var got []*Result
		st, err := RunBatch(context.Background(), strings.NewReader("\xef\xbb\xbf"+in), BatchOptions{
			Servers: []Server{mustServer(t, server)}, Concurrency: 4, Opts: Options{Timeout: 5 * time.Second},
			Emit: func(r *Result) { got = append(got, r) },
		})
		if err != nil || st.NoError != int64(len(escapedNames)) || st.BadLines != 0 {
			for _, r := range got {
				t.Logf("%s: %s %s", r.Question.Name, r.Failure, r.Error)
			}
			t.Errorf("batch %s: err %v stats %+v", server, err, st)
		}
	}
}

func dohEcho() http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		q := new(dns.Msg)
		if err := q.Unpack(body); err != nil {
			http.Error(w, "bad message", http.StatusBadRequest)
			return
		}
		rec := &recorder{}
		echoZone(rec, q)
		out, _ := rec.msg.Pack()
		w.Header().Set("Content-Type", "application/dns-message")
		_, _ = w.Write(out)
	}
}

// overcount packs m and makes its header claim extra more answers than it
// carries.
func overcount(t *testing.T, m *dns.Msg, extra int) []byte {
	b, err := m.Pack()
	if err != nil {
		t.Error(err)
		return nil
	}
	binary.BigEndian.PutUint16(b[6:], uint16(len(m.Answer)+extra))
	return b
}

func overcountReply(t *testing.T, query []byte) []byte {
	q := new(dns.Msg)
	if q.Unpack(query) != nil {
		return nil
	}
	m := new(dns.Msg)
	m.SetReply(q)
	m.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: q.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.IPv4(192, 0, 2, 1)}}
	return overcount(t, m, 2)
}

// streamServer serves DNS over TCP with reply, which gets each query's
// bytes and returns the messages to send back.
func streamServer(t *testing.T, reply func(q []byte) [][]byte) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				buf := make([]byte, maxMsg)
				for {
					b, err := readStreamMsg(c, buf)
					if err != nil {
						return
					}
					for _, out := range reply(append([]byte(nil), b...)) {
						if writeStreamMsg(c, out) != nil {
							return
						}
					}
				}
			}()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return l.Addr().String()
}

// TestOvercountedReplyIsMalformed: a reply whose header counts more records
// than it carries is reported as malformed (dig: "Message parser reports
// malformed message packet"), with what it did carry, over UDP, TCP, DoH
// and in a batch; before, it was a NOERROR success.
func TestOvercountedReplyIsMalformed(t *testing.T) {
	udp, _ := rawUDP(t, func(q []byte) [][]byte { return [][]byte{overcountReply(t, q)} })
	tcp := streamServer(t, func(q []byte) [][]byte { return [][]byte{overcountReply(t, q)} })
	cert, pool := testCert(t)
	doh := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		w.Header().Set("Content-Type", "application/dns-message")
		_, _ = w.Write(overcountReply(t, body))
	}))
	doh.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	doh.StartTLS()
	defer doh.Close()
	o := Options{Timeout: 5 * time.Second, TLS: &tls.Config{RootCAs: pool}}
	for _, s := range []string{udp, "tcp://" + tcp, doh.URL} {
		r := lookup(t, o, s, "x.example", dns.TypeA)
		if r.OK || r.Failure != probe.FailProtocol || r.Rcode != "NOERROR" || len(r.Answer) != 1 ||
			r.Malformed != "header counts 3 answer record(s), message carries 1" || !strings.Contains(r.Error, "malformed reply") {
			t.Errorf("%s: ok %v failure %q rcode %q answers %d malformed %q error %q", s, r.OK, r.Failure, r.Rcode, len(r.Answer), r.Malformed, r.Error)
		}
	}
	for _, s := range []string{udp, "tcp://" + tcp} {
		var got []*Result
		st, err := RunBatch(context.Background(), strings.NewReader("x.example\ny.example\n"), BatchOptions{
			Servers: []Server{mustServer(t, s)}, Concurrency: 2, Opts: Options{Timeout: 5 * time.Second},
			Emit: func(r *Result) { got = append(got, r) },
		})
		if err != nil || st.NoError != 0 || st.Errors != 2 || len(got) != 2 || got[0].Malformed == "" {
			t.Errorf("batch %s: err %v stats %+v", s, err, st)
		}
	}
}

// TestStreamRepliesMatchPerMessage: on a TCP connection, messages that
// answer another question or carry another ID (as on a connection shared by
// several queries) are passed over, and the reply to the query is taken,
// whatever the order; in a batch over TCP every result answers its own line.
func TestStreamRepliesMatchPerMessage(t *testing.T) {
	tcp := streamServer(t, func(qb []byte) [][]byte {
		q := new(dns.Msg)
		if q.Unpack(qb) != nil {
			return nil
		}
		name := q.Question[0].Name
		answer := func(id uint16, owner string, a net.IP) []byte {
			m := new(dns.Msg)
			m.SetReply(q)
			m.Id = id
			m.Question[0].Name = owner
			m.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: a}}
			b, _ := m.Pack()
			return b
		}
		// First a reply for another name with the same ID, then one for
		// this name with another ID, then the real one.
		return [][]byte{answer(q.Id, "other."+name, net.IPv4(192, 0, 2, 66)), answer(q.Id^1, name, net.IPv4(192, 0, 2, 77)), answer(q.Id, name, net.IPv4(192, 0, 2, 1))}
	})
	r := lookup(t, Options{Timeout: 5 * time.Second}, "tcp://"+tcp, `x\$.example`, dns.TypeA)
	if !r.OK || len(r.Answer) != 1 || r.Answer[0].Data != "192.0.2.1" {
		t.Fatalf("%+v", r)
	}
	var lines []string
	for i := 0; i < 20; i++ {
		lines = append(lines, "n"+strings.Repeat("x", i)+".example")
	}
	var got []*Result
	st, err := RunBatch(context.Background(), strings.NewReader(strings.Join(lines, "\n")), BatchOptions{
		Servers: []Server{mustServer(t, "tcp://"+tcp)}, Concurrency: 5, Opts: Options{Timeout: 5 * time.Second},
		Emit: func(r *Result) { got = append(got, r) },
	})
	if err != nil || st.NoError != 20 {
		t.Fatalf("err %v stats %+v", err, st)
	}
	for _, r := range got {
		if len(r.Answer) != 1 || r.Answer[0].Data != "192.0.2.1" || !sameName(r.Answer[0].Name, r.Question.Name) {
			t.Errorf("%s: %+v", r.Question.Name, r.Answer)
		}
	}
}

// lateRoundTripper plays the race net/http lets through: a response that
// comes only once the request's context is done (a DoH server whose handler
// returns an empty 200 when the client goes away at its deadline, and
// http.Transport hands that response back).
type lateRoundTripper struct{}

func (lateRoundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	<-req.Context().Done()
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("")), Request: req}, nil
}

// TestDoHResponseAfterDeadlineIsTimeout (issue 9.17): a DoH response that
// arrives once the deadline has passed is a timeout, not a protocol error
// about its content type.
func TestDoHResponseAfterDeadlineIsTimeout(t *testing.T) {
	c := &Client{Opts: Options{Timeout: 50 * time.Millisecond}}
	c.once.Do(func() {})
	c.hc = &http.Client{Transport: lateRoundTripper{}}
	r := c.Lookup(context.Background(), mustServer(t, "https://127.0.0.1/dns-query"), NewQuestion("x.example", dns.TypeA, dns.ClassINET))
	if r.OK || r.Failure != probe.FailTimeout {
		t.Fatalf("failure %q error %q, want a timeout", r.Failure, r.Error)
	}
}

// TestQueryFlagsLikeDig: queries carry AD by default, as dig's do;
// +noadflag clears it and +cdflag sets CD, over UDP and in a batch.
type bits struct{ ad, cd bool }

// waitBits takes what the server saw, failing rather than waiting for ever
// when no query reached it.
func waitBits(t *testing.T, seen chan bits) bits {
	t.Helper()
	select {
	case b := <-seen:
		return b
	case <-time.After(30 * time.Second):
		t.Fatal("no query reached the server")
		return bits{}
	}
}

func TestQueryFlagsLikeDig(t *testing.T) {
	seen := make(chan bits, 16)
	addr := startServer(t, func(w dns.ResponseWriter, r *dns.Msg) {
		seen <- bits{r.AuthenticatedData, r.CheckingDisabled}
		echoZone(w, r)
	})
	for _, c := range []struct {
		o    Options
		want bits
	}{{Options{}, bits{true, false}}, {Options{NoAD: true}, bits{false, false}}, {Options{CD: true}, bits{true, true}}} {
		c.o.Timeout = 5 * time.Second
		lookup(t, c.o, addr, "x.example", dns.TypeA)
		if got := waitBits(t, seen); got != c.want {
			t.Errorf("%+v: query bits %+v, want %+v", c.o, got, c.want)
		}
		if _, err := RunBatch(context.Background(), strings.NewReader("x.example\n"), BatchOptions{Servers: []Server{mustServer(t, addr)}, Opts: c.o}); err != nil {
			t.Fatal(err)
		}
		if got := waitBits(t, seen); got != c.want {
			t.Errorf("batch %+v: query bits %+v, want %+v", c.o, got, c.want)
		}
	}
	a, err := ParseArgs([]string{"+cdflag", "+noadflag", "x"})
	if err != nil || a.Plus.CD == nil || !*a.Plus.CD || a.Plus.NoAD == nil || !*a.Plus.NoAD {
		t.Fatalf("ParseArgs: %v %+v", err, a.Plus)
	}
}

// TestServerSpecNotAHostName: numbers with dots that are no IP address, and
// other words that are no host name, are usage errors: nothing is looked up.
func TestServerSpecNotAHostName(t *testing.T) {
	for _, s := range []string{"999.1.1.1", "@1.2.3", "127.1", "0x7f.0.0.1", "0x7f000001", "tcp://256.0.0.1", "tls://1.2.3.4.5", "https://300.1.1.1/dns-query", "host.123", "-bad.example", "a_b-.example", "1.2.3.4."} {
		if _, err := ParseServer(s); err == nil || !probe.IsUsage(err) {
			t.Errorf("ParseServer(%q) err = %v, want a usage error", s, err)
		}
	}
	for _, s := range []string{"localhost", "ns1.example", "1e100.net", "dns.example.", "a-b.example:5353"} {
		if _, err := ParseServer(s); err != nil {
			t.Errorf("ParseServer(%q): %v", s, err)
		}
	}
}

func TestResolvConfSaysWhichLineAndWhy(t *testing.T) {
	c := ParseResolvConf(strings.NewReader("# x\nnameserver 127.0.0.1:5353\nnameserver dns.example\nnameserver\nnameserver [x]:53\n"))
	var got []string
	for _, s := range c.Skipped {
		got = append(got, s.String())
	}
	want := []string{
		"2: nameserver 127.0.0.1:5353: a port is written [127.0.0.1]:5353 here (OpenBSD form; glibc takes no port)",
		"3: nameserver dns.example: not an IP address (resolv.conf names servers by address)",
		"4: nameserver: no address",
		`5: nameserver [x]:53: "x" is not an IP address`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("skipped:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestTypedFieldsNeverTakeCommonKeys: for every type miekg/dns knows, the
// typed JSON fields leave name, type, class, ttl and data alone (SSHFP and
// CERT wrote their own "type": 1 over the record's; NULL its "data").
func TestTypedFieldsNeverTakeCommonKeys(t *testing.T) {
	for rt, mk := range dns.TypeToRR {
		rr := mk()
		*rr.Header() = dns.RR_Header{Name: "x.", Rrtype: rt, Class: dns.ClassINET, Ttl: 60}
		rec := Record{Name: "x.", Type: TypeString(rt), Class: "IN", TTL: 60, Data: "d", rr: rr}
		var got map[string]any
		if err := json.Unmarshal(rec.appendJSON(nil), &got); err != nil {
			t.Fatalf("%s: %v", TypeString(rt), err)
		}
		if got["type"] != TypeString(rt) || got["name"] != "x." || got["class"] != "IN" || got["data"] != "d" || got["ttl"] != float64(60) {
			t.Errorf("%s: common keys overwritten: %v", TypeString(rt), got)
		}
		for k := range typedFields(rr) {
			if recordKeys[k] {
				t.Errorf("%s: typed field %q", TypeString(rt), k)
			}
		}
	}
}

// TestPipelinedEscapedNamesOutOfOrder: names with escaped bytes, pipelined
// on shared TCP connections and answered out of order among replies for
// other questions and IDs (issue 10.1 with 10.8): each query gets the reply
// to its own question, matched per message.
func TestPipelinedEscapedNamesOutOfOrder(t *testing.T) {
	srv := &pipelineServer{group: 8}
	addr := probetest.ServeTCP(t, srv.serve)
	forms := []string{`a\032b-%d.pipe.example`, `\$x%d.pipe.example`, `caf\195\169%d.pipe.example`, `Up\~%d.Pipe.Example`, `d\.ot%d.pipe.example`, `bücher%d.pipe.example`}
	var lines []string
	for i := 0; i < 60; i++ {
		lines = append(lines, fmt.Sprintf(forms[i%len(forms)], i))
	}
	var mu sync.Mutex
	var wrong []string
	st, err := RunBatch(context.Background(), strings.NewReader(strings.Join(lines, "\n")), BatchOptions{
		Servers: []Server{mustServer(t, "tcp://"+addr)}, Concurrency: 16, Opts: Options{Timeout: 10 * time.Second},
		Emit: func(r *Result) {
			mu.Lock()
			defer mu.Unlock()
			if !r.OK || len(r.Answer) != 1 || r.Answer[0].Name != r.Question.Name {
				wrong = append(wrong, fmt.Sprintf("%s: %s %s %+v", r.Question.Name, r.Failure, r.Error, r.Answer))
			}
		},
	})
	if err != nil || len(wrong) > 0 || st.NoError != 60 {
		t.Fatalf("err %v stats %+v wrong %v", err, st, wrong)
	}
	if srv.maxInFlight.Load() < 2 {
		t.Logf("at most %d queries in flight on a connection", srv.maxInFlight.Load())
	}
}

// TestTruncatedThenMalformedOverTCP: in a UDP batch, a truncated answer is
// asked again over TCP, and a malformed TCP reply is reported as such there
// too.
func TestTruncatedThenMalformedOverTCP(t *testing.T) {
	tcp := streamServer(t, func(q []byte) [][]byte { return [][]byte{overcountReply(t, q)} })
	pc, err := net.ListenPacket("udp", tcp)
	if err != nil {
		t.Skipf("no UDP port beside %s: %v", tcp, err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, 4096)
		for {
			n, a, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			q := new(dns.Msg)
			if q.Unpack(buf[:n]) != nil {
				continue
			}
			m := new(dns.Msg)
			m.SetReply(q)
			m.Truncated = true
			b, _ := m.Pack()
			_, _ = pc.WriteTo(b, a)
		}
	}()
	defer func() { pc.Close(); wg.Wait() }()
	var got []*Result
	st, err := RunBatch(context.Background(), strings.NewReader("x.example\n"), BatchOptions{
		Servers: []Server{mustServer(t, tcp)}, Opts: Options{Timeout: 5 * time.Second},
		Emit: func(r *Result) { got = append(got, r) },
	})
	if err != nil || len(got) != 1 || !got[0].TCPFallback || got[0].Malformed == "" || got[0].OK || st.TCPFall != 1 {
		t.Fatalf("err %v stats %+v results %+v", err, st, got)
	}
}
