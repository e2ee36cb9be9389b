package resolve

import (
	"encoding/binary"
	"hash/maphash"
	"net"
	"strconv"
	"time"

	"github.com/miekg/dns"

	"github.com/nettool/nettool/probe"
)

// The batch's fast path: the usual reply (A, AAAA, CNAME, NS, PTR and MX
// records with plain names, an OPT record without options) is read straight
// from the wire into a Result, without miekg's Msg and RR objects. Anything
// else, and anything it does not fully understand, goes to miekg/dns: the
// fast path only ever says "not mine", and a fuzz test holds that what it
// accepts it reads exactly as the miekg path does.

// Record kinds whose typed fields the JSON writer derives from Data.
const (
	kindAddress uint8 = iota + 1 // A, AAAA: "address"
	kindTarget                   // CNAME, PTR: "target"
	kindHost                     // NS: "host"
	kindMX                       // MX: "preference", "exchange"
)

// fastParse reads reply buf to the query (id, name, qtype, qclass). ok is
// false when the reply is not the simple kind or not a reply to the query:
// the caller then takes the miekg path, which decides.
// cache (nil for none) keeps names and addresses from earlier replies.
func fastParse(buf []byte, id uint16, name string, qtype, qclass uint16, res *Result, rtt time.Duration, cache *internCache) bool {
	if len(buf) < 12 || binary.BigEndian.Uint16(buf) != id {
		return false
	}
	bits := binary.BigEndian.Uint16(buf[2:])
	if bits&0x8000 == 0 || bits&0x7800 != 0 || bits&0x0200 != 0 || bits&0x0040 != 0 { // QR, opcode QUERY, no TC, Z clear
		return false
	}
	qd, an, ns, ar := binary.BigEndian.Uint16(buf[4:]), int(binary.BigEndian.Uint16(buf[6:])), int(binary.BigEndian.Uint16(buf[8:])), int(binary.BigEndian.Uint16(buf[10:]))
	if qd != 1 {
		return false
	}
	// Names repeat within a reply (the question's in the answer, a CNAME's
	// target as the next owner, an MX exchange in the glue): each one is
	// made into a string once.
	known := nameSet{s: [4]string{name}, n: 1, cache: cache}
	qname, off, ok := readName(buf, 12, &known)
	if !ok || off+4 > len(buf) || !matchQuestion(name, qtype, qclass, qname, binary.BigEndian.Uint16(buf[off:]), binary.BigEndian.Uint16(buf[off+2:])) {
		return false
	}
	off += 4
	// A record takes 11 bytes at least: counts the datagram cannot hold are
	// not the simple kind (and would size the array below).
	if an+ns+ar > (len(buf)-off)/11 {
		return false
	}
	// The three sections share one array (res.recs: a recycled result
	// brings its own), each a slice of it that cannot grow into the next.
	all := res.recs[:0]
	if cap(all) < an+ns+ar {
		all = make([]Record, 0, an+ns+ar)
	}
	var edns *EDNS
	var sections [3][]Record
	for si, count := range [3]int{an, ns, ar} {
		base := len(all)
		for i := 0; i < count; i++ {
			var rec Record
			var isOPT bool
			rec, off, isOPT, ok = readRR(buf, off, si == 2, &known, &res.edns, &edns)
			if !ok {
				return false
			}
			if !isOPT {
				all = append(all, rec)
			}
		}
		sections[si] = all[base:len(all):len(all)]
	}
	rcode := int(bits & 0xf)
	res.recs = all
	res.RTTMS = probe.Millis(rtt)
	res.Rcode = RcodeString(rcode)
	res.flags = Flags{QR: true, AA: bits&0x0400 != 0, TC: false, RD: bits&0x0100 != 0, RA: bits&0x0080 != 0, AD: bits&0x0020 != 0, CD: bits&0x0010 != 0}
	res.Flags = &res.flags
	res.Answer, res.Authority, res.Additional = sections[0], sections[1], sections[2]
	res.EDNS = edns
	res.judge(rcode, sections[0])
	return true
}

// judge sets OK and the failure from the rcode and the answer: NOERROR
// counts only with a record of the asked type (a CNAME chain that ends
// without one is NODATA, as for dig's +short users), or any record for ANY.
func (r *Result) judge(rcode int, answer []Record) {
	r.OK = rcode == dns.RcodeSuccess && answersQuestion(r.Question.Type, answer)
	switch {
	case r.OK:
	case rcode == dns.RcodeSuccess:
		r.Failure, r.Error = probe.FailDNSNoData, "NODATA: the name exists but has no "+r.Question.Type+" record"
	default:
		r.Failure, r.Error = rcodeFailure(rcode), r.Rcode
	}
}

func answersQuestion(qtype string, answer []Record) bool {
	for _, rec := range answer {
		if rec.Type == qtype || qtype == "ANY" {
			return true
		}
	}
	return false
}

// readRR reads one resource record. An OPT record (additional section, root
// name, no options, no extended rcode, at most one) is written to store and
// *edns points to it. Names come from known when they are there.
func readRR(buf []byte, off int, additional bool, known *nameSet, store *EDNS, edns **EDNS) (Record, int, bool, bool) {
	name, off, ok := readName(buf, off, known)
	if !ok || off+10 > len(buf) {
		return Record{}, 0, false, false
	}
	t := binary.BigEndian.Uint16(buf[off:])
	class := binary.BigEndian.Uint16(buf[off+2:])
	ttl := binary.BigEndian.Uint32(buf[off+4:])
	rdlen := int(binary.BigEndian.Uint16(buf[off+8:]))
	off += 10
	end := off + rdlen
	if end > len(buf) {
		return Record{}, 0, false, false
	}
	if t == dns.TypeOPT {
		if !additional || name != "." || rdlen != 0 || *edns != nil || ttl>>24 != 0 {
			return Record{}, 0, false, false
		}
		*store = EDNS{Version: uint8(ttl >> 16), UDPSize: class, DO: ttl&0x8000 != 0}
		*edns = store
		return Record{}, end, true, true
	}
	rec := Record{Name: name, Type: TypeString(t), Class: ClassString(class), TTL: ttl}
	switch t {
	case dns.TypeA:
		if rdlen != 4 {
			return Record{}, 0, false, false
		}
		rec.Data, rec.kind = known.cache.addr(buf[off:end]), kindAddress
	case dns.TypeAAAA:
		if rdlen != 16 || net.IP(buf[off:end]).To4() != nil {
			return Record{}, 0, false, false
		}
		rec.Data, rec.kind = known.cache.addr(buf[off:end]), kindAddress
	case dns.TypeCNAME, dns.TypeNS, dns.TypePTR:
		// A name in the data is read from the message up to the record's
		// end, as miekg reads it: a pointer past the record is malformed.
		target, next, ok := readName(buf[:end], off, known)
		if !ok || next != end || target == "" {
			return Record{}, 0, false, false
		}
		rec.Data, rec.kind = target, kindTarget
		if t == dns.TypeNS {
			rec.kind = kindHost
		}
	case dns.TypeMX:
		if rdlen < 3 {
			return Record{}, 0, false, false
		}
		pref := binary.BigEndian.Uint16(buf[off:])
		exch, next, ok := readName(buf[:end], off+2, known)
		if !ok || next != end {
			return Record{}, 0, false, false
		}
		var data [5 + 1 + 255]byte // "65535 " and the longest name
		rec.Data = known.cache.name(append(append(strconv.AppendUint(data[:0], uint64(pref), 10), ' '), exch...))
		rec.kind, rec.pref, rec.aux = kindMX, pref, exch
	default:
		return Record{}, 0, false, false
	}
	return rec, end, false, true
}

// readName reads a possibly compressed name made only of letters, digits,
// hyphens and underscores (nothing that presentation form would escape).
// The string comes from known (see nameSet).
func readName(buf []byte, off int, known *nameSet) (string, int, bool) {
	var b [256]byte
	n := 0
	next := -1 // where reading goes on after the first pointer
	for hops := 0; ; {
		if off >= len(buf) {
			return "", 0, false
		}
		l := int(buf[off])
		switch {
		case l == 0:
			off++
			if next < 0 {
				next = off
			}
			if n == 0 {
				return ".", next, true
			}
			return known.string(b[:n]), next, true
		case l&0xc0 == 0xc0:
			if off+1 >= len(buf) || hops > 16 {
				return "", 0, false
			}
			if next < 0 {
				next = off + 2
			}
			off = int(binary.BigEndian.Uint16(buf[off:]) & 0x3fff)
			hops++
		case l&0xc0 != 0:
			return "", 0, false
		default:
			off++
			if off+l > len(buf) || n+l+1 > 254 {
				return "", 0, false
			}
			for _, c := range buf[off : off+l] {
				if !(c == '-' || c == '_' || (c >= '0' && c <= '9') || (c|0x20 >= 'a' && c|0x20 <= 'z')) {
					return "", 0, false
				}
			}
			n += copy(b[n:], buf[off:off+l])
			b[n] = '.'
			n++
			off += l
		}
	}
}

// nameSet holds the first few names read from one reply, and the cache of
// earlier replies' names (nil for none).
type nameSet struct {
	s     [4]string
	n     int
	cache *internCache
}

// string returns b as a string: one of the set's when it is there byte for
// byte, else the cache's, else a new one, which the set keeps while it has
// room.
func (k *nameSet) string(b []byte) string {
	for _, s := range k.s[:k.n] {
		if s == string(b) {
			return s
		}
	}
	s := k.cache.name(b)
	if k.n < len(k.s) {
		k.s[k.n] = s
		k.n++
	}
	return s
}

// internCache keeps the strings made from the names and addresses of
// recent replies on one socket, so the ones that recur (a zone's apex and
// name servers in every authority and additional section, the addresses
// of those servers, answers shared by many names) are made once. It is
// direct-mapped: a slot holds the last string hashed to it, and a string is
// only ever taken for bytes equal to its own, so a collision costs a new
// string, never a wrong one. Strings are immutable, so results keep them
// after the slot moves on. One goroutine uses a cache (the socket's
// receiver); the methods take a nil cache, which keeps nothing.
type internCache struct {
	seed  maphash.Seed
	names [internSlots]string
	addrs [internSlots]addrSlot
}

const internSlots = 256

type addrSlot struct {
	key [16]byte
	n   uint8 // 4 or 16; 0 for an empty slot
	s   string
}

func newInternCache() *internCache { return &internCache{seed: maphash.MakeSeed()} }

// name returns b (a name, or an MX record's data) as a string.
func (c *internCache) name(b []byte) string {
	if c == nil {
		return string(b)
	}
	slot := &c.names[maphash.Bytes(c.seed, b)%internSlots]
	if *slot != string(b) {
		*slot = string(b)
	}
	return *slot
}

// addr returns the 4- or 16-byte address b in presentation form.
func (c *internCache) addr(b []byte) string {
	if c == nil {
		return net.IP(b).String()
	}
	slot := &c.addrs[maphash.Bytes(c.seed, b)%internSlots]
	if int(slot.n) != len(b) || string(slot.key[:slot.n]) != string(b) {
		slot.n = uint8(copy(slot.key[:], b))
		slot.s = net.IP(b).String()
	}
	return slot.s
}
