//go:build !unix

package tcp

// RaiseFileLimit has no file limit to raise here; it reports a conservative
// figure for sizing scans.
func RaiseFileLimit() (int, error) { return 2048, nil }
