package prefault

// System call numbers, from the kernel's arch/x86/entry/syscalls/syscall_64.tbl.
const (
	sysRead       = 0
	sysClose      = 3
	sysMadvise    = 28
	sysOpenat     = 257
	sysReadlinkat = 267
)
