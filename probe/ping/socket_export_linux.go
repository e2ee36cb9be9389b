//go:build linux

package ping

import (
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
)

// Socket is one of ping's ICMP sockets, opened with the same privilege
// ladder (an unprivileged datagram socket, then a raw one), for other probes
// that send ICMP: probe/trace sends its TTL-limited echo requests on it.
type Socket struct{ s *sock }

// OpenSocket opens an ICMP socket for one family as ping does. When neither
// kind can be opened the error is a *PermissionError, whose text carries the
// one-line hint ping prints.
func OpenSocket(v6 bool, mode SocketMode) (*Socket, error) {
	s, err := openSocket(v6, mode, 0)
	if err != nil {
		return nil, err
	}
	return &Socket{s: s}, nil
}

// Kind says whether the socket is a datagram (unprivileged) or a raw one.
func (s *Socket) Kind() SocketKind { return s.s.kind }

// ID is the ICMP ID the kernel gave a datagram socket (0 on a raw socket,
// where the sender picks it).
func (s *Socket) ID() uint16 { return s.s.id }

// V6 reports whether the socket is ICMPv6.
func (s *Socket) V6() bool { return s.s.v6 }

// SetTTL sets the TTL (hop limit) of the packets sent next.
func (s *Socket) SetTTL(ttl int) error {
	return setTTL(s.s.rc, s.s.v6, ttl)
}

// Control runs f with the socket's file descriptor (for more options).
func (s *Socket) Control(f func(fd uintptr)) error { return s.s.rc.Control(f) }

// Send writes an ICMP message to dst; on a raw IPv4 socket the caller fills
// the checksum (Checksum), the kernel fills it everywhere else. It returns
// the time right before the system call.
func (s *Socket) Send(dst netip.Addr, msg []byte) (time.Time, error) {
	return s.s.send(sockaddr(dst), func(time.Time) []byte { return msg })
}

// Received is one message read from the socket.
type Received struct {
	N    int        // bytes in buf (a raw IPv4 read starts with the IP header)
	From netip.Addr // the sender (for an error-queue message: the probe's destination)
	TTL  int        // of the received packet, -1 when unknown
	When time.Time  // kernel receive time, or the time of the read

	// An error-queue message (datagram sockets): buf holds our own message
	// as the ICMP error quoted it.
	IsErr          bool
	EEOrigin       uint8 // 2: ICMP, 3: ICMPv6, 1: local
	EEType, EECode uint8
	EEErrno        uint32
	EEInfo         uint32 // the MTU of a "fragmentation needed" / "packet too big"
	Offender       netip.Addr
}

// Recv reads one message into buf (oob is scratch space for control
// messages, 256 bytes is plenty). It blocks until a message comes or the
// socket is closed.
func (s *Socket) Recv(buf, oob []byte) (Received, error) {
	return s.recvMode(buf, oob, true)
}

// ErrNothing is TryRecv's error when no message is queued.
var ErrNothing = errNothing

// TryRecv is Recv that does not wait: with no message queued it returns
// ErrNothing at once.
func (s *Socket) TryRecv(buf, oob []byte) (Received, error) { return s.recvMode(buf, oob, false) }

func (s *Socket) recvMode(buf, oob []byte, block bool) (Received, error) {
	r, err := s.s.recvMode(buf, oob, block)
	if err != nil {
		return Received{}, err
	}
	return Received{N: r.n, From: r.from, TTL: r.ttl, When: r.when, IsErr: r.isErr, EEOrigin: r.eeOrigin,
		EEType: r.eeType, EECode: r.eeCode, EEErrno: r.eeErrno, EEInfo: r.eeInfo, Offender: r.offender}, nil
}

// Close closes the socket; a blocked Recv returns.
func (s *Socket) Close() error { return s.s.close() }

// Checksum is the Internet checksum (RFC 1071) of b.
func Checksum(b []byte) uint16 { return checksum(b) }

// IsPermission reports whether err says no socket could be opened.
func IsPermission(err error) bool {
	_, ok := err.(*PermissionError)
	return ok
}

func setTTL(rc interface {
	Control(func(uintptr)) error
}, v6 bool, ttl int) error {
	var serr error
	err := rc.Control(func(fd uintptr) {
		if v6 {
			serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_UNICAST_HOPS, ttl)
		} else {
			serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_TTL, ttl)
		}
	})
	if err != nil {
		return err
	}
	return serr
}
