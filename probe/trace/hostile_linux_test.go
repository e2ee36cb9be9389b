//go:build linux

package trace

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// hostileMessages are ICMP errors (IPv4, as a router would send them to
// the client) that quote packets trace never sent: wrong IDs, wrong
// destinations, other protocols, cut-short and malformed quotes, lying
// lengths and extension objects.
func hostileMessages(client, dst netip.Addr) [][]byte {
	quoteIP := func(proto byte, to netip.Addr, ihl int) []byte {
		q := make([]byte, 20)
		q[0] = 0x40 | byte(ihl)
		q[8] = 1
		q[9] = proto
		c4, d4 := client.As4(), to.As4()
		copy(q[12:], c4[:])
		copy(q[16:], d4[:])
		return q
	}
	icmpErr := func(typ, code byte, quote []byte) []byte {
		b := append([]byte{typ, code, 0, 0, 0, 0, 0, 0}, quote...)
		cs := checksum(b)
		b[2], b[3] = byte(cs>>8), byte(cs)
		return b
	}
	echo := func(id, seq uint16, payload []byte) []byte {
		b := make([]byte, 8, 8+len(payload))
		b[0] = icmp4Echo
		binary.BigEndian.PutUint16(b[4:], id)
		binary.BigEndian.PutUint16(b[6:], seq)
		return append(b, payload...)
	}
	var out [][]byte
	for seq := uint16(0); seq < 64; seq++ {
		id := uint16(rand.IntN(1 << 16))
		out = append(out,
			icmpErr(icmp4TimeExceeded, 0, append(quoteIP(protoICMP, dst, 5), echo(id, seq, []byte("not ours at all"))...)),
			icmpErr(icmp4Unreach, 1, append(quoteIP(protoICMP, dst, 5), echo(id, seq, nil)...)),
		)
	}
	other := netip.MustParseAddr("192.0.2.99")
	out = append(out,
		icmpErr(icmp4TimeExceeded, 0, append(quoteIP(protoICMP, other, 5), echo(1, 1, nil)...)), // another destination
		icmpErr(icmp4TimeExceeded, 0, append(quoteIP(protoUDP, dst, 5), make([]byte, 8)...)),    // a UDP packet
		icmpErr(icmp4TimeExceeded, 0, quoteIP(protoICMP, dst, 5)),                               // IP header only
		icmpErr(icmp4TimeExceeded, 0, quoteIP(protoICMP, dst, 5)[:12]),                          // cut inside the header
		icmpErr(icmp4TimeExceeded, 0, append(quoteIP(protoICMP, dst, 15), 1, 2, 3)),             // IHL beyond the quote
		icmpErr(icmp4TimeExceeded, 0, append(quoteIP(protoICMP, dst, 2), echo(1, 1, nil)...)),   // IHL too small
		icmpErr(icmp4TimeExceeded, 0, nil),                                                      // nothing quoted
		[]byte{icmp4TimeExceeded},                                                               // a lone byte
	)
	// A lying RFC 4884 length and an extension object longer than the packet.
	ext := append(quoteIP(protoICMP, dst, 5), echo(2, 2, make([]byte, 120))...)
	ext = append(ext, 0x20, 0, 0, 0, 0xff, 0xff, 1, 1, 0, 0, 0, 0)
	m := icmpErr(icmp4TimeExceeded, 0, ext)
	m[5] = 200
	out = append(out, m)
	return out
}

// TestHostileReplies: a peer on the path sends a flood of ICMP errors that
// quote packets trace never sent while a trace runs. They are counted as
// ignored or dropped; the trace is the same as without them and ends.
func TestHostileReplies(t *testing.T) {
	c := newChain(t, 1)
	dst, client := c.dest(false), linkAddr(0, 1, false)
	msgs := hostileMessages(client, dst)
	// The peer's raw socket is opened inside r1 (its thread stays there).
	var fd int
	inNetns(t, c.router(1), func() {
		var err error
		fd, err = unix.Socket(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP)
		if err != nil {
			t.Errorf("raw socket: %v", err)
		}
	})
	if t.Failed() {
		return
	}
	defer unix.Close(fd)
	sa := &unix.SockaddrInet4{Addr: client.As4()}
	send := func(rounds int) {
		for r := 0; r < rounds; r++ {
			for _, m := range msgs {
				_ = unix.Sendto(fd, m, 0, sa)
			}
		}
	}
	send(1) // before the trace: must not be read as answers later
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		send(40) // about 5,000 messages, bounded
	}()
	for i := 0; i < 3; i++ {
		res := runIn(t, c.client(), dst, Options{Wait: 5e9})
		if want := wantHops(false, 2); hopList(res) != want || !res.Reached {
			t.Errorf("run %d: reached=%v hops\n%s want\n%s", i, res.Reached, hopList(res), want)
		}
		for _, h := range res.Hops {
			if h.Received != 3 || len(h.Marks) != 0 {
				t.Errorf("run %d: hop %d: %d answers, marks %v", i, h.TTL, h.Received, h.Marks)
			}
		}
	}
	wg.Wait()
}
