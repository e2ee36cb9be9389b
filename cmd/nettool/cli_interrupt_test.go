package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nettool/nettool/probe/probetest"
)

// TestCtrlCEndsBlockedInputReads: a FIFO whose writer stays silent blocks
// the read of ping --file, resolve -f and --cacert; the first Ctrl-C ends
// it (exit 130), whatever file it is, and so does a SIGTERM.
func TestCtrlCEndsBlockedInputReads(t *testing.T) {
	bin := nettoolBinary(t)
	for i, args := range [][]string{
		{"ping", "--file", "FIFO"},
		{"resolve", "-f", "FIFO", "@127.0.0.1:9"},
		{"resolve", "x.test", "--resolv-conf", "FIFO"},
		{"tcp", "127.0.0.1:9", "--tls", "--cacert", "FIFO"},
		{"get", "https://127.0.0.1:9/", "--cacert", "FIFO"},
		{"serve", "dns", "--zone", "FIFO", "127.0.0.1:0"},
		{"get", "http://127.0.0.1:9/", "--data-file", "FIFO"},
	} {
		// The signals take turns over the cases, so both go through every
		// kind of command's path.
		sig, signame := os.Signal(os.Interrupt), "SIGINT"
		if i%2 == 1 {
			sig, signame = syscall.SIGTERM, "SIGTERM"
		}
		t.Run(strings.Join(args[:2], "_")+"_"+signame, func(t *testing.T) {
			fifo := filepath.Join(t.TempDir(), "fifo")
			if err := syscall.Mkfifo(fifo, 0o600); err != nil {
				t.Skipf("mkfifo: %v", err)
			}
			full := make([]string, len(args))
			for i, a := range args {
				full[i] = strings.ReplaceAll(a, "FIFO", fifo)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, full...)
			var errb bytes.Buffer
			cmd.Stderr = &errb
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// The silent writer: its open returns when nettool has opened
			// the FIFO for reading, so nettool is in the command (its
			// Ctrl-C handler is set) and about to block on the read.
			opened := make(chan *os.File, 1)
			go func() {
				w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
				if err != nil {
					w = nil
				}
				opened <- w
			}()
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			select {
			case w := <-opened:
				if w != nil {
					defer w.Close()
				}
			case err := <-exited:
				t.Fatalf("%q ended before reading the FIFO: %v, stderr %q", full, err, errb.String())
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			err := <-exited
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted || ctx.Err() != nil {
				t.Errorf("%q: %v (want exit 130 at the first %s), stderr %q", full, err, signame, errb.String())
			}
		})
	}
}

// cliSignalWriter tells once when something is written to it.
type cliSignalWriter struct {
	once sync.Once
	c    chan struct{}
	mu   sync.Mutex
	b    bytes.Buffer
}

func (w *cliSignalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.b.Write(p)
	w.mu.Unlock()
	w.once.Do(func() { close(w.c) })
	return len(p), nil
}

// TestTCPWaitInterruptedSaysSo: Ctrl-C during tcp --wait 30s says it was
// interrupted, not that the port "did not open within 30s".
func TestTCPWaitInterruptedSaysSo(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errw := &cliSignalWriter{c: make(chan struct{})}
	var out bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"nettool", "tcp", "127.0.0.1:9", "--wait", "30s"}, strings.NewReader(""), &out, errw)
	}()
	<-errw.c // "waiting up to 30s for ..."
	cancel()
	code := <-done
	s := out.String()
	if code != exitInterrupted || !strings.Contains(s, "127.0.0.1:9: interrupted after ") || !strings.Contains(s, "of --wait 30s, not open yet") || strings.Contains(s, "did not open within") {
		t.Errorf("exit %d, stdout:\n%s", code, s)
	}
}

// TestEmptyBatchSaysWhy: a -f batch with no query in it is bad input, said
// in one line.
func TestEmptyBatchSaysWhy(t *testing.T) {
	f := filepath.Join(t.TempDir(), "names")
	if err := os.WriteFile(f, []byte("# nothing here\n\n   \n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, src := range []struct{ arg, stdin, name string }{{f, "", f}, {"-", "", "stdin"}} {
		var o, e bytes.Buffer
		code := run(context.Background(), []string{"nettool", "resolve", "-f", src.arg, "@127.0.0.1:9"}, strings.NewReader(src.stdin), &o, &e)
		if code != exitUsage || !strings.Contains(e.String(), "nettool: resolve: "+src.name+" holds no query: every line is empty or a comment\n") {
			t.Errorf("-f %s: exit %d stderr %q", src.arg, code, e.String())
		}
	}
}

// TestTCPWaitLastAttemptCutShort: an attempt that had only what was left of
// --wait, and timed out, says so, instead of calling the port filtered
// (a closed port's last attempt on a loaded machine could get 1 ms).
func TestTCPWaitLastAttemptCutShort(t *testing.T) {
	target := probetest.FullQueue(t)
	out, errs, code := runCLI(t, "tcp", target, "--wait", "300ms")
	if code != exitFailed || !strings.Contains(out, target+" did not open within 300ms (1 attempt, last: no answer in the ") || !strings.Contains(out, " left of --wait)") {
		t.Errorf("exit %d stderr %q stdout:\n%s", code, errs, out)
	}
}
