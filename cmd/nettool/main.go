// Command nettool is a network diagnostics toolkit: DNS lookups, ICMP ping,
// TCP connect tests and scans, raw HTTP GET, and internal/external address
// discovery, with one interface and output that scripts can trust.
package main

import (
	"context"
	"os"

	// Maps the code and the first megabyte of heap in at start-up: see
	// the package. Imported here, by the program alone.
	_ "github.com/nettool/nettool/cmd/nettool/internal/prefault"
)

func main() {
	os.Exit(run(context.Background(), os.Args, os.Stdin, os.Stdout, os.Stderr))
}
