package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// revision is the VCS revision, stamped by the Makefile with
// -ldflags "-X main.revision=…" for builds that carry no VCS information
// (GOFLAGS=-buildvcs=false, or a build outside a checkout).
var revision string

// buildInfo is what --version prints and the metrics label: the module
// version, the VCS revision and time, and the Go version.
type buildInfo struct {
	Version, Revision, Time, Go string
	Modified                    bool
}

func readBuildInfo() buildInfo {
	b := buildInfo{Version: "(devel)", Revision: revision, Go: runtime.Version()}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	if v := info.Main.Version; v != "" {
		b.Version = v
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Revision = s.Value
		case "vcs.time":
			b.Time = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}

// String is the one line of --version.
func (b buildInfo) String() string {
	s := "provision " + b.Version
	switch {
	case b.Revision == "":
		s += ", revision unknown"
	default:
		rev := b.Revision
		if len(rev) > 12 {
			rev = rev[:12]
		}
		s += ", revision " + rev
		if b.Modified {
			s += " (modified)"
		}
		if b.Time != "" {
			s += " of " + b.Time
		}
	}
	return fmt.Sprintf("%s, %s", s, b.Go)
}
