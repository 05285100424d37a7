// Package goldentest compares "key value" lines computed by a test with a
// file of expected lines kept in testdata, or rewrites that file.
package goldentest

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// Check compares lines ("key value", keys unique) with the lines of the
// file at path, key by key, reporting every mismatch and a different
// count; with update it writes lines to path instead.
func Check(tb testing.TB, path string, lines []string, update bool) {
	tb.Helper()
	if update {
		if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			tb.Fatal(err)
		}
		return
	}
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	want := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), " ")
		want[k] = v
	}
	if err := sc.Err(); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	if len(want) != len(lines) {
		tb.Errorf("%s has %d lines, want %d", path, len(want), len(lines))
	}
	for _, l := range lines {
		k, v, _ := strings.Cut(l, " ")
		if want[k] != v {
			tb.Errorf("%s: %s = %s, want %s", path, k, v, want[k])
		}
	}
}
