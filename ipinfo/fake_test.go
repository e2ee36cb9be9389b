package ipinfo

import (
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/miekg/dns"
)

// Fake providers on loopback. Each returns its spec and a stop function that
// the test defers (so servers are gone before goleak looks).

func fakeHTTP(t *testing.T, h http.HandlerFunc) (string, func()) {
	t.Helper()
	srv := httptest.NewServer(h)
	return srv.URL + "/ip", srv.Close
}

func answerHTTP(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte(body))
	}
}

// fakeDNS starts a miekg server on 127.0.0.1 (UDP, and TCP on the same port
// when tcp is set) running h.
func fakeDNS(t *testing.T, h dns.HandlerFunc, tcp bool) (string, func()) {
	t.Helper()
	for try := 0; ; try++ {
		pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		var ln net.Listener
		if tcp {
			ln, err = net.Listen("tcp4", pc.LocalAddr().String())
			if err != nil {
				pc.Close()
				if try < 10 {
					continue
				}
				t.Fatal(err)
			}
		}
		var servers []*dns.Server
		started := make(chan struct{}, 2)
		us := &dns.Server{PacketConn: pc, Handler: h, NotifyStartedFunc: func() { started <- struct{}{} }}
		servers = append(servers, us)
		if ln != nil {
			servers = append(servers, &dns.Server{Listener: ln, Handler: h, NotifyStartedFunc: func() { started <- struct{}{} }})
		}
		done := make(chan struct{}, len(servers))
		for _, s := range servers {
			go func() { _ = s.ActivateAndServe(); done <- struct{}{} }()
		}
		for range servers {
			<-started
		}
		stop := func() {
			for _, s := range servers {
				_ = s.Shutdown()
			}
			for range servers {
				<-done
			}
		}
		return pc.LocalAddr().String(), stop
	}
}

// dnsAnswer replies with the given records (in zone-file form, "$NAME" stands
// for the query name).
func dnsAnswer(records ...string) dns.HandlerFunc {
	return func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		for _, s := range records {
			rr, err := dns.NewRR(replaceName(s, q.Question[0].Name))
			if err != nil {
				panic(err)
			}
			m.Answer = append(m.Answer, rr)
		}
		_ = w.WriteMsg(m)
	}
}

func replaceName(s, name string) string {
	out := ""
	for i := 0; i < len(s); i++ {
		if i+5 <= len(s) && s[i:i+5] == "$NAME" {
			out += name
			i += 4
			continue
		}
		out += string(s[i])
	}
	return out
}

func mustProviders(t *testing.T, specs ...string) []Provider {
	t.Helper()
	var out []Provider
	for _, s := range specs {
		p, err := ParseProvider(s)
		if err != nil {
			t.Fatalf("ParseProvider(%q): %v", s, err)
		}
		out = append(out, p)
	}
	return out
}
