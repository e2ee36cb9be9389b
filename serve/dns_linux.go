package serve

import (
	"net"
	"syscall"
)

// dnsGrowReadBuffer raises the socket's receive buffer: SO_RCVBUFFORCE when
// allowed (root or CAP_NET_ADMIN), else SO_RCVBUF, which the kernel caps at
// net.core.rmem_max. Failing is harmless.
func dnsGrowReadBuffer(c *net.UDPConn) {
	rc, err := c.SyscallConn()
	if err == nil {
		var serr error
		cerr := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, dnsReadBuffer)
		})
		if cerr == nil && serr == nil {
			return
		}
	}
	_ = c.SetReadBuffer(dnsReadBuffer)
}
