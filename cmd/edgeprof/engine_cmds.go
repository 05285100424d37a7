package main

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/edgeprof/edgeprof/engine"
	"github.com/edgeprof/edgeprof/engine/sample"
	"github.com/edgeprof/edgeprof/internal/atomicfile"
)

// loadModel resolves --model (or the default model) and loads it.
func loadModel(path string) (*engine.Model, error) {
	p, err := engine.ResolveModel(path, func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "edgeprof: "+format+"\n", args...)
	})
	if err != nil {
		return nil, err
	}
	return engine.Load(p)
}

func init() {
	rootCmd.AddCommand(newTokenizeCmd(), newGenerateCmd(), newLogitsCmd(), newPerplexityCmd())
}

func newTokenizeCmd() *cobra.Command {
	var modelPath, text string
	var asJSON, noBOS bool
	cmd := &cobra.Command{
		Use:   "tokenize --text S",
		Short: "Tokenize text as llama-tokenize does (BOS added when the model asks for it, special tokens parsed)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := loadModel(modelPath)
			if err != nil {
				return err
			}
			defer m.Close()
			ids := m.Tok.Encode(text, !noBOS, true)
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), struct {
					Tokens []int32 `json:"tokens"`
				}{ids})
			}
			t := newTable(cmd.OutOrStdout(), "id", "piece")
			for _, id := range ids {
				t.Append([]string{strconv.Itoa(int(id)), strconv.Quote(m.Tok.Piece(id, true))})
			}
			return t.Render()
		},
	}
	cmd.Flags().StringVar(&modelPath, "model", "", "GGUF model (default: stories260K, found or downloaded)")
	cmd.Flags().StringVar(&text, "text", "", "text to tokenize")
	cmd.Flags().BoolVar(&noBOS, "no-bos", false, "do not add BOS/EOS (llama.cpp's add_special=false)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print {\"tokens\":[...]}")
	return cmd
}

func newGenerateCmd() *cobra.Command {
	var modelPath, prompt string
	var n, threads, topK int
	var temp, topP float32
	var seed uint32
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "generate",
		Short: "Generate text from a prompt",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkGeneration("generate", n, temp, topK, topP, threads); err != nil {
				return err
			}
			m, err := loadModel(modelPath)
			if err != nil {
				return err
			}
			defer m.Close()
			opt := engine.GenerateOptions{
				Session:   engine.Options{Threads: threads},
				Sample:    sample.Params{Temp: temp, TopK: topK, TopP: topP, Seed: seed},
				MaxTokens: n,
			}
			out := cmd.OutOrStdout()
			// The prompt is echoed once the model accepted it, so that an
			// error does not follow it on the same line.
			echoed := false
			echo := func() {
				if !echoed {
					fmt.Fprint(out, prompt)
					echoed = true
				}
			}
			if !asJSON {
				opt.OnToken = func(_ int32, piece string) { echo(); fmt.Fprint(out, piece) }
			}
			g, err := m.Generate(prompt, opt)
			if echoed && err != nil {
				fmt.Fprintln(out)
			}
			if err != nil {
				return err
			}
			if !asJSON {
				echo()
			}
			if asJSON {
				return writeJSON(out, struct {
					PromptTokens    []int32 `json:"prompt_tokens"`
					Tokens          []int32 `json:"tokens"`
					Text            string  `json:"text"`
					TokensPerSecond float64 `json:"tokens_per_second"`
				}{g.PromptTokens, nonNil(g.Tokens), g.Text, g.TokensPerSecond()})
			}
			fmt.Fprintf(out, "\n")
			threadWord := "threads"
			if max(1, threads) == 1 {
				threadWord = "thread"
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%d prompt tokens, %d generated, %.1f tokens/s decode (%d %s)\n",
				len(g.PromptTokens), len(g.Tokens), g.TokensPerSecond(), max(1, threads), threadWord)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&modelPath, "model", "", "GGUF model (default: stories260K, found or downloaded)")
	f.StringVarP(&prompt, "prompt", "p", "Once upon a time", "prompt text")
	f.IntVarP(&n, "n", "n", 64, "number of tokens to generate")
	f.Float32Var(&temp, "temp", 0.8, "temperature (0 = greedy)")
	f.IntVar(&topK, "top-k", 40, "top-k (0 = off)")
	f.Float32Var(&topP, "top-p", 0.95, "top-p (1 = off)")
	f.Uint32Var(&seed, "seed", 42, "random seed")
	f.IntVarP(&threads, "threads", "t", 1, "worker threads")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func nonNil(x []int32) []int32 {
	if x == nil {
		return []int32{}
	}
	return x
}

func parseTokenList(s string) ([]int32, error) {
	var ids []int32
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			return nil, fmt.Errorf("--tokens %q: an empty entry; want ids separated by single commas", s)
		}
		v, err := strconv.ParseInt(f, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("--tokens: %q is not a token id", f)
		}
		ids = append(ids, int32(v))
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("--tokens: no token ids given")
	}
	return ids, nil
}

func newLogitsCmd() *cobra.Command {
	var modelPath, prompt, tokens, outPath string
	var threads int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "logits (--prompt P | --tokens 1,403,...)",
		Short: "Print the logits of the last position",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if (prompt == "") == (tokens == "") {
				return fmt.Errorf("give exactly one of --prompt and --tokens")
			}
			if err := checkThreads(threads); err != nil {
				return err
			}
			var ids []int32
			var err error
			if tokens != "" {
				if ids, err = parseTokenList(tokens); err != nil {
					return err
				}
			}
			m, err := loadModel(modelPath)
			if err != nil {
				return err
			}
			defer m.Close()
			if tokens == "" {
				ids = m.Tok.Encode(prompt, true, false)
			}
			s, err := m.NewSession(engine.Options{Threads: threads, Ctx: len(ids)})
			if err != nil {
				return err
			}
			defer s.Close()
			var logits []float32
			for i, id := range ids {
				if i < len(ids)-1 {
					err = s.EvalNoLogits(id)
				} else {
					logits, err = s.Eval(id)
				}
				if err != nil {
					return err
				}
			}
			if outPath != "" {
				buf := make([]byte, 4*len(logits))
				for i, v := range logits {
					binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
				}
				return atomicfile.WriteFile(outPath, buf)
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), struct {
					Logits []float32 `json:"logits"`
				}{logits})
			}
			for i, v := range logits {
				fmt.Fprintf(cmd.OutOrStdout(), "%d\t%.9g\n", i, v)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&modelPath, "model", "", "GGUF model (default: stories260K, found or downloaded)")
	f.StringVarP(&prompt, "prompt", "p", "", "prompt text (tokenized with BOS)")
	f.StringVar(&tokens, "tokens", "", "comma-separated token ids")
	f.StringVarP(&outPath, "output", "o", "", "write raw little-endian float32 logits to this file")
	f.IntVarP(&threads, "threads", "t", 1, "worker threads")
	f.BoolVar(&asJSON, "json", false, "print {\"logits\":[...]}")
	return cmd
}

func newPerplexityCmd() *cobra.Command {
	var modelPath, file string
	var ctx, chunks, threads int
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "ppl --file F",
		Aliases: []string{"perplexity"},
		Short:   "Perplexity of a text file, computed as llama.cpp's llama-perplexity does",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if file == "" {
				return fmt.Errorf("--file is required")
			}
			if ctx < 4 {
				return fmt.Errorf("ppl: --ctx %d: want a window of 4 tokens or more (llama-perplexity's default is 512)", ctx)
			}
			if chunks < 0 {
				return fmt.Errorf("ppl: --chunks %d: want 0 (all) or more", chunks)
			}
			if err := checkThreads(threads); err != nil {
				return err
			}
			text, err := os.ReadFile(file)
			if err != nil {
				return err
			}
			m, err := loadModel(modelPath)
			if err != nil {
				return err
			}
			defer m.Close()
			if ctx > m.Cfg.CtxTrain {
				// llama-perplexity runs on with the same warning.
				fmt.Fprintf(cmd.ErrOrStderr(), "edgeprof: warning: --ctx %d is beyond the %d tokens the model was trained on; expect a worse perplexity\n", ctx, m.Cfg.CtxTrain)
			}
			opt := engine.PerplexityOptions{Ctx: ctx, Chunks: chunks, Threads: threads}
			var bar *progressbar.ProgressBar
			if stderrIsTerminal() {
				opt.Progress = func(done, total int, running float64) {
					if bar == nil {
						bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(os.Stderr),
							progressbar.OptionSetDescription("perplexity"), progressbar.OptionShowCount())
					}
					bar.Describe(fmt.Sprintf("PPL %.4f", running))
					bar.Set(done)
				}
			}
			r, err := engine.Perplexity(m, text, opt)
			if bar != nil {
				bar.Finish()
				fmt.Fprintln(os.Stderr)
			}
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), struct {
					PPL          float64 `json:"ppl"`
					Stderr       float64 `json:"ppl_stderr"`
					Chunks       int     `json:"chunks"`
					Ctx          int     `json:"ctx"`
					TokensScored int     `json:"tokens_scored"`
				}{r.PPL, r.Stderr, r.Chunks, r.Ctx, r.TokensScored})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Final estimate: PPL = %.4f +/- %.5f (%d chunks of %d tokens, %d tokens scored)\n",
				r.PPL, r.Stderr, r.Chunks, r.Ctx, r.TokensScored)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&modelPath, "model", "", "GGUF model (default: stories260K, found or downloaded)")
	f.StringVarP(&file, "file", "f", "", "text file")
	f.IntVarP(&ctx, "ctx", "c", 512, "context window n_ctx (llama-perplexity -c)")
	f.IntVar(&chunks, "chunks", 0, "use at most this many chunks (0 = all)")
	f.IntVarP(&threads, "threads", "t", 1, "windows evaluated in parallel")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// checkGeneration checks the flags of a generating command (name, for
// messages): token count, sampling and threads.
func checkGeneration(name string, n int, temp float32, topK int, topP float32, threads int) error {
	if n < 0 {
		return fmt.Errorf("%s: -n %d: want 0 or more tokens", name, n)
	}
	if err := checkSampling(temp, topK, topP); err != nil {
		return err
	}
	return checkThreads(threads)
}

// checkSampling rejects sampling settings that have no meaning, which
// the sampler would otherwise treat as some default.
func checkSampling(temp float32, topK int, topP float32) error {
	switch {
	case !(temp >= 0) || math.IsInf(float64(temp), 0):
		return fmt.Errorf("--temp %v: want 0 (greedy) or a positive temperature", temp)
	case topK < 0:
		return fmt.Errorf("--top-k %d: want 0 (off) or more", topK)
	case !(topP >= 0 && topP <= 1):
		return fmt.Errorf("--top-p %v: want a probability in [0, 1] (1 = off)", topP)
	}
	return nil
}

// checkThreads rejects a thread count below one.
func checkThreads(n int) error {
	if n < 1 {
		return fmt.Errorf("--threads %d: want 1 or more", n)
	}
	return nil
}
