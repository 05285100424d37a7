package tokenizer_test

import (
	"fmt"

	"github.com/edgeprof/edgeprof/engine/tokenizer"
)

func ExampleNew() {
	// A toy SentencePiece vocabulary: control tokens, two byte tokens
	// for the fallback, and merges scored by priority.
	tok, err := tokenizer.New(tokenizer.Vocab{
		Tokens:         []string{"<unk>", "<s>", "</s>", "<0x21>", "<0x3F>", "▁", "h", "i", "hi", "▁hi"},
		Scores:         []float32{0, 0, 0, 0, 0, -10, -5, -5, -1, -2},
		Types:          []int32{2, 3, 3, 6, 6, 1, 1, 1, 1, 1},
		BOS:            1,
		EOS:            2,
		UNK:            0,
		AddBOS:         true,
		AddSpacePrefix: true,
	})
	if err != nil {
		panic(err)
	}
	ids := tok.Encode("hi hi!", true, false)
	fmt.Println(ids)
	fmt.Printf("%q\n", tok.Decode(ids, true, false))
	fmt.Printf("%q %q\n", tok.Piece(9, false), tok.Piece(1, true))
	// Output:
	// [1 9 9 3]
	// " hi hi!"
	// " hi" "<s>"
}
