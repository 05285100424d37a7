#!/usr/bin/env python3
"""Deterministic trace generator for the DRAMsim3 reference runs.

Format (DRAMsim3 TraceBasedCPU, src/common.cc operator>>):
    0x<hex addr> READ|WRITE <cycle>\n
Every line, including the last one, ends with '\n' (see RESULTS.md for the
end-of-file behaviour of TraceBasedCPU).
All addresses are 64-B aligned and < 8 GiB.
"""
import os
import random
import sys

N = 200_000
LINE = 64
MEM = 8 << 30          # 8 GiB = channel_size 8192 MB
GIB4 = 4 << 30
MIB = 1 << 20
NLINES = MEM // LINE


def rand_addrs(seed):
    r = random.Random(seed)
    return [r.randrange(NLINES) * LINE for _ in range(N)]


def traces():
    seq = [i * LINE for i in range(N)]
    yield "seq-read", [(a, "READ", 0) for a in seq]
    yield "seq-write", [(a, "WRITE", 0) for a in seq]
    yield "rand-read", [(a, "READ", 0) for a in rand_addrs(1)]
    yield "rand-rw", [(a, "WRITE" if i % 3 == 2 else "READ", 0)
                      for i, a in enumerate(rand_addrs(2))]
    yield "stride-4k", [(i * 4096, "READ", 0) for i in range(N)]
    yield "stride-1m", [((i * MIB) % MEM, "READ", 0) for i in range(N)]
    cp = []
    for j in range(N):
        i = j // 2
        if j % 2 == 0:
            cp.append((i * LINE, "READ", 0))
        else:
            cp.append((GIB4 + i * LINE, "WRITE", 0))
    yield "copy", cp
    yield "rand-read-paced", [(a, "READ", 40 * i)
                              for i, a in enumerate(rand_addrs(3))]
    yield "seq-read-paced", [(i * LINE, "READ", 12 * i) for i in range(N)]


def main(outdir):
    os.makedirs(outdir, exist_ok=True)
    for name, reqs in traces():
        assert len(reqs) == N
        for a, _, _ in reqs:
            assert a % LINE == 0 and 0 <= a < MEM
        with open(os.path.join(outdir, name + ".trace"), "w") as f:
            f.write("".join("0x%x %s %d\n" % r for r in reqs))
        print(name, len(reqs))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else
         os.path.join(os.path.dirname(os.path.abspath(__file__)), "traces"))
