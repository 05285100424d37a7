/*
 * pattern.c: a program whose only data references are one access pattern,
 * so that Cachegrind's D1 and LL data counts are exactly the pattern's.
 * No libc, no stack use in the loop (checked by gen.sh with objdump and by
 * Dr + Dw == N), and a loop small enough to stay in I1, so the only
 * instruction fetches that reach the unified LL are a few cold misses
 * before the first data reference of each code line.
 *
 * Build: gcc -O2 -nostdlib -static -no-pie -fno-pic -fno-builtin
 *        -fno-stack-protector -fcf-protection=none -DPATTERN=n -DN=... \
 *        -DREGION=... -DSTRIDE=... -DSEED=... -DOFFSET=...
 *
 * Patterns (the Go twin in sim/cachegrind_test.go generates the same
 * addresses from the base address of buf):
 *   1 seq:      load buf + (i*8 + OFFSET) mod REGION
 *   2 stride:   load buf + (i*STRIDE + OFFSET) mod REGION
 *   3 random:   x = x*A + C (mod 2^64); load buf + ((x >> 20) & (REGION-8)) + OFFSET
 *   4 mixed:    as random, but a store when x >> 62 == 0 (a quarter)
 * Every access is 8 bytes. With OFFSET = 0 every access is 8-byte aligned
 * and never straddles a line; OFFSET = 60 makes seq and stride accesses
 * straddle two 64-byte lines.
 */
#define A 6364136223846793005UL
#define C 1442695040888963407UL

static unsigned char buf[REGION + 64] __attribute__((aligned(4096)));

__attribute__((noreturn)) void _start(void)
{
	unsigned char *base = buf;
	unsigned long x = SEED;
	for (unsigned long i = 0; i < N; i++) {
		unsigned long off;
#if PATTERN == 1
		off = (i * 8 + OFFSET) & (REGION - 1);
#elif PATTERN == 2
		off = (i * STRIDE + OFFSET) & (REGION - 1);
#else
		x = x * A + C;
		off = ((x >> 20) & (REGION - 8)) + OFFSET;
#endif
#if PATTERN == 4
		if ((x >> 62) == 0) {
			__asm__ volatile("movq %%rcx, (%0)" : : "r"(base + off) : "memory");
			continue;
		}
#endif
		__asm__ volatile("movq (%0), %%rcx" : : "r"(base + off) : "rcx", "memory");
	}
	__asm__ volatile("mov $60, %%eax\n\txor %%edi, %%edi\n\tsyscall" : : : "rax", "rdi", "memory");
	__builtin_unreachable();
}
