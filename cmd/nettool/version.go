package main

import (
	"runtime/debug"

	"github.com/urfave/cli/v2"
)

// Set by the build: go build -ldflags "-X main.version=v1.2.3 -X main.commit=abc".
var (
	version = ""
	commit  = ""
)

type versionInfo struct {
	Type      string `json:"type"`
	Version   string `json:"version"`
	Commit    string `json:"commit,omitempty"`
	Modified  *bool  `json:"modified,omitempty"` // with VCS stamping: true when the tree had changes
	GoVersion string `json:"go_version"`
}

// buildVersion takes the version from ldflags, else from the build info that
// `go install module@version` and `go build` in a git checkout record.
func buildVersion() versionInfo {
	bi, ok := debug.ReadBuildInfo()
	return versionFrom(bi, ok)
}

// versionFrom reads the build info: with VCS stamping on (a build in a git
// checkout), "modified" is always there, false for a clean tree.
func versionFrom(bi *debug.BuildInfo, ok bool) versionInfo {
	v := versionInfo{Type: "version", Version: version, Commit: commit}
	if ok && bi != nil {
		v.GoVersion = bi.GoVersion
		if v.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if v.Commit == "" {
					v.Commit = s.Value
				}
			case "vcs.modified":
				m := s.Value == "true"
				v.Modified = &m
			}
		}
	}
	if v.Version == "" {
		v.Version = "devel"
	}
	return v
}

func versionString() string {
	v := buildVersion()
	s := v.Version
	if v.Commit != "" {
		c := v.Commit
		if len(c) > 12 {
			c = c[:12]
		}
		s += " (" + c
		if v.Modified != nil && *v.Modified {
			s += ", modified"
		}
		s += ")"
	}
	return s + " " + v.GoVersion
}

func init() {
	registerCommand(900, func(e *appEnv) *cli.Command {
		return &cli.Command{
			Name:  "version",
			Usage: "print version, commit and Go version (machine-readable with --json)",
			Action: func(c *cli.Context) error {
				if c.NArg() > 0 {
					return usageErrorf("no arguments expected")
				}
				p, err := e.printerFor(c)
				if err != nil {
					return err
				}
				v := buildVersion()
				p.Doc(v)
				p.Textf("nettool %s\n", versionString())
				return nil
			},
		}
	})
}
