//go:build linux

package trace

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"os"
	"syscall"
	"time"
	"unsafe"

	"github.com/nettool/nettool/probe"
	"github.com/nettool/nettool/probe/ping"
	"golang.org/x/sys/unix"
)

func newTransport(e *engine, size int) (transport, error) {
	switch e.o.Method {
	case UDP:
		return newUDP(e, size)
	case TCP:
		return newTCP(e)
	}
	return newICMP(e, size)
}

// Origins of an error-queue message (linux/errqueue.h).
const (
	eeOriginLocal = 1
	eeOriginICMP  = 2
	eeOriginICMP6 = 3
)

// mtuCarrying: an ICMP error whose info is the next-hop MTU.
func mtuCarrying(v6 bool, typ, code int) bool {
	if v6 {
		return typ == icmp6TooBig
	}
	return typ == icmp4Unreach && code == 4
}

func sockaddrOf(a netip.Addr, port int) unix.Sockaddr {
	if a.Is4() {
		return &unix.SockaddrInet4{Addr: a.As4(), Port: port}
	}
	return &unix.SockaddrInet6{Addr: a.As16(), Port: port}
}

// bindSource binds an ICMP socket to the source address asked for.
func bindSource(s *ping.Socket, src netip.Addr) error {
	if !src.IsValid() {
		return nil
	}
	if s.Kind() == ping.KindDgram {
		return errors.New("a source address for ICMP needs a raw socket (or use --udp or --tcp)")
	}
	var berr error
	err := s.Control(func(fd uintptr) { berr = unix.Bind(int(fd), sockaddrOf(src.Unmap(), 0)) })
	if err != nil {
		return err
	}
	return berr
}

// setDontFragment turns path MTU discovery on: DF set, the kernel answers
// a too-big send with EMSGSIZE and keeps the MTU it learns (tracepath).
func setDontFragment(fd int, v6 bool) {
	if v6 {
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_MTU_DISCOVER, unix.IPV6_PMTUDISC_PROBE)
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_DONTFRAG, 1)
		return
	}
	_ = unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_PROBE)
}

func setTTL(fd int, v6 bool, ttl int) error {
	if v6 {
		return unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_UNICAST_HOPS, ttl)
	}
	return unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_TTL, ttl)
}

// queuedErr is one error-queue message of a UDP or TCP socket.
type queuedErr struct {
	ok             bool
	origin         uint8
	typ, code      uint8
	errno, info    uint32
	offender, from netip.Addr
	when           time.Time
}

// parseErrCmsg reads the control messages of an error-queue read.
func parseErrCmsg(oob []byte) queuedErr {
	var q queuedErr
	const hdr = unix.SizeofCmsghdr
	for len(oob) >= hdr {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
		l := int(h.Len)
		if l < hdr || l > len(oob) {
			break
		}
		data := oob[hdr:l]
		switch {
		case h.Level == unix.SOL_SOCKET && h.Type == unix.SO_TIMESTAMPNS && len(data) >= int(unsafe.Sizeof(unix.Timespec{})):
			ts := (*unix.Timespec)(unsafe.Pointer(&data[0]))
			q.when = time.Unix(int64(ts.Sec), int64(ts.Nsec))
		case (h.Level == unix.IPPROTO_IP && h.Type == unix.IP_RECVERR || h.Level == unix.IPPROTO_IPV6 && h.Type == unix.IPV6_RECVERR) &&
			len(data) >= int(unsafe.Sizeof(unix.SockExtendedErr{})):
			ee := (*unix.SockExtendedErr)(unsafe.Pointer(&data[0]))
			q.ok = true
			q.origin, q.typ, q.code, q.errno, q.info = ee.Origin, ee.Type, ee.Code, ee.Errno, ee.Info
			off := data[unsafe.Sizeof(unix.SockExtendedErr{}):]
			if len(off) >= 8 && binary.NativeEndian.Uint16(off) == unix.AF_INET {
				q.offender = netip.AddrFrom4([4]byte(off[4:8]))
			} else if len(off) >= 24 && binary.NativeEndian.Uint16(off) == unix.AF_INET6 {
				q.offender = netip.AddrFrom16([16]byte(off[8:24])).Unmap()
			}
		}
		a := int(unsafe.Sizeof(uintptr(0)))
		next := (l + a - 1) &^ (a - 1)
		if next >= len(oob) {
			break
		}
		oob = oob[next:]
	}
	if q.when.IsZero() {
		q.when = time.Now()
	}
	return q
}

// newSocket opens a non-blocking socket with the error queue on.
func newSocket(v6 bool, typ int, src netip.Addr) (int, error) {
	fam := unix.AF_INET
	if v6 {
		fam = unix.AF_INET6
	}
	fd, err := unix.Socket(fam, typ|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, probe.Localf("socket: %v", err)
	}
	if v6 {
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_RECVERR, 1)
	} else {
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_RECVERR, 1)
	}
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1)
	if src.IsValid() {
		if err := unix.Bind(fd, sockaddrOf(src.Unmap(), 0)); err != nil {
			unix.Close(fd)
			return -1, probe.Localf("bind %s: %v", src, err)
		}
	}
	return fd, nil
}

func fileOf(fd int, name string) (*os.File, syscall.RawConn, error) {
	f := os.NewFile(uintptr(fd), name)
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, rc, nil
}
