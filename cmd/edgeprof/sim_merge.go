package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/edgeprof/edgeprof/internal/atomicfile"
	"github.com/edgeprof/edgeprof/sim"
)

// simShard returns the shard to run: --shard k/N, else a Kubernetes
// Indexed Job's or Slurm array's environment, else everything. "off"
// ignores the environment.
func simShard(cmd *cobra.Command, arg string) (sim.Shard, bool, error) {
	switch arg {
	case "off":
		return sim.All, false, nil
	case "":
		sh, from, ok, err := sim.ShardFromEnv(os.Getenv)
		if err != nil || !ok {
			return sim.All, false, err
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "edgeprof: running shard %s (from %s; --shard off runs everything)\n", sh, from)
		return sh, true, nil
	}
	sh, err := sim.ParseShard(arg)
	return sh, err == nil, err
}

// writePartial writes one shard's results for `sim merge`, to path
// (atomically) or stdout.
func writePartial(cmd *cobra.Command, path string, spec sim.Spec, sh sim.Shard, jobs int, mine []sim.Job, res []*sim.Result) error {
	p := sim.Partial{Format: sim.PartialFormat, Spec: spec, SpecSHA256: spec.SHA256(), Shard: sh.K, Shards: sh.N, Jobs: jobs, Results: []sim.PartialResult{}}
	for i, r := range res {
		b, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("sim: %w", err)
		}
		p.Results = append(p.Results, sim.PartialResult{Index: mine[i].Index, Result: b})
	}
	if path == "" {
		return writeJSON(cmd.OutOrStdout(), p)
	}
	f, err := atomicfile.Create(path)
	if err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	defer f.Abort()
	if err := writeJSON(f, p); err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	return f.Commit()
}

// maxPartialBytes bounds a partial-result file: per-op breakdowns of
// thousands of runs stay far below it.
const maxPartialBytes = 4 << 30

func readPartial(path string) (*sim.Partial, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("sim merge: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > maxPartialBytes {
		return nil, fmt.Errorf("sim merge: %s: %d bytes, more than the %d-byte limit", path, st.Size(), int64(maxPartialBytes))
	}
	var p sim.Partial
	dec := json.NewDecoder(io.LimitReader(f, maxPartialBytes))
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("sim merge: %s: not a partial result of 'edgeprof sim --shard': %v", path, err)
	}
	if p.Format != sim.PartialFormat {
		return nil, fmt.Errorf("sim merge: %s: format %q, want %q", path, p.Format, sim.PartialFormat)
	}
	return &p, nil
}

func newSimMergeCmd() *cobra.Command {
	var out simFlags
	cmd := &cobra.Command{
		Use:   "merge PART...",
		Short: "Combine the partial results of a sharded sim run into the output a single run gives",
		Long: `Reads the partial results that 'edgeprof sim --shard k/N' wrote (all N of
them, in any order), checks that they are the shards of one run (same traces,
SoCs, --set, --sweep and options), and prints exactly what the run without
--shard prints, with the same output flags.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, paths []string) error {
			if err := out.check(); err != nil {
				return err
			}
			parts := make([]*sim.Partial, len(paths))
			for i, p := range paths {
				part, err := readPartial(p)
				if err != nil {
					return err
				}
				parts[i] = part
			}
			raw, err := sim.Merge(parts, paths)
			if err != nil {
				return err
			}
			res := make([]*sim.Result, len(raw))
			for i, b := range raw {
				var r sim.Result
				if err := json.Unmarshal(b, &r); err != nil {
					return fmt.Errorf("sim merge: result %d: %v", i, err)
				}
				res[i] = &r
			}
			if out.plot != "" && len(parts[0].Spec.Axes) != 1 {
				return errors.New("sim merge: --plot needs a run with exactly one --sweep")
			}
			return out.render(cmd, res, raw)
		},
	}
	out.register(cmd)
	return cmd
}
