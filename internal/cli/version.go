package cli

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Version is the release version, set with
// -ldflags "-X github.com/spotauth/spotauth/internal/cli.Version=v1.2.3";
// empty means the module version or VCS revision from the build info.
var Version = ""

func version() string {
	if Version != "" {
		return Version
	}
	v := "(devel)"
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 && v == "(devel)" {
				v = "(devel) " + s.Value[:12]
			}
		}
	}
	return v
}

// versionLine is what spotauth version and spotauth --version print.
func versionLine() string {
	return fmt.Sprintf("spotauth %s %s %s/%s\n", version(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func newVersionCmd(f *Factory) *cobra.Command {
	out := f.IO.Out
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := io.WriteString(out, versionLine())
			return err
		},
	}
}
