//go:build !linux

package resolve

import (
	"net"
	"syscall"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// batchConn is x/net's recvmmsg/sendmmsg view of a UDP socket.
type batchConn interface {
	ReadBatch(ms []ipv4.Message, flags int) (int, error)
	WriteBatch(ms []ipv4.Message, flags int) (int, error)
}

// mmsgReader reads datagrams into fixed buffers through x/net, which
// reads one at a time on systems without recvmmsg.
type mmsgReader struct {
	bc   batchConn
	msgs []ipv4.Message
}

func newMmsgReader(c *net.UDPConn, bufs [][]byte) (*mmsgReader, error) {
	var bc batchConn = ipv4.NewPacketConn(c)
	if ua, ok := c.RemoteAddr().(*net.UDPAddr); ok && ua.IP.To4() == nil {
		bc = ipv6.NewPacketConn(c)
	}
	r := &mmsgReader{bc: bc, msgs: make([]ipv4.Message, len(bufs))}
	for i, b := range bufs {
		r.msgs[i].Buffers = [][]byte{b}
	}
	return r, nil
}

func (r *mmsgReader) next() (int, error) { return r.bc.ReadBatch(r.msgs, 0) }

func (r *mmsgReader) size(i int) int { return r.msgs[i].N }

func (r *mmsgReader) trunc(i int) bool { return r.msgs[i].Flags&syscall.MSG_TRUNC != 0 }

// mmsgWriter sends datagrams through x/net.
type mmsgWriter struct {
	bc   batchConn
	msgs []ipv4.Message
}

func newMmsgWriter(c *net.UDPConn, max int) (*mmsgWriter, error) {
	r, _ := newMmsgReader(c, nil)
	w := &mmsgWriter{bc: r.bc, msgs: make([]ipv4.Message, max)}
	for i := range w.msgs {
		w.msgs[i].Buffers = make([][]byte, 1)
	}
	return w, nil
}

func (w *mmsgWriter) send(pkts [][]byte) (int, error) {
	n := min(len(pkts), len(w.msgs))
	for i, p := range pkts[:n] {
		w.msgs[i].Buffers[0] = p
	}
	return w.bc.WriteBatch(w.msgs[:n], 0)
}
