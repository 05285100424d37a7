package trace

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
)

// fastPathStreams are event streams that exercise every record kind:
// engine traces (slots, repeats in round robin, periods), record-style
// traces (address corrections, forks) and random events.
func fastPathStreams() map[string][]Event {
	m := newEngineModel(tinyShape)
	rows := m.events(1, 2, 2)
	m.interleave = true
	return map[string][]Event{
		"engine":           m.engineEvents(2, 4, 3),
		"rows-interleaved": m.events(1, 2, 3),
		"rows":             rows,
		"records":          simRecords(5000),
		"lackey":           lackeyRecords(newRand(3), 5000),
		"random":           randomEvents(newRand(4), 3000, len(m.h.Tensors)),
	}
}

// blockPayloads returns the payloads and event counts of data's blocks.
func blockPayloads(t *testing.T, data []byte) ([][]byte, []int) {
	r, err := NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var ps [][]byte
	var ns []int
	for _, ie := range r.index {
		plen := int64(le32(data[ie.offset+1:]))
		ps = append(ps, data[ie.offset+blockHeaderSize:ie.offset+blockHeaderSize+plen])
		ns = append(ns, int(ie.events))
	}
	return ps, ns
}

// TestSlotRecordsAgainstGeneral checks the reader's slot-record loop
// against the general record decoder on whole blocks and on blocks with
// bytes changed (the loop must leave every malformed record to the
// general path, which reports it).
func TestSlotRecordsAgainstGeneral(t *testing.T) {
	h := newEngineModel(tinyShape).h
	rng := newRand(11)
	for name, events := range fastPathStreams() {
		t.Run(name, func(t *testing.T) {
			data := encode(t, h, events, WriterOptions{BlockEvents: 700})
			ps, ns := blockPayloads(t, data)
			for i, p := range ps {
				checkSlotRecords(t, p, ns[i], len(h.Tensors))
				for range 50 {
					q := bytes.Clone(p)
					for range 1 + rng.IntN(3) {
						q[rng.IntN(len(q))] = byte(rng.Uint32())
					}
					checkSlotRecords(t, q, ns[i], len(h.Tensors))
				}
			}
		})
	}
}

// TestNextBufferSizes reads the same trace through buffers smaller
// than, equal to and larger than its blocks (decoded in place).
func TestNextBufferSizes(t *testing.T) {
	h := newEngineModel(tinyShape).h
	for name, events := range fastPathStreams() {
		data := encode(t, h, events, WriterOptions{BlockEvents: 300})
		for _, n := range []int{1, 7, 299, 300, 301, 1000, 1 << 16} {
			_, got, err := decodeAll(data, n)
			if err != nil {
				t.Fatalf("%s, buffer %d: %v", name, n, err)
			}
			sameEvents(t, got, events)
		}
	}
}

// randomRecord appends a random, mostly well-formed record: field
// changes that fork streams (threads) and teach token and neuron strides,
// address corrections, repeats of every code, and now and then a random
// byte.
func randomRecord(rng interface{ IntN(int) int }, p []byte) []byte {
	k := byte(rng.IntN(4))
	if rng.IntN(4) == 0 {
		k = byte(rng.IntN(slotCount))
	}
	rep := byte(rng.IntN(4))
	if rng.IntN(5) == 0 {
		// An address run: entries of positions 0 to 3 (most of them
		// filled), small corrections and now and then a longer varint.
		c := 1 + rng.IntN(runMax)
		p = append(p, srcRun|byte(c-1)<<4)
		for range c {
			z := uint64(rng.IntN(runPositions)) | uint64(rng.IntN(64))<<runPosBits
			if rng.IntN(8) == 0 {
				z |= uint64(rng.IntN(1<<20)) << runPosBits
			}
			p = binary.AppendUvarint(p, z)
		}
		return p
	}
	switch c := rng.IntN(10); {
	case c < 3:
		h := k | recFields | rep<<recRepeatSh
		if rng.IntN(2) == 0 {
			h |= recAddr
		}
		m := byte(rng.IntN(2)*fieldSize | rng.IntN(2)*fieldToken | rng.IntN(2)*fieldThread | rng.IntN(2)*fieldNeurons | rng.IntN(4)/3*fieldFork)
		p = append(p, h, m)
		if h&recAddr != 0 {
			p = append(p, byte(rng.IntN(128)))
		}
		if m&fieldSize != 0 {
			p = append(p, byte(1+rng.IntN(100)))
		}
		if m&fieldToken != 0 {
			p = append(p, byte(rng.IntN(5)))
		}
		if m&fieldThread != 0 {
			p = append(p, byte(rng.IntN(4)))
		}
		if m&fieldNeurons != 0 {
			p = append(p, byte(rng.IntN(9)), byte(rng.IntN(9)))
		}
	case c < 9:
		h := k | rep<<recRepeatSh
		if rng.IntN(2) == 0 {
			h |= recAddr
			p = append(p, h)
			if rng.IntN(4) == 0 {
				p = append(p, 0x80|byte(rng.IntN(128)), byte(rng.IntN(128)))
			} else {
				p = append(p, byte(rng.IntN(128)))
			}
		} else {
			p = append(p, h)
		}
	default:
		return append(p, byte(rng.IntN(256)))
	}
	if rep == 3 {
		p = append(p, byte(rng.IntN(6)))
	}
	return p
}

// TestSlotRecordsRandomPayloads checks the slot-record loop against the
// general path on random record sequences: payloads grown record by
// record as long as they decode (read whole, they also check the token
// range the decoder keeps), then with a random record more, with event
// counts below, at and above what they decode to.
func TestSlotRecordsRandomPayloads(t *testing.T) {
	rng := newRand(12)
	for range 400 {
		// A first event of size 1 at position 0 fills a slot.
		p := []byte{recFields, fieldSize, 1}
		n := 1
		for range 30 {
			q := randomRecord(rng, p)
			ev, err := decodePayload(t, q, MaxBlockEvents, 1, true)
			if err != nil && strings.Contains(err.Error(), "payload ends after") {
				p, n = q, len(ev)
			}
			checkSlotRecords(t, p, n, 1)
			checkSlotRecords(t, q, 1+rng.IntN(n+20), 1)
		}
		if _, err := decodePayload(t, p, n, 1, false); err != nil {
			t.Fatalf("payload %x of %d events: %v", p, n, err)
		}
	}
}
