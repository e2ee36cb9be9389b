//go:build !linux

package ping

import (
	"context"
	"errors"

	"github.com/nettool/nettool/probe"
)

var errUnsupported = errors.New("ICMP ping is implemented for Linux only")

// PermissionError is returned when no ICMP socket could be opened.
type PermissionError struct {
	Dgram, Raw error
	V6         bool
}

func (e *PermissionError) Error() string { return errUnsupported.Error() }

// Run is implemented for Linux only.
func Run(ctx context.Context, targets []Target, opts Options) (*Result, error) {
	return nil, probe.Localf("%v", errUnsupported)
}
