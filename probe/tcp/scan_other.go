//go:build !linux

package tcp

import (
	"context"
	"net"
	"net/netip"
	"time"
)

// scanConnect opens one TCP connection for a scan with the standard dialer.
func scanConnect(ctx context.Context, ap netip.AddrPort, src netip.Addr, timeout time.Duration, keep bool) (net.Conn, netip.AddrPort, time.Duration, error) {
	d := net.Dialer{Timeout: timeout}
	if src.IsValid() {
		d.LocalAddr = &net.TCPAddr{IP: src.AsSlice()}
	}
	start := time.Now()
	c, err := d.DialContext(ctx, "tcp", ap.String())
	rtt := time.Since(start)
	if err != nil {
		return nil, netip.AddrPort{}, rtt, err
	}
	local, _ := netip.ParseAddrPort(c.LocalAddr().String())
	if !keep {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		c.Close()
		return nil, local, rtt, nil
	}
	return c, local, rtt, nil
}
