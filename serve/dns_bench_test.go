package serve

import (
	"testing"

	"github.com/miekg/dns"
)

// BenchmarkDNSHandle measures the request handler alone (parse, look up,
// pack) for a CNAME chase to an A record with EDNS, the common query.
func BenchmarkDNSHandle(b *testing.B) {
	s, err := NewDNSServer(DNSOptions{})
	if err != nil {
		b.Fatal(err)
	}
	in, err := dnsMsg("www.example.test.", dns.TypeA, 1232).Pack()
	if err != nil {
		b.Fatal(err)
	}
	out := make([]byte, dns.MaxMsgSize)
	b.ReportAllocs()
	for b.Loop() {
		if r, _ := s.dnsHandle(in, false, out); r == nil {
			b.Fatal("no reply")
		}
	}
}

// BenchmarkDNSServe is the same query as a UDP worker answers it: from its
// cache of packed replies after the first time.
func BenchmarkDNSServe(b *testing.B) {
	s, err := NewDNSServer(DNSOptions{})
	if err != nil {
		b.Fatal(err)
	}
	in, err := dnsMsg("www.example.test.", dns.TypeA, 1232).Pack()
	if err != nil {
		b.Fatal(err)
	}
	out := make([]byte, dns.MaxMsgSize)
	c := newDNSCache()
	b.ReportAllocs()
	for b.Loop() {
		if r, _ := s.dnsServe(in, false, out, c); r == nil {
			b.Fatal("no reply")
		}
	}
}
