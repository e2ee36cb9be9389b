package main

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// -O FILE is replaced only by a successful transfer: a refused connection
// or, with --fail, an error status leaves FILE as it was, as curl does; and
// -b --fail writes no error body to stdout.
func TestGetOutFileOnlyOnSuccess(t *testing.T) {
	s := getServe(t, false)
	dir := t.TempDir()
	f := filepath.Join(dir, "keep.txt")
	if err := os.WriteFile(f, []byte("keep\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	check := func(want string) {
		t.Helper()
		b, err := os.ReadFile(f)
		if err != nil || string(b) != want {
			t.Fatalf("FILE holds %q (%v), want %q", b, err, want)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 1 {
			t.Fatalf("temporary files left behind: %v", ents)
		}
	}
	if _, _, code := runCLI(t, "get", "http://127.0.0.1:1/", "-O", f, "-q"); code != exitFailed {
		t.Fatalf("refused: exit %d", code)
	}
	check("keep\n")
	if _, _, code := runCLI(t, "get", s.URL()+"/status/500", "--fail", "-O", f, "-q"); code != exitFailed {
		t.Fatalf("--fail 500: exit %d", code)
	}
	check("keep\n")
	if out, _, code := runCLI(t, "get", s.URL()+"/status/500", "--fail", "-b"); code != exitFailed || out != "" {
		t.Fatalf("-b --fail 500: exit %d stdout %q", code, out)
	}
	if _, errs, code := runCLI(t, "get", s.URL()+"/ip", "-O", f, "-q"); code != 0 {
		t.Fatalf("success: exit %d %q", code, errs)
	}
	check("127.0.0.1\n")
}

// getOutServe serves one canned reply per connection: the body's first
// part, then (unless complete) the connection closes early.
func getOutIncomplete(t *testing.T) string {
	return getRawServer(t, func(c net.Conn) {
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b")
	})
}

// -O FILE writes through what FILE is, as curl -o does: a FIFO, a device
// node and a symlink's target get the body and stay what they were; a new
// file gets 0666 less the umask; an existing file keeps its mode.
func TestGetOutFileWritesThrough(t *testing.T) {
	s := getServe(t, false)
	dir := t.TempDir()
	body := "127.0.0.1\n"

	// A FIFO, with a reader.
	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	// The test's end is opened read-write, so it never blocks, nor does
	// nettool's open; what nettool wrote is in the pipe when it exits.
	rfd, err := unix.Open(fifo, unix.O_RDWR|unix.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(rfd)
	if out, errs, code := runCLI(t, "get", s.URL()+"/ip", "-O", fifo); code != 0 || !strings.Contains(out, "written to "+fifo) {
		t.Fatalf("FIFO: exit %d stderr %q\n%s", code, errs, out)
	}
	buf := make([]byte, 100)
	if n, _ := unix.Read(rfd, buf); n < 0 || string(buf[:max(n, 0)]) != body {
		t.Fatalf("FIFO reader got %q", buf[:max(n, 0)])
	}
	if st, err := os.Lstat(fifo); err != nil || st.Mode()&fs.ModeNamedPipe == 0 {
		t.Fatalf("the FIFO is no longer a FIFO: %v %v", st.Mode(), err)
	}

	// A symlink to an existing file: the link stays, the target gets the
	// body and keeps its mode.
	real := filepath.Join(dir, "real")
	if err := os.WriteFile(real, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Chmod(real, 0o640)
	link := filepath.Join(dir, "link")
	if err := os.Symlink("real", link); err != nil {
		t.Fatal(err)
	}
	if _, errs, code := runCLI(t, "get", s.URL()+"/ip", "-O", link, "-q"); code != 0 {
		t.Fatalf("symlink: exit %d %q", code, errs)
	}
	if dest, err := os.Readlink(link); err != nil || dest != "real" {
		t.Fatalf("the symlink was replaced: %q %v", dest, err)
	}
	if b, _ := os.ReadFile(real); string(b) != body {
		t.Fatalf("the link's target holds %q", b)
	}
	if st, _ := os.Stat(real); st.Mode().Perm() != 0o640 {
		t.Fatalf("the target's mode became %v, want 0640", st.Mode().Perm())
	}
	// A dangling symlink: its target is created.
	dangling := filepath.Join(dir, "dangling")
	os.Symlink("created", dangling)
	if _, errs, code := runCLI(t, "get", s.URL()+"/ip", "-O", dangling, "-q"); code != 0 {
		t.Fatalf("dangling symlink: exit %d %q", code, errs)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "created")); string(b) != body {
		t.Fatalf("the dangling link's target holds %q", b)
	}
	if st, _ := os.Lstat(dangling); st.Mode()&fs.ModeSymlink == 0 {
		t.Fatal("the dangling symlink was replaced")
	}

	// A new file honours the umask; an existing one keeps its mode.
	old := unix.Umask(0o027)
	fresh := filepath.Join(dir, "fresh")
	_, errs, code := runCLI(t, "get", s.URL()+"/ip", "-O", fresh, "-q")
	unix.Umask(old)
	if st, err := os.Stat(fresh); code != 0 || err != nil || st.Mode().Perm() != 0o640 {
		t.Fatalf("new file with umask 027: exit %d %q, mode %v, want 0640", code, errs, st.Mode().Perm())
	}
	os.Chmod(fresh, 0o604)
	if _, errs, code := runCLI(t, "get", s.URL()+"/ip", "-O", fresh, "-q"); code != 0 {
		t.Fatalf("existing file: exit %d %q", code, errs)
	}
	if st, _ := os.Stat(fresh); st.Mode().Perm() != 0o604 {
		t.Fatalf("existing file's mode became %v, want 0604", st.Mode().Perm())
	}
	getNoTemp(t, dir)
}

// getNoTemp fails when a temporary file of -O is left in dir.
func getNoTemp(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".nettool-") {
			t.Fatalf("temporary file left behind: %s", e.Name())
		}
	}
}

// A device node is written through and stays a device node. Made with
// mknod inside the test's own directory (1,3 is what /dev/null is; 1,7 is
// /dev/full, whose writes fail): the system's /dev is never touched.
func TestGetOutFileDevice(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mknod needs root")
	}
	s := getServe(t, false)
	dir := t.TempDir()
	null := filepath.Join(dir, "null")
	if err := unix.Mknod(null, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
		t.Skipf("mknod: %v", err)
	}
	out, errs, code := runCLI(t, "get", s.URL()+"/bytes/300000", "-O", null)
	if code != 0 || !strings.Contains(out, "written to "+null) {
		t.Fatalf("device: exit %d stderr %q\n%s", code, errs, out)
	}
	var st unix.Stat_t
	if err := unix.Lstat(null, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != unix.Mkdev(1, 3) {
		t.Fatalf("the device node was replaced: mode %o rdev %x %v", st.Mode, st.Rdev, err)
	}
	getNoTemp(t, dir)

	// Writes that fail: exit 3, one line naming FILE as given.
	full := filepath.Join(dir, "full")
	if err := unix.Mknod(full, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 7))); err != nil {
		t.Skipf("mknod: %v", err)
	}
	out, errs, code = runCLI(t, "get", s.URL()+"/bytes/300000", "-O", full)
	if code != exitLocal || errs != "nettool: get: cannot write --out-file "+full+": no space left on device\n" {
		t.Fatalf("full device: exit %d stderr %q\n%s", code, errs, out)
	}
	if !strings.Contains(out, "written in part to "+full) {
		t.Fatalf("full device: journey does not say the write failed:\n%s", out)
	}
	out, _, code = runCLI(t, "get", s.URL()+"/bytes/300000", "-O", full, "--json")
	if code != exitLocal || !strings.Contains(out, `"ok": false,`) || !strings.Contains(out, `"failure": "write_error",`) {
		t.Fatalf("full device, --json: exit %d\n%.600s", code, out)
	}
}

// A failed transfer leaves a regular FILE as it was and says so: never
// "written ... INCOMPLETE" about a file that was not touched. Errors name
// FILE as the user wrote it, not a temporary name.
func TestGetOutFileFailure(t *testing.T) {
	addr := getOutIncomplete(t)
	dir := t.TempDir()
	f := filepath.Join(dir, "keep.txt")
	os.WriteFile(f, []byte("keep\n"), 0o600)
	out, errs, code := runCLI(t, "get", addr, "-O", f)
	if code != exitFailed || !strings.Contains(errs, "nettool: get: incomplete: ") {
		t.Fatalf("incomplete body: exit %d stderr %q", code, errs)
	}
	if strings.Contains(out, "written to") || !strings.Contains(out, f+" not written") {
		t.Fatalf("the journey claims FILE was written:\n%s", out)
	}
	if b, _ := os.ReadFile(f); string(b) != "keep\n" {
		t.Fatalf("FILE holds %q", b)
	}
	getNoTemp(t, dir)

	missing := filepath.Join(dir, "no", "such", "dir", "f")
	_, errs, code = runCLI(t, "get", addr, "-O", missing)
	if code != exitUsage || errs != "nettool: get: cannot write --out-file "+missing+": no such file or directory\n" {
		t.Fatalf("missing directory: exit %d stderr %q", code, errs)
	}
	_, errs, code = runCLI(t, "get", addr, "-O", dir)
	if code != exitUsage || errs != "nettool: get: cannot write --out-file "+dir+": it is a directory\n" {
		t.Fatalf("directory: exit %d stderr %q", code, errs)
	}
}

// Killed by SIGPIPE (stdout a closed pipe) mid-transfer, nettool leaves no
// temporary or partial file: the body goes to a file without a name until
// it is complete.
func TestGetOutFileSIGPIPE(t *testing.T) {
	s := getServe(t, false)
	dir := t.TempDir()
	f := filepath.Join(dir, "keep.txt")
	os.WriteFile(f, []byte("keep\n"), 0o600)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, nettoolBinary(t), "get", s.URL()+"/drip?bytes=5&interval=1ms", "-O", f)
	cmd.Stdout = w
	err = cmd.Run()
	w.Close()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGPIPE {
		t.Fatalf("want death by SIGPIPE, got %v", err)
	}
	if b, _ := os.ReadFile(f); string(b) != "keep\n" {
		t.Fatalf("FILE holds %q", b)
	}
	getNoTemp(t, dir)
}

// A regular file the user may not write is not replaced behind its back
// by the rename: -O fails as curl -o does. Run as nobody (root may write
// anything).
func TestGetOutFileReadOnly(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run nettool as another user")
	}
	s := getServe(t, false)
	dir := t.TempDir()
	os.Chmod(filepath.Dir(dir), 0o755) // the test's own directories
	os.Chmod(dir, 0o777)
	bin := filepath.Join(dir, "nettool")
	b, err := os.ReadFile(nettoolBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(bin, b, 0o755)
	f := filepath.Join(dir, "ro.txt")
	os.WriteFile(f, []byte("keep\n"), 0o444)
	os.Chown(f, 65534, 65534)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "get", s.URL()+"/ip", "-O", f, "-q")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var errb strings.Builder
	cmd.Stderr = &errb
	err = cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitUsage || errb.String() != "nettool: get: cannot write --out-file "+f+": permission denied\n" {
		t.Fatalf("read-only FILE: %v stderr %q", err, errb.String())
	}
	if b, _ := os.ReadFile(f); string(b) != "keep\n" {
		t.Fatalf("FILE holds %q", b)
	}
}

// A body replacing an existing file has its write-out started every
// getWriteOutStep bytes, over the ranges written since the last start, on
// the filesystems that write the new file out at the rename anyway; a new
// file never does, and the bytes that land are the body's either way.
func TestGetOutFileWriteOut(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, "old.bin")
	if err := os.WriteFile(old, []byte("old\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	o, err := getOpenOut(context.Background(), old)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := o.writeOut != nil, getWritesOutOnReplace(dir); got != want {
		t.Fatalf("replacing a file in %s: write-out set %v, want %v", dir, got, want)
	}
	type span struct{ off, n int64 }
	var spans []span
	var real []error
	o.writeOut = func(fd uintptr, off, n int64) error {
		spans = append(spans, span{off, n})
		// The real call, on the real file: it must take these arguments.
		real = append(real, getStartWriteOut(fd, off, n))
		return nil
	}
	chunk := make([]byte, 300<<10) // not a divisor of the step
	var body []byte
	for i := 0; len(body) < 2*getWriteOutStep+len(chunk); i++ {
		for j := range chunk {
			chunk[j] = byte(i + j)
		}
		if n, err := o.Write(chunk); n != len(chunk) || err != nil {
			t.Fatalf("Write: %d, %v", n, err)
		}
		body = append(body, chunk...)
	}
	if err := o.commit(); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(old); err != nil || string(got) != string(body) {
		t.Fatalf("FILE holds %d bytes (%v), want the %d-byte body", len(got), err, len(body))
	}
	if st, err := os.Stat(old); err != nil || st.Mode().Perm() != 0o640 {
		t.Fatalf("mode after replace: %v %v", st.Mode(), err)
	}
	steps := int64(len(chunk)) * ((getWriteOutStep + int64(len(chunk)) - 1) / int64(len(chunk)))
	if len(spans) != 2 || spans[0] != (span{0, steps}) || spans[1] != (span{steps, steps}) {
		t.Fatalf("write-out started over %v, want [{0 %d} {%d %d}]", spans, steps, steps, steps)
	}
	for _, err := range real {
		if err != nil {
			t.Fatalf("sync_file_range: %v", err)
		}
	}

	fresh := filepath.Join(dir, "new.bin")
	o, err = getOpenOut(context.Background(), fresh)
	if err != nil {
		t.Fatal(err)
	}
	defer o.abort()
	if o.writeOut != nil {
		t.Fatal("a new file has its write-out started")
	}
}
