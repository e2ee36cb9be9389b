//go:build linux

package ping

import (
	"os"

	"golang.org/x/sys/unix"
)

// setDontFragment forbids fragmentation of the socket's packets
// (IP_PMTUDISC_DO, IPV6_DONTFRAG).
func (s *sock) setDontFragment() error {
	var serr error
	err := s.rc.Control(func(fd uintptr) {
		if s.v6 {
			serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_DONTFRAG, 1)
			if serr != nil {
				serr = os.NewSyscallError("setsockopt IPV6_DONTFRAG", serr)
			}
			return
		}
		serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_DO)
		if serr != nil {
			serr = os.NewSyscallError("setsockopt IP_MTU_DISCOVER", serr)
		}
	})
	if err != nil {
		return err
	}
	return serr
}
