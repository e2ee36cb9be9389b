// Command echoload is the load client of scripts/bench/serve-echo.sh: it
// opens -clients connections to an echo server at once, each sends -bytes
// bytes in -chunk writes while it reads the echo back, and prints the wall
// time in seconds and the bytes echoed. Every connection has a deadline.
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:10000", "echo server")
	clients := flag.Int("clients", 500, "connections at once")
	size := flag.Int("bytes", 1<<20, "bytes per connection")
	chunk := flag.Int("chunk", 65536, "bytes per write")
	timeout := flag.Duration("timeout", 120*time.Second, "deadline for the whole run")
	flag.Parse()
	deadline := time.Now().Add(*timeout)
	var echoed atomic.Int64
	var failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < *clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.DialTimeout("tcp", *addr, 10*time.Second)
			if err != nil {
				failed.Add(1)
				return
			}
			defer c.Close()
			_ = c.SetDeadline(deadline)
			go func() {
				buf := make([]byte, *chunk)
				for left := *size; left > 0; {
					n, err := c.Write(buf[:min(left, len(buf))])
					if err != nil {
						return
					}
					left -= n
				}
				_ = c.(*net.TCPConn).CloseWrite()
			}()
			n, err := io.CopyBuffer(io.Discard, c, make([]byte, *chunk))
			echoed.Add(n)
			if err != nil || n != int64(*size) {
				failed.Add(1)
			}
		}()
	}
	wg.Wait()
	fmt.Printf("%.3f %d\n", time.Since(start).Seconds(), echoed.Load())
	if failed.Load() > 0 {
		fmt.Fprintf(os.Stderr, "echoload: %d of %d connections failed\n", failed.Load(), *clients)
		os.Exit(1)
	}
}
