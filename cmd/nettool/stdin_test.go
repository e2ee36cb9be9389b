package main

import (
	"bytes"
	"context"
	"io"
	"sync"
	"testing"
)

// stdinStarted tells when the command has started to read stdin.
type stdinStarted struct {
	r    io.Reader
	once sync.Once
	ch   chan struct{}
}

func (s *stdinStarted) Read(p []byte) (int, error) {
	s.once.Do(func() { close(s.ch) })
	return s.r.Read(p)
}

// Ctrl-C while a command waits for stdin (a terminal, a slow pipe) ends it
// at once with exit 130, not when stdin closes.
func TestStdinReadEndsAtCtrlC(t *testing.T) {
	for _, args := range [][]string{
		{"get", "--data-file", "-", "http://127.0.0.1:9/"},
		{"ping", "--file", "-"},
	} {
		pr, pw := io.Pipe()
		in := &stdinStarted{r: pr, ch: make(chan struct{})}
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			<-in.ch
			cancel()
		}()
		var out, errb bytes.Buffer
		code := run(ctx, append([]string{"nettool"}, args...), in, &out, &errb)
		pw.Close()
		cancel()
		if code != exitInterrupted {
			t.Errorf("%v: exit %d, want 130 (stderr %q)", args, code, errb.String())
		}
	}
}
