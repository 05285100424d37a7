// Package tokenizer is the SentencePiece-style ("llama") tokenizer that
// llama.cpp (commit c392e5094) builds from a GGUF vocabulary: special-token
// partitioning, the leading-space rule, "▁" escaping, score-driven bigram
// merges with byte fallback, and detokenization with llama.cpp's lstrip and
// special-token rules. Token ids, pieces and decoded text are byte-identical
// to llama.cpp's for the same vocabulary and flags.
//
// It owns only the "llama" tokenizer model. GPT-2 style BPE ("gpt2": Llama 3,
// SmolLM), WordPiece, Unigram and RWKV vocabularies are refused by name. Chat
// templates and sampling live elsewhere (engine/sample).
//
// A Tokenizer is immutable after construction and safe for concurrent use.
package tokenizer
