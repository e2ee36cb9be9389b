package interrupt

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// wait is how long a test waits for what a signal should have done before
// it gives up: a bound that stops a broken test, never a measure.
const wait = 30 * time.Second

func done(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	select {
	case <-ctx.Done():
	case <-time.After(wait):
		t.Fatalf("%s: the context is still live %v after the signal", what, wait)
	}
}

// The first signal ends every command in progress; a command started
// after it is handled again (several commands in one process, as in the
// tests of the CLI).
func TestContextEndsAtSignal(t *testing.T) {
	ctx1, stop1 := Context(context.Background())
	defer stop1()
	ctx2, stop2 := Context(context.Background())
	defer stop2()
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done(t, ctx1, "SIGINT, first command")
	done(t, ctx2, "SIGINT, second command")

	ctx3, stop3 := Context(context.Background())
	defer stop3()
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done(t, ctx3, "SIGTERM, a command started after the first signal")
}

// Releasing a context ends it, and a released command is not ended by a
// later signal's delivery to the others.
func TestStopReleases(t *testing.T) {
	ctx, stop := Context(context.Background())
	stop()
	if ctx.Err() == nil {
		t.Fatal("the context lives on after stop")
	}
	mu.Lock()
	n := len(runs)
	mu.Unlock()
	if n != 0 {
		t.Fatalf("%d commands still registered after stop", n)
	}
}

// TestHelperProcess is the other process of the tests below, run by them
// with NETTOOL_INTERRUPT_HELPER set to what it is to do.
func TestHelperProcess(t *testing.T) {
	mode := os.Getenv("NETTOOL_INTERRUPT_HELPER")
	if mode == "" {
		t.Skip("run by the tests that need a process of their own")
	}
	<-installed
	switch mode {
	case "idle": // no command ever started
	case "between": // one command came and went
		_, stop := Context(context.Background())
		stop()
	case "twice": // the first signal ends the command, the second kills
		ctx, stop := Context(context.Background())
		defer stop()
		syscall.Kill(syscall.Getpid(), syscall.SIGINT)
		<-ctx.Done()
		fmt.Println("stopped")
	case "cancelled": // after the signal, a command whose parent has ended (a demo's next step)
		ctx, stop := Context(context.Background())
		defer stop()
		syscall.Kill(syscall.Getpid(), syscall.SIGINT)
		<-ctx.Done()
		fmt.Println("stopped")
		_, stop2 := Context(ctx)
		defer stop2()
	case "ignored": // started with SIGINT ignored: SIGINT stays ignored, SIGTERM ends the command
		fmt.Println("caught", caught)
		ctx, stop := Context(context.Background())
		defer stop()
		// A signal ignored is dropped by kill itself; one caught would end
		// the command and let the SIGTERM after it kill the process.
		syscall.Kill(syscall.Getpid(), syscall.SIGINT)
		syscall.Kill(syscall.Getpid(), syscall.SIGTERM)
		<-ctx.Done()
		fmt.Println("stopped")
		_, stop2 := Context(context.Background())
		defer stop2()
		syscall.Kill(syscall.Getpid(), syscall.SIGINT)
		fmt.Println("survived")
		os.Exit(0)
	}
	syscall.Kill(syscall.Getpid(), syscall.SIGINT)
	// The signal kills the process; if it does not, stdin is a pipe the
	// test never writes to, and the read blocks until the test ends it.
	bufio.NewReader(os.Stdin).ReadString('\n')
	fmt.Println("survived")
	os.Exit(0)
}

// Where no command is in progress, a signal does what the default handler
// does: the process dies of it.
func TestSignalOutsideACommandKills(t *testing.T) {
	for _, tc := range []struct{ mode, out string }{
		{"idle", ""},
		{"between", ""},
		{"twice", "stopped\n"},
		{"cancelled", "stopped\n"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperProcess$")
			cmd.Env = append(os.Environ(), "NETTOOL_INTERRUPT_HELPER="+tc.mode)
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			defer stdin.Close()
			var out strings.Builder
			cmd.Stdout = &out
			err = cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) {
				t.Fatalf("helper: %v, stdout %q; want it killed by SIGINT", err, out.String())
			}
			ws, ok := ee.Sys().(syscall.WaitStatus)
			if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGINT || ctx.Err() != nil {
				t.Fatalf("helper: %v, stdout %q; want it killed by SIGINT", err, out.String())
			}
			if got := out.String(); got != tc.out {
				t.Errorf("helper wrote %q before it died, want %q", got, tc.out)
			}
		})
	}
}

// A job started with SIGINT ignored (sh's background jobs, a script that
// traps INT to an empty action) keeps it ignored, during a command as
// outside one; the command still ends at SIGTERM.
func TestIgnoredAtStartStaysIgnored(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skipf("no sh: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	cmd := exec.CommandContext(ctx, sh, "-c", `trap '' INT; exec "$0" -test.run='^TestHelperProcess$'`, os.Args[0])
	cmd.Env = append(os.Environ(), "NETTOOL_INTERRUPT_HELPER=ignored")
	var out strings.Builder
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil || ctx.Err() != nil {
		t.Fatalf("helper: %v, stdout %q; want exit 0", err, out.String())
	}
	if got, want := out.String(), "caught [terminated]\nstopped\nsurvived\n"; got != want {
		t.Errorf("helper wrote %q, want %q", got, want)
	}
}
