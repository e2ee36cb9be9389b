package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
	binDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	// No goroutine outlives the commands run in-process (os/signal's own
	// loop is the runtime's, started by the first Notify).
	if code == 0 {
		if err := goleak.Find(leakOpts...); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// leakOpts are the goroutines that outlive the commands by design:
// os/signal's loop and the interrupt package's, both started once.
var leakOpts = []goleak.Option{
	goleak.IgnoreTopFunction("os/signal.signal_recv"),
	goleak.IgnoreTopFunction("os/signal.loop"),
	goleak.IgnoreAnyFunction("github.com/nettool/nettool/cmd/nettool/internal/interrupt.init.0.func1"),
}

// nettoolBinary builds the real binary once per test run, for tests that
// need a separate process (signals, os.Args-dependent behaviour, scripts).
func nettoolBinary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "nettool-bin-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "nettool")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = errors.New("go build: " + err.Error() + ": " + string(out))
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// runBinary runs the real binary with a deadline and returns stdout, stderr
// and the exit code.
func runBinary(t testing.TB, env []string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, nettoolBinary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("run nettool %q: %v", args, err)
	}
	return out.String(), errb.String(), code
}
