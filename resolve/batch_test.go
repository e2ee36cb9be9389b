package resolve

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/nettool/nettool/probe"
)

func TestParseBatchLine(t *testing.T) {
	cases := []struct {
		in    string
		name  string
		qt    uint16
		ok    bool
		isErr bool
	}{
		{"www.example.test", "www.example.test", dns.TypeA, true, false},
		{"  example.test  MX  ", "example.test", dns.TypeMX, true, false},
		{"example.test TXT CH", "example.test", dns.TypeTXT, true, false},
		{"ns1.example.test", "ns1.example.test", dns.TypeA, true, false},
		{"", "", 0, false, false},
		{"   # comment", "", 0, false, false},
		{"a..b A", "", 0, false, true},
		{"example.test BOGUS", "", 0, false, true},
		{"example.test A A", "", 0, false, true},
	}
	for _, c := range cases {
		name, qt, _, ok, err := ParseBatchLine(c.in)
		if (err != nil) != c.isErr || ok != c.ok || name != c.name || (ok && qt != c.qt) {
			t.Errorf("ParseBatchLine(%q) = %q %d %v %v", c.in, name, qt, ok, err)
		}
	}
}

// countingReader yields n generated lines without holding them.
type genReader struct {
	n, i int
	buf  []byte
	line func(i int) string
}

func (g *genReader) Read(p []byte) (int, error) {
	for len(g.buf) < len(p) && g.i < g.n {
		g.buf = append(g.buf, g.line(g.i)...)
		g.i++
	}
	if len(g.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(p, g.buf)
	g.buf = g.buf[n:]
	return n, nil
}

func TestBatchUDP(t *testing.T) {
	addr := startServer(t, testZone)
	names := []string{"www.example.test A", "example.test MX", "nope.example.test", "v4.example.test AAAA", "servfail.example.test", "bad..name", "www.example.test BOGUS"}
	in := &genReader{n: 2100, line: func(i int) string { return names[i%len(names)] + "\n" }}
	var got []*Result
	var bad []int
	idle := 0
	st, err := RunBatch(context.Background(), in, BatchOptions{
		Servers: []Server{mustServer(t, addr)}, Concurrency: 50, Opts: Options{Timeout: 5 * time.Second},
		OnBadLine: func(n int, err error) { bad = append(bad, n) },
		Emit:      func(r *Result) { got = append(got, r) },
		Flush:     func() { idle++ },
	})
	if err != nil {
		t.Fatal(err)
	}
	if st.Sent != 1500 || len(got) != 1500 || st.Answered != 1500 || st.NoError != 600 || st.NXDomain != 300 || st.NoData != 300 || st.ServFail != 300 || st.BadLines != 600 || st.Timeouts != 0 {
		t.Fatalf("stats %+v, %d results", st, len(got))
	}
	if len(bad) != 600 || bad[0] != 6 || bad[1] != 7 {
		t.Fatalf("bad lines %v", bad[:2])
	}
	if st.AllOK() || idle == 0 || st.QPS <= 0 {
		t.Fatalf("allok %v idle %d qps %v", st.AllOK(), idle, st.QPS)
	}
	for _, r := range got {
		if r.Question.Name == "www.example.test." && (!r.OK || len(r.Answer) != 2) {
			t.Fatalf("%+v", r)
		}
	}
}

func TestBatchHostileAndSilent(t *testing.T) {
	// Every query first gets a reply with the wrong ID, then one for another
	// question, then garbage: all ignored; queries for "drop" names are never
	// answered and time out after one retry.
	addr, _ := rawUDP(t, func(b []byte) [][]byte {
		q := new(dns.Msg)
		if q.Unpack(b) != nil {
			return nil
		}
		if strings.HasPrefix(q.Question[0].Name, "drop") {
			return nil
		}
		good := new(dns.Msg)
		good.SetReply(q)
		rr, _ := dns.NewRR(q.Question[0].Name + " 60 IN A 192.0.2.1")
		good.Answer = []dns.RR{rr}
		w1 := good.Copy()
		w1.Id++
		w2 := good.Copy()
		w2.Question[0].Name = "zzz.example."
		p1, _ := w1.Pack()
		p2, _ := w2.Pack()
		g, _ := good.Pack()
		return [][]byte{p1, p2, append(g[:2:2], "\x81\x80junk"...), g}
	})
	in := strings.NewReader(strings.Repeat("ok.example\ndrop.example\n", 100))
	var mu sync.Mutex
	fail := 0
	st, err := RunBatch(context.Background(), in, BatchOptions{
		Servers: []Server{mustServer(t, addr)}, Concurrency: 400, Opts: Options{Timeout: time.Second, Retries: 1},
		Emit: func(r *Result) {
			mu.Lock()
			defer mu.Unlock()
			if strings.HasPrefix(r.Question.Name, "ok") != r.OK {
				fail++
			}
		},
	})
	if err != nil || fail != 0 {
		t.Fatalf("err %v, %d wrong results", err, fail)
	}
	// Every "drop" query is retried once; an "ok" query may be too on a
	// loaded machine, which changes nothing else.
	if st.Sent != 200 || st.NoError != 100 || st.Timeouts != 100 || st.Retries < 100 {
		t.Fatalf("%+v", st)
	}
}

func TestBatchTruncationFallsBackToTCP(t *testing.T) {
	addr := startServer(t, truncating)
	var n atomic.Int64
	st, err := RunBatch(context.Background(), strings.NewReader("a.example TXT\nb.example TXT\nc.example TXT\n"), BatchOptions{
		Servers: []Server{mustServer(t, addr)}, Opts: Options{Timeout: 10 * time.Second},
		Emit: func(r *Result) {
			if r.OK && r.TCPFallback && len(r.Answer) == 100 {
				n.Add(1)
			}
		},
	})
	if err != nil || st.TCPFall != 3 || n.Load() != 3 || st.NoError != 3 {
		t.Fatalf("err %v stats %+v good %d", err, st, n.Load())
	}
}

func TestBatchOverTCPPool(t *testing.T) {
	addr := startServer(t, testZone)
	st, err := RunBatch(context.Background(), strings.NewReader(strings.Repeat("www.example.test\n", 50)), BatchOptions{
		Servers: []Server{mustServer(t, "tcp://"+addr)}, Concurrency: 8, Opts: Options{Timeout: 10 * time.Second},
	})
	if err != nil || st.Sent != 50 || st.NoError != 50 {
		t.Fatalf("err %v stats %+v", err, st)
	}
}

func TestBatchInterrupted(t *testing.T) {
	addr, seen := rawUDP(t, func([]byte) [][]byte { return nil })
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-seen; cancel() }()
	in := &genReader{n: 1 << 30, line: func(i int) string { return fmt.Sprintf("n%d.example\n", i) }}
	st, err := RunBatch(ctx, in, BatchOptions{Servers: []Server{mustServer(t, addr)}, Concurrency: 10, Opts: Options{Timeout: time.Hour}})
	if err != nil || !st.Canceled || st.Sent == 0 || st.Sent > 1000 || st.Timeouts != 0 {
		t.Fatalf("err %v stats %+v", err, st)
	}
}

func TestBatchRateLimit(t *testing.T) {
	addr := startServer(t, testZone)
	start := time.Now()
	st, err := RunBatch(context.Background(), strings.NewReader(strings.Repeat("www.example.test\n", 30)), BatchOptions{
		Servers: []Server{mustServer(t, addr)}, Rate: 100, Opts: Options{Timeout: 10 * time.Second},
	})
	// 30 queries at 100/s cannot take less than about 0.29 s.
	if err != nil || st.NoError != 30 || time.Since(start) < 250*time.Millisecond {
		t.Fatalf("err %v stats %+v in %v", err, st, time.Since(start))
	}
}

func TestBatchNoServer(t *testing.T) {
	_, err := RunBatch(context.Background(), strings.NewReader("x\n"), BatchOptions{})
	if !probe.IsLocal(err) {
		t.Fatalf("err %v", err)
	}
}

// TestBatchRecycle: with Recycle the batch reuses its results; what Emit
// sees must be what a batch of new results gives, over replies of every
// kind (the fast path, the miekg path, error rcodes) taken in turn.
func TestBatchRecycle(t *testing.T) {
	addr := startServer(t, func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		a, _ := dns.NewRR(r.Question[0].Name + " 60 IN A 192.0.2.9")
		switch r.Question[0].Name {
		case "tc.example.test.": // truncated over UDP: the batch asks again over TCP
			if _, udp := w.RemoteAddr().(*net.UDPAddr); udp {
				m.Truncated = true
			} else {
				m.Answer = []dns.RR{a}
			}
			_ = w.WriteMsg(m)
		case "bad.example.test.": // the header counts one answer more than it holds
			m.Answer = []dns.RR{a}
			b, _ := m.Pack()
			b[7]++
			_, _ = w.Write(b)
		case "txt.example.test.": // no OPT record, and a TXT the fast path leaves to miekg
			txt, _ := dns.NewRR(`txt.example.test. 60 IN TXT "hello"`)
			m.Answer = []dns.RR{txt}
			_ = w.WriteMsg(m)
		default:
			testZone(w, r)
		}
	})
	names := []string{"www.example.test A", "example.test MX", "tc.example.test", "nope.example.test", "bad.example.test", "v4.example.test AAAA",
		"servfail.example.test", "txt.example.test TXT", "evil.example.test TXT", "4.2.0.192.in-addr.arpa PTR", "www.example.test AAAA", "v4.example.test"}
	run := func(recycle bool) []string {
		in := &genReader{n: 1200, line: func(i int) string { return names[i%len(names)] + "\n" }}
		var got []string
		_, err := RunBatch(context.Background(), in, BatchOptions{
			Servers: []Server{mustServer(t, addr)}, Concurrency: 20, Opts: Options{Timeout: 5 * time.Second},
			Recycle: recycle,
			Emit: func(r *Result) {
				var m map[string]any
				if err := json.Unmarshal(r.AppendJSON(nil), &m); err != nil {
					t.Error(err)
				}
				delete(m, "start")
				delete(m, "elapsed_ms")
				delete(m, "rtt_ms")
				b, _ := json.Marshal(m)
				got = append(got, string(b))
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		sort.Strings(got)
		return got
	}
	fresh, recycled := run(false), run(true)
	if len(fresh) != 1200 || len(recycled) != 1200 {
		t.Fatalf("%d and %d results", len(fresh), len(recycled))
	}
	for i := range fresh {
		if fresh[i] != recycled[i] {
			t.Fatalf("result %d:\nnew      %s\nrecycled %s", i, fresh[i], recycled[i])
		}
	}
}
