// Package trace is the contract between the inference engine and
// everything that measures it: the Event type (one memory access), the Sink
// interface the engine emits through, the header with the tensor symbol
// table, the binary .etr trace format, importers of foreign traces
// (DineroIV din) and trace statistics.
//
// It imports only the standard library. It knows nothing about
// transformers beyond the names of the engine's operations, and nothing
// about caches.
package trace
