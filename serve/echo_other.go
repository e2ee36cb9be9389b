//go:build !unix

package serve

func echoTemporaryAccept(error) bool { return false }
