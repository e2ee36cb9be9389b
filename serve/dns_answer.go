package serve

import (
	"slices"
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
		s.dnsAnswer(resp, req.Question[0])
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
	reply, err := resp.PackBuffer(out)
	if err == nil && len(reply) > limit {
		// First drop the additional section (glue is optional), then, if the
		// answer still does not fit, send an empty reply with TC so the client
		// asks again over TCP (RFC 2181 9: no partial RRsets).
		resp.Extra = dnsOnlyOPT(resp.Extra)
		reply, err = resp.PackBuffer(out)
		if err == nil && len(reply) > limit {
			resp.Truncated = true
			resp.Answer, resp.Ns = nil, nil
			reply, err = resp.PackBuffer(out)
		}
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

// dnsFindZone returns the served zone that holds name (canonical), the one
// with the longest origin.
func (s *DNSServer) dnsFindZone(name string) *DNSZone {
	for off, end := 0, false; !end; off, end = dns.NextLabel(name, off) {
		if z := s.zones[name[off:]]; z != nil {
			return z
		}
	}
	return s.zones["."]
}

// dnsAnswer fills resp for one question from the zones.
func (s *DNSServer) dnsAnswer(resp *dns.Msg, question dns.Question) {
	qtype := question.Qtype
	if question.Qclass != dns.ClassINET && question.Qclass != dns.ClassANY {
		resp.Rcode = dns.RcodeRefused
		return
	}
	switch qtype {
	case dns.TypeAXFR, dns.TypeIXFR:
		// No zone transfers from this server.
		resp.Rcode = dns.RcodeRefused
		return
	}
	name := strings.ToLower(question.Name)
	z := s.dnsFindZone(name)
	if z == nil {
		resp.Rcode = dns.RcodeRefused
		return
	}
	resp.Authoritative = true
	seen := []string{name} // the names of the CNAME chain
	for step := 0; step < dnsMaxChain; step++ {
		if cut := z.dnsCut(name); cut != "" {
			if step == 0 {
				// A delegation: refer the client to the child's servers.
				resp.Authoritative = false
				resp.Ns = append(resp.Ns, z.names[cut].rrsets[dns.TypeNS]...)
				resp.Extra = z.dnsGlue(resp.Extra, resp.Ns)
			}
			return
		}
		node, owner := z.names[name], ""
		if node == nil {
			node = z.dnsWildcard(name)
			owner = name
			if node == nil {
				resp.Rcode = dns.RcodeNameError
				resp.Ns = append(resp.Ns, z.negativeSOA())
				return
			}
		}
		if c := node.rrsets[dns.TypeCNAME]; len(c) > 0 && qtype != dns.TypeCNAME {
			resp.Answer = append(resp.Answer, dnsOwned(c, owner)...)
			target := strings.ToLower(c[0].(*dns.CNAME).Target)
			if slices.Contains(seen, target) || !dns.IsSubDomain(z.origin, target) {
				return // a loop, or a name the client must look up elsewhere
			}
			name = target
			seen = append(seen, name)
			continue
		}
		var rrs []dns.RR
		if qtype == dns.TypeANY {
			rrs = node.dnsMinimalANY()
		} else {
			rrs = node.rrsets[qtype]
		}
		if len(rrs) == 0 {
			resp.Ns = append(resp.Ns, z.negativeSOA()) // NODATA
			return
		}
		resp.Answer = append(resp.Answer, dnsOwned(rrs, owner)...)
		resp.Extra = z.dnsGlue(resp.Extra, rrs)
		return
	}
}

// dnsMinimalANY answers ANY with one RRset (RFC 8482 4.1): the one with the
// lowest type number, so the answer is stable. Clients that want everything
// must ask for each type.
func (n *dnsNode) dnsMinimalANY() []dns.RR {
	best := -1
	for t := range n.rrsets {
		if best < 0 || int(t) < best {
			best = int(t)
		}
	}
	if best < 0 {
		return nil
	}
	return n.rrsets[uint16(best)]
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

// dnsCut returns the delegation point at or above name (below the apex),
// or "" when name is in the zone proper.
func (z *DNSZone) dnsCut(name string) string {
	if len(z.cuts) == 0 {
		return ""
	}
	cut := ""
	for off, end := 0, false; !end; off, end = dns.NextLabel(name, off) {
		sub := name[off:]
		if sub == z.origin {
			break
		}
		if z.cuts[sub] {
			cut = sub // keep going: the highest cut wins
		}
	}
	return cut
}

// dnsWildcard finds the wildcard that covers a name that does not exist
// (RFC 4592): the closest existing ancestor's "*" child, if there is one.
func (z *DNSZone) dnsWildcard(name string) *dnsNode {
	// The apex always exists, so the walk ends there at the latest.
	for p := dnsParent(name); p != ""; p = dnsParent(p) {
		if z.names[p] != nil {
			return z.names["*."+p]
		}
	}
	return nil
}

// dnsGlue adds the in-zone addresses of the names that NS, MX and SRV
// records point to, as the additional section.
func (z *DNSZone) dnsGlue(extra, rrs []dns.RR) []dns.RR {
	var seen map[string]bool
	for _, rr := range rrs {
		var target string
		switch r := rr.(type) {
		case *dns.NS:
			target = r.Ns
		case *dns.MX:
			target = r.Mx
		case *dns.SRV:
			target = r.Target
		default:
			continue
		}
		target = strings.ToLower(target)
		if seen[target] {
			continue
		}
		if seen == nil {
			seen = map[string]bool{}
		}
		seen[target] = true
		if n := z.names[target]; n != nil {
			extra = append(extra, n.rrsets[dns.TypeA]...)
			extra = append(extra, n.rrsets[dns.TypeAAAA]...)
		}
	}
	return extra
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
