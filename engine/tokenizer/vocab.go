package tokenizer

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Token types as stored in tokenizer.ggml.token_type (llama.cpp's
// llama_token_type). Values outside 0..6 are treated as TypeUndefined.
const (
	TypeUndefined   int32 = 0
	TypeNormal      int32 = 1
	TypeUnknown     int32 = 2
	TypeControl     int32 = 3
	TypeUserDefined int32 = 4
	TypeUnused      int32 = 5
	TypeByte        int32 = 6
)

// None marks an absent special token id (llama.cpp's LLAMA_TOKEN_NULL).
const None int32 = -1

// Vocab is a vocabulary as a GGUF file stores it. Ids index all slices.
type Vocab struct {
	// Tokens is the text of each token, with "▁" (U+2581) for spaces and
	// "<0xXX>" for byte tokens. Empty strings are renamed "[EMPTY_<id>]",
	// as llama.cpp does; duplicates are an error.
	Tokens []string
	// Scores are merge priorities (higher merges first); nil means all 0.
	Scores []float32
	// Types are Type* values; nil means all TypeNormal.
	Types []int32
	// BOS, EOS and UNK are token ids, or None.
	BOS, EOS, UNK int32
	// AddBOS and AddEOS say whether Encode with addSpecial adds them;
	// AddSpacePrefix whether raw text gets a leading space.
	AddBOS, AddEOS, AddSpacePrefix bool
}

// attr is llama.cpp's llama_token_attr bit set.
type attr uint16

const (
	attrUndefined   attr = 0
	attrUnknown     attr = 1 << 0
	attrUnused      attr = 1 << 1
	attrNormal      attr = 1 << 2
	attrControl     attr = 1 << 3
	attrUserDefined attr = 1 << 4
	attrByte        attr = 1 << 5
	attrLStrip      attr = 1 << 7
	attrRStrip      attr = 1 << 8
)

func typeAttr(t int32) attr {
	switch t {
	case TypeNormal:
		return attrNormal
	case TypeUnknown:
		return attrUnknown
	case TypeControl:
		return attrControl
	case TypeUserDefined:
		return attrUserDefined
	case TypeUnused:
		return attrUnused
	case TypeByte:
		return attrByte
	}
	return attrUndefined
}

type token struct {
	text  string
	score float32
	attr  attr
}

// Tokenizer encodes text to token ids and back. Create it with New or
// FromGGUF; it is immutable and safe for concurrent use.
type Tokenizer struct {
	tokens []token
	index  map[string]int32
	// pieces is token_to_piece(id, special=true) without lstrip, the cache
	// llama.cpp builds at load time.
	pieces []string
	// byteToken is llama.cpp's byte_to_token: "<0xXX>", else the one-byte
	// string, else None.
	byteToken [256]int32
	// specials are the CONTROL, USER_DEFINED and UNKNOWN tokens, longest
	// text first: the order in which Encode partitions on them.
	specials []int32
	eog      []int32 // sorted
	maxLen   int
	// joinBefore holds every 1-4 byte string that some token contains
	// right before an inner "▁": the only symbols a merge can join to a
	// following "▁" (see spm).
	joinBefore map[string]struct{}

	bos, eos, unk, eot, eom        int32
	addBOS, addEOS, addSpacePrefix bool
}

// ErrVocab reports an unusable vocabulary; errors from New wrap it.
var ErrVocab = errors.New("tokenizer: invalid vocabulary")

// extras are the llama.cpp load-time settings that only GGUF metadata
// carries; New uses none of them.
type extras struct {
	eot, eom                                       int32
	fimPre, fimSuf, fimMid, fimPad, fimRep, fimSep int32
	// phi3 is set when general.name names a Phi-3 model: llama.cpp then
	// strips whitespace to the right of special tokens.
	phi3 bool
}

func noExtras() extras {
	return extras{eot: None, eom: None, fimPre: None, fimSuf: None, fimMid: None, fimPad: None, fimRep: None, fimSep: None}
}

// New builds a tokenizer from v, applying llama.cpp's load-time rules
// (renamed empty tokens, EOT/EOG detection by token text, the special-token
// table). BOS, EOS and UNK must be None or valid ids.
func New(v Vocab) (*Tokenizer, error) {
	return build(v, noExtras())
}

func vocabErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrVocab, fmt.Sprintf(format, args...))
}

func build(v Vocab, x extras) (*Tokenizer, error) {
	n := len(v.Tokens)
	if n == 0 {
		return nil, vocabErr("no tokens")
	}
	if n > math.MaxInt32 {
		return nil, vocabErr("%d tokens, at most %d allowed", n, math.MaxInt32)
	}
	if v.Scores != nil && len(v.Scores) != n {
		return nil, vocabErr("%d scores for %d tokens", len(v.Scores), n)
	}
	if v.Types != nil && len(v.Types) != n {
		return nil, vocabErr("%d token types for %d tokens", len(v.Types), n)
	}
	for _, s := range []struct {
		name string
		id   int32
	}{{"BOS", v.BOS}, {"EOS", v.EOS}, {"UNK", v.UNK}} {
		if s.id != None && (s.id < 0 || int(s.id) >= n) {
			return nil, vocabErr("%s id %d outside 0..%d", s.name, s.id, n-1)
		}
	}

	t := &Tokenizer{
		tokens:         make([]token, n),
		index:          make(map[string]int32, n),
		bos:            v.BOS,
		eos:            v.EOS,
		unk:            v.UNK,
		eot:            x.eot,
		eom:            x.eom,
		addBOS:         v.AddBOS,
		addEOS:         v.AddEOS,
		addSpacePrefix: v.AddSpacePrefix,
	}
	for i, text := range v.Tokens {
		if text == "" {
			text = fmt.Sprintf("[EMPTY_%d]", i)
		}
		if prev, dup := t.index[text]; dup {
			return nil, vocabErr("tokens %d and %d are both %q", prev, i, text)
		}
		t.index[text] = int32(i)
		t.maxLen = max(t.maxLen, len(text))
		tok := token{text: text, attr: attrNormal}
		if v.Scores != nil {
			tok.score = v.Scores[i]
		}
		if v.Types != nil {
			tok.attr = typeAttr(v.Types[i])
		}
		t.tokens[i] = tok
	}

	t.joinBefore = map[string]struct{}{}
	for _, tok := range t.tokens {
		for i := 1; i < len(tok.text); i++ {
			if strings.HasPrefix(tok.text[i:], spaceSymbol) {
				for l := 1; l <= min(4, i); l++ {
					t.joinBefore[tok.text[i-l:i]] = struct{}{}
				}
			}
		}
	}

	t.detectSpecials(&x)

	for id, tok := range t.tokens {
		if tok.attr&(attrControl|attrUserDefined|attrUnknown) != 0 {
			t.specials = append(t.specials, int32(id))
		}
	}
	// llama.cpp uses an unstable std::sort here; ties (equal lengths) only
	// matter when two equally long special tokens overlap in the text.
	slices.SortStableFunc(t.specials, func(a, b int32) int {
		return len(t.tokens[b].text) - len(t.tokens[a].text)
	})

	t.pieces = make([]string, n)
	for id := range t.tokens {
		p, err := t.cachePiece(int32(id))
		if err != nil {
			return nil, err
		}
		t.pieces[id] = p
	}

	if x.phi3 {
		for _, id := range t.specials {
			t.tokens[id].attr |= attrRStrip
		}
		t.setAttr("</s>", attrRStrip, true)
		for _, s := range []string{"<unk>", "<s>", "<|endoftext|>"} {
			t.setAttr(s, attrRStrip, false)
		}
	}

	for b := range 256 {
		t.byteToken[b] = None
		if id, ok := t.index[fmt.Sprintf("<0x%02X>", b)]; ok {
			t.byteToken[b] = id
		} else if id, ok := t.index[string([]byte{byte(b)})]; ok && b != 0 {
			// b == 0 would be llama.cpp's empty C string, never a token.
			t.byteToken[b] = id
		}
	}
	return t, nil
}

func (t *Tokenizer) setAttr(text string, a attr, on bool) {
	id, ok := t.index[text]
	if !ok {
		return
	}
	if on {
		t.tokens[id].attr |= a
	} else {
		t.tokens[id].attr &^= a
	}
}

// Token texts llama.cpp recognizes when the metadata does not name the
// token (llama_vocab::impl::load).
var (
	eotTexts    = []string{"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<EOT>", "<｜end▁of▁sentence｜>"}
	eomTexts    = []string{"<|eom_id|>"}
	fimPreTexts = []string{"<|fim_prefix|>", "<fim-prefix>", "<｜fim▁begin｜>", "<PRE>"}
	fimSufTexts = []string{"<|fim_suffix|>", "<fim-suffix>", "<｜fim▁hole｜>", "<SUF>"}
	fimMidTexts = []string{"<|fim_middle|>", "<fim-middle>", "<｜fim▁end｜>", "<MID>"}
	fimPadTexts = []string{"<|fim_pad|>", "<fim-pad>", "<PAD>"}
	fimRepTexts = []string{"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>"}
	fimSepTexts = []string{"<|file_sep|>"}
	eogTexts    = []string{"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|eom_id|>", "<EOT>"}
)

// detectSpecials finds EOT/EOM/FIM tokens by text when the metadata did
// not name them, forces them to CONTROL, and builds the end-of-generation
// set, as llama.cpp does at load time. llama.cpp walks a hash map, so when
// several tokens match it picks an unspecified one; we pick the lowest id.
func (t *Tokenizer) detectSpecials(x *extras) {
	detect := func(id *int32, texts []string) {
		if *id != None {
			return
		}
		for i, tok := range t.tokens {
			if slices.Contains(texts, tok.text) {
				*id = int32(i)
				t.tokens[i].attr = forceControl(tok.attr)
				return
			}
		}
	}
	detect(&t.eot, eotTexts)
	detect(&t.eom, eomTexts)
	detect(&x.fimPre, fimPreTexts)
	detect(&x.fimSuf, fimSufTexts)
	detect(&x.fimMid, fimMidTexts)
	detect(&x.fimPad, fimPadTexts)
	detect(&x.fimRep, fimRepTexts)
	detect(&x.fimSep, fimSepTexts)

	eog := map[int32]bool{}
	for _, id := range []int32{x.fimPad, x.fimRep, x.fimSep} {
		if id != None {
			eog[id] = true
		}
	}
	for i, tok := range t.tokens {
		if slices.Contains(eogTexts, tok.text) {
			eog[int32(i)] = true
			t.tokens[i].attr = forceControl(tok.attr)
		}
	}
	for _, id := range []int32{t.eos, t.eot, t.eom} {
		if id != None {
			eog[id] = true
		}
	}
	for id := range eog {
		t.eog = append(t.eog, id)
	}
	slices.Sort(t.eog)
}

// forceControl is llama.cpp's override of a control-looking token that is
// not typed CONTROL: the attribute is replaced, not extended.
func forceControl(a attr) attr {
	if a&attrControl == 0 {
		return attrControl
	}
	return a
}

// cachePiece is llama.cpp's token_to_piece(id, lstrip=0, special=true).
func (t *Tokenizer) cachePiece(id int32) (string, error) {
	tok := t.tokens[id]
	switch {
	case tok.attr&(attrUnknown|attrControl|attrUserDefined) != 0:
		return tok.text, nil
	case tok.attr&attrNormal != 0:
		return strings.ReplaceAll(tok.text, "▁", " "), nil
	case tok.attr&attrByte != 0:
		// llama.cpp: strtol(text.substr(3, 2), 16); substr throws (and the
		// model fails to load) when the text is shorter than 3 bytes.
		if len(tok.text) < 3 {
			return "", vocabErr("token %d is a byte token but its text %q is not <0xXX>", id, tok.text)
		}
		return string([]byte{strtolHex(tok.text[3:min(5, len(tok.text))])}), nil
	}
	return "", nil
}

// strtolHex mirrors C strtol(s, NULL, 16) truncated to a byte, for the (at
// most two) characters llama.cpp hands it.
func strtolHex(s string) byte {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	if i+1 < len(s) && s[i] == '0' && (s[i+1] == 'x' || s[i+1] == 'X') && i+2 < len(s) && hexVal(s[i+2]) >= 0 {
		i += 2
	}
	v := 0
	for ; i < len(s) && hexVal(s[i]) >= 0; i++ {
		v = v*16 + hexVal(s[i])
	}
	if neg {
		v = -v
	}
	return byte(v)
}

func hexVal(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// isSpace is C isspace in the "C" locale.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// NumTokens is the vocabulary size.
func (t *Tokenizer) NumTokens() int { return len(t.tokens) }

// BOS is the beginning-of-sequence token id, or None.
func (t *Tokenizer) BOS() int32 { return t.bos }

// EOS is the end-of-sequence token id, or None.
func (t *Tokenizer) EOS() int32 { return t.eos }

// EOT is the end-of-turn token id (from metadata or found by its text), or
// None.
func (t *Tokenizer) EOT() int32 { return t.eot }

// UNK is the unknown-token id, or None.
func (t *Tokenizer) UNK() int32 { return t.unk }

// AddBOS reports whether Encode with addSpecial starts with BOS.
func (t *Tokenizer) AddBOS() bool { return t.addBOS }

// AddEOS reports whether Encode with addSpecial ends with EOS.
func (t *Tokenizer) AddEOS() bool { return t.addEOS }

// AddSpacePrefix reports whether raw text gets a leading space.
func (t *Tokenizer) AddSpacePrefix() bool { return t.addSpacePrefix }

// IsEOG reports whether id ends generation: EOS, EOT, EOM, and the tokens
// llama.cpp recognizes by text ("<|eot_id|>", "<|im_end|>", ...).
func (t *Tokenizer) IsEOG(id int32) bool {
	_, found := slices.BinarySearch(t.eog, id)
	return found
}

// Text is the raw vocabulary text of id ("" for an invalid id).
func (t *Tokenizer) Text(id int32) string {
	if id < 0 || int(id) >= len(t.tokens) {
		return ""
	}
	return t.tokens[id].text
}

// Score is the merge score of id (0 for an invalid id).
func (t *Tokenizer) Score(id int32) float32 {
	if id < 0 || int(id) >= len(t.tokens) {
		return 0
	}
	return t.tokens[id].score
}
