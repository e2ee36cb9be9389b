//go:build linux

package prefault

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

// smapsRss returns the size and the resident part of the mapping of
// /proc/self/smaps that holds addr, in bytes.
func smapsRss(t *testing.T, addr uintptr) (size, rss uintptr) {
	t.Helper()
	b, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Skipf("no /proc/self/smaps: %v", err)
	}
	in := false
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		if lo, hi, ok := strings.Cut(strings.Fields(line + " x")[0], "-"); ok && !strings.HasSuffix(line, "kB") {
			l, err1 := strconv.ParseUint(lo, 16, 64)
			h, err2 := strconv.ParseUint(hi, 16, 64)
			in = err1 == nil && err2 == nil && uintptr(l) <= addr && addr < uintptr(h)
			continue
		}
		if !in {
			continue
		}
		var kb uintptr
		if _, err := fmt.Sscanf(line, "Size: %d kB", &kb); err == nil {
			size = kb << 10
		}
		if _, err := fmt.Sscanf(line, "Rss: %d kB", &kb); err == nil {
			rss = kb << 10
		}
	}
	return size, rss
}

// TestStartUp checks what init did in this test binary: its code is all
// resident, and a megabyte of heap past the mark is.
func TestStartUp(t *testing.T) {
	// Whether this kernel has the calls at all, asked of a page of our own:
	// only then is an error of init's a failure of its ranges.
	page, err := syscall.Mmap(-1, 0, pageSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(page)
	if _, _, e := syscall.Syscall(syscall.SYS_MADVISE, uintptr(unsafe.Pointer(&page[0])), pageSize, madvPopulateWrite); e != 0 {
		t.Skipf("this kernel has no MADV_POPULATE_WRITE (Linux 5.14): %v; init's error: %v", e, Done.Err)
	}
	if Done.Err != nil {
		t.Fatalf("madvise: %v", Done.Err)
	}
	if Done.Text == 0 || Done.Heap == 0 {
		t.Fatalf("init mapped in %d bytes of code and %d of heap, want both", Done.Text, Done.Heap)
	}
	if Done.Heap > heapBytes {
		t.Errorf("init mapped in %d bytes of heap, more than the %d asked", Done.Heap, heapBytes)
	}
	// Init maps heapBytes from the mark's page, or up to the end of the
	// mapping, whichever comes first (the mark can fall near the end of the
	// heap's first chunk): what it reported must be resident.
	_, rss := smapsRss(t, uintptr(unsafe.Pointer(heapMark)))
	if rss < Done.Heap {
		t.Errorf("heap mapping: %d bytes resident, want at least the %d init mapped in", rss, Done.Heap)
	}
}

// TestPopulateCode maps two copies of a file as code: the one populate is
// told is the program is resident at once, the other is not until touched;
// after Release neither is.
func TestPopulateCode(t *testing.T) {
	dir := t.TempDir()
	data := bytes.Repeat([]byte{0xc3}, 64*pageSize)
	var maps [2][]byte
	var paths [2]string
	for i := range maps {
		paths[i] = fmt.Sprintf("%s/code%d", dir, i)
		if err := os.WriteFile(paths[i], data, 0o755); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(paths[i])
		if err != nil {
			t.Fatal(err)
		}
		b, err := syscall.Mmap(int(f.Fd()), 0, len(data), syscall.PROT_READ|syscall.PROT_EXEC, syscall.MAP_PRIVATE)
		f.Close()
		if err != nil {
			t.Skipf("cannot map a file as code here: %v", err)
		}
		maps[i] = b
		defer syscall.Munmap(b)
	}
	saved, savedText := Done, text
	defer func() { Done, text = saved, savedText }() // the files are unmapped: Release must not see them
	Done.Err, text.n = nil, 0
	populate(paths[0], 0, make([]byte, 64<<10))
	if Done.Err != nil {
		t.Skipf("madvise: %v", Done.Err)
	}
	for i, b := range maps {
		size, rss := smapsRss(t, uintptr(unsafe.Pointer(&b[0])))
		if size != uintptr(len(data)) {
			t.Fatalf("mapping %d: size %d, want %d", i, size, len(data))
		}
		if i == 0 && rss != size {
			t.Errorf("the program's code: %d of %d bytes resident, want all", rss, size)
		}
		if i == 1 && rss == size {
			t.Errorf("another file's code, never touched: all %d bytes resident, want fewer (the check could not fail)", size)
		}
	}
	if text.n != 1 {
		t.Fatalf("populate kept %d ranges for Release, want the program's 1", text.n)
	}
	Release()
	if _, rss := smapsRss(t, uintptr(unsafe.Pointer(&maps[0][0]))); rss != 0 {
		t.Errorf("after Release the program's code keeps %d bytes resident, want 0 (nothing touched it since)", rss)
	}
	if text.n != 0 {
		t.Errorf("Release left %d ranges to release again", text.n)
	}
	if maps[0][len(data)-1] != 0xc3 {
		t.Errorf("after Release the code reads %#x, want the file's 0xc3", maps[0][len(data)-1])
	}
}

func TestErrnoText(t *testing.T) {
	for e, want := range map[errno]string{0: "errno 0", 4: "errno 4", 22: "errno 22", 4095: "errno 4095"} {
		if got := e.Error(); got != want {
			t.Errorf("errno(%d).Error() = %q, want %q", uintptr(e), got, want)
		}
	}
}
