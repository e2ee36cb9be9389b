//go:build !linux

package serve

import "net"

// dnsGrowReadBuffer asks for a larger receive buffer; the system may give
// less.
func dnsGrowReadBuffer(c *net.UDPConn) { _ = c.SetReadBuffer(dnsReadBuffer) }
