package tokenizer

import (
	"errors"
	"fmt"
	"strings"

	"github.com/edgeprof/edgeprof/engine/gguf"
)

// GGUF metadata keys (llama.cpp's LLM_KV_TOKENIZER_*; "seperator" is
// llama.cpp's spelling).
const (
	keyModel       = "tokenizer.ggml.model"
	keyTokens      = "tokenizer.ggml.tokens"
	keyScores      = "tokenizer.ggml.scores"
	keyTypes       = "tokenizer.ggml.token_type"
	keyBOS         = "tokenizer.ggml.bos_token_id"
	keyEOS         = "tokenizer.ggml.eos_token_id"
	keyEOT         = "tokenizer.ggml.eot_token_id"
	keyEOM         = "tokenizer.ggml.eom_token_id"
	keyUNK         = "tokenizer.ggml.unknown_token_id"
	keySEP         = "tokenizer.ggml.seperator_token_id"
	keyPAD         = "tokenizer.ggml.padding_token_id"
	keyMASK        = "tokenizer.ggml.mask_token_id"
	keyFIMPre      = "tokenizer.ggml.fim_pre_token_id"
	keyFIMSuf      = "tokenizer.ggml.fim_suf_token_id"
	keyFIMMid      = "tokenizer.ggml.fim_mid_token_id"
	keyFIMPad      = "tokenizer.ggml.fim_pad_token_id"
	keyFIMRep      = "tokenizer.ggml.fim_rep_token_id"
	keyFIMSep      = "tokenizer.ggml.fim_sep_token_id"
	keyPrefix      = "tokenizer.ggml.prefix_token_id" // deprecated FIM names
	keySuffix      = "tokenizer.ggml.suffix_token_id"
	keyMiddle      = "tokenizer.ggml.middle_token_id"
	keyAddBOS      = "tokenizer.ggml.add_bos_token"
	keyAddEOS      = "tokenizer.ggml.add_eos_token"
	keyAddSpace    = "tokenizer.ggml.add_space_prefix"
	keyGeneralName = "general.name"
)

// ErrUnsupported is wrapped by the error FromGGUF returns for a tokenizer
// model other than "llama".
var ErrUnsupported = errors.New("tokenizer: unsupported tokenizer model")

type unsupportedError struct{ msg string }

func (e *unsupportedError) Error() string { return "tokenizer: " + e.msg }
func (e *unsupportedError) Unwrap() error { return ErrUnsupported }

// FromGGUF builds the tokenizer stored in a GGUF file's tokenizer.ggml.*
// metadata with llama.cpp's defaults for the "llama" model: BOS 1, EOS 2,
// UNK 0, add BOS, no EOS, add a space prefix; scores 0 and type NORMAL when
// those arrays are absent. An id key whose value is not below the
// vocabulary size is ignored (llama.cpp warns and keeps the default).
func FromGGUF(f *gguf.File) (*Tokenizer, error) {
	model, err := f.String(keyModel)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %w", keyModel, err)
	}
	switch model {
	case "llama":
	case "gpt2":
		return nil, &unsupportedError{"gpt2 tokenizer (Llama 3, SmolLM) is not supported yet"}
	case "none", "no_vocab":
		return nil, &unsupportedError{fmt.Sprintf("model has no vocabulary (%s = %q)", keyModel, model)}
	default:
		return nil, &unsupportedError{fmt.Sprintf("%s tokenizer (%s = %q) is not supported; only \"llama\" (SentencePiece) is", model, keyModel, model)}
	}

	tokens, err := f.Strings(keyTokens)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %w", keyTokens, err)
	}
	n := len(tokens)
	v := Vocab{Tokens: tokens, BOS: 1, EOS: 2, UNK: 0, AddBOS: true, AddEOS: false, AddSpacePrefix: true}
	if _, ok := f.Lookup(keyScores); ok {
		if v.Scores, err = f.Float32s(keyScores); err != nil {
			return nil, fmt.Errorf("tokenizer: %s: %w", keyScores, err)
		}
		if len(v.Scores) != n {
			return nil, fmt.Errorf("tokenizer: %s has %d entries, want one per token (%d)", keyScores, len(v.Scores), n)
		}
	}
	if _, ok := f.Lookup(keyTypes); ok {
		if v.Types, err = f.Int32s(keyTypes); err != nil {
			return nil, fmt.Errorf("tokenizer: %s: %w", keyTypes, err)
		}
		if len(v.Types) != n {
			return nil, fmt.Errorf("tokenizer: %s has %d entries, want one per token (%d)", keyTypes, len(v.Types), n)
		}
	}
	if err := getBool(f, keyAddSpace, &v.AddSpacePrefix); err != nil {
		return nil, err
	}

	x := noExtras()
	// Defaults are not range-checked by llama.cpp; a vocabulary too small
	// for them gets None instead of an id that would index past its end.
	for _, id := range []*int32{&v.BOS, &v.EOS, &v.UNK} {
		if int(*id) >= n {
			*id = None
		}
	}
	var sep, pad, mask int32 // read (and type-checked) like llama.cpp, unused by SPM
	for _, k := range []struct {
		key string
		id  *int32
	}{
		{keyBOS, &v.BOS}, {keyEOS, &v.EOS}, {keyEOT, &x.eot}, {keyEOM, &x.eom},
		{keyUNK, &v.UNK}, {keySEP, &sep}, {keyPAD, &pad}, {keyMASK, &mask},
		{keyFIMPre, &x.fimPre}, {keyFIMSuf, &x.fimSuf}, {keyFIMMid, &x.fimMid},
		{keyFIMPad, &x.fimPad}, {keyFIMRep, &x.fimRep}, {keyFIMSep, &x.fimSep},
		{keyPrefix, &x.fimPre}, {keySuffix, &x.fimSuf}, {keyMiddle, &x.fimMid},
	} {
		if _, ok := f.Lookup(k.key); !ok {
			continue
		}
		id, err := f.Uint32(k.key)
		if err != nil {
			return nil, fmt.Errorf("tokenizer: %s: %w", k.key, err)
		}
		if uint64(id) < uint64(n) {
			*k.id = int32(id)
		}
	}
	if err := getBool(f, keyAddBOS, &v.AddBOS); err != nil {
		return nil, err
	}
	if err := getBool(f, keyAddEOS, &v.AddEOS); err != nil {
		return nil, err
	}
	if _, ok := f.Lookup(keyGeneralName); ok {
		name, err := f.String(keyGeneralName)
		if err != nil {
			return nil, fmt.Errorf("tokenizer: %s: %w", keyGeneralName, err)
		}
		name = strings.ToLower(name)
		x.phi3 = strings.Contains(name, "phi-3") || strings.Contains(name, "phi3")
	}

	t, err := build(v, x)
	if err != nil {
		return nil, err
	}
	return t, nil
}

func getBool(f *gguf.File, key string, dst *bool) error {
	if _, ok := f.Lookup(key); !ok {
		return nil
	}
	b, err := f.Bool(key)
	if err != nil {
		return fmt.Errorf("tokenizer: %s: %w", key, err)
	}
	*dst = b
	return nil
}
