/* SPDX-License-Identifier: MIT */
/*
 * nm-dmabuf-hold: make a dmabuf, lend it to a command, then read what the
 * command's NIC wrote into it.
 *
 *   nm-dmabuf-hold [--source udmabuf:16M] [--buf-size 4096] [--headroom 128]
 *                  [--frames N] [--port P] [--payload-only] -- COMMAND [ARGS...]
 *
 * The dmabuf's fd is passed to COMMAND as NETMEM_DMABUF=fd:N, the memfd
 * behind it as NETMEM_DMABUF_MEMFD=M (the "dmabuf" mempool driver picks
 * them up; VFIO type1 pins the memfd), and this process keeps both, so the
 * memory outlives COMMAND. Afterwards every buffer is scanned at @headroom (where a
 * PMD puts a received frame: RTE_PKTMBUF_HEADROOM) for test frames
 * (test_frame.h) to UDP port P; every payload byte is checked. With
 * --payload-only the buffers hold UDP payloads alone (buffer split: the
 * headers went to another pool), which must start at @headroom.
 *
 * Exit: COMMAND's status if it failed; else 0 when frames 0..N-1 were all
 * found intact, 3 otherwise (one summary line on stdout either way).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <netmem/dmabuf.h>

#include "test_frame.h"

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "source", required_argument, NULL, 's' },
		{ "buf-size", required_argument, NULL, 'b' },
		{ "headroom", required_argument, NULL, 'r' },
		{ "frames", required_argument, NULL, 'n' },
		{ "port", required_argument, NULL, 'p' },
		{ "payload-only", no_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	const char *source = "udmabuf:16M";
	unsigned long buf_size = 4096, headroom = 128, frames = 0, port = 47000;
	struct nm_err err = { 0 };
	struct nm_dmabuf *db;
	uint8_t *seen, *mem;
	unsigned long found = 0, distinct = 0, bad = 0, extra = 0;
	unsigned long long bytes = 0;
	char env[32];
	void *addr;
	int c, fd, memfd = -1, status = 0, payload_only = 0;
	pid_t pid;

	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 's': source = optarg; break;
		case 'b': buf_size = strtoul(optarg, NULL, 0); break;
		case 'r': headroom = strtoul(optarg, NULL, 0); break;
		case 'n': frames = strtoul(optarg, NULL, 0); break;
		case 'p': port = strtoul(optarg, NULL, 0); break;
		case 'o': payload_only = 1; break;
		default: return 2;
		}
	}
	if (optind >= argc || !buf_size || headroom >= buf_size) {
		fprintf(stderr, "usage: nm-dmabuf-hold [--source udmabuf:16M] [--buf-size 4096] "
			"[--headroom 128] [--frames N] [--port P] [--payload-only] -- COMMAND "
			"[ARGS...]\n");
		return 2;
	}
	if (nm_dmabuf_open_spec(source, &db, &err)) {
		fprintf(stderr, "nm-dmabuf-hold: %s\n", err.msg);
		return 1;
	}
	if (db->fd < 0) {
		fprintf(stderr, "nm-dmabuf-hold: %s is no dmabuf (exporter %s): nothing to lend\n",
			source, db->exporter);
		return 1;
	}
	/* An fd the command inherits (netmem's own is close-on-exec). */
	fd = fcntl(db->fd, F_DUPFD, 10);
	if (fd < 0) {
		perror("nm-dmabuf-hold: dup");
		return 1;
	}
	snprintf(env, sizeof(env), "fd:%d", fd);
	setenv("NETMEM_DMABUF", env, 1);
	if (db->backing_fd >= 0) {
		memfd = fcntl(db->backing_fd, F_DUPFD, 10);
		if (memfd < 0) {
			perror("nm-dmabuf-hold: dup");
			return 1;
		}
		snprintf(env, sizeof(env), "%d", memfd);
		setenv("NETMEM_DMABUF_MEMFD", env, 1);
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		perror("nm-dmabuf-hold: fork");
		return 1;
	}
	if (pid == 0) {
		execvp(argv[optind], argv + optind);
		fprintf(stderr, "nm-dmabuf-hold: %s: %s\n", argv[optind], strerror(errno));
		_exit(127);
	}
	close(fd);
	if (memfd >= 0)
		close(memfd);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;

	if (nm_dmabuf_cpu_map(db, &addr, &err)) {
		fprintf(stderr, "nm-dmabuf-hold: %s\n", err.msg);
		return 1;
	}
	seen = calloc(frames ? frames : 1, 1);
	mem = addr;
	nm_dmabuf_begin_cpu_access(db, NM_DMABUF_READ);
	for (uint64_t off = 0; off + buf_size <= db->size; off += buf_size) {
		uint32_t seq, wrong, checked;

		const uint8_t *at = mem + off + headroom;
		uint32_t cap = (uint32_t)(buf_size - headroom);

		if (payload_only ? !nm_tf_check_payload(at, cap, &seq, &wrong, &checked) :
				   !nm_tf_check(at, cap, (uint16_t)port, &seq, &wrong, &checked))
			continue;
		found++;
		bytes += checked;
		if (wrong) {
			bad++;
			printf("# buffer at %#llx: frame %u wrong at payload byte %u\n",
			       (unsigned long long)off, seq, wrong - 1);
			continue;
		}
		if (seq < frames && !seen[seq]) {
			seen[seq] = 1;
			distinct++;
		} else {
			extra++;
		}
	}
	nm_dmabuf_end_cpu_access(db, NM_DMABUF_READ);
	printf("nm-dmabuf-hold: %s (%s, %llu MiB): %lu frames found, %lu of %lu distinct "
	       "intact, %llu payload bytes checked, %lu wrong, %lu repeats/others\n", source,
	       db->exporter, (unsigned long long)(db->size >> 20), found, distinct, frames,
	       bytes, bad, extra);
	free(seen);
	nm_dmabuf_put(db);
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "nm-dmabuf-hold: %s exited with status %d\n", argv[optind],
			WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
	}
	return distinct == frames && !bad ? 0 : 3;
}
