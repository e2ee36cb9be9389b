package httpget

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
)

func parseString(t *testing.T, method, s string, lim Limits) (*Response, string, error) {
	t.Helper()
	var sink bytes.Buffer
	p := &Parser{Limits: lim}
	resp, err := p.Parse(strings.NewReader(s), method, &sink)
	return resp, sink.String(), err
}

func codes(r *Response) []string {
	var out []string
	for _, v := range r.Violations {
		out = append(out, v.Code)
	}
	return out
}

func hasCode(r *Response, code string) bool {
	for _, v := range r.Violations {
		if v.Code == code {
			return true
		}
	}
	return false
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	z := gzip.NewWriter(&buf)
	z.Write(b)
	z.Close()
	return buf.Bytes()
}

func TestParseGoodResponses(t *testing.T) {
	cases := []struct {
		name, in, method, body, framing string
		status                          int
	}{
		{"content-length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", "GET", "hello", "content-length", 200},
		{"identical CL list (RFC 9112 6.3)", "HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\n\r\nhi", "GET", "hi", "content-length", 200},
		{"chunked with extension and trailer", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2 \r\nde\r\n0\r\nX-T: 1\r\n\r\n", "GET", "abcde", "chunked", 200},
		{"until close", "HTTP/1.0 200 OK\r\n\r\nall of it", "GET", "all of it", "close", 200},
		{"HEAD has no body", "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", "HEAD", "", "none", 200},
		{"204", "HTTP/1.1 204 No Content\r\n\r\n", "GET", "", "none", 204},
		{"304", "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n", "GET", "", "none", 304},
		{"interim 100", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno", "GET", "no", "content-length", 404},
		{"no reason phrase", "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", "GET", "", "content-length", 200},
		{"gzip", "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: " + strconv.Itoa(len(gz([]byte("zipped")))) + "\r\n\r\n" + string(gz([]byte("zipped"))), "GET", "zipped", "content-length", 200},
		{"gzip transfer-coding until close", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n" + string(gz([]byte("tz"))), "GET", "tz", "close", 200},
		{"empty gzip body", "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 0\r\n\r\n", "GET", "", "content-length", 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, body, err := parseString(t, c.method, c.in, Limits{})
			if err != nil || len(r.Violations) > 0 {
				t.Fatalf("err %v violations %v", err, r.Violations)
			}
			if body != c.body || string(r.Body) != c.body || r.Framing != c.framing || r.Status != c.status || !r.Complete {
				t.Fatalf("got body %q preview %q framing %s status %d complete %v", body, r.Body, r.Framing, r.Status, r.Complete)
			}
			if !bytes.HasPrefix([]byte(c.in), r.RawHead) || !bytes.Equal(r.Raw, []byte(c.in)) {
				t.Fatalf("raw capture differs: head %q raw %q", r.RawHead, r.Raw)
			}
		})
	}
	r, _, _ := parseString(t, "GET", "HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 0\r\n\r\n", Limits{})
	if r.Get("X-A") != "a b" || !hasCode(r, VObsFold) {
		t.Fatalf("obs-fold: %q %v", r.Get("X-A"), codes(r))
	}
}

// Every RFC 9112 violation the issue names, and more: each is recorded
// with its code, and the bytes that came are still there to show.
func TestParseViolations(t *testing.T) {
	cases := []struct {
		name, in, code string
		stops          bool // reading stopped with an error
	}{
		{"conflicting CL", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde", VConflictCL, false},
		{"conflicting CL list", "HTTP/1.1 200 OK\r\nContent-Length: 3, 4\r\n\r\nabcd", VConflictCL, false},
		{"bad CL", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nx", VBadCL, false},
		{"TE and CL", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 10\r\n\r\n3\r\nabc\r\n0\r\n\r\n", VTEAndCL, false},
		{"bare LF", "HTTP/1.1 200 OK\nContent-Length: 2\n\nhi", VBareLF, false},
		{"bare CR", "HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 0\r\n\r\n", VBareCR, false},
		{"obs-fold", "HTTP/1.1 200 OK\r\nX-A: a\r\n\tb\r\nContent-Length: 0\r\n\r\n", VObsFold, false},
		{"space before first field", "HTTP/1.1 200 OK\r\n X-A: a\r\nContent-Length: 0\r\n\r\n", VLeadingSpace, false},
		{"no colon", "HTTP/1.1 200 OK\r\nnocolon\r\nContent-Length: 0\r\n\r\n", VNoColon, false},
		{"space before colon", "HTTP/1.1 200 OK\r\nX-Sp : a\r\nContent-Length: 0\r\n\r\n", VBadFieldName, false},
		{"NUL in value", "HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 0\r\n\r\n", VCtlInField, false},
		{"ESC in value", "HTTP/1.1 200 OK\r\nEvil: yes\x1b[2Ano\r\nContent-Length: 0\r\n\r\n", VCtlInField, false},
		{"OSC in reason", "HTTP/1.1 200 OK\x1b]0;PWNED\x07\r\nContent-Length: 0\r\n\r\n", VCtlInReason, false},
		{"bad chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", VBadChunkSize, true},
		{"huge chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n", VBadChunkSize, true},
		{"chunk without CRLF", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcdef\r\n0\r\n\r\n", VChunkNoCRLF, true},
		{"no last chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n", VIncomplete, true},
		{"short body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", VIncomplete, true},
		{"extra bytes", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiHTTP/1.1 200 OK\r\n", VExtraBytes, false},
		{"HTTP/0.9", "<html>hello</html>\n", VNotHTTP, false},
		{"echoed request", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", VNotHTTP, false},
		{"cut inside HTTP/", "HTT", VNotHTTP, false},
		{"bad version", "HTTP/2 200 OK\r\n\r\n", VBadStatusLine, false},
		{"bad status code", "HTTP/1.1 2x0 OK\r\n\r\n", VBadStatusLine, false},
		{"head cut", "HTTP/1.1 200 OK\r\nContent-Le", VIncomplete, true},
		{"bad gzip", "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 5\r\n\r\nnotgz", VBadEncoding, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, _, err := parseString(t, "GET", c.in, Limits{})
			if !hasCode(r, c.code) {
				t.Fatalf("want violation %s, got %v (err %v)", c.code, codes(r), err)
			}
			if (err != nil) != c.stops {
				t.Fatalf("err = %v, want stop=%v", err, c.stops)
			}
			if !bytes.Equal(r.Raw, []byte(c.in)) {
				t.Fatalf("the bytes received must all be kept for display: %q", r.Raw)
			}
		})
	}
}

// limitCode is the failure code of a local cap that stopped parsing ("" if
// none did).
func limitCode(err error) string {
	var le *LimitError
	if errors.As(err, &le) {
		return le.Code
	}
	return ""
}

// A local cap is not a breach of the protocol: hitting one is a LimitError
// with its own failure code and no violation.
func TestParseCaps(t *testing.T) {
	check := func(what string, r *Response, err error, code string) {
		t.Helper()
		if limitCode(err) != code || len(r.Violations) != 0 {
			t.Fatalf("%s: err %v (code %q, want %q) violations %v", what, err, limitCode(err), code, codes(r))
		}
	}
	// Endless headers stop at the head cap.
	endless := "HTTP/1.1 200 OK\r\n" + strings.Repeat("X-Flood: aaaaaaaaaaaaaaaaaaaa\r\n", 10000)
	r, _, err := parseString(t, "GET", endless, Limits{MaxHeadBytes: 4096})
	check("endless headers", r, err, FailHeadTooLarge)
	if r.HeadBytes > 4096 {
		t.Fatalf("endless headers: head %d", r.HeadBytes)
	}
	r, _, err = parseString(t, "GET", "HTTP/1.1 200 OK\r\n"+strings.Repeat("A: b\r\n", 50)+"\r\n", Limits{MaxFields: 10})
	check("field count cap", r, err, FailHeadTooLarge)
	r, _, err = parseString(t, "GET", "HTTP/1.1 200 OK\r\n"+strings.Repeat("A: b\r\n", 10)+"\r\n", Limits{MaxFields: 10})
	check("exactly at the field count cap", r, err, "")
	// One endless line.
	r, _, err = parseString(t, "GET", "HTTP/1.1 200 OK"+strings.Repeat("x", 100000), Limits{MaxHeadBytes: 4096})
	check("endless status line", r, err, FailHeadTooLarge)
	// Body cap by Content-Length, before reading it.
	r, _, err = parseString(t, "GET", "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\nabc", Limits{MaxBody: 1000})
	check("body cap", r, err, FailBodyTooLarge)
	// Body cap while reading (no length given).
	r, _, err = parseString(t, "GET", "HTTP/1.1 200 OK\r\n\r\n"+strings.Repeat("z", 5000), Limits{MaxBody: 1000})
	check("body cap until close", r, err, FailBodyTooLarge)
	// A decompression bomb: 4 MiB of zeros in a few KiB of gzip.
	bomb := gz(make([]byte, 4<<20))
	in := "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: " + strconv.Itoa(len(bomb)) + "\r\n\r\n" + string(bomb)
	r, _, err = parseString(t, "GET", in, Limits{MaxRatio: 100})
	check("bomb", r, err, FailDecompressionRatio)
	if r.BodyBytes > 4<<20 {
		t.Fatalf("bomb: decoded %d", r.BodyBytes)
	}
	r, _, err = parseString(t, "GET", in, Limits{MaxBody: 2 << 20, MaxRatio: -1})
	check("bomb against the size cap", r, err, FailBodyTooLarge)
	// Eleven interim responses.
	r, _, err = parseString(t, "GET", strings.Repeat("HTTP/1.1 102 Processing\r\n\r\n", 11)+"HTTP/1.1 200 OK\r\n\r\n", Limits{})
	check("interim responses", r, err, FailHeadTooLarge)
	// Previews are capped, counts are not.
	r, _, err = parseString(t, "GET", "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n"+strings.Repeat("y", 5000), Limits{KeepBody: 100, KeepRaw: 100})
	if err != nil || len(r.Body) != 100 || !r.BodyCut || r.BodyBytes != 5000 || !r.RawCut {
		t.Fatalf("preview: err %v len %d cut %v n %d", err, len(r.Body), r.BodyCut, r.BodyBytes)
	}
}

func TestParseReadError(t *testing.T) {
	p := &Parser{}
	r, err := p.Parse(io.MultiReader(strings.NewReader("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab"), errReader{}), "GET", nil)
	if !errors.Is(err, errBoom) || r.Status != 200 || string(r.Body) != "ab" {
		t.Fatalf("err %v status %d body %q", err, r.Status, r.Body)
	}
}

var errBoom = errors.New("boom")

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errBoom }

// FuzzParse: no input makes the parser panic, read past its caps, or lose
// the bytes it was given.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nT: 1\r\n\r\n",
		"HTTP/1.1 200 OK\nContent-Length: 3, 3\n\nabc",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No\r\n\r\n",
		"HTTP/1.0 200 OK\r\nX: a\r\n b\r\n\r\nbody",
		"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n" + string(gz([]byte("hi"))),
		"HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nx\x9c\r\n0\r\n\r\n",
		"GET / HTTP/1.1\r\n\r\n",
		"HTTP/1.1 200 \x1b]0;x\x07\r\n\r\n",
	} {
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, in []byte, head bool) {
		method := "GET"
		if head {
			method = "HEAD"
		}
		lim := Limits{MaxHeadBytes: 2048, MaxFields: 20, MaxBody: 1 << 20, MaxRatio: 50, KeepBody: 512, KeepRaw: 512}
		var sink bytes.Buffer
		p := &Parser{Limits: lim}
		r, _ := p.Parse(bytes.NewReader(in), method, &sink)
		if r == nil {
			t.Fatal("nil response")
		}
		if r.HeadBytes > lim.MaxHeadBytes || len(r.Body) > lim.KeepBody || int64(sink.Len()) != r.BodyBytes {
			t.Fatalf("caps broken: head %d body %d sink %d count %d", r.HeadBytes, len(r.Body), sink.Len(), r.BodyBytes)
		}
		if sink.Len() > int(lim.MaxBody)+256<<10 {
			t.Fatalf("body cap broken: %d", sink.Len())
		}
		if !bytes.HasPrefix(in, r.Raw) || !bytes.HasPrefix(r.Raw, r.RawHead) && len(r.RawHead) <= len(r.Raw) {
			t.Fatalf("raw capture is not a prefix of the input")
		}
		if r.Complete && r.HTTP && r.Status == 0 {
			t.Fatalf("complete without a status")
		}
	})
}

// The trailer section has the head's caps, exactly: MaxFields fields pass,
// one more fails; lines without a colon count too, and so do bytes.
func TestParseTrailerCap(t *testing.T) {
	chunked := func(trailer string) string {
		return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n" + trailer + "\r\n"
	}
	fields := func(n int, line string) string { return strings.Repeat(line, n) }
	r, _, err := parseString(t, "GET", chunked(fields(500, "T: v\r\n")), Limits{})
	if err != nil || len(r.Trailers) != 500 || !r.Complete {
		t.Fatalf("500 trailer fields: err %v, %d kept", err, len(r.Trailers))
	}
	r, _, err = parseString(t, "GET", chunked(fields(501, "T: v\r\n")), Limits{})
	if limitCode(err) != FailHeadTooLarge || len(r.Trailers) > 500 {
		t.Fatalf("501 trailer fields: err %v, %d kept", err, len(r.Trailers))
	}
	r, _, err = parseString(t, "GET", chunked(fields(10, "T: v\r\n")), Limits{MaxFields: 10})
	if err != nil || len(r.Trailers) != 10 {
		t.Fatalf("10 of 10: err %v, %d kept", err, len(r.Trailers))
	}
	r, _, err = parseString(t, "GET", chunked(fields(11, "T: v\r\n")), Limits{MaxFields: 10})
	if limitCode(err) != FailHeadTooLarge || len(r.Trailers) != 10 {
		t.Fatalf("11 of 10: err %v, %d kept", err, len(r.Trailers))
	}
	// Lines without a colon are not a way around the cap.
	r, _, err = parseString(t, "GET", chunked(fields(10000, "nocolon\r\n")), Limits{})
	if limitCode(err) != FailHeadTooLarge || len(r.Violations) > 501 {
		t.Fatalf("endless colon-less trailer lines: err %v, %d violations", err, len(r.Violations))
	}
	// Nor are long lines: the section has the head's byte budget.
	r, _, err = parseString(t, "GET", chunked(fields(100, "T: "+strings.Repeat("v", 10000)+"\r\n")), Limits{MaxHeadBytes: 64 << 10})
	if limitCode(err) != FailHeadTooLarge || len(r.Trailers) > 7 {
		t.Fatalf("1 MB of trailers: err %v, %d kept", err, len(r.Trailers))
	}
}

// A response cut short fails as incomplete (its own code), wherever it is
// cut: inside the head, after an interim response, in a body framed by
// Content-Length or chunked, in the trailer section.
func TestParseIncomplete(t *testing.T) {
	for name, in := range map[string]string{
		"head":           "HTTP/1.1 200 OK\r\nContent-Le",
		"after 1xx":      "HTTP/1.1 100 Continue\r\n\r\n",
		"status line":    "HTTP/1.1 200 O",
		"content-length": "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
		"chunked":        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
		"no last chunk":  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n",
		"trailers":       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: v\r\n",
	} {
		r, _, err := parseString(t, "GET", in, Limits{})
		var ie *incompleteError
		if !errors.As(err, &ie) || !hasCode(r, VIncomplete) || r.Complete {
			t.Errorf("%s: err %v codes %v complete %v", name, err, codes(r), r.Complete)
		}
	}
}
