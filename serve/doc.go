// Package serve holds the tutorial's server side: small servers that bind to
// loopback by default, serve until their context ends or they are shut down,
// and report what they see through callbacks rather than printing. They are
// what `nettool serve ...` runs, what `nettool demo` starts in-process, and
// what nettool's own tests use as well-behaved peers.
//
// The DNS server (DNSServer) answers authoritatively over UDP and TCP on one
// port from RFC 1035 zone files, or from a built-in example zone.
package serve
