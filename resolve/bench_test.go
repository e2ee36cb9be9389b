package resolve

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// BenchmarkBatchUDP runs the batch engine against an in-process server on
// loopback (the server's own cost is in the figure too).
func BenchmarkBatchUDP(b *testing.B) {
	addr := startServerB(b)
	srv, _ := ParseServer(addr)
	input := strings.Repeat("www.example.test A\nexample.test MX\n", 500)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		st, err := RunBatch(context.Background(), strings.NewReader(input), BatchOptions{Servers: []Server{srv}, Opts: Options{Timeout: 5 * time.Second}, Recycle: true})
		if err != nil || st.NoError != 1000 {
			b.Fatalf("%v %+v", err, st)
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "queries/s")
}

func startServerB(b *testing.B) string {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	s := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(testZone)}
	started := make(chan struct{})
	s.NotifyStartedFunc = func() { close(started) }
	go func() { _ = s.ActivateAndServe() }()
	<-started
	b.Cleanup(func() { _ = s.Shutdown() })
	return pc.LocalAddr().String()
}

// BenchmarkAppendJSON is the per-result cost of a batch's JSON line.
func BenchmarkAppendJSON(b *testing.B) {
	m := new(dns.Msg)
	m.SetQuestion("www.example.test.", dns.TypeA)
	m.Response = true
	for _, s := range []string{"www.example.test. 300 IN CNAME web.example.test.", "web.example.test. 300 IN A 192.0.2.10"} {
		rr, _ := dns.NewRR(s)
		m.Answer = append(m.Answer, rr)
	}
	r := &Result{Question: NewQuestion("www.example.test", dns.TypeA, 1), Server: "127.0.0.1:53", Transport: "udp", Tries: 1}
	r.fillWith(m, time.Millisecond, true)
	var buf []byte
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf = r.AppendJSON(buf[:0])
	}
}
