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
 *   netmem-ctl bind-rx --dmabuf SPEC --queues LIST [--hold S]
 *                                     bind a dmabuf of ours to queues there
 *   netmem-ctl unbind --binding ID    undo a bind-rx
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <netmem/ctl.h>
#include <netmem/dmabuf.h>

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
		"  bind-rx --dmabuf fd:N|SPEC --queues LIST [--buf-size N] [--dev NAME] [--hold S]\n"
		"                  bind a dmabuf of this process to RX queues of the serving one;\n"
		"                  the binding lives while this command runs: --hold S seconds,\n"
		"                  default until SIGINT/SIGTERM (or the server goes away)\n"
		"  unbind --binding ID   undo a bind-rx (from any connection of the same user)\n"
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

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = sig;
}

/* One connection, one request with @fd attached (-1: none); the first
 * answer line into @line. Returns the connected fd (kept open), or -errno. */
static int ask_line(const char *path, const char *req, int fd, char *line, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t got = 0;
	int s, ret;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa))) {
		ret = -errno;
		close(s);
		return ret;
	}
	ret = nm_ctl_client_send_fd(s, req, fd);
	if (ret) {
		close(s);
		return ret;
	}
	while (got < len - 1 && !memchr(line, '\n', got)) {
		struct pollfd p = { .fd = s, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 5000) <= 0) {
			close(s);
			return -ETIMEDOUT;
		}
		n = read(s, line + got, len - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	line[got] = '\0';
	return s;
}

static int bind_rx(const char *path, const char *spec, const char *queues,
		   unsigned int buf_size, const char *dev, int hold)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct nm_err err = { 0 };
	struct nm_dmabuf *buf = NULL;
	char req[512], line[1024];
	int s, fd, n;

	if (!spec || !queues) {
		fprintf(stderr, "netmem-ctl: bind-rx needs --dmabuf and --queues\n");
		return 2;
	}
	/* One word each: a space or a control character would make another
	 * argument of the request (or end it). */
	for (const char *v = queues; *v; v++)
		if ((unsigned char)*v <= ' ')
			goto bad_word;
	for (const char *v = dev ? dev : ""; *v; v++)
		if ((unsigned char)*v <= ' ')
			goto bad_word;
	/* Room for both and the fixed words: never a truncated request. */
	if (strlen(queues) + (dev ? strlen(dev) : 0) + 64 > sizeof(req)) {
		fprintf(stderr, "netmem-ctl: --queues and --dev together take at most %zu "
			"characters\n", sizeof(req) - 64);
		return 2;
	}
	if (nm_dmabuf_open_spec(spec, &buf, &err)) {
		fprintf(stderr, "netmem-ctl: %s\n", err.msg);
		return 1;
	}
	/* A memfd stand-in travels as itself; the server knows it is one. */
	fd = buf->emulated ? buf->backing_fd : buf->fd;
	n = snprintf(req, sizeof(req), "bind-rx queues=%s kind=%s", queues,
		     buf->emulated ? "memfd" : "dmabuf");
	if (buf_size)
		n += snprintf(req + n, sizeof(req) - (size_t)n, " buf-size=%u", buf_size);
	if (dev)
		n += snprintf(req + n, sizeof(req) - (size_t)n, " dev=%s", dev);
	snprintf(req + n, sizeof(req) - (size_t)n, "\n");
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	s = ask_line(path, req, fd, line, sizeof(line));
	if (s < 0) {
		fprintf(stderr, "netmem-ctl: %s: %s\n", path, strerror(-s));
		nm_dmabuf_put(buf);
		return 1;
	}
	fputs(line, stdout);
	fflush(stdout);
	if (!strstr(line, "\"binding\":")) {
		close(s);
		nm_dmabuf_put(buf);
		return 1;
	}
	/* The binding lives as long as this connection. */
	for (int waited = 0; !stop && (hold < 0 || waited < hold * 10); waited++) {
		struct pollfd p = { .fd = s, .events = POLLIN };

		if (poll(&p, 1, 100) > 0) {
			fprintf(stderr, "netmem-ctl: the serving process closed the connection; "
				"the binding is gone\n");
			break;
		}
	}
	close(s);
	nm_dmabuf_put(buf);
	printf("released\n");
	return 0;
bad_word:
	fprintf(stderr, "netmem-ctl: --queues and --dev take one word (no spaces or control "
		"characters)\n");
	return 2;
}

static int unbind(const char *path, long long id)
{
	char req[64], line[512];
	int s;

	if (id < 0) {
		fprintf(stderr, "netmem-ctl: unbind needs --binding ID\n");
		return 2;
	}
	snprintf(req, sizeof(req), "unbind %lld\n", id);
	s = ask_line(path, req, -1, line, sizeof(line));
	if (s < 0) {
		fprintf(stderr, "netmem-ctl: %s: %s\n", path, strerror(-s));
		return 1;
	}
	close(s);
	fputs(line, stdout);
	return strstr(line, "\"unbound\"") ? 0 : 1;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "sock", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "dmabuf", required_argument, NULL, 'd' },
		{ "queues", required_argument, NULL, 'q' },
		{ "buf-size", required_argument, NULL, 'B' },
		{ "dev", required_argument, NULL, 'D' },
		{ "hold", required_argument, NULL, 'H' },
		{ "binding", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	char path[512] = "";
	const char *cmd, *spec = NULL, *queues = NULL, *dev = NULL;
	unsigned int buf_size = 0;
	long long binding = -1;
	int hold = -1;
	bool json = false;
	int c, ret;
	char *end;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 's': snprintf(path, sizeof(path), "%s", optarg); break;
		case 'j': json = true; break;
		case 'd': spec = optarg; break;
		case 'q': queues = optarg; break;
		case 'D': dev = optarg; break;
		case 'B':
		case 'H':
		case 'b': {
			/* Decimal digits only: no sign, no spaces, no 0x. */
			long long max = c == 'b' ? 4294967295ll : 1 << 20;
			long long v;

			errno = 0;
			v = strtoll(optarg, &end, 10);
			if (errno || *optarg < '0' || *optarg > '9' || *end || v > max) {
				fprintf(stderr, "netmem-ctl: bad value for --%s: '%s' (decimal, 0 to %lld)\n",
					c == 'B' ? "buf-size" : c == 'H' ? "hold" : "binding", optarg,
					max);
				return 2;
			}
			if (c == 'B') buf_size = (unsigned int)v;
			else if (c == 'H') hold = (int)v;
			else binding = v;
			break;
		}
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
	    strcmp(cmd, "tcp-get") && strcmp(cmd, "bind-rx") && strcmp(cmd, "unbind")) {
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
	if (!strcmp(cmd, "bind-rx"))
		return bind_rx(path, spec, queues, buf_size, dev, hold);
	if (!strcmp(cmd, "unbind"))
		return unbind(path, binding);
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
