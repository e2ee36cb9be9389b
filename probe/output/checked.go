package output

import (
	"io"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// CheckedWriter is stdout as nettool writes it: the first write error (a full
// disk, /dev/full, a closed pipe) is kept, every later write fails with it
// without being tried, and onErr is told once, so that the command can stop
// and the run can end with exit 1 and one line saying so. A command cannot
// forget to check: the run checks Err when the command ends.
type CheckedWriter struct {
	w     io.Writer
	onErr func(error)

	mu  sync.Mutex
	err error
}

// NewCheckedWriter wraps w; onErr (may be nil) is called once, with the
// first error, outside of any lock of the writer.
func NewCheckedWriter(w io.Writer, onErr func(error)) *CheckedWriter {
	return &CheckedWriter{w: w, onErr: onErr}
}

func (c *CheckedWriter) Write(b []byte) (int, error) {
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return 0, err
	}
	n, err := c.w.Write(b)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	first := false
	if err != nil {
		c.err, first = err, true
	}
	c.mu.Unlock()
	if first && c.onErr != nil {
		c.onErr(err)
	}
	return n, err
}

// Err returns the first write error, or nil.
func (c *CheckedWriter) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Unwrap returns the writer underneath, for IsTerminal.
func (c *CheckedWriter) Unwrap() io.Writer { return c.w }

// IsTerminal reports whether w (or the writer a CheckedWriter wraps) is a
// terminal: a file whose descriptor answers the terminal ioctl, as isatty(3)
// decides. /dev/null and /dev/full are character devices but not terminals.
func IsTerminal(w io.Writer) bool {
	for {
		u, ok := w.(interface{ Unwrap() io.Writer })
		if !ok {
			break
		}
		w = u.Unwrap()
	}
	f, ok := w.(*os.File)
	if !ok || f == nil {
		return false
	}
	return IsTerminalFile(f)
}

// IsTerminalFile reports whether f is a terminal (isatty).
func IsTerminalFile(f *os.File) bool {
	sc, err := f.SyscallConn()
	if err != nil {
		return false
	}
	tty := false
	_ = sc.Control(func(fd uintptr) {
		_, err := unix.IoctlGetTermios(int(fd), unix.TCGETS)
		tty = err == nil
	})
	return tty
}
