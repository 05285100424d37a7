// Package trace is the contract between the inference engine and
// everything that measures it: the Event type (one memory access), the Sink
// interface the engine emits through, the header with the tensor symbol
// table, the binary .etr trace format, importers of foreign traces
// (DineroIV din) and trace statistics.
//
// It owns:
//   - Event, Op, Kind, Phase, Sink and the address regions (event.go);
//   - the .etr format, version 1 (docs/trace-format.md): Writer/Create
//     stream events into checksummed blocks with bounded memory; Reader/Open
//     decode them without allocating per event, seek by token, and report
//     corruption and truncation with the failing block, its offset and the
//     good events before it;
//   - din import and export (DinReader, DinWriter) and ConvertFile;
//   - Stats/Collect: totals per op, layer, token and tensor, exact unique
//     lines and pages, and the exact LRU reuse-distance histogram.
//
// It imports only the standard library (and internal/atomicfile for
// output files). It knows nothing about transformers beyond the names of
// the engine's operations, and nothing about caches.
package trace
