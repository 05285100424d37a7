package trace

import (
	"testing"
)

// TestBlocksStartAtPasses: where forward passes are shorter than a
// block, the writer closes blocks where a pass starts, so each block
// after the first begins with a pass (its first event's token is new).
func TestBlocksStartAtPasses(t *testing.T) {
	m := newEngineModel(tinyShape)
	events := m.engineEvents(2, 20, 2)
	const block = 400
	data := encode(t, m.h, events, WriterOptions{BlockEvents: block})
	r, got, err := decodeAll(data, 64)
	if err != nil {
		t.Fatal(err)
	}
	sameEvents(t, got, events)
	if len(r.index) < 4 {
		t.Fatalf("%d blocks, want several", len(r.index))
	}
	for i, ie := range r.index {
		start := r.starts[i]
		if ie.events > block {
			t.Errorf("block %d: %d events, want <= %d", i, ie.events, block)
		}
		if i == 0 {
			continue
		}
		if prev := events[start-1].Token; events[start].Token <= prev {
			t.Errorf("block %d starts at event %d of token %d after token %d, want a pass start", i, start, events[start].Token, prev)
		}
	}
}

// TestDecodedTokenCost: once a block has seen two decoded tokens, each
// further one is predicted whole from the one before: its embedding row
// (a new token id) is one corrected record, the rest one run.
func TestDecodedTokenCost(t *testing.T) {
	m := newEngineModel(stories15MShape)
	for _, threads := range []int{1, 2, 4} {
		events := m.engineEvents(5, 8, threads)
		// ends[k]: the end of decoded token k-1 (ends[0]: of the prompt).
		var ends []int
		for i, e := range events {
			if e.Op == OpEmbed && e.Phase == Decode {
				ends = append(ends, i)
			}
		}
		ends = append(ends, len(events))
		opts := WriterOptions{BlockEvents: MaxBlockEvents}
		if len(events) > MaxBlockEvents {
			t.Fatalf("%d events do not fit in one block", len(events))
		}
		size := func(n int) int {
			r, _, err := decodeAll(encode(t, m.h, events[:n], opts), 4096)
			if err != nil {
				t.Fatal(err)
			}
			return int(r.Info().BlockBytes)
		}
		// Decoded token 0 sets the period, token 1 repeats it once,
		// tokens 2 and later extrapolate.
		for k := 3; k < len(ends); k++ {
			perToken := ends[k] - ends[k-1]
			cost := size(ends[k]) - size(ends[k-1])
			t.Logf("%d threads: decoded token %d: %d events, %d bytes", threads, k-1, perToken, cost)
			if cost > 8 {
				t.Errorf("%d threads: decoded token %d (%d events) costs %d bytes, want <= 8", threads, k-1, perToken, cost)
			}
		}
	}
}
