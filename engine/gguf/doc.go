// Package gguf reads and writes GGUF files (versions 2 and 3), the model
// format of llama.cpp, exactly as llama.cpp commit c392e5094 lays them out
// (facts/gguf-and-quants.md §1).
//
// Reading: Open memory-maps a file read-only and Parse validates the
// whole header before anything is used — magic, version, counts, string
// and array lengths, metadata value types, general.alignment, tensor
// names, dims (1 to 4, each ≥ 1, element count within int64), type ids,
// whole blocks per row, offsets equal to llama.cpp's running padded sum,
// data inside the file. Every problem is a one-line *FormatError carrying
// a sentinel and the byte offset; nothing panics and no allocation is
// sized by a count the file has not backed with bytes. Tensor data is a
// view into the mapping, never copied.
//
// Writing: Writer streams a file (header, then each tensor's data in
// order) in O(row) memory, byte-identical to llama.cpp's gguf writer for
// the same content. File.WriteTo rewrites a parsed file.
//
// The package knows the ggml type table (block and byte sizes) but not how
// to decode blocks (engine/quant) nor what the metadata means for a model
// (engine).
package gguf
