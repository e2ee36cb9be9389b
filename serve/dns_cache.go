package serve

import (
	"encoding/binary"

	"github.com/miekg/dns"
)

// The zones do not change once the server runs, so the reply to a plain
// query depends on nothing but its question and EDNS: each UDP worker keeps
// the replies it has packed, by those, and answers the same query again by
// copying the reply and putting in the query's ID and RD and CD bits. A
// query that is not plain (anything beyond one question and one OPT record,
// another opcode, EDNS version, a name with upper-case letters or a
// compression pointer) takes the full path every time.

// dnsCacheMax bounds one worker's cache; when it is full it starts again
// empty (a flood of random names costs the full path, not memory).
const dnsCacheMax = 4096

// dnsCacheMaxReply is the largest reply kept.
const dnsCacheMaxReply = 1500

type dnsCache struct {
	m   map[string]*dnsCached
	key []byte // scratch for the lookup key
}

type dnsCached struct {
	reply     []byte
	rcode     int
	answers   int
	truncated bool
}

func newDNSCache() *dnsCache {
	return &dnsCache{m: make(map[string]*dnsCached), key: make([]byte, 0, 300)}
}

// dnsPlain is what the cache key of a plain query is made of.
type dnsPlain struct {
	qend          int // offset after the question
	qtype, qclass uint16
	edns, do      bool
	nsid          bool
	udpSize       uint16
}

// dnsParsePlain parses in as a plain query; false when it is not one.
func dnsParsePlain(in []byte) (p dnsPlain, ok bool) {
	if len(in) < 17 || in[2]&0xf8 != 0 { // QR and opcode: a QUERY
		return p, false
	}
	if binary.BigEndian.Uint16(in[4:]) != 1 || binary.BigEndian.Uint16(in[6:]) != 0 || binary.BigEndian.Uint16(in[8:]) != 0 {
		return p, false
	}
	ar := binary.BigEndian.Uint16(in[10:])
	if ar > 1 {
		return p, false
	}
	i := 12
	for {
		if i >= len(in) {
			return p, false
		}
		l := int(in[i])
		if l == 0 {
			i++
			break
		}
		if l > 63 || i+1+l > len(in) {
			return p, false // a pointer or a bad label
		}
		for _, c := range in[i+1 : i+1+l] {
			if c >= 'A' && c <= 'Z' {
				return p, false
			}
		}
		i += 1 + l
	}
	if i-12 > dnsMaxWireName || i+4 > len(in) {
		return p, false
	}
	p.qtype = binary.BigEndian.Uint16(in[i:])
	p.qclass = binary.BigEndian.Uint16(in[i+2:])
	i += 4
	p.qend = i
	if ar == 0 {
		return p, i == len(in)
	}
	// The OPT record: root name, type, UDP size, extended rcode, version,
	// flags, options.
	if i+11 > len(in) || in[i] != 0 || binary.BigEndian.Uint16(in[i+1:]) != dns.TypeOPT {
		return p, false
	}
	p.edns = true
	p.udpSize = binary.BigEndian.Uint16(in[i+3:])
	if in[i+5] != 0 || in[i+6] != 0 { // extended rcode, version
		return p, false
	}
	p.do = in[i+7]&0x80 != 0
	rdlen := int(binary.BigEndian.Uint16(in[i+9:]))
	i += 11
	if i+rdlen != len(in) {
		return p, false
	}
	for j := i; j < len(in); {
		if j+4 > len(in) {
			return p, false
		}
		code, l := binary.BigEndian.Uint16(in[j:]), int(binary.BigEndian.Uint16(in[j+2:]))
		if j+4+l > len(in) {
			return p, false
		}
		if code == dns.EDNS0NSID {
			p.nsid = true
		}
		j += 4 + l
	}
	return p, true
}

// dnsServe answers one message as dnsHandle does, from the cache c when it
// can (c may be nil).
func (s *DNSServer) dnsServe(in []byte, tcp bool, out []byte, c *dnsCache) ([]byte, DNSQuery) {
	if c == nil || tcp {
		return s.dnsHandle(in, tcp, out)
	}
	p, ok := dnsParsePlain(in)
	if !ok {
		return s.dnsHandle(in, tcp, out)
	}
	limit := dns.MinMsgSize
	if p.edns {
		limit = min(max(int(p.udpSize), dns.MinMsgSize), s.maxUDP)
	}
	k := append(c.key[:0], in[12:p.qend]...)
	var flags byte
	if p.edns {
		flags |= 1
	}
	if p.do {
		flags |= 2
	}
	if p.nsid {
		flags |= 4
	}
	k = append(k, flags, byte(limit>>8), byte(limit))
	c.key = k
	if e := c.m[string(k)]; e != nil && len(out) >= len(e.reply) {
		r := out[:len(e.reply)]
		copy(r, e.reply)
		r[0], r[1] = in[0], in[1]
		r[2] = r[2]&^0x01 | in[2]&0x01 // RD
		r[3] = r[3]&^0x10 | in[3]&0x10 // CD
		q := DNSQuery{
			ID: binary.BigEndian.Uint16(in), EDNS: p.edns, UDPSize: int(p.udpSize), DO: p.do, NSID: p.nsid,
			rcode: e.rcode, Rcode: dnsRcodeName(e.rcode), Answers: e.answers, Size: len(r), Truncated: e.truncated,
			Type: dnsTypeName(p.qtype), Class: dnsClassName(p.qclass),
		}
		if !p.edns {
			q.UDPSize = 0
		}
		if s.opts.OnQuery != nil {
			q.Name, _, _ = dns.UnpackDomainName(in, 12)
		}
		return r, q
	}
	reply, q := s.dnsHandle(in, tcp, out)
	if reply != nil && len(reply) <= dnsCacheMaxReply && q.Dropped == "" {
		if len(c.m) >= dnsCacheMax {
			clear(c.m)
		}
		c.m[string(k)] = &dnsCached{reply: append([]byte(nil), reply...), rcode: q.rcode, answers: q.Answers, truncated: q.Truncated}
	}
	return reply, q
}
