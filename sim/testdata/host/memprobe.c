// memprobe: load-to-use latency by a dependent pointer chase over a
// random cyclic permutation of 64-byte lines, and single-thread read and
// copy bandwidth, on buffers far larger than the caches.
// gcc -O2 -o memprobe memprobe.c && ./memprobe [MiB]
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>

static double now(void) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }

int main(int argc, char **argv) {
	size_t mib = argc > 1 ? strtoul(argv[1], 0, 10) : 1024;
	if (mib < 2 || mib % 2) {
		fprintf(stderr, "memprobe: want an even number of MiB (2 MiB pages), at least 2\n");
		return 2;
	}
	size_t bytes = mib << 20, lines = bytes / 64;
	// Pointer chase: line i holds the address of the next line of a random cycle.
	// 2 MiB pages where the kernel gives them (THP), so that the chase
	// measures the memory and not page walks (nested ones in a VM).
	char *buf = aligned_alloc(2 << 20, bytes);
	madvise(buf, bytes, MADV_HUGEPAGE);
	size_t *perm = malloc(lines * sizeof *perm);
	for (size_t i = 0; i < lines; i++) perm[i] = i;
	for (size_t i = lines - 1; i > 0; i--) { size_t j = next() % (i + 1); size_t t = perm[i]; perm[i] = perm[j]; perm[j] = t; }
	for (size_t i = 0; i < lines; i++) *(char **)(buf + perm[i] * 64) = buf + perm[(i + 1) % lines] * 64;
	free(perm);
	char *p = buf;
	size_t steps = 20 * 1000 * 1000;
	for (size_t i = 0; i < 1000000; i++) p = *(char **)p; // warm the TLB path a little
	double t0 = now();
	for (size_t i = 0; i < steps; i++) p = *(char **)p;
	double lat = (now() - t0) / steps * 1e9;
	// Read bandwidth: sum 64-bit words; copy: memcpy into a second buffer.
	uint64_t *w = (uint64_t *)buf, s = 0;
	size_t words = bytes / 8;
	double best_read = 0, best_copy = 0;
	char *dst = aligned_alloc(2 << 20, bytes);
	madvise(dst, bytes, MADV_HUGEPAGE);
	memset(dst, 1, bytes);
	for (int r = 0; r < 5; r++) {
		t0 = now();
		for (size_t i = 0; i < words; i += 4) s += w[i] + w[i + 1] + w[i + 2] + w[i + 3];
		double gb = bytes / (now() - t0) / 1e9;
		if (gb > best_read) best_read = gb;
		t0 = now();
		memcpy(dst, buf, bytes);
		gb = 2.0 * bytes / (now() - t0) / 1e9; // read + write, as STREAM counts copy
		if (gb > best_copy) best_copy = gb;
	}
	printf("buffer %zu MiB: chase latency %.1f ns, read %.2f GB/s, copy %.2f GB/s (best of 5) [%p %llu]\n",
	       mib, lat, best_read, best_copy, (void *)p, (unsigned long long)(s & 1));
	return 0;
}
