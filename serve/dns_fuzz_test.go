package serve

import (
	"bytes"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// FuzzDNSZone feeds arbitrary text to the zone loader: it must return a
// zone or an error, never panic, and a zone it accepts must be one the
// server can use (an SOA at the apex, every name inside it) and must survive
// a round trip through WriteTo.
func FuzzDNSZone(f *testing.F) {
	f.Add(dnsExampleReverse4)
	f.Add("$ORIGIN a.test.\n$TTL 60\n@ SOA ns h 1 2 3 4 5\n*.w A 127.0.0.1\nc CNAME c\n")
	f.Add("@ SOA ns h ( 1 2\n 3 4 5 )\n")
	f.Add("$GENERATE 1-3 host$ A 127.0.0.$\n")
	f.Add("$ORIGIN x.\n@ SOA . . 0 0 0 0 0\n\\000 TXT \"\\255\\\"\"\n")
	f.Fuzz(func(t *testing.T, text string) {
		if len(text) > 1<<16 {
			return
		}
		// A lower record cap than files get keeps $GENERATE from making
		// each run take seconds.
		z, err := dnsParseZone(dnsZoneSource{r: strings.NewReader(text), name: "fuzz"}, "", "fuzz", 5000)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error: %q", err)
			}
			return
		}
		if z.soa == nil || z.names[z.okey] != z.apex {
			t.Fatalf("zone %q without its apex or SOA", z.origin)
		}
		for name := range z.names {
			if !dnsKeyIsSub(z.okey, name) {
				t.Fatalf("name %q outside %q", name, z.origin)
			}
		}
		var b bytes.Buffer
		if _, err := z.WriteTo(&b); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzDNSHandle feeds arbitrary bytes to the request handler, as UDP and as
// TCP: no panic; fewer than 12 bytes or a response get no reply; anything
// else gets a reply that parses, carries the request's ID, fits the
// transport's size limit, and says FORMERR when the request did not parse.
func FuzzDNSHandle(f *testing.F) {
	seed := func(m *dns.Msg) []byte {
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	for _, q := range []struct {
		name  string
		qtype uint16
		edns  int
	}{
		{"www.example.test.", dns.TypeA, 1232},
		{"big.example.test.", dns.TypeTXT, 0},
		{"big.example.test.", dns.TypeTXT, 600},
		{"nope.example.test.", dns.TypeAAAA, 4096},
		{"example.test.", dns.TypeANY, 1232},
		{"outside.test.", dns.TypeA, 0},
		{"HoSt.ExAmPlE.tEsT.", dns.TypeMX, 512},
	} {
		f.Add(seed(dnsMsg(q.name, q.qtype, q.edns)), false)
	}
	nsid := dnsMsg("host.example.test.", dns.TypeA, 1232)
	nsid.IsEdns0().Option = append(nsid.IsEdns0().Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID})
	f.Add(seed(nsid), false)
	f.Add(seed(dnsMsg("big.example.test.", dns.TypeTXT, 0)), true)
	f.Add([]byte{0x12, 0x34, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0x0c, 0, 1, 0, 1}, false) // a pointer loop
	f.Add([]byte{0, 0, 0x28, 0, 0, 1, 0, 0, 0, 0, 0, 0}, false)                               // UPDATE, no question
	f.Add([]byte("garbage"), false)

	s, err := NewDNSServer(DNSOptions{Addr: "127.0.0.1:0", NSID: "fuzz"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in []byte, tcp bool) {
		if len(in) > dns.MaxMsgSize {
			return
		}
		out := make([]byte, dns.MaxMsgSize)
		reply, q := s.dnsHandle(in, tcp, out)
		if len(in) < 12 || in[2]&0x80 != 0 {
			if reply != nil || q.Dropped == "" {
				t.Fatalf("reply to a message that deserves none: %x", in)
			}
			return
		}
		if reply == nil {
			t.Fatalf("no reply (%s) to %x", q.Dropped, in)
		}
		r := new(dns.Msg)
		if err := r.Unpack(reply); err != nil {
			t.Fatalf("reply does not parse: %v\nin  %x\nout %x", err, in, reply)
		}
		req := new(dns.Msg)
		reqErr := req.Unpack(in)
		if r.Id != req.Id || !r.Response {
			t.Fatalf("reply id %d qr=%v to id %d", r.Id, r.Response, req.Id)
		}
		if reqErr != nil && r.Rcode != dns.RcodeFormatError {
			t.Fatalf("request does not parse (%v) but the reply says %s", reqErr, dns.RcodeToString[r.Rcode])
		}
		limit := dns.MaxMsgSize
		if !tcp {
			limit = dns.MinMsgSize
			if o := req.IsEdns0(); reqErr == nil && o != nil {
				limit = max(limit, min(int(o.UDPSize()), s.maxUDP))
			}
		}
		if len(reply) > limit {
			t.Fatalf("reply of %d bytes over a limit of %d", len(reply), limit)
		}
		if q.Size != len(reply) || q.Rcode != dns.RcodeToString[r.Rcode] && r.Rcode < 16 {
			t.Fatalf("log entry %+v does not match the reply", q)
		}
		// A UDP worker's cache answers the same bytes, the first time
		// (packed) and the second (copied), and logs the same.
		if !tcp {
			c := newDNSCache()
			want := append([]byte(nil), reply...)
			for i := 0; i < 2; i++ {
				got, cq := s.dnsServe(in, false, make([]byte, dns.MaxMsgSize), c)
				cq.Name, q.Name = "", ""
				if !bytes.Equal(got, want) || cq != q {
					t.Fatalf("from the cache (pass %d):\n%x\n%+v\nwant\n%x\n%+v", i, got, cq, want, q)
				}
			}
		}
	})
}
