package serve

import (
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
)

// httpDiscard is a ResponseWriter that keeps only a byte count and the
// first bytes written.
type httpDiscard struct {
	h    http.Header
	n    int64
	head []byte
}

func (w *httpDiscard) Header() http.Header { return w.h }
func (w *httpDiscard) WriteHeader(int)     {}
func (w *httpDiscard) Write(b []byte) (int, error) {
	if len(w.head) < 5000 {
		w.head = append(w.head, b[:min(len(b), 5000-len(w.head))]...)
	}
	w.n += int64(len(b))
	return len(b), nil
}

// /chunked/N is streamed: the largest body a client may ask for (100 MiB)
// costs the server a few kilobytes, not the body's size (it used to be built
// in memory first, twice over), and its text is unchanged.
func TestServeHTTPChunkedIsStreamed(t *testing.T) {
	h := NewHTTPServer(HTTPOptions{}).handler()
	const n = 100 << 20
	w := &httpDiscard{h: http.Header{}}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	h.ServeHTTP(w, httptest.NewRequest("GET", "/chunked/104857600", nil))
	runtime.ReadMemStats(&after)
	if w.n != n {
		t.Fatalf("wrote %d bytes, want %d", w.n, n)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 4<<20 {
		t.Fatalf("serving /chunked/%d allocated %d bytes", n, got)
	}
	if want := strings.Repeat(httpLine, 5000/len(httpLine)+1)[:5000]; string(w.head) != want {
		t.Fatalf("text changed: %q", w.head[:100])
	}
}
