package httpget

import (
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
	Body    []byte  `json:"-"`
}

// RequestSpec is what the user asked for, independent of the target.
type RequestSpec struct {
	Method    string       // "" means GET, or POST when there is a body
	Edits     []HeaderEdit // -H, in order
	Body      []byte       // --data
	HasBody   bool         // a body was given, even an empty one
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
	if s.HasBody {
		h = append(h, Field{Name: "Content-Length", Value: strconv.Itoa(len(s.Body))})
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
	return Request{Method: method, Target: t.Path, Version: version, Headers: h, Body: s.Body}
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

// Bytes is the request exactly as it goes on the wire.
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
