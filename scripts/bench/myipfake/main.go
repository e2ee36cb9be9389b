// Command myipfake serves stand-in external-IP providers on loopback for
// scripts/bench/myip.sh and for trying `nettool myip` by hand: one HTTP
// server per delay, each answering -answer (a documentation address by
// default, so nettool needs --allow-documentation) after its delay, or never.
// It prints one URL per line, then stays up until stdin closes or it gets
// SIGINT/SIGTERM, or -lifetime passes.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	answer := flag.String("answer", "203.0.113.7", "the address every provider claims")
	answers := flag.String("answers", "", "comma-separated bodies, one per provider, overriding -answer (\\n is a newline)")
	delays := flag.String("delays", "20ms,40ms,60ms,2s,never", "comma-separated answer delays; never = stall until the client goes")
	lifetime := flag.Duration("lifetime", 10*time.Minute, "exit after this long whatever happens")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *lifetime)
	defer cancel()
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); cancel() }()

	var servers []*http.Server
	var bodies []string
	if *answers != "" {
		bodies = strings.Split(*answers, ",")
	}
	for i, d := range strings.Split(*delays, ",") {
		body := *answer + "\n"
		if i < len(bodies) {
			body = strings.ReplaceAll(bodies[i], `\n`, "\n")
		}
		delay := time.Duration(-1)
		if d != "never" {
			var err error
			if delay, err = time.ParseDuration(d); err != nil {
				fmt.Fprintf(os.Stderr, "myipfake: bad delay %q\n", d)
				os.Exit(2)
			}
		}
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			fmt.Fprintln(os.Stderr, "myipfake:", err)
			os.Exit(1)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if delay < 0 {
				<-r.Context().Done()
				return
			}
			t := time.NewTimer(delay)
			defer t.Stop()
			select {
			case <-t.C:
			case <-r.Context().Done():
				return
			}
			w.Header().Set("Content-Type", "text/plain")
			_, _ = io.WriteString(w, body)
		}), ReadHeaderTimeout: 5 * time.Second}
		servers = append(servers, srv)
		go func() { _ = srv.Serve(ln) }()
		fmt.Printf("http://%s/ip\n", ln.Addr())
	}
	os.Stdout.Sync()
	<-ctx.Done()
	for _, s := range servers {
		s.Close()
	}
}
