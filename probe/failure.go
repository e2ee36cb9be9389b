package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
)

// Failure codes: stable snake_case strings that scripts may match on. Codes
// are added, never renamed.
const (
	FailTimeout          = "timeout"
	FailCanceled         = "canceled"
	FailConnRefused      = "connection_refused"
	FailConnReset        = "connection_reset"
	FailHostUnreachable  = "host_unreachable"
	FailNetUnreachable   = "network_unreachable"
	FailAddrNotAvailable = "address_not_available"
	FailTooManyFiles     = "too_many_open_files"
	FailPermission       = "permission_denied"
	FailEOF              = "eof"
	FailNoReply          = "no_reply"
	FailDNSNXDomain      = "dns_nxdomain"
	FailDNSNoData        = "dns_nodata"
	FailDNSServFail      = "dns_servfail"
	FailDNSRefused       = "dns_refused"
	FailDNSRcode         = "dns_rcode" // any other non-NOERROR rcode
	FailDNSLookup        = "dns_lookup_error"
	FailTLSHandshake     = "tls_handshake_error"
	FailCertificate      = "certificate_error"
	FailProtocol         = "protocol_error" // the peer broke the protocol (bad HTTP, bad DNS reply)
	FailHTTPStatus       = "http_status"    // --fail and status >= 400
	FailNoConsensus      = "no_consensus"
	FailUnknown          = "unknown_error"
)

// Classify maps an error to a failure code. It returns "" for nil.
func Classify(err error) string {
	if err == nil {
		return ""
	}
	var dnsErr *net.DNSError
	var certInvalid x509.CertificateInvalidError
	var unknownAuth x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var certVerify *tls.CertificateVerificationError
	var recordHeader tls.RecordHeaderError
	var alert tls.AlertError
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return FailTimeout
	case errors.Is(err, context.Canceled):
		return FailCanceled
	case errors.Is(err, syscall.ECONNREFUSED):
		return FailConnRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return FailConnReset
	case errors.Is(err, syscall.EHOSTUNREACH):
		return FailHostUnreachable
	case errors.Is(err, syscall.ENETUNREACH):
		return FailNetUnreachable
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return FailAddrNotAvailable
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return FailTooManyFiles
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return FailPermission
	case errors.As(err, &dnsErr):
		switch {
		case dnsErr.IsNotFound:
			return FailDNSNXDomain
		case dnsErr.IsTimeout:
			return FailTimeout
		}
		return FailDNSLookup
	case errors.As(err, &certVerify), errors.As(err, &certInvalid), errors.As(err, &unknownAuth), errors.As(err, &hostname):
		return FailCertificate
	case errors.As(err, &recordHeader), errors.As(err, &alert):
		return FailTLSHandshake
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return FailEOF
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return FailTimeout
	}
	return FailUnknown
}
