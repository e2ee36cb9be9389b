package resolve

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// fakeResolver is a recursive resolver on 127.0.0.1 (UDP and TCP on one
// port) that answers from a fixed set of records and notes how each query
// came.
type fakeResolver struct {
	port int
	mu   sync.Mutex
	seen []fakeQuery
}

type fakeQuery struct {
	name    string
	qtype   uint16
	network string
	cd, do  bool
}

func (f *fakeResolver) queries() []fakeQuery {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeQuery{}, f.seen...)
}

// newFakeResolver serves answer(q) for each question; over UDP each reply
// is preceded by a copy with a wrong ID (to be ignored), and truncate(q)
// answers UDP with the TC bit so the client must ask again over TCP.
func newFakeResolver(t *testing.T, answer func(q dns.Question) *dns.Msg, truncate func(q dns.Question) bool) *fakeResolver {
	t.Helper()
	f := &fakeResolver{}
	handler := func(w dns.ResponseWriter, r *dns.Msg) {
		q := r.Question[0]
		network := w.LocalAddr().Network()
		do := r.IsEdns0() != nil && r.IsEdns0().Do()
		f.mu.Lock()
		f.seen = append(f.seen, fakeQuery{name: strings.ToLower(q.Name), qtype: q.Qtype, network: network, cd: r.CheckingDisabled, do: do})
		f.mu.Unlock()
		m := answer(q)
		m.SetReply(r)
		if network == "udp" {
			wrong := m.Copy()
			wrong.Id++
			_ = w.WriteMsg(wrong)
			if truncate(q) {
				tc := new(dns.Msg)
				tc.SetReply(r)
				tc.Truncated = true
				_ = w.WriteMsg(tc)
				return
			}
		}
		_ = w.WriteMsg(m)
	}
	for attempt := 0; attempt < 20; attempt++ {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := pc.LocalAddr().(*net.UDPAddr).Port
		ln, err := net.Listen("tcp", pc.LocalAddr().String())
		if err != nil {
			pc.Close()
			continue
		}
		f.port = port
		for _, s := range []*dns.Server{{PacketConn: pc, Handler: dns.HandlerFunc(handler)}, {Listener: ln, Handler: dns.HandlerFunc(handler)}} {
			started := make(chan struct{})
			s.NotifyStartedFunc = func() { close(started) }
			go func() { _ = s.ActivateAndServe() }()
			<-started
			t.Cleanup(func() { _ = s.Shutdown() })
		}
		return f
	}
	t.Fatal("no port free for both UDP and TCP")
	return nil
}

// signedExAnswers answers for a two-zone chain ("." and "ex.") whose
// www.ex. A record is signed with sigA (nil: the zone's own signature).
func signedExAnswers(t *testing.T, f *chainFixture, a dns.RR, sigA *dns.RRSIG) func(q dns.Question) *dns.Msg {
	in, ex := f.valid()
	ds := f.ex.key.ToDS(dns.SHA256)
	if sigA == nil {
		sigA = f.ex.sign(t, []dns.RR{a}, in, ex)
	}
	sets := map[string][]dns.RR{
		". DNSKEY":   {f.root.key, f.root.sign(t, []dns.RR{f.root.key}, in, ex)},
		"ex. DS":     {ds, f.root.sign(t, []dns.RR{ds}, in, ex)},
		"ex. DNSKEY": {f.ex.key, f.ex.sign(t, []dns.RR{f.ex.key}, in, ex)},
		"www.ex. A":  {a, sigA},
	}
	return func(q dns.Question) *dns.Msg {
		m := new(dns.Msg)
		m.RecursionAvailable = true
		rrs, ok := sets[strings.ToLower(q.Name)+" "+TypeString(q.Qtype)]
		if !ok {
			m.Rcode = dns.RcodeServerFailure
		}
		m.Answer = rrs
		return m
	}
}

// TestValidateOrdinaryQueries: Validate asks through Client.Lookup with DO
// and CD set on every query, skips replies with a wrong ID, retries a
// truncated reply over TCP, and judges what it got.
func TestValidateOrdinaryQueries(t *testing.T) {
	f := newChain(t)
	a := mustRR("www.ex. 300 IN A 192.0.2.1")
	in, ex := f.valid()
	for _, c := range []struct {
		name    string
		sig     *dns.RRSIG
		verdict string
		code    string
	}{
		{"secure", nil, Secure, ""},
		{"signed by another key", newSigner(t, "ex.").sign(t, []dns.RR{a}, in, ex), Bogus, BogusNoKey},
	} {
		t.Run(c.name, func(t *testing.T) {
			fr := newFakeResolver(t, signedExAnswers(t, f, a, c.sig), func(q dns.Question) bool { return q.Qtype == dns.TypeA })
			s := Server{Transport: UDP, Host: "127.0.0.1", Port: fr.port}
			v := Validate(context.Background(), s, NewQuestion("www.ex.", dns.TypeA, dns.ClassINET),
				ValidateOptions{Anchors: f.anchors, Now: f.now, Query: Options{Timeout: 5 * time.Second}})
			if v.Verdict != c.verdict || v.Code != c.code {
				t.Fatalf("verdict %s %q (%s), want %s %q", v.Verdict, v.Code, v.Reason, c.verdict, c.code)
			}
			got := map[string]bool{}
			for _, q := range fr.queries() {
				if !q.cd || !q.do {
					t.Errorf("%s %s over %s: cd=%v do=%v, want both set", q.name, TypeString(q.qtype), q.network, q.cd, q.do)
				}
				got[q.name+" "+TypeString(q.qtype)+" "+q.network] = true
			}
			for _, want := range []string{"www.ex. A udp", "www.ex. A tcp", "ex. DS udp", "ex. DNSKEY udp", ". DNSKEY udp"} {
				if !got[want] {
					t.Errorf("no query %s; got %v", want, got)
				}
			}
		})
	}
}
