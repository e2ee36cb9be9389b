package ipinfo

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"

	"github.com/nettool/nettool/probe"
	"github.com/nettool/nettool/probe/output"
)

// Failure codes of a provider's answer, next to the shared probe.Fail* codes.
// Codes are added, never renamed.
const (
	FailNotAnAddress = "not_an_address" // the body is not one IP address (HTML, a challenge page, "<nil>", two addresses)
	FailHTMLPage     = "html_page"      // an HTML or challenge page instead of an address
	FailWrongFamily  = "wrong_family"   // an IPv6 answer to an IPv4 question, or the reverse
	FailNotPublic    = "not_public"     // private, loopback, link-local, CGNAT, documentation, ... address
	FailTooLarge     = "body_too_large" // more than MaxBody bytes
	FailRedirect     = "redirect_refused"
	FailHTTPStatus   = probe.FailHTTPStatus
	FailNoAnswer     = "dns_no_answer"  // the DNS reply holds no usable record
	FailUnusable     = "not_applicable" // the provider cannot be asked in this family
	FailCanceled     = "canceled"       // not needed: the quorum was reached (or Ctrl-C)
	FailUnknown      = probe.FailUnknown
)

// MaxBody caps what is read of a provider's body: an address is at most 45
// characters; a few hundred bytes leave room for whitespace and tell a page
// from an address.
const MaxBody = 512

// AnswerError is a rejected answer: a failure code and a reason for people.
// The reason quotes untrusted bytes only escaped.
type AnswerError struct {
	Code   string
	Reason string
}

func (e *AnswerError) Error() string { return e.Reason }

func rejectf(code, format string, args ...any) error {
	return &AnswerError{Code: code, Reason: fmt.Sprintf(format, args...)}
}

// ValidateOptions tune the check of an answer.
type ValidateOptions struct {
	// AllowDocumentation accepts documentation ranges (203.0.113.0/24,
	// 2001:db8::/32, ...) as if public: for tests and demos on loopback,
	// where a stand-in provider claims such an address.
	AllowDocumentation bool
}

// ValidateBody checks a provider's plain-text body: it must be exactly one
// IP address of family (surrounding whitespace allowed) that is public.
func ValidateBody(body []byte, family Family, o ValidateOptions) (netip.Addr, error) {
	if len(body) > MaxBody {
		return netip.Addr{}, rejectf(FailTooLarge, "body larger than %d bytes", MaxBody)
	}
	t := bytes.TrimSpace(body)
	if len(t) == 0 {
		return netip.Addr{}, rejectf(FailNotAnAddress, "empty body")
	}
	if kind := pageKind(t); kind != "" {
		return netip.Addr{}, rejectf(FailHTMLPage, "%s, not an address", kind)
	}
	if fields := bytes.Fields(t); len(fields) > 1 {
		return netip.Addr{}, rejectf(FailNotAnAddress, "%d words, not one address: %s", len(fields), quote(t))
	}
	return ValidateAddr(string(t), family, o)
}

// ValidateAddr checks one address in text form (a DNS answer, a trimmed body).
func ValidateAddr(s string, family Family, o ValidateOptions) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, rejectf(FailNotAnAddress, "not an IP address: %s", quote([]byte(s)))
	}
	if a.Zone() != "" {
		return netip.Addr{}, rejectf(FailNotPublic, "zoned address %s is not public", quote([]byte(s)))
	}
	return ValidateIP(a, family, o)
}

// ValidateIP checks a parsed address: the asked family (IPv4-mapped IPv6 is
// unmapped first) and a public class.
func ValidateIP(a netip.Addr, family Family, o ValidateOptions) (netip.Addr, error) {
	a = a.Unmap()
	if got := FamilyOf(a); got != family {
		return netip.Addr{}, rejectf(FailWrongFamily, "%s answer %s to an %s question", got, a, family)
	}
	c := Classify(a)
	if c == ClassPublic || (c == ClassDocumentation && o.AllowDocumentation) {
		return a, nil
	}
	hint := ""
	switch c {
	case ClassCGNAT, ClassPrivate, ClassULA:
		hint = " (the provider sees an inside address: another NAT or a proxy between you)"
	case ClassDocumentation:
		hint = " (--allow-documentation accepts it, for tests)"
	}
	return netip.Addr{}, rejectf(FailNotPublic, "%s is %s, not a public address%s", a, c.Description(), hint)
}

// pageKind recognises HTML and challenge pages.
func pageKind(t []byte) string {
	head := t
	if len(head) > 256 {
		head = head[:256]
	}
	l := strings.ToLower(string(head))
	challenge := strings.Contains(l, "just a moment") || strings.Contains(l, "attention required") ||
		strings.Contains(l, "captcha") || strings.Contains(l, "cf-chl") || strings.Contains(l, "challenge")
	isHTML := strings.HasPrefix(l, "<") || strings.Contains(l, "<html") || strings.Contains(l, "<!doctype") ||
		strings.Contains(l, "<body") || strings.Contains(l, "<head")
	switch {
	case isHTML && challenge:
		return "a challenge page (HTML)"
	case isHTML:
		return "an HTML page"
	case challenge:
		return "a challenge page"
	}
	return ""
}

// quote shows at most 48 bytes of untrusted text, escaped and quoted.
func quote(b []byte) string {
	more := ""
	if len(b) > 48 {
		b, more = b[:48], "..."
	}
	return `"` + output.EscapeBytes(b) + `"` + more
}
