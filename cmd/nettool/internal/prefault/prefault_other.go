//go:build !linux

package prefault

func dontNeed(region) {}
