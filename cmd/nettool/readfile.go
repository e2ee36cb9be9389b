package main

import (
	"fmt"
	"io"
	"os"
)

// readFileLimited reads a file named on the command line (a --cacert PEM
// bundle) with a cap, so that /dev/zero or a FIFO that never ends is an
// error instead of all the machine's memory.
func readFileLimited(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s is larger than %d MiB", path, max>>20)
	}
	return b, nil
}
