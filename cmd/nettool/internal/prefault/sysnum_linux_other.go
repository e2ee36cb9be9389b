//go:build linux && !amd64 && !arm64 && !riscv64 && !loong64

package prefault

import "syscall"

// Elsewhere the numbers come from the syscall package; importing it puts
// this package's init after syscall's, which costs only time.
const (
	sysRead       = syscall.SYS_READ
	sysClose      = syscall.SYS_CLOSE
	sysMadvise    = syscall.SYS_MADVISE
	sysOpenat     = syscall.SYS_OPENAT
	sysReadlinkat = syscall.SYS_READLINKAT
)
