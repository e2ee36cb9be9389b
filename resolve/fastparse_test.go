package resolve

import (
	"testing"
	"time"

	"github.com/miekg/dns"
)

// fastAndSlow reads reply b to "www.example.test. A IN" both ways.
func fastAndSlow(b []byte) (fast, slow *Result, fastOK, slowOK bool) {
	const name = "www.example.test."
	mk := func() *Result {
		r := newBatchResult(batchItem{name: name, qtype: dns.TypeA, class: dns.ClassINET}, Server{Transport: UDP, Host: "127.0.0.1", Port: 53}, time.Unix(1, 0).UTC())
		return r
	}
	if len(b) < 12 {
		return nil, nil, false, false
	}
	id := uint16(b[0])<<8 | uint16(b[1])
	fast, slow = mk(), mk()
	fastOK = fastParse(b, id, name, dns.TypeA, dns.ClassINET, fast, time.Millisecond)
	m := new(dns.Msg)
	if m.Unpack(b) == nil && answers(m, id, name, dns.TypeA, dns.ClassINET) && !m.Truncated {
		slowOK = true
		slow.fillWith(m, time.Millisecond, true)
	}
	return fast, slow, fastOK, slowOK
}

func fastSeeds(t testing.TB) [][]byte {
	var out [][]byte
	add := func(m *dns.Msg, compress bool) {
		m.Compress = compress
		b, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	rr := func(s string) dns.RR {
		x, err := dns.NewRR(s)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	base := func() *dns.Msg {
		q := new(dns.Msg)
		q.SetQuestion("www.example.test.", dns.TypeA)
		q.Id = 0x1234
		m := new(dns.Msg)
		m.SetReply(q)
		m.Authoritative = true
		return m
	}
	m := base()
	m.Answer = []dns.RR{rr("www.example.test. 300 IN CNAME web.example.test."), rr("web.example.test. 300 IN A 192.0.2.10")}
	m.Ns = []dns.RR{rr("example.test. 300 IN NS ns1.example.test.")}
	m.Extra = []dns.RR{rr("ns1.example.test. 300 IN A 127.0.0.1"), rr("ns1.example.test. 300 IN AAAA 2001:db8::53"), rr("example.test. 60 IN MX 10 mail.example.test."), rr("1.example.test. 60 IN PTR x.example.test.")}
	m.SetEdns0(1232, true)
	add(m, true)
	add(m.Copy(), false)
	m = base()
	m.Rcode = dns.RcodeNameError
	m.Ns = []dns.RR{rr("example.test. 300 IN SOA ns1.example.test. h.example.test. 1 2 3 4 5")}
	add(m, true)
	m = base()
	m.Answer = []dns.RR{rr("WWW.Example.TEST. 300 IN A 192.0.2.1")}
	add(m, true)
	m = base()
	m.Answer = []dns.RR{rr("www.example.test. 300 IN AAAA ::ffff:192.0.2.1"), rr(`www.example.test. 300 IN CNAME a\.b.example.`)}
	add(m, true)
	m = base()
	m.Rcode = dns.RcodeServerFailure
	m.RecursionAvailable, m.AuthenticatedData, m.CheckingDisabled = true, true, true
	add(m, true)
	return out
}

// Where the fast path reads a reply, it reads it exactly as miekg's path.
func TestFastParseMatchesMiekg(t *testing.T) {
	accepted := 0
	for i, b := range fastSeeds(t) {
		fast, slow, fastOK, slowOK := fastAndSlow(b)
		if fastOK {
			accepted++
			if !slowOK {
				t.Fatalf("seed %d: fast accepted what miekg rejects", i)
			}
			if f, s := string(fast.AppendJSON(nil)), string(slow.AppendJSON(nil)); f != s {
				t.Fatalf("seed %d:\nfast %s\nslow %s", i, f, s)
			}
		}
	}
	if accepted < 4 {
		t.Fatalf("the fast path read only %d seeds", accepted)
	}
}

func FuzzFastParse(f *testing.F) {
	for _, b := range fastSeeds(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fast, slow, fastOK, slowOK := fastAndSlow(b)
		if !fastOK {
			return
		}
		if !slowOK {
			t.Fatalf("fast accepted what miekg rejects: %x", b)
		}
		if fs, ss := string(fast.AppendJSON(nil)), string(slow.AppendJSON(nil)); fs != ss {
			t.Fatalf("differ on %x:\nfast %s\nslow %s", b, fs, ss)
		}
	})
}
