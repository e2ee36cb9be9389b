package trace

import (
	"encoding/binary"
	"net/netip"
)

// ICMP types trace sends and reads.
const (
	icmp4EchoReply    = 0
	icmp4Unreach      = 3
	icmp4Echo         = 8
	icmp4TimeExceeded = 11
	icmp4ParamProblem = 12
	icmp6Unreach      = 1
	icmp6TooBig       = 2
	icmp6TimeExceeded = 3
	icmp6ParamProblem = 4
	icmp6Echo         = 128
	icmp6EchoReply    = 129

	protoICMP  = 1
	protoTCP   = 6
	protoUDP   = 17
	protoICMP6 = 58

	icmpHeaderLen = 8
	// tagLen: our payload starts with the run's cookie (4 bytes) and the
	// complement of the probe's ID (2 bytes). In an echo request that word
	// keeps the ICMP checksum the same for every probe of a flow (paris).
	tagLen = 6
)

// buildEcho writes an ICMP echo request: id and seq in the header, the
// cookie and ^seq first in the payload (so the checksum, which an ECMP
// router may hash, does not change from probe to probe), then a pattern.
// The checksum is filled for IPv4 (the kernel does it for ICMPv6 and for
// unprivileged sockets, whose ID it rewrites: the sum stays constant as
// long as the ID does).
func buildEcho(buf []byte, v6 bool, id, seq uint16, cookie uint32, payload int) []byte {
	n := icmpHeaderLen + payload
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	b := buf[:n]
	clear(b)
	b[0] = icmp4Echo
	if v6 {
		b[0] = icmp6Echo
	}
	binary.BigEndian.PutUint16(b[4:], id)
	binary.BigEndian.PutUint16(b[6:], seq)
	p := b[icmpHeaderLen:]
	for i := range p {
		p[i] = byte(0x40 + i%32)
	}
	putTag(p, cookie, seq)
	if !v6 {
		cs := checksum(b)
		b[2], b[3] = byte(cs>>8), byte(cs)
	}
	return b
}

// putTag writes the cookie and ^seq at the start of a payload (as far as
// it is long).
func putTag(p []byte, cookie uint32, seq uint16) {
	var t [tagLen]byte
	binary.BigEndian.PutUint32(t[0:], cookie)
	binary.BigEndian.PutUint16(t[4:], ^seq)
	copy(p, t[:])
}

// tagOK reports whether a (quoted) payload is consistent with our cookie
// and seq. A quote too short to hold the tag is consistent: routers may
// quote only 8 bytes of our message (RFC 792).
func tagOK(p []byte, cookie uint32, seq uint16) bool {
	if len(p) < tagLen {
		return true
	}
	return binary.BigEndian.Uint32(p[0:]) == cookie && binary.BigEndian.Uint16(p[4:]) == ^seq
}

// checksum is the Internet checksum (RFC 1071).
func checksum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

// icmpMsg is an ICMP message as trace sees it. Every slice points into the
// packet read and every length is checked against it.
type icmpMsg struct {
	typ, code int
	src       netip.Addr // from the IPv4 header (raw IPv4 reads)
	// Echo reply:
	reply   bool
	id, seq uint16
	payload []byte
	// Error (time exceeded, unreachable, too big, parameter problem):
	isErr  bool
	qDst   netip.Addr
	qProto int
	qTTL   int    // TTL / hop limit left in our packet when it was quoted; -1: unknown
	qIPID  int    // IPv4 ID of our packet; -1: unknown
	qL4    []byte // the quoted transport header and what follows
	mtu    int
	mpls   []MPLSLabel
}

// parseICMP reads an ICMP message; hasIPHeader is true for raw IPv4
// sockets, whose reads start with the IP header. ok is false for anything
// that is not an echo reply or a well-formed error.
func parseICMP(b []byte, v6, hasIPHeader bool) (m icmpMsg, ok bool) {
	m.qTTL, m.qIPID = -1, -1
	if hasIPHeader {
		if len(b) < 20 || b[0]>>4 != 4 {
			return m, false
		}
		ihl := int(b[0]&0x0f) * 4
		if ihl < 20 || len(b) < ihl {
			return m, false
		}
		m.src = netip.AddrFrom4([4]byte(b[12:16]))
		b = b[ihl:]
	}
	if len(b) < icmpHeaderLen {
		return m, false
	}
	m.typ, m.code = int(b[0]), int(b[1])
	if (!v6 && m.typ == icmp4EchoReply || v6 && m.typ == icmp6EchoReply) && m.code == 0 {
		m.reply = true
		m.id = binary.BigEndian.Uint16(b[4:])
		m.seq = binary.BigEndian.Uint16(b[6:])
		m.payload = b[icmpHeaderLen:]
		return m, true
	}
	var origWords int // RFC 4884 length of the original datagram field
	switch {
	case !v6 && (m.typ == icmp4Unreach || m.typ == icmp4TimeExceeded || m.typ == icmp4ParamProblem):
		origWords = int(b[5]) * 4
		if m.typ == icmp4Unreach && m.code == 4 {
			m.mtu = int(binary.BigEndian.Uint16(b[6:]))
		}
	case v6 && (m.typ == icmp6Unreach || m.typ == icmp6TimeExceeded || m.typ == icmp6ParamProblem || m.typ == icmp6TooBig):
		if m.typ != icmp6TooBig && m.typ != icmp6ParamProblem {
			origWords = int(b[4]) * 8
		}
		if m.typ == icmp6TooBig {
			m.mtu = int(binary.BigEndian.Uint32(b[4:]))
		}
	default:
		return m, false
	}
	m.isErr = true
	body := b[icmpHeaderLen:]
	if !parseQuote(body, v6, &m) {
		return m, false
	}
	m.mpls = parseExtensions(body, origWords)
	return m, true
}

// parseQuote reads the quoted IP header of our packet.
func parseQuote(q []byte, v6 bool, m *icmpMsg) bool {
	if v6 {
		if len(q) < 40 || q[0]>>4 != 6 {
			return false
		}
		m.qTTL = int(q[7])
		m.qProto = int(q[6])
		m.qDst = netip.AddrFrom16([16]byte(q[24:40]))
		m.qL4 = q[40:]
		return true
	}
	if len(q) < 20 || q[0]>>4 != 4 {
		return false
	}
	ihl := int(q[0]&0x0f) * 4
	if ihl < 20 || len(q) < ihl {
		return false
	}
	m.qIPID = int(binary.BigEndian.Uint16(q[4:]))
	m.qTTL = int(q[8])
	m.qProto = int(q[9])
	m.qDst = netip.AddrFrom4([4]byte(q[16:20]))
	m.qL4 = q[ihl:]
	return true
}

// MPLS extension object (RFC 4950): class 1, c-type 1.
const (
	extVersion    = 2
	extClassMPLS  = 1
	extCTypeMPLS  = 1
	compatOrigLen = 128 // RFC 4884 section 5: extensions of non-compliant routers start at 128
	maxLabels     = 16
)

// parseExtensions reads the RFC 4884 extension structure after the
// original datagram field (origLen bytes when the router said, else 128 as
// RFC 4884 allows for older routers) and returns the MPLS label stack.
func parseExtensions(body []byte, origLen int) []MPLSLabel {
	if origLen == 0 {
		origLen = compatOrigLen
	}
	if origLen < compatOrigLen || len(body) < origLen+4 {
		return nil
	}
	ext := body[origLen:]
	if ext[0]>>4 != extVersion {
		return nil
	}
	if cs := binary.BigEndian.Uint16(ext[2:]); cs != 0 && checksum(ext) != 0 {
		return nil
	}
	var labels []MPLSLabel
	for o := ext[4:]; len(o) >= 4; {
		l := int(binary.BigEndian.Uint16(o))
		if l < 4 || l > len(o) {
			return labels
		}
		if o[2] == extClassMPLS && o[3] == extCTypeMPLS {
			for e := o[4:l]; len(e) >= 4 && len(labels) < maxLabels; e = e[4:] {
				v := binary.BigEndian.Uint32(e)
				labels = append(labels, MPLSLabel{Label: v >> 12, TC: uint8(v>>9) & 7, Bottom: v>>8&1 == 1, TTL: uint8(v)})
			}
		}
		o = o[l:]
	}
	return labels
}

// markOf is the mark traceroute and mtr print for an unreachable (and a
// "too big"); "" for time exceeded, echo replies and a port unreachable.
func markOf(v6 bool, typ, code int) string {
	if v6 {
		switch typ {
		case icmp6TooBig:
			return "!F"
		case icmp6Unreach:
			switch code {
			case 0:
				return "!N"
			case 1, 5, 6:
				return "!X"
			case 2:
				return "!S"
			case 3:
				return "!H"
			case 4:
				return ""
			}
			return "!" + itoa(code)
		}
		return ""
	}
	if typ != icmp4Unreach {
		return ""
	}
	switch code {
	case 0, 6, 11:
		return "!N"
	case 1, 7, 12:
		return "!H"
	case 2:
		return "!P"
	case 3:
		return ""
	case 4:
		return "!F"
	case 5:
		return "!S"
	case 9, 10, 13:
		return "!X"
	case 14:
		return "!V"
	case 15:
		return "!C"
	}
	return "!" + itoa(code)
}

// isPortUnreach: the destination's answer to a UDP probe.
func isPortUnreach(v6 bool, typ, code int) bool {
	if v6 {
		return typ == icmp6Unreach && code == 4
	}
	return typ == icmp4Unreach && code == 3
}

func isTimeExceeded(v6 bool, typ int) bool {
	if v6 {
		return typ == icmp6TimeExceeded
	}
	return typ == icmp4TimeExceeded
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [8]byte
	i := len(b)
	for n > 0 && i > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}
