package goldentest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recorder captures what Check reports.
type recorder struct {
	testing.TB
	errors []string
}

func (r *recorder) Helper()                           {}
func (r *recorder) Errorf(format string, args ...any) { r.errors = append(r.errors, format) }

func TestCheck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "golden.txt")
	lines := []string{"a 1", "b 2"}
	Check(t, path, lines, true)
	if b, _ := os.ReadFile(path); string(b) != "a 1\nb 2\n" {
		t.Fatalf("written file = %q, want %q", b, "a 1\nb 2\n")
	}
	for _, c := range []struct {
		lines      []string
		wantErrors int
	}{
		{[]string{"b 2", "a 1"}, 0},        // order does not matter
		{[]string{"a 1", "b 3"}, 1},        // changed value
		{[]string{"a 1"}, 1},               // missing line: count differs
		{[]string{"a 1", "b 2", "c 3"}, 2}, // extra key: count and value
	} {
		r := &recorder{TB: t}
		Check(r, path, c.lines, false)
		if len(r.errors) != c.wantErrors {
			t.Errorf("Check(%s) reported %d errors, want %d", strings.Join(c.lines, ","), len(r.errors), c.wantErrors)
		}
	}
}
