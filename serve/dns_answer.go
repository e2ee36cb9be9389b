package serve

import (
	"crypto/sha1"
	"encoding/base32"
	"encoding/hex"
	"sort"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// dnsMaxChain bounds CNAME chasing inside the served zones.
const dnsMaxChain = 12

// dnsHandle turns one received message into the reply bytes (packed into
// out when it is long enough, else into a new slice), or nil when no reply is due: fewer than 12 bytes (no header to
// answer) or a message that is itself a response. Everything else gets an
// answer: FORMERR for what does not parse, NOTIMP for opcodes other than
// QUERY, REFUSED for names outside the zones, and the zone's data otherwise.
// A UDP reply never exceeds the client's size (512 bytes without EDNS);
// when the answer does not fit, it is sent empty with TC set.
func (s *DNSServer) dnsHandle(in []byte, tcp bool, out []byte) ([]byte, DNSQuery) {
	var q DNSQuery
	if len(in) < 12 {
		q.Dropped = "short"
		return nil, q
	}
	if in[2]&0x80 != 0 { // QR: a response; answering it could start a loop
		q.Dropped = "response"
		q.ID = uint16(in[0])<<8 | uint16(in[1])
		return nil, q
	}
	req := new(dns.Msg)
	err := req.Unpack(in)
	q.ID = req.Id
	resp := new(dns.Msg)
	resp.Id = req.Id
	resp.Response = true
	resp.Opcode = req.Opcode
	resp.RecursionDesired = req.RecursionDesired
	resp.CheckingDisabled = req.CheckingDisabled
	resp.Compress = true
	if err == nil && len(req.Question) == 1 {
		resp.Question = req.Question
		qq := req.Question[0]
		q.Name = qq.Name
		q.Type = dnsTypeName(qq.Qtype)
		q.Class = dnsClassName(qq.Qclass)
	}
	limit := dns.MaxMsgSize
	if !tcp {
		limit = dns.MinMsgSize
	}
	var opt *dns.OPT
	var units []dnsUnit
	switch {
	case err != nil:
		resp.Rcode = dns.RcodeFormatError
	case req.Opcode != dns.OpcodeQuery:
		resp.Rcode = dns.RcodeNotImplemented
	case len(req.Question) != 1:
		resp.Rcode = dns.RcodeFormatError
	default:
		var bad bool
		opt, bad = dnsRequestOPT(req)
		if bad {
			resp.Rcode = dns.RcodeFormatError
			opt = nil
			break
		}
		if opt != nil {
			q.EDNS = true
			q.UDPSize = int(opt.UDPSize())
			q.DO = opt.Do()
			if !tcp {
				limit = min(max(int(opt.UDPSize()), dns.MinMsgSize), s.maxUDP)
			}
			for _, o := range opt.Option {
				if o.Option() == dns.EDNS0NSID {
					q.NSID = true
				}
			}
			if opt.Version() != 0 {
				resp.Rcode = dns.RcodeBadVers
				break
			}
		}
		units = s.dnsAnswer(resp, req.Question[0], opt != nil && opt.Do())
	}
	if opt != nil {
		ro := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
		ro.SetUDPSize(uint16(s.maxUDP))
		if opt.Do() {
			ro.SetDo()
		}
		if q.NSID && s.nsid != "" {
			ro.Option = append(ro.Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID, Nsid: s.nsid})
		}
		resp.Extra = append(resp.Extra, ro)
	}
	dnsFill(resp, units, -1)
	reply, err := resp.PackBuffer(out)
	if err == nil && len(reply) > limit {
		// Too big: put in what fits, RRset by RRset in the order nsd
		// does; a record of the answer or authority section that does not
		// fit sets TC and ends the reply there (RFC 2181 9: no partial
		// RRsets), the optional ones (the zone's NS, the additional
		// addresses) are left out.
		reply, err = s.dnsFit(resp, units, limit, out)
	}
	if err != nil {
		// Nothing in the zones should fail to pack; answer SERVFAIL rather
		// than stay silent.
		fail := new(dns.Msg)
		fail.Id, fail.Response, fail.Opcode = req.Id, true, req.Opcode
		fail.Rcode = dns.RcodeServerFailure
		fail.Question = resp.Question
		if reply, err = fail.PackBuffer(out); err != nil {
			q.Dropped = "pack"
			return nil, q
		}
		resp = fail
	}
	q.rcode = resp.Rcode
	q.Rcode = dnsRcodeName(resp.Rcode)
	q.Answers = len(resp.Answer)
	q.Size = len(reply)
	q.Truncated = resp.Truncated
	return reply, q
}

// dnsRequestOPT returns the query's OPT record; bad is true when the OPT
// breaks RFC 6891 (more than one, or not owned by the root).
func dnsRequestOPT(req *dns.Msg) (opt *dns.OPT, bad bool) {
	for _, rr := range req.Extra {
		if o, ok := rr.(*dns.OPT); ok {
			if opt != nil || o.Hdr.Name != "." {
				return nil, true
			}
			opt = o
		}
	}
	return opt, false
}

func dnsOnlyOPT(extra []dns.RR) []dns.RR {
	var out []dns.RR
	for _, rr := range extra {
		if rr.Header().Rrtype == dns.TypeOPT {
			out = append(out, rr)
		}
	}
	return out
}

// dnsFill puts the first n units (all when n < 0) into resp's sections,
// after the question and before the OPT record.
func dnsFill(resp *dns.Msg, units []dnsUnit, n int) {
	opt := dnsOnlyOPT(resp.Extra)
	resp.Answer, resp.Ns, resp.Extra = resp.Answer[:0], resp.Ns[:0], resp.Extra[:0]
	for sec := 0; sec < dnsSecCount; sec++ {
		for i, u := range units {
			if n >= 0 && i >= n {
				break
			}
			if u.sec != sec {
				continue
			}
			switch {
			case sec == dnsSecAnswer:
				resp.Answer = append(resp.Answer, u.rrs...)
			case sec <= dnsSecOptional:
				resp.Ns = append(resp.Ns, u.rrs...)
			default:
				resp.Extra = append(resp.Extra, u.rrs...)
			}
		}
	}
	resp.Extra = append(resp.Extra, opt...)
}

// dnsFit packs the reply with the units that fit in limit bytes.
func (s *DNSServer) dnsFit(resp *dns.Msg, units []dnsUnit, limit int, out []byte) ([]byte, error) {
	// The units in the order they go in the message.
	order := make([]dnsUnit, 0, len(units))
	for sec := 0; sec < dnsSecCount; sec++ {
		for _, u := range units {
			if u.sec == sec {
				order = append(order, u)
			}
		}
	}
	kept := order[:0:0]
	for _, u := range order {
		try := append(kept, u)
		dnsFill(resp, try, -1)
		if b, err := resp.PackBuffer(out); err == nil && len(b) <= limit {
			kept = try
			continue
		}
		// What does not fit ends the reply: with TC when it is needed
		// (answer, authority), without when it is optional (nsd stops
		// there too).
		if u.sec < dnsSecOptional {
			resp.Truncated = true
		}
		break
	}
	dnsFill(resp, kept, -1)
	reply, err := resp.PackBuffer(out)
	if err == nil && len(reply) > limit {
		resp.Truncated = true
		dnsFill(resp, nil, -1)
		reply, err = resp.PackBuffer(out)
	}
	return reply, err
}

// dnsFindZone returns the served zone that holds the name with key k: the
// one with the longest origin.
func (s *DNSServer) dnsFindZone(k string) *DNSZone {
	for ; k != ""; k = dnsKeyParent(k) {
		if z := s.zkeys[k]; z != nil {
			return z
		}
	}
	return nil
}

// dnsAnswerer builds the answer to one question, as nsd does (RFC 1034
// 4.3.2, RFC 4035 3.1 and RFC 5155 7.2 for DNSSEC, RFC 6672 for DNAME).
type dnsAnswerer struct {
	s      *DNSServer
	resp   *dns.Msg
	do     bool // DNSSEC OK: RRSIGs and proofs from signed zones
	qtype  uint16
	qclass uint16
	cnames int        // CNAMEs and DNAMEs followed
	added  []dnsAdded // the RRsets in the message, each goes in once
	units  []dnsUnit  // what goes in the message, in the order it was found
}

// dnsUnit is one RRset (with its RRSIGs) for one section of the reply:
// the unit a reply that does not fit is cut by.
type dnsUnit struct {
	sec int
	rrs []dns.RR
}

// The sections of a reply, in the order they are filled (as nsd fills
// them): what comes after dnsSecOptional may be left out of a reply that
// does not fit without setting TC.
const (
	dnsSecAnswer    = iota
	dnsSecAuthority // the referral, the SOA and the proofs
	dnsSecOptional  // the zone's NS after a positive answer
	dnsSecAddA      // additional A records
	dnsSecAddAAAA   // additional AAAA records
	dnsSecCount
)

type dnsAdded struct {
	set   *dnsRRset
	owner string // key of the owner when it is not the set's own (wildcards)
}

// dnsAnswer answers one question from the zones: it sets resp's rcode and
// AA and returns the records, by section, in the order they are to be put
// in.
func (s *DNSServer) dnsAnswer(resp *dns.Msg, question dns.Question, do bool) []dnsUnit {
	if question.Qclass != dns.ClassINET && question.Qclass != dns.ClassANY {
		resp.Rcode = dns.RcodeRefused
		return nil
	}
	switch question.Qtype {
	case dns.TypeAXFR, dns.TypeIXFR:
		// No zone transfers from this server.
		resp.Rcode = dns.RcodeRefused
		return nil
	}
	key := dnsKey(question.Name)
	if key == "" {
		resp.Rcode = dns.RcodeFormatError
		return nil
	}
	a := dnsAnswerer{s: s, resp: resp, do: do, qtype: question.Qtype, qclass: question.Qclass}
	a.lookup(key, question.Name, 0)
	return a.units
}

// lookup answers for the name with key k (presentation name), the question
// or, at step > 0, the target of a CNAME or DNAME.
func (a *dnsAnswerer) lookup(k, name string, step int) {
	if step > dnsMaxChain {
		return
	}
	z := a.s.dnsFindZone(k)
	if z == nil {
		if step == 0 {
			a.resp.Rcode = dns.RcodeRefused
		}
		return
	}
	node, ce := z.find(k)
	if node != nil && a.qtype == dns.TypeDS && node == z.apex {
		// DS is the parent's data (RFC 4035 3.1.4.1): answer from the
		// parent zone when it is served here.
		if pz := a.s.dnsFindZone(dnsKeyParent(z.okey)); pz != nil {
			z = pz
			node, ce = z.find(k)
		} else {
			a.setAA()
			a.nodata(z, node)
			return
		}
	}
	if cut := z.cutAbove(ce); cut != nil && z.dnameAbove(cut) == nil &&
		!(node == cut && a.qtype == dns.TypeDS) {
		a.referral(z, cut, step)
		return
	}
	a.setAA()
	a.authoritative(z, k, name, node, ce, step)
}

func (a *dnsAnswerer) setAA() {
	a.resp.Authoritative = a.qclass != dns.ClassANY
}

// find returns the node of k (nil when the name does not exist) and the
// closest encloser: k's node or its nearest existing ancestor.
func (z *DNSZone) find(k string) (node, ce *dnsNode) {
	if n := z.names[k]; n != nil {
		return n, n
	}
	for p := dnsKeyParent(k); p != ""; p = dnsKeyParent(p) {
		if n := z.names[p]; n != nil {
			return nil, n
		}
		if p == z.okey {
			break
		}
	}
	return nil, z.apex
}

// cutAbove returns the highest delegation point at or above n, nil when n
// is in the zone proper.
func (z *DNSZone) cutAbove(n *dnsNode) *dnsNode {
	var cut *dnsNode
	for k := n.key; k != "" && k != z.okey; k = dnsKeyParent(k) {
		if m := z.names[k]; m != nil && m.cut {
			cut = m
		}
	}
	return cut
}

// dnameAbove returns the highest node strictly above n (the apex included)
// with a DNAME: the names below it are occluded.
func (z *DNSZone) dnameAbove(n *dnsNode) *dnsNode {
	var d *dnsNode
	if n == z.apex {
		return nil
	}
	for k := dnsKeyParent(n.key); k != ""; k = dnsKeyParent(k) {
		if m := z.names[k]; m != nil && m.set(dns.TypeDNAME) != nil {
			d = m
		}
		if k == z.okey {
			break
		}
	}
	return d
}

// referral answers with the delegation at cut: its NS records and glue,
// with DO in a signed zone its DS or the proof that it has none.
func (a *dnsAnswerer) referral(z *DNSZone, cut *dnsNode, step int) {
	a.resp.Authoritative = step > 0 && a.qclass != dns.ClassANY
	a.add(z, dnsSecAuthority, cut.set(dns.TypeNS), "", "")
	if !a.do || !z.signed {
		return
	}
	if ds := cut.set(dns.TypeDS); ds != nil {
		a.add(z, dnsSecAuthority, ds, "", "")
	} else if z.param != nil {
		a.nsec3DSProof(z, cut.key)
	} else if nsec := cut.set(dns.TypeNSEC); nsec != nil {
		a.add(z, dnsSecAuthority, nsec, "", "")
	}
}

// authoritative answers from the zone's own data: node is the name's node
// (nil when it does not exist), ce the closest encloser.
func (a *dnsAnswerer) authoritative(z *DNSZone, k, name string, node, ce *dnsNode, step int) {
	if d := z.dnameAbove(ce); d != nil {
		ce, node = d, nil // occluded by the DNAME
	}
	var match, original *dnsNode
	owner, ownerKey := "", ""
	switch {
	case node != nil:
		match, original = node, node
	case ce.set(dns.TypeDNAME) != nil:
		a.dname(z, k, name, ce, step)
		return
	default:
		if wc := z.names["\x01*"+ce.key]; wc != nil {
			match, original = wc, wc
			owner, ownerKey = name, k
			if a.do && z.param != nil {
				a.nsec3Cover(z, dnsNextCloser(k, ce.key))
			}
		}
	}
	if a.do && z.signed {
		if z.param != nil {
			switch {
			case match == nil:
				// NXDOMAIN, in nsd's order: the next closer's cover, the
				// closest encloser's match (none for an empty
				// non-terminal that opt-out left without an NSEC3), the
				// wildcard's cover.
				a.nsec3Cover(z, dnsNextCloser(k, ce.key))
				a.nsec3Match(z, ce.key)
				a.nsec3Cover(z, "\x01*"+ce.key)
			case match == node && len(node.sets) == 0:
				// An empty non-terminal: nsd puts its proof before the SOA.
				a.nsec3Nodata(z, node)
			}
		} else {
			if match != node || node == nil {
				a.nsecCover(z, k)
			}
			if match == nil {
				a.nsecCover(z, "\x01*"+ce.key)
			}
		}
	}
	if match == nil {
		a.resp.Rcode = dns.RcodeNameError
		a.soa(z)
		return
	}
	a.domain(z, match, original, owner, ownerKey, step)
}

// dname answers for a name below the DNAME at src (RFC 6672 3.1): the
// DNAME, a CNAME from the name to its substitute, then the substitute's
// own answer.
func (a *dnsAnswerer) dname(z *DNSZone, k, name string, src *dnsNode, step int) {
	set := src.set(dns.TypeDNAME)
	d := set.rrs[0].(*dns.DNAME)
	tkey := dnsKey(d.Target)
	if !a.add(z, dnsSecAnswer, set, "", "") && dnsKeyIsSub(src.key, tkey) {
		return // the DNAME again: a loop
	}
	a.cnames++
	wire, err := dnsWire(name)
	twire, err2 := dnsWire(d.Target)
	if err != nil || err2 != nil || tkey == "" {
		return
	}
	newWire := append(wire[:len(wire)-len(src.key):len(wire)-len(src.key)], twire...)
	if len(newWire) > dnsMaxWireName {
		a.resp.Rcode = dns.RcodeYXDomain // RFC 6672 2.2
		return
	}
	newName, _, err := dns.UnpackDomainName(newWire, 0)
	if err != nil {
		return
	}
	for _, u := range a.units {
		if c, ok := u.rrs[0].(*dns.CNAME); ok && u.sec == dnsSecAnswer && len(u.rrs) == 1 && dnsKey(c.Hdr.Name) == k && dnsKey(c.Target) == dnsKey(newName) {
			return // synthesised before: a loop
		}
	}
	a.units = append(a.units, dnsUnit{dnsSecAnswer, []dns.RR{&dns.CNAME{
		Hdr:    dns.RR_Header{Name: name, Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: d.Hdr.Ttl},
		Target: newName,
	}}})
	if a.qtype == dns.TypeCNAME {
		return // the synthesised CNAME is the answer
	}
	dnsLowerWire(newWire)
	a.lookup(string(newWire), newName, step+1)
}

// dnsWire is the wire form of a presentation name, case kept.
func dnsWire(name string) ([]byte, error) {
	var buf [dnsMaxWireName + 64]byte
	off, err := dns.PackDomainName(dns.Fqdn(name), buf[:], 0, nil, false)
	if err != nil {
		return nil, err
	}
	if off > dnsMaxWireName {
		return nil, errDNSLongName
	}
	return append([]byte(nil), buf[:off]...), nil
}

// dnsNextCloser is the ancestor of k one label below the closest encloser
// ce (RFC 5155 1.3).
func dnsNextCloser(k, ce string) string {
	want := dnsKeyLabels(ce) + 1
	for dnsKeyLabels(k) > want {
		k = dnsKeyParent(k)
	}
	return k
}

// domain answers from an existing node (or a wildcard, then owner is the
// name asked and original the wildcard's node).
func (a *dnsAnswerer) domain(z *DNSZone, n, original *dnsNode, owner, ownerKey string, step int) {
	switch {
	case a.qtype == dns.TypeANY:
		if set := a.anySet(z, n); set != nil {
			a.add(z, dnsSecAnswer, set, owner, ownerKey)
			return
		}
		a.nodata(z, original)
		return
	case a.qtype == dns.TypeNSEC3:
		a.nodata(z, original)
		return
	case a.qtype == dns.TypeRRSIG && len(n.sigs) > 0:
		a.units = append(a.units, dnsUnit{dnsSecAnswer, dnsOwned(n.sigs, owner)})
	case n.set(a.qtype) != nil:
		a.add(z, dnsSecAnswer, n.set(a.qtype), owner, ownerKey)
	case n.set(dns.TypeCNAME) != nil:
		set := n.set(dns.TypeCNAME)
		if a.add(z, dnsSecAnswer, set, owner, ownerKey) {
			a.cnames++
			target := set.rrs[0].(*dns.CNAME).Target
			if tk := dnsKey(target); tk != "" {
				a.lookup(tk, target, step+1)
			}
		}
		return
	default:
		a.nodata(z, original)
		return
	}
	if a.qclass != dns.ClassANY && a.qtype != dns.TypeDNSKEY && a.qtype != dns.TypeDS {
		a.add(z, dnsSecOptional, z.apex.set(dns.TypeNS), "", "")
	}
}

// anySet picks the one RRset an ANY query gets (RFC 8482 4.1), as nsd
// does: the first A, AAAA, SOA, MX or PTR in zone-file order, else the
// first other type, else DNSKEY, RRSIG or NSEC.
func (a *dnsAnswerer) anySet(z *DNSZone, n *dnsNode) *dnsRRset {
	var normal, other *dnsRRset
	for _, s := range n.sets {
		if len(s.rrs) == 0 {
			continue
		}
		switch s.t {
		case dns.TypeA, dns.TypeAAAA, dns.TypeSOA, dns.TypeMX, dns.TypePTR:
			return s
		case dns.TypeDNSKEY, dns.TypeNSEC:
			if other == nil {
				other = s
			}
		case dns.TypeNSEC3:
		default:
			if normal == nil {
				normal = s
			}
		}
	}
	if normal != nil {
		return normal
	}
	return other
}

// nodata answers that the name exists without the type asked: the SOA,
// and with DO in a signed zone the NSEC or NSEC3 that proves it (for a
// wildcard, original is the wildcard's node).
func (a *dnsAnswerer) nodata(z *DNSZone, original *dnsNode) {
	a.soa(z)
	if !a.do || !z.signed {
		return
	}
	if z.param == nil {
		a.nsecBefore(z, original.idx)
		return
	}
	a.nsec3Nodata(z, original)
}

// nsec3Nodata adds the NSEC3 proof that original has no records of the
// type asked (RFC 5155 7.2.3-7.2.5), as nsd makes it.
func (a *dnsAnswerer) nsec3Nodata(z *DNSZone, original *dnsNode) {
	if a.qtype == dns.TypeDS {
		if original == z.apex {
			a.nsec3Match(z, original.key)
			return
		}
		a.nsec3DSProof(z, original.key)
		return
	}
	if first := dnsFirstLabel(original.key); first == "*" && original != z.apex {
		// Wildcard NODATA (RFC 5155 7.2.5): the closest encloser and the
		// wildcard.
		a.nsec3Match(z, dnsKeyParent(original.key))
		a.nsec3Match(z, original.key)
		return
	}
	if !a.nsec3Match(z, original.key) {
		// No NSEC3 for the name (opt-out, RFC 5155 7.2.4): the closest
		// provable encloser.
		a.nsec3Encloser(z, original.key)
	}
}

// nsec3DSProof adds the proof that the name k has no DS (RFC 5155 7.2.4,
// 7.2.7): its NSEC3, or with opt-out the closest provable encloser's, the
// cover of the next closer name and the cover of k itself (nsd's order).
func (a *dnsAnswerer) nsec3DSProof(z *DNSZone, k string) {
	if a.nsec3Match(z, k) {
		return
	}
	for p := dnsKeyParent(k); p != ""; p = dnsKeyParent(p) {
		if a.nsec3Match(z, p) {
			if nc := dnsNextCloser(k, p); nc != k {
				a.nsec3Cover(z, nc)
			}
			// nsd adds k's own cover only for a delegation point, and not
			// when the cover is the last NSEC3 wrapping around to the
			// first (k's hash before the first NSEC3): so does this.
			if n := z.names[k]; n != nil && (n.cut || n.set(dns.TypeDS) != nil) && len(z.nsec3) > 0 &&
				dnsKeyCompare(z.nsec3Key(k), z.nsec3[0].key) > 0 {
				a.nsec3Cover(z, k)
			}
			return
		}
		if p == z.okey {
			return
		}
	}
}

func dnsFirstLabel(k string) string {
	if len(k) < 1 || k[0] == 0 {
		return ""
	}
	return k[1 : 1+int(k[0])]
}

// soa adds the zone's SOA for a negative answer.
func (a *dnsAnswerer) soa(z *DNSZone) {
	if a.qclass == dns.ClassANY {
		return
	}
	a.add(z, dnsSecAuthority, z.nxSOA, "", "")
}

// nsecCover adds the NSEC that covers the name k: the one of the last name
// before it in canonical order that has one.
func (a *dnsAnswerer) nsecCover(z *DNSZone, k string) {
	i := sort.Search(len(z.sorted), func(i int) bool { return dnsKeyCompare(z.sorted[i].key, k) > 0 })
	a.nsecBefore(z, i-1)
}

// nsecBefore adds the NSEC of the node at index i of the canonical order,
// or of the nearest one before it that has an NSEC.
func (a *dnsAnswerer) nsecBefore(z *DNSZone, i int) {
	for ; i >= 0; i-- {
		if s := z.sorted[i].set(dns.TypeNSEC); s != nil {
			a.add(z, dnsSecAuthority, s, "", "")
			return
		}
	}
}

// nsec3Key is the key of the NSEC3 owner for the name k.
func (z *DNSZone) nsec3Key(k string) string {
	salt, _ := hex.DecodeString(z.param.Salt)
	if z.param.Salt == "-" {
		salt = nil
	}
	h := sha1.New()
	h.Write([]byte(k))
	h.Write(salt)
	d := h.Sum(nil)
	for i := 0; i < int(z.param.Iterations); i++ {
		h.Reset()
		h.Write(d)
		h.Write(salt)
		d = h.Sum(d[:0])
	}
	label := strings.ToLower(base32.HexEncoding.WithPadding(base32.NoPadding).EncodeToString(d))
	return string(rune(len(label))) + label + z.okey
}

// nsec3Match adds the NSEC3 that matches the name k; false when there is
// none.
func (a *dnsAnswerer) nsec3Match(z *DNSZone, k string) bool {
	n := z.n3keys[z.nsec3Key(k)]
	if n == nil {
		return false
	}
	a.add(z, dnsSecAuthority, n.set(dns.TypeNSEC3), "", "")
	return true
}

// nsec3Cover adds the NSEC3 that covers the name k: the last one before
// its hash, or the last of all when the hash comes first.
func (a *dnsAnswerer) nsec3Cover(z *DNSZone, k string) {
	if len(z.nsec3) == 0 {
		return
	}
	h := z.nsec3Key(k)
	i := sort.Search(len(z.nsec3), func(i int) bool { return dnsKeyCompare(z.nsec3[i].key, h) >= 0 })
	if i < len(z.nsec3) && z.nsec3[i].key == h {
		a.add(z, dnsSecAuthority, z.nsec3[i].set(dns.TypeNSEC3), "", "")
		return
	}
	if i == 0 {
		i = len(z.nsec3)
	}
	a.add(z, dnsSecAuthority, z.nsec3[i-1].set(dns.TypeNSEC3), "", "")
}

// nsec3Encloser adds the closest encloser proof for k (RFC 5155 7.2.1):
// the NSEC3 that matches the nearest ancestor that has one, and the one
// that covers the next closer name.
// The order (which matters when a reply is cut) is nsd's: the next
// closer's cover first.
func (a *dnsAnswerer) nsec3Encloser(z *DNSZone, k string) {
	for p := dnsKeyParent(k); p != ""; p = dnsKeyParent(p) {
		if z.n3keys[z.nsec3Key(p)] != nil {
			a.nsec3Cover(z, dnsNextCloser(k, p))
			a.nsec3Match(z, p)
			return
		}
		if p == z.okey {
			return
		}
	}
}

// isAdded reports whether set (with owner key ownerKey) is in the message.
func (a *dnsAnswerer) isAdded(set *dnsRRset, ownerKey string) bool {
	for _, d := range a.added {
		if d.set == set && d.owner == ownerKey {
			return true
		}
	}
	return false
}

// add puts set into a section (records and, with DO in a signed zone, its
// RRSIGs), with owner as their name when it is set, and the addresses of
// the names NS, MX, KX and SRV records point to in the additional section.
// It returns false when the set was in the message already.
func (a *dnsAnswerer) add(z *DNSZone, sec int, set *dnsRRset, owner, ownerKey string) bool {
	if set == nil || a.isAdded(set, ownerKey) {
		return false
	}
	a.added = append(a.added, dnsAdded{set, ownerKey})
	rrs := set.rrs
	if a.do && z.signed && len(set.sigs) > 0 {
		rrs = append(append(make([]dns.RR, 0, len(rrs)+len(set.sigs)), rrs...), set.sigs...)
	}
	a.units = append(a.units, dnsUnit{sec, dnsOwned(rrs, owner)})
	if sec >= dnsSecAddA {
		return true
	}
	for _, rr := range set.rrs {
		var target string
		glue := false
		switch r := rr.(type) {
		case *dns.NS:
			target, glue = r.Ns, true
		case *dns.MX:
			target = r.Mx
		case *dns.KX:
			target = r.Exchanger
		case *dns.SRV:
			target = r.Target
		default:
			return true
		}
		a.additional(z, target, glue)
	}
	return true
}

// additional adds the in-zone A and AAAA records of target (glue, below a
// delegation, only when glue is set; a wildcard's records when the name
// does not exist but a wildcard covers it).
func (a *dnsAnswerer) additional(z *DNSZone, target string, glue bool) {
	k := dnsKey(target)
	if k == "" || !dnsKeyIsSub(z.okey, k) {
		return
	}
	node, ce := z.find(k)
	if !glue && z.cutAbove(ce) != nil {
		return
	}
	owner, ownerKey := "", ""
	if node == nil {
		if node = z.names["\x01*"+ce.key]; node == nil {
			return
		}
		owner, ownerKey = target, k
	}
	a.add(z, dnsSecAddA, node.set(dns.TypeA), owner, ownerKey)
	a.add(z, dnsSecAddAAAA, node.set(dns.TypeAAAA), owner, ownerKey)
}

// dnsOwned returns rrs, copied with owner as their name when owner is set
// (records synthesised from a wildcard carry the name asked).
func dnsOwned(rrs []dns.RR, owner string) []dns.RR {
	if owner == "" {
		return rrs
	}
	out := make([]dns.RR, len(rrs))
	for i, rr := range rrs {
		c := dns.Copy(rr)
		c.Header().Name = owner
		out[i] = c
	}
	return out
}

func dnsTypeName(t uint16) string {
	if s, ok := dns.TypeToString[t]; ok {
		return s
	}
	return "TYPE" + strconv.Itoa(int(t))
}

func dnsClassName(c uint16) string {
	if s, ok := dns.ClassToString[c]; ok {
		return s
	}
	return "CLASS" + strconv.Itoa(int(c))
}
