package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// tcpOpenPTY opens a pseudo-terminal pair with plain syscalls.
func tcpOpenPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		m.Close()
		t.Skipf("TIOCGPTN: %v", e)
	}
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		m.Close()
		t.Skipf("TIOCSPTLCK: %v", e)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		t.Skipf("open pts: %v", err)
	}
	return m, s
}

// The progress line appears on stderr when it is a terminal, and only there:
// stdout (a pipe) carries the results alone.
func TestTCPScanProgressOnTTY(t *testing.T) {
	open := tcpListeners(t, 1, "")
	master, slave := tcpOpenPTY(t)
	defer master.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, nettoolBinary(t), "tcp", "127.0.0.1", "-p", tcpJoin(open))
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = slave
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	var tty bytes.Buffer
	done := make(chan struct{})
	go func() { io.Copy(&tty, master); close(done) }()
	cmd.Wait()
	<-done // EIO once the child has exited and the last slave fd is closed
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit %d\n%s\n%q", code, out.String(), tty.String())
	}
	if !regexp.MustCompile(`\r\x1b\[K[01]/1 ports, [01] open`).MatchString(tty.String()) || !strings.HasSuffix(strings.TrimRight(tty.String(), "\r\n"), "\r\x1b[K") {
		t.Errorf("no progress line (or not cleared) on the terminal: %q", tty.String())
	}
	if strings.ContainsAny(out.String(), "\r\x1b") || !strings.Contains(out.String(), " open ") {
		t.Errorf("stdout: %q", out.String())
	}
}
