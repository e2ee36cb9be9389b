package resolve

import (
	"bytes"
	"errors"
	"net"
	"testing"
	"time"
)

// connectedUDP returns a socket on loopback and one connected to it; both
// are closed when the test ends.
func connectedUDP(t *testing.T) (peer, c *net.UDPConn) {
	t.Helper()
	peer, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { peer.Close() })
	c, err = net.DialUDP("udp", nil, peer.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return peer, c
}

// The batch's reader returns each datagram whole, in order, says which
// ones did not fit their buffer, and ends with net.ErrClosed.
func TestMmsgReader(t *testing.T) {
	peer, c := connectedUDP(t)
	bufs := [][]byte{make([]byte, 64), make([]byte, 64), make([]byte, 64)}
	r, err := newMmsgReader(c, bufs)
	if err != nil {
		t.Fatal(err)
	}
	sent := [][]byte{
		bytes.Repeat([]byte{1}, 12),
		bytes.Repeat([]byte{2}, 100), // longer than its buffer
		{},
		bytes.Repeat([]byte{4}, 64),
		bytes.Repeat([]byte{5}, 3),
	}
	for _, b := range sent {
		if _, err := peer.WriteToUDP(b, c.LocalAddr().(*net.UDPAddr)); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	got := 0
	for got < len(sent) {
		n, err := r.next()
		if err != nil {
			t.Fatalf("after %d datagrams: %v", got, err)
		}
		if n < 1 || n > len(bufs) {
			t.Fatalf("next() = %d datagrams, want 1..%d", n, len(bufs))
		}
		for i := 0; i < n; i++ {
			want := sent[got]
			trunc := len(want) > len(bufs[i])
			if r.trunc(i) != trunc {
				t.Errorf("datagram %d (%d bytes): trunc %v, want %v", got, len(want), r.trunc(i), trunc)
			}
			if !trunc && !bytes.Equal(bufs[i][:r.size(i)], want) {
				t.Errorf("datagram %d: read % x, want % x", got, bufs[i][:r.size(i)], want)
			}
			got++
		}
	}
	c.Close()
	if _, err := r.next(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("after Close, next() error = %v, want net.ErrClosed", err)
	}
}

// The batch's writer sends each packet whole and in order, at most its
// size per call, and says how many went.
func TestMmsgWriter(t *testing.T) {
	peer, c := connectedUDP(t)
	w, err := newMmsgWriter(c, 4)
	if err != nil {
		t.Fatal(err)
	}
	var pkts [][]byte
	for i := 0; i < 10; i++ {
		pkts = append(pkts, bytes.Repeat([]byte{byte(i)}, 1+i*50))
	}
	for off := 0; off < len(pkts); {
		n, err := w.send(pkts[off:])
		if err != nil {
			t.Fatal(err)
		}
		if n < 1 || n > 4 {
			t.Fatalf("send(%d packets) = %d, want 1..4", len(pkts)-off, n)
		}
		off += n
	}
	if err := peer.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1024)
	for i, want := range pkts {
		n, from, err := peer.ReadFromUDP(buf)
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		if from.Port != c.LocalAddr().(*net.UDPAddr).Port {
			t.Errorf("packet %d from %v, want %v", i, from, c.LocalAddr())
		}
		if !bytes.Equal(buf[:n], want) {
			t.Errorf("packet %d: got %d bytes of %x, want %d of %x", i, n, buf[:1], len(want), want[:1])
		}
	}
}
