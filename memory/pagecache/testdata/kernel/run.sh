#!/bin/bash
# Runs pcscan in a fresh cgroup-v1 memory cgroup limited to 256 MiB after
# dropping the page cache. Needs root. Usage: run.sh OP...
set -e
cd "$(dirname "$0")"
cg=/sys/fs/cgroup/memory/pcscan
mkdir -p "$cg"
echo $((256 << 20)) > "$cg/memory.limit_in_bytes"
sync
echo 3 > /proc/sys/vm/drop_caches
echo $$ > "$cg/cgroup.procs"
exec ./pcscan "$@"
