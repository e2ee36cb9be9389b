// Package prefault prepares the process for a short run, before nearly
// every other package's initialiser: it grows the main goroutine's stack to
// 16 KB in one step, and it maps nettool's code and the first megabyte of
// its heap in, one system call each.
//
// A short run such as one lookup touches several megabytes of code and about
// a megabyte of heap. Left to itself, the kernel maps code in one page fault
// per 64 KB window and heap in one fault per 4 KB page. In a virtual machine
// each fault costs 10-30 us, so a single lookup spends milliseconds in them.
// MADV_POPULATE_READ (code) and MADV_POPULATE_WRITE (heap) set up the same
// page tables in one call (measured: 6.4 MB of code in 0.6-0.8 ms, a
// megabyte of heap in 0.23 ms). Nothing else changes: the pages hold the
// same bytes, and a new heap page is zero as before. What a run can see is
// its resident set: the whole code segment is counted from the start, until
// a long-running command calls Release.
//
// Go runs a package's initialiser once every package it imports is
// initialised, and among the ready ones in the order of their import
// paths; this package imports nothing but unsafe (on Linux amd64, arm64,
// riscv64 and loong64; elsewhere it imports syscall for the numbers of the
// system calls), so it runs first but for a few packages named before
// "github.com" that need nothing either.
//
// The mapping is done on Linux 5.14 and later only. On older kernels,
// other systems, or where /proc is missing, only the stack is grown.
package prefault

const (
	// heapBytes is how much heap is mapped in: about what a one-shot
	// command (a lookup, a GET, a trace) allocates by the time it exits.
	heapBytes = 1 << 20
	pageSize  = 4096
)

func init() { growStack() }

// stackPad is the frame growStack asks for; the runtime then doubles the
// stack until the frame fits: 2 KB to 16 KB in one step.
const stackPad = 8 << 10

// growStack grows the stack of the goroutine that runs the initialisers
// and main (the program's first) to 16 KB in one step, while the stack
// holds only a few frames. Left to grow as it goes, a single lookup of the
// release build grows it three times (2 KB to 4, 8 and 16 KB, seen with a
// uprobe on runtime.copystack), each time deep in a call chain: every copy walks all
// the frames on the stack, reading their stack maps out of the pclntab, a
// part of the binary not yet touched, one page fault at a time.
//
//go:noinline
func growStack() {
	var pad [stackPad]byte
	keep(&pad)
}

// keep takes the address of growStack's frame, so the compiler cannot
// drop it; it does nothing with it, so the frame stays on the stack.
//
//go:noinline
func keep(*[stackPad]byte) {}

// Done records what init mapped in, for the tests: the code's bytes and
// the heap's, and the error of the first call that failed.
var Done struct {
	Text, Heap uintptr
	Err        error
}

// text is what init mapped in of the code, for Release.
var text struct {
	r [4]region
	n int
}

// Release undoes init's mapping of the code, for a command that runs long
// enough not to need it (a batch): the pages leave the process's page tables
// (they stay in the page cache) and come back one fault at a time as the
// code runs, so the resident set counts only the code the command uses. It
// is safe at any time: the code segment is read from the file and never
// written.
func Release() {
	for _, r := range text.r[:text.n] {
		dontNeed(r)
	}
	text.n = 0
}

// region is one line of /proc/self/maps that matters here.
type region struct {
	lo, hi uintptr
	perms  []byte // "r-xp"
	path   []byte // empty for an anonymous mapping
}

// parseMaps reads the lines of /proc/self/maps: "lo-hi perms offset dev
// inode path". Malformed lines are skipped. The regions point into b.
func parseMaps(b []byte) []region {
	out := make([]region, 0, 64)
	for len(b) > 0 {
		line := b
		if i := indexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		lo, i, ok := hexAt(line, 0)
		if !ok || i >= len(line) || line[i] != '-' {
			continue
		}
		hi, i, ok := hexAt(line, i+1)
		if !ok || hi <= lo {
			continue
		}
		fields := splitSpaces(line[i:], 5)
		if len(fields) < 4 {
			continue
		}
		r := region{lo: lo, hi: hi, perms: fields[0]}
		if len(fields) == 5 {
			r.path = fields[4]
		}
		out = append(out, r)
	}
	return out
}

// plan picks the ranges to map in: every executable mapping of the program
// file exe (read), and heapBytes of the anonymous writable mapping that
// holds heapAddr, from heapAddr's page on (write).
func plan(regions []region, exe string, heapAddr uintptr) (text, heap []region) {
	for _, r := range regions {
		switch {
		case exe != "" && string(r.path) == exe && len(r.perms) == 4 && r.perms[2] == 'x':
			text = append(text, r)
		case len(r.path) == 0 && string(r.perms) == "rw-p" && r.lo <= heapAddr && heapAddr < r.hi:
			lo := heapAddr &^ (pageSize - 1)
			hi := min(r.hi, lo+heapBytes)
			heap = append(heap, region{lo: lo, hi: hi, perms: r.perms})
		}
	}
	return text, heap
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// hexAt reads the hexadecimal number at b[i:], returning it and the index
// after it.
func hexAt(b []byte, i int) (uintptr, int, bool) {
	var v uintptr
	start := i
	for ; i < len(b); i++ {
		c := b[i]
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | uintptr(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | uintptr(c-'a'+10)
		default:
			return v, i, i > start && i-start <= 16
		}
	}
	return v, i, i > start && i-start <= 16
}

// splitSpaces splits b at runs of spaces into at most 5 fields; the last
// field keeps its inner spaces (a path may hold them).
func splitSpaces(b []byte, n int) [][]byte {
	out := make([][]byte, 0, 5)
	for len(b) > 0 && len(out) < n {
		for len(b) > 0 && b[0] == ' ' {
			b = b[1:]
		}
		if len(b) == 0 {
			break
		}
		if len(out) == n-1 {
			out = append(out, b)
			break
		}
		i := indexByte(b, ' ')
		if i < 0 {
			i = len(b)
		}
		out = append(out, b[:i])
		b = b[i:]
	}
	return out
}
