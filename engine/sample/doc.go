// Package sample picks the next token from a vector of logits the way
// llama.cpp (commit c392e5094) does: greedy when the temperature is 0 or
// less, otherwise its sampler chain top-k → top-p → temperature → dist,
// with the same float arithmetic, the same std::mt19937 generator and the
// same libstdc++ std::discrete_distribution draw, so a given seed picks the
// same tokens as llama.cpp for the same logits.
//
// It does not own llama.cpp's other samplers (repetition penalties, DRY,
// min-p, typical, XTC, mirostat, grammars); see Params for the llama-cli
// flags that make llama.cpp run exactly this chain.
package sample
