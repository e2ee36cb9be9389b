//go:build unix

package tcp

import "syscall"

// RaiseFileLimit raises the soft RLIMIT_NOFILE to the hard limit (capped at
// 1<<20) and returns the soft limit now in force. Scans size their
// concurrency from it.
func RaiseFileLimit() (int, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	want := lim.Max
	if want > 1<<20 {
		want = 1 << 20
	}
	if lim.Cur < want {
		raised := lim
		raised.Cur = want
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err == nil {
			lim = raised
		}
	}
	return int(lim.Cur), nil
}
