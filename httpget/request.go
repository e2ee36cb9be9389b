package httpget

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/nettool/nettool/probe"
)

// Field is one header field, name and value as sent or received (the value
// without the whitespace around it).
type Field struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	// raw, when set, is what follows the colon on the wire, exactly as the
	// user typed it in -H (spaces kept, as curl sends it).
	raw string
}

// HeaderEdit is one -H argument: "Name: value" adds or replaces, "Name:"
// removes a default header, "Name;" sends the header with an empty value
// (curl's syntax).
type HeaderEdit struct {
	Name   string
	Value  string // without surrounding whitespace
	Raw    string // everything after the colon, as typed; sent as it is
	Remove bool
}

// ParseHeaderEdit parses one -H argument.
func ParseHeaderEdit(s string) (HeaderEdit, error) {
	if strings.ContainsAny(s, "\r\n\x00") {
		return HeaderEdit{}, probe.Usagef("bad header %q: CR, LF and NUL are not allowed (they would split the request)", s)
	}
	i := strings.IndexAny(s, ":;")
	if i <= 0 {
		return HeaderEdit{}, probe.Usagef("bad header %q (want 'Name: value', 'Name:' to remove, 'Name;' for empty)", s)
	}
	name := s[:i]
	if !isToken(name) {
		return HeaderEdit{}, probe.Usagef("bad header name %q", name)
	}
	if s[i] == ';' {
		if strings.TrimSpace(s[i+1:]) != "" {
			return HeaderEdit{}, probe.Usagef("bad header %q (want 'Name;' alone for an empty value)", s)
		}
		return HeaderEdit{Name: name}, nil
	}
	raw := s[i+1:]
	value := strings.Trim(raw, " \t")
	if value == "" {
		return HeaderEdit{Name: name, Remove: true}, nil
	}
	for j := 0; j < len(raw); j++ {
		if c := raw[j]; c < 0x20 && c != '\t' || c == 0x7f {
			return HeaderEdit{}, probe.Usagef("bad header %q: control character in value", s)
		}
	}
	return HeaderEdit{Name: name, Value: value, Raw: raw}, nil
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			continue
		}
		if !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) {
			return false
		}
	}
	return true
}

// Request is what goes on the wire.
type Request struct {
	Method  string  `json:"method"`
	Target  string  `json:"target"`
	Version string  `json:"version"`
	Headers []Field `json:"headers"`
	// BodyBytes is the length of the body sent (Content-Length).
	BodyBytes int64  `json:"body_bytes,omitempty"`
	Body      []byte `json:"-"`
	// BodyFile, when set, is where the body is read from as it is sent
	// (BodyBytes bytes from offset 0): it is never held in memory.
	BodyFile io.ReaderAt `json:"-"`
}

// RequestSpec is what the user asked for, independent of the target.
type RequestSpec struct {
	Method  string       // "" means GET, or POST when there is a body
	Edits   []HeaderEdit // -H, in order
	Body    []byte       // --data
	HasBody bool         // a body was given, even an empty one
	// BodyFile and BodySize, when BodyFile is set, give the body instead of
	// Body (--data-file): it is streamed from there, and read again from
	// the start when a redirect (307, 308) sends it again.
	BodyFile  io.ReaderAt
	BodySize  int64
	HTTP10    bool
	UserAgent string // full User-Agent value, e.g. "nettool/1.2.3"
}

// ValidMethod reports whether m can be sent as a method token.
func ValidMethod(m string) bool { return isToken(m) }

// Build makes the request for t.
func (s RequestSpec) Build(t Target) Request {
	method := s.Method
	if method == "" {
		method = "GET"
		if s.HasBody {
			method = "POST"
		}
	}
	version := "HTTP/1.1"
	if s.HTTP10 {
		version = "HTTP/1.0"
	}
	ua := s.UserAgent
	if ua == "" {
		ua = "nettool"
	}
	h := []Field{
		{Name: "Host", Value: t.HostHeader()},
		{Name: "User-Agent", Value: ua},
		{Name: "Accept", Value: "*/*"},
		{Name: "Accept-Encoding", Value: "gzip, deflate"},
		{Name: "Connection", Value: "close"},
	}
	size := int64(len(s.Body))
	if s.BodyFile != nil {
		size = s.BodySize
	}
	if s.HasBody {
		h = append(h, Field{Name: "Content-Length", Value: strconv.FormatInt(size, 10)})
		h = append(h, Field{Name: "Content-Type", Value: "application/x-www-form-urlencoded"})
	}
	replaced := map[string]bool{}
	for _, e := range s.Edits {
		key := strings.ToLower(e.Name)
		if e.Remove {
			h = removeField(h, key)
			continue
		}
		if !replaced[key] {
			// The first -H with a name replaces nettool's own field in place;
			// later ones with the same name are added.
			replaced[key] = true
			if i := indexField(h, key); i >= 0 {
				h[i] = Field{Name: e.Name, Value: e.Value, raw: e.Raw}
				h = append(h[:i+1], removeField(h[i+1:], key)...)
				continue
			}
		}
		h = append(h, Field{Name: e.Name, Value: e.Value, raw: e.Raw})
	}
	r := Request{Method: method, Target: t.Path, Version: version, Headers: h, Body: s.Body, BodyBytes: size}
	if s.BodyFile != nil {
		r.Body, r.BodyFile = nil, s.BodyFile
	}
	if !s.HasBody {
		r.Body, r.BodyFile, r.BodyBytes = nil, nil, 0
	}
	return r
}

func indexField(h []Field, lower string) int {
	for i, f := range h {
		if strings.ToLower(f.Name) == lower {
			return i
		}
	}
	return -1
}

func removeField(h []Field, lower string) []Field {
	out := h[:0:0]
	for _, f := range h {
		if strings.ToLower(f.Name) != lower {
			out = append(out, f)
		}
	}
	return out
}

// Bytes is the request exactly as it goes on the wire (a BodyFile body
// left out: see Head and WriteTo).
func (r Request) Bytes() []byte {
	var b strings.Builder
	b.WriteString(r.Method + " " + r.Target + " " + r.Version + "\r\n")
	for _, f := range r.Headers {
		if f.raw != "" {
			b.WriteString(f.Name + ":" + f.raw + "\r\n")
		} else {
			b.WriteString(f.Name + ": " + f.Value + "\r\n")
		}
	}
	b.WriteString("\r\n")
	b.Write(r.Body)
	return []byte(b.String())
}

// Head is the request line and fields, up to the blank line.
func (r Request) Head() []byte {
	b := Request{Method: r.Method, Target: r.Target, Version: r.Version, Headers: r.Headers}
	return b.Bytes()
}

// body is where the body's bytes come from.
func (r Request) body() io.Reader {
	if r.BodyFile != nil {
		return io.NewSectionReader(r.BodyFile, 0, r.BodyBytes)
	}
	return bytes.NewReader(r.Body)
}

// SourceError is a failure to read the request body from Request.BodyFile.
type SourceError struct{ Err error }

func (e *SourceError) Error() string { return "reading the request body: " + e.Err.Error() }
func (e *SourceError) Unwrap() error { return e.Err }

// send writes the request to w: the head and the body, streamed through a
// fixed buffer, never whole in memory. It returns the bytes to show: the
// head and at most keep bytes of the body.
func (r Request) send(w io.Writer, keep int) (shown []byte, err error) {
	head := r.Head()
	shown = head
	if r.BodyBytes == 0 {
		_, err = w.Write(head)
		return shown, err
	}
	if r.BodyFile == nil && len(r.Body) <= 64<<10 {
		// A small body goes with the head in one write.
		_, err = w.Write(append(head, r.Body...))
		return append(shown, r.Body[:min(len(r.Body), keep)]...), err
	}
	buf := make([]byte, 64<<10)
	n := copy(buf, head)
	src := r.body()
	var sent int64
	for {
		k, rerr := src.Read(buf[n:])
		if k > 0 {
			if room := keep - (len(shown) - len(head)); room > 0 {
				shown = append(shown, buf[n:n+min(k, room)]...)
			}
			sent += int64(k)
		}
		n += k
		if n > 0 && (n == len(buf) || rerr != nil) {
			if _, err := w.Write(buf[:n]); err != nil {
				return shown, err
			}
			n = 0
		}
		if rerr == io.EOF {
			if sent < r.BodyBytes {
				return shown, &SourceError{fmt.Errorf("the file is shorter than the %d bytes announced (it changed while it was sent)", r.BodyBytes)}
			}
			return shown, nil
		}
		if rerr != nil {
			return shown, &SourceError{rerr}
		}
	}
}
