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

// mmsg is one socket's recvmmsg or sendmmsg: a header and an iovec per
// datagram, on a connected UDP socket. A connected socket's datagrams all
// come from or go to its peer, so no address is asked for or parsed, and a
// call allocates nothing.
//
// The calls go in as raw system calls, which the scheduler is not told of:
// on a non-blocking socket they never sleep (EAGAIN instead), but on
// loopback a sendmmsg of 32 queries runs the server's receive path too and
// takes ~100 us. Told of a call that long, Go's sysmon hands the
// goroutine's P to another thread and wakes it, again and again: in a batch
// of 20,000 names against nsd (strace -c -f) the raw calls took futex
// calls from 611 to 92 and sysmon's nanosleeps from 900 to 288.
type mmsg struct {
	rc   syscall.RawConn
	trap uintptr // unix.SYS_RECVMMSG or unix.SYS_SENDMMSG
	iovs []unix.Iovec
	hdrs []mmsghdr
	n    int                   // headers to pass, from hdrs[0]
	call func(fd uintptr) bool // the RawConn callback, made once
	got  int
	err  syscall.Errno
}

func newMmsg(c *net.UDPConn, trap uintptr, size int) (*mmsg, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	m := &mmsg{rc: rc, trap: trap, iovs: make([]unix.Iovec, size), hdrs: make([]mmsghdr, size)}
	for i := range m.hdrs {
		m.hdrs[i].hdr.Iov = &m.iovs[i]
		m.hdrs[i].hdr.SetIovlen(1)
	}
	m.call = func(fd uintptr) bool {
		for {
			n, _, e := syscall.RawSyscall6(m.trap, fd, uintptr(unsafe.Pointer(&m.hdrs[0])), uintptr(m.n), 0, 0, 0)
			switch e {
			case syscall.EINTR:
				continue
			case syscall.EAGAIN:
				return false // wait in the poller until the socket is ready
			}
			m.got, m.err = int(n), e
			return true
		}
	}
	return m, nil
}

// do makes the call on the first n headers, waiting until the socket is
// readable or (write) has room, and returns how many datagrams moved. The
// error is net.ErrClosed (wrapped) once the socket is closed, or what the
// call said (an ICMP error such as ECONNREFUSED).
func (m *mmsg) do(n int, write bool) (int, error) {
	m.n = n
	var err error
	if write {
		err = m.rc.Write(m.call)
	} else {
		err = m.rc.Read(m.call)
	}
	if err != nil {
		return 0, err
	}
	if m.err != 0 {
		return 0, m.err
	}
	return m.got, nil
}

// mmsgReader reads datagrams from a connected UDP socket, up to len(bufs)
// per recvmmsg, into fixed buffers.
type mmsgReader struct{ m *mmsg }

func newMmsgReader(c *net.UDPConn, bufs [][]byte) (*mmsgReader, error) {
	m, err := newMmsg(c, unix.SYS_RECVMMSG, len(bufs))
	if err != nil {
		return nil, err
	}
	for i, b := range bufs {
		m.iovs[i].Base = &b[0]
		m.iovs[i].SetLen(len(b))
	}
	return &mmsgReader{m}, nil
}

// next reads the datagrams waiting, at least one, and returns how many:
// datagram i is bufs[i][:size(i)], cut short if trunc(i). Errors are do's.
func (r *mmsgReader) next() (int, error) {
	for i := range r.m.hdrs {
		r.m.hdrs[i].hdr.Flags = 0
		r.m.hdrs[i].n = 0
	}
	return r.m.do(len(r.m.hdrs), false)
}

func (r *mmsgReader) size(i int) int { return int(r.m.hdrs[i].n) }

func (r *mmsgReader) trunc(i int) bool { return r.m.hdrs[i].hdr.Flags&unix.MSG_TRUNC != 0 }

// mmsgWriter sends datagrams on a connected UDP socket, up to max per
// sendmmsg.
type mmsgWriter struct{ m *mmsg }

func newMmsgWriter(c *net.UDPConn, max int) (*mmsgWriter, error) {
	m, err := newMmsg(c, unix.SYS_SENDMMSG, max)
	if err != nil {
		return nil, err
	}
	return &mmsgWriter{m}, nil
}

// send sends pkts (at most max, none empty) and returns how many went out:
// a short count when the socket ran out of room part way.
func (w *mmsgWriter) send(pkts [][]byte) (int, error) {
	if len(pkts) == 0 {
		return 0, nil
	}
	m := w.m
	n := min(len(pkts), len(m.hdrs))
	for i, p := range pkts[:n] {
		m.iovs[i].Base = &p[0]
		m.iovs[i].SetLen(len(p))
		m.hdrs[i].n = 0
	}
	sent, err := m.do(n, true)
	for i := range m.iovs[:n] {
		m.iovs[i].Base = nil // keep no packet alive
	}
	return sent, err
}
