package sample

import (
	"encoding/binary"
	"math"
	"testing"
)

// FuzzSample feeds arbitrary logits (NaN and infinities included) and
// parameters: Sample must return a valid index and never panic, and greedy
// must return the first maximum.
func FuzzSample(f *testing.F) {
	f.Add([]byte{0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64}, float32(0.8), 40, float32(0.95), uint32(1))
	f.Add([]byte{0, 0, 192, 127, 0, 0, 128, 127, 0, 0, 128, 255}, float32(1), 0, float32(0.5), uint32(0xFFFFFFFF))
	f.Add([]byte{1, 2, 3, 4}, float32(-1), -3, float32(2), uint32(7))
	f.Fuzz(func(t *testing.T, b []byte, temp float32, topK int, topP float32, seed uint32) {
		logits := make([]float32, len(b)/4)
		for i := range logits {
			logits[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
		s := New(Params{Temp: temp, TopK: topK, TopP: topP, Seed: seed})
		for range 3 {
			id := s.Sample(logits)
			if len(logits) == 0 {
				if id != -1 {
					t.Fatalf("Sample(no logits) = %d, want -1", id)
				}
				return
			}
			if id < 0 || int(id) >= len(logits) {
				t.Fatalf("Sample(%v) = %d, out of range", logits, id)
			}
			if temp <= 0 {
				for i := range int(id) {
					if logits[i] >= logits[id] {
						t.Fatalf("greedy Sample(%v) = %d, but logit %d is not smaller", logits, id, i)
					}
				}
			}
		}
	})
}
