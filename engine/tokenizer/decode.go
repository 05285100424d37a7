package tokenizer

import "strings"

// Piece is the text of one token, llama.cpp's token_to_piece with lstrip 0:
// CONTROL and UNKNOWN tokens are "" unless special; USER_DEFINED tokens are
// their raw text; NORMAL tokens have "▁" turned into spaces; BYTE tokens
// are their single raw byte (possibly half of a UTF-8 sequence); UNUSED and
// UNDEFINED tokens and invalid ids are "".
func (t *Tokenizer) Piece(id int32, special bool) string {
	if id < 0 || int(id) >= len(t.tokens) {
		return ""
	}
	if !special && t.tokens[id].attr&(attrUnknown|attrControl) != 0 {
		return ""
	}
	return t.pieces[id]
}

// Decode is llama.cpp's detokenize: the pieces concatenated as bytes.
// With removeSpecial a leading BOS and a trailing EOS are dropped (when the
// vocabulary adds them); unparseSpecial renders CONTROL/UNKNOWN tokens as
// their text. The first token loses one leading space when the vocabulary
// adds a space prefix, unless a BOS was removed before it.
// llama.cpp's common_detokenize(ids, special) is Decode(ids, false, special).
func (t *Tokenizer) Decode(ids []int32, removeSpecial, unparseSpecial bool) string {
	removeSpace := t.addSpacePrefix
	if removeSpecial && t.addBOS && len(ids) > 0 && ids[0] == t.bos {
		removeSpace = false
		ids = ids[1:]
	}
	if removeSpecial && t.addEOS && len(ids) > 0 && ids[len(ids)-1] == t.eos {
		ids = ids[:len(ids)-1]
	}
	var b strings.Builder
	for i, id := range ids {
		p := t.Piece(id, unparseSpecial)
		if i == 0 && removeSpace {
			p = strings.TrimPrefix(p, " ")
		}
		b.WriteString(p)
	}
	return b.String()
}
