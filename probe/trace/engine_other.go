//go:build !linux

package trace

import (
	"github.com/nettool/nettool/probe"
)

func newTransport(e *engine, size int) (transport, error) {
	return nil, probe.Localf("trace is implemented for Linux only")
}
