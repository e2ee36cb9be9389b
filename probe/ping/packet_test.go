package ping

import (
	"encoding/binary"
	"net/netip"
	"testing"
)

func TestBuildParseEchoRoundTrip(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		for _, size := range []int{0, 7, 8, 15, 16, 56, 1400} {
			b := buildEcho(nil, v6, 0x1234, 0xbeef, 0xcafef00d, 7, 123456789, size)
			if len(b) != 8+size {
				t.Fatalf("len %d want %d", len(b), 8+size)
			}
			if !v6 && checksum(b) != 0 {
				t.Errorf("v4 size %d: checksum does not verify", size)
			}
			// Turn the request into the reply a peer would send.
			r := append([]byte(nil), b...)
			if v6 {
				r[0] = icmpv6EchoReply
			} else {
				r[0] = icmpv4EchoReply
			}
			p, err := parseMessage(r, v6, false)
			if err != nil || p.kind != msgReply || p.id != 0x1234 || p.seq != 0xbeef || p.bytes != 8+size {
				t.Fatalf("v6=%v size %d: parsed %+v, %v", v6, size, p, err)
			}
			cookie, host, ok := payloadTag(p.payload)
			if ok != (size >= 8) || (ok && (cookie != 0xcafef00d || host != 7)) {
				t.Errorf("v6=%v size %d: tag %x %d %v", v6, size, cookie, host, ok)
			}
		}
	}
}

// ipv4Header builds a minimal IPv4 header for raw-socket reads.
func ipv4Header(src, dst [4]byte, ttl byte, proto byte, payloadLen int) []byte {
	h := make([]byte, 20)
	h[0] = 0x45
	binary.BigEndian.PutUint16(h[2:], uint16(20+payloadLen))
	h[8], h[9] = ttl, proto
	copy(h[12:], src[:])
	copy(h[16:], dst[:])
	return h
}

func TestParseRawIPv4ReplyAndError(t *testing.T) {
	req := buildEcho(nil, false, 42, 3, 1, 2, 0, 56)
	reply := append([]byte(nil), req...)
	reply[0] = icmpv4EchoReply
	pkt := append(ipv4Header([4]byte{127, 0, 0, 9}, [4]byte{127, 0, 0, 1}, 61, 1, len(reply)), reply...)
	p, err := parseMessage(pkt, false, true)
	if err != nil || p.kind != msgReply || p.ttl != 61 || p.src != netip.MustParseAddr("127.0.0.9") || p.seq != 3 {
		t.Fatalf("reply: %+v %v", p, err)
	}
	// Time exceeded quoting our request.
	quoted := append(ipv4Header([4]byte{127, 0, 0, 1}, [4]byte{10, 1, 2, 3}, 1, 1, len(req)), req[:16]...)
	icmpErr := append([]byte{icmpv4TimeExceeded, 0, 0, 0, 0, 0, 0, 0}, quoted...)
	pkt = append(ipv4Header([4]byte{10, 0, 0, 1}, [4]byte{127, 0, 0, 1}, 64, 1, len(icmpErr)), icmpErr...)
	p, err = parseMessage(pkt, false, true)
	if err != nil || p.kind != msgError || p.id != 42 || p.seq != 3 || p.quotedDst != netip.MustParseAddr("10.1.2.3") {
		t.Fatalf("error: %+v %v", p, err)
	}
	if got := errorText(p.errType, p.errCode, false); got != "Time to live exceeded" {
		t.Errorf("error text %q", got)
	}
	// Our own echo request read back is not a reply.
	if p, _ := parseMessage(req, false, false); p.kind != msgOther {
		t.Errorf("request parsed as %v", p.kind)
	}
}

func TestParseRejectsShortAndForeign(t *testing.T) {
	for _, b := range [][]byte{nil, {0}, {0, 0, 0, 0, 0, 0, 0}, {0x45, 0, 0}, {0x4f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}} {
		if p, err := parseMessage(b, false, true); err == nil && p.kind != msgOther {
			t.Errorf("%x accepted as %+v", b, p)
		}
	}
	// An ICMPv6 error quoting something else than an echo request.
	q := make([]byte, 48)
	q[0] = 0x60
	q[6] = 17 // UDP
	if p, err := parseMessage(append([]byte{icmpv6DestUnreach, 0, 0, 0, 0, 0, 0, 0}, q...), true, false); err == nil && p.kind != msgOther {
		t.Errorf("quoted UDP accepted: %+v", p)
	}
}

func FuzzParseMessage(f *testing.F) {
	req := buildEcho(nil, false, 1, 2, 3, 4, 5, 56)
	rep := append([]byte(nil), req...)
	rep[0] = 0
	f.Add(rep, false, false)
	f.Add(append(ipv4Header([4]byte{1, 2, 3, 4}, [4]byte{5, 6, 7, 8}, 9, 1, len(rep)), rep...), false, true)
	f.Add([]byte{129, 0, 0, 0, 0, 1, 0, 2, 1, 2, 3, 4, 5, 6, 7, 8}, true, false)
	f.Add([]byte{3, 1, 0, 0, 0, 0, 0, 0, 0x45, 0, 0, 0, 0, 0, 0, 0, 1, 1}, false, false)
	f.Fuzz(func(t *testing.T, b []byte, v6, hdr bool) {
		p, err := parseMessage(b, v6, hdr)
		if err != nil {
			return
		}
		if p.kind != msgOther && (p.bytes > len(b) || len(p.payload) > len(b)) {
			t.Fatalf("parsed beyond the packet: %+v", p)
		}
		if p.kind == msgError && !p.quotedDst.IsValid() {
			t.Fatalf("error without quoted destination")
		}
		_ = errorText(p.errType, p.errCode, v6)
	})
}
