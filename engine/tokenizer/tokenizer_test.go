package tokenizer

import (
	"bytes"
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/edgeprof/edgeprof/engine/gguf"
	"github.com/edgeprof/edgeprof/internal/sharedtest"
)

// llamaSPM loads llama.cpp's LLaMA-2 test vocabulary (32000 tokens).
func llamaSPM(tb testing.TB) *Tokenizer {
	tb.Helper()
	return loadGGUF(tb, sharedtest.File(tb, "data/tokenizer/ggml-vocab-llama-spm.gguf"))
}

func stories(tb testing.TB) *Tokenizer {
	tb.Helper()
	return loadGGUF(tb, sharedtest.Model(tb, "stories260K.gguf"))
}

func loadGGUF(tb testing.TB, path string) *Tokenizer {
	tb.Helper()
	f, err := gguf.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	t, err := FromGGUF(f)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

// readVectors parses llama.cpp's .inp/.out pair the way
// tests/test-tokenizer-0.cpp does: inputs separated by
// "\n__ggml_vocab_test__\n", one line of space-separated ids per input.
func readVectors(t *testing.T, base string) (inputs []string, want [][]int32) {
	t.Helper()
	inp, err := os.ReadFile(base + ".inp")
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.ReadFile(base + ".out")
	if err != nil {
		t.Fatal(err)
	}
	const sep = "\n__ggml_vocab_test__\n"
	raw := string(inp)
	for pos := 0; pos < len(raw); {
		next := strings.Index(raw[pos:], sep)
		if next < 0 {
			inputs = append(inputs, raw[pos:])
			break
		}
		inputs = append(inputs, raw[pos:pos+next])
		pos += next + len(sep)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	for _, line := range lines {
		var ids []int32
		for _, f := range strings.Fields(line) {
			v, err := strconv.Atoi(f)
			if err != nil {
				t.Fatalf("%s.out: %v", base, err)
			}
			ids = append(ids, int32(v))
		}
		want = append(want, ids)
	}
	if len(inputs) != len(want) {
		t.Fatalf("%s: %d inputs but %d outputs", base, len(inputs), len(want))
	}
	return inputs, want
}

// TestLlamaCppVectors runs llama.cpp's own tokenizer test vectors
// (test-tokenizer-0: add_special=false, parse_special=false).
func TestLlamaCppVectors(t *testing.T) {
	path := sharedtest.File(t, "data/tokenizer/ggml-vocab-llama-spm.gguf")
	tok := loadGGUF(t, path)
	inputs, want := readVectors(t, path)
	if len(inputs) != 46 {
		t.Errorf("read %d vectors, want 46", len(inputs))
	}
	for i, in := range inputs {
		got := tok.Encode(in, false, false)
		if !slices.Equal(got, want[i]) {
			t.Errorf("vector %d: Encode(%q) = %v, want %v", i, in, got, want[i])
		}
	}
}

func TestSpecialCases(t *testing.T) {
	tok := llamaSPM(t)
	for _, c := range []struct {
		in         string
		addSpecial bool
		want       []int32
	}{
		{"", false, []int32{}},
		{"", true, []int32{1}},
		{" ", false, []int32{259}},
		{"  ", false, []int32{1678}},
		{"\n", false, []int32{29871, 13}},
		{"\t", false, []int32{29871, 12}},
		{"\n\n", false, []int32{29871, 13, 13}},
		{"Hello world", false, []int32{15043, 3186}},
		{" Hello world", false, []int32{29871, 15043, 3186}},
		{"Hello world", true, []int32{1, 15043, 3186}},
		{"ied 4 ½ months", false, []int32{474, 287, 29871, 29946, 29871, 30226, 7378}},
		{"Führer", false, []int32{383, 4000, 261}},
		{"333", false, []int32{29871, 29941, 29941, 29941}},
		// 🦙 (F0 9F A6 99) has no token: four byte tokens, id = byte+3.
		{" this is 🦙.cpp", false, []int32{29871, 445, 338, 29871, 243, 162, 169, 156, 29889, 8223}},
		// Control token texts are plain text unless parseSpecial.
		{"<s>", false, []int32{529, 29879, 29958}},
	} {
		got := tok.Encode(c.in, c.addSpecial, false)
		if !slices.Equal(got, c.want) {
			t.Errorf("Encode(%q, %v, false) = %v, want %v", c.in, c.addSpecial, got, c.want)
		}
	}
}

func TestParseSpecial(t *testing.T) {
	tok := llamaSPM(t)
	for _, c := range []struct {
		in         string
		addSpecial bool
		want       []int32
	}{
		// After a special token the next raw fragment gets the space
		// prefix again (is_prev_special), so "world" becomes "▁world".
		{"<s>Hello", false, []int32{1, 15043}},
		{"Hello</s>world", false, []int32{15043, 2, 3186}},
		{"Hello</s>world", true, []int32{1, 15043, 2, 3186}},
		{"<s>", true, []int32{1, 1}},
		{"<unk><s></s>", false, []int32{0, 1, 2}},
		// Overlapping candidates: "</s>" (longer) is matched first.
		{"a</s>", false, []int32{263, 2}},
	} {
		got := tok.Encode(c.in, c.addSpecial, true)
		if !slices.Equal(got, c.want) {
			t.Errorf("Encode(%q, %v, true) = %v, want %v", c.in, c.addSpecial, got, c.want)
		}
	}
}

func TestStories260K(t *testing.T) {
	tok := stories(t)
	if got, want := tok.Encode("Once upon a time", true, false), []int32{1, 403, 407, 261, 378}; !slices.Equal(got, want) {
		t.Errorf("Encode(%q, true, false) = %v, want %v", "Once upon a time", got, want)
	}
	if got := tok.NumTokens(); got != 512 {
		t.Errorf("NumTokens() = %d, want 512", got)
	}
	if tok.BOS() != 1 || tok.EOS() != 2 || tok.UNK() != 0 || !tok.AddBOS() || tok.AddEOS() || !tok.AddSpacePrefix() {
		t.Errorf("BOS, EOS, UNK, AddBOS, AddEOS, AddSpacePrefix = %d %d %d %v %v %v, want 1 2 0 true false true",
			tok.BOS(), tok.EOS(), tok.UNK(), tok.AddBOS(), tok.AddEOS(), tok.AddSpacePrefix())
	}
	for id, want := range map[int32]bool{0: false, 1: false, 2: true, 3: false, 511: false} {
		if got := tok.IsEOG(id); got != want {
			t.Errorf("IsEOG(%d) = %v, want %v", id, got, want)
		}
	}
	// llama.cpp's greedy continuation of "Once upon a time" (issue 2) and
	// the text it quotes for it.
	gen := []int32{432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337, 410, 408, 419, 292, 411, 322, 265, 282, 295, 433, 426}
	if got, want := tok.Decode(gen, false, false), ", there was a little girl named Lily. She loved to play outside in the park."; got != want {
		t.Errorf("Decode(greedy ids) = %q, want %q", got, want)
	}
}

func TestPieceAndDecode(t *testing.T) {
	tok := llamaSPM(t)
	for _, c := range []struct {
		id      int32
		special bool
		want    string
	}{
		{15043, false, " Hello"},
		{1, false, ""},
		{1, true, "<s>"},
		{0, true, "<unk>"},
		{13, false, "\n"},    // <0x0A>
		{246, false, "\xf3"}, // <0xF3>: half a UTF-8 sequence
		{29871, false, " "},  // ▁
		{259, false, "  "},   // ▁▁
		{-1, true, ""},       // invalid ids are empty
		{32000, true, ""},    //
		{29889, false, "."},  //
		{30226, false, "½"},  //
		{2, true, "</s>"},    //
		{2, false, ""},       //
		{3, false, "\x00"},   // <0x00>
		{258, false, "\xff"}, // <0xFF>
		{3186, false, " world"},
	} {
		if got := tok.Piece(c.id, c.special); got != c.want {
			t.Errorf("Piece(%d, %v) = %q, want %q", c.id, c.special, got, c.want)
		}
	}
	for _, c := range []struct {
		ids                           []int32
		removeSpecial, unparseSpecial bool
		want                          string
	}{
		{[]int32{15043}, false, false, "Hello"},
		{[]int32{15043, 3186}, false, true, "Hello world"},
		// A removed BOS keeps the space of the token after it.
		{[]int32{1, 15043}, true, false, " Hello"},
		{[]int32{1, 15043}, true, true, " Hello"},
		{[]int32{1, 15043}, false, true, "<s> Hello"},
		// An unprinted BOS still takes the one lstrip.
		{[]int32{1, 15043}, false, false, " Hello"},
		// EOS is kept: add_eos is false for LLaMA.
		{[]int32{15043, 2}, true, true, "Hello</s>"},
		{[]int32{29871, 243, 162, 169, 156}, false, false, "🦙"},
		{nil, true, true, ""},
		{[]int32{29871, 29871}, false, false, " "},
	} {
		if got := tok.Decode(c.ids, c.removeSpecial, c.unparseSpecial); got != c.want {
			t.Errorf("Decode(%v, %v, %v) = %q, want %q", c.ids, c.removeSpecial, c.unparseSpecial, got, c.want)
		}
	}
}

// TestRoundTripTokens is llama.cpp's test-tokenizer-1-spm, first part:
// every token's text survives detokenize → tokenize → detokenize.
func TestRoundTripTokens(t *testing.T) {
	for _, tok := range []*Tokenizer{llamaSPM(t), stories(t)} {
		for id := range int32(tok.NumTokens()) {
			s := tok.Decode([]int32{id}, false, true)
			if check := tok.Decode(tok.Encode(s, false, true), false, true); check != s {
				t.Errorf("token %d decodes to %q, but its re-tokenization decodes to %q", id, s, check)
			}
		}
	}
}

// TestRoundTripCodepoints is test-tokenizer-1-spm's second part: every
// codepoint except surrogates, the unassigned planes 4-14 and U+2581.
func TestRoundTripCodepoints(t *testing.T) {
	tokenizers := []*Tokenizer{llamaSPM(t), stories(t)}
	step := rune(1)
	if testing.Short() {
		step = 97
	}
	for cp := rune(0); cp < 0x110000; cp += step {
		if (0xD800 <= cp && cp <= 0xDFFF) || (0x40000 <= cp && cp <= 0xE0000) || cp == 0x2581 {
			continue
		}
		s := string(cp)
		for _, tok := range tokenizers {
			if check := tok.Decode(tok.Encode(s, false, true), false, true); check != s {
				t.Fatalf("codepoint U+%04X detokenizes to %q, want %q", cp, check, s)
			}
		}
	}
}

// naiveSPM is the textbook merge loop, O(n²): repeatedly merge the
// adjacent pair with the highest score (leftmost on ties) until none
// forms a token. spm must agree with it.
func naiveSPM(t *Tokenizer, text []byte) []int32 {
	var syms [][]byte
	for off := 0; off < len(text); {
		n := min(int(utf8Len[text[off]>>4]), len(text)-off)
		syms = append(syms, text[off:off+n:off+n])
		off += n
	}
	for {
		best := -1
		var bestScore float32
		for i := 0; i+1 < len(syms); i++ {
			id, ok := t.index[string(syms[i])+string(syms[i+1])]
			if !ok {
				continue
			}
			if s := t.tokens[id].score; best < 0 || s > bestScore {
				best, bestScore = i, s
			}
		}
		if best < 0 {
			break
		}
		merged := append(append([]byte{}, syms[best]...), syms[best+1]...)
		syms = slices.Replace(syms, best, best+2, merged)
	}
	var out []int32
	for _, s := range syms {
		if id, ok := t.index[string(s)]; ok {
			out = append(out, id)
			continue
		}
		for _, c := range s {
			out = t.appendByte(out, c)
		}
	}
	return out
}

func TestSPMMatchesNaive(t *testing.T) {
	tok := llamaSPM(t)
	inputs, _ := readVectors(t, sharedtest.File(t, "data/tokenizer/ggml-vocab-llama-spm.gguf"))
	text, err := os.ReadFile(sharedtest.Data(t, "tinystories_val.txt"))
	if err != nil {
		t.Fatal(err)
	}
	// Slices of real text at awkward boundaries (mid-UTF-8 included).
	for i := 0; i+1000 < len(text) && i < 200_000; i += 9973 {
		inputs = append(inputs, string(text[i:i+1+i%997]))
	}
	for _, in := range inputs {
		esc := tok.escape(nil, in, true)
		if got, want := tok.spm(esc, nil), naiveSPM(tok, esc); !slices.Equal(got, want) {
			t.Errorf("spm(%q) = %v, naive reference %v", in, got, want)
		}
	}
}

// tinyVocab is a hand-made vocabulary: specials, all 256 byte tokens and
// a few merges whose scores make the order matter.
func tinyVocab() Vocab {
	v := Vocab{BOS: 1, EOS: 2, UNK: 0, AddBOS: true, AddSpacePrefix: true}
	add := func(text string, score float32, typ int32) {
		v.Tokens = append(v.Tokens, text)
		v.Scores = append(v.Scores, score)
		v.Types = append(v.Types, typ)
	}
	add("<unk>", 0, TypeUnknown)
	add("<s>", 0, TypeControl)
	add("</s>", 0, TypeControl)
	for b := range 256 {
		add("<0x"+strings.ToUpper(strconv.FormatUint(uint64(b)|0x100, 16)[1:])+">", 0, TypeByte)
	}
	add("▁", -1000, TypeNormal)      // 259
	add("a", -1, TypeNormal)         // 260
	add("b", -1, TypeNormal)         // 261
	add("c", -1, TypeNormal)         // 262
	add("ab", -3, TypeNormal)        // 263
	add("bc", -2, TypeNormal)        // 264: beats "ab"
	add("▁a", -4, TypeNormal)        // 265
	add("abc", -5, TypeNormal)       // 266
	add("<|u|>", 0, TypeUserDefined) // 267
	add("▁▁", -6, TypeNormal)        // 268
	add("aa", -2, TypeNormal)        // 269
	return v
}

func TestTinyVocab(t *testing.T) {
	tok, err := New(tinyVocab())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		in                       string
		addSpecial, parseSpecial bool
		want                     []int32
	}{
		// "▁abc": bc (-2) merges first, which makes "ab" stale; then ▁a
		// (-4) wins over a+bc = "abc" (-5).
		{"abc", false, false, []int32{265, 264}},
		// "ab" (-3) beats "▁a" (-4); "▁ab" is not a token.
		{"ab", false, false, []int32{259, 263}},
		// Ties go to the leftmost pair: "aaa" → aa + a.
		{"aaa", false, false, []int32{259, 269, 260}},
		{"d", true, false, []int32{1, 259, 103}},
		// User-defined tokens split even without parseSpecial.
		{"a<|u|>b", false, false, []int32{265, 267, 259, 261}},
		{"<|u|>", false, false, []int32{267}},
		{"<s>", false, false, []int32{259, 63, 118, 65}},
		{"<s>a", false, true, []int32{1, 265}},
		// 3-byte and stray bytes fall back to byte tokens.
		{"€", false, false, []int32{259, 229, 133, 175}},
		{"\x80", false, false, []int32{259, 131}},
	} {
		if got := tok.Encode(c.in, c.addSpecial, c.parseSpecial); !slices.Equal(got, c.want) {
			t.Errorf("Encode(%q, %v, %v) = %v, want %v", c.in, c.addSpecial, c.parseSpecial, got, c.want)
		}
	}
}

func TestStripAttributes(t *testing.T) {
	v := tinyVocab()
	tok, err := build(v, extras{eot: None, eom: None, fimPre: None, fimSuf: None, fimMid: None, fimPad: None, fimRep: None, fimSep: None, phi3: true})
	if err != nil {
		t.Fatal(err)
	}
	// Phi-3: whitespace right of special tokens is dropped, except after
	// <unk>, <s> and <|endoftext|>.
	for _, c := range []struct {
		in   string
		want []int32
	}{
		{"a<|u|>  b", []int32{265, 267, 259, 261}},
		{"a</s> \n b", []int32{265, 2, 259, 261}},
		{"a<s> b", []int32{265, 1, 268, 261}},
		{"a</s>  ", []int32{265, 2}},
	} {
		if got := tok.Encode(c.in, false, true); !slices.Equal(got, c.want) {
			t.Errorf("phi-3 Encode(%q, false, true) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestNewErrors(t *testing.T) {
	good := tinyVocab
	for _, c := range []struct {
		name string
		edit func(*Vocab)
		want string
	}{
		{"empty", func(v *Vocab) { *v = Vocab{} }, "tokenizer: invalid vocabulary: no tokens"},
		{"scores", func(v *Vocab) { v.Scores = v.Scores[:3] }, "tokenizer: invalid vocabulary: 3 scores for 270 tokens"},
		{"types", func(v *Vocab) { v.Types = v.Types[:1] }, "tokenizer: invalid vocabulary: 1 token types for 270 tokens"},
		{"bos", func(v *Vocab) { v.BOS = 270 }, "tokenizer: invalid vocabulary: BOS id 270 outside 0..269"},
		{"eos", func(v *Vocab) { v.EOS = -7 }, "tokenizer: invalid vocabulary: EOS id -7 outside 0..269"},
		{"duplicate", func(v *Vocab) { v.Tokens[262] = "a" }, `tokenizer: invalid vocabulary: tokens 260 and 262 are both "a"`},
		{"byte text", func(v *Vocab) { v.Tokens[3] = "<0" }, `tokenizer: invalid vocabulary: token 3 is a byte token but its text "<0" is not <0xXX>`},
	} {
		v := good()
		c.edit(&v)
		_, err := New(v)
		if err == nil || err.Error() != c.want || !errors.Is(err, ErrVocab) {
			t.Errorf("%s: New() error = %v, want %q", c.name, err, c.want)
		}
	}
	// Empty texts are renamed, not duplicates; missing scores/types default.
	v := Vocab{Tokens: []string{"", "", "a"}, BOS: None, EOS: None, UNK: None}
	tok, err := New(v)
	if err != nil {
		t.Fatal(err)
	}
	if got := tok.Text(1); got != "[EMPTY_1]" {
		t.Errorf("Text(1) = %q, want %q", got, "[EMPTY_1]")
	}
	if got := tok.Piece(2, false); got != "a" {
		t.Errorf("Piece(2, false) = %q, want %q", got, "a")
	}
	// No byte tokens and no UNK: unknown bytes are dropped, not a panic.
	if got := tok.Encode("ab", true, false); !slices.Equal(got, []int32{2}) {
		t.Errorf("Encode(ab) = %v, want [2]", got)
	}
}

func TestLenientByteText(t *testing.T) {
	v := tinyVocab()
	v.Tokens[3+0x41] = "<0x4G>" // strtol stops at 'G': byte 4
	v.Tokens[3+0x42] = "<0x"    // strtol(""): byte 0
	tok, err := New(v)
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[int32]string{3 + 0x41: "\x04", 3 + 0x42: "\x00", 3 + 0x43: "C"} {
		if got := tok.Piece(id, false); got != want {
			t.Errorf("Piece(%d) = %q, want %q", id, got, want)
		}
	}
}

func TestEOGDetection(t *testing.T) {
	v := tinyVocab()
	v.Tokens = append(v.Tokens, "<|im_end|>", "<|eom_id|>", "<|fim_pad|>")
	v.Scores = append(v.Scores, 0, 0, 0)
	v.Types = append(v.Types, TypeNormal, TypeNormal, TypeNormal)
	tok, err := New(v)
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[int32]bool{2: true, 270: true, 271: true, 272: true, 1: false, 267: false} {
		if got := tok.IsEOG(id); got != want {
			t.Errorf("IsEOG(%d) = %v, want %v", id, got, want)
		}
	}
	if tok.EOT() != 270 {
		t.Errorf("EOT() = %d, want 270", tok.EOT())
	}
	// Forced to CONTROL: hidden without special, and split only when
	// parsing specials.
	if got := tok.Piece(270, false); got != "" {
		t.Errorf("Piece(270, false) = %q, want \"\"", got)
	}
	if got := tok.Encode("<|im_end|>", false, true); !slices.Equal(got, []int32{270}) {
		t.Errorf("Encode(<|im_end|>, parseSpecial) = %v, want [270]", got)
	}
}

// writeGGUF returns a GGUF file holding only the given metadata.
func writeGGUF(t *testing.T, kv [][2]any) *gguf.File {
	t.Helper()
	var buf bytes.Buffer
	w := gguf.NewWriter(&buf)
	for _, p := range kv {
		if err := w.Add(p[0].(string), p[1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.WriteHeader(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestFromGGUF(t *testing.T) {
	v := tinyVocab()
	base := [][2]any{{keyModel, "llama"}, {keyTokens, v.Tokens}, {keyScores, v.Scores}, {keyTypes, v.Types}}
	with := func(kv ...[2]any) [][2]any { return append(slices.Clone(base), kv...) }

	f := writeGGUF(t, with([2]any{keyBOS, uint32(260)}, [2]any{keyEOS, uint32(9999)}, [2]any{keyAddBOS, false},
		[2]any{keyAddEOS, true}, [2]any{keyEOT, uint32(267)}))
	tok, err := FromGGUF(f)
	if err != nil {
		t.Fatal(err)
	}
	if tok.BOS() != 260 || tok.EOS() != 2 || tok.AddBOS() || !tok.AddEOS() || !tok.IsEOG(267) {
		t.Errorf("BOS, EOS, AddBOS, AddEOS, IsEOG(267) = %d %d %v %v %v, want 260 2 false true true",
			tok.BOS(), tok.EOS(), tok.AddBOS(), tok.AddEOS(), tok.IsEOG(267))
	}
	if got := tok.Encode("a", true, false); !slices.Equal(got, []int32{265, 2}) {
		t.Errorf("Encode(a, true) = %v, want [265 2]", got)
	}

	// No scores or types: all NORMAL with score 0; no space prefix.
	f = writeGGUF(t, [][2]any{{keyModel, "llama"}, {keyTokens, []string{"x", "y", "xy", "▁"}}, {keyAddSpace, false}})
	tok, err = FromGGUF(f)
	if err != nil {
		t.Fatal(err)
	}
	if got := tok.Encode("xy", true, false); !slices.Equal(got, []int32{1, 2}) {
		t.Errorf("Encode(xy, true) = %v, want [1 2]", got)
	}
	if got := tok.UNK(); got != 0 {
		t.Errorf("UNK() = %d, want 0", got)
	}

	for _, c := range []struct {
		name string
		kv   [][2]any
		want string
		is   error
	}{
		{"gpt2", [][2]any{{keyModel, "gpt2"}}, "tokenizer: gpt2 tokenizer (Llama 3, SmolLM) is not supported yet", ErrUnsupported},
		{"t5", [][2]any{{keyModel, "t5"}}, `tokenizer: t5 tokenizer (tokenizer.ggml.model = "t5") is not supported; only "llama" (SentencePiece) is`, ErrUnsupported},
		{"none", [][2]any{{keyModel, "none"}}, `tokenizer: model has no vocabulary (tokenizer.ggml.model = "none")`, ErrUnsupported},
		{"no model", [][2]any{{keyTokens, v.Tokens}}, `tokenizer: tokenizer.ggml.model: gguf: not found: metadata key "tokenizer.ggml.model"`, gguf.ErrNotFound},
		{"no tokens", [][2]any{{keyModel, "llama"}}, `tokenizer: tokenizer.ggml.tokens: gguf: not found: metadata key "tokenizer.ggml.tokens"`, gguf.ErrNotFound},
		{"short scores", [][2]any{{keyModel, "llama"}, {keyTokens, v.Tokens}, {keyScores, v.Scores[:5]}},
			"tokenizer: tokenizer.ggml.scores has 5 entries, want one per token (270)", nil},
		{"short types", [][2]any{{keyModel, "llama"}, {keyTokens, v.Tokens}, {keyTypes, v.Types[:5]}},
			"tokenizer: tokenizer.ggml.token_type has 5 entries, want one per token (270)", nil},
		{"i32 bos", with([2]any{keyBOS, int32(1)}), `tokenizer: tokenizer.ggml.bos_token_id: gguf: metadata key has wrong type: "tokenizer.ggml.bos_token_id" is i32, want u32`, gguf.ErrWrongType},
		// The gguf package words the rest; only the prefix is ours.
		{"f64 scores", [][2]any{{keyModel, "llama"}, {keyTokens, v.Tokens}, {keyScores, make([]float64, 270)}},
			`tokenizer: tokenizer.ggml.scores: gguf: metadata key has wrong type: ...`, gguf.ErrWrongType},
		{"dup", [][2]any{{keyModel, "llama"}, {keyTokens, []string{"a", "a"}}}, `tokenizer: invalid vocabulary: tokens 0 and 1 are both "a"`, ErrVocab},
	} {
		_, err := FromGGUF(writeGGUF(t, c.kv))
		want, prefix := strings.CutSuffix(c.want, "...")
		if err == nil || (err.Error() != want && !(prefix && strings.HasPrefix(err.Error(), want))) || (c.is != nil && !errors.Is(err, c.is)) {
			t.Errorf("%s: FromGGUF() error = %v, want %q", c.name, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error has more than one line: %q", c.name, err)
		}
	}
}

func TestEncodeOutputIsValid(t *testing.T) {
	tok := llamaSPM(t)
	for _, s := range []string{"\xff\xfe", "\xe2\x96", "a\x00b", strings.Repeat(" ", 1000), "▁▁x"} {
		for _, id := range tok.Encode(s, true, true) {
			if id < 0 || int(id) >= tok.NumTokens() {
				t.Fatalf("Encode(%q) produced id %d", s, id)
			}
		}
		if got := tok.Decode(tok.Encode(s, false, false), false, false); !strings.Contains(s, "▁") && got != s {
			t.Errorf("Decode(Encode(%q)) = %q", s, got)
		}
	}
	if !utf8.ValidString(tok.Decode([]int32{15043}, false, false)) {
		t.Error("Decode of a normal token is not valid UTF-8")
	}
}
