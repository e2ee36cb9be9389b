//go:build linux

package tcp

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"
)

// scanConnect opens one TCP connection for a scan with raw non-blocking
// sockets: on loopback and on a LAN most answers (refused, accepted) are
// already in by the time connect(2) returns, so they are read with one
// getsockopt and never touch the poller. The rest wait in Go's netpoller
// with a deadline. With keep, an open connection is returned as a net.Conn;
// otherwise it is closed with a reset (SO_LINGER 0), so scans leave no
// TIME_WAIT behind to exhaust local ports.
func scanConnect(ctx context.Context, ap netip.AddrPort, src netip.Addr, timeout time.Duration, keep bool) (net.Conn, netip.AddrPort, time.Duration, error) {
	family, sa := sockaddr(ap)
	fd, err := syscall.Socket(family, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, syscall.IPPROTO_TCP)
	if err != nil {
		return nil, netip.AddrPort{}, 0, os.NewSyscallError("socket", err)
	}
	if src.IsValid() {
		sfam, ssa := sockaddr(netip.AddrPortFrom(src, 0))
		if sfam != family {
			syscall.Close(fd)
			return nil, netip.AddrPort{}, 0, fmt.Errorf("source %s and target %s are not of the same family", src, ap.Addr())
		}
		if err := syscall.Bind(fd, ssa); err != nil {
			syscall.Close(fd)
			return nil, netip.AddrPort{}, 0, os.NewSyscallError("bind", err)
		}
	}
	start := time.Now()
	err = syscall.Connect(fd, sa)
	if err == nil {
		local, self := localAddr(fd)
		if self {
			syscall.Close(fd)
			return nil, local, time.Since(start), errSelfConnect
		}
		return finish(fd, local, time.Since(start), keep)
	}
	if err != syscall.EINPROGRESS && err != syscall.EINTR {
		syscall.Close(fd)
		return nil, netip.AddrPort{}, time.Since(start), os.NewSyscallError("connect", err)
	}
	// Fast path: the answer may already be in.
	if done, err := connectDone(fd); done {
		var local netip.AddrPort
		if err == nil {
			var self bool
			if local, self = localAddr(fd); self {
				err = errSelfConnect
			}
		}
		if err != nil {
			syscall.Close(fd)
			return nil, local, time.Since(start), err
		}
		return finish(fd, local, time.Since(start), keep)
	}
	f := os.NewFile(uintptr(fd), "")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, netip.AddrPort{}, 0, err
	}
	deadline := start.Add(timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = f.SetWriteDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = f.SetWriteDeadline(time.Unix(1, 0)) })
	var cerr error
	first := true
	werr := rc.Write(func(fd uintptr) bool {
		if first {
			first = false
			return false // wait for writability first
		}
		done, err := connectDone(int(fd))
		cerr = err
		return done
	})
	stop()
	rtt := time.Since(start)
	var local netip.AddrPort
	if werr != nil {
		f.Close()
		if ctx.Err() != nil {
			return nil, local, rtt, ctx.Err()
		}
		return nil, local, rtt, werr
	}
	if cerr == nil {
		_ = rc.Control(func(fd uintptr) {
			var self bool
			if local, self = localAddr(int(fd)); self {
				cerr = errSelfConnect
			}
		})
	}
	if cerr != nil {
		f.Close()
		return nil, local, rtt, cerr
	}
	if !keep {
		setLinger0(rc)
		f.Close()
		return nil, local, rtt, nil
	}
	c, err := net.FileConn(f)
	f.Close()
	return c, local, rtt, err
}

func sockaddr(ap netip.AddrPort) (int, syscall.Sockaddr) {
	addr := ap.Addr().Unmap()
	if addr.Is4() {
		return syscall.AF_INET, &syscall.SockaddrInet4{Port: int(ap.Port()), Addr: addr.As4()}
	}
	s6 := &syscall.SockaddrInet6{Port: int(ap.Port()), Addr: addr.As16()}
	if z := addr.Zone(); z != "" {
		if ifi, err := net.InterfaceByName(z); err == nil {
			s6.ZoneId = uint32(ifi.Index)
		}
	}
	return syscall.AF_INET6, s6
}

// localAddr returns the connection's local address and whether it is
// connected to itself (a TCP simultaneous open with itself: connecting to a
// free port on a local address can pick that very port as the ephemeral
// source and "succeed" with nobody listening; Go's dialer guards against it
// the same way).
func localAddr(fd int) (netip.AddrPort, bool) {
	la, err := syscall.Getsockname(fd)
	if err != nil {
		return netip.AddrPort{}, false
	}
	local := addrPortOf(la)
	ra, err := syscall.Getpeername(fd)
	if err != nil {
		return local, false
	}
	return local, local.IsValid() && local == addrPortOf(ra)
}

func addrPortOf(sa syscall.Sockaddr) netip.AddrPort {
	switch a := sa.(type) {
	case *syscall.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port))
	case *syscall.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr).Unmap(), uint16(a.Port))
	}
	return netip.AddrPort{}
}

// connectDone reports whether a non-blocking connect has finished and how.
func connectDone(fd int) (bool, error) {
	soerr, err := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_ERROR)
	if err != nil {
		return true, os.NewSyscallError("getsockopt", err)
	}
	switch e := syscall.Errno(soerr); e {
	case syscall.EINPROGRESS, syscall.EALREADY, syscall.EINTR:
		return false, nil
	case syscall.EISCONN:
		return true, nil
	case 0:
		if _, err := syscall.Getpeername(fd); err == nil {
			return true, nil
		}
		return false, nil
	default:
		return true, os.NewSyscallError("connect", e)
	}
}

func finish(fd int, local netip.AddrPort, rtt time.Duration, keep bool) (net.Conn, netip.AddrPort, time.Duration, error) {
	if !keep {
		_ = syscall.SetsockoptLinger(fd, syscall.SOL_SOCKET, syscall.SO_LINGER, &syscall.Linger{Onoff: 1, Linger: 0})
		syscall.Close(fd)
		return nil, local, rtt, nil
	}
	f := os.NewFile(uintptr(fd), "")
	c, err := net.FileConn(f)
	f.Close()
	return c, local, rtt, err
}

func setLinger0(rc syscall.RawConn) {
	_ = rc.Control(func(fd uintptr) {
		_ = syscall.SetsockoptLinger(int(fd), syscall.SOL_SOCKET, syscall.SO_LINGER, &syscall.Linger{Onoff: 1, Linger: 0})
	})
}
