package output

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Escape makes bytes received from the network safe for a terminal and for a
// single line: C0 controls (newline and tab included), DEL, C1 controls,
// Unicode bidi overrides and invalid UTF-8 are written as Go-style escapes
// (\n, \t, \x1b, \u202e). A backslash is doubled so the escaping is
// unambiguous. Printable text, including non-ASCII, is kept.
func Escape(s string) string { return escape(s, false, false) }

// EscapeMultiline is Escape for text shown as a block: "\n" and "\t" are
// kept, a "\r" that ends a line (CRLF) is dropped, everything else is escaped.
func EscapeMultiline(s string) string { return escape(s, true, false) }

// EscapeBytes is Escape for a byte slice.
func EscapeBytes(b []byte) string { return escape(string(b), false, false) }

// EscapeLine is Escape for a diagnostic line whose parts were already quoted
// or escaped (an error message): controls are still escaped, but a
// backslash is kept as it is rather than doubled.
func EscapeLine(s string) string { return escape(s, false, true) }

func escape(s string, multiline, keepBackslash bool) string {
	if isSafe(s, multiline, keepBackslash) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\\' && !keepBackslash:
			b.WriteString(`\\`)
		case multiline && (r == '\n' || r == '\t'):
			b.WriteRune(r)
		case multiline && r == '\r' && i+1 < len(s) && s[i+1] == '\n':
			// CRLF line ending: show the line break once.
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r >= 0x80 && r <= 0x9f:
			fmt.Fprintf(&b, `\u%04x`, r)
		case isBidiControl(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func isSafe(s string, multiline, keepBackslash bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			// Slow path for non-ASCII: check validity, C1 and bidi.
			for _, r := range s[i:] {
				if r == utf8.RuneError || (r >= 0x80 && r <= 0x9f) || isBidiControl(r) || (r < 0x20 && !(multiline && (r == '\n' || r == '\t'))) || r == 0x7f || (r == '\\' && !keepBackslash) {
					return false
				}
			}
			return utf8.ValidString(s[i:])
		}
		if (c == '\\' && !keepBackslash) || c == 0x7f || (c < 0x20 && !(multiline && (c == '\n' || c == '\t'))) {
			return false
		}
	}
	return true
}

// isBidiControl reports the Unicode bidirectional formatting characters that
// can reorder what a terminal shows (the "Trojan Source" set).
func isBidiControl(r rune) bool {
	return (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0x200e || r == 0x200f || r == 0x061c
}
