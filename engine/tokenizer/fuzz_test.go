package tokenizer

import (
	"bytes"
	"encoding/binary"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/edgeprof/edgeprof/engine/gguf"
	"github.com/edgeprof/edgeprof/internal/sharedtest"
)

// fuzzVocab is tinyVocab plus tokens that join across a "▁" (so the
// segmenting in spm is exercised against the naive merge loop).
func fuzzVocab() Vocab {
	v := tinyVocab()
	for _, s := range []string{"c▁", "c▁a", "▁▁▁", "€▁", "\xf0▁"} {
		v.Tokens = append(v.Tokens, s)
		v.Scores = append(v.Scores, -float32(len(s)))
		v.Types = append(v.Types, TypeNormal)
	}
	return v
}

var fuzzTokenizers = sync.OnceValue(func() []*Tokenizer {
	tiny, err := New(fuzzVocab())
	if err != nil {
		panic(err)
	}
	toks := []*Tokenizer{tiny}
	// The real LLaMA vocabulary when ../shared has it; fuzzing must not
	// depend on it.
	if d := sharedtest.Dir(); d != "" {
		if f, err := gguf.Open(filepath.Join(d, "data/tokenizer/ggml-vocab-llama-spm.gguf")); err == nil {
			if t, err := FromGGUF(f); err == nil {
				toks = append(toks, t)
			}
			f.Close()
		}
	}
	return toks
})

// FuzzEncode checks that Encode never panics and yields valid ids, that
// the segmented heap merge equals the naive O(n²) merge loop, and that
// Decode(Encode(s)) == s where that holds: s is valid UTF-8 (a stray lead
// byte swallows the escaped space after it, which then decodes as "▁" —
// llama.cpp does the same), has no "▁" (it decodes to a space) and no
// user-defined or special token text (those get a space prefix after
// them).
func FuzzEncode(f *testing.F) {
	for _, s := range []string{"", " ", "abc", "a bc  c a", "Hello world", "<s>a</s>", "a<|u|>b", "€ x",
		"\xf0 a", "\xe2\x96", "▁▁ x", "c  a", strings.Repeat("ab ", 50), "\x00\xff\n\t"} {
		f.Add(s, true, false)
		f.Add(s, false, true)
	}
	f.Fuzz(func(t *testing.T, s string, addSpecial, parseSpecial bool) {
		for _, tok := range fuzzTokenizers() {
			ids := tok.Encode(s, addSpecial, parseSpecial)
			for _, id := range ids {
				if id < 0 || int(id) >= tok.NumTokens() {
					t.Fatalf("Encode(%q) produced id %d of %d", s, id, tok.NumTokens())
				}
			}
			_ = tok.Decode(ids, addSpecial, parseSpecial)

			if len(s) <= 300 { // the naive loop is O(n²)
				esc := tok.escape(nil, s, true)
				if got, want := tok.spm(esc, nil), naiveSPM(tok, esc); !slices.Equal(got, want) {
					t.Fatalf("spm(%q) = %v, naive reference %v", esc, got, want)
				}
			}

			if !utf8.ValidString(s) || strings.Contains(s, "▁") || slices.ContainsFunc(tok.specials, func(id int32) bool {
				return strings.Contains(s, tok.tokens[id].text)
			}) {
				continue
			}
			if got := tok.Decode(tok.Encode(s, false, false), false, false); got != s {
				t.Fatalf("Decode(Encode(%q)) = %q", s, got)
			}
		}
	})
}

// FuzzDecode feeds arbitrary ids (valid or not) to Decode and Piece.
func FuzzDecode(f *testing.F) {
	f.Add([]byte{1, 0, 0, 0, 0x0f, 0x3b, 0, 0}, true, true)
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0}, false, false)
	f.Fuzz(func(t *testing.T, b []byte, removeSpecial, unparseSpecial bool) {
		ids := make([]int32, len(b)/4)
		for i := range ids {
			ids[i] = int32(binary.LittleEndian.Uint32(b[4*i:]))
		}
		for _, tok := range fuzzTokenizers() {
			want := ""
			for i, id := range ids {
				if i == 0 && removeSpecial && tok.AddBOS() && id == tok.BOS() {
					continue
				}
				want += tok.Piece(id, unparseSpecial)
			}
			got := tok.Decode(ids, removeSpecial, unparseSpecial)
			// Decode only ever removes one leading space and a trailing EOS.
			if len(got) > len(want) || !strings.Contains(want, strings.TrimPrefix(got, " ")) {
				t.Fatalf("Decode(%v) = %q, pieces %q", ids, got, want)
			}
		}
	})
}

// FuzzFromGGUF loads the tokenizer from arbitrary GGUF bytes: bad metadata
// must be an error, never a panic, and a loaded tokenizer must work.
func FuzzFromGGUF(f *testing.F) {
	v := fuzzVocab()
	for _, kv := range [][][2]any{
		{{keyModel, "llama"}, {keyTokens, v.Tokens}, {keyScores, v.Scores}, {keyTypes, v.Types}, {keyBOS, uint32(1)}, {keyAddSpace, false}},
		{{keyModel, "llama"}, {keyTokens, []string{"a", "", "<0x41>", "<s>"}}, {keyTypes, []int32{1, 3, 6, 4}}, {keyEOT, uint32(3)}},
		{{keyModel, "gpt2"}, {keyTokens, []string{"a"}}},
	} {
		var buf bytes.Buffer
		w := gguf.NewWriter(&buf)
		for _, p := range kv {
			if err := w.Add(p[0].(string), p[1]); err != nil {
				f.Fatal(err)
			}
		}
		if err := w.WriteHeader(); err != nil {
			f.Fatal(err)
		}
		if err := w.Close(); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	// stories260K's real metadata, without its tensors.
	if d := sharedtest.Dir(); d != "" {
		if src, err := gguf.Open(filepath.Join(d, "models/stories260K.gguf")); err == nil {
			var buf bytes.Buffer
			w := gguf.NewWriter(&buf)
			for _, kv := range src.KV {
				if err := w.AddKV(kv.Key, kv.Value); err != nil {
					f.Fatal(err)
				}
			}
			if err := w.WriteHeader(); err != nil {
				f.Fatal(err)
			}
			if err := w.Close(); err != nil {
				f.Fatal(err)
			}
			f.Add(buf.Bytes())
			src.Close()
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		gf, err := gguf.Parse(b)
		if err != nil {
			return
		}
		tok, err := FromGGUF(gf)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		for _, id := range tok.Encode("Hello <s> wörld\x80", true, true) {
			if id < 0 || int(id) >= tok.NumTokens() {
				t.Fatalf("Encode produced id %d of %d", id, tok.NumTokens())
			}
		}
		_ = tok.Decode([]int32{-1, 0, 1, int32(tok.NumTokens())}, true, true)
	})
}
