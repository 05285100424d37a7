package trace

// EmitBatch encodes evs in order, as Emit would one by one (BatchSink).
func (w *Writer) EmitBatch(evs []Event) {
	for i := range evs {
		w.Emit(evs[i])
	}
}
