package httpget

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Violation codes: one per kind of RFC 9112 / RFC 9110 breach. Stable
// snake_case, added never renamed.
const (
	VNotHTTP       = "not_http"        // HTTP/0.9 or another protocol
	VBadStatusLine = "bad_status_line" // start line does not parse
	VBareLF        = "bare_lf"         // line ended by LF without CR (§2.2)
	VBareCR        = "bare_cr"         // CR not followed by LF (§2.2)
	VLeadingSpace  = "space_before_first_field"
	VObsFold       = "obs_fold" // header continued on the next line (§5.2)
	VNoColon       = "header_without_colon"
	VBadFieldName  = "bad_field_name"    // not a token, or whitespace before the colon (§5.1)
	VCtlInField    = "control_in_field"  // NUL, ESC, ... in a field value (RFC 9110 §5.5)
	VCtlInReason   = "control_in_reason" // control bytes in the reason phrase (§4)
	VConflictCL    = "conflicting_content_length"
	VBadCL         = "bad_content_length"
	VTEAndCL       = "transfer_encoding_and_content_length" // §6.3 rule 3
	VBadChunkSize  = "bad_chunk_size"                       // §7.1
	VChunkNoCRLF   = "chunk_missing_crlf"
	VIncomplete    = "incomplete"  // fewer body bytes than announced, or no last chunk (§8)
	VExtraBytes    = "extra_bytes" // bytes after the end of the response
	VBadEncoding   = "bad_content_encoding"
	// No longer reported as violations: a local cap is not a breach of the
	// protocol. Hitting one fails the exchange with the failure codes
	// FailHeadTooLarge, FailBodyTooLarge and FailDecompressionRatio.
	VHeadTooBig       = "head_too_big"
	VTooManyInterim   = "too_many_interim_responses"
	VBodyTooBig       = "body_too_big"
	VDecompressionCap = "decompression_ratio"
)

// Violation is one breach of the protocol seen in a response.
type Violation struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Limits caps what a response may cost.
type Limits struct {
	MaxHeadBytes int     // status line, fields and interim responses together
	MaxFields    int     // header fields
	MaxBody      int64   // decoded body bytes; 0 = no limit
	MaxRatio     float64 // decoded/compressed, enforced past 1 MiB decoded; 0 = no limit
	KeepBody     int     // decoded body bytes kept in Response.Body
	KeepRaw      int     // wire bytes kept in Response.Raw
}

// DefaultLimits are the caps used when a field is zero.
var DefaultLimits = Limits{MaxHeadBytes: 256 << 10, MaxFields: 500, MaxBody: 1 << 30, MaxRatio: 200, KeepBody: 64 << 10, KeepRaw: 64 << 10}

// Response is a parsed response and what it cost.
type Response struct {
	HTTP          bool        `json:"http"` // false: not an HTTP/1.x reply at all
	StatusLine    string      `json:"status_line"`
	Version       string      `json:"http_version,omitempty"`
	Status        int         `json:"status,omitempty"`
	Reason        string      `json:"reason,omitempty"`
	Interim       []int       `json:"interim,omitempty"` // 1xx statuses before the final one
	Headers       []Field     `json:"headers"`           // interpreted (obs-fold unfolded)
	HeadBytes     int         `json:"head_bytes"`
	Framing       string      `json:"framing"`                  // none, content-length, chunked, close
	ContentLength int64       `json:"content_length,omitempty"` // -1 when not used
	Encodings     []string    `json:"content_encoding,omitempty"`
	Decoded       bool        `json:"decoded"`
	Trailers      []Field     `json:"trailers,omitempty"`
	WireBytes     int64       `json:"body_wire_bytes"` // after framing, before content decoding
	BodyBytes     int64       `json:"body_bytes"`      // after decoding
	Complete      bool        `json:"complete"`
	Violations    []Violation `json:"violations,omitempty"`

	RawHead   []byte   `json:"-"` // the head exactly as received (interim responses included)
	HeadLines [][]byte `json:"-"` // RawHead split into lines, terminators kept
	Body      []byte   `json:"-"` // first KeepBody decoded bytes
	BodyCut   bool     `json:"body_truncated"`
	Raw       []byte   `json:"-"` // first KeepRaw+head wire bytes, framing and compression included
	RawCut    bool     `json:"-"`
}

// ErrProtocol wraps every reason the parser stopped early because of what
// the peer sent.
var ErrProtocol = errors.New("protocol error")

type protoError struct{ msg string }

func (e *protoError) Error() string { return e.msg }
func (e *protoError) Unwrap() error { return ErrProtocol }

func protof(format string, args ...any) error { return &protoError{fmt.Sprintf(format, args...)} }

// LimitError is a response stopped by one of nettool's own caps
// (--max-size, --max-ratio, --max-header-size, the field and interim
// counts): the server may have done nothing wrong. Code is the failure code.
type LimitError struct {
	Code string
	Msg  string
}

func (e *LimitError) Error() string { return e.Msg }

func limitf(code, format string, args ...any) error {
	return &LimitError{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// SinkError is a failure to write the body where it was going (Options.Sink):
// a local problem, not the server's.
type SinkError struct{ Err error }

func (e *SinkError) Error() string { return "writing the body: " + e.Err.Error() }
func (e *SinkError) Unwrap() error { return e.Err }

// capture records the first n bytes read through it and counts the rest.
type capture struct {
	r     io.Reader
	buf   []byte
	limit int
	total int64
	cut   bool
}

func (c *capture) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.total += int64(n)
	if room := c.limit - len(c.buf); room > 0 {
		k := n
		if k > room {
			k, c.cut = room, true
		}
		c.buf = append(c.buf, p[:k]...)
	} else if n > 0 {
		c.cut = true
	}
	return n, err
}

// Parser reads one response. Hooks let the caller react to what it sees.
type Parser struct {
	Limits Limits
	// NotHTTP is called when the reply is not HTTP/1.x, before the rest is
	// read until the peer closes (the caller may half-close to help it).
	NotHTTP func()
	// SinkFor, when set, picks the body's destination once the head is
	// known, overriding Parse's sink.
	SinkFor func(*Response) io.Writer

	br   *bufio.Reader
	cap  *capture
	resp *Response
	seen map[string]int
}

func (p *Parser) violate(code, format string, args ...any) {
	if p.seen == nil {
		p.seen = map[string]int{}
	}
	msg := fmt.Sprintf(format, args...)
	key := code + "\x00" + msg
	p.seen[key]++
	if p.seen[key] > 1 {
		return
	}
	p.resp.Violations = append(p.resp.Violations, Violation{Code: code, Message: msg})
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.MaxHeadBytes > 0 {
		d.MaxHeadBytes = l.MaxHeadBytes
	}
	if l.MaxFields > 0 {
		d.MaxFields = l.MaxFields
	}
	if l.MaxBody != 0 {
		d.MaxBody = l.MaxBody
	}
	if l.MaxRatio != 0 {
		d.MaxRatio = l.MaxRatio
	}
	if l.KeepBody != 0 {
		d.KeepBody = l.KeepBody
	}
	if l.KeepRaw != 0 {
		d.KeepRaw = l.KeepRaw
	}
	if d.MaxBody < 0 {
		d.MaxBody = 0
	}
	if d.MaxRatio < 0 {
		d.MaxRatio = 0
	}
	if d.KeepBody < 0 {
		d.KeepBody = 0
	}
	if d.KeepRaw < 0 {
		d.KeepRaw = 0
	}
	return d
}

// Parse reads one response to a request made with method from r, writing
// the decoded body to sink (nil: discard). It always returns a Response
// with what was seen; err is non-nil when reading stopped early (a
// *protoError wrapping ErrProtocol for what the peer sent, or the read
// error). Violations that did not stop reading are in resp.Violations.
func (p *Parser) Parse(r io.Reader, method string, sink io.Writer) (*Response, error) {
	p.Limits = p.Limits.withDefaults()
	p.resp = &Response{ContentLength: -1, Headers: []Field{}}
	p.seen = nil
	p.cap = &capture{r: r, limit: p.Limits.MaxHeadBytes + p.Limits.KeepRaw}
	p.br = bufio.NewReaderSize(p.cap, 64<<10)
	err := p.parse(method, sink)
	resp := p.resp
	resp.Raw = p.cap.buf
	resp.RawCut = p.cap.cut
	if limit := len(resp.RawHead) + p.Limits.KeepRaw; len(resp.Raw) > limit {
		resp.Raw, resp.RawCut = resp.Raw[:limit], true
	}
	return resp, err
}

func (p *Parser) parse(method string, sink io.Writer) error {
	resp := p.resp
	head, err := p.br.Peek(5)
	if len(head) == 0 && err != nil {
		return err
	}
	if !bytes.Equal(head, []byte("HTTP/")) {
		if len(head) < 5 && bytes.HasPrefix([]byte("HTTP/"), head) && err != nil {
			// A reply cut short inside "HTTP/": still not a response.
			p.violate(VNotHTTP, "reply is not an HTTP/1.x response (%d bytes, then the connection closed)", len(head))
			return p.readRest(sink, err)
		}
		p.violate(VNotHTTP, "reply is not an HTTP/1.x response (HTTP/0.9 or another protocol)")
		if p.NotHTTP != nil {
			p.NotHTTP()
		}
		resp.Framing = "close"
		return p.readRest(sink, nil)
	}
	resp.HTTP = true
	for {
		if err := p.readHead(); err != nil {
			return err
		}
		if resp.Status >= 100 && resp.Status < 200 && resp.Status != 101 {
			resp.Interim = append(resp.Interim, resp.Status)
			if len(resp.Interim) > 10 {
				return limitf(FailHeadTooLarge, "more than 10 interim (1xx) responses")
			}
			resp.Headers = []Field{}
			continue
		}
		break
	}
	return p.readBody(method, sink)
}

// readRest treats everything until the peer closes as the body of a
// non-HTTP reply.
func (p *Parser) readRest(sink io.Writer, prev error) error {
	if prev != nil && prev != io.EOF && !errors.Is(prev, bufio.ErrBufferFull) {
		return prev
	}
	if p.SinkFor != nil {
		sink = p.SinkFor(p.resp)
	}
	cr := &countReader{r: p.br}
	err := p.copyBody(cr, cr, sink)
	p.resp.Complete = false
	return err
}

// line reads one line with its terminator, at most max bytes.
func (p *Parser) line(max int) ([]byte, error) {
	var acc []byte
	for {
		frag, err := p.br.ReadSlice('\n')
		if len(acc)+len(frag) > max {
			return nil, protof("line longer than %d bytes", max)
		}
		if err == bufio.ErrBufferFull {
			acc = append(acc, frag...)
			continue
		}
		if acc != nil {
			acc = append(acc, frag...)
		} else {
			acc = append([]byte(nil), frag...)
		}
		if err != nil {
			if err == io.EOF && len(acc) > 0 {
				return acc, io.ErrUnexpectedEOF
			}
			return acc, err
		}
		return acc, nil
	}
}

// trimEOL strips the line terminator and records bare LF / bare CR.
func (p *Parser) trimEOL(l []byte, where string) []byte {
	switch {
	case bytes.HasSuffix(l, []byte("\r\n")):
		l = l[:len(l)-2]
	case bytes.HasSuffix(l, []byte("\n")):
		p.violate(VBareLF, "%s ends with a bare LF, not CRLF", where)
		l = l[:len(l)-1]
	}
	if bytes.IndexByte(l, '\r') >= 0 {
		p.violate(VBareCR, "bare CR inside the %s", where)
	}
	return l
}

func (p *Parser) readHead() error {
	resp := p.resp
	budget := p.Limits.MaxHeadBytes - len(resp.RawHead)
	take := func(l []byte) error {
		resp.RawHead = append(resp.RawHead, l...)
		resp.HeadLines = append(resp.HeadLines, l)
		resp.HeadBytes = len(resp.RawHead)
		budget -= len(l)
		return nil
	}
	l, err := p.line(max(budget, 1))
	if err != nil && len(l) == 0 {
		if _, ok := err.(*protoError); ok {
			return p.headTooBig()
		}
		if len(resp.RawHead) > 0 && isEOF(err) {
			// After an interim response.
			return p.headIncomplete()
		}
		return err
	}
	take(l)
	if err != nil {
		resp.StatusLine = string(p.trimEOL(l, "status line"))
		p.parseStatus(resp.StatusLine)
		if isEOF(err) {
			return p.headIncomplete()
		}
		return err
	}
	resp.StatusLine = string(p.trimEOL(l, "status line"))
	p.parseStatus(resp.StatusLine)
	for first := true; ; first = false {
		if budget <= 0 {
			return p.headTooBig()
		}
		l, err := p.line(budget)
		if err != nil {
			if len(l) > 0 {
				take(l)
			}
			if _, ok := err.(*protoError); ok {
				return p.headTooBig()
			}
			if isEOF(err) {
				return p.headIncomplete()
			}
			return err
		}
		take(l)
		f := p.trimEOL(l, "header line")
		if len(f) == 0 {
			return nil
		}
		if f[0] == ' ' || f[0] == '\t' {
			if first {
				p.violate(VLeadingSpace, "whitespace between the status line and the first field")
				continue
			}
			p.violate(VObsFold, "obs-fold: a header value continues on the next line")
			if n := len(resp.Headers); n > 0 {
				v := strings.Trim(resp.Headers[n-1].Value+" "+strings.Trim(string(f), " \t"), " \t")
				resp.Headers[n-1].Value = v
			}
			continue
		}
		if len(resp.Headers) >= p.Limits.MaxFields {
			return limitf(FailHeadTooLarge, "more than %d header fields", p.Limits.MaxFields)
		}
		i := bytes.IndexByte(f, ':')
		if i < 0 {
			p.violate(VNoColon, "header line without a colon: %q", clip(f))
			continue
		}
		name, value := string(f[:i]), string(bytes.Trim(f[i+1:], " \t"))
		if !isToken(name) {
			if strings.TrimRight(name, " \t") != name {
				p.violate(VBadFieldName, "whitespace between field name %q and the colon", clip([]byte(strings.TrimRight(name, " \t"))))
			} else {
				p.violate(VBadFieldName, "field name %q is not a token", clip([]byte(name)))
			}
		}
		for j := 0; j < len(value); j++ {
			if c := value[j]; c < 0x20 && c != '\t' || c == 0x7f {
				p.violate(VCtlInField, "control byte 0x%02x in the value of %q", c, clip([]byte(name)))
				break
			}
		}
		resp.Headers = append(resp.Headers, Field{Name: name, Value: value})
	}
}

func (p *Parser) headTooBig() error {
	return limitf(FailHeadTooLarge, "response head longer than %d bytes (--max-header-size)", p.Limits.MaxHeadBytes)
}

func (p *Parser) headIncomplete() error {
	const msg = "connection closed inside the response head"
	p.violate(VIncomplete, msg)
	return &incompleteError{msg}
}

func isEOF(err error) bool { return err == io.EOF || err == io.ErrUnexpectedEOF }

func clip(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}

// parseStatus reads "HTTP/d.d SP ddd [SP reason]".
func (p *Parser) parseStatus(s string) {
	resp := p.resp
	resp.Status, resp.Reason, resp.Version = 0, "", ""
	bad := func(why string) { p.violate(VBadStatusLine, "bad status line: %s", why) }
	if len(s) < 8 || s[:5] != "HTTP/" || !isDigit(s[5]) || s[6] != '.' || !isDigit(s[7]) {
		bad("version is not HTTP/DIGIT.DIGIT")
		return
	}
	resp.Version = s[:8]
	rest := s[8:]
	if len(rest) < 4 || rest[0] != ' ' || !isDigit(rest[1]) || !isDigit(rest[2]) || !isDigit(rest[3]) {
		bad("no three-digit status code after the version")
		return
	}
	code, _ := strconv.Atoi(rest[1:4])
	if code < 100 {
		bad("status code below 100")
		return
	}
	resp.Status = code
	rest = rest[4:]
	switch {
	case rest == "":
	case rest[0] == ' ':
		resp.Reason = rest[1:]
	default:
		bad("no space after the status code")
	}
	for i := 0; i < len(resp.Reason); i++ {
		if c := resp.Reason[i]; c < 0x20 && c != '\t' || c == 0x7f {
			p.violate(VCtlInReason, "control byte 0x%02x in the reason phrase", c)
			break
		}
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (r *Response) values(name string) []string {
	var out []string
	for _, f := range r.Headers {
		if strings.EqualFold(f.Name, name) {
			out = append(out, f.Value)
		}
	}
	return out
}

// Get returns the first value of a field, or "".
func (r *Response) Get(name string) string {
	if v := r.values(name); len(v) > 0 {
		return v[0]
	}
	return ""
}

func splitList(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, part := range strings.Split(v, ",") {
			if part = strings.ToLower(strings.Trim(part, " \t")); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}

func (p *Parser) readBody(method string, sink io.Writer) error {
	resp := p.resp
	if !resp.HTTP || resp.Status == 0 {
		// A broken status line: show whatever follows until close.
		resp.Framing = "close"
		cr := &countReader{r: p.br}
		return p.copyBody(cr, cr, sink)
	}
	if p.SinkFor != nil {
		sink = p.SinkFor(resp)
	}
	te := splitList(resp.values("Transfer-Encoding"))
	cls := resp.values("Content-Length")
	if strings.EqualFold(method, "HEAD") || resp.Status == 204 || resp.Status == 304 || resp.Status == 101 {
		resp.Framing = "none"
		resp.Complete = true
		p.checkExtra()
		return nil
	}
	var framed io.Reader
	var counter *countReader
	switch {
	case len(te) > 0:
		if len(cls) > 0 {
			p.violate(VTEAndCL, "both Transfer-Encoding and Content-Length: Transfer-Encoding wins (a sign of request smuggling or response splitting)")
		}
		if te[len(te)-1] == "chunked" {
			resp.Framing = "chunked"
			cr := &chunkedReader{p: p}
			counter = &countReader{r: cr}
			framed = counter
		} else {
			resp.Framing = "close"
			counter = &countReader{r: p.br}
			framed = counter
		}
		// Transfer codings other than chunked are decoded like content codings.
		for _, c := range te {
			if c != "chunked" {
				resp.Encodings = append(resp.Encodings, c)
			}
		}
	case len(cls) > 0:
		n, ok := p.contentLength(cls)
		if !ok {
			resp.Framing = "close"
			counter = &countReader{r: p.br}
			framed = counter
			break
		}
		resp.Framing = "content-length"
		resp.ContentLength = n
		if p.Limits.MaxBody > 0 && n > p.Limits.MaxBody && len(splitList(resp.values("Content-Encoding"))) == 0 {
			return limitf(FailBodyTooLarge, "Content-Length %d is over the limit of %d bytes (--max-size)", n, p.Limits.MaxBody)
		}
		counter = &countReader{r: &clReader{r: p.br, left: n, want: n}}
		framed = counter
	default:
		resp.Framing = "close"
		counter = &countReader{r: p.br}
		framed = counter
	}
	resp.Encodings = append(resp.Encodings, splitList(resp.values("Content-Encoding"))...)
	err := p.copyBody(framed, counter, sink)
	if err == nil {
		resp.Complete = true
		if resp.Framing != "close" {
			p.checkExtra()
		}
	}
	return err
}

func (p *Parser) checkExtra() {
	if n := p.br.Buffered(); n > 0 {
		p.violate(VExtraBytes, "%d bytes after the end of the response", n)
	}
}

// contentLength applies RFC 9112 §6.3 rule 5: one valid value, or a list of
// identical valid values.
func (p *Parser) contentLength(vals []string) (int64, bool) {
	var n int64 = -1
	for _, v := range vals {
		for _, part := range strings.Split(v, ",") {
			part = strings.Trim(part, " \t")
			if part == "" || len(part) > 18 || strings.IndexFunc(part, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
				p.violate(VBadCL, "Content-Length %q is not a number", clip([]byte(v)))
				return 0, false
			}
			k, _ := strconv.ParseInt(part, 10, 64)
			if n >= 0 && k != n {
				p.violate(VConflictCL, "conflicting Content-Length values %d and %d", n, k)
				return 0, false
			}
			n = k
		}
	}
	return n, n >= 0
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	return n, err
}

type clReader struct {
	r          io.Reader
	left, want int64
}

func (c *clReader) Read(b []byte) (int, error) {
	if c.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > c.left {
		b = b[:c.left]
	}
	n, err := c.r.Read(b)
	c.left -= int64(n)
	if err == io.EOF {
		if c.left > 0 {
			return n, &incompleteError{fmt.Sprintf("connection closed after %d of %d body bytes", c.want-c.left, c.want)}
		}
		err = nil
	}
	return n, err
}

type incompleteError struct{ msg string }

func (e *incompleteError) Error() string { return e.msg }
func (e *incompleteError) Unwrap() error { return io.ErrUnexpectedEOF }

type chunkedReader struct {
	p     *Parser
	left  int64
	state int // 0 size line, 1 data, 2 done
}

const maxChunkLine = 4096

func (c *chunkedReader) Read(b []byte) (int, error) {
	p := c.p
	for {
		switch c.state {
		case 2:
			return 0, io.EOF
		case 0:
			l, err := p.line(maxChunkLine)
			if err != nil {
				if _, ok := err.(*protoError); ok {
					p.violate(VBadChunkSize, "chunk size line longer than %d bytes", maxChunkLine)
					return 0, err
				}
				if err == io.EOF || err == io.ErrUnexpectedEOF {
					return 0, &incompleteError{"connection closed before the last chunk"}
				}
				return 0, err
			}
			l = p.trimEOL(l, "chunk size line")
			size, ok := parseChunkSize(l)
			if !ok {
				p.violate(VBadChunkSize, "bad chunk size line %q", clip(l))
				return 0, protof("bad chunk size line %q", clip(l))
			}
			if size == 0 {
				if err := c.trailers(); err != nil {
					return 0, err
				}
				c.state = 2
				return 0, io.EOF
			}
			c.left, c.state = size, 1
		case 1:
			if int64(len(b)) > c.left {
				b = b[:c.left]
			}
			n, err := p.br.Read(b)
			c.left -= int64(n)
			if c.left == 0 {
				c.state = 0
				if err := c.crlf(); err != nil {
					return n, err
				}
				return n, nil
			}
			if err == io.EOF {
				return n, &incompleteError{"connection closed inside a chunk"}
			}
			return n, err
		}
	}
}

func (c *chunkedReader) crlf() error {
	p := c.p
	b, err := p.br.Peek(2)
	switch {
	case len(b) >= 2 && b[0] == '\r' && b[1] == '\n':
		p.br.Discard(2)
		return nil
	case len(b) >= 1 && b[0] == '\n':
		p.violate(VBareLF, "chunk data ends with a bare LF, not CRLF")
		p.br.Discard(1)
		return nil
	case err != nil && len(b) < 2 && (len(b) == 0 || b[0] == '\r'):
		return &incompleteError{"connection closed after chunk data"}
	}
	p.violate(VChunkNoCRLF, "chunk data is not followed by CRLF (chunk size wrong?)")
	return protof("chunk data is not followed by CRLF")
}

func (c *chunkedReader) trailers() error {
	p := c.p
	// The trailer section has the head's caps: at most MaxFields lines and
	// MaxHeadBytes bytes.
	budget := p.Limits.MaxHeadBytes
	for lines := 0; ; lines++ {
		l, err := p.line(min(maxChunkLine*4, max(budget, 1)))
		if err != nil {
			if _, ok := err.(*protoError); ok {
				return limitf(FailHeadTooLarge, "trailer line longer than %d bytes, or the trailer section longer than %d (--max-header-size)", maxChunkLine*4, p.Limits.MaxHeadBytes)
			}
			return &incompleteError{"connection closed inside the trailer section"}
		}
		budget -= len(l)
		l = p.trimEOL(l, "trailer line")
		if len(l) == 0 {
			return nil
		}
		if lines >= p.Limits.MaxFields {
			return limitf(FailHeadTooLarge, "more than %d trailer fields", p.Limits.MaxFields)
		}
		if i := bytes.IndexByte(l, ':'); i > 0 {
			f := Field{Name: string(l[:i]), Value: string(bytes.Trim(l[i+1:], " \t"))}
			for j := 0; j < len(f.Value); j++ {
				if c := f.Value[j]; c < 0x20 && c != '\t' || c == 0x7f {
					p.violate(VCtlInField, "control byte 0x%02x in the value of trailer %q", c, clip([]byte(f.Name)))
					break
				}
			}
			p.resp.Trailers = append(p.resp.Trailers, f)
		} else {
			p.violate(VNoColon, "trailer line without a colon: %q", clip(l))
		}
	}
}

// parseChunkSize reads "HEX [BWS ; ext...]".
func parseChunkSize(l []byte) (int64, bool) {
	if i := bytes.IndexByte(l, ';'); i >= 0 {
		l = l[:i]
	}
	l = bytes.TrimRight(l, " \t")
	if len(l) == 0 || len(l) > 15 {
		return 0, false
	}
	var n int64
	for _, c := range l {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		n = n<<4 | int64(d)
	}
	return n, true
}

// copyBody decodes framed (content codings) and copies it to sink, keeping
// a preview, enforcing the body and ratio caps.
func (p *Parser) copyBody(framed io.Reader, wire *countReader, sink io.Writer) error {
	resp := p.resp
	var body io.Reader = framed
	var closer io.Closer
	decodable := len(resp.Encodings) > 0
	for _, e := range resp.Encodings {
		if e != "gzip" && e != "x-gzip" && e != "deflate" && e != "identity" {
			decodable = false
		}
	}
	if decodable {
		br := bufio.NewReaderSize(framed, 32<<10)
		if _, err := br.Peek(1); err == nil {
			var r io.Reader = br
			for i := len(resp.Encodings) - 1; i >= 0; i-- {
				d, c, err := decoder(resp.Encodings[i], r)
				if err != nil {
					p.violate(VBadEncoding, "%s body does not decode: %v", resp.Encodings[i], err)
					return protof("%s body does not decode: %v", resp.Encodings[i], err)
				}
				if c != nil {
					closer = c
				}
				r = d
			}
			body = r
			resp.Decoded = true
		} else {
			body = br
			resp.Decoded = true
		}
	}
	if closer != nil {
		defer closer.Close()
	}
	buf := make([]byte, 256<<10)
	var total int64
	for {
		n, err := body.Read(buf)
		if n > 0 {
			total += int64(n)
			resp.BodyBytes = total
			resp.WireBytes = wire.n
			if keep := p.Limits.KeepBody - len(resp.Body); keep > 0 {
				k := min(keep, n)
				resp.Body = append(resp.Body, buf[:k]...)
				if k < n {
					resp.BodyCut = true
				}
			} else {
				resp.BodyCut = true
			}
			if sink != nil {
				if _, werr := sink.Write(buf[:n]); werr != nil {
					return &SinkError{werr}
				}
			}
			if p.Limits.MaxBody > 0 && total > p.Limits.MaxBody {
				return limitf(FailBodyTooLarge, "body is over the limit of %d bytes (--max-size)", p.Limits.MaxBody)
			}
			if resp.Decoded && p.Limits.MaxRatio > 0 && total > 1<<20 && float64(total) > p.Limits.MaxRatio*float64(max(wire.n, 1)) {
				return limitf(FailDecompressionRatio, "decompressed body is over %g times its compressed size (--max-ratio; a decompression bomb?)", p.Limits.MaxRatio)
			}
		}
		if err != nil {
			resp.WireBytes = wire.n
			if err == io.EOF {
				return nil
			}
			var inc *incompleteError
			if errors.As(err, &inc) {
				p.violate(VIncomplete, "%s", inc.msg)
				return err
			}
			var le *LimitError
			if errors.Is(err, ErrProtocol) || errors.As(err, &le) {
				return err
			}
			if resp.Decoded && isDecodeError(err) {
				p.violate(VBadEncoding, "%s body does not decode: %v", strings.Join(resp.Encodings, ", "), err)
				return protof("body does not decode: %v", err)
			}
			return err
		}
	}
}

func isDecodeError(err error) bool {
	var ce flate.CorruptInputError
	return errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) || errors.Is(err, zlib.ErrChecksum) ||
		errors.Is(err, zlib.ErrHeader) || errors.As(err, &ce) || err == io.ErrUnexpectedEOF
}

func decoder(enc string, r io.Reader) (io.Reader, io.Closer, error) {
	switch enc {
	case "gzip", "x-gzip":
		z, err := gzip.NewReader(r)
		if err != nil {
			return nil, nil, err
		}
		return z, z, nil
	case "deflate":
		// RFC 9110 says zlib; some servers send raw DEFLATE. Tell them apart
		// by the zlib header.
		br := bufio.NewReader(r)
		h, _ := br.Peek(2)
		if len(h) == 2 && h[0]&0x0f == 8 && (uint16(h[0])<<8|uint16(h[1]))%31 == 0 {
			z, err := zlib.NewReader(br)
			if err != nil {
				return nil, nil, err
			}
			return z, z, nil
		}
		f := flate.NewReader(br)
		return f, f, nil
	}
	return r, nil, nil
}
