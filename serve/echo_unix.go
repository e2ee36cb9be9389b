//go:build unix

package serve

import (
	"errors"
	"syscall"
)

// echoTemporaryAccept reports accept errors worth retrying after a pause:
// out of descriptors or memory, a client that gave up in the queue.
func echoTemporaryAccept(err error) bool {
	for _, e := range []error{syscall.EMFILE, syscall.ENFILE, syscall.ECONNABORTED, syscall.ENOBUFS, syscall.ENOMEM} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
