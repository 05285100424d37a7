package main

import (
	"fmt"
	"github.com/edgeprof/edgeprof/internal/atomicfile"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/edgeprof/edgeprof/engine"
	"github.com/edgeprof/edgeprof/engine/sample"
	"github.com/edgeprof/edgeprof/internal/filehash"
	"github.com/edgeprof/edgeprof/trace"
)

func init() { traceCmd.AddCommand(newTraceRecordCmd()) }

func newTraceRecordCmd() *cobra.Command {
	var modelPath, prompt, out string
	var n, threads, chunk int
	var temp, topP float32
	var topK int
	var seed uint32
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "record -o out.etr",
		Short: "Run the engine and record every weight, KV-cache and activation access as an .etr trace",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return fmt.Errorf("-o is required")
			}
			if err := checkGeneration("trace record", n, temp, topK, topP, threads); err != nil {
				return err
			}
			if err := atomicfile.Check(out); err != nil {
				return fmt.Errorf("trace record: -o: %w", err)
			}
			m, err := loadModel(modelPath)
			if err != nil {
				return err
			}
			defer m.Close()
			sum, err := filehash.Sum(m.Path)
			if err != nil {
				return err
			}
			h := m.TraceHeader()
			h.EdgeprofVersion = version
			h.ModelSHA256 = sum
			sopt := engine.Options{Threads: threads, TraceChunk: chunk}
			for k, v := range map[string]string{
				"sparsity":    "dense",
				"layout":      "native",
				"threads":     strconv.Itoa(max(1, threads)),
				"batch":       strconv.Itoa(engine.DefaultBatch),
				"kv_type":     "f16",
				"trace_chunk": strconv.Itoa(chunk),
				"prompt":      prompt,
				"n_predict":   strconv.Itoa(n),
				"temp":        strconv.FormatFloat(float64(temp), 'g', -1, 32),
				"top_k":       strconv.Itoa(topK),
				"top_p":       strconv.FormatFloat(float64(topP), 'g', -1, 32),
				"seed":        strconv.FormatUint(uint64(seed), 10),
			} {
				h.Settings[k] = v
			}
			w, err := trace.Create(out, h, trace.WriterOptions{})
			if err != nil {
				return err
			}
			defer w.Abort()
			sopt.Sink = w
			g, err := m.Generate(prompt, engine.GenerateOptions{
				Session: sopt, MaxTokens: n,
				Sample: sample.Params{Temp: temp, TopK: topK, TopP: topP, Seed: seed},
			})
			if err != nil {
				return err
			}
			events := w.Events()
			if err := w.Close(); err != nil {
				return err
			}
			res := struct {
				Path         string  `json:"path"`
				Events       uint64  `json:"events"`
				PromptTokens int     `json:"prompt_tokens"`
				Tokens       int     `json:"tokens"`
				Text         string  `json:"text"`
				TokensPerSec float64 `json:"tokens_per_second"`
			}{out, events, len(g.PromptTokens), len(g.Tokens), g.Text, g.TokensPerSecond()}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), res)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %d events, %d prompt + %d generated tokens (%.1f tokens/s while recording)\n",
				out, events, res.PromptTokens, res.Tokens, res.TokensPerSec)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&modelPath, "model", "", "GGUF model (default: stories260K, found or downloaded)")
	f.StringVarP(&prompt, "prompt", "p", "Once upon a time", "prompt text")
	f.IntVarP(&n, "n", "n", 16, "number of tokens to generate")
	f.StringVarP(&out, "output", "o", "", "trace file to write (.etr)")
	f.IntVarP(&threads, "threads", "t", 1, "worker threads (each thread's reads are tagged with its id)")
	f.IntVar(&chunk, "trace-chunk", 0, "largest run of a thread's consecutive weight rows per event, bytes (0 = 4096, -1 = one event per row)")
	f.Float32Var(&temp, "temp", 0, "temperature (0 = greedy, the default here so traces are reproducible)")
	f.IntVar(&topK, "top-k", 40, "top-k (0 = off)")
	f.Float32Var(&topP, "top-p", 0.95, "top-p (1 = off)")
	f.Uint32Var(&seed, "seed", 42, "random seed")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
