package trace

// TensorSym describes one model tensor once, in the trace header; events
// refer to it by index (Event.Tensor).
type TensorSym struct {
	Name string
	// Type is the ggml type name as llama.cpp prints it ("F32", "Q8_0",
	// "Q4_K").
	Type string
	// Dims are in GGUF ne order: Dims[0] is the contiguous dimension.
	Dims []uint64
	// Offset is the absolute byte offset of the tensor's data in the
	// model file (the address its first byte has in events).
	Offset uint64
	// Size is the tensor's size in bytes.
	Size uint64
}

// Header is what a trace says about itself: which program and model made
// it, with which engine settings, and the symbol table of tensors.
type Header struct {
	EdgeprofVersion string
	ModelName       string
	// ModelSHA256 is the hex SHA-256 of the model file.
	ModelSHA256 string
	ModelSize   uint64
	// Settings are the engine settings of the run (sparsity mode, weight
	// layout, threads, ...). Writers store them sorted by key.
	Settings map[string]string
	Tensors  []TensorSym
}
