//go:build !linux

package resolve

import (
	"net"
	"syscall"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

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
