package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// readFileLimited reads a file named on the command line (a --cacert PEM
// bundle) with a cap, so that /dev/zero or a FIFO that never ends is an
// error instead of all the machine's memory; like every input, it ends at
// Ctrl-C (see openInput).
func readFileLimited(ctx context.Context, path string, max int64) ([]byte, error) {
	f, err := openInput(ctx, path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s is larger than %d MiB", path, max>>20)
	}
	return b, nil
}

// inputError is the error of a command that could not read an input: the
// interruption when Ctrl-C ended the read (exit 130), else a usage error
// (exit 2) with the message.
func inputError(err error, format string, args ...any) error {
	if errors.Is(err, context.Canceled) {
		return errInterrupted
	}
	return usageErrorf(format, args...)
}

// openInput opens a file named on the command line (ping --file, resolve
// -f, --cacert) so that no read of it outlives Ctrl-C: opening a FIFO
// waits for a writer, and reading it waits for the writer's next line, for
// ever if the writer is silent. "-" is stdin. The error is the context's
// when Ctrl-C came first.
func openInput(ctx context.Context, path string) (io.ReadCloser, error) {
	type opened struct {
		f   *os.File
		err error
	}
	ch := make(chan opened, 1)
	go func() {
		f, err := os.Open(path)
		ch <- opened{f, err}
	}()
	var o opened
	select {
	case o = <-ch:
	case <-ctx.Done():
		// open(2) of a FIFO without a writer cannot be interrupted: leave
		// it to end with the process, and close the file if it opens.
		go func() {
			if o := <-ch; o.f != nil {
				o.f.Close()
			}
		}()
		return nil, ctx.Err()
	}
	if o.err != nil {
		return nil, o.err
	}
	return newCtxFile(ctx, o.f), nil
}

// ctxFile is an open input whose reads end with the context's error at
// Ctrl-C.
type ctxFile struct {
	ctx  context.Context
	f    *os.File
	r    io.Reader
	stop func() bool
}

func newCtxFile(ctx context.Context, f *os.File) *ctxFile {
	c := &ctxFile{ctx: ctx, f: f, r: f, stop: func() bool { return false }}
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		return c // a regular file's reads do not block
	}
	if f.SetReadDeadline(time.Time{}) == nil {
		// A FIFO or a pipe, in the runtime's poller: a deadline in the
		// past wakes a blocked read.
		c.stop = context.AfterFunc(ctx, func() { _ = f.SetReadDeadline(time.Unix(1, 0)) })
		return c
	}
	c.r = ctxReader{ctx, f} // a device: the read is left behind at Ctrl-C
	return c
}

func (c *ctxFile) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.r.Read(p)
	if err != nil && c.ctx.Err() != nil && (errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.Canceled)) {
		return n, c.ctx.Err()
	}
	return n, err
}

func (c *ctxFile) Close() error {
	c.stop()
	return c.f.Close()
}
