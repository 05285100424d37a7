package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/edgeprof/edgeprof/trace"
)

// writeTestTrace writes a 3-token trace of one layer whose FFN tensors
// (4 rows of 100 bytes each) are read row by row every token, plus one
// KV write per token.
func writeTestTrace(t *testing.T, path string) []trace.Event {
	t.Helper()
	h := trace.Header{EdgeprofVersion: "test", ModelName: "m", Tensors: []trace.TensorSym{
		{Name: "blk.0.ffn_gate.weight", Type: "Q8_0", Dims: []uint64{4, 4}, Offset: 1000, Size: 400},
		{Name: "blk.0.ffn_up.weight", Type: "Q8_0", Dims: []uint64{4, 4}, Offset: 1400, Size: 400},
		{Name: "blk.0.ffn_down.weight", Type: "Q8_0", Dims: []uint64{4, 4}, Offset: 1800, Size: 400},
	}}
	var events []trace.Event
	for tok := uint32(0); tok < 3; tok++ {
		ph := trace.Decode
		if tok == 0 {
			ph = trace.Prompt
		}
		for id, op := range []trace.Op{trace.OpFFNGate, trace.OpFFNUp, trace.OpFFNDown} {
			for r := uint32(0); r < 4; r++ {
				events = append(events, trace.Event{Token: tok, Phase: ph, Op: op, Tensor: uint16(id),
					Addr: h.Tensors[id].Offset + uint64(r)*100, Size: 100, NeuronLo: r, NeuronHi: r + 1})
			}
		}
		events = append(events, trace.Event{Token: tok, Phase: ph, Op: trace.OpKVWrite, Kind: trace.Write,
			Tensor: trace.NoTensor, Addr: trace.RegionKV + uint64(tok)*64, Size: 64})
	}
	w, err := trace.Create(path, h, trace.WriterOptions{BlockEvents: 5})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		w.Emit(e)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return events
}

func runCmd(t *testing.T, cmd *cobra.Command, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), errb.String(), err
}

func TestTraceStatJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.etr")
	writeTestTrace(t, path)
	out, _, err := runCmd(t, newTraceStatCmd(), path, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Events, Bytes, Tokens, UniqueLines, UniquePages uint64
		ByOp                                            map[string]struct{ Events, Bytes uint64 } `json:"by_op"`
		ByLayer                                         []struct {
			Layer    int
			Bytes    uint64
			FFNBytes uint64 `json:"ffn_bytes"`
		} `json:"by_layer"`
		ByToken []struct {
			Token    uint32
			Phase    string
			Bytes    uint64
			FFNBytes uint64 `json:"ffn_bytes"`
		} `json:"by_token"`
		Reuse *struct{ Cold uint64 } `json:"reuse_distance"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("stat --json output is not JSON: %v\n%s", err, out)
	}
	// unique_lines: rows cover [1000, 2200) = lines 15..34 (20 lines),
	// plus the KV line(s) 0..191 of RegionKV: 3 lines.
	if got.Events != 39 || got.Bytes != 3*1200+3*64 || got.Tokens != 3 {
		t.Errorf("events, bytes, tokens = %d, %d, %d, want 39, 3792, 3", got.Events, got.Bytes, got.Tokens)
	}
	var lines struct {
		UniqueLines uint64 `json:"unique_lines"`
		UniquePages uint64 `json:"unique_pages"`
	}
	json.Unmarshal([]byte(out), &lines)
	if lines.UniqueLines != 20+3 || lines.UniquePages != 1+1 {
		t.Errorf("unique lines, pages = %d, %d, want 23, 2", lines.UniqueLines, lines.UniquePages)
	}
	if c := got.ByOp["ffn_gate"]; c.Events != 12 || c.Bytes != 1200 {
		t.Errorf("by_op.ffn_gate = %+v, want 12 events, 1200 bytes", c)
	}
	if _, ok := got.ByOp["lm_head"]; !ok {
		t.Error("by_op has no lm_head key, want every op listed")
	}
	if len(got.ByLayer) != 1 || got.ByLayer[0].FFNBytes != 3600 {
		t.Errorf("by_layer = %+v, want one layer with 3600 ffn bytes", got.ByLayer)
	}
	for i, tk := range got.ByToken {
		want := "decode"
		if i == 0 {
			want = "prompt"
		}
		if tk.Token != uint32(i) || tk.FFNBytes != 1200 || tk.Phase != want {
			t.Errorf("by_token[%d] = %+v, want token %d, %s, 1200 ffn bytes", i, tk, i, want)
		}
	}
	if got.Reuse == nil || got.Reuse.Cold != 23 {
		t.Errorf("reuse_distance = %+v, want 23 cold accesses", got.Reuse)
	}
	// The human form prints the same totals.
	out, _, err = runCmd(t, newTraceStatCmd(), path)
	if err != nil || !strings.Contains(out, "3792") || !strings.Contains(out, "ffn_gate") {
		t.Errorf("stat (tables) = %v\n%s\nwant totals and the op table", err, out)
	}
}

func TestTraceCat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.etr")
	writeTestTrace(t, path)
	out, _, err := runCmd(t, newTraceCatCmd(), path, "--token", "2", "--limit", "2")
	if err != nil {
		t.Fatal(err)
	}
	want := "tok=2 decode t0 L0 ffn_gate read 0x3e8+100 blk.0.ffn_gate.weight+0x0 n[0,1)\n" +
		"tok=2 decode t0 L0 ffn_gate read 0x44c+100 blk.0.ffn_gate.weight+0x64 n[1,2)\n"
	if out != want {
		t.Errorf("cat --token 2 --limit 2 =\n%s\nwant\n%s", out, want)
	}
	out, _, err = runCmd(t, newTraceCatCmd(), path, "--token", "1")
	if n := strings.Count(out, "\n"); err != nil || n != 13 || !strings.Contains(out, "kv_write write 0x10000000040+64 kv+0x40") {
		t.Errorf("cat --token 1: %v, %d lines, want 13 ending with the KV write:\n%s", err, n, out)
	}
	out, _, err = runCmd(t, newTraceCatCmd(), path, "--limit", "1", "--json")
	var ev map[string]any
	if err != nil || json.Unmarshal([]byte(out), &ev) != nil || ev["tensor"] != "blk.0.ffn_gate.weight" || ev["neuron_hi"] != 1.0 {
		t.Errorf("cat --json = %v, %q, want one JSON event of blk.0.ffn_gate.weight", err, out)
	}
}

func TestTraceConvertAndTruncated(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "t.etr")
	events := writeTestTrace(t, path)
	din := filepath.Join(dir, "t.din")
	if _, _, err := runCmd(t, newTraceConvertCmd(), path, din); err != nil {
		t.Fatal(err)
	}
	text, _ := os.ReadFile(din)
	if lines := strings.Count(string(text), "\n"); lines != len(events) || !strings.HasPrefix(string(text), "0 3e8 100\n") {
		t.Errorf("din output: %d lines starting %q, want %d starting \"0 3e8 100\"", lines, string(text[:min(20, len(text))]), len(events))
	}
	back := filepath.Join(dir, "back.etr")
	out, _, err := runCmd(t, newTraceConvertCmd(), din, back, "--json")
	if err != nil || !strings.Contains(out, `"events": 39`) {
		t.Errorf("convert din → etr: %v\n%s", err, out)
	}

	// A truncated trace: stat works on the prefix and warns on stderr.
	data, _ := os.ReadFile(path)
	cut := filepath.Join(dir, "cut.etr")
	os.WriteFile(cut, data[:len(data)/2], 0o644)
	out, stderr, err := runCmd(t, newTraceStatCmd(), cut, "--json")
	if err != nil || !strings.Contains(stderr, "warning:") || !strings.Contains(out, `"warning"`) {
		t.Errorf("stat truncated: %v, stderr %q; want a warning and JSON", err, stderr)
	}
	if _, _, err := runCmd(t, newTraceConvertCmd(), cut, filepath.Join(dir, "cut.din")); err == nil {
		t.Error("convert truncated without --allow-truncated succeeded, want an error")
	}
}
