package main

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/edgeprof/edgeprof/cache"
	"github.com/edgeprof/edgeprof/internal/atomicfile"
	"github.com/edgeprof/edgeprof/sim"
	"github.com/edgeprof/edgeprof/trace"
)

func init() { rootCmd.AddCommand(newSimCmd()) }

// simFlags are the output flags `sim` and `sim merge` share.
type simFlags struct {
	asJSON, asCSV bool
	plot          string
	ops, tokens   bool
}

func (o *simFlags) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.BoolVar(&o.asJSON, "json", false, "print JSON (an object, or an array for several SoCs, traces or sweep points)")
	f.BoolVar(&o.asCSV, "csv", false, "print CSV: one row per SoC, trace, sweep point and cache level, plus the run's timing summary when the timing model ran")
	f.StringVar(&o.plot, "plot", "", "write a PNG of time per token against the one swept parameter (needs exactly one --sweep)")
	f.BoolVar(&o.ops, "ops", false, "also print time, bytes and energy per layer and op (timing model)")
	f.BoolVar(&o.tokens, "tokens", false, "also print time, bytes and energy per token (timing model)")
}

func newSimCmd() *cobra.Command {
	var (
		socs       []string
		sets       []string
		sweeps     []string
		shardArg   string
		outPath    string
		warmup     = autoInt{v: -1, auto: -1}
		noCoverage bool
		noTiming   bool
		straddle   string
		dramTrace  string
		out        simFlags
		din        traceDinFlags
	)
	cmd := &cobra.Command{
		Use:         "sim --soc NAME|FILE [--soc ...] TRACE...",
		Annotations: map[string]string{gracefulStop: "yes"},
		Short:       "Replay traces (.etr, .din) on simulated SoCs: caches, DRAM, flash, time and energy per token",
		Long: `Replays each trace on each SoC (a preset from 'edgeprof soc list' or a
YAML file) in parallel and prints per-level demand accesses, hits and misses,
write-backs and the prefetch metrics defined in docs/metrics.md. SoCs with a
dram section also run the timing model (docs/timing-model.md): time to first
token, time per token, DRAM, flash and page-cache counters, energy per level.

--sweep key=v1,v2 (repeatable) runs the cross product of the values on every
SoC and trace in parallel; the tables get a column per swept key. dram=GRADE
and flash=DEVICE select a DRAM grade (on the SoC's channels, fabric and
memory controller) or flash device. --shard k/N (or a Kubernetes Indexed
Job's JOB_COMPLETION_INDEX with EDGEPROF_SHARDS, or a Slurm array's
SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT) runs every N-th run only and
writes a partial result; 'edgeprof sim merge' turns the parts into exactly
the output of a single run.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, paths []string) error {
			if len(socs) == 0 {
				return errors.New("sim: no --soc given (a preset name from 'edgeprof soc list' or a YAML file)")
			}
			if err := out.check(); err != nil {
				return err
			}
			if warmup.set && warmup.v < 0 {
				return fmt.Errorf("sim: --warmup-tokens %d: want 0 or more tokens (leave the flag out for the default: 1 for .etr, 0 for din)", warmup.v)
			}
			mode, err := cache.ParseStraddle(straddle)
			if err != nil {
				return fmt.Errorf("sim: --straddle: %w", err)
			}
			var axes []sim.SweepAxis
			for _, s := range sweeps {
				a, err := sim.ParseSweep(s)
				if err != nil {
					return err
				}
				for _, b := range axes {
					if b.Key == a.Key {
						return fmt.Errorf("sim: --sweep %s: key %q swept twice", s, a.Key)
					}
				}
				axes = append(axes, a)
			}
			if (out.ops || out.tokens) && noTiming {
				return errors.New("sim: --ops and --tokens break down the timing model's results; leave out --no-timing")
			}
			if out.plot != "" && len(axes) != 1 {
				return fmt.Errorf("sim: --plot needs exactly one --sweep, got %d", len(axes))
			}
			for _, p := range paths {
				f, err := trace.FormatOf(p)
				if err != nil {
					return err
				}
				if f == trace.FormatDin && warmup.v > 0 {
					return fmt.Errorf("sim: %s: --warmup-tokens %d, but din traces have no tokens", p, warmup.v)
				}
			}
			shard, sharded, err := simShard(cmd, shardArg)
			if err != nil {
				return err
			}
			if outPath != "" && !sharded {
				return errors.New("sim: --out writes a shard's partial result; give --shard k/N (or run as an indexed job)")
			}
			// Output files are checked before the simulation, not after it.
			for _, o := range []struct{ flag, path string }{{"out", outPath}, {"plot", out.plot}, {"dram-trace", dramTrace}} {
				if cmd.Flags().Changed(o.flag) {
					if err := atomicfile.Check(o.path); err != nil {
						return fmt.Errorf("sim: --%s: %w", o.flag, err)
					}
				}
			}
			jobs, err := sim.Plan(paths, socs, axes)
			if err != nil {
				return err
			}
			// Every job's SoC loads in every shard, so a bad value fails
			// at once instead of in one shard of many.
			loaded := make([]*sim.SoC, len(jobs))
			for i, j := range jobs {
				if loaded[i], err = sim.LoadPoint(j.SoC, sets, j.Point); err != nil {
					return err
				}
			}
			mine := shard.Select(jobs)
			mySoCs := make([]*sim.SoC, len(mine))
			for i, j := range mine {
				mySoCs[i] = loaded[j.Index]
			}
			ctx, stop := notifyStop(cmd.Context())
			defer stop()
			opts := sim.Options{
				WarmupTokens: warmup.v, NoCoverage: noCoverage, NoTiming: noTiming, Straddle: mode,
				Version: version, Overrides: sets, Din: din.options(),
			}
			var dt *atomicfile.File
			if dramTrace != "" {
				switch {
				case sharded || len(jobs) != 1:
					return fmt.Errorf("sim: --dram-trace records one run: one --soc, one trace, no --sweep or --shard (got %d runs)", len(jobs))
				case noTiming || !loaded[0].Timed():
					return fmt.Errorf("sim: --dram-trace needs the timing model: %s has no dram section or --no-timing is set", loaded[0].Name)
				}
				if dt, err = atomicfile.Create(dramTrace); err != nil {
					return fmt.Errorf("sim: --dram-trace: %w", err)
				}
				defer dt.Abort()
				opts.DRAMTrace = dt
			}
			res, err := sim.RunJobs(ctx, mine, mySoCs, opts)
			if err != nil {
				return err
			}
			if dt != nil {
				if err := dt.Commit(); err != nil {
					return fmt.Errorf("sim: --dram-trace: %w", err)
				}
			}
			for _, r := range res {
				for _, w := range r.Warnings {
					fmt.Fprintf(cmd.ErrOrStderr(), "edgeprof: warning: %s on %s: %s\n", r.Trace, r.SoC, w)
				}
			}
			if sharded {
				spec := sim.Spec{
					Traces: paths, SoCs: socs, Sets: sets, Axes: axes, Version: version,
					Options: fmt.Sprintf("warmup=%d straddle=%s no_coverage=%t no_timing=%t ifetch=%t din_size=%d",
						warmup.v, mode, noCoverage, noTiming, din.ifetch, din.size),
				}
				return writePartial(cmd, outPath, spec, shard, len(jobs), mine, res)
			}
			return out.render(cmd, res, nil)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&socs, "soc", nil, "SoC preset name or YAML file (repeatable: SoCs run side by side)")
	f.StringArrayVar(&sets, "set", nil, "override a SoC value, e.g. --set caches.L2.size=1MiB, --set dram=lpddr5-6400, --set weights_budget=3GiB (repeatable; applies to every --soc)")
	f.StringArrayVar(&sweeps, "sweep", nil, "sweep a SoC value, e.g. --sweep dram=lpddr4x-4267,lpddr5-6400 (repeatable: the cross product runs)")
	f.StringVar(&shardArg, "shard", "", "run shard k/N of the runs and write a partial result for 'sim merge' (default: from JOB_COMPLETION_INDEX+EDGEPROF_SHARDS or SLURM_ARRAY_TASK_ID/COUNT when set; 'off' ignores them)")
	f.StringVarP(&outPath, "out", "o", "", "file for a shard's partial result (default: stdout)")
	f.Var(&warmup, "warmup-tokens", "tokens simulated but not counted in the cache counters (default: 1 for .etr, 0 for din)")
	f.BoolVar(&noCoverage, "no-coverage", false, "skip the baseline run without prefetchers that prefetch coverage needs")
	f.BoolVar(&noTiming, "no-timing", false, "skip the timing model (caches only, ideal memory): much faster")
	f.StringVar(&dramTrace, "dram-trace", "", "write every DRAM request of the run (one --soc, one trace) in DRAMsim3's trace format, for 'edgeprof dram' or DRAMsim3")
	f.StringVar(&straddle, "straddle", "lines", "events spanning several lines: lines (one reference per line) or cachegrind (one per access, as Valgrind Cachegrind counts)")
	out.register(cmd)
	din.register(cmd)
	cmd.AddCommand(newSimMergeCmd())
	return cmd
}

// autoInt is an int flag whose default is chosen later (v keeps the
// "automatic" value until the flag is given); its help shows no
// placeholder default.
type autoInt struct {
	v    int
	auto int
	set  bool
}

func (a *autoInt) String() string {
	if !a.set {
		return ""
	}
	return strconv.Itoa(a.v)
}

func (a *autoInt) Set(s string) error {
	if s == "" { // the flag's default, as tests reset flags
		a.v, a.set = a.auto, false
		return nil
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return errors.New("want an integer")
	}
	a.v, a.set = v, true
	return nil
}

func (a *autoInt) Type() string { return "int" }
