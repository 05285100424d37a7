// pcscan: scans files through the Linux page cache and reports, per pass,
// the pages read from disk (/proc/vmstat pgpgin), the kernel's workingset
// activations, and every file's resident pages afterwards (mincore).
// It is the reference edgeprof's page-cache model is compared with
// (TestLinuxMatchesKernel); see README.md for how it was run.
//
// usage: pcscan OP...   OP = FILE:MODE:PASSES
//   MODE mmap      one load per 4 KiB page through a shared mapping
//        mmaprand  the same after madvise(MADV_RANDOM): no read-around
//        read      one pread() of 1 byte per page
//        mmapshuf  mmap, the pages of a pass in a random order (the same
//                  permutation every pass, xorshift seeded with 1)
//        mmaphalf  mmap, in order, only the pages whose Fibonacci hash
//                  has its top bit clear (half of them, as a sparse
//                  model skips rows it does not need)
//        readhalf  the same pages by pread()
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAGE 4096
#define MAXFILES 8

struct file {
	char name[256];
	int fd;
	size_t bytes;
	unsigned char *map, *vec;
};

static struct file files[MAXFILES];
static int nfiles;

static long vmstat(const char *key) {
	FILE *f = fopen("/proc/vmstat", "r");
	char k[128];
	long v, r = -1;
	if (!f) return -1;
	while (fscanf(f, "%127s %ld", k, &v) == 2)
		if (!strcmp(k, key)) r = v;
	fclose(f);
	return r;
}

static struct file *open_file(const char *name) {
	for (int i = 0; i < nfiles; i++)
		if (!strcmp(files[i].name, name)) return &files[i];
	if (nfiles == MAXFILES) { fprintf(stderr, "pcscan: too many files\n"); exit(2); }
	struct file *f = &files[nfiles++];
	struct stat st;
	snprintf(f->name, sizeof f->name, "%s", name);
	f->fd = open(name, O_RDONLY);
	if (f->fd < 0 || fstat(f->fd, &st) < 0) { perror(name); exit(1); }
	f->bytes = st.st_size;
	f->map = mmap(NULL, f->bytes, PROT_READ, MAP_SHARED, f->fd, 0);
	if (f->map == MAP_FAILED) { perror("mmap"); exit(1); }
	f->vec = malloc(f->bytes / PAGE + 1);
	return f;
}

static void print_resident(void) {
	for (int i = 0; i < nfiles; i++) {
		size_t pages = files[i].bytes / PAGE, r = 0;
		mincore(files[i].map, files[i].bytes, files[i].vec);
		for (size_t j = 0; j < pages; j++) r += files[i].vec[j] & 1;
		printf(" %s=%zu/%zu", files[i].name, r, pages);
	}
	printf("\n");
}

int main(int argc, char **argv) {
	char name[256], mode[16];
	int passes;
	volatile unsigned char sink = 0;
	unsigned char buf[1];
	if (argc < 2) { fprintf(stderr, "usage: pcscan FILE:MODE:PASSES...\n"); return 2; }
	for (int a = 1; a < argc; a++) { // open everything first, so residency covers all files
		if (sscanf(argv[a], "%255[^:]:%15[^:]:%d", name, mode, &passes) != 3) { fprintf(stderr, "pcscan: bad op %s\n", argv[a]); return 2; }
		open_file(name);
	}
	for (int a = 1; a < argc; a++) {
		sscanf(argv[a], "%255[^:]:%15[^:]:%d", name, mode, &passes);
		struct file *f = open_file(name);
		size_t pages = f->bytes / PAGE;
		madvise(f->map, f->bytes, strcmp(mode, "mmaprand") ? MADV_NORMAL : MADV_RANDOM);
		size_t *order = malloc(pages * sizeof *order);
		size_t count = 0;
		for (size_t i = 0; i < pages; i++)
			if ((strcmp(mode, "mmaphalf") && strcmp(mode, "readhalf")) || ((unsigned long long)i * 0x9E3779B97F4A7C15ULL) >> 63 == 0)
				order[count++] = i;
		if (!strcmp(mode, "mmapshuf")) {
			unsigned long long x = 1;
			for (size_t i = pages - 1; i > 0; i--) {
				x ^= x << 13; x ^= x >> 7; x ^= x << 17;
				size_t j = x % (i + 1), t = order[i];
				order[i] = order[j]; order[j] = t;
			}
		}
		for (int p = 0; p < passes; p++) {
			long in0 = vmstat("pgpgin"), act0 = vmstat("workingset_activate_file");
			for (size_t i = 0; i < count; i++) {
				if (strcmp(mode, "read") && strcmp(mode, "readhalf")) sink += f->map[order[i] * PAGE];
				else if (pread(f->fd, buf, 1, order[i] * PAGE) == 1) sink += buf[0];
			}
			printf("%s %s pass %d: read %ld pages, activations %ld; resident:", name, mode, p,
			       (vmstat("pgpgin") - in0) / (PAGE / 1024), vmstat("workingset_activate_file") - act0);
			print_resident();
		}
		free(order);
	}
	return 0;
}
