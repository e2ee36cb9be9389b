package serve

import (
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// echoRoundTrip sends total bytes in writes of chunk bytes on one
// connection and reads the echo back, with buffers allocated up front.
func echoRoundTrip(t *testing.T, addr string, total, chunk int) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(60 * time.Second))
	errc := make(chan error, 1)
	go func() {
		out := make([]byte, chunk)
		for left := total; left > 0; {
			n, err := c.Write(out[:min(left, chunk)])
			if err != nil {
				errc <- err
				return
			}
			left -= n
		}
		errc <- nil
	}()
	in := make([]byte, max(chunk, 64<<10))
	for got := 0; got < total; {
		n, err := c.Read(in)
		got += n
		if err != nil {
			t.Fatalf("echo: %d of %d bytes back: %v", got, total, err)
		}
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

// With no log (-q), echoing formats nothing: what the server allocates per
// 64 KiB chunk is a few bytes, not an escaped copy of the chunk.
func TestEchoQuietFormatsNothing(t *testing.T) {
	defer goleak.VerifyNone(t)
	const chunk, total = 65536, 16 << 20
	srv, stop := echoStart(t, EchoOptions{Chunk: chunk, Log: io.Discard})
	defer stop()
	echoRoundTrip(t, srv.Addr().String(), chunk, chunk) // warm up
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	echoRoundTrip(t, srv.Addr().String(), total, chunk)
	runtime.ReadMemStats(&after)
	chunks := total / chunk
	if per := (after.TotalAlloc - before.TotalAlloc) / uint64(chunks); per > 4096 {
		t.Fatalf("%d bytes allocated per %d-byte chunk echoed with no log", per, chunk)
	}
}

// echoStuckLog is a log that nobody reads (a paused terminal): every Write
// blocks until released.
type echoStuckLog struct {
	release chan struct{}
	lines   echoLockedBuf
}

func (l *echoStuckLog) Write(p []byte) (int, error) {
	<-l.release
	return l.lines.Write(p)
}

// A log that does not keep up never holds the connections: clients are
// echoed in full, lines beyond the queue are dropped and counted, and a
// line shows at most the first 64 bytes of a chunk.
func TestEchoSlowLogDoesNotStall(t *testing.T) {
	defer goleak.VerifyNone(t)
	log := &echoStuckLog{release: make(chan struct{})}
	srv, stop := echoStart(t, EchoOptions{Chunk: 16, Log: log})
	released := false
	defer func() {
		if !released {
			close(log.release)
		}
	}()
	echoRoundTrip(t, srv.Addr().String(), 96<<10, 16) // 6144 chunks: more lines than the queue holds
	close(log.release)
	released = true
	stop()
	text := log.lines.String()
	if !strings.Contains(text, "log lines dropped: the log was not read fast enough") {
		t.Fatalf("no word about dropped lines in %d bytes of log", len(text))
	}

	big := &echoLockedBuf{}
	srv, stop = echoStart(t, EchoOptions{Chunk: 65536, Log: big})
	echoRoundTrip(t, srv.Addr().String(), 1<<20, 65536)
	stop()
	for _, l := range strings.Split(big.String(), "\n") {
		if len(l) > 400 {
			t.Fatalf("a %d-byte log line: %.200s...", len(l), l)
		}
	}
	if !strings.Contains(big.String(), `(the first 64 shown), sending it back`) {
		t.Fatalf("log:\n%.2000s", big.String())
	}
}
