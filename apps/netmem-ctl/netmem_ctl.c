/* SPDX-License-Identifier: MIT */
/*
 * netmem-ctl: look inside running netmem processes through their control
 * sockets (like `ynl --family netdev --dump queue-get` for the kernel).
 *
 *   netmem-ctl list                   processes and their devices
 *   netmem-ctl queue-get              every queue: flags, provider, counters
 *   netmem-ctl --json queue-get       the same as JSON
 *   netmem-ctl --json page-pool-get   queues with their page pool counters
 *   netmem-ctl --json dev-get         devices only
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <netmem/ctl.h>

static void usage(FILE *out)
{
	fprintf(out,
		"usage: netmem-ctl [--sock PATH] [--json] COMMAND\n"
		"  list            running netmem processes (sockets in %s)\n"
		"  queue-get       every RX queue: flags, bound provider, counters\n"
		"  page-pool-get   queues with page pool counters (JSON)\n"
		"  dev-get         devices (JSON)\n"
		"  tcp-get         the TCP stack's counters and connections (JSON; a\n"
		"                  process running netmem-rx --listen)\n"
		"  --sock PATH     talk to this control socket (default: the only one running)\n"
		"  --json          print the JSON answer as it comes\n"
		"Set NETMEM_RUN_DIR to look elsewhere for sockets.\n",
		nm_ctl_run_dir());
}

/* Send @req to @path and copy the answer to @out. */
static int ask(const char *path, const char *req, FILE *out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[4096], line[128];
	ssize_t n;
	int fd, ret = 0, len;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* The whole request in one send: the server answers and closes once it
	 * has a line, and a second write would then meet a closed socket. */
	len = snprintf(line, sizeof(line), "%s\n", req);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    send(fd, line, (size_t)len, MSG_NOSIGNAL) != len) {
		ret = -errno;
		close(fd);
		return ret;
	}
	for (;;) {
		/* The process serves from its own loop: give it five seconds. */
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		if (poll(&pfd, 1, 5000) <= 0) {
			ret = -ETIMEDOUT;
			break;
		}
		n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		fwrite(buf, 1, (size_t)n, out);
	}
	close(fd);
	return ret;
}

/* Sockets in the run directory: returns how many, the first in @first. */
static int find_sockets(char *first, size_t len, bool print)
{
	const char *dir = nm_ctl_run_dir();
	struct dirent *de;
	DIR *d = opendir(dir);
	int found = 0;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char path[512];

		if (strncmp(de->d_name, "netmem-", 7) || !strstr(de->d_name, ".sock"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (print) {
			char *ans = NULL;
			size_t alen = 0;
			FILE *f = open_memstream(&ans, &alen);
			int r = ask(path, "dev-get", f);

			fclose(f);
			printf("%s: %s", path, r ? "not answering (stale?)\n" : ans);
			free(ans);
		}
		if (!found++)
			snprintf(first, len, "%s", path);
	}
	closedir(d);
	return found;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "sock", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	char path[512] = "";
	const char *cmd;
	bool json = false;
	int c, ret;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 's': snprintf(path, sizeof(path), "%s", optarg); break;
		case 'j': json = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	cmd = argv[optind];
	if (!strcmp(cmd, "list")) {
		if (!find_sockets(path, sizeof(path), true))
			printf("no netmem process is serving a control socket in %s\n",
			       nm_ctl_run_dir());
		return 0;
	}
	if (strcmp(cmd, "queue-get") && strcmp(cmd, "page-pool-get") && strcmp(cmd, "dev-get") &&
	    strcmp(cmd, "tcp-get")) {
		fprintf(stderr, "netmem-ctl: unknown command '%s'\n", cmd);
		usage(stderr);
		return 2;
	}
	if (!path[0]) {
		int n = find_sockets(path, sizeof(path), false);

		if (n != 1) {
			fprintf(stderr, "netmem-ctl: %s control socket in %s; name one with --sock "
				"(see: netmem-ctl list)\n", n ? "more than one" : "no",
				nm_ctl_run_dir());
			return 1;
		}
	}
	if (!json && strcmp(cmd, "queue-get")) {
		fprintf(stderr, "netmem-ctl: %s answers in JSON only: add --json\n", cmd);
		return 2;
	}
	ret = ask(path, json ? cmd : "queue-get text", stdout);
	if (ret) {
		fprintf(stderr, "netmem-ctl: %s: %s\n", path, strerror(-ret));
		return 1;
	}
	return 0;
}
