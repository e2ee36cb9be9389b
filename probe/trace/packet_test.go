package trace

import (
	"encoding/binary"
	"net/netip"
	"reflect"
	"testing"
)

// A time exceeded from an MPLS router: RFC 4884 length (128 bytes of
// original datagram) and an RFC 4950 label stack of two entries.
func mplsTimeExceeded(t testing.TB) []byte {
	t.Helper()
	quote := make([]byte, 128)
	quote[0] = 0x45
	binary.BigEndian.PutUint16(quote[4:], 0x1234) // IP ID
	quote[8] = 1                                  // TTL left
	quote[9] = protoICMP
	copy(quote[16:], []byte{203, 0, 113, 7})
	quote[20] = icmp4Echo
	binary.BigEndian.PutUint16(quote[24:], 0xbeef)
	binary.BigEndian.PutUint16(quote[26:], 7)
	obj := []byte{0, 12, extClassMPLS, extCTypeMPLS,
		0x00, 0x01, 0x00, 0xfe, // label 16, TC 0, S 0, TTL 254
		0x00, 0x06, 0x43, 0x01, // label 100, TC 1, S 1, TTL 1
	}
	ext := append([]byte{0x20, 0, 0, 0}, obj...)
	cs := checksum(ext)
	ext[2], ext[3] = byte(cs>>8), byte(cs)
	b := []byte{icmp4TimeExceeded, 0, 0, 0, 0, 128 / 4, 0, 0}
	b = append(append(b, quote...), ext...)
	cs = checksum(b)
	b[2], b[3] = byte(cs>>8), byte(cs)
	return b
}

func TestParseMPLS(t *testing.T) {
	m, ok := parseICMP(mplsTimeExceeded(t), false, false)
	if !ok || !m.isErr || m.qTTL != 1 || m.qIPID != 0x1234 || m.qDst != netip.MustParseAddr("203.0.113.7") {
		t.Fatalf("%+v", m)
	}
	want := []MPLSLabel{{Label: 16, TTL: 254}, {Label: 100, TC: 1, Bottom: true, TTL: 1}}
	if !reflect.DeepEqual(m.mpls, want) {
		t.Errorf("labels %+v, want %+v", m.mpls, want)
	}
	// A broken extension checksum: no labels, the quote still counts.
	b := mplsTimeExceeded(t)
	b[len(b)-1] ^= 0xff
	if m, ok := parseICMP(b, false, false); !ok || m.mpls != nil {
		t.Errorf("bad checksum: ok=%v labels %+v", ok, m.mpls)
	}
}

func TestEchoChecksumConstant(t *testing.T) {
	// Paris: every probe of a flow has the same checksum, whatever its seq.
	var sums []uint16
	for _, seq := range []uint16{0, 1, 2, 0x1234, 0xffff} {
		b := buildEcho(nil, false, 0x4242, seq, 0xdeadbeef, 32)
		sums = append(sums, binary.BigEndian.Uint16(b[2:]))
		if checksum(b) != 0 {
			t.Errorf("seq %d: bad checksum", seq)
		}
		if !tagOK(b[8:], 0xdeadbeef, seq) || tagOK(b[8:], 0xdeadbeef, seq+1) {
			t.Errorf("seq %d: tag", seq)
		}
	}
	for _, s := range sums[1:] {
		if s != sums[0] {
			t.Fatalf("checksums differ: %x", sums)
		}
	}
}

func TestMarks(t *testing.T) {
	cases := []struct {
		v6        bool
		typ, code int
		want      string
	}{
		{false, icmp4Unreach, 0, "!N"}, {false, icmp4Unreach, 1, "!H"}, {false, icmp4Unreach, 2, "!P"},
		{false, icmp4Unreach, 3, ""}, {false, icmp4Unreach, 13, "!X"}, {false, icmp4Unreach, 4, "!F"},
		{false, icmp4TimeExceeded, 0, ""}, {false, icmp4Unreach, 99, "!99"},
		{true, icmp6Unreach, 0, "!N"}, {true, icmp6Unreach, 1, "!X"}, {true, icmp6Unreach, 3, "!H"},
		{true, icmp6Unreach, 4, ""}, {true, icmp6TooBig, 0, "!F"},
	}
	for _, c := range cases {
		if got := markOf(c.v6, c.typ, c.code); got != c.want {
			t.Errorf("v6=%v %d/%d: %q, want %q", c.v6, c.typ, c.code, got, c.want)
		}
	}
}

// FuzzParseICMP: any bytes, never a panic, and every slice inside the packet.
func FuzzParseICMP(f *testing.F) {
	f.Add(mplsTimeExceeded(f), false, false)
	f.Add(buildEcho(nil, false, 1, 2, 3, 16), false, false)
	f.Add([]byte{0x45, 0, 0, 28, 0, 0, 0, 0, 64, 1, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 11, 0, 0, 0, 0, 0, 0, 0}, false, true)
	f.Add([]byte{icmp6TimeExceeded, 0, 0, 0, 0, 0, 0, 0, 0x60}, true, false)
	f.Fuzz(func(t *testing.T, b []byte, v6, hdr bool) {
		m, ok := parseICMP(b, v6, hdr)
		if !ok {
			return
		}
		if len(m.mpls) > maxLabels || len(m.payload) > len(b) || len(m.qL4) > len(b) {
			t.Fatalf("out of bounds: %+v", m)
		}
	})
}
