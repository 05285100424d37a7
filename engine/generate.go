package engine

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/edgeprof/edgeprof/engine/sample"
	"github.com/edgeprof/edgeprof/trace"
)

// GenerateOptions configure Generate.
type GenerateOptions struct {
	Session Options
	Sample  sample.Params
	// MaxTokens is the number of tokens to generate (llama.cpp's -n);
	// generation also stops at an end-of-generation token.
	MaxTokens int
	// OnToken, if set, is called with each generated token's text as it is
	// produced.
	OnToken func(id int32, piece string)
}

// Generation is the result of Generate.
type Generation struct {
	PromptTokens []int32
	Tokens       []int32 // generated ids only
	Text         string  // text of the generated tokens
	PromptTime   time.Duration
	DecodeTime   time.Duration
}

// TokensPerSecond is the decode speed: generated tokens over the time spent
// producing them, excluding prompt processing (llama.cpp's "eval time").
func (g *Generation) TokensPerSecond() float64 {
	if g.DecodeTime <= 0 || len(g.Tokens) == 0 {
		return 0
	}
	return float64(len(g.Tokens)) / g.DecodeTime.Seconds()
}

// Generate tokenizes prompt as llama-cli does (BOS added when the model
// asks for it, special-token text such as "<s>" parsed as the token),
// evaluates it and samples up to MaxTokens tokens.
func (m *Model) Generate(prompt string, opt GenerateOptions) (*Generation, error) {
	ids := m.Tok.Encode(prompt, true, true)
	return m.GenerateTokens(ids, opt)
}

// GenerateTokens is Generate for an already tokenized prompt.
func (m *Model) GenerateTokens(prompt []int32, opt GenerateOptions) (*Generation, error) {
	if len(prompt) == 0 {
		return nil, errors.New("engine: empty prompt (no tokens to start from)")
	}
	if opt.MaxTokens < 0 {
		return nil, fmt.Errorf("engine: negative token count %d", opt.MaxTokens)
	}
	sopt := opt.Session
	if sopt.Ctx <= 0 {
		sopt.Ctx = min(m.Cfg.CtxTrain, len(prompt)+opt.MaxTokens)
	}
	if len(prompt)+opt.MaxTokens > sopt.Ctx {
		return nil, fmt.Errorf("engine: prompt (%d tokens) + %d new tokens exceed the context of %d", len(prompt), opt.MaxTokens, sopt.Ctx)
	}
	s, err := m.NewSession(sopt)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	sampler := sample.New(opt.Sample)
	g := &Generation{PromptTokens: prompt}

	t0 := time.Now()
	s.SetPhase(trace.Prompt)
	out, err := s.EvalBatch(prompt, len(prompt)-1)
	if err != nil {
		return nil, err
	}
	logits := out[0]
	g.PromptTime = time.Since(t0)

	t1 := time.Now()
	var text strings.Builder
	s.SetPhase(trace.Decode)
	for len(g.Tokens) < opt.MaxTokens {
		// A sampler picks token 0 from NaN logits and carries on; say
		// why the text is garbage instead.
		if err := finiteLogits(logits, len(prompt)+len(g.Tokens)); err != nil {
			return nil, err
		}
		id := sampler.Sample(logits)
		if m.Tok.IsEOG(id) {
			break
		}
		g.Tokens = append(g.Tokens, id)
		piece := m.Tok.Piece(id, false)
		text.WriteString(piece)
		if opt.OnToken != nil {
			opt.OnToken(id, piece)
		}
		if len(g.Tokens) == opt.MaxTokens {
			break
		}
		if logits, err = s.Eval(id); err != nil {
			return nil, err
		}
	}
	g.DecodeTime = time.Since(t1)
	g.Text = text.String()
	return g, nil
}

// finiteLogits reports logits that are NaN or infinite (corrupt weights,
// or an overflow in the model), for the token at position pos.
func finiteLogits(logits []float32, pos int) error {
	for i, x := range logits {
		if x != x || x > math.MaxFloat32 || x < -math.MaxFloat32 {
			return fmt.Errorf("engine: logit %d of position %d is %g: the model's weights or activations are not finite", i, pos, x)
		}
	}
	return nil
}
