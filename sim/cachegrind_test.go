package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/edgeprof/edgeprof/cache"
	"github.com/edgeprof/edgeprof/trace"
)

// cgCase is one reference run of testdata/cachegrind/pattern.c under
// Valgrind Cachegrind (see testdata/cachegrind/gen.sh).
type cgCase struct {
	Pattern int    `json:"pattern"`
	N       uint64 `json:"n"`
	Region  uint64 `json:"region"`
	Stride  uint64 `json:"stride"`
	Seed    uint64 `json:"seed"`
	Offset  uint64 `json:"offset"`
	Base    string `json:"base"`
	D1      string `json:"d1"`
	LL      string `json:"ll"`
	Dr      uint64 `json:"dr"`
	Dw      uint64 `json:"dw"`
	D1mr    uint64 `json:"d1mr"`
	D1mw    uint64 `json:"d1mw"`
	DLmr    uint64 `json:"dlmr"`
	DLmw    uint64 `json:"dlmw"`
}

func (c cgCase) String() string {
	return fmt.Sprintf("pattern%d-n%d-r%d-s%d-o%d/D1=%s/LL=%s", c.Pattern, c.N, c.Region, c.Stride, c.Offset, c.D1, c.LL)
}

// events is the Go twin of pattern.c: the same addresses, in order.
func (c cgCase) events(t *testing.T) []trace.Event {
	base, err := strconv.ParseUint(strings.TrimPrefix(c.Base, "0x"), 16, 64)
	if err != nil {
		t.Fatal(err)
	}
	const a, inc = 6364136223846793005, 1442695040888963407
	x := c.Seed
	ev := make([]trace.Event, 0, c.N)
	for i := uint64(0); i < c.N; i++ {
		var off uint64
		switch c.Pattern {
		case 1:
			off = (i*8 + c.Offset) & (c.Region - 1)
		case 2:
			off = (i*c.Stride + c.Offset) & (c.Region - 1)
		default:
			x = x*a + inc
			off = (x>>20)&(c.Region-8) + c.Offset
		}
		k := trace.Read
		if c.Pattern == 4 && x>>62 == 0 {
			k = trace.Write
		}
		ev = append(ev, trace.Event{Addr: base + off, Size: 8, Kind: k, Op: trace.OpOther})
	}
	return ev
}

// soc is a two-level LRU, no-prefetch, non-inclusive, write-allocate SoC
// with Cachegrind's D1 and LL geometries ("size,assoc,line").
func (c cgCase) soc(t *testing.T) *SoC {
	level := func(name, g string) string {
		f := strings.Split(g, ",")
		return fmt.Sprintf("  - {name: %s, size: %s, ways: %s, line: %s, replacement: lru, prefetcher: none, inclusion: non-inclusive, write_allocate: true}\n", name, f[0], f[1], f[2])
	}
	y := "name: cachegrind\ncaches:\n" + level("L1D", c.D1) + level("LL", c.LL)
	s, err := Parse([]byte(y), "cachegrind.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func loadCachegrind(t *testing.T) []cgCase {
	b, err := os.ReadFile(filepath.Join("..", "testdata", "cachegrind", "reference.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Cases []cgCase `json:"cases"`
	}
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.Cases) < 40 {
		t.Fatalf("reference.json has %d cases, want the 48 gen.sh writes", len(ref.Cases))
	}
	return ref.Cases
}

// TestCachegrindExact: the L1D and LL demand misses of a two-level LRU
// hierarchy equal Cachegrind's D1 and LL data misses, read and write
// apart, for every pattern and geometry in testdata/cachegrind. Patterns
// with offset 60 straddle lines; they agree under StraddleCachegrind,
// which counts an access the way Cachegrind does.
func TestCachegrindExact(t *testing.T) {
	for _, c := range loadCachegrind(t) {
		t.Run(c.String(), func(t *testing.T) {
			if c.Dr+c.Dw != c.N {
				t.Fatalf("Cachegrind saw %d data references, want the pattern's %d", c.Dr+c.Dw, c.N)
			}
			straddle := cache.StraddleLines
			if c.Offset != 0 {
				straddle = cache.StraddleCachegrind
			}
			res, err := Run(context.Background(), Trace{Name: c.String(), Format: trace.FormatDin, Source: Events(c.events(t))}, []*SoC{c.soc(t)}, Options{Straddle: straddle, WarmupTokens: -1})
			if err != nil {
				t.Fatal(err)
			}
			l1, ll := res[0].Levels[0], res[0].Levels[1]
			for _, m := range []struct {
				name      string
				got, want uint64
			}{
				{"L1D read misses (D1mr)", l1.ReadMisses, c.D1mr},
				{"L1D write misses (D1mw)", l1.WriteMisses, c.D1mw},
				{"LL read misses (DLmr)", ll.ReadMisses, c.DLmr},
				{"LL write misses (DLmw)", ll.WriteMisses, c.DLmw},
				{"L1D accesses (Dr+Dw)", l1.Accesses, c.Dr + c.Dw},
			} {
				if m.got != m.want {
					t.Errorf("%s = %d, want %d", m.name, m.got, m.want)
				}
			}
		})
	}
}

// TestCachegrindStraddleDiffers documents why the straddling patterns
// need StraddleCachegrind: counting every line of a straddling access as
// its own reference (the default) gives more accesses than Cachegrind's
// one per access.
func TestCachegrindStraddleDiffers(t *testing.T) {
	for _, c := range loadCachegrind(t) {
		if c.Offset == 0 || c.Pattern != 1 {
			continue
		}
		res, err := Run(context.Background(), Trace{Name: c.String(), Format: trace.FormatDin, Source: Events(c.events(t))}, []*SoC{c.soc(t)}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		// pattern 1 with offset 60: one access in 8 straddles.
		if got, want := res[0].Levels[0].Accesses, c.N+c.N/8; got != want {
			t.Errorf("%v: line references = %d, want %d (N + N/8 straddles)", c, got, want)
		}
		return
	}
	t.Fatal("no straddling sequential case in reference.json")
}

// TestCachegrindDinFile replays one reference pattern through a din file
// on disk, the way `edgeprof sim --soc FILE trace.din` does.
func TestCachegrindDinFile(t *testing.T) {
	cases := loadCachegrind(t)
	c := cases[len(cases)/2]
	for _, x := range cases {
		if x.Pattern == 4 && x.D1 == "32768,2,64" {
			c = x // mixed reads and writes
		}
	}
	dir := t.TempDir()
	din := filepath.Join(dir, "pattern.din")
	f, err := os.Create(din)
	if err != nil {
		t.Fatal(err)
	}
	w := trace.NewDinWriter(f)
	for _, e := range c.events(t) {
		w.Emit(e)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	res, err := RunFiles(context.Background(), []string{din}, []*SoC{c.soc(t)}, Options{WarmupTokens: -1})
	if err != nil {
		t.Fatal(err)
	}
	r := res[0]
	if r.Levels[0].Misses != c.D1mr+c.D1mw || r.Levels[1].Misses != c.DLmr+c.DLmw {
		t.Errorf("%v from din: misses L1D %d, LL %d; want %d, %d", c, r.Levels[0].Misses, r.Levels[1].Misses, c.D1mr+c.D1mw, c.DLmr+c.DLmw)
	}
	if r.Provenance.TraceFormat != "din" || len(r.Provenance.TraceSHA256) != 64 || r.Provenance.WarmupTokens != 0 {
		t.Errorf("provenance = %+v, want din, a sha256 and warm-up 0", r.Provenance)
	}
}
