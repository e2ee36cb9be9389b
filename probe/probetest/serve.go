package probetest

import (
	"net"
	"sync"
	"testing"
)

// ServeTCP listens on 127.0.0.1:0 and hands every connection to fn, in a
// goroutine of its own, until the test ends; see Serve.
func ServeTCP(t testing.TB, fn func(c net.Conn, stop <-chan struct{})) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return Serve(t, ln, fn)
}

// Serve accepts on ln and hands every connection to fn, in a goroutine of
// its own. When the test ends, ln is closed, stop is closed (a peer that
// holds its connections silent waits on it), every connection still open
// is closed, and Serve waits for every goroutine: none outlives the test.
// It returns ln's address.
func Serve(t testing.TB, ln net.Listener, fn func(c net.Conn, stop <-chan struct{})) string {
	t.Helper()
	stop := make(chan struct{})
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns = map[net.Conn]bool{}
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[c] = true
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() {
					mu.Lock()
					delete(conns, c)
					mu.Unlock()
					c.Close()
				}()
				fn(c, stop)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		close(stop)
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// Silent is a peer for Serve that accepts and never says a word.
func Silent(_ net.Conn, stop <-chan struct{}) { <-stop }
