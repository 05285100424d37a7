// Package engine is edgeprof's LLM inference engine: it loads GGUF models
// (LLaMA family), tokenizes, runs the forward pass dense or with activation
// sparsity, samples, computes perplexity the way llama.cpp does, and emits
// every weight read as a trace.Event through an injected trace.Sink.
//
// Subpackages: gguf (file format), quant (tensor types, dequantization and
// dot products), tokenizer (SentencePiece-style vocabulary).
//
// The engine knows nothing about caches or SoCs; it only produces events.
package engine
