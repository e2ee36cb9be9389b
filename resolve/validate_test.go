package resolve

import (
	"crypto"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// A two-zone chain signed in-process ("." and "ex."), to test the chain
// logic without nsd or root: the namespace test does the same with
// dnssec-signzone.
type testSigner struct {
	key  *dns.DNSKEY
	priv crypto.Signer
}

func newSigner(t *testing.T, zone string) *testSigner {
	t.Helper()
	k := &dns.DNSKEY{Hdr: dns.RR_Header{Name: zone, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 300}, Flags: 257, Protocol: 3, Algorithm: dns.ECDSAP256SHA256}
	p, err := k.Generate(256)
	if err != nil {
		t.Fatal(err)
	}
	return &testSigner{key: k, priv: p.(crypto.Signer)}
}

func (s *testSigner) sign(t *testing.T, rrs []dns.RR, incep, exp time.Time) *dns.RRSIG {
	t.Helper()
	sig := &dns.RRSIG{Hdr: dns.RR_Header{Name: rrs[0].Header().Name, Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: 300},
		KeyTag: s.key.KeyTag(), SignerName: s.key.Hdr.Name, Algorithm: s.key.Algorithm,
		Inception: uint32(incep.Unix()), Expiration: uint32(exp.Unix())}
	if err := sig.Sign(s.priv, rrs); err != nil {
		t.Fatal(err)
	}
	return sig
}

type chainFixture struct {
	root, ex *testSigner
	anchors  []dns.RR
	now      time.Time
}

func newChain(t *testing.T) *chainFixture {
	f := &chainFixture{root: newSigner(t, "."), ex: newSigner(t, "ex."), now: time.Now()}
	f.anchors = []dns.RR{f.root.key.ToDS(dns.SHA256)}
	return f
}

func (f *chainFixture) valid() (time.Time, time.Time) {
	return f.now.Add(-time.Hour), f.now.Add(time.Hour)
}

// zones builds the chain: root DNSKEY, the DS of ex. in a referral (or
// ds when given), ex. DNSKEY.
func (f *chainFixture) zones(t *testing.T, ds []dns.RR) []chainZone {
	in, ex := f.valid()
	rootKeys := &dns.Msg{Answer: []dns.RR{f.root.key, f.root.sign(t, []dns.RR{f.root.key}, in, ex)}}
	if ds == nil {
		ds = []dns.RR{f.ex.key.ToDS(dns.SHA256)}
	}
	ref := &dns.Msg{Ns: append(append([]dns.RR{}, ds...), f.root.sign(t, ds, in, ex))}
	exKeys := &dns.Msg{Answer: []dns.RR{f.ex.key, f.ex.sign(t, []dns.RR{f.ex.key}, in, ex)}}
	return []chainZone{{zone: ".", keyMsg: rootKeys}, {zone: "ex.", dsMsg: ref, keyMsg: exKeys}}
}

func TestValidateChain(t *testing.T) {
	f := newChain(t)
	in, ex := f.valid()
	a := mustRR("www.ex. 300 IN A 192.0.2.1")
	answer := func(sig *dns.RRSIG) *dns.Msg {
		m := &dns.Msg{Answer: []dns.RR{a}}
		if sig != nil {
			m.Answer = append(m.Answer, sig)
		}
		return m
	}
	cases := []struct {
		name    string
		zones   []chainZone
		final   *dns.Msg
		verdict string
		code    string
	}{
		{"secure", f.zones(t, nil), answer(f.ex.sign(t, []dns.RR{a}, in, ex)), Secure, ""},
		{"expired", f.zones(t, nil), answer(f.ex.sign(t, []dns.RR{a}, in.Add(-48*time.Hour), in.Add(-24*time.Hour))), Bogus, BogusExpired},
		{"not yet valid", f.zones(t, nil), answer(f.ex.sign(t, []dns.RR{a}, ex.Add(time.Hour), ex.Add(2*time.Hour))), Bogus, BogusNotYetValid},
		{"missing rrsig", f.zones(t, nil), answer(nil), Bogus, BogusMissingRRSIG},
		{"signed by another key", f.zones(t, nil), answer(newSigner(t, "ex.").sign(t, []dns.RR{a}, in, ex)), Bogus, BogusNoKey},
		{"ds matches no key", f.zones(t, []dns.RR{newSigner(t, "ex.").key.ToDS(dns.SHA256)}), answer(f.ex.sign(t, []dns.RR{a}, in, ex)), Bogus, BogusDSNoKey},
	}
	for _, c := range cases {
		_, state, why := judgeAnswer(f.anchors, c.zones, c.final, "www.ex.", dns.TypeA, f.now)
		code := ""
		if why != nil {
			code = why.code
		}
		if state != c.verdict || code != c.code {
			t.Errorf("%s: %s %q (%v), want %s %q", c.name, state, code, why, c.verdict, c.code)
		}
	}
	// A tampered answer: the signature no longer verifies.
	sig := f.ex.sign(t, []dns.RR{a}, in, ex)
	bad := mustRR("www.ex. 300 IN A 192.0.2.99")
	_, state, why := judgeAnswer(f.anchors, f.zones(t, nil), &dns.Msg{Answer: []dns.RR{bad, sig}}, "www.ex.", dns.TypeA, f.now)
	if state != Bogus || why.code != BogusBadSignature {
		t.Errorf("tampered: %s %v", state, why)
	}
}

func TestValidateInsecureAndNegative(t *testing.T) {
	f := newChain(t)
	in, ex := f.valid()
	// No DS for ex., proven by a signed NSEC at ex. without DS: insecure.
	nsec := &dns.NSEC{Hdr: dns.RR_Header{Name: "ex.", Rrtype: dns.TypeNSEC, Class: dns.ClassINET, Ttl: 300}, NextDomain: "fx.", TypeBitMap: []uint16{dns.TypeNS, dns.TypeRRSIG, dns.TypeNSEC}}
	zones := f.zones(t, nil)
	zones[1].dsMsg = &dns.Msg{Ns: []dns.RR{nsec, f.root.sign(t, []dns.RR{nsec}, in, ex)}}
	_, state, why := judgeAnswer(f.anchors, zones, &dns.Msg{Answer: []dns.RR{mustRR("www.ex. 300 IN A 192.0.2.1")}}, "www.ex.", dns.TypeA, f.now)
	if state != Insecure {
		t.Errorf("insecure delegation: %s %v", state, why)
	}
	// The same without the proof: bogus, the insecurity proof failed.
	zones[1].dsMsg = &dns.Msg{}
	_, state, why = judgeAnswer(f.anchors, zones, &dns.Msg{}, "www.ex.", dns.TypeA, f.now)
	if state != Bogus || why.code != BogusNoDSProof {
		t.Errorf("no DS, no proof: %s %v", state, why)
	}

	// NXDOMAIN for nope.ex. with NSEC: one record covers the name, one the
	// wildcard; take either away and the proof fails.
	zones = f.zones(t, nil)
	soa := mustRR("ex. 300 IN SOA ns.ex. h.ex. 1 3600 600 86400 300")
	n1 := &dns.NSEC{Hdr: dns.RR_Header{Name: "ex.", Rrtype: dns.TypeNSEC, Class: dns.ClassINET, Ttl: 300}, NextDomain: "www.ex.", TypeBitMap: []uint16{dns.TypeSOA, dns.TypeNS}}
	nx := func(nsecs ...*dns.NSEC) *dns.Msg {
		m := &dns.Msg{Ns: []dns.RR{soa, f.ex.sign(t, []dns.RR{soa}, in, ex)}}
		m.Rcode = dns.RcodeNameError
		for _, n := range nsecs {
			m.Ns = append(m.Ns, n, f.ex.sign(t, []dns.RR{n}, in, ex))
		}
		return m
	}
	if _, state, why := judgeAnswer(f.anchors, zones, nx(n1), "nope.ex.", dns.TypeA, f.now); state != Secure {
		t.Errorf("NSEC NXDOMAIN: %s %v", state, why)
	}
	if _, state, why := judgeAnswer(f.anchors, zones, nx(), "nope.ex.", dns.TypeA, f.now); state != Bogus || why.code != BogusNSECProof {
		t.Errorf("no NSEC: %s %v", state, why)
	}
	n2 := &dns.NSEC{Hdr: dns.RR_Header{Name: "www.ex.", Rrtype: dns.TypeNSEC, Class: dns.ClassINET, Ttl: 300}, NextDomain: "ex.", TypeBitMap: []uint16{dns.TypeA}}
	if _, state, why := judgeAnswer(f.anchors, zones, nx(n2), "nope.ex.", dns.TypeA, f.now); state != Bogus || why.code != BogusNSECProof || !strings.Contains(why.msg, "nope.ex.") {
		t.Errorf("NSEC that covers nothing: %s %v", state, why)
	}
	// NODATA for www.ex. TXT: the NSEC at www.ex. has no TXT.
	nodata := nx(n2)
	nodata.Rcode = dns.RcodeSuccess
	if _, state, why := judgeAnswer(f.anchors, zones, nodata, "www.ex.", dns.TypeTXT, f.now); state != Secure {
		t.Errorf("NSEC NODATA: %s %v", state, why)
	}
	if _, state, why := judgeAnswer(f.anchors, zones, nodata, "www.ex.", dns.TypeA, f.now); state != Bogus {
		t.Errorf("NODATA for a type the NSEC lists: %s %v", state, why)
	}
}

// A positive answer expanded from *.wild.ex. (its RRSIG has 2 labels for a
// 3-label owner) needs a signed NSEC covering the name asked, or an NSEC3
// covering the next closer name; without one it is bogus.
func TestValidateWildcard(t *testing.T) {
	f := newChain(t)
	in, ex := f.valid()
	wild := mustRR("*.wild.ex. 300 IN A 192.0.2.9")
	sig := f.ex.sign(t, []dns.RR{wild}, in, ex)
	if sig.Labels != 2 {
		t.Fatalf("labels %d", sig.Labels)
	}
	expand := func(name string) (dns.RR, *dns.RRSIG) {
		a := dns.Copy(wild)
		a.Header().Name = name
		s := dns.Copy(sig).(*dns.RRSIG)
		s.Hdr.Name = name
		return a, s
	}
	a, asig := expand("a.wild.ex.")
	nsec := &dns.NSEC{Hdr: dns.RR_Header{Name: "*.wild.ex.", Rrtype: dns.TypeNSEC, Class: dns.ClassINET, Ttl: 300}, NextDomain: "www.ex.", TypeBitMap: []uint16{dns.TypeA, dns.TypeRRSIG, dns.TypeNSEC}}
	elsewhere := &dns.NSEC{Hdr: dns.RR_Header{Name: "www.ex.", Rrtype: dns.TypeNSEC, Class: dns.ClassINET, Ttl: 300}, NextDomain: "ex.", TypeBitMap: []uint16{dns.TypeA}}
	hash := func(name string) string { return dns.HashName(name, dns.SHA1, 0, "") }
	nsec3 := func(owner, next string) *dns.NSEC3 {
		return &dns.NSEC3{Hdr: dns.RR_Header{Name: strings.ToLower(owner) + ".ex.", Rrtype: dns.TypeNSEC3, Class: dns.ClassINET, Ttl: 300},
			Hash: dns.SHA1, Iterations: 0, SaltLength: 0, HashLength: 20, NextDomain: next, TypeBitMap: []uint16{dns.TypeA, dns.TypeRRSIG}}
	}
	// One NSEC3 covering every hash but the ends of the range: it covers
	// the next closer name a.wild.ex.; one matching it exactly does not.
	wide := nsec3("00000000000000000000000000000000", "VVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVV")
	exact := nsec3(hash("a.wild.ex."), "VVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVV")
	reply := func(proof ...dns.RR) *dns.Msg {
		m := &dns.Msg{Answer: []dns.RR{a, asig}}
		for _, p := range proof {
			m.Ns = append(m.Ns, p, f.ex.sign(t, []dns.RR{p}, in, ex))
		}
		return m
	}
	for _, c := range []struct {
		name   string
		final  *dns.Msg
		qname  string
		state  string
		reason string
	}{
		{"NSEC proof", reply(nsec), "a.wild.ex.", Secure, ""},
		{"NSEC3 proof", reply(wide), "a.wild.ex.", Secure, ""},
		{"no proof", reply(), "a.wild.ex.", Bogus, "wildcard answer a.wild.ex. A without a proof that a.wild.ex. does not exist"},
		{"NSEC covering another name", reply(elsewhere), "a.wild.ex.", Bogus, "without a proof that a.wild.ex. does not exist"},
		{"NSEC3 matching, not covering", reply(exact), "a.wild.ex.", Bogus, "without a proof that a.wild.ex. does not exist (no NSEC3 covers the next closer name)"},
		{"the wildcard asked by its own name", &dns.Msg{Answer: []dns.RR{wild, sig}}, "*.wild.ex.", Secure, ""},
	} {
		_, state, why := judgeAnswer(f.anchors, f.zones(t, nil), c.final, c.qname, dns.TypeA, f.now)
		if state != c.state || c.reason != "" && (why == nil || why.code != BogusNSECProof || !strings.Contains(why.msg, c.reason)) {
			t.Errorf("%s: %s %v, want %s %q", c.name, state, why, c.state, c.reason)
		}
	}
	// Two labels below the wildcard's parent: the next closer name is
	// b.wild.ex., not the owner.
	deep, dsig := expand("a.b.wild.ex.")
	m := &dns.Msg{Answer: []dns.RR{deep, dsig}}
	for _, p := range []dns.RR{nsec3(hash("b.wild.ex."), "VVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVV")} {
		m.Ns = append(m.Ns, p, f.ex.sign(t, []dns.RR{p}, in, ex))
	}
	if _, state, why := judgeAnswer(f.anchors, f.zones(t, nil), m, "a.b.wild.ex.", dns.TypeA, f.now); state != Bogus || !strings.Contains(why.msg, "that b.wild.ex. does not exist") {
		t.Errorf("deep expansion, NSEC3 matching the next closer name: %s %v", state, why)
	}
	m.Ns = []dns.RR{wide, f.ex.sign(t, []dns.RR{wide}, in, ex)}
	if _, state, why := judgeAnswer(f.anchors, f.zones(t, nil), m, "a.b.wild.ex.", dns.TypeA, f.now); state != Secure {
		t.Errorf("deep expansion with its proof: %s %v", state, why)
	}

	// Wildcard NODATA: a.wild.ex. TXT. With NSEC, the NSEC at *.wild.ex.
	// covers a.wild.ex. and shows the wildcard has no TXT (RFC 4035
	// 3.1.3.4); with NSEC3, the closest encloser wild.ex. matched, the
	// next closer name covered, the wildcard matched without TXT (RFC
	// 5155 8.7).
	soa := mustRR("ex. 300 IN SOA ns.ex. h.ex. 1 3600 600 86400 300")
	nodata := func(proof ...dns.RR) *dns.Msg {
		m := &dns.Msg{Ns: []dns.RR{soa, f.ex.sign(t, []dns.RR{soa}, in, ex)}}
		for _, p := range proof {
			m.Ns = append(m.Ns, p, f.ex.sign(t, []dns.RR{p}, in, ex))
		}
		return m
	}
	ceMatch := nsec3(hash("wild.ex."), hash("wild.ex.")) // matches wild.ex. only
	ceMatch.TypeBitMap = nil
	wildMatch := nsec3(hash("*.wild.ex."), hash("*.wild.ex."))
	for _, c := range []struct {
		name   string
		final  *dns.Msg
		qtype  uint16
		state  string
		reason string
	}{
		{"NSEC wildcard NODATA", nodata(nsec), dns.TypeTXT, Secure, ""},
		{"NSEC wildcard that has the type", nodata(nsec), dns.TypeA, Bogus, "the NSEC at the wildcard *.wild.ex. lists A"},
		{"NSEC covering, no wildcard NSEC", nodata(&dns.NSEC{Hdr: dns.RR_Header{Name: "ex.", Rrtype: dns.TypeNSEC, Class: dns.ClassINET, Ttl: 300}, NextDomain: "www.ex.", TypeBitMap: []uint16{dns.TypeSOA}}), dns.TypeTXT, Bogus, "none matches the wildcard *.ex."}, // wild.ex. is covered too: the closest encloser is ex.
		{"NSEC3 wildcard NODATA", nodata(ceMatch, wide, wildMatch), dns.TypeTXT, Secure, ""},
		{"NSEC3 wildcard that has the type", nodata(ceMatch, wide, wildMatch), dns.TypeA, Bogus, "the NSEC3 matching the wildcard *.wild.ex. lists A"},
		{"NSEC3 without the wildcard", nodata(ceMatch, wide), dns.TypeTXT, Bogus, "nor the wildcard *.wild.ex."},
		{"NSEC3 without the closest encloser", nodata(wide, wildMatch), dns.TypeTXT, Bogus, "no NSEC3 matches a.wild.ex."},
	} {
		_, state, why := judgeAnswer(f.anchors, f.zones(t, nil), c.final, "a.wild.ex.", c.qtype, f.now)
		if state != c.state || c.reason != "" && (why == nil || why.code != BogusNSECProof || !strings.Contains(why.msg, c.reason)) {
			t.Errorf("%s: %s %v, want %s %q", c.name, state, why, c.state, c.reason)
		}
	}

	// NXDOMAIN (RFC 4035 5.4): an NSEC covers the name and one covers the
	// wildcard at its closest encloser. The wildcard's own NSEC shows that
	// it exists, so the name would have been synthesised from it: such an
	// NXDOMAIN is bogus, whatever types the wildcard has.
	apex := &dns.NSEC{Hdr: dns.RR_Header{Name: "ex.", Rrtype: dns.TypeNSEC, Class: dns.ClassINET, Ttl: 300}, NextDomain: "*.wild.ex.", TypeBitMap: []uint16{dns.TypeSOA, dns.TypeNS}}
	nxdomain := func(proof ...dns.RR) *dns.Msg {
		m := nodata(proof...)
		m.Rcode = dns.RcodeNameError
		return m
	}
	for _, c := range []struct {
		name, qname   string
		final         *dns.Msg
		state, reason string
	}{
		{"NXDOMAIN proven", "zz.ex.", nxdomain(elsewhere, apex), Secure, ""},
		{"NXDOMAIN without the wildcard's proof", "zz.ex.", nxdomain(elsewhere), Bogus, "no NSEC proves that *.ex. does not exist"},
		{"NXDOMAIN under an existing wildcard", "a.wild.ex.", nxdomain(nsec), Bogus, "no NSEC proves that *.wild.ex. does not exist"},
	} {
		_, state, why := judgeAnswer(f.anchors, f.zones(t, nil), c.final, c.qname, dns.TypeTXT, f.now)
		if state != c.state || c.reason != "" && (why == nil || why.code != BogusNSECProof || !strings.Contains(why.msg, c.reason)) {
			t.Errorf("%s: %s %v, want %s %q", c.name, state, why, c.state, c.reason)
		}
	}
}
