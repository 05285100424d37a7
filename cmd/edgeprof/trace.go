package main

import (
	"bufio"
	"errors"
	"fmt"
	"github.com/edgeprof/edgeprof/internal/atomicfile"
	"io"
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/edgeprof/edgeprof/trace"
)

// traceCmd groups the commands on memory-access traces. `trace record`
// attaches itself here once the engine emits events.
var traceCmd = &cobra.Command{
	Use:   "trace",
	Short: "Inspect and convert memory-access traces (.etr, DineroIV .din)",
}

func init() {
	rootCmd.AddCommand(traceCmd)
	traceCmd.AddCommand(newTraceStatCmd(), newTraceCatCmd(), newTraceConvertCmd())
}

// traceDinFlags are the din import options every trace command accepts.
type traceDinFlags struct {
	ifetch bool
	size   dinSize
}

func (d *traceDinFlags) register(cmd *cobra.Command) {
	d.size = 1
	cmd.Flags().BoolVar(&d.ifetch, "ifetch", false, "din input: keep instruction fetches (label 2) as reads (default: skip them)")
	cmd.Flags().Var(&d.size, "din-size", "din input: access size in bytes of records without a size field")
}

func (d *traceDinFlags) options() trace.DinOptions {
	return trace.DinOptions{IFetch: d.ifetch, DefaultSize: uint32(d.size)}
}

// dinSize is --din-size: 1 to 2^32-1 bytes (the reader would take 0 for
// its default, 1, which a user asking for 0 did not mean).
type dinSize uint32

func (s *dinSize) String() string { return strconv.FormatUint(uint64(*s), 10) }
func (s *dinSize) Type() string   { return "bytes" }
func (s *dinSize) Set(v string) error {
	n, err := strconv.ParseUint(v, 0, 32) // 0x40 too, as pflag's uint flags take
	if err != nil || n == 0 {
		return fmt.Errorf("want 1 to 4294967295 bytes")
	}
	*s = dinSize(n)
	return nil
}

func traceWarn(cmd *cobra.Command, err error) {
	if err != nil {
		fmt.Fprintln(cmd.ErrOrStderr(), "edgeprof: warning:", err)
	}
}

// JSON contract of `trace stat --json` (issue 3 item 5, plus more keys).
type (
	traceCountJSON struct {
		Events uint64 `json:"events"`
		Bytes  uint64 `json:"bytes"`
	}
	traceLayerJSON struct {
		Layer    int    `json:"layer"`
		Events   uint64 `json:"events"`
		Bytes    uint64 `json:"bytes"`
		FFNBytes uint64 `json:"ffn_bytes"`
	}
	traceTokenJSON struct {
		Token    uint32 `json:"token"`
		Phase    string `json:"phase"`
		Events   uint64 `json:"events"`
		Bytes    uint64 `json:"bytes"`
		FFNBytes uint64 `json:"ffn_bytes"`
	}
	traceTensorJSON struct {
		Tensor      int    `json:"tensor"`
		Name        string `json:"name"`
		Type        string `json:"type"`
		TensorBytes uint64 `json:"tensor_bytes"`
		Events      uint64 `json:"events"`
		Bytes       uint64 `json:"bytes"`
	}
	traceBucketJSON struct {
		Min   uint64 `json:"min"`
		Max   uint64 `json:"max"`
		Count uint64 `json:"count"`
	}
	traceReuseJSON struct {
		LineBytes int               `json:"line_bytes"`
		Accesses  uint64            `json:"accesses"`
		Cold      uint64            `json:"cold"`
		Buckets   []traceBucketJSON `json:"buckets"`
	}
	traceStatJSON struct {
		File                 string                    `json:"file"`
		Format               string                    `json:"format"`
		EdgeprofVersion      string                    `json:"edgeprof_version,omitempty"`
		Model                string                    `json:"model,omitempty"`
		ModelSHA256          string                    `json:"model_sha256,omitempty"`
		Settings             map[string]string         `json:"settings,omitempty"`
		Events               uint64                    `json:"events"`
		Bytes                uint64                    `json:"bytes"`
		Tokens               uint64                    `json:"tokens"`
		FileBytes            int64                     `json:"file_bytes"`
		BytesPerEventEncoded float64                   `json:"bytes_per_event_encoded"`
		UniqueLines          uint64                    `json:"unique_lines"`
		UniquePages          uint64                    `json:"unique_pages"`
		ByOp                 map[string]traceCountJSON `json:"by_op"`
		ByKind               map[string]traceCountJSON `json:"by_kind"`
		ByRegion             map[string]traceCountJSON `json:"by_region"`
		ByLayer              []traceLayerJSON          `json:"by_layer"`
		OutsideLayers        traceCountJSON            `json:"outside_layers"`
		ByToken              []traceTokenJSON          `json:"by_token"`
		ByTensor             []traceTensorJSON         `json:"by_tensor"`
		ReuseDistance        *traceReuseJSON           `json:"reuse_distance,omitempty"`
		Warning              string                    `json:"warning,omitempty"`
	}
)

func newTraceStatCmd() *cobra.Command {
	var (
		asJSON, noReuse bool
		din             traceDinFlags
	)
	cmd := &cobra.Command{
		Use:   "stat FILE",
		Short: "Summarize a trace: bytes, unique lines/pages, per op, layer and token, reuse distances",
		Long: `Summarize an .etr or .din trace: events and bytes; distinct 64-byte lines and
4 KiB pages touched; totals per op, kind, address region, layer, token and
tensor; and the LRU reuse-distance histogram of 64-byte line accesses (an event
spanning k lines is k accesses; the distance is the number of distinct other
lines touched since the line's previous access; buckets are powers of two).
bytes_per_event_encoded is the .etr block bytes (or the whole din file) per
event. A trace cut off mid-write is summarized up to the cut, with a warning.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := args[0]
			src, err := trace.OpenFile(path, din.options())
			if err != nil {
				return err
			}
			defer src.Close()
			var warning error
			format := "din"
			var encoded int64
			var fileBytes int64
			var openWarning error
			if r, ok := src.(*trace.Reader); ok {
				format = "etr"
				openWarning = r.Warning()
				encoded, fileBytes = r.Info().BlockBytes, r.Info().FileBytes
			} else if st, err := os.Stat(path); err == nil {
				encoded, fileBytes = st.Size(), st.Size()
			}
			sum, err := trace.Collect(src, trace.StatsOptions{NoReuse: noReuse})
			if errors.Is(err, trace.ErrTruncated) {
				// Says more than the open-time warning (how much is good).
				warning, err = err, nil
			} else {
				warning = openWarning
			}
			if err != nil {
				return err
			}
			traceWarn(cmd, warning)
			if d, ok := src.(*trace.DinReader); ok {
				traceWarn(cmd, traceDinSkipped(d.Stats(), din.ifetch))
			}
			out := traceStatResult(path, format, src.Header(), sum, fileBytes, encoded)
			if warning != nil {
				out.Warning = warning.Error()
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), out)
			}
			return printTraceStat(cmd.OutOrStdout(), out)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().BoolVar(&noReuse, "no-reuse", false, "skip the reuse-distance histogram (faster, less memory)")
	din.register(cmd)
	return cmd
}

// dinSkipped says which din records produced no event.
func traceDinSkipped(st trace.DinStats, ifetch bool) error {
	var msg string
	if st.IFetches > 0 && !ifetch {
		msg = fmt.Sprintf("%d instruction fetches skipped (use --ifetch to keep them as reads)", st.IFetches)
	}
	if st.Flushes > 0 {
		if msg != "" {
			msg += "; "
		}
		msg += fmt.Sprintf("%d flush records (label 4) ignored", st.Flushes)
	}
	if msg == "" {
		return nil
	}
	return errors.New("din: " + msg)
}

func traceStatResult(path, format string, h *trace.Header, s *trace.Summary, fileBytes, encoded int64) traceStatJSON {
	out := traceStatJSON{
		File: path, Format: format,
		EdgeprofVersion: h.EdgeprofVersion, Model: h.ModelName, ModelSHA256: h.ModelSHA256, Settings: h.Settings,
		Events: s.Events, Bytes: s.Bytes, Tokens: s.Tokens, FileBytes: fileBytes,
		UniqueLines: s.UniqueLines, UniquePages: s.UniquePages,
		ByOp: map[string]traceCountJSON{}, ByKind: map[string]traceCountJSON{}, ByRegion: map[string]traceCountJSON{},
		OutsideLayers: traceCountJSON(s.NoLayer),
		ByLayer:       []traceLayerJSON{}, ByToken: []traceTokenJSON{}, ByTensor: []traceTensorJSON{},
	}
	if s.Events > 0 {
		out.BytesPerEventEncoded = float64(encoded) / float64(s.Events)
	}
	for op := range trace.NumOps {
		out.ByOp[op.String()] = traceCountJSON(s.ByOp[op])
	}
	for k, c := range s.ByKind {
		out.ByKind[trace.Kind(k).String()] = traceCountJSON(c)
	}
	for r, c := range s.ByRegion {
		name := trace.Region(r).String()
		if trace.Region(r) == trace.RegionInvalid {
			if c.Events == 0 {
				continue
			}
			name = "above_regions"
		}
		out.ByRegion[name] = traceCountJSON(c)
	}
	for _, l := range s.ByLayer {
		out.ByLayer = append(out.ByLayer, traceLayerJSON{Layer: l.Layer, Events: l.Events, Bytes: l.Bytes, FFNBytes: l.FFNBytes})
	}
	for _, t := range s.ByToken {
		out.ByToken = append(out.ByToken, traceTokenJSON{Token: t.Token, Phase: t.Phase.String(), Events: t.Events, Bytes: t.Bytes, FFNBytes: t.FFNBytes})
	}
	for _, t := range s.ByTensor {
		tj := traceTensorJSON{Tensor: int(t.Tensor), Events: t.Events, Bytes: t.Bytes}
		if int(t.Tensor) < len(h.Tensors) {
			sym := h.Tensors[t.Tensor]
			tj.Name, tj.Type, tj.TensorBytes = sym.Name, sym.Type, sym.Size
		}
		out.ByTensor = append(out.ByTensor, tj)
	}
	if s.Reuse != nil {
		rj := &traceReuseJSON{LineBytes: trace.LineBytes, Accesses: s.Reuse.Accesses, Cold: s.Reuse.Cold, Buckets: []traceBucketJSON{}}
		for i, n := range s.Reuse.Buckets {
			lo, hi := trace.BucketRange(i)
			rj.Buckets = append(rj.Buckets, traceBucketJSON{Min: lo, Max: hi, Count: n})
		}
		out.ReuseDistance = rj
	}
	return out
}

func fmtU(v uint64) string { return strconv.FormatUint(v, 10) }

func printTraceStat(w io.Writer, s traceStatJSON) error {
	t := newTable(w)
	rows := [][]string{
		{"file", s.File},
		{"format", s.Format},
		{"model", s.Model},
		{"events", fmtU(s.Events)},
		{"bytes", fmtU(s.Bytes)},
		{"tokens", fmtU(s.Tokens)},
		{"file bytes", strconv.FormatInt(s.FileBytes, 10)},
		{"bytes/event encoded", strconv.FormatFloat(s.BytesPerEventEncoded, 'f', 3, 64)},
		{"unique 64 B lines", fmtU(s.UniqueLines)},
		{"unique 4 KiB pages", fmtU(s.UniquePages)},
	}
	if s.Model == "" {
		rows = append(rows[:2], rows[3:]...)
	}
	for _, r := range rows {
		t.Append(r)
	}
	if err := t.Render(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	t = newTable(w, "op", "events", "bytes")
	for op := range trace.NumOps {
		if c := s.ByOp[op.String()]; c.Events > 0 {
			t.Append([]string{op.String(), fmtU(c.Events), fmtU(c.Bytes)})
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	if len(s.ByLayer) > 0 {
		fmt.Fprintln(w)
		t = newTable(w, "layer", "events", "bytes", "ffn bytes")
		for _, l := range s.ByLayer {
			t.Append([]string{strconv.Itoa(l.Layer), fmtU(l.Events), fmtU(l.Bytes), fmtU(l.FFNBytes)})
		}
		t.Append([]string{"outside", fmtU(s.OutsideLayers.Events), fmtU(s.OutsideLayers.Bytes), ""})
		if err := t.Render(); err != nil {
			return err
		}
	}
	fmt.Fprintln(w)
	t = newTable(w, "token", "phase", "events", "bytes", "ffn bytes")
	for _, k := range s.ByToken {
		t.Append([]string{strconv.FormatUint(uint64(k.Token), 10), k.Phase, fmtU(k.Events), fmtU(k.Bytes), fmtU(k.FFNBytes)})
	}
	if err := t.Render(); err != nil {
		return err
	}
	if r := s.ReuseDistance; r != nil {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "LRU reuse distance of 64 B line accesses (distinct lines touched in between):")
		t = newTable(w, "distance", "accesses", "share")
		share := func(n uint64) string {
			if r.Accesses == 0 {
				return "-"
			}
			return strconv.FormatFloat(100*float64(n)/float64(r.Accesses), 'f', 2, 64) + "%"
		}
		t.Append([]string{"cold (first touch)", fmtU(r.Cold), share(r.Cold)})
		for _, b := range r.Buckets {
			label := fmtU(b.Min)
			if b.Max != b.Min {
				label += "-" + fmtU(b.Max)
			}
			t.Append([]string{label, fmtU(b.Count), share(b.Count)})
		}
		if err := t.Render(); err != nil {
			return err
		}
	}
	return nil
}

func newTraceCatCmd() *cobra.Command {
	var (
		token  uint32
		limit  uint64
		asJSON bool
		din    traceDinFlags
	)
	cmd := &cobra.Command{
		Use:   "cat FILE",
		Short: "Print a trace's events, one line each",
		Long: `Print the events of an .etr or .din trace, one line each:

  tok=3 decode t1 L2 ffn_gate read 0xd3a10+306 blk.2.ffn_gate.weight+0x4c8 n[4,5)

token, phase, thread, layer (- outside the blocks), op, kind, address+size,
the tensor (or address region) with the offset inside it, and the FFN neuron
range when the event has one. --token N prints only token N's events (using
the trace's index to start there); --limit K stops after K lines. --json
prints one JSON object per line.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, err := trace.OpenFile(args[0], din.options())
			if err != nil {
				return err
			}
			defer src.Close()
			onlyToken := cmd.Flags().Changed("token")
			sorted := false
			var openWarning error
			if r, ok := src.(*trace.Reader); ok {
				openWarning = r.Warning()
				sorted = r.Info().TokensSorted
				if onlyToken {
					if err := r.SeekToken(token); err != nil {
						return err
					}
				}
			}
			bw := bufio.NewWriterSize(cmd.OutOrStdout(), 64<<10)
			h := src.Header()
			buf := make([]trace.Event, 1024)
			var printed uint64
			line := make([]byte, 0, 256)
		loop:
			for limit == 0 || printed < limit {
				n, err := src.Next(buf)
				for _, e := range buf[:n] {
					if onlyToken && e.Token != token {
						if sorted && e.Token > token {
							break loop
						}
						continue
					}
					if asJSON {
						line = appendTraceJSON(line[:0], h, e)
					} else {
						line = appendTraceLine(line[:0], h, e)
					}
					if _, err := bw.Write(line); err != nil {
						return err
					}
					printed++
					if limit > 0 && printed >= limit {
						break loop
					}
				}
				if err == io.EOF {
					traceWarn(cmd, openWarning)
					break
				}
				if errors.Is(err, trace.ErrTruncated) {
					bw.Flush()
					traceWarn(cmd, err)
					break
				}
				if err != nil {
					bw.Flush()
					return err
				}
			}
			if d, ok := src.(*trace.DinReader); ok {
				defer traceWarn(cmd, traceDinSkipped(d.Stats(), din.ifetch))
			}
			if onlyToken && printed == 0 {
				// An empty answer should not look like a broken command.
				defer traceWarn(cmd, fmt.Errorf("%s has no events of token %d", args[0], token))
			}
			return bw.Flush()
		},
	}
	cmd.Flags().Uint32Var(&token, "token", 0, "print only the events of this token")
	cmd.Flags().Uint64Var(&limit, "limit", 0, "print at most this many events (0: all)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object per event")
	din.register(cmd)
	return cmd
}

// where names the tensor (or region) an event touches and the offset in it.
func traceWhere(h *trace.Header, e trace.Event) (string, uint64) {
	if int(e.Tensor) < len(h.Tensors) {
		sym := h.Tensors[e.Tensor]
		return sym.Name, e.Addr - sym.Offset
	}
	r := trace.RegionOf(e.Addr)
	switch r {
	case trace.RegionModelFile:
		return "model", e.Addr
	case trace.RegionKVCache:
		return "kv", e.Addr - trace.RegionKV
	case trace.RegionActivations:
		return "activation", e.Addr - trace.RegionActivation
	case trace.RegionPredictorWeights:
		return "predictor", e.Addr - trace.RegionPredictor
	}
	return "", 0
}

func appendTraceLine(b []byte, h *trace.Header, e trace.Event) []byte {
	b = append(b, "tok="...)
	b = strconv.AppendUint(b, uint64(e.Token), 10)
	b = append(b, ' ')
	b = append(b, e.Phase.String()...)
	b = append(b, " t"...)
	b = strconv.AppendUint(b, uint64(e.Thread), 10)
	b = append(b, " L"...)
	if e.Layer < 0 {
		b = append(b, '-')
	} else {
		b = strconv.AppendInt(b, int64(e.Layer), 10)
	}
	b = append(b, ' ')
	b = append(b, e.Op.String()...)
	b = append(b, ' ')
	b = append(b, e.Kind.String()...)
	b = append(b, " 0x"...)
	b = strconv.AppendUint(b, e.Addr, 16)
	b = append(b, '+')
	b = strconv.AppendUint(b, uint64(e.Size), 10)
	if name, off := traceWhere(h, e); name != "" {
		b = append(b, ' ')
		b = append(b, name...)
		b = append(b, "+0x"...)
		b = strconv.AppendUint(b, off, 16)
	}
	if e.HasNeurons() {
		b = append(b, " n["...)
		b = strconv.AppendUint(b, uint64(e.NeuronLo), 10)
		b = append(b, ',')
		b = strconv.AppendUint(b, uint64(e.NeuronHi), 10)
		b = append(b, ')')
	}
	return append(b, '\n')
}

// appendTraceJSON writes one JSON object; keys: token, phase, thread,
// layer (-1 outside the blocks), op, kind, addr, size, tensor (name,
// omitted for none), neuron_lo/neuron_hi (omitted without a range).
func appendTraceJSON(b []byte, h *trace.Header, e trace.Event) []byte {
	b = append(b, `{"token":`...)
	b = strconv.AppendUint(b, uint64(e.Token), 10)
	b = append(b, `,"phase":"`...)
	b = append(b, e.Phase.String()...)
	b = append(b, `","thread":`...)
	b = strconv.AppendUint(b, uint64(e.Thread), 10)
	b = append(b, `,"layer":`...)
	b = strconv.AppendInt(b, int64(e.Layer), 10)
	b = append(b, `,"op":"`...)
	b = append(b, e.Op.String()...)
	b = append(b, `","kind":"`...)
	b = append(b, e.Kind.String()...)
	b = append(b, `","addr":`...)
	b = strconv.AppendUint(b, e.Addr, 10)
	b = append(b, `,"size":`...)
	b = strconv.AppendUint(b, uint64(e.Size), 10)
	if int(e.Tensor) < len(h.Tensors) {
		b = append(b, `,"tensor":`...)
		b = strconv.AppendQuote(b, h.Tensors[e.Tensor].Name)
	}
	if e.HasNeurons() {
		b = append(b, `,"neuron_lo":`...)
		b = strconv.AppendUint(b, uint64(e.NeuronLo), 10)
		b = append(b, `,"neuron_hi":`...)
		b = strconv.AppendUint(b, uint64(e.NeuronHi), 10)
	}
	return append(b, "}\n"...)
}

type traceConvertJSON struct {
	In       string        `json:"in"`
	Out      string        `json:"out"`
	Events   uint64        `json:"events"`
	Din      *traceDinJSON `json:"din,omitempty"`
	Warnings []string      `json:"warnings,omitempty"`
}

// traceDinJSON is what the din reader counted, by record label.
type traceDinJSON struct {
	Lines    uint64 `json:"lines"`
	Reads    uint64 `json:"reads"`
	Writes   uint64 `json:"writes"`
	IFetches uint64 `json:"ifetches"`
	Misc     uint64 `json:"misc"`
	Flushes  uint64 `json:"flushes"`
	Events   uint64 `json:"events"`
}

func newTraceConvertCmd() *cobra.Command {
	var (
		asJSON, allowTruncated bool
		din                    traceDinFlags
	)
	cmd := &cobra.Command{
		Use:   "convert IN OUT",
		Short: "Convert between .etr and DineroIV .din traces (by extension)",
		Long: `Convert a trace between .etr and DineroIV din text, chosen by the file
extensions (.etr, .din; etr to etr re-encodes). din output has one line
"label address size" per event: label 0 for reads and prefetches, 1 for writes,
the address in hex without 0x, the size in decimal; the engine fields (token,
layer, op, tensor, thread, neurons) are dropped. din input becomes events of
op "other" with no tensor, layer or token (an .etr with an empty symbol
table); instruction fetches are skipped unless --ifetch, flush records (label
4) are ignored. The output appears only when the conversion succeeded. A
truncated .etr input is an error unless --allow-truncated.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := atomicfile.Check(args[1]); err != nil {
				return fmt.Errorf("trace convert: %w", err)
			}
			res, err := trace.ConvertFile(args[0], args[1], trace.ConvertOptions{
				Din: din.options(), EdgeprofVersion: version, AllowTruncated: allowTruncated,
			})
			if err != nil {
				return err
			}
			out := traceConvertJSON{In: args[0], Out: args[1], Events: res.Events}
			if res.Din != nil {
				d := traceDinJSON(*res.Din)
				out.Din = &d
			}
			for _, w := range []error{res.Warning, traceDinSkippedPtr(res.Din, din.ifetch)} {
				if w != nil {
					out.Warnings = append(out.Warnings, w.Error())
					if !asJSON {
						traceWarn(cmd, w)
					}
				}
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), out)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "converted %s to %s: %d events\n", args[0], args[1], res.Events)
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	cmd.Flags().BoolVar(&allowTruncated, "allow-truncated", false, "convert the good prefix of a truncated .etr input")
	din.register(cmd)
	return cmd
}

func traceDinSkippedPtr(st *trace.DinStats, ifetch bool) error {
	if st == nil {
		return nil
	}
	return traceDinSkipped(*st, ifetch)
}
