package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/edgeprof/edgeprof/engine/gguf"
	"github.com/edgeprof/edgeprof/engine/synth"
	"github.com/edgeprof/edgeprof/internal/atomicfile"
)

// synthResult is the JSON contract of `model synth --json`.
type synthResult struct {
	Path    string `json:"path"`
	Bytes   int64  `json:"bytes"`
	Tensors int    `json:"tensors"`
	Params  uint64 `json:"params"`
	SHA256  string `json:"sha256"`
	Name    string `json:"name"`
	Type    string `json:"type"`
	Seed    uint64 `json:"seed"`
	Format  string `json:"format"`
}

func init() {
	var (
		shape, out, typ string
		seed            uint64
		asJSON          bool
		dims            synth.Shape
	)
	cmd := &cobra.Command{
		Use:         "synth --shape NAME -o out.gguf",
		Annotations: map[string]string{gracefulStop: "yes"},
		Short:       "Write a random-weight GGUF model of a real shape",
		Long: `Write a LLaMA-architecture GGUF model with seeded random weights and a working
tokenizer (stories260K's vocabulary), loadable by edgeprof and llama.cpp.

Named shapes: ` + strings.Join(synth.ShapeNames(), ", ") + `. Explicit dimension flags
override a named shape's, or define the whole shape with --shape custom (or no
--shape): then --dim, --ffn, --layers, --heads, --vocab and --ctx are required
and --kv-heads defaults to --heads.

Values follow facts/shapes.md's "synth-gguf-v1" definition: with seed 1, F32 and
F16 files are bit-identical to the reference files llama.cpp was measured on.
q8_0/q4_0 quantize every matrix (norms stay F32). The file appears only when
complete; an error or Ctrl-C leaves nothing behind.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := resolveShape(cmd, shape, dims)
			if err != nil {
				return err
			}
			t, err := parseSynthType(typ)
			if err != nil {
				return err
			}
			g, err := synth.New(synth.Config{Shape: s, Type: t, Seed: seed})
			if err != nil {
				return err
			}
			if err := atomicfile.Check(out); err != nil {
				return fmt.Errorf("model synth: -o: %w", err)
			}
			// A typo in a dimension can ask for petabytes: refuse what the
			// disk cannot hold before writing any of it.
			if free := freeBytes(filepath.Dir(out)); free >= 0 && g.Size() > free {
				return fmt.Errorf("model synth: the model is %d bytes (%.1f GB), but %s has %d bytes free", g.Size(), float64(g.Size())/1e9, filepath.Dir(out), free)
			}
			ctx, stop := notifyStop(cmd.Context())
			defer stop()
			res, err := writeSynth(ctx, g, out, stderrIsTerminal())
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), res)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "wrote %s: %s %s seed %d, %d tensors, %d params, %d bytes, sha256 %s\n",
				res.Path, res.Name, res.Type, res.Seed, res.Tensors, res.Params, res.Bytes, res.SHA256)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&shape, "shape", "", "named shape ("+strings.Join(synth.ShapeNames(), ", ")+") or custom")
	f.StringVarP(&out, "output", "o", "", "output file (required)")
	f.StringVar(&typ, "type", "f32", "matrix type: "+strings.ToLower(typeList()))
	f.Uint64Var(&seed, "seed", 1, "value seed (the reference files use 1)")
	f.IntVar(&dims.Dim, "dim", 0, "embedding width (n_embd)")
	f.IntVar(&dims.FFN, "ffn", 0, "feed-forward width (n_ff)")
	f.IntVar(&dims.Layers, "layers", 0, "number of layers")
	f.IntVar(&dims.Heads, "heads", 0, "attention heads")
	f.IntVar(&dims.KVHeads, "kv-heads", 0, "key/value heads (default: --heads)")
	f.IntVar(&dims.Vocab, "vocab", 0, fmt.Sprintf("vocabulary size (at least %d)", synth.MinVocab))
	f.IntVar(&dims.Context, "ctx", 0, "training context length in tokens")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON")
	_ = cmd.MarkFlagRequired("output")
	modelCmd.AddCommand(cmd)
}

func typeList() string {
	var names []string
	for _, t := range synth.SupportedTypes() {
		names = append(names, t.String())
	}
	return strings.Join(names, "|")
}

func parseSynthType(name string) (gguf.Type, error) {
	t, err := gguf.ParseType(name)
	if err == nil {
		for _, ok := range synth.SupportedTypes() {
			if t == ok {
				return t, nil
			}
		}
	}
	return 0, fmt.Errorf("--type %q: want one of %s", name, strings.ToLower(typeList()))
}

// resolveShape starts from the named shape (or nothing for custom) and
// applies the dimension flags the user set.
func resolveShape(cmd *cobra.Command, name string, dims synth.Shape) (synth.Shape, error) {
	set := func(flag string) bool { return cmd.Flags().Changed(flag) }
	overrides := []struct {
		flag string
		dst  func(*synth.Shape) *int
		v    int
	}{
		{"dim", func(s *synth.Shape) *int { return &s.Dim }, dims.Dim},
		{"ffn", func(s *synth.Shape) *int { return &s.FFN }, dims.FFN},
		{"layers", func(s *synth.Shape) *int { return &s.Layers }, dims.Layers},
		{"heads", func(s *synth.Shape) *int { return &s.Heads }, dims.Heads},
		{"kv-heads", func(s *synth.Shape) *int { return &s.KVHeads }, dims.KVHeads},
		{"vocab", func(s *synth.Shape) *int { return &s.Vocab }, dims.Vocab},
		{"ctx", func(s *synth.Shape) *int { return &s.Context }, dims.Context},
	}
	var s synth.Shape
	custom := name == "" || name == "custom"
	if !custom {
		var err error
		if s, err = synth.LookupShape(name); err != nil {
			return s, fmt.Errorf("--shape: %w", err)
		}
	}
	changed := false
	var missing []string
	for _, o := range overrides {
		switch {
		case set(o.flag):
			*o.dst(&s) = o.v
			changed = true
		case custom && o.flag == "kv-heads":
			s.KVHeads = s.Heads
		case custom:
			missing = append(missing, "--"+o.flag)
		}
	}
	if custom && len(missing) > 0 {
		return s, fmt.Errorf("a custom shape needs %s (or --shape with one of %s)", strings.Join(missing, ", "), strings.Join(synth.ShapeNames(), ", "))
	}
	if custom && s.KVHeads == 0 {
		s.KVHeads = s.Heads
	}
	if changed || custom {
		s.Name = s.CustomName()
	}
	return s, nil
}

// writeSynth writes the model atomically to path, hashing it on the way.
func writeSynth(ctx context.Context, g *synth.Generator, path string, bar bool) (*synthResult, error) {
	f, err := atomicfile.Create(path)
	if err != nil {
		return nil, err
	}
	defer f.Abort()
	h := sha256.New()
	var progress synth.Progress
	if bar {
		pb := progressbar.NewOptions64(g.Size(), progressbar.OptionSetWriter(os.Stderr),
			progressbar.OptionSetDescription("writing "+path), progressbar.OptionShowBytes(true),
			progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
		defer pb.Exit()
		progress = func(done, _ int64) { _ = pb.Set64(done) }
	}
	n, err := g.Write(ctx, io.MultiWriter(f, h), progress)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("write %s: interrupted, nothing written", path)
		}
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Commit(); err != nil {
		return nil, err
	}
	cfg := g.Config()
	return &synthResult{
		Path: path, Bytes: n, Tensors: len(g.Tensors()), Params: g.Params(),
		SHA256: hex.EncodeToString(h.Sum(nil)), Name: cfg.Shape.Name, Type: cfg.Type.String(),
		Seed: cfg.Seed, Format: synth.Version,
	}, nil
}
