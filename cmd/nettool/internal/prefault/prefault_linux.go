//go:build linux

package prefault

import "unsafe"

const (
	madvPopulateRead  = 22 // MADV_POPULATE_READ, Linux 5.14
	madvPopulateWrite = 23 // MADV_POPULATE_WRITE
)

// heapMark is allocated in init; its address says where the heap is
// allocating now.
var heapMark *[64]byte

func init() {
	heapMark = new([64]byte)
	run(uintptr(unsafe.Pointer(heapMark)))
}

func run(heapAddr uintptr) {
	// From the heap, not the stack: init runs on a small stack, and a
	// larger frame would make it grow (a copy, more pages touched).
	buf := make([]byte, 12<<10)
	exe := buf[:4096]
	n, e := sys(sysReadlinkat, atFDCWD, cstr("/proc/self/exe\x00"), uintptr(unsafe.Pointer(&exe[0])), uintptr(len(exe)))
	if e != 0 || n == 0 || n >= uintptr(len(exe)) {
		n = 0
	}
	populate(string(exe[:n]), heapAddr, buf[4096:])
}

// populate maps in the executable mappings of the file exe and heapBytes of
// the heap at heapAddr, reading /proc/self/maps into maps.
func populate(exe string, heapAddr uintptr, maps []byte) {
	m := readFile("/proc/self/maps\x00", maps)
	if m == len(maps) {
		// The last line may be cut short: keep whole lines only.
		for m > 0 && maps[m-1] != '\n' {
			m--
		}
	}
	if m == 0 {
		return
	}
	code, heap := plan(parseMaps(maps[:m]), exe, heapAddr)
	for _, r := range code {
		if madvise(r, madvPopulateRead) {
			Done.Text += r.hi - r.lo
			if text.n < len(text.r) {
				text.r[text.n] = region{lo: r.lo, hi: r.hi}
				text.n++
			}
		}
	}
	for _, r := range heap {
		if madvise(r, madvPopulateWrite) {
			Done.Heap += r.hi - r.lo
		}
	}
}

// dontNeed drops r from the page tables (MADV_DONTNEED).
func dontNeed(r region) { madvise(r, madvDontNeed) }

func madvise(r region, advice uintptr) bool {
	var e errno
	for {
		// A signal can cut a populate short (EINTR); the pages mapped so
		// far stay, and the call goes on from there when repeated.
		if _, e = sys(sysMadvise, r.lo, r.hi-r.lo, advice, 0); e != eintr {
			break
		}
	}
	if e != 0 {
		if Done.Err == nil {
			Done.Err = e
		}
		return false
	}
	return true
}

// readFile reads path into buf, as much as fits, and returns the length.
// path ends in a NUL.
func readFile(path string, buf []byte) int {
	fd, e := sys(sysOpenat, atFDCWD, cstr(path), oRDONLY|oCLOEXEC, 0)
	if e != 0 {
		return 0
	}
	defer sys(sysClose, fd, 0, 0, 0)
	m := 0
	for m < len(buf) {
		k, e := sys(sysRead, fd, uintptr(unsafe.Pointer(&buf[m])), uintptr(len(buf)-m), 0)
		if e == eintr {
			continue
		}
		if e != 0 || k == 0 {
			break
		}
		m += int(k)
	}
	return m
}
