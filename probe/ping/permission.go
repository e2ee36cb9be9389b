package ping

import "errors"

// IsPermission reports whether err is (or wraps) a *PermissionError: no
// ICMP socket could be opened.
func IsPermission(err error) bool {
	var pe *PermissionError
	return errors.As(err, &pe)
}
