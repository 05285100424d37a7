package gguf_test

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/edgeprof/edgeprof/engine/gguf"
)

func ExampleWriter() {
	var buf bytes.Buffer
	w := gguf.NewWriter(&buf)
	w.Add("general.architecture", "llama")
	w.Add("tokenizer.ggml.tokens", []string{"<unk>", "<s>", "</s>"})
	w.AddTensor("output_norm.weight", gguf.F32, 4)
	if err := w.WriteHeader(); err != nil {
		panic(err)
	}
	w.Write([]byte{0, 0, 128, 63, 0, 0, 128, 63, 0, 0, 128, 63, 0, 0, 128, 63}) // four 1.0s
	if err := w.Close(); err != nil {
		panic(err)
	}

	f, err := gguf.Parse(buf.Bytes())
	if err != nil {
		panic(err)
	}
	tokens, _ := f.Strings("tokenizer.ggml.tokens")
	t, _ := f.Tensor("output_norm.weight")
	fmt.Println(f.Version, len(buf.Bytes()), tokens, t.Type, t.Dims, t.FileOffset)
	// Output: 3 256 [<unk> <s> </s>] F32 [4] 224
}

func ExampleFormatError() {
	_, err := gguf.Parse([]byte("GGUF\x01\x00\x00\x00"))
	var fe *gguf.FormatError
	fmt.Println(errors.Is(err, gguf.ErrVersion), errors.As(err, &fe) && fe.Off == 4)
	fmt.Println(err)
	// Output:
	// true true
	// gguf: unsupported version: version 1 (want 2 or 3) at byte offset 4
}
