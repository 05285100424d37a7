#!/usr/bin/env python3
"""Shorten idle gaps in a DRAMsim3-format trace: every gap between two
arrivals longer than MAX cycles becomes MAX cycles, and the trace starts at
cycle 0. Queues, row buffers and refresh settle within far less than MAX,
so both simulators see the same requests in the same order at the same
spacing where it matters, in a fraction of the cycles (DRAMsim3 ticks every
cycle). Usage: shorten_gaps.py IN OUT [MAX=20000]"""
import sys

src, dst = sys.argv[1], sys.argv[2]
limit = int(sys.argv[3]) if len(sys.argv) > 3 else 20000
prev = first = None
shift = 0
with open(src) as f, open(dst, "w") as out:
    for line in f:
        addr, op, cycle = line.split()
        c = int(cycle)
        if first is None:
            first = c
        if prev is not None and c - prev > limit:
            shift += c - prev - limit
        prev = c
        out.write(f"{addr} {op} {c - shift - first}\n")
