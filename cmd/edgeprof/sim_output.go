package main

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/spf13/cobra"

	"github.com/edgeprof/edgeprof/sim"
)

func (o *simFlags) check() error {
	if o.asJSON && o.asCSV {
		return errors.New("sim: --json and --csv exclude each other")
	}
	return nil
}

// render prints results the way a single run does; raw, when given (sim
// merge), holds each result's JSON as the run encoded it, so --json
// output is byte for byte the same.
func (o *simFlags) render(cmd *cobra.Command, res []*sim.Result, raw []json.RawMessage) error {
	if o.plot != "" {
		if err := writeSimPlot(o.plot, res); err != nil {
			return err
		}
	}
	w := cmd.OutOrStdout()
	switch {
	case o.asJSON && raw != nil && len(raw) == 1:
		return writeJSON(w, raw[0])
	case o.asJSON && raw != nil:
		return writeJSON(w, raw)
	case o.asJSON && len(res) == 1:
		return writeJSON(w, res[0])
	case o.asJSON:
		return writeJSON(w, res)
	case o.asCSV:
		return writeSimCSV(w, res)
	}
	// Every run gets its per-level rows, with or without the timing
	// model and with or without a sweep: a run never prints nothing.
	if err := writeSimTable(w, res); err != nil {
		return err
	}
	if anyTimed(res) {
		if err := writeSimSummary(w, res); err != nil {
			return err
		}
	} else if o.ops || o.tokens {
		fmt.Fprintln(cmd.ErrOrStderr(), "edgeprof: warning: --ops and --tokens print nothing here: no SoC has the timing model (a dram section)")
	}
	if o.ops {
		if err := writeSimOps(w, res); err != nil {
			return err
		}
	}
	if o.tokens {
		return writeSimTokens(w, res)
	}
	return nil
}

// newUnitTable is newTable with headers printed as written, so that
// units keep their case (mJ, MB, L1D).
func newUnitTable(w io.Writer, header ...string) *tablewriter.Table {
	t := newTable(w).Options(tablewriter.WithHeaderAutoFormat(tw.Off))
	hs := make([]any, len(header))
	for i, h := range header {
		hs[i] = h
	}
	t.Header(hs...)
	return t
}

func anyTimed(res []*sim.Result) bool {
	for _, r := range res {
		if r.Time.TokenTimes != nil {
			return true
		}
	}
	return false
}

// simSummary is one run's headline numbers. Per-token traffic and
// energy average the decode tokens (all tokens when there are none, as
// for din traces); time per token and tokens/s exist only with decode
// tokens, as in the JSON (mean_token_ns, tokens_per_s).
type simSummary struct {
	timed, decode                           bool
	ttftNS, tokenNS, tokensPerS             float64
	dramGBps, dramBytes, flashBytes, energy float64
	totalEnergyPJ                           float64
	// plotTokenNS is what --plot draws: the mean decode token, or the
	// mean of all tokens without decode tokens.
	plotTokenNS float64
}

func summarize(r *sim.Result) simSummary {
	tt := r.Time.TokenTimes
	if tt == nil {
		return simSummary{}
	}
	s := simSummary{timed: true, decode: tt.DecodeTokens > 0, ttftNS: tt.TTFTNS, tokenNS: tt.MeanTokenNS, tokensPerS: tt.TokensPerS, plotTokenNS: tt.MeanTokenNS}
	var n, timeNS float64
	for _, k := range r.Tokens {
		if s.decode && k.Phase != "decode" {
			continue
		}
		n++
		timeNS += k.TimeNS
		s.dramBytes += float64(k.Bytes["dram"])
		s.flashBytes += float64(k.Bytes["flash"])
		s.energy += k.EnergyPJ
	}
	if timeNS > 0 {
		s.dramGBps = s.dramBytes / timeNS
	}
	if n > 0 {
		s.dramBytes /= n
		s.flashBytes /= n
		s.energy /= n
	}
	if !s.decode && n > 0 {
		s.plotTokenNS = timeNS / n
	}
	if r.Energy != nil {
		s.totalEnergyPJ = r.Energy.TotalPJ
	}
	return s
}

// sweepKeys returns the swept keys of the results, in flag order.
func sweepKeys(res []*sim.Result) []string {
	var keys []string
	for _, r := range res {
		if len(r.Sweep) > len(keys) {
			keys = keys[:0]
			for _, v := range r.Sweep {
				keys = append(keys, v.Key)
			}
		}
	}
	return keys
}

func sweepValues(r *sim.Result, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "-"
		if i < len(r.Sweep) {
			out[i] = r.Sweep[i].Value
		}
	}
	return out
}

func fmtF(v float64, prec int) string { return strconv.FormatFloat(v, 'f', prec, 64) }

func writeSimSummary(w io.Writer, res []*sim.Result) error {
	keys := sweepKeys(res)
	head := append(append([]string{"SOC", "TRACE"}, keys...),
		"TTFT ms", "ms/token", "tokens/s", "decode DRAM GB/s", "DRAM MB/token", "flash MB/token", "mJ/token", "total mJ")
	t := newUnitTable(w, head...)
	for _, r := range res {
		s := summarize(r)
		row := append([]string{r.SoC, r.Trace}, sweepValues(r, len(keys))...)
		if !s.timed {
			row = append(row, "-", "-", "-", "-", "-", "-", "-", "-")
		} else {
			msPerToken, perS := "-", "-"
			if s.decode {
				msPerToken, perS = fmtF(s.tokenNS/1e6, 3), fmtF(s.tokensPerS, 2)
			}
			row = append(row, fmtF(s.ttftNS/1e6, 3), msPerToken, perS,
				fmtF(s.dramGBps, 2), fmtF(s.dramBytes/1e6, 2), fmtF(s.flashBytes/1e6, 2),
				fmtF(s.energy/1e9, 3), fmtF(s.totalEnergyPJ/1e9, 3))
		}
		t.Append(row)
	}
	return t.Render()
}

// summaryColumns are the CSV columns of the timing summary, units in
// their names.
var summaryColumns = []string{"ttft_ns", "token_ns", "tokens_per_s", "decode_dram_gbps", "dram_bytes_per_token", "flash_bytes_per_token", "energy_pj_per_token", "energy_pj"}

func summaryRow(r *sim.Result) []string {
	s := summarize(r)
	if !s.timed {
		return make([]string, len(summaryColumns))
	}
	tokenNS, perS := "", ""
	if s.decode {
		tokenNS, perS = csvF(s.tokenNS), csvF(s.tokensPerS)
	}
	return []string{csvF(s.ttftNS), tokenNS, perS, csvF(s.dramGBps), csvF(s.dramBytes), csvF(s.flashBytes), csvF(s.energy), csvF(s.totalEnergyPJ)}
}

// csvF formats every number of the CSV output: shortest decimal that
// reads back as the same float64, never an exponent.
func csvF(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// levelColumns are the CSV columns of one cache level.
var levelColumns = []string{
	"level", "instances", "accesses", "hits", "misses", "miss_rate",
	"read_misses", "write_misses", "evictions", "writebacks", "useless_bytes",
	"prefetcher", "prefetch_issued", "prefetch_dropped", "prefetch_hits", "prefetch_late",
	"prefetch_useless", "pollution_misses", "accuracy", "lateness", "coverage", "pollution",
}

// prefetchRatios returns a level's accuracy, lateness, coverage and
// pollution, nil where the JSON has null (pollution too when no prefetch
// filled the level: sim leaves it null then).
func prefetchRatios(l sim.LevelResult) (acc, late, cov, pol *float64) {
	p := l.Prefetch
	return p.Accuracy, p.Lateness, p.Coverage, p.Pollution
}

func levelRow(l sim.LevelResult) []string {
	u := func(v uint64) string { return strconv.FormatUint(v, 10) }
	f := func(v *float64) string {
		if v == nil {
			return ""
		}
		return csvF(*v)
	}
	p := l.Prefetch
	acc, late, cov, pol := prefetchRatios(l)
	return []string{
		l.Name, strconv.Itoa(l.Instances), u(l.Accesses), u(l.Hits), u(l.Misses), f(l.MissRate),
		u(l.ReadMisses), u(l.WriteMisses), u(l.Evictions), u(l.Writebacks), u(l.UselessBytes),
		p.Prefetcher, u(p.Issued), u(p.Dropped), u(p.Hits), u(p.Late),
		u(p.Useless), u(p.PollutionMisses), f(acc), f(late), f(cov), f(pol),
	}
}

// writeSimCSV prints one row per run and cache level: soc, trace, the
// swept values, the level's counters and, when any run has the timing
// model, the run's summary (repeated on each of its levels).
func writeSimCSV(w io.Writer, res []*sim.Result) error {
	keys := sweepKeys(res)
	timed := anyTimed(res)
	head := append(append([]string{"soc", "trace"}, keys...), levelColumns...)
	if timed {
		head = append(head, summaryColumns...)
	}
	cw := csv.NewWriter(w)
	cw.Write(head)
	for _, r := range res {
		run := append([]string{r.SoC, r.Trace}, sweepValues(r, len(keys))...)
		var summary []string
		if timed {
			summary = summaryRow(r)
		}
		for _, l := range r.Levels {
			row := append(append(append([]string(nil), run...), levelRow(l)...), summary...)
			cw.Write(row)
		}
	}
	cw.Flush()
	return cw.Error()
}

// writeSimTable prints one row per run and cache level, with a column
// per swept key.
func writeSimTable(w io.Writer, res []*sim.Result) error {
	keys := sweepKeys(res)
	head := append(append([]string{"SOC", "TRACE"}, keys...),
		"LEVEL", "ACCESSES", "MISSES", "MISS %", "WRITEBACKS", "PREFETCHER", "ISSUED", "ACCURACY %", "COVERAGE %", "POLLUTION %")
	t := newUnitTable(w, head...)
	pct := func(v *float64) string {
		if v == nil {
			return "-"
		}
		return fmtF(100**v, 2)
	}
	for _, r := range res {
		run := append([]string{r.SoC, r.Trace}, sweepValues(r, len(keys))...)
		for _, l := range r.Levels {
			p := l.Prefetch
			issued := "-"
			if p.Prefetcher != "none" {
				issued = strconv.FormatUint(p.Issued, 10)
			}
			acc, _, cov, pol := prefetchRatios(l)
			t.Append(append(append([]string(nil), run...), l.Name, strconv.FormatUint(l.Accesses, 10), strconv.FormatUint(l.Misses, 10),
				pct(l.MissRate), strconv.FormatUint(l.Writebacks, 10), p.Prefetcher, issued, pct(acc), pct(cov), pct(pol)))
		}
	}
	return t.Render()
}

// levelBytes lists a result's traffic columns: cache levels, dram, flash.
func levelBytes(r *sim.Result) []string {
	var n []string
	for _, l := range r.Levels {
		n = append(n, l.Name)
	}
	n = append(n, "dram")
	if r.Flash != nil {
		n = append(n, "flash")
	}
	return n
}

func fmtMB(b uint64) string { return fmtF(float64(b)/1e6, 3) }

func writeSimOps(w io.Writer, res []*sim.Result) error {
	for _, r := range res {
		if len(r.Ops) == 0 {
			continue
		}
		names := levelBytes(r)
		head := []string{"soc", "phase", "layer", "op", "count", "time ms", "compute ms", "flash stall ms", "GFLOP"}
		for _, n := range names {
			head = append(head, n+" MB")
		}
		head = append(head, "mJ")
		t := newUnitTable(w, head...)
		for _, o := range r.Ops {
			layer := strconv.Itoa(o.Layer)
			if o.Layer < 0 {
				layer = "-"
			}
			row := []string{r.SoC, o.Phase, layer, o.Op, strconv.Itoa(o.Count), fmtF(o.TimeNS/1e6, 3), fmtF(o.ComputeNS/1e6, 3), fmtF(o.FlashStallNS/1e6, 3), fmtF(o.FLOPs/1e9, 4)}
			for _, n := range names {
				row = append(row, fmtMB(o.Bytes[n]))
			}
			t.Append(append(row, fmtF(o.EnergyPJ/1e9, 3)))
		}
		if err := t.Render(); err != nil {
			return err
		}
	}
	return nil
}

func writeSimTokens(w io.Writer, res []*sim.Result) error {
	for _, r := range res {
		if len(r.Tokens) == 0 {
			continue
		}
		names := levelBytes(r)
		head := []string{"soc", "token", "phase", "time ms", "compute ms", "flash stall ms", "GFLOP"}
		for _, n := range names {
			head = append(head, n+" MB")
		}
		head = append(head, "mJ")
		t := newUnitTable(w, head...)
		for _, k := range r.Tokens {
			row := []string{r.SoC, strconv.FormatUint(uint64(k.Token), 10), k.Phase, fmtF(k.TimeNS/1e6, 3), fmtF(k.ComputeNS/1e6, 3), fmtF(k.FlashStallNS/1e6, 3), fmtF(k.FLOPs/1e9, 4)}
			for _, n := range names {
				row = append(row, fmtMB(k.Bytes[n]))
			}
			t.Append(append(row, fmtF(k.EnergyPJ/1e9, 3)))
		}
		if err := t.Render(); err != nil {
			return fmt.Errorf("sim: %w", err)
		}
	}
	return nil
}
