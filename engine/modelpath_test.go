package engine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestResolveModelFromEnv: EDGEPROF_MODEL names the model (a file, or a
// folder holding the default model); a wrong name is an error, never a
// silent fall-back to another model.
func TestResolveModelFromEnv(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "m.gguf")
	if err := os.WriteFile(file, []byte("GGUF"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("EDGEPROF_MODEL", file)
	if p, err := ResolveModel("", nil); err != nil || p != file {
		t.Errorf("EDGEPROF_MODEL=file: %q, %v; want %q", p, err, file)
	}
	t.Setenv("EDGEPROF_MODEL", filepath.Join(dir, "typo.gguf"))
	if _, err := ResolveModel("", nil); err == nil || !strings.Contains(err.Error(), "EDGEPROF_MODEL="+filepath.Join(dir, "typo.gguf")) {
		t.Errorf("EDGEPROF_MODEL naming no file: error %v, want one naming EDGEPROF_MODEL", err)
	}
	t.Setenv("EDGEPROF_MODEL", dir)
	if _, err := ResolveModel("", nil); err == nil || !strings.Contains(err.Error(), "is a folder without "+DefaultModel) {
		t.Errorf("EDGEPROF_MODEL folder without the default model: error %v", err)
	}
	def := filepath.Join(dir, DefaultModel)
	if err := os.WriteFile(def, []byte("GGUF"), 0o644); err != nil {
		t.Fatal(err)
	}
	if p, err := ResolveModel("", nil); err != nil || p != def {
		t.Errorf("EDGEPROF_MODEL=folder: %q, %v; want %q", p, err, def)
	}
	// An explicit path wins over the environment.
	if p, err := ResolveModel(file, nil); err != nil || p != file {
		t.Errorf("explicit path: %q, %v", p, err)
	}
}
