package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// fullDisk accepts the first n bytes, then fails as a full disk does.
type fullDisk struct{ n int }

var errNoSpace = errors.New("no space left on device")

func (f *fullDisk) Write(p []byte) (int, error) {
	if len(p) > f.n {
		k := f.n
		f.n = 0
		return k, errNoSpace
	}
	f.n -= len(p)
	return len(p), nil
}

// TestOutputWriteErrorFails: a table cut off by a failed write fails the
// command with the write's error, whatever the command ignored.
func TestOutputWriteErrorFails(t *testing.T) {
	cmd := newSocListCmd()
	cmd.SetArgs(nil)
	err := execute(cmd, &fullDisk{n: 100})
	if !errors.Is(err, errNoSpace) || !strings.HasPrefix(err.Error(), "writing the output: ") {
		t.Errorf("soc list on a full disk: error %v, want writing the output: %v", err, errNoSpace)
	}
	cmd = newSocListCmd()
	cmd.SetArgs(nil)
	if err := execute(cmd, &fullDisk{n: 1 << 20}); err != nil {
		t.Errorf("soc list with room: %v", err)
	}
}

// TestEngineFlagErrors: meaningless engine settings are refused before
// any model loads, with a message naming the flag.
func TestEngineFlagErrors(t *testing.T) {
	for _, c := range []struct {
		cmd  func() *cobra.Command
		args []string
		want string
	}{
		{newGenerateCmd, []string{"--temp", "NaN"}, "--temp NaN: want 0 (greedy) or a positive temperature"},
		{newGenerateCmd, []string{"--temp", "-1"}, "--temp -1: want 0 (greedy) or a positive temperature"},
		{newGenerateCmd, []string{"--top-p", "2"}, "--top-p 2: want a probability in [0, 1] (1 = off)"},
		{newGenerateCmd, []string{"--top-k", "-5"}, "--top-k -5: want 0 (off) or more"},
		{newGenerateCmd, []string{"-t", "0"}, "--threads 0: want 1 or more"},
		{newGenerateCmd, []string{"-n", "-1"}, "generate: -n -1: want 0 or more tokens"},
		{newLogitsCmd, []string{"--tokens", "1,,2"}, `--tokens "1,,2": an empty entry; want ids separated by single commas`},
		{newLogitsCmd, []string{"--tokens", "1", "-t", "-1"}, "--threads -1: want 1 or more"},
		{newPerplexityCmd, []string{"-f", "x.txt", "--ctx", "0"}, "ppl: --ctx 0: want a window of 4 tokens or more"},
		{newPerplexityCmd, []string{"-f", "x.txt", "--chunks", "-1"}, "ppl: --chunks -1: want 0 (all) or more"},
		{newTraceRecordCmd, []string{"-o", "x.etr", "--top-p", "-1"}, "--top-p -1: want a probability in [0, 1] (1 = off)"},
	} {
		_, _, err := runCmd(t, c.cmd(), c.args...)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%v: error %v, want one starting %q", c.args, err, c.want)
		}
	}
}

// TestSynthRefusesWhatTheDiskCannotHold: a model of petabytes (a typo in
// a dimension) is refused before a byte is written.
func TestSynthRefusesWhatTheDiskCannotHold(t *testing.T) {
	out := filepath.Join(t.TempDir(), "huge.gguf")
	if freeBytes(filepath.Dir(out)) < 0 {
		t.Skip("free disk space unknown on this system: the command would write the model")
	}
	_, err := runEdgeprof(t, "model", "synth", "--dim", "100000", "--ffn", "100000", "--layers", "1000",
		"--heads", "10", "--vocab", "32000", "--ctx", "2048", "-o", out)
	if err == nil || !strings.Contains(err.Error(), "bytes free") {
		t.Fatalf("synth of a 280 TB model: error %v, want one about the free space", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("%s exists after the refusal", out)
	}
}
