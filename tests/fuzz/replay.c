/* SPDX-License-Identifier: MIT */
/*
 * The fuzz target without libFuzzer (any compiler, any sanitizer): runs
 * every input named, files or directories of them, and prints a TAP line
 * per directory or file; --gen DIR writes the seed corpus.
 *
 *   fuzz_tcp_replay tests/fuzz/corpus          the corpus, as the unit suite does
 *   fuzz_tcp_replay crash-1234                 one input (a crash libFuzzer kept)
 *   fuzz_tcp_replay --gen tests/fuzz/corpus    (re)write the seeds
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <netmem/tcp.h>

#include "fuzz_tcp.h"

static int run_file(const char *path)
{
	static uint8_t buf[1 << 20];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f) {
		printf("# %s: %s\n", path, strerror(errno));
		return -1;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	fprintf(stderr, "# %s\n", path);
	LLVMFuzzerTestOneInput(buf, n);  /* aborts on a broken invariant */
	return 0;
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Returns the number of inputs run, < 0 on error. */
static int run_path(const char *path)
{
	struct stat st;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int ran = 0;
	DIR *d;

	if (stat(path, &st)) {
		printf("# %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return run_file(path) ? -1 : 1;
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			names = realloc(names, cap * sizeof(*names));
			if (!names)
				return -1;
		}
		names[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp);  /* the same order everywhere */
	for (size_t i = 0; i < n; i++) {
		char p[4096];

		snprintf(p, sizeof(p), "%s/%s", path, names[i]);
		if (run_file(p) == 0)
			ran++;
		free(names[i]);
	}
	free(names);
	return ran;
}

static void known(const char *what, unsigned long hits)
{
	printf("# known broken, not fatal: \"%s...\" %lu times\n", what, hits);
}

int main(int argc, char **argv)
{
	int fails = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && !strcmp(argv[1], "--gen")) {
		int n = fz_gen_seeds(argv[2]);

		if (n < 0) {
			fprintf(stderr, "fuzz_tcp_replay: writing seeds into %s failed\n", argv[2]);
			return 1;
		}
		printf("%d seeds written to %s\n", n, argv[2]);
		return 0;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR... | --gen DIR\n", argv[0]);
		return 2;
	}
	printf("1..%d\n", argc - 1);
	for (int i = 1; i < argc; i++) {
		int n = run_path(argv[i]);

		if (n <= 0) {
			printf("not ok %d - %s (%s)\n", i, argv[i], n ? "unreadable" : "no inputs");
			fails++;
		} else {
			printf("ok %d - %s: %d inputs, every invariant held\n", i, argv[i], n);
		}
	}
	fz_known_hits(known);
	{
		struct nm_stack_counters sc;
		uint64_t nobuf = fz_counters(&sc);
		/* What the inputs reached, so a corpus that stops reaching a
		 * path shows. */
		printf("# reached: segs %llu ooo %llu dup %llu partial_dup %llu out_of_window %llu "
		       "paws %llu ooo_queue_full %llu out_of_buffers %llu window_zero %llu "
		       "rst_rcvd %llu bad_tokens %llu bad_csum %llu malformed %llu refused %llu "
		       "nic_no_buffer %llu\n",
		       (unsigned long long)sc.tcp.segs, (unsigned long long)sc.tcp.ooo,
		       (unsigned long long)sc.tcp.dup, (unsigned long long)sc.tcp.partial_dup,
		       (unsigned long long)sc.tcp.out_of_window,
		       (unsigned long long)sc.tcp.paws_rejected,
		       (unsigned long long)sc.tcp.ooo_queue_full,
		       (unsigned long long)sc.tcp.out_of_buffers,
		       (unsigned long long)sc.tcp.window_zero, (unsigned long long)sc.tcp.rst_rcvd,
		       (unsigned long long)sc.tcp.bad_tokens,
		       (unsigned long long)(sc.tcp.bad_csum + sc.bad_csum),
		       (unsigned long long)sc.malformed, (unsigned long long)sc.conns_refused,
		       (unsigned long long)nobuf);
	}
	return fails ? 1 : 0;
}
