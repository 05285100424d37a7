// Command edgeprof is a hardware-simulating systems profiler for sparse LLM
// inference on edge devices. This package is thin: flags → library calls →
// output. Each subcommand lives in its own file and registers itself on
// rootCmd in an init function.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/edgeprof/edgeprof/internal/atomicfile"
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
	PersistentPreRun: func(cmd *cobra.Command, _ []string) {
		if cmd.Annotations[gracefulStop] == "" {
			removeOutputsOnInterrupt()
		}
	},
}

func main() {
	if err := execute(rootCmd, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "edgeprof:", err)
		os.Exit(1)
	}
}

// stopSignals returns the signals that stop a command: SIGINT and
// SIGTERM, less a SIGINT the process was started with ignored (a
// background job of a script; the Go runtime keeps that ignore for
// SIGINT and SIGHUP only).
func stopSignals() []os.Signal {
	sigs := []os.Signal{syscall.SIGTERM}
	if !signal.Ignored(os.Interrupt) {
		sigs = append(sigs, os.Interrupt)
	}
	return sigs
}

// notifyStop is signal.NotifyContext over stopSignals, for commands that
// stop gracefully (sim, model synth): their deferred Aborts run.
func notifyStop(ctx context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(ctx, stopSignals()...)
}

// gracefulStop marks commands that handle the stop signals themselves
// (notifyStop); every other command gets removeOutputsOnInterrupt.
const gracefulStop = "graceful-stop"

var interruptOnce sync.Once

// removeOutputsOnInterrupt makes the stop signals remove the temporary
// files of outputs not yet committed before the process exits (an exit
// runs no deferred Abort): downloads, traces, conversions, merges.
// Exit status 128 + the signal, as a shell reports it.
func removeOutputsOnInterrupt() {
	interruptOnce.Do(func() {
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, stopSignals()...)
		go func() {
			s := <-sigs
			atomicfile.RemovePending()
			code := 130
			if s == syscall.SIGTERM {
				code = 143
			}
			fmt.Fprintln(os.Stderr, "edgeprof: interrupted, no output written:", s)
			os.Exit(code)
		}()
	})
}

// execute runs the command line with its output on stdout. Commands
// print through cmd.OutOrStdout(); a failed write (a full disk) must fail
// the command, not leave a cut-off table behind an exit status of 0.
func execute(root *cobra.Command, stdout io.Writer) error {
	out := &errWriter{w: stdout}
	root.SetOut(out)
	err := root.Execute()
	if err == nil && out.err != nil {
		err = fmt.Errorf("writing the output: %w", out.err)
	}
	return err
}

// errWriter passes writes to w and keeps the first error; after one,
// it writes nothing more.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	if err != nil {
		e.err = err
	}
	return n, err
}
