package tokenizer

import (
	"math"
	"strings"
)

// fragment is a piece of the input after special-token partitioning: a
// token (tok >= 0) or raw text text[off:off+n].
type fragment struct {
	tok    int32
	off, n int
}

// Encode tokenizes text as llama.cpp's llama_tokenize does. addSpecial adds
// BOS/EOS when the vocabulary asks for them; parseSpecial lets CONTROL and
// UNKNOWN token texts (e.g. "<s>") in text become those tokens. USER_DEFINED
// tokens are always matched. llama.cpp's common_tokenize and perplexity use
// parseSpecial=false.
//
// Each raw fragment is one SentencePiece session regardless of its size, as
// in llama.cpp (a whole file is one session). A raw fragment whose escaped
// form exceeds 2^31-1 bytes (llama.cpp's own int32 text limit) is not
// tokenized: Encode returns nil.
func (t *Tokenizer) Encode(text string, addSpecial, parseSpecial bool) []int32 {
	var frags []fragment
	if text != "" {
		frags = t.partition(text, parseSpecial)
	}
	out := make([]int32, 0, len(text)/3+2)
	if addSpecial && t.addBOS && t.bos != None {
		out = append(out, t.bos)
	}
	var buf []byte
	isPrevSpecial := true
	for _, f := range frags {
		if f.tok >= 0 {
			out = append(out, f.tok)
			isPrevSpecial = true
			continue
		}
		buf = t.escape(buf[:0], text[f.off:f.off+f.n], t.addSpacePrefix && isPrevSpecial)
		if len(buf) > math.MaxInt32 {
			return nil
		}
		out = t.spm(buf, out)
		isPrevSpecial = false
	}
	if addSpecial && t.addEOS && t.eos != None {
		out = append(out, t.eos)
	}
	return out
}

// escape appends raw (with a leading space if prefix) to dst with every
// ASCII space replaced by "▁" (U+2581), llama_escape_whitespace.
func (t *Tokenizer) escape(dst []byte, raw string, prefix bool) []byte {
	if prefix {
		dst = append(dst, "▁"...)
	}
	for {
		i := strings.IndexByte(raw, ' ')
		if i < 0 {
			return append(dst, raw...)
		}
		dst = append(dst, raw[:i]...)
		dst = append(dst, "▁"...)
		raw = raw[i+1:]
	}
}

// partition splits text on special tokens, longest first, exactly as
// llama.cpp's tokenizer_st_partition (including its LSTRIP/RSTRIP
// whitespace handling).
func (t *Tokenizer) partition(text string, parseSpecial bool) []fragment {
	frags := []fragment{{tok: None, off: 0, n: len(text)}}
	var next []fragment
	for _, id := range t.specials {
		tok := &t.tokens[id]
		if !parseSpecial && tok.attr&(attrControl|attrUnknown) != 0 {
			continue
		}
		next = next[:0]
		for _, f := range frags {
			if f.tok != None {
				next = append(next, f)
				continue
			}
			off, n := f.off, f.n
			for n > 0 {
				i := strings.Index(text[off:off+n], tok.text)
				if i < 0 {
					break
				}
				left := i
				if tok.attr&attrLStrip != 0 {
					for left > 0 && isSpace(text[off+left-1]) {
						left--
					}
				}
				if left > 0 {
					next = append(next, fragment{tok: None, off: off, n: left})
				}
				next = append(next, fragment{tok: id})
				end := i + len(tok.text)
				off, n = off+end, n-end
				if tok.attr&attrRStrip != 0 {
					for n > 0 && isSpace(text[off]) {
						off++
						n--
					}
				}
			}
			if n > 0 {
				next = append(next, fragment{tok: None, off: off, n: n})
			}
		}
		frags, next = next, frags
	}
	return frags
}

// utf8Len is llama.cpp's unicode_len_utf8, indexed by a byte's high
// nibble: stray continuation bytes are one-byte symbols.
var utf8Len = [16]int32{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4}

// symbol is a node of the SPM session's linked list; its bytes are
// text[start:start+n] (merged neighbours stay contiguous).
type symbol struct {
	start, n   int32
	prev, next int32
}

// bigram is a merge candidate: symbols left and right whose concatenation
// (size bytes) is a vocabulary token with the given score.
type bigram struct {
	score       float32
	left, right int32
	size        int32
}

// before reports whether a is merged before b: higher score first, then
// the leftmost (llama.cpp's llm_bigram_spm comparator).
func (a *bigram) before(b *bigram) bool {
	return a.score > b.score || (a.score == b.score && a.left < b.left)
}

// session holds the SPM merge state of one segment; its buffers are
// reused from segment to segment.
type session struct {
	t    *Tokenizer
	text []byte
	syms []symbol
	heap []bigram
}

// spaceSymbol is "▁" (U+2581), the escaped space.
const spaceSymbol = "\xe2\x96\x81"

// spm is llm_tokenizer_spm_session::tokenize on escaped text, appending
// the ids to out.
//
// llama.cpp runs one merge loop over the whole text. We cut the text into
// segments before each "▁" symbol that no token can join to the symbol
// before it (no token contains those bytes followed by "▁"): no merge can
// ever cross such a cut, merges on either side never affect each other,
// and ties are still broken leftmost within a segment, so the result is
// identical while each merge loop stays small and cache-resident. Within a
// segment merging is O(n log n) with a binary heap of candidates (stale
// ones skipped when popped) and map lookups that allocate nothing.
func (t *Tokenizer) spm(text []byte, out []int32) []int32 {
	s := session{t: t, text: text}
	segStart, prev := 0, 0
	for off := 0; off < len(text); {
		n := min(int(utf8Len[text[off]>>4]), len(text)-off)
		if off > segStart && n == len(spaceSymbol) && string(text[off:off+n]) == spaceSymbol {
			if _, join := t.joinBefore[string(text[prev:off])]; !join {
				out = s.segment(segStart, off, out)
				segStart = off
			}
		}
		prev = off
		off += n
	}
	if segStart < len(text) {
		out = s.segment(segStart, len(text), out)
	}
	return out
}

// segment merges text[from:to] (whole symbols) and appends its ids.
func (s *session) segment(from, to int, out []int32) []int32 {
	text := s.text
	s.syms = s.syms[:0]
	for off := int32(from); off < int32(to); {
		n := min(utf8Len[text[off]>>4], int32(to)-off)
		i := int32(len(s.syms))
		s.syms = append(s.syms, symbol{start: off, n: n, prev: i - 1, next: i + 1})
		off += n
	}
	s.syms[len(s.syms)-1].next = -1

	s.heap = s.heap[:0]
	for i := int32(1); i < int32(len(s.syms)); i++ {
		s.candidate(i-1, i)
	}
	for i := len(s.heap)/2 - 1; i >= 0; i-- {
		s.down(i)
	}

	for len(s.heap) > 0 {
		b := s.pop()
		l, r := &s.syms[b.left], &s.syms[b.right]
		if l.n == 0 || r.n == 0 || l.n+r.n != b.size {
			continue // stale: one side changed since the candidate was made
		}
		l.n += r.n
		r.n = 0
		l.next = r.next
		if r.next >= 0 {
			s.syms[r.next].prev = b.left
		}
		s.push(l.prev, b.left)
		s.push(b.left, l.next)
	}

	t := s.t
	for i := int32(0); i != -1; i = s.syms[i].next {
		sym := s.syms[i]
		piece := text[sym.start : sym.start+sym.n]
		if id, ok := t.index[string(piece)]; ok {
			out = append(out, id)
			continue
		}
		for _, c := range piece {
			out = t.appendByte(out, c)
		}
	}
	return out
}

// appendByte is the byte fallback. llama.cpp throws when the vocabulary
// has neither "<0xXX>" nor the byte itself; we emit UNK (or nothing).
func (t *Tokenizer) appendByte(out []int32, c byte) []int32 {
	if id := t.byteToken[c]; id != None {
		return append(out, id)
	}
	if t.unk != None {
		return append(out, t.unk)
	}
	return out
}

// lookup returns the candidate bigram for adjacent symbols left, right.
func (s *session) lookup(left, right int32) (bigram, bool) {
	if left < 0 || right < 0 {
		return bigram{}, false
	}
	l := s.syms[left]
	size := l.n + s.syms[right].n
	if int(size) > s.t.maxLen {
		return bigram{}, false
	}
	id, ok := s.t.index[string(s.text[l.start:l.start+size])]
	if !ok {
		return bigram{}, false
	}
	return bigram{score: s.t.tokens[id].score, left: left, right: right, size: size}, true
}

// candidate appends without restoring heap order (used before heapify).
func (s *session) candidate(left, right int32) {
	if b, ok := s.lookup(left, right); ok {
		s.heap = append(s.heap, b)
	}
}

func (s *session) push(left, right int32) {
	b, ok := s.lookup(left, right)
	if !ok {
		return
	}
	h := append(s.heap, b)
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !h[i].before(&h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
	s.heap = h
}

func (s *session) pop() bigram {
	h := s.heap
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	s.heap = h[:last]
	if last > 0 {
		s.down(0)
	}
	return top
}

func (s *session) down(i int) {
	h := s.heap
	n := len(h)
	for {
		best := i
		if l := 2*i + 1; l < n && h[l].before(&h[best]) {
			best = l
		}
		if r := 2*i + 2; r < n && h[r].before(&h[best]) {
			best = r
		}
		if best == i {
			return
		}
		h[i], h[best] = h[best], h[i]
		i = best
	}
}
