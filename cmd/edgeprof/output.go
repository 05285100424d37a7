package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/mattn/go-isatty"
	"github.com/olekukonko/tablewriter"
)

// writeJSON prints v as indented JSON followed by a newline. JSON keys are
// a contract other tools read; structs that define them live next to the
// command that prints them.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	err := enc.Encode(v)
	var uv *json.UnsupportedValueError
	if errors.As(err, &uv) {
		// JSON has no NaN or Inf; the result itself is broken (a model
		// with non-finite weights, say), which the bare encoder error
		// does not tell.
		return fmt.Errorf("the result holds %s, which JSON cannot carry: the model or input produced non-finite numbers", uv.Str)
	}
	return err
}

// newTable returns a table writer with the house style. All tables go
// through here so their look is decided in one place.
func newTable(w io.Writer, header ...string) *tablewriter.Table {
	t := tablewriter.NewWriter(w)
	if len(header) > 0 {
		hs := make([]any, len(header))
		for i, h := range header {
			hs[i] = h
		}
		t.Header(hs...)
	}
	return t
}

// stderrIsTerminal reports whether progress bars should be drawn.
func stderrIsTerminal() bool {
	fd := os.Stderr.Fd()
	return isatty.IsTerminal(fd) || isatty.IsCygwinTerminal(fd)
}
