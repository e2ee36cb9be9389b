package ping

import (
	"encoding/binary"
	"errors"
	"net/netip"
)

// ICMP message types nettool sends and understands.
const (
	icmpv4EchoReply      = 0
	icmpv4DestUnreach    = 3
	icmpv4Echo           = 8
	icmpv4TimeExceeded   = 11
	icmpv4ParamProblem   = 12
	icmpv6DestUnreach    = 1
	icmpv6PacketTooBig   = 2
	icmpv6TimeExceeded   = 3
	icmpv6ParamProblem   = 4
	icmpv6Echo           = 128
	icmpv6EchoReply      = 129
	icmpHeaderLen        = 8
	payloadTagLen        = 8  // cookie (4) + host index (4): enough to find the host
	payloadStampLen      = 16 // tag + send time (8)
	maxPayloadV4         = 65507
	maxPayloadV6         = 65527
	defaultPayloadSize   = 56
	maxICMPMessageToRead = 1 << 16
)

// buildEcho writes an ICMP echo request into buf and returns it. The payload
// carries the run's cookie and the host's index (so replies are matched even
// when the kernel rewrites the ICMP ID, as it does on unprivileged sockets),
// then the send time, then a fill pattern, as far as size allows.
func buildEcho(buf []byte, v6 bool, id, seq uint16, cookie uint32, host uint32, sentUnixNano int64, size int) []byte {
	n := icmpHeaderLen + size
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	b := buf[:n]
	if v6 {
		b[0] = icmpv6Echo
	} else {
		b[0] = icmpv4Echo
	}
	b[1] = 0
	b[2], b[3] = 0, 0
	binary.BigEndian.PutUint16(b[4:], id)
	binary.BigEndian.PutUint16(b[6:], seq)
	p := b[icmpHeaderLen:]
	for i := range p {
		p[i] = byte(i)
	}
	if size >= payloadTagLen {
		binary.BigEndian.PutUint32(p[0:], cookie)
		binary.BigEndian.PutUint32(p[4:], host)
	}
	if size >= payloadStampLen {
		binary.BigEndian.PutUint64(p[8:], uint64(sentUnixNano))
	}
	if !v6 {
		// The kernel computes ICMPv6 checksums (and those of unprivileged
		// ICMPv4 sockets); raw ICMPv4 needs ours.
		cs := checksum(b)
		b[2], b[3] = byte(cs>>8), byte(cs)
	}
	return b
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

// msgKind says what an ICMP message received is to nettool.
type msgKind int

const (
	msgOther msgKind = iota // not ours to look at (echo requests, ND, ...)
	msgReply                // an echo reply
	msgError                // an ICMP error quoting one of our echo requests
)

// parsed is an ICMP message as nettool sees it. Every field comes from the
// network and is bounded by the packet it was read from.
type parsed struct {
	kind      msgKind
	id, seq   uint16
	ttl       int    // from the IPv4 header on raw sockets, -1 when unknown
	bytes     int    // ICMP message length (header + payload), as ping prints it
	payload   []byte // the echo payload (replies), or the quoted one (errors, often cut short)
	errType   int    // ICMP type and code of an error
	errCode   int
	src       netip.Addr // the IPv4 header's source, when there was a header
	quotedDst netip.Addr // the destination of the quoted request (errors)
	errText   string     // a local error's text (error queue), instead of errType/errCode
}

var errShort = errors.New("short packet")

// parseMessage reads an ICMP message. hasIPHeader is true for raw IPv4
// sockets, whose reads start with the IP header.
func parseMessage(b []byte, v6, hasIPHeader bool) (parsed, error) {
	p := parsed{ttl: -1}
	if hasIPHeader {
		if len(b) < 20 || b[0]>>4 != 4 {
			return p, errShort
		}
		ihl := int(b[0]&0x0f) * 4
		if ihl < 20 || len(b) < ihl {
			return p, errShort
		}
		p.ttl = int(b[8])
		p.src = netip.AddrFrom4([4]byte(b[12:16]))
		b = b[ihl:]
	}
	if len(b) < icmpHeaderLen {
		return p, errShort
	}
	p.bytes = len(b)
	typ, code := int(b[0]), int(b[1])
	echoReply, echoReq := icmpv4EchoReply, icmpv4Echo
	if v6 {
		echoReply, echoReq = icmpv6EchoReply, icmpv6Echo
	}
	switch {
	case typ == echoReply && code == 0:
		p.kind = msgReply
		p.id = binary.BigEndian.Uint16(b[4:])
		p.seq = binary.BigEndian.Uint16(b[6:])
		p.payload = b[icmpHeaderLen:]
		return p, nil
	case isErrorType(typ, v6):
		// The error quotes the IP header of our request and at least the
		// first 8 bytes of its ICMP message.
		q := b[icmpHeaderLen:]
		if v6 {
			if len(q) < 40 || q[0]>>4 != 6 || q[6] != 58 { // next header ICMPv6 (no extension headers)
				return p, errShort
			}
			p.quotedDst = netip.AddrFrom16([16]byte(q[24:40]))
			q = q[40:]
		} else {
			if len(q) < 20 || q[0]>>4 != 4 || q[9] != 1 {
				return p, errShort
			}
			ihl := int(q[0]&0x0f) * 4
			if ihl < 20 || len(q) < ihl {
				return p, errShort
			}
			p.quotedDst = netip.AddrFrom4([4]byte(q[16:20]))
			q = q[ihl:]
		}
		if len(q) < icmpHeaderLen || int(q[0]) != echoReq {
			return p, errShort
		}
		p.kind = msgError
		p.errType, p.errCode = typ, code
		p.id = binary.BigEndian.Uint16(q[4:])
		p.seq = binary.BigEndian.Uint16(q[6:])
		p.payload = q[icmpHeaderLen:]
		return p, nil
	}
	return p, nil
}

func isErrorType(typ int, v6 bool) bool {
	if v6 {
		return typ == icmpv6DestUnreach || typ == icmpv6PacketTooBig || typ == icmpv6TimeExceeded || typ == icmpv6ParamProblem
	}
	return typ == icmpv4DestUnreach || typ == icmpv4TimeExceeded || typ == icmpv4ParamProblem
}

// payloadTag returns the cookie and host index carried in a payload.
func payloadTag(payload []byte) (cookie, host uint32, ok bool) {
	if len(payload) < payloadTagLen {
		return 0, 0, false
	}
	return binary.BigEndian.Uint32(payload[0:]), binary.BigEndian.Uint32(payload[4:]), true
}

// errorText describes an ICMP error the way ping does.
func errorText(typ, code int, v6 bool) string {
	if v6 {
		switch typ {
		case icmpv6DestUnreach:
			switch code {
			case 0:
				return "Destination unreachable: No route"
			case 1:
				return "Destination unreachable: Administratively prohibited"
			case 3:
				return "Destination unreachable: Address unreachable"
			case 4:
				return "Destination unreachable: Port unreachable"
			}
			return "Destination unreachable"
		case icmpv6PacketTooBig:
			return "Packet too big"
		case icmpv6TimeExceeded:
			return "Time exceeded: Hop limit"
		case icmpv6ParamProblem:
			return "Parameter problem"
		}
		return "ICMPv6 error"
	}
	switch typ {
	case icmpv4DestUnreach:
		switch code {
		case 0:
			return "Destination Net Unreachable"
		case 1:
			return "Destination Host Unreachable"
		case 2:
			return "Destination Protocol Unreachable"
		case 3:
			return "Destination Port Unreachable"
		case 4:
			return "Frag needed and DF set"
		case 9, 10, 13:
			return "Communication administratively prohibited"
		}
		return "Destination Unreachable"
	case icmpv4TimeExceeded:
		if code == 1 {
			return "Frag reassembly time exceeded"
		}
		return "Time to live exceeded"
	case icmpv4ParamProblem:
		return "Parameter problem"
	}
	return "ICMP error"
}
