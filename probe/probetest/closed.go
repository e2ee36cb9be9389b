package probetest

import (
	"net/netip"
	"syscall"
	"testing"
)

// ClosedTCPPort returns an address on 127.0.0.1 where a TCP connection is
// refused for the whole test: the port is bound to a socket that never
// listens, held until the test ends. (Listening on port 0 and closing gives
// a port that the next listener, or the next such call, may be handed
// again: two "closed" ports were once the same port, and a closed port
// could turn open under a test running alongside.)
func ClosedTCPPort(t testing.TB) netip.AddrPort {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		syscall.Close(fd)
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		syscall.Close(fd)
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	return netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(sa.(*syscall.SockaddrInet4).Port))
}
