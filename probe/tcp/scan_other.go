//go:build !linux

package tcp

import (
	"context"
	"net"
	"net/netip"
	"time"
)

// scanConnect opens one TCP connection for a scan with the standard dialer.
func scanConnect(ctx context.Context, ap netip.AddrPort, src netip.Addr, timeout time.Duration, keep bool) (net.Conn, time.Duration, error) {
	d := net.Dialer{Timeout: timeout}
	if src.IsValid() {
		d.LocalAddr = &net.TCPAddr{IP: src.AsSlice()}
	}
	start := time.Now()
	c, err := d.DialContext(ctx, "tcp", ap.String())
	rtt := time.Since(start)
	if err != nil {
		return nil, rtt, err
	}
	if !keep {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		c.Close()
		return nil, rtt, nil
	}
	return c, rtt, nil
}
