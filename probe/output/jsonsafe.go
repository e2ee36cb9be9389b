package output

import (
	"io"
	"strconv"
	"unicode/utf8"
)

// jsonSafeWriter passes JSON text on with the C1 controls (U+0080 to U+009F)
// and the bidi formatting characters written as \uXXXX escapes:
// encoding/json escapes only the C0 controls, so a network string such as
// "\u009b31m" or a right-to-left override would otherwise reach a terminal
// raw through --json. The JSON means the same: those characters can only
// appear inside strings. encoding/json's Encoder writes each value with one
// Write, so no character is split between two calls.
type jsonSafeWriter struct{ w io.Writer }

func (j jsonSafeWriter) Write(b []byte) (int, error) {
	i := 0
	for i < len(b) && b[i] < utf8.RuneSelf {
		i++
	}
	if i == len(b) {
		return j.w.Write(b)
	}
	out := make([]byte, 0, len(b)+16)
	out = append(out, b[:i]...)
	for i < len(b) {
		r, n := utf8.DecodeRune(b[i:])
		if (r >= 0x80 && r <= 0x9f) || isBidiControl(r) {
			out = append(out, `\u`...)
			h := strconv.FormatInt(int64(r), 16)
			for k := len(h); k < 4; k++ {
				out = append(out, '0')
			}
			out = append(out, h...)
		} else {
			out = append(out, b[i:i+n]...)
		}
		i += n
	}
	if _, err := j.w.Write(out); err != nil {
		return 0, err
	}
	return len(b), nil
}
