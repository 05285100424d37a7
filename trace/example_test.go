package trace_test

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/edgeprof/edgeprof/trace"
)

// A writer is a Sink: hand it to the engine, Close it at the end, and
// read the events back with Next into a reused buffer.
func ExampleNewWriter() {
	h := trace.Header{
		ModelName: "demo",
		Tensors:   []trace.TensorSym{{Name: "blk.0.ffn_up.weight", Type: "Q8_0", Dims: []uint64{64, 4}, Offset: 4096, Size: 4 * 68}},
	}
	var file bytes.Buffer
	w, err := trace.NewWriter(&file, h, trace.WriterOptions{})
	if err != nil {
		panic(err)
	}
	for tok := uint32(0); tok < 2; tok++ {
		for row := uint32(0); row < 4; row++ {
			w.Emit(trace.Event{Token: tok, Layer: 0, Op: trace.OpFFNUp, Tensor: 0,
				Addr: 4096 + uint64(row)*68, Size: 68, NeuronLo: row, NeuronHi: row + 1})
		}
	}
	if err := w.Close(); err != nil {
		panic(err)
	}

	r, err := trace.NewReader(bytes.NewReader(file.Bytes()), int64(file.Len()))
	if err != nil {
		panic(err)
	}
	r.SeekToken(1)
	buf := make([]trace.Event, 2)
	for {
		n, err := r.Next(buf)
		if err == io.EOF {
			break
		}
		if err != nil {
			panic(err)
		}
		for _, e := range buf[:n] {
			fmt.Println(e, r.Header().TensorName(e.Tensor))
		}
	}
	// Output:
	// tok=1 prompt t0 L0 ffn_up read 0x1000+68 n[0,1) blk.0.ffn_up.weight
	// tok=1 prompt t0 L0 ffn_up read 0x1044+68 n[1,2) blk.0.ffn_up.weight
	// tok=1 prompt t0 L0 ffn_up read 0x1088+68 n[2,3) blk.0.ffn_up.weight
	// tok=1 prompt t0 L0 ffn_up read 0x10cc+68 n[3,4) blk.0.ffn_up.weight
}

func ExampleNewDinReader() {
	din := "2 0\n0 1000\n1 70f60888 8\n"
	d := trace.NewDinReader(strings.NewReader(din), "example.din", trace.DinOptions{})
	buf := make([]trace.Event, 8)
	n, _ := d.Next(buf)
	for _, e := range buf[:n] {
		fmt.Println(e.Kind, fmt.Sprintf("%#x", e.Addr), e.Size)
	}
	fmt.Printf("%+v\n", d.Stats())
	// Output:
	// read 0x1000 1
	// write 0x70f60888 8
	// {Lines:3 Reads:1 Writes:1 IFetches:1 Misc:0 Flushes:0 Events:2}
}

func ExampleStats() {
	st := trace.NewStats(trace.StatsOptions{})
	for i := range 4 {
		// Two passes over the same two lines.
		st.Emit(trace.Event{Addr: uint64(i%2) * 64, Size: 64, Tensor: trace.NoTensor, Layer: trace.NoLayer})
	}
	s := st.Summary()
	fmt.Println(s.Events, s.UniqueLines, s.Reuse.Cold, s.Reuse.Buckets)
	// Output: 4 2 2 [0 2]
}
