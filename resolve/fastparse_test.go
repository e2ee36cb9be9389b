package resolve

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"
	"unsafe"

	"github.com/miekg/dns"
)

// fastAndSlow reads reply b to "www.example.test. A IN" both ways.
func fastAndSlow(b []byte) (fast, slow *Result, fastOK, slowOK bool) {
	const name = "www.example.test."
	it := batchItem{name: name, qtype: dns.TypeA, class: dns.ClassINET}
	if len(b) < 12 {
		return nil, nil, false, false
	}
	id := uint16(b[0])<<8 | uint16(b[1])
	// The fast path reads into a recycled result, as the batch does: what
	// the last reply left in it must not show.
	// So does the socket's cache, which the used result's reply filled.
	cache := newInternCache()
	fast = startResult(usedResult(cache), it, "127.0.0.1:53", time.Unix(1, 0).UTC())
	slow = startResult(nil, it, "127.0.0.1:53", time.Unix(1, 0).UTC())
	fastOK = fastParse(b, id, name, dns.TypeA, dns.ClassINET, fast, time.Millisecond, cache)
	m := new(dns.Msg)
	if m.Unpack(b) == nil && answers(m, id, name, dns.TypeA, dns.ClassINET) && !m.Truncated {
		slowOK = true
		slow.fillWith(m, time.Millisecond, true)
	}
	return fast, slow, fastOK, slowOK
}

// usedResult is a result as the batch leaves it after Emit: filled from a
// reply with records in every section and an OPT record, then failed.
func usedResult(cache *internCache) *Result {
	m := new(dns.Msg)
	m.SetQuestion("other.example.test.", dns.TypeMX)
	m.Response, m.Authoritative = true, true
	for _, s := range []string{"other.example.test. 60 IN MX 10 mx.example.test.", "other.example.test. 60 IN MX 20 mx2.example.test."} {
		rr, _ := dns.NewRR(s)
		m.Answer = append(m.Answer, rr)
	}
	ns, _ := dns.NewRR("example.test. 60 IN NS ns.example.test.")
	glue, _ := dns.NewRR("mx.example.test. 60 IN A 192.0.2.7")
	m.Ns, m.Extra = []dns.RR{ns}, []dns.RR{glue}
	m.SetEdns0(1232, true)
	b, err := m.Pack()
	if err != nil {
		panic(err)
	}
	r := startResult(nil, batchItem{name: "other.example.test.", qtype: dns.TypeMX, class: dns.ClassINET}, "192.0.2.1:53", time.Unix(2, 0).UTC())
	if !fastParse(b, m.Id, "other.example.test.", dns.TypeMX, dns.ClassINET, r, time.Second, cache) || r.EDNS == nil || len(r.recs) != 4 {
		panic("the fast path did not read the used result's reply")
	}
	r.InputName, r.TCPFallback, r.Tries, r.Malformed = "other", true, 3, "bad"
	r.Fail(context.DeadlineExceeded)
	return r
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

// The socket's cache gives back, for any bytes, a string equal to them
// (whatever else hashed to the same slot), and the same string again for
// bytes it has just seen; a nil cache keeps nothing.
func TestInternCache(t *testing.T) {
	c := newInternCache()
	var nilCache *internCache
	for round := 0; round < 2; round++ {
		for i := 0; i < 4*internSlots; i++ {
			name := fmt.Sprintf("h%d.example.test.", i)
			if got := c.name([]byte(name)); got != name {
				t.Fatalf("name(%q) = %q", name, got)
			}
			if again := c.name([]byte(name)); unsafe.StringData(again) != unsafe.StringData(c.name([]byte(name))) || again != name {
				t.Fatalf("name(%q) twice: a new string each time", name)
			}
			v4 := []byte{192, 0, byte(i >> 8), byte(i)}
			v6 := net.ParseIP(fmt.Sprintf("2001:db8::c000:%x", i)) // its last four bytes may equal v4
			for _, b := range [][]byte{v4, v6} {
				want := net.IP(b).String()
				if got := c.addr(b); got != want {
					t.Fatalf("addr(%v) = %q, want %q", b, got, want)
				}
				first, second := c.addr(b), c.addr(b)
				if unsafe.StringData(first) != unsafe.StringData(second) {
					t.Fatalf("addr(%v) twice: a new string each time", b)
				}
				if got := nilCache.addr(b); got != want {
					t.Fatalf("nil cache: addr(%v) = %q", b, got)
				}
			}
			if got := nilCache.name([]byte(name)); got != name {
				t.Fatalf("nil cache: name(%q) = %q", name, got)
			}
		}
	}
}
