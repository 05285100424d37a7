package gguf

import "fmt"

// Type is a ggml tensor type id as stored in GGUF tensor infos.
type Type uint32

// The ggml type ids (ggml.h at llama.cpp c392e5094). Ids 4, 5, 31-33 and
// 36-38 belonged to removed types and are rejected.
const (
	F32     Type = 0
	F16     Type = 1
	Q4_0    Type = 2
	Q4_1    Type = 3
	Q5_0    Type = 6
	Q5_1    Type = 7
	Q8_0    Type = 8
	Q8_1    Type = 9
	Q2_K    Type = 10
	Q3_K    Type = 11
	Q4_K    Type = 12
	Q5_K    Type = 13
	Q6_K    Type = 14
	Q8_K    Type = 15
	IQ2_XXS Type = 16
	IQ2_XS  Type = 17
	IQ3_XXS Type = 18
	IQ1_S   Type = 19
	IQ4_NL  Type = 20
	IQ3_S   Type = 21
	IQ2_S   Type = 22
	IQ4_XS  Type = 23
	I8      Type = 24
	I16     Type = 25
	I32     Type = 26
	I64     Type = 27
	F64     Type = 28
	IQ1_M   Type = 29
	BF16    Type = 30
	TQ1_0   Type = 34
	TQ2_0   Type = 35

	// NumTypes is GGML_TYPE_COUNT: ids >= NumTypes are invalid.
	NumTypes Type = 39
)

// QK_K is the super-block size of the K-quants.
const QK_K = 256

type typeTraits struct {
	name      string
	blockSize uint64 // elements per block; 0 = removed/invalid id
	typeSize  uint64 // bytes per block
}

// traits follows ggml.c's type_traits table. Types edgeprof cannot compute
// with still have their sizes here, so their files parse and `model info`
// can describe them; Supported says which ones the engine runs.
var traits = [NumTypes]typeTraits{
	F32:     {"F32", 1, 4},
	F16:     {"F16", 1, 2},
	Q4_0:    {"Q4_0", 32, 18},
	Q4_1:    {"Q4_1", 32, 20},
	Q5_0:    {"Q5_0", 32, 22},
	Q5_1:    {"Q5_1", 32, 24},
	Q8_0:    {"Q8_0", 32, 34},
	Q8_1:    {"Q8_1", 32, 36},
	Q2_K:    {"Q2_K", 256, 84},
	Q3_K:    {"Q3_K", 256, 110},
	Q4_K:    {"Q4_K", 256, 144},
	Q5_K:    {"Q5_K", 256, 176},
	Q6_K:    {"Q6_K", 256, 210},
	Q8_K:    {"Q8_K", 256, 292},
	IQ2_XXS: {"IQ2_XXS", 256, 66},
	IQ2_XS:  {"IQ2_XS", 256, 74},
	IQ3_XXS: {"IQ3_XXS", 256, 98},
	IQ1_S:   {"IQ1_S", 256, 50},
	IQ4_NL:  {"IQ4_NL", 32, 18},
	IQ3_S:   {"IQ3_S", 256, 110},
	IQ2_S:   {"IQ2_S", 256, 82},
	IQ4_XS:  {"IQ4_XS", 256, 136},
	I8:      {"I8", 1, 1},
	I16:     {"I16", 1, 2},
	I32:     {"I32", 1, 4},
	I64:     {"I64", 1, 8},
	F64:     {"F64", 1, 8},
	IQ1_M:   {"IQ1_M", 256, 56},
	BF16:    {"BF16", 1, 2},
	TQ1_0:   {"TQ1_0", 256, 54},
	TQ2_0:   {"TQ2_0", 256, 66},
}

// Valid reports whether t is a type id a file may use (known and not
// removed).
func (t Type) Valid() bool { return t < NumTypes && traits[t].blockSize != 0 }

// String returns the type name as llama.cpp prints it.
func (t Type) String() string {
	if t.Valid() {
		return traits[t].name
	}
	return fmt.Sprintf("type(%d)", uint32(t))
}

// BlockSize is the number of elements in one block (1 for plain types).
func (t Type) BlockSize() uint64 {
	if t < NumTypes {
		return traits[t].blockSize
	}
	return 0
}

// TypeSize is the number of bytes of one block.
func (t Type) TypeSize() uint64 {
	if t < NumTypes {
		return traits[t].typeSize
	}
	return 0
}

// RowSize returns the bytes of a row of n elements, or 0 if n is not a
// multiple of the block size.
func (t Type) RowSize(n uint64) uint64 {
	bs := t.BlockSize()
	if bs == 0 || n%bs != 0 {
		return 0
	}
	return n / bs * t.TypeSize()
}

// ParseType returns the type with the given name (case-insensitive).
func ParseType(name string) (Type, error) {
	for i := range traits {
		if traits[i].blockSize != 0 && equalFold(traits[i].name, name) {
			return Type(i), nil
		}
	}
	return 0, fmt.Errorf("gguf: unknown tensor type %q", name)
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'a' <= x && x <= 'z' {
			x -= 'a' - 'A'
		}
		if 'a' <= y && y <= 'z' {
			y -= 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
