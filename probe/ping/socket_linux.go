//go:build linux

package ping

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// sock is one ICMP socket shared by every target of one address family.
type sock struct {
	v6     bool
	kind   SocketKind
	id     uint16 // the ICMP ID the kernel gave an unprivileged socket (its "port")
	f      *os.File
	rc     syscall.RawConn
	kernTS bool // SO_TIMESTAMPNS is on: receive times come from the kernel
}

// openSocket opens the ICMP socket for one family: an unprivileged ICMP
// datagram socket first (allowed by net.ipv4.ping_group_range), then a raw
// socket (root or CAP_NET_RAW), as iputils does.
func openSocket(v6 bool, mode SocketMode, ttl int) (*sock, error) {
	var dgramErr error
	if mode == SocketAuto || mode == SocketDgram {
		s, err := openKind(v6, KindDgram, ttl)
		if err == nil {
			return s, nil
		}
		dgramErr = err
		if mode == SocketDgram {
			return nil, permError(v6, err, nil)
		}
		if !fallbackErr(err) {
			return nil, fmt.Errorf("open unprivileged ICMP socket: %w", err)
		}
	}
	s, err := openKind(v6, KindRaw, ttl)
	if err == nil {
		return s, nil
	}
	return nil, permError(v6, dgramErr, err)
}

// fallbackErr reports whether a failed datagram socket is worth retrying as
// a raw one (iputils: EACCES, EPERM, EPROTONOSUPPORT, EAFNOSUPPORT).
func fallbackErr(err error) bool {
	return errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) ||
		errors.Is(err, unix.EPROTONOSUPPORT) || errors.Is(err, unix.EAFNOSUPPORT)
}

// PermissionError is returned when no ICMP socket could be opened.
type PermissionError struct {
	Dgram, Raw error // why each kind failed (nil: not tried)
	V6         bool
}

func (e *PermissionError) Error() string {
	fam := "ICMP"
	if e.V6 {
		fam = "ICMPv6"
	}
	why := ""
	switch {
	case e.Dgram != nil && e.Raw != nil:
		why = fmt.Sprintf("unprivileged socket: %v; raw socket: %v", errText(e.Dgram), errText(e.Raw))
	case e.Dgram != nil:
		why = "unprivileged socket: " + errText(e.Dgram)
	case e.Raw != nil:
		why = "raw socket: " + errText(e.Raw)
	}
	return fmt.Sprintf("cannot open an %s socket (%s): allow unprivileged ping with `sysctl -w net.ipv4.ping_group_range=\"0 2147483647\"`, or give nettool raw sockets with `sudo setcap cap_net_raw+ep $(command -v nettool)` (or run as root)", fam, why)
}

func (e *PermissionError) Unwrap() []error { return []error{e.Dgram, e.Raw} }

func errText(err error) string {
	var se *os.SyscallError
	if errors.As(err, &se) {
		return se.Err.Error()
	}
	return err.Error()
}

func permError(v6 bool, dgram, raw error) error {
	return &PermissionError{Dgram: dgram, Raw: raw, V6: v6}
}

func openKind(v6 bool, kind SocketKind, ttl int) (*sock, error) {
	family, proto := unix.AF_INET, unix.IPPROTO_ICMP
	if v6 {
		family, proto = unix.AF_INET6, unix.IPPROTO_ICMPV6
	}
	typ := unix.SOCK_DGRAM
	if kind == KindRaw {
		typ = unix.SOCK_RAW
	}
	fd, err := unix.Socket(family, typ|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, proto)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	ok := false
	defer func() {
		if !ok {
			unix.Close(fd)
		}
	}()
	s := &sock{v6: v6, kind: kind}
	// Kernel receive timestamps: the RTT does not include Go's scheduling.
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1) == nil {
		s.kernTS = true
	}
	// Room for a burst of replies from many hosts (root may exceed rmem_max).
	const rcvbuf = 4 << 20
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, rcvbuf) != nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, rcvbuf)
	}
	if v6 {
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_RECVHOPLIMIT, 1)
		if ttl > 0 {
			if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_UNICAST_HOPS, ttl); err != nil {
				return nil, os.NewSyscallError("setsockopt IPV6_UNICAST_HOPS", err)
			}
		}
		if kind == KindRaw {
			// Only echo replies and the errors that quote our requests.
			var filt unix.ICMPv6Filter
			for i := range filt.Data {
				filt.Data[i] = 0xffffffff // block everything...
			}
			for _, t := range []int{icmpv6EchoReply, icmpv6DestUnreach, icmpv6PacketTooBig, icmpv6TimeExceeded, icmpv6ParamProblem} {
				filt.Data[t>>5] &^= 1 << (uint(t) & 31) // ...but these
			}
			_ = unix.SetsockoptICMPv6Filter(fd, unix.IPPROTO_ICMPV6, 1 /* ICMPV6_FILTER */, &filt)
		}
	} else {
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_RECVTTL, 1)
		if ttl > 0 {
			if err := unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_TTL, ttl); err != nil {
				return nil, os.NewSyscallError("setsockopt IP_TTL", err)
			}
		}
		if kind == KindRaw {
			// ICMP_FILTER (SOL_RAW): a bit set blocks that type. Echo requests
			// sent to ourselves on loopback would otherwise be read back.
			mask := ^uint32(1<<icmpv4EchoReply | 1<<icmpv4DestUnreach | 1<<icmpv4TimeExceeded | 1<<icmpv4ParamProblem)
			_ = unix.SetsockoptInt(fd, unix.SOL_RAW, 1 /* ICMP_FILTER */, int(mask))
		}
	}
	if kind == KindDgram {
		// ICMP errors (time exceeded, unreachable) reach an unprivileged
		// socket only through its error queue.
		if v6 {
			_ = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_RECVERR, 1)
		} else {
			_ = unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_RECVERR, 1)
		}
		// Bind now so the kernel assigns the ICMP ID ("port") we can report.
		var sa unix.Sockaddr = &unix.SockaddrInet4{}
		if v6 {
			sa = &unix.SockaddrInet6{}
		}
		if err := unix.Bind(fd, sa); err != nil {
			return nil, os.NewSyscallError("bind", err)
		}
		if got, err := unix.Getsockname(fd); err == nil {
			switch a := got.(type) {
			case *unix.SockaddrInet4:
				s.id = uint16(a.Port)
			case *unix.SockaddrInet6:
				s.id = uint16(a.Port)
			}
		}
	}
	s.f = os.NewFile(uintptr(fd), "icmp")
	rc, err := s.f.SyscallConn()
	if err != nil {
		s.f.Close()
		ok = true // closed by f
		return nil, err
	}
	s.rc = rc
	ok = true
	return s, nil
}

func (s *sock) close() error { return s.f.Close() }

func sockaddr(a netip.Addr) unix.Sockaddr {
	if a.Is4() {
		return &unix.SockaddrInet4{Addr: a.As4()}
	}
	sa := &unix.SockaddrInet6{Addr: a.As16()}
	if z := a.Zone(); z != "" {
		if ifi, err := netInterfaceIndex(z); err == nil {
			sa.ZoneId = uint32(ifi)
		}
	}
	return sa
}

// send writes pkt to dst. stamp is called right before the system call and
// returns the packet to write (so the send time is taken as late as
// possible); it returns that time.
func (s *sock) send(dst unix.Sockaddr, stamp func(now time.Time) []byte) (time.Time, error) {
	var sent time.Time
	var serr error
	err := s.rc.Write(func(fd uintptr) bool {
		sent = time.Now()
		pkt := stamp(sent)
		serr = unix.Sendto(int(fd), pkt, 0, dst)
		return serr != unix.EAGAIN
	})
	if err != nil {
		return sent, err
	}
	if serr != nil {
		return sent, os.NewSyscallError("sendto", serr)
	}
	return sent, nil
}

// received is one read from the socket.
type received struct {
	n    int
	from netip.Addr
	ttl  int       // from IP_TTL / IPV6_HOPLIMIT, -1 when absent
	when time.Time // kernel timestamp, or the time of the read

	// From the error queue (unprivileged sockets): buf holds our own echo
	// request as sent, from is its destination.
	isErr          bool
	eeOrigin       uint8
	eeType, eeCode uint8
	eeErrno        uint32
	eeInfo         uint32
	offender       netip.Addr
}

// recv reads one message into buf; oob is scratch space for control
// messages. It blocks until a message arrives or the socket is closed.
func (s *sock) recv(buf, oob []byte) (received, error) { return s.recvMode(buf, oob, true) }

// errNothing is what a non-blocking read returns when no message is queued.
var errNothing = errors.New("no message queued")

// recvMode is recv; with block false it returns errNothing at once when no
// message is queued.
func (s *sock) recvMode(buf, oob []byte, block bool) (received, error) {
	var r received
	var n, oobn int
	var from unix.Sockaddr
	var rerr error
	isErr := false
	err := s.rc.Read(func(fd uintptr) bool {
		isErr = false
		n, oobn, _, from, rerr = unix.Recvmsg(int(fd), buf, oob, 0)
		if rerr == unix.EAGAIN && s.kind == KindDgram {
			n, oobn, _, from, rerr = unix.Recvmsg(int(fd), buf, oob, unix.MSG_ERRQUEUE)
			isErr = rerr == nil
		}
		return !block || rerr != unix.EAGAIN
	})
	if err != nil {
		return r, err
	}
	if rerr == unix.EAGAIN {
		return r, errNothing
	}
	if rerr != nil {
		return r, os.NewSyscallError("recvmsg", rerr)
	}
	r.n = n
	r.ttl = -1
	r.isErr = isErr
	switch a := from.(type) {
	case *unix.SockaddrInet4:
		r.from = netip.AddrFrom4(a.Addr)
	case *unix.SockaddrInet6:
		r.from = netip.AddrFrom16(a.Addr)
	}
	parseControl(oob[:oobn], &r)
	if r.when.IsZero() {
		r.when = time.Now()
	}
	return r, nil
}

// parseControl walks the control messages by hand (no allocation per read).
func parseControl(b []byte, r *received) {
	const hdr = unix.SizeofCmsghdr
	for len(b) >= hdr {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
		l := int(h.Len)
		if l < hdr || l > len(b) {
			return
		}
		data := b[hdr:l]
		switch {
		case h.Level == unix.SOL_SOCKET && h.Type == unix.SO_TIMESTAMPNS && len(data) >= int(unsafe.Sizeof(unix.Timespec{})):
			ts := (*unix.Timespec)(unsafe.Pointer(&data[0]))
			r.when = time.Unix(int64(ts.Sec), int64(ts.Nsec))
		case h.Level == unix.IPPROTO_IP && h.Type == unix.IP_TTL && len(data) >= 4:
			r.ttl = int(*(*int32)(unsafe.Pointer(&data[0])))
		case h.Level == unix.IPPROTO_IPV6 && h.Type == unix.IPV6_HOPLIMIT && len(data) >= 4:
			r.ttl = int(*(*int32)(unsafe.Pointer(&data[0])))
		case (h.Level == unix.IPPROTO_IP && h.Type == unix.IP_RECVERR || h.Level == unix.IPPROTO_IPV6 && h.Type == unix.IPV6_RECVERR) &&
			len(data) >= sizeofSockExtendedErr:
			ee := (*unix.SockExtendedErr)(unsafe.Pointer(&data[0]))
			r.eeErrno, r.eeOrigin, r.eeType, r.eeCode, r.eeInfo = ee.Errno, ee.Origin, ee.Type, ee.Code, ee.Info
			off := data[sizeofSockExtendedErr:]
			// SO_EE_OFFENDER: the sockaddr of who sent the ICMP error.
			if len(off) >= 8 && binary.NativeEndian.Uint16(off) == unix.AF_INET {
				r.offender = netip.AddrFrom4([4]byte(off[4:8]))
			} else if len(off) >= 24 && binary.NativeEndian.Uint16(off) == unix.AF_INET6 {
				r.offender = netip.AddrFrom16([16]byte(off[8:24])).Unmap()
			}
		}
		next := cmsgAlign(l)
		if next >= len(b) {
			return
		}
		b = b[next:]
	}
}

func cmsgAlign(n int) int {
	const a = int(unsafe.Sizeof(uintptr(0)))
	return (n + a - 1) &^ (a - 1)
}

// Origins of an error-queue message (linux/errqueue.h).
const (
	eeOriginLocal = 1
	eeOriginICMP  = 2
	eeOriginICMP6 = 3
)

// parseQueuedError reads a message from an unprivileged socket's error
// queue: b is our own echo request (the kernel's ICMP ID in it), the
// control message said what went wrong.
func parseQueuedError(b []byte, v6 bool, r received) (parsed, error) {
	p := parsed{ttl: -1}
	echoReq := icmpv4Echo
	if v6 {
		echoReq = icmpv6Echo
	}
	if len(b) < icmpHeaderLen || int(b[0]) != echoReq {
		return p, errShort
	}
	p.kind = msgError
	p.id = binary.BigEndian.Uint16(b[4:])
	p.seq = binary.BigEndian.Uint16(b[6:])
	p.payload = b[icmpHeaderLen:]
	p.quotedDst = r.from
	switch r.eeOrigin {
	case eeOriginICMP, eeOriginICMP6:
		p.errType, p.errCode = int(r.eeType), int(r.eeCode)
	default:
		p.errText = unix.Errno(r.eeErrno).Error()
	}
	return p, nil
}

const sizeofSockExtendedErr = int(unsafe.Sizeof(unix.SockExtendedErr{}))
