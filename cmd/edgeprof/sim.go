package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/edgeprof/edgeprof/cache"
	"github.com/edgeprof/edgeprof/sim"
	"github.com/edgeprof/edgeprof/trace"
)

func init() { rootCmd.AddCommand(newSimCmd()) }

func newSimCmd() *cobra.Command {
	var (
		socs       []string
		sets       []string
		warmup     int
		noCoverage bool
		straddle   string
		asJSON     bool
		asCSV      bool
		din        traceDinFlags
	)
	cmd := &cobra.Command{
		Use:   "sim --soc NAME|FILE [--soc ...] TRACE...",
		Short: "Replay traces (.etr, .din) on simulated SoC cache hierarchies",
		Long: `Replays each trace on each SoC (a preset from 'edgeprof soc list' or a
YAML file) in parallel and prints per-level demand accesses, hits and misses,
write-backs and the prefetch metrics defined in docs/metrics.md.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, paths []string) error {
			if len(socs) == 0 {
				return errors.New("sim: no --soc given (a preset name from 'edgeprof soc list' or a YAML file)")
			}
			if asJSON && asCSV {
				return errors.New("sim: --json and --csv exclude each other")
			}
			mode, err := cache.ParseStraddle(straddle)
			if err != nil {
				return fmt.Errorf("sim: --straddle: %w", err)
			}
			var loaded []*sim.SoC
			for _, s := range socs {
				soc, err := sim.Load(s, sets)
				if err != nil {
					return err
				}
				loaded = append(loaded, soc)
			}
			for _, p := range paths {
				f, err := trace.FormatOf(p)
				if err != nil {
					return err
				}
				if f == trace.FormatDin && warmup > 0 {
					return fmt.Errorf("sim: %s: --warmup-tokens %d, but din traces have no tokens", p, warmup)
				}
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			res, err := sim.RunFiles(ctx, paths, loaded, sim.Options{
				WarmupTokens: warmup, NoCoverage: noCoverage, Straddle: mode,
				Version: version, Overrides: sets, Din: din.options(),
			})
			if err != nil {
				return err
			}
			for _, r := range res {
				for _, w := range r.Warnings {
					fmt.Fprintf(cmd.ErrOrStderr(), "edgeprof: warning: %s on %s: %s\n", r.Trace, r.SoC, w)
				}
			}
			out := cmd.OutOrStdout()
			switch {
			case asJSON && len(res) == 1:
				return writeJSON(out, res[0])
			case asJSON:
				return writeJSON(out, res)
			case asCSV:
				return writeSimCSV(out, res)
			}
			return writeSimTable(out, res)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&socs, "soc", nil, "SoC preset name or YAML file (repeatable: SoCs run side by side)")
	f.StringArrayVar(&sets, "set", nil, "override a SoC value, e.g. --set caches.L2.size=1MiB (repeatable; applies to every --soc)")
	f.IntVar(&warmup, "warmup-tokens", -1, "tokens simulated but not counted (default: 1 for .etr, 0 for din)")
	f.BoolVar(&noCoverage, "no-coverage", false, "skip the baseline run without prefetchers that prefetch coverage needs")
	f.StringVar(&straddle, "straddle", "lines", "events spanning several lines: lines (one reference per line) or cachegrind (one per access, as Valgrind Cachegrind counts)")
	f.BoolVar(&asJSON, "json", false, "print JSON (an object, or an array for several SoCs or traces)")
	f.BoolVar(&asCSV, "csv", false, "print CSV, one row per SoC, trace and level")
	din.register(cmd)
	return cmd
}

// simColumns are the CSV columns; the table shows a subset.
var simColumns = []string{
	"soc", "trace", "level", "instances", "accesses", "hits", "misses", "miss_rate",
	"read_misses", "write_misses", "evictions", "writebacks", "useless_bytes",
	"prefetcher", "prefetch_issued", "prefetch_dropped", "prefetch_hits", "prefetch_late",
	"prefetch_useless", "pollution_misses", "accuracy", "lateness", "coverage", "pollution",
}

func simRow(r *sim.Result, l sim.LevelResult) []string {
	u := func(v uint64) string { return strconv.FormatUint(v, 10) }
	f := func(v *float64) string {
		if v == nil {
			return ""
		}
		return strconv.FormatFloat(*v, 'f', 6, 64)
	}
	p := l.Prefetch
	return []string{
		r.SoC, r.Trace, l.Name, strconv.Itoa(l.Instances), u(l.Accesses), u(l.Hits), u(l.Misses), f(l.MissRate),
		u(l.ReadMisses), u(l.WriteMisses), u(l.Evictions), u(l.Writebacks), u(l.UselessBytes),
		p.Prefetcher, u(p.Issued), u(p.Dropped), u(p.Hits), u(p.Late),
		u(p.Useless), u(p.PollutionMisses), f(p.Accuracy), f(p.Lateness), f(p.Coverage), f(p.Pollution),
	}
}

func writeSimCSV(w io.Writer, res []*sim.Result) error {
	cw := csv.NewWriter(w)
	cw.Write(simColumns)
	for _, r := range res {
		for _, l := range r.Levels {
			cw.Write(simRow(r, l))
		}
	}
	cw.Flush()
	return cw.Error()
}

func writeSimTable(w io.Writer, res []*sim.Result) error {
	t := newTable(w, "soc", "trace", "level", "accesses", "misses", "miss %", "writebacks", "prefetcher", "issued", "accuracy %", "coverage %", "pollution %")
	pct := func(v *float64) string {
		if v == nil {
			return "-"
		}
		return strconv.FormatFloat(100**v, 'f', 2, 64)
	}
	for _, r := range res {
		for _, l := range r.Levels {
			p := l.Prefetch
			issued, acc, cov, pol := "-", "-", "-", "-"
			if p.Prefetcher != "none" {
				issued, acc, cov, pol = strconv.FormatUint(p.Issued, 10), pct(p.Accuracy), pct(p.Coverage), pct(p.Pollution)
			}
			t.Append([]string{r.SoC, r.Trace, l.Name, strconv.FormatUint(l.Accesses, 10), strconv.FormatUint(l.Misses, 10),
				pct(l.MissRate), strconv.FormatUint(l.Writebacks, 10), p.Prefetcher, issued, acc, cov, pol})
		}
	}
	return t.Render()
}
