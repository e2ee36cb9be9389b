// Package interrupt is nettool's Ctrl-C: a command's context ends at the
// first SIGINT or SIGTERM, so that the command stops and prints what it
// measured, and the next one gets the default action (the process dies).
//
// The handler is installed at start-up by a goroutine of the package's
// init, on a thread of its own, while the packages after this one
// initialise. os/signal's first Notify is dear where threads are: the
// runtime starts a goroutine locked to a thread, a template thread and a
// thread blocked in signal_recv, and Notify waits on two round trips
// between them (one per signal). Made in line in run, as it was, one lookup
// spent ~1.5 ms of its ~17 ms in it on the 2-vCPU development VM. Context
// waits for the install to finish, so a command never starts without its
// handler.
//
// Between two commands (the tests run many in one process) or before the
// first, a signal gets what the default handler does: the package resets
// the signal and sends it to the process again.
//
// A signal that was ignored when nettool started (SIGINT for a job that sh
// starts in the background with &) stays ignored, as POSIX asks of
// programs that catch it: os/signal's Notify would otherwise un-ignore it,
// and the Ctrl-C meant for the script would stop its background nettool.
package interrupt

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// caught are the signals that end a command: SIGINT and SIGTERM, but for
// one ignored when the process started; set before installed is closed,
// read only after.
var caught []os.Signal

var (
	installed = make(chan struct{})
	sigs      = make(chan os.Signal, 1)

	mu        sync.Mutex
	notifying bool                            // signal.Notify(sigs, caught...) is in effect
	runs      = map[*int]context.CancelFunc{} // the commands in progress, by a key of their own
)

func init() {
	go func() {
		for _, s := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
			if !signal.Ignored(s) {
				caught = append(caught, s)
			}
		}
		mu.Lock()
		notify()
		mu.Unlock()
		close(installed)
		for s := range sigs {
			deliver(s)
		}
	}()
}

// notify catches the signals of caught, with mu held. Notify with no
// signals would relay every signal, so with none to catch it does nothing.
func notify() {
	if len(caught) > 0 {
		signal.Notify(sigs, caught...)
	}
	notifying = true
}

// deliver ends every command in progress and lets the next signal kill
// the process; with no command in progress the signal itself gets the
// default action.
func deliver(s os.Signal) {
	mu.Lock()
	signal.Stop(sigs)
	notifying = false
	n := len(runs)
	for k, cancel := range runs {
		cancel()
		delete(runs, k)
	}
	mu.Unlock()
	if n == 0 {
		raise(s)
	}
}

// raise sends s to the process with its disposition from before Notify:
// the default (the process dies of it), or ignored if it was ignored when
// nettool started.
func raise(s os.Signal) {
	signal.Reset(s)
	if sig, ok := s.(syscall.Signal); ok {
		_ = syscall.Kill(syscall.Getpid(), sig)
	}
}

// Context returns a context derived from parent that ends at the first
// SIGINT or SIGTERM, and a function that releases it (as a cancel function
// does: it ends the context too). It waits until the handler is installed.
//
// A parent that has already ended (a demo's step after Ctrl-C) gives an
// ended context and leaves the handler as it is, so that the next Ctrl-C
// still kills the process.
func Context(parent context.Context) (context.Context, context.CancelFunc) {
	<-installed
	ctx, cancel := context.WithCancel(parent)
	if parent.Err() != nil {
		return ctx, cancel
	}
	key := new(int)
	mu.Lock()
	if !notifying {
		// An earlier signal ended a command and stopped the handler (only
		// where several commands run in one process).
		notify()
	}
	runs[key] = cancel
	mu.Unlock()
	return ctx, func() {
		mu.Lock()
		delete(runs, key)
		mu.Unlock()
		cancel()
	}
}
