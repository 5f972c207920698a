/* SPDX-License-Identifier: MIT */
/*
 * The kernel's own TCP receive into host memory, as a C program does it:
 * the baseline netmem's userspace devmem TCP is measured against. Accepts
 * one connection, recv()s into one reused 1 MiB buffer until the peer
 * closes, prints one line:
 *
 *   bytes=N secs=S cpu_user=U cpu_sys=Y
 *
 *   tcp-sink ADDR PORT [READY_FILE]
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double tv(struct timeval t)
{
	return t.tv_sec + t.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	static char buf[1 << 20];
	struct rusage r0, r1;
	unsigned long long total = 0;
	double t0 = 0, t1;
	int one = 1, ls, c;
	ssize_t n;

	if (argc < 3 || inet_pton(AF_INET, argv[1], &a.sin_addr) != 1) {
		fprintf(stderr, "usage: tcp-sink ADDR PORT [READY_FILE]\n");
		return 2;
	}
	a.sin_port = htons((unsigned short)atoi(argv[2]));
	ls = socket(AF_INET, SOCK_STREAM, 0);
	if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(ls, (struct sockaddr *)&a, sizeof(a)) || listen(ls, 1)) {
		perror("tcp-sink: listen");
		return 1;
	}
	if (argc > 3)
		close(open(argv[3], O_WRONLY | O_CREAT | O_TRUNC, 0644));
	c = accept(ls, NULL, NULL);
	if (c < 0) {
		perror("tcp-sink: accept");
		return 1;
	}
	getrusage(RUSAGE_SELF, &r0);
	while ((n = recv(c, buf, sizeof(buf), 0)) > 0) {
		if (!total)
			t0 = now();
		total += (unsigned long long)n;
	}
	t1 = now();
	getrusage(RUSAGE_SELF, &r1);
	printf("bytes=%llu secs=%.6f cpu_user=%.6f cpu_sys=%.6f\n", total, t1 - (t0 ? t0 : t1),
	       tv(r1.ru_utime) - tv(r0.ru_utime), tv(r1.ru_stime) - tv(r0.ru_stime));
	return n < 0;
}
