// Package sharedtest locates the real model files and text that tests and
// benchmarks read from the project's shared folder (../shared next to the
// repository), never from the repository itself.
//
// Overrides: EDGEPROF_MODEL (a model file, or a folder of models) and
// EDGEPROF_DATA (a folder of data files, or the text file itself). When a
// file is missing the test is skipped, unless the CI environment variable
// is set: then it fails, so CI never passes by skipping.
package sharedtest

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the shared folder (../shared next to the module root), or ""
// if it cannot be found.
func Dir() string {
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			s := filepath.Join(filepath.Dir(d), "shared")
			if st, err := os.Stat(s); err == nil && st.IsDir() {
				return s
			}
			return ""
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

func missing(tb testing.TB, what, path string) string {
	tb.Helper()
	if os.Getenv("CI") != "" {
		tb.Fatalf("%s not found at %q (CI is set, so this fails instead of skipping)", what, path)
	}
	tb.Skipf("%s not found at %q; set EDGEPROF_MODEL / EDGEPROF_DATA or provide ../shared", what, path)
	return ""
}

// Model returns the path of a model file by name, e.g.
// "stories260K.gguf" or "synth/synth-kq-Q4_K_M.gguf".
func Model(tb testing.TB, name string) string {
	tb.Helper()
	if env := os.Getenv("EDGEPROF_MODEL"); env != "" {
		if st, err := os.Stat(env); err == nil && !st.IsDir() {
			if filepath.Base(env) == filepath.Base(name) {
				return env
			}
			env = filepath.Dir(env)
		}
		p := filepath.Join(env, name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return File(tb, filepath.Join("models", name))
}

// Data returns the path of a data file by name, e.g. "tinystories_val.txt".
func Data(tb testing.TB, name string) string {
	tb.Helper()
	if env := os.Getenv("EDGEPROF_DATA"); env != "" {
		if st, err := os.Stat(env); err == nil && !st.IsDir() {
			if filepath.Base(env) == filepath.Base(name) {
				return env
			}
			env = filepath.Dir(env)
		}
		p := filepath.Join(env, name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return File(tb, filepath.Join("data", name))
}

// File returns the path of any file under the shared folder.
func File(tb testing.TB, rel string) string {
	tb.Helper()
	d := Dir()
	p := filepath.Join(d, rel)
	if d == "" {
		return missing(tb, rel, "../shared/"+rel)
	}
	if _, err := os.Stat(p); err != nil {
		return missing(tb, rel, p)
	}
	return p
}
