package main

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/edgeprof/edgeprof/engine"
)

type tensorRow struct {
	Name   string   `json:"name"`
	Type   string   `json:"type"`
	Shape  []uint64 `json:"shape"`
	Bytes  uint64   `json:"bytes"`
	Offset uint64   `json:"offset"`
}

type modelInfo struct {
	Path          string      `json:"path"`
	Name          string      `json:"name"`
	Architecture  string      `json:"architecture"`
	GGUFVersion   uint32      `json:"gguf_version"`
	FileBytes     uint64      `json:"file_bytes"`
	HParams       hparamsJSON `json:"hparams"`
	Params        uint64      `json:"params"`
	TensorBytes   uint64      `json:"tensor_bytes"`
	FFNParams     uint64      `json:"ffn_params"`
	FFNBytes      uint64      `json:"ffn_bytes"`
	FFNParamShare float64     `json:"ffn_param_share"`
	FFNByteShare  float64     `json:"ffn_byte_share"`
	Tensors       []tensorRow `json:"tensors"`
}

type hparamsJSON struct {
	ContextLength int     `json:"context_length"`
	Embedding     int     `json:"embedding_length"`
	Layers        int     `json:"block_count"`
	FeedForward   int     `json:"feed_forward_length"`
	Heads         int     `json:"head_count"`
	KVHeads       int     `json:"head_count_kv"`
	HeadDim       int     `json:"head_dim"`
	RopeDims      int     `json:"rope_dimension_count"`
	RopeFreqBase  float32 `json:"rope_freq_base"`
	RMSEps        float32 `json:"rms_norm_eps"`
	Vocab         int     `json:"vocab_size"`
}

func init() {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "info [MODEL]",
		Short: "Architecture, hyper-parameters, tensor table and FFN share of a GGUF model",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := ""
			if len(args) == 1 {
				path = args[0]
			}
			m, err := loadModel(path)
			if err != nil {
				return err
			}
			defer m.Close()
			info := describeModel(m)
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), info)
			}
			out := cmd.OutOrStdout()
			h := info.HParams
			fmt.Fprintf(out, "%s (%s), GGUF v%d, %d bytes\n", info.Name, info.Path, info.GGUFVersion, info.FileBytes)
			fmt.Fprintf(out, "arch %s: n_embd %d, n_layer %d, n_ff %d, n_head %d, n_head_kv %d, head_dim %d, rope dims %d base %g, rms eps %g, vocab %d, n_ctx_train %d\n",
				info.Architecture, h.Embedding, h.Layers, h.FeedForward, h.Heads, h.KVHeads, h.HeadDim, h.RopeDims, h.RopeFreqBase, h.RMSEps, h.Vocab, h.ContextLength)
			fmt.Fprintf(out, "params %d, tensor bytes %d; FFN: %.1f%% of params, %.1f%% of bytes\n",
				info.Params, info.TensorBytes, 100*info.FFNParamShare, 100*info.FFNByteShare)
			t := newTable(out, "name", "type", "shape", "bytes", "offset")
			for _, r := range info.Tensors {
				t.Append([]string{r.Name, r.Type, fmt.Sprint(r.Shape), strconv.FormatUint(r.Bytes, 10), strconv.FormatUint(r.Offset, 10)})
			}
			return t.Render()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	modelCmd.AddCommand(cmd)
}

func describeModel(m *engine.Model) modelInfo {
	c := m.Cfg
	st := m.Stats()
	info := modelInfo{
		Path: m.Path, Name: m.Name(), Architecture: c.Arch, GGUFVersion: m.File.Version, FileBytes: m.File.Size,
		HParams: hparamsJSON{c.CtxTrain, c.Embd, c.Layers, c.FF, c.Heads, c.KVHeads, c.HeadDim, c.Rot, c.RopeBase, c.RMSEps, c.Vocab},
		Params:  st.Params, TensorBytes: st.Bytes, FFNParams: st.FFNParams, FFNBytes: st.FFNBytes,
	}
	if st.Params > 0 {
		info.FFNParamShare = float64(st.FFNParams) / float64(st.Params)
		info.FFNByteShare = float64(st.FFNBytes) / float64(st.Bytes)
	}
	for _, t := range m.File.Tensors {
		info.Tensors = append(info.Tensors, tensorRow{t.Name, t.Type.String(), t.Dims, t.Size, t.FileOffset})
	}
	return info
}
