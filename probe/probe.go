// Package probe is the vocabulary every nettool command shares: the result
// envelope, stable failure codes, the error kinds that map to exit codes, and
// target parsing. Domain packages (resolve, httpget, ipinfo, probe/...) build
// on it; they never print, read the environment or exit.
package probe

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
)

// Meta is the envelope carried by every result object. A probe that ran and
// found its target failing sets OK=false and a Failure code; a Go error from a
// probe means it could not run at all.
type Meta struct {
	Type      string    `json:"type"`
	Target    string    `json:"target,omitempty"`
	OK        bool      `json:"ok"`
	Failure   string    `json:"failure,omitempty"` // stable snake_case code, see the Fail* constants
	Error     string    `json:"error,omitempty"`   // human detail for Failure
	Start     time.Time `json:"start"`
	ElapsedMS float64   `json:"elapsed_ms"`
}

// Fail marks m as failed with a code and detail derived from err.
func (m *Meta) Fail(err error) {
	m.OK = false
	m.Failure = Classify(err)
	if err != nil {
		m.Error = err.Error()
	}
}

// Millis turns a duration into milliseconds with microsecond precision, the
// unit of every *_ms field.
func Millis(d time.Duration) float64 {
	return math.Round(float64(d)/1e3) / 1e3
}

// UsageError is bad input from the user: a malformed name, port list, URL or
// flag value, an unreadable file. nettool exits 2.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Usagef returns a *UsageError with a formatted message.
func Usagef(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// LocalError is a local problem that stopped a probe before it could run: no
// permission for ICMP sockets, no usable network. nettool exits 3.
type LocalError struct{ Err error }

func (e *LocalError) Error() string { return e.Err.Error() }
func (e *LocalError) Unwrap() error { return e.Err }

// Localf returns a *LocalError with a formatted message.
func Localf(format string, args ...any) error {
	return &LocalError{Err: fmt.Errorf(format, args...)}
}

// IsUsage reports whether err is (or wraps) a *UsageError.
func IsUsage(err error) bool {
	var u *UsageError
	return errors.As(err, &u)
}

// IsLocal reports whether err is (or wraps) a *LocalError.
func IsLocal(err error) bool {
	var l *LocalError
	return errors.As(err, &l)
}

// IsCanceled reports whether err comes from a cancelled context (Ctrl-C).
func IsCanceled(err error) bool { return errors.Is(err, context.Canceled) }
