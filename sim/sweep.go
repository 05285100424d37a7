package sim

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// SweepAxis is one --sweep argument: a SoC key (any --set path, or the
// shorthands dram and flash) and the values it takes.
type SweepAxis struct {
	Key    string   `json:"key"`
	Values []string `json:"values"`
}

// ParseSweep parses "key=v1,v2,...".
func ParseSweep(arg string) (SweepAxis, error) {
	key, vals, ok := strings.Cut(arg, "=")
	key = strings.TrimSpace(key)
	if !ok || key == "" || strings.TrimSpace(vals) == "" {
		return SweepAxis{}, fmt.Errorf("sim: --sweep %s: want key=v1,v2,... such as dram=lpddr4x-4267,lpddr5-6400", arg)
	}
	a := SweepAxis{Key: key}
	seen := map[string]bool{}
	for _, v := range strings.Split(vals, ",") {
		v = strings.TrimSpace(v)
		if v == "" {
			return SweepAxis{}, fmt.Errorf("sim: --sweep %s: empty value", arg)
		}
		if seen[v] {
			return SweepAxis{}, fmt.Errorf("sim: --sweep %s: value %q twice", arg, v)
		}
		seen[v] = true
		a.Values = append(a.Values, v)
	}
	return a, nil
}

// Job is one run of a sweep: a trace on a SoC with one combination of
// swept values. Index numbers jobs in the order a single run reports
// them: trace-major, then SoC, then the cross product with the first
// axis outermost.
type Job struct {
	Index int          `json:"index"`
	Trace string       `json:"trace"`
	SoC   string       `json:"soc"`
	Point []SweepValue `json:"point,omitempty"`
}

// maxJobs bounds a sweep so that a typo cannot ask for billions of runs.
const maxJobs = 1 << 20

// Plan lists every job of traces x socs x the cross product of axes.
func Plan(traces, socs []string, axes []SweepAxis) ([]Job, error) {
	points := [][]SweepValue{nil}
	for _, a := range axes {
		var next [][]SweepValue
		for _, p := range points {
			for _, v := range a.Values {
				q := append(append([]SweepValue(nil), p...), SweepValue{Key: a.Key, Value: v})
				next = append(next, q)
			}
		}
		points = next
		if len(points)*max(1, len(traces)*len(socs)) > maxJobs {
			return nil, fmt.Errorf("sim: the sweep has more than %d runs", maxJobs)
		}
	}
	var jobs []Job
	for _, tr := range traces {
		for _, s := range socs {
			for _, p := range points {
				jobs = append(jobs, Job{Index: len(jobs), Trace: tr, SoC: s, Point: p})
			}
		}
	}
	return jobs, nil
}

// Shard selects the jobs whose index is K modulo N (0 <= K < N).
type Shard struct {
	K, N int
}

// All is the shard that holds every job.
var All = Shard{K: 0, N: 1}

// ParseShard parses "k/N".
func ParseShard(s string) (Shard, error) {
	a, b, ok := strings.Cut(s, "/")
	k, err1 := strconv.Atoi(strings.TrimSpace(a))
	n, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil || n < 1 || k < 0 || k >= n {
		return Shard{}, fmt.Errorf("sim: --shard %q: want k/N with 0 <= k < N, e.g. 3/8", s)
	}
	if n > maxJobs {
		return Shard{}, fmt.Errorf("sim: --shard %q: %d shards, want at most %d (the most runs a sweep may have)", s, n, maxJobs)
	}
	return Shard{K: k, N: n}, nil
}

func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.K, s.N) }

// Select returns the jobs of the shard.
func (s Shard) Select(jobs []Job) []Job {
	var out []Job
	for _, j := range jobs {
		if j.Index%s.N == s.K {
			out = append(out, j)
		}
	}
	return out
}

// Environment variables a shard is read from when --shard is not given.
const (
	// EnvK8sIndex is set by a Kubernetes Indexed Job in each pod.
	EnvK8sIndex = "JOB_COMPLETION_INDEX"
	// EnvShards gives the shard count to Kubernetes pods: Kubernetes
	// does not expose a Job's .spec.completions to its pods, so the
	// manifest sets it to the same number.
	EnvShards = "EDGEPROF_SHARDS"
	// Slurm job arrays.
	EnvSlurmID    = "SLURM_ARRAY_TASK_ID"
	EnvSlurmCount = "SLURM_ARRAY_TASK_COUNT"
	EnvSlurmMin   = "SLURM_ARRAY_TASK_MIN"
)

// ShardFromEnv reads the shard of a Kubernetes Indexed Job
// (JOB_COMPLETION_INDEX, with EDGEPROF_SHARDS as the count) or a Slurm
// job array (SLURM_ARRAY_TASK_ID minus SLURM_ARRAY_TASK_MIN, of
// SLURM_ARRAY_TASK_COUNT). ok is false when neither is set; from names
// the variable used.
func ShardFromEnv(getenv func(string) string) (sh Shard, from string, ok bool, err error) {
	num := func(name string) (int, error) {
		v, err := strconv.Atoi(strings.TrimSpace(getenv(name)))
		if err != nil {
			return 0, fmt.Errorf("sim: %s=%q: want an integer", name, getenv(name))
		}
		return v, nil
	}
	switch {
	case getenv(EnvK8sIndex) != "":
		k, err := num(EnvK8sIndex)
		if err != nil {
			return Shard{}, "", false, err
		}
		if getenv(EnvShards) == "" {
			return Shard{}, "", false, fmt.Errorf("sim: %s=%d but %s is not set; set it to the Job's .spec.completions (Kubernetes does not expose it)", EnvK8sIndex, k, EnvShards)
		}
		n, err := num(EnvShards)
		if err != nil {
			return Shard{}, "", false, err
		}
		sh, err := ParseShard(fmt.Sprintf("%d/%d", k, n))
		if err != nil {
			return Shard{}, "", false, fmt.Errorf("sim: %s=%d of %s=%d: want 0 <= index < shards (want k/N)", EnvK8sIndex, k, EnvShards, n)
		}
		return sh, EnvK8sIndex, true, nil
	case getenv(EnvSlurmID) != "":
		id, err := num(EnvSlurmID)
		if err != nil {
			return Shard{}, "", false, err
		}
		n, err := num(EnvSlurmCount)
		if err != nil {
			return Shard{}, "", false, err
		}
		lo := 0
		if getenv(EnvSlurmMin) != "" {
			if lo, err = num(EnvSlurmMin); err != nil {
				return Shard{}, "", false, err
			}
		}
		sh, err := ParseShard(fmt.Sprintf("%d/%d", id-lo, n))
		if err != nil {
			return Shard{}, "", false, fmt.Errorf("sim: %s=%d (min %d) of %s=%d: want consecutive array indices (--array=0-%d)", EnvSlurmID, id, lo, EnvSlurmCount, n, n-1)
		}
		return sh, EnvSlurmID, true, nil
	}
	return Shard{}, "", false, nil
}

// Spec is everything that decides a sweep's results; every shard of a
// sweep must have the same.
type Spec struct {
	Traces []string    `json:"traces"`
	SoCs   []string    `json:"socs"`
	Sets   []string    `json:"sets,omitempty"`
	Axes   []SweepAxis `json:"sweeps,omitempty"`
	// Options is the command's other settings that change results
	// (warm-up, straddle, coverage, timing, din options), canonical.
	Options string `json:"options"`
	Version string `json:"edgeprof_version"`
}

// SHA256 identifies the spec.
func (s Spec) SHA256() string {
	b, _ := json.Marshal(s)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// PartialFormat names the partial-result file format.
const PartialFormat = "edgeprof-sim-partial/1"

// Partial is what one shard writes: its results, tagged with their job
// index, and the sweep's spec.
type Partial struct {
	Format     string          `json:"format"`
	Spec       Spec            `json:"spec"`
	SpecSHA256 string          `json:"spec_sha256"`
	Shard      int             `json:"shard"`
	Shards     int             `json:"shards"`
	Jobs       int             `json:"jobs"`
	Results    []PartialResult `json:"results"`
}

// PartialResult is one job's Result as JSON.
type PartialResult struct {
	Index  int             `json:"index"`
	Result json.RawMessage `json:"result"`
}

// ErrMerge reports partial results that do not make one sweep.
var ErrMerge = errors.New("sim merge")

// Merge checks that parts are the shards 0..N-1 of one sweep, each once,
// and returns every job's result in job order.
func Merge(parts []*Partial, names []string) ([]json.RawMessage, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("%w: no partial results", ErrMerge)
	}
	first := parts[0]
	seen := map[int]string{}
	out := make([]json.RawMessage, first.Jobs)
	for i, p := range parts {
		name := names[i]
		switch {
		case p.Format != PartialFormat:
			return nil, fmt.Errorf("%w: %s: format %q, want %q", ErrMerge, name, p.Format, PartialFormat)
		case p.Spec.SHA256() != p.SpecSHA256:
			return nil, fmt.Errorf("%w: %s: its spec does not hash to its spec_sha256 %.12s (edited after it was written?)", ErrMerge, name, p.SpecSHA256)
		case p.SpecSHA256 != first.SpecSHA256:
			return nil, fmt.Errorf("%w: %s: a different sweep than %s (spec sha256 %.12s, want %.12s)", ErrMerge, name, names[0], p.SpecSHA256, first.SpecSHA256)
		case p.Shards != first.Shards || p.Jobs != first.Jobs:
			return nil, fmt.Errorf("%w: %s: shard %d/%d of %d jobs, but %s is of %d shards and %d jobs", ErrMerge, name, p.Shard, p.Shards, p.Jobs, names[0], first.Shards, first.Jobs)
		case p.Shard < 0 || p.Shard >= p.Shards:
			return nil, fmt.Errorf("%w: %s: shard %d outside 0..%d", ErrMerge, name, p.Shard, p.Shards-1)
		}
		if prev, dup := seen[p.Shard]; dup {
			return nil, fmt.Errorf("%w: shard %d/%d twice (%s and %s)", ErrMerge, p.Shard, p.Shards, prev, name)
		}
		seen[p.Shard] = name
		for _, r := range p.Results {
			if r.Index < 0 || r.Index >= p.Jobs || r.Index%p.Shards != p.Shard {
				return nil, fmt.Errorf("%w: %s: result for job %d, which is not in shard %d/%d", ErrMerge, name, r.Index, p.Shard, p.Shards)
			}
			if out[r.Index] != nil {
				return nil, fmt.Errorf("%w: %s: job %d twice", ErrMerge, name, r.Index)
			}
			out[r.Index] = r.Result
		}
	}
	var missing []string
	for k := 0; k < first.Shards; k++ {
		if _, ok := seen[k]; !ok {
			missing = append(missing, strconv.Itoa(k))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: shards %s of %d missing", ErrMerge, strings.Join(missing, ", "), first.Shards)
	}
	for i, r := range out {
		if r == nil {
			return nil, fmt.Errorf("%w: no result for job %d", ErrMerge, i)
		}
	}
	return out, nil
}

// LoadJobSoCs loads the SoC of every job (sets, then the job's swept
// values), so that a bad key or value fails before anything runs.
func LoadJobSoCs(jobs []Job, sets []string) ([]*SoC, error) {
	out := make([]*SoC, len(jobs))
	for i, j := range jobs {
		soc, err := LoadPoint(j.SoC, sets, j.Point)
		if err != nil {
			return nil, err
		}
		out[i] = soc
	}
	return out, nil
}

// maxRunsPerPass bounds the runs that share one pass over a trace: each
// holds its simulated caches (a 32 MiB level's tags are about 8 MB), so
// a sweep of thousands of points reads the trace once per this many
// rather than holding them all at once. A variable for tests.
var maxRunsPerPass = 64

// RunJobs runs jobs (with their loaded SoCs) and returns their results in
// the order of jobs: each trace is read once for up to maxRunsPerPass of
// its jobs, whose SoCs replay it in parallel; up to GOMAXPROCS traces run
// at once.
func RunJobs(ctx context.Context, jobs []Job, socs []*SoC, opts Options) ([]*Result, error) {
	byTrace := map[string][]int{}
	var order []string
	for i, j := range jobs {
		if _, ok := byTrace[j.Trace]; !ok {
			order = append(order, j.Trace)
		}
		byTrace[j.Trace] = append(byTrace[j.Trace], i)
	}
	sort.SliceStable(order, func(a, b int) bool { return byTrace[order[a]][0] < byTrace[order[b]][0] })
	out := make([]*Result, len(jobs))
	errs := make([]error, len(order))
	var wg sync.WaitGroup
	slots := make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))
	for ti, tr := range order {
		wg.Add(1)
		go func(ti int, tr string) {
			defer wg.Done()
			slots <- struct{}{}
			defer func() { <-slots }()
			all := byTrace[tr]
			// Passes of equal size: 65 runs are 33 + 32, not 64 + 1 on
			// one core.
			passes := (len(all) + maxRunsPerPass - 1) / maxRunsPerPass
			per := (len(all) + passes - 1) / max(1, passes)
			for len(all) > 0 {
				idx := all[:min(len(all), per)]
				all = all[len(idx):]
				ss := make([]*SoC, len(idx))
				for k, i := range idx {
					ss[k] = socs[i]
				}
				res, err := runFile(ctx, tr, ss, opts)
				if err != nil {
					errs[ti] = err
					return
				}
				for k, i := range idx {
					res[k].Sweep = jobs[i].Point
					out[i] = res[k]
				}
			}
		}(ti, tr)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
