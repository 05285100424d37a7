package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/edgeprof/edgeprof/internal/atomicfile"
)

// DefaultModel is the model used when none is named: karpathy's
// stories260K (MIT), as converted to GGUF by ggml-org.
const (
	DefaultModel       = "stories260K.gguf"
	DefaultModelSHA256 = "270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d"
	DefaultModelURL    = "https://huggingface.co/ggml-org/models/resolve/main/tinyllamas/stories260K.gguf"
	defaultModelMaxLen = 4 << 20 // the file is 1.1 MB; refuse anything far larger
)

// ModelSearchPath lists, in order, the folders where the default model is
// looked up when $EDGEPROF_MODEL is not set (when it is, it names the
// model): ./models, ../shared/models and the user cache folder.
func ModelSearchPath() []string {
	dirs := []string{"models", filepath.Join("..", "shared", "models")}
	if c, err := cacheDir(); err == nil {
		dirs = append(dirs, c)
	}
	return dirs
}

func cacheDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "edgeprof", "models"), nil
}

// ResolveModel returns the path of the model to use: path itself when
// given, else the default model from the search path, downloaded (and
// checked against its pinned SHA-256) into the user cache folder if it is
// nowhere local. logf, if set, reports the download.
func ResolveModel(path string, logf func(format string, args ...any)) (string, error) {
	if path != "" {
		if _, err := os.Stat(path); err != nil {
			return "", fmt.Errorf("model %s: %w", path, err)
		}
		return path, nil
	}
	// A model named by the environment must exist: falling back to
	// another one would profile a model nobody asked for.
	if env := os.Getenv("EDGEPROF_MODEL"); env != "" {
		st, err := os.Stat(env)
		if err != nil {
			return "", fmt.Errorf("EDGEPROF_MODEL=%s: %w", env, err)
		}
		if !st.IsDir() {
			return env, nil
		}
		p := filepath.Join(env, DefaultModel)
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("EDGEPROF_MODEL=%s is a folder without %s; name the model file or pass --model", env, DefaultModel)
		}
		return p, nil
	}
	var looked []string
	for _, d := range ModelSearchPath() {
		p := filepath.Join(d, DefaultModel)
		looked = append(looked, p)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	dir, err := cacheDir()
	if err != nil {
		return "", fmt.Errorf("default model %s not found (looked in %s) and no cache folder to download it to: %v; pass --model or set EDGEPROF_MODEL",
			DefaultModel, strings.Join(looked, ", "), err)
	}
	dst := filepath.Join(dir, DefaultModel)
	if logf != nil {
		logf("downloading default model %s from %s", DefaultModel, DefaultModelURL)
	}
	if err := download(DefaultModelURL, dst, DefaultModelSHA256); err != nil {
		return "", fmt.Errorf("default model %s not found (looked in %s) and the download failed: %v; pass --model or set EDGEPROF_MODEL",
			DefaultModel, strings.Join(looked, ", "), err)
	}
	return dst, nil
}

func download(url, dst, wantSHA string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	f, err := atomicfile.Create(dst)
	if err != nil {
		return err
	}
	defer f.Abort()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(resp.Body, defaultModelMaxLen+1))
	if err != nil {
		return err
	}
	if n > defaultModelMaxLen {
		return fmt.Errorf("GET %s: larger than %d bytes", url, defaultModelMaxLen)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != wantSHA {
		return fmt.Errorf("GET %s: sha256 %s, want %s", url, got, wantSHA)
	}
	return f.Commit()
}
