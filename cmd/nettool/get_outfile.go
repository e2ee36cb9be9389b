package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/nettool/nettool/probe"
)

// getOutFile is where -O FILE puts the body, as curl -o does: a device
// node, a FIFO or a socket is opened and written through (at the first body
// byte, so a failed transfer never touches it), a symlink is followed to
// its target, and a regular file (new or existing) is replaced only when
// the transfer succeeded: the body goes to a file without a name (Linux
// O_TMPFILE) in the same directory, linked in over FILE at the end, so an
// interrupted or killed nettool (Ctrl-C twice, SIGPIPE, SIGKILL) leaves no
// partial or temporary file. Where O_TMPFILE is not available a named
// temporary file is used and removed on every path nettool controls.
type getOutFile struct {
	ctx     context.Context
	path    string // as the user gave it: every message names it
	target  string // path with symlinks followed
	regular bool
	f       *os.File
	tmpName string // the named temporary file, when O_TMPFILE was not usable
	opened  bool   // a non-regular target was opened (touched)
	done    bool   // committed or aborted
	werr    error  // the first write error

	// writeOut starts the kernel's write-out of the body written so far,
	// in steps of getWriteOutStep, when it replaces an existing regular
	// file on a filesystem that writes the whole new file out before a
	// rename over an old one returns (see getWritesOutOnReplace); nil
	// elsewhere. Tests replace it to see the ranges.
	writeOut func(fd uintptr, off, n int64) error
	written  int64 // bytes of body in the file
	started  int64 // bytes whose write-out has been started
}

// getWriteOutStep is how much body goes into the page cache between two
// starts of its write-out (a replaced file only).
const getWriteOutStep = 8 << 20

// getStartWriteOut asks the kernel to start writing n bytes at off out to
// disk, without waiting for them (sync_file_range SYNC_FILE_RANGE_WRITE:
// no metadata, no flush of the disk's cache, so it is no fsync). Its error
// is not the transfer's (the caller drops it): the same pages are written
// out again at the rename, where a failure shows.
func getStartWriteOut(fd uintptr, off, n int64) error {
	return unix.SyncFileRange(int(fd), off, n, unix.SYNC_FILE_RANGE_WRITE)
}

// getWritesOutOnReplace tells whether the filesystem holding dir writes a
// file's delayed data out before a rename over an existing file returns:
// ext4 does (auto_da_alloc, its default) and btrfs does, so that replacing
// a file by rename never leaves it empty after a crash. On those, a body of
// 1 GiB sat dirty in the page cache until the rename and was then written
// out while nettool waited; starting that write-out while the body still
// arrives overlaps it with the transfer. curl -o pays the same wait at
// close: ext4 and btrfs flush a file truncated by O_TRUNC when it is
// closed. Elsewhere, and for a new file, the body stays in the page cache
// as curl leaves it.
func getWritesOutOnReplace(dir string) bool {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return false
	}
	switch uint32(st.Type) {
	case unix.EXT4_SUPER_MAGIC, unix.BTRFS_SUPER_MAGIC:
		return true
	}
	return false
}

// getOutError is a local failure of -O FILE; it names FILE as the user
// wrote it, never a temporary name.
func getOutError(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		err = le.Err
	}
	return probe.Localf("cannot write --out-file %s: %v", path, err)
}

// getFollowLinks follows symlinks from p to the path they end at (which may
// not exist yet: curl creates a dangling link's target).
func getFollowLinks(p string) (string, error) {
	for range 40 {
		st, err := os.Lstat(p)
		if err != nil || st.Mode()&fs.ModeSymlink == 0 {
			return p, nil
		}
		dest, err := os.Readlink(p)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(dest) {
			dest = filepath.Join(filepath.Dir(p), dest)
		}
		p = dest
	}
	return "", unix.ELOOP
}

// getOpenOut prepares FILE before anything goes on the network, so a path
// that cannot be written fails at once (exit 2).
func getOpenOut(ctx context.Context, path string) (*getOutFile, error) {
	usage := func(err error) error {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return usageErrorf("cannot write --out-file %s: %v", path, err)
	}
	target, err := getFollowLinks(path)
	if err != nil {
		return nil, usage(err)
	}
	o := &getOutFile{ctx: ctx, path: path, target: target}
	st, err := os.Stat(target)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		o.regular = true
		if err := o.createTemp(false, 0, usage); err != nil {
			return nil, err
		}
		return o, nil
	case err != nil:
		return nil, usage(err)
	case st.IsDir():
		return nil, usageErrorf("cannot write --out-file %s: it is a directory", path)
	case st.Mode().IsRegular():
		// A file nettool may not write is not replaced either (curl's
		// open fails the same way).
		if err := unix.Access(target, unix.W_OK); err != nil {
			return nil, usage(err)
		}
		o.regular = true
		if err := o.createTemp(true, st.Mode().Perm(), usage); err != nil {
			return nil, err
		}
		if getWritesOutOnReplace(filepath.Dir(target)) {
			o.writeOut = getStartWriteOut
		}
		// Keep the owner too where we may (root replacing a user's file).
		if sys, ok := st.Sys().(*syscall.Stat_t); ok && (int(sys.Uid) != os.Geteuid() || int(sys.Gid) != os.Getegid()) {
			_ = o.f.Chown(int(sys.Uid), int(sys.Gid))
			_ = o.f.Chmod(st.Mode().Perm()) // chown clears set-id bits; the mode stays as it was
		}
		return o, nil
	}
	// A device, FIFO or socket: written through, opened at the first byte.
	if err := unix.Access(target, unix.W_OK); err != nil {
		return nil, usage(err)
	}
	return o, nil
}

// createTemp makes the file the body goes to, beside the target. keep false:
// a new file, mode 0666 less the umask (as curl, as open(2) does); else the
// existing file's mode, kept exactly.
func (o *getOutFile) createTemp(keep bool, perm fs.FileMode, usage func(error) error) error {
	dir := filepath.Dir(o.target)
	mode := uint32(0o666)
	if keep {
		mode = 0o600 // set exactly below, whatever the umask
	}
	if fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_WRONLY|unix.O_CLOEXEC, mode); err == nil {
		f := os.NewFile(uintptr(fd), o.path)
		// Linking it in at the end goes through /proc/self/fd.
		if _, err := os.Stat(getProcFD(f)); err == nil {
			o.f = f
		} else {
			f.Close()
		}
	}
	if o.f == nil {
		for i := 0; ; i++ {
			name := filepath.Join(dir, "."+filepath.Base(o.target)+".nettool-"+getRandomSuffix())
			f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fs.FileMode(mode))
			if errors.Is(err, fs.ErrExist) && i < 100 {
				continue
			}
			if err != nil {
				return usage(err)
			}
			o.f, o.tmpName = f, name
			break
		}
	}
	if keep {
		if err := o.f.Chmod(perm); err != nil {
			o.abort()
			return usage(err)
		}
	}
	return nil
}

func getProcFD(f *os.File) string { return "/proc/self/fd/" + strconv.Itoa(int(f.Fd())) }

func getRandomSuffix() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// openThrough opens a device, FIFO or socket for writing. Opening a FIFO
// waits for a reader, as curl does; Ctrl-C still ends the wait.
func (o *getOutFile) openThrough() error {
	type opened struct {
		f   *os.File
		err error
	}
	ch := make(chan opened, 1)
	go func() {
		f, err := os.OpenFile(o.target, os.O_WRONLY, 0)
		ch <- opened{f, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			return r.err
		}
		o.f, o.opened = r.f, true
		return nil
	case <-o.ctx.Done():
		go func() {
			if r := <-ch; r.f != nil {
				r.f.Close()
			}
		}()
		return o.ctx.Err()
	}
}

// Write is the body's sink.
func (o *getOutFile) Write(b []byte) (int, error) {
	if o.werr != nil {
		return 0, o.werr
	}
	if o.f == nil {
		if err := o.openThrough(); err != nil {
			o.werr = err
			return 0, err
		}
	}
	n, err := o.f.Write(b)
	if err != nil {
		o.werr = err
	}
	o.written += int64(n)
	if o.writeOut != nil && o.written-o.started >= getWriteOutStep {
		_ = o.writeOut(o.f.Fd(), o.started, o.written-o.started)
		o.started = o.written
	}
	return n, err
}

// WriteError is the first error writing FILE, as a local failure naming it
// (nil when every write went through).
func (o *getOutFile) WriteError() error {
	if o.werr == nil || errors.Is(o.werr, context.Canceled) {
		return nil
	}
	return getOutError(o.path, o.werr)
}

// Touched tells whether FILE itself has been written to (for a regular
// file: only once committed).
func (o *getOutFile) Touched() bool { return o.opened }

// commit makes the body FILE's content.
func (o *getOutFile) commit() error {
	if o.done {
		return nil
	}
	o.done = true
	if !o.regular {
		if o.f == nil {
			// An empty body: FILE is still opened (a FIFO's reader sees
			// the end), as curl does.
			if err := o.openThrough(); err != nil {
				return getOutError(o.path, err)
			}
		}
		if err := o.f.Close(); err != nil {
			return getOutError(o.path, err)
		}
		return nil
	}
	if o.tmpName == "" {
		// Link the unnamed file in under a temporary name, then rename it
		// over the target: the name exists only between the two calls.
		name := filepath.Join(filepath.Dir(o.target), "."+filepath.Base(o.target)+".nettool-"+getRandomSuffix())
		if err := unix.Linkat(unix.AT_FDCWD, getProcFD(o.f), unix.AT_FDCWD, name, unix.AT_SYMLINK_FOLLOW); err != nil {
			o.f.Close()
			return getOutError(o.path, err)
		}
		o.tmpName = name
	}
	err := o.f.Close()
	if err == nil {
		err = os.Rename(o.tmpName, o.target)
	}
	if err != nil {
		os.Remove(o.tmpName)
		return getOutError(o.path, err)
	}
	o.opened = true
	return nil
}

// abort leaves a regular FILE as it was, and closes a device or FIFO.
func (o *getOutFile) abort() {
	if o.done {
		return
	}
	o.done = true
	if o.f != nil {
		o.f.Close()
	}
	if o.tmpName != "" {
		os.Remove(o.tmpName)
	}
}
