//go:build linux

package prefault

import "unsafe"

// The package makes its system calls itself, through the syscall package's
// raw entry point, and imports nothing but unsafe: a package with no
// imports is initialised as soon as its place in the order comes (the
// order is by import path, packages whose imports are ready first), so
// its init runs before nearly every other package's, whose page faults it
// saves. Importing syscall would put it after syscall and every package
// syscall needs (a third of the start-up's initialisers).

//go:linkname rawSyscall6 syscall.RawSyscall6
func rawSyscall6(trap, a1, a2, a3, a4, a5, a6 uintptr) (r1, r2 uintptr, err errno)

// sys makes a system call without telling the scheduler: each call here
// is short (procfs and madvise on this process's own pages). Its callers
// pass pointers as uintptr; go:uintptrescapes keeps what they point to
// alive and where it is (on the heap) until the call returns, as the
// compiler does for syscall.Syscall itself.
//
//go:uintptrescapes
func sys(trap, a1, a2, a3, a4 uintptr) (uintptr, errno) {
	r1, _, e := rawSyscall6(trap, a1, a2, a3, a4, 0, 0)
	return r1, e
}

// errno is a system call's error number.
type errno uintptr

const (
	eintr        errno = 4
	madvDontNeed       = 4
	oRDONLY            = 0
	oCLOEXEC           = 0o2000000
	atFDCWD            = ^uintptr(99) // -100
)

func (e errno) Error() string {
	var b [24]byte
	i := len(b)
	for n := uint64(e); ; n /= 10 {
		i--
		b[i] = byte('0' + n%10)
		if n < 10 {
			break
		}
	}
	return "errno " + string(b[i:])
}

// cstr is the address of s's bytes; s must end in a NUL and be a constant.
func cstr(s string) uintptr { return uintptr(unsafe.Pointer(unsafe.StringData(s))) }
