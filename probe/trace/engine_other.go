//go:build !linux

package trace

import (
	"net/netip"

	"github.com/nettool/nettool/probe"
)

func newTransport(e *engine, size int) (transport, error) {
	return nil, probe.Localf("trace is implemented for Linux only")
}

func routeMTU(netip.Addr) int { return 0 }
