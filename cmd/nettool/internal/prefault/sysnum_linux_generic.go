//go:build linux && (arm64 || riscv64 || loong64)

package prefault

// System call numbers of the kernel's generic table
// (include/uapi/asm-generic/unistd.h), which these architectures use.
const (
	sysRead       = 63
	sysClose      = 57
	sysMadvise    = 233
	sysOpenat     = 56
	sysReadlinkat = 78
)
