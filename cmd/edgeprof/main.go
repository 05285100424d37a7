// Command edgeprof is a hardware-simulating systems profiler for sparse LLM
// inference on edge devices. This package is thin: flags → library calls →
// output. Each subcommand lives in its own file and registers itself on
// rootCmd in an init function.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

var rootCmd = &cobra.Command{
	Use:           "edgeprof",
	Short:         "Profile sparse LLM inference on real and simulated edge SoCs",
	Version:       version,
	SilenceUsage:  true,
	SilenceErrors: true,
}

func main() {
	if err := rootCmd.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "edgeprof:", err)
		os.Exit(1)
	}
}
