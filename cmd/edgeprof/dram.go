package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/edgeprof/edgeprof/memory/dram"
	"github.com/edgeprof/edgeprof/sim"
)

func init() { rootCmd.AddCommand(newDRAMCmd()) }

// dramJSON is one trace's result of `edgeprof dram --json`.
type dramJSON struct {
	// DRAMName is the --dram or --soc value the configuration came from.
	DRAMName string      `json:"dram_name"`
	Trace    string      `json:"trace"`
	Requests uint64      `json:"requests"`
	Config   dram.Config `json:"config"`
	ClockPS  int64       `json:"clock_ps"`
	DRAM     dram.Stats  `json:"dram"`
}

// dramReplayChunk is how many requests are read before they are
// simulated: memory stays bounded however long the trace.
const dramReplayChunk = 1 << 16

func newDRAMCmd() *cobra.Command {
	var (
		dramArgs, socArgs []string
		sets              []string
		size              int
		clockPS           int64
		asJSON            bool
	)
	cmd := &cobra.Command{
		Use:   "dram (--dram GRADE|FILE | --soc NAME|FILE)... TRACE...",
		Short: "Replay DRAM request traces (DRAMsim3's format) on the DRAM model: row hits, bandwidth, latency, energy",
		Long: `Replays each trace, one request per line as DRAMsim3 reads them
("0x7f3a2c40 READ 1200": hexadecimal address, READ or WRITE, arrival in
DRAM clock cycles), on a fresh DRAM model and prints its counters: reads,
writes, row hits, misses and conflicts, bandwidth, read latency (average
and p99, from the trace's arrival and from entry into the controller's
queue, DRAMsim3's definition; they differ while the queue is full),
energy. The DRAM is a grade (--dram lpddr4x-4267),
a YAML file in the format of an SoC file's dram: section (--dram my.yaml),
or the dram section of an SoC (--soc rpi5, with --set overrides); both
flags repeat, and every trace runs on every DRAM, one table row each.
Trace cycles are each DRAM's own clock, as DRAMsim3 counts them; to
compare DRAMs at the same arrival times give --clock-ps. The channels are
simulated concurrently; the results are the same on any number of
cores. The simulation speed goes to stderr.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, paths []string) error {
			cfgs, err := dramConfigsFromFlags(dramArgs, socArgs, sets)
			if err != nil {
				return err
			}
			if clockPS < 0 || clockPS > 1e9 {
				return fmt.Errorf("dram: --clock-ps %d: want 1..1000000000 ps, or 0 for the DRAM's clock", clockPS)
			}
			var out []dramJSON
			for _, c := range cfgs {
				for _, path := range paths {
					r, err := replayDRAMTrace(cmd.ErrOrStderr(), path, c.cfg, size, clockPS)
					if err != nil {
						return err
					}
					r.DRAMName = c.name
					out = append(out, r)
				}
			}
			w := cmd.OutOrStdout()
			if asJSON {
				if len(out) == 1 {
					return writeJSON(w, out[0])
				}
				return writeJSON(w, out)
			}
			return writeDRAMTable(w, out)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&dramArgs, "dram", nil, "DRAM grade (e.g. lpddr4x-4267, ddr4-3200) or YAML file of a DRAM configuration (repeatable)")
	f.StringArrayVar(&socArgs, "soc", nil, "SoC preset or YAML file whose dram section to use (repeatable)")
	f.StringArrayVar(&sets, "set", nil, "override a SoC value, e.g. --set dram=lpddr5-6400 (applies to every --soc)")
	f.IntVar(&size, "request-bytes", 64, "size of every request in bytes (DRAMsim3's traces carry none)")
	f.Int64Var(&clockPS, "clock-ps", 0, "picoseconds per trace cycle (default: the DRAM's clock, as DRAMsim3 counts)")
	f.BoolVar(&asJSON, "json", false, "print JSON (an object, or an array for several DRAMs or traces)")
	return cmd
}

// namedDRAM is a DRAM configuration and the flag value it came from.
type namedDRAM struct {
	name string
	cfg  dram.Config
}

// dramConfigsFromFlags returns the DRAM configurations --dram and --soc
// name, in that order, each checked.
func dramConfigsFromFlags(dramArgs, socArgs, sets []string) ([]namedDRAM, error) {
	switch {
	case len(dramArgs) == 0 && len(socArgs) == 0:
		return nil, errors.New("dram: no DRAM given: --dram GRADE|FILE or --soc NAME|FILE")
	case len(sets) > 0 && len(socArgs) == 0:
		return nil, errors.New("dram: --set applies to --soc; with --dram, write the values into a YAML file")
	}
	var out []namedDRAM
	for _, a := range dramArgs {
		c, err := dram.LoadConfig(a)
		if err != nil {
			return nil, err
		}
		out = append(out, namedDRAM{a, c})
	}
	for _, a := range socArgs {
		s, err := sim.Load(a, sets)
		if err != nil {
			return nil, err
		}
		if s.DRAM == nil {
			return nil, fmt.Errorf("%s: no dram section", a)
		}
		out = append(out, namedDRAM{a, s.DRAM.Config})
	}
	for _, c := range out {
		if _, err := dram.New(c.cfg); err != nil {
			return nil, fmt.Errorf("dram: %s: %v", c.name, strings.TrimPrefix(err.Error(), "dram: "))
		}
	}
	return out, nil
}

// replayDRAMTrace replays one trace file on a fresh model.
func replayDRAMTrace(logw io.Writer, path string, cfg dram.Config, size int, clockPS int64) (dramJSON, error) {
	d, err := dram.New(cfg)
	if err != nil {
		return dramJSON{}, err
	}
	if size < 1 || size > d.BlockBytes() {
		return dramJSON{}, fmt.Errorf("dram: --request-bytes %d: want 1..%d (this DRAM's largest request)", size, d.BlockBytes())
	}
	if clockPS == 0 {
		clockPS = d.ClockPS()
	}
	f, err := os.Open(path)
	if err != nil {
		return dramJSON{}, err
	}
	defer f.Close()
	tr := dram.NewTraceReader(f, path, clockPS, size)
	// Parsing runs on its own goroutine, a chunk ahead of the model.
	type chunk struct {
		rs  []dram.Request
		err error
	}
	empty, full := make(chan []dram.Request, 2), make(chan chunk, 2)
	empty <- make([]dram.Request, dramReplayChunk)
	empty <- make([]dram.Request, dramReplayChunk)
	defer close(empty)
	go func() {
		defer close(full)
		for buf := range empty {
			k, err := tr.Read(buf)
			full <- chunk{buf[:k], err}
			if err != nil {
				return
			}
		}
	}()
	var n uint64
	start := time.Now()
	for c := range full {
		if len(c.rs) > 0 {
			if err := d.SubmitAll(c.rs); err != nil {
				return dramJSON{}, fmt.Errorf("%s: %v", path, err)
			}
			n += uint64(len(c.rs))
		}
		if errors.Is(c.err, io.EOF) {
			break
		}
		if c.err != nil {
			return dramJSON{}, c.err
		}
		empty <- c.rs[:cap(c.rs)]
	}
	d.Drain()
	wall := time.Since(start)
	fmt.Fprintf(logw, "edgeprof dram: %s: %d requests simulated in %.3f s (%.2f M requests/s)\n",
		path, n, wall.Seconds(), float64(n)/wall.Seconds()/1e6)
	return dramJSON{Trace: path, Requests: n, Config: d.Config(), ClockPS: clockPS, DRAM: d.Stats()}, nil
}

func writeDRAMTable(w io.Writer, res []dramJSON) error {
	t := newUnitTable(w, "dram", "trace", "requests", "reads", "writes", "row hits %", "misses %", "conflicts %",
		"GB/s", "bus GB/s", "avg read ns", "p99 read ns", "avg queued ns", "p99 queued ns",
		"energy pJ", "pJ/bit", "core pJ/bit", "end ns")
	for _, r := range res {
		s := r.DRAM
		outcomes := float64(s.RowHits + s.RowMisses + s.RowConflicts)
		pct := func(v uint64) string {
			if outcomes == 0 {
				return "-"
			}
			return fmt.Sprintf("%.2f", 100*float64(v)/outcomes)
		}
		total, core := s.PJPerBit()
		if err := t.Append([]string{
			r.DRAMName, r.Trace, fmt.Sprint(r.Requests), fmt.Sprint(s.Reads), fmt.Sprint(s.Writes),
			pct(s.RowHits), pct(s.RowMisses), pct(s.RowConflicts),
			fmt.Sprintf("%.2f", s.BandwidthGBps), fmt.Sprintf("%.2f", s.BusBandwidthGBps),
			fmt.Sprintf("%.1f", s.AvgLatencyNS), fmt.Sprintf("%.1f", s.P99LatencyNS),
			fmt.Sprintf("%.1f", s.AvgQueueLatencyNS), fmt.Sprintf("%.1f", s.P99QueueLatencyNS),
			fmt.Sprintf("%.4g", s.EnergyPJ), fmt.Sprintf("%.2f", total), fmt.Sprintf("%.2f", core),
			fmt.Sprintf("%.0f", s.LastDoneNS),
		}); err != nil {
			return err
		}
	}
	return t.Render()
}
