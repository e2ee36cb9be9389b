package resolve

import (
	"net"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mmsghdr is struct mmsghdr: a msghdr and the length the kernel received.
// Go pads it as C does (to the msghdr's alignment).
type mmsghdr struct {
	hdr unix.Msghdr
	n   uint32
}

// mmsgReader reads datagrams from a connected UDP socket, up to len(bufs)
// per recvmmsg, into fixed buffers. A connected socket's datagrams all come
// from its peer, so no source address is asked for or parsed: reading
// allocates nothing.
type mmsgReader struct {
	rc   syscall.RawConn
	bufs [][]byte
	iovs []unix.Iovec
	hdrs []mmsghdr
	read func(fd uintptr) bool // the RawConn callback, made once
	got  int
	err  syscall.Errno
}

func newMmsgReader(c *net.UDPConn, bufs [][]byte) (*mmsgReader, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	r := &mmsgReader{rc: rc, bufs: bufs, iovs: make([]unix.Iovec, len(bufs)), hdrs: make([]mmsghdr, len(bufs))}
	for i, b := range bufs {
		r.iovs[i].Base = &b[0]
		r.iovs[i].SetLen(len(b))
		r.hdrs[i].hdr.Iov = &r.iovs[i]
		r.hdrs[i].hdr.SetIovlen(1)
	}
	r.read = func(fd uintptr) bool {
		for {
			n, _, e := syscall.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&r.hdrs[0])), uintptr(len(r.hdrs)), 0, 0, 0)
			switch e {
			case syscall.EINTR:
				continue
			case syscall.EAGAIN:
				return false // wait until the socket is readable
			}
			r.got, r.err = int(n), e
			return true
		}
	}
	return r, nil
}

// next reads the datagrams waiting, at least one, and returns how many:
// datagram i is bufs[i][:size(i)], cut short if trunc(i). The error is
// net.ErrClosed (wrapped) once the socket is closed, or what recvmmsg
// said (an ICMP error such as ECONNREFUSED).
func (r *mmsgReader) next() (int, error) {
	for i := range r.hdrs {
		r.hdrs[i].hdr.Flags = 0
		r.hdrs[i].n = 0
	}
	if err := r.rc.Read(r.read); err != nil {
		return 0, err
	}
	if r.err != 0 {
		return 0, r.err
	}
	return r.got, nil
}

func (r *mmsgReader) size(i int) int { return int(r.hdrs[i].n) }

func (r *mmsgReader) trunc(i int) bool { return r.hdrs[i].hdr.Flags&unix.MSG_TRUNC != 0 }
