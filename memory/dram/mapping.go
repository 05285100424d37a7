package dram

import "strings"

// Address fields of the mapping string.
const (
	fCh = iota
	fRa
	fBg
	fBa
	fRo
	fCo
	numFields
)

var fieldNames = [numFields]string{"Ch", "Ra", "Bg", "Ba", "Ro", "Co"}

// mapper turns a byte address into channel, rank, bank and row. The low
// log2(block) bits (block = max(burst, transaction)) address bytes inside
// one request; the remaining bits are split into fields in the order of
// the mapping string, least significant field last. Bits above the
// capacity wrap around.
type mapper struct {
	blockBits uint
	shift     [numFields]uint
	mask      [numFields]uint64
	xor       bool
	bpgBits   uint
	rankShift uint // flat bank = rank<<rankShift | bg<<bpgBits | ba
}

// location is a decoded address within one channel.
type location struct {
	ch   int
	bank int // flat bank index within the channel: rank*banksPerRank + bg*bpg + ba
	row  int32
	// block is the address in units of the mapping block.
	block uint64
}

// parseMapping checks a mapping string against an organization and
// returns its fields from most to least significant.
func parseMapping(s string, o Organization) ([]int, error) {
	widths := fieldWidths(o)
	var order []int
	seen := [numFields]bool{}
	rest := s
	for len(rest) > 0 {
		if len(rest) < 2 {
			return nil, invalid("controller.mapping %q: trailing %q, want fields Ch Ra Bg Ba Ro Co such as RoRaBaCoBgCh", s, rest)
		}
		tok := rest[:2]
		rest = rest[2:]
		f := -1
		for i, n := range fieldNames {
			if strings.EqualFold(tok, n) {
				f = i
			}
		}
		if f < 0 {
			return nil, invalid("controller.mapping %q: unknown field %q, want Ch Ra Bg Ba Ro Co", s, tok)
		}
		if seen[f] {
			return nil, invalid("controller.mapping %q: field %s twice", s, fieldNames[f])
		}
		seen[f] = true
		order = append(order, f)
	}
	for f := range numFields {
		if seen[f] {
			continue
		}
		if f == fRo || f == fCo || f == fBa {
			return nil, invalid("controller.mapping %q: field %s missing", s, fieldNames[f])
		}
		if widths[f] != 0 {
			return nil, invalid("controller.mapping %q: field %s missing but its count is %d", s, fieldNames[f], 1<<widths[f])
		}
	}
	return order, nil
}

func fieldWidths(o Organization) [numFields]uint {
	return [numFields]uint{
		log2(o.Channels), log2(o.Ranks), log2(o.BankGroups), log2(o.BanksPerGroup), log2(o.Rows), 0,
	}
}

// newMapper builds the mapper of a validated config.
func newMapper(c Config) *mapper {
	order, _ := parseMapping(c.Controller.Mapping, c.Org)
	o := c.Org
	widths := fieldWidths(o)
	m := &mapper{xor: c.Controller.BankXOR, bpgBits: widths[fBa], rankShift: widths[fBa] + widths[fBg]}
	atom := o.BusWidth / 8 * o.BurstLength
	block := max(atom, c.Controller.TransactionBytes)
	rowBytes := o.Columns * o.DeviceWidth / 8 * (o.BusWidth / o.DeviceWidth)
	m.blockBits = log2(block)
	widths[fCo] = log2(rowBytes / block)
	pos := uint(0)
	for i := len(order) - 1; i >= 0; i-- {
		f := order[i]
		m.shift[f] = pos
		m.mask[f] = 1<<widths[f] - 1
		pos += widths[f]
	}
	return m
}

func (m *mapper) decode(addr uint64) location {
	a := addr >> (m.blockBits & 63)
	ba := a >> (m.shift[fBa] & 63) & m.mask[fBa]
	bg := a >> (m.shift[fBg] & 63) & m.mask[fBg]
	row := a >> (m.shift[fRo] & 63) & m.mask[fRo]
	if m.xor {
		ba ^= row & m.mask[fBa]
		bg ^= row >> (m.bpgBits & 63) & m.mask[fBg]
	}
	rank := a >> (m.shift[fRa] & 63) & m.mask[fRa]
	return location{
		ch:    int(a >> (m.shift[fCh] & 63) & m.mask[fCh]),
		bank:  int(rank<<(m.rankShift&63) | bg<<(m.bpgBits&63) | ba),
		row:   int32(row),
		block: a,
	}
}
