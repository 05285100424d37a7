// Package filehash computes the SHA-256 of large files (models) without
// leaving them in the page cache, and remembers the result in a sidecar
// keyed by the file's size and modification time so that later runs do
// not read the file at all.
//
// Reading a multi-gigabyte model just to hash it would warm the page
// cache and spoil the cold-start measurements edgeprof exists to make, so
// Sum advises the kernel to drop each range right after hashing it
// (posix_fadvise POSIX_FADV_DONTNEED on Linux; elsewhere the advice is
// skipped). Pages of the file that were cached before are dropped too:
// after Sum the file is colder, never warmer.
package filehash

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/edgeprof/edgeprof/internal/atomicfile"
)

// chunk is the read size: large enough for full disk throughput, small
// enough that at most this much of the file is cached at any moment.
const chunk = 4 << 20

const marker = "# edgeprof-filehash v1"

// Hasher hashes files with a sidecar cache. The zero value is ready to
// use.
type Hasher struct {
	// CacheDir keeps hashes of files whose directory is not writable (or
	// with NoSidecar). Empty means os.UserCacheDir()/edgeprof/filehash.
	CacheDir string
	// NoSidecar never writes <file>.sha256 next to the file; existing
	// sidecars are still read.
	NoSidecar bool
}

// Result is a file's hash and where it came from.
type Result struct {
	// SHA256 is the lower-case hex digest.
	SHA256 string
	Size   int64
	// Cached is true when the hash came from a sidecar, without reading
	// the file.
	Cached bool
	// Sidecar is the sidecar read or written; empty if none could be
	// written.
	Sidecar string
}

// Sum returns the hex SHA-256 of the file at path, using and updating the
// cache in the user cache folder. It never writes next to the file:
// model folders are often shared or read-only by intent, even when the
// process could write there.
func Sum(path string) (string, error) {
	r, err := Hasher{NoSidecar: true}.Sum(path)
	return r.SHA256, err
}

// Sum returns the SHA-256 of path. A sidecar whose recorded size and
// modification time (nanoseconds) match the file's is trusted; otherwise
// the file is read once, with its pages dropped behind the reader, and
// the result stored next to it (or in CacheDir).
func (h Hasher) Sum(path string) (Result, error) {
	st, err := os.Stat(path)
	if err != nil {
		return Result{}, fmt.Errorf("filehash: %w", err)
	}
	if !st.Mode().IsRegular() {
		return Result{}, fmt.Errorf("filehash: %s is not a regular file", path)
	}
	key := sidecarKey{size: st.Size(), mtime: st.ModTime().UnixNano()}
	next := path + ".sha256"
	cached := h.cachePath(path)
	for _, p := range []string{next, cached} {
		if p == "" {
			continue
		}
		if sum, ok := readSidecar(p, key); ok {
			return Result{SHA256: sum, Size: key.size, Cached: true, Sidecar: p}, nil
		}
	}
	sum, err := hashFile(path)
	if err != nil {
		return Result{}, err
	}
	res := Result{SHA256: sum, Size: key.size}
	if st2, err := os.Stat(path); err != nil || st2.Size() != key.size || st2.ModTime().UnixNano() != key.mtime {
		return Result{}, fmt.Errorf("filehash: %s changed while it was being hashed", path)
	}
	body := fmt.Sprintf("%s  %s\n%s size=%d mtime_ns=%d\n", sum, filepath.Base(path), marker, key.size, key.mtime)
	if !h.NoSidecar && canReplace(next) && atomicfile.WriteFile(next, []byte(body)) == nil {
		res.Sidecar = next
		return res, nil
	}
	if cached != "" {
		if os.MkdirAll(filepath.Dir(cached), 0o755) == nil && atomicfile.WriteFile(cached, []byte(body)) == nil {
			res.Sidecar = cached
		}
	}
	return res, nil
}

// cachePath names the cache-dir sidecar of path: keyed by the absolute
// path's hash, so that two models of the same name do not collide.
func (h Hasher) cachePath(path string) string {
	dir := h.CacheDir
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(base, "edgeprof", "filehash")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return ""
	}
	k := sha256.Sum256([]byte(abs))
	return filepath.Join(dir, hex.EncodeToString(k[:16])+".sha256")
}

type sidecarKey struct {
	size  int64
	mtime int64
}

// canReplace reports whether p is absent or one of our sidecars: a
// <file>.sha256 written by someone else is left alone.
func canReplace(p string) bool {
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return true
	}
	return err == nil && strings.Contains(string(b), "\n"+marker+" ")
}

// readSidecar returns the hash in p if p is our sidecar for key.
func readSidecar(p string, key sidecarKey) (string, bool) {
	f, err := os.Open(p)
	if err != nil {
		return "", false
	}
	defer f.Close()
	sc := bufio.NewScanner(io.LimitReader(f, 4096))
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) != 2 {
		return "", false
	}
	sum, _, _ := strings.Cut(lines[0], " ")
	if len(sum) != 64 || strings.ToLower(sum) != sum {
		return "", false
	}
	if _, err := hex.DecodeString(sum); err != nil {
		return "", false
	}
	rest, ok := strings.CutPrefix(lines[1], marker+" ")
	if !ok {
		return "", false
	}
	var size, mtime int64 = -1, -1
	for _, f := range strings.Fields(rest) {
		k, v, _ := strings.Cut(f, "=")
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return "", false
		}
		switch k {
		case "size":
			size = n
		case "mtime_ns":
			mtime = n
		}
	}
	if size != key.size || mtime != key.mtime {
		return "", false
	}
	return sum, true
}

// hashFile reads path once, dropping each hashed range from the page
// cache.
func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("filehash: %w", err)
	}
	defer f.Close()
	adviseSequential(f)
	h := sha256.New()
	buf := make([]byte, chunk)
	var off int64
	for {
		n, err := io.ReadFull(f, buf)
		h.Write(buf[:n])
		if n > 0 {
			dropCache(f, off, int64(n))
			off += int64(n)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return "", fmt.Errorf("filehash: read %s: %w", path, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
