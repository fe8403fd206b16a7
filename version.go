package main

import (
	"fmt"
	"io"
	"runtime/debug"

	"github.com/spf13/cobra"
)

func versionCommand(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run: func(*cobra.Command, []string) {
			bi, ok := debug.ReadBuildInfo()
			fmt.Fprintln(stdout, "imgpipe", version(bi, ok))
		},
	}
}

// version describes the build: the module version when installed with
// "go install ...@v1.2.3", and the VCS revision, its time and whether the
// tree had uncommitted changes when built from a checkout ("go build"
// stamps those, and gives the version "(devel)" or a pseudo-version).
func version(bi *debug.BuildInfo, ok bool) string {
	if !ok || bi == nil {
		return "unknown (built without module support)"
	}
	v := bi.Main.Version
	if v == "" || v == "(devel)" {
		v = "devel"
	}
	var rev, at string
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		v += " " + rev
		if modified {
			v += "+modified"
		}
		if at != "" {
			v += " (" + at + ")"
		}
	} else if v == "devel" {
		v += " (no VCS information: built outside a git checkout or with -buildvcs=false)"
	}
	return v + " " + bi.GoVersion
}
