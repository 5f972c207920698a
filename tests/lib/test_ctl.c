/* SPDX-License-Identifier: MIT */
/*
 * The control socket's security: owner-only whatever the umask, a run
 * directory nobody else can write to, only stale sockets replaced (never a
 * regular file, never a live socket), peers of another user turned away.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <netmem/ctl.h>
#include <netmem/netmem.h>
#include <netmem/sim.h>
#include <sys/mman.h>
#include <time.h>

#include "nm_test.h"

static char dir[64];

static void fresh_dir(mode_t mode)
{
	snprintf(dir, sizeof(dir), "/tmp/nm-ctl-XXXXXX");
	if (!mkdtemp(dir))
		abort();
	chmod(dir, mode);
	setenv("NETMEM_RUN_DIR", dir, 1);
}

static void drop_dir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		printf("# could not remove %s\n", dir);
}

static void test_socket_is_owner_only_under_umask_0(void)
{
	struct nm_ctl_server *s = NULL;
	struct nm_err err = { 0 };
	struct stat st;
	mode_t old = umask(0);
	int ret;

	fresh_dir(0700);
	ret = nm_ctl_server_create(NULL, &s, &err);
	umask(old);
	CHECK_MSG(ret == 0, "%s", err.msg);
	CHECK_EQ(stat(nm_ctl_server_path(s), &st), 0);
	CHECK(S_ISSOCK(st.st_mode));
	CHECK_EQ(st.st_mode & 0777, 0600);
	nm_ctl_server_destroy(s);
	drop_dir();
}

static void test_group_writable_run_dir_is_refused(void)
{
	struct nm_ctl_server *s = NULL;
	struct nm_err err = { 0 };
	char sock[128];

	fresh_dir(0770);
	CHECK_EQ(nm_ctl_server_create(NULL, &s, &err), -EPERM);
	CHECK_MSG(strstr(err.msg, "writable by group or others") != NULL, "%s", err.msg);
	CHECK(s == NULL);
	snprintf(sock, sizeof(sock), "%s/netmem-%d.sock", dir, (int)getpid());
	CHECK(access(sock, F_OK) != 0);   /* nothing was created */
	drop_dir();
}

static void test_run_dir_of_another_user_is_refused(void)
{
	struct nm_ctl_server *s = NULL;
	struct nm_err err = { 0 };

	if (geteuid() != 0)
		SKIP("needs root to give the directory to another user");
	fresh_dir(0700);
	CHECK_EQ(chown(dir, 65534, 65534), 0);
	CHECK_EQ(nm_ctl_server_create(NULL, &s, &err), -EPERM);
	CHECK_MSG(strstr(err.msg, "owned by uid 65534") != NULL, "%s", err.msg);
	drop_dir();
}

static void test_regular_file_at_path_is_kept(void)
{
	struct nm_ctl_server *s = NULL;
	struct nm_err err = { 0 };
	char path[128], back[8] = "";
	int fd;

	fresh_dir(0700);
	snprintf(path, sizeof(path), "%s/precious", dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	CHECK(fd >= 0);
	CHECK_EQ(write(fd, "data", 4), 4);
	close(fd);
	CHECK_EQ(nm_ctl_server_create(path, &s, &err), -EEXIST);
	CHECK_MSG(strstr(err.msg, "not a socket") != NULL, "%s", err.msg);
	fd = open(path, O_RDONLY);
	CHECK(fd >= 0);
	CHECK_EQ(read(fd, back, sizeof(back)), 4);
	close(fd);
	CHECK(!memcmp(back, "data", 4));
	drop_dir();
}

static void test_only_a_stale_socket_is_replaced(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct nm_ctl_server *s = NULL, *t = NULL;
	struct nm_err err = { 0 };
	char path[108];
	int fd;

	fresh_dir(0700);
	snprintf(path, sizeof(path), "%s/ctl.sock", dir);
	CHECK_EQ(nm_ctl_server_create(path, &s, &err), 0);
	CHECK_EQ(nm_ctl_server_create(path, &t, &err), -EADDRINUSE);
	CHECK_MSG(strstr(err.msg, "in use") != NULL, "%s", err.msg);
	nm_ctl_server_destroy(s);

	/* A dead process's socket: bound, never unlinked. */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	CHECK_EQ(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	CHECK_EQ(nm_ctl_server_create(path, &t, &err), 0);
	nm_ctl_server_destroy(t);
	drop_dir();
}

/* A client of another user gets a refusal, not an answer, even when the
 * socket's mode would let it in. */
static void test_peer_of_another_user_is_refused(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct nm_ctl_server *s = NULL;
	struct nm_err err = { 0 };
	int pipefd[2], status = 0;
	char answer[256] = "";
	ssize_t n;
	pid_t pid;

	if (geteuid() != 0)
		SKIP("needs root to run a client as another user");
	fresh_dir(0755);
	CHECK_EQ(nm_ctl_server_create(NULL, &s, &err), 0);
	CHECK_EQ(chmod(nm_ctl_server_path(s), 0666), 0);
	CHECK_EQ(pipe(pipefd), 0);
	memcpy(sa.sun_path, nm_ctl_server_path(s), strlen(nm_ctl_server_path(s)) + 1);
	pid = fork();
	if (pid == 0) {
		int fd;

		close(pipefd[0]);
		if (setgid(65534) || setuid(65534))
			_exit(3);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			_exit(4);
		/* The refusal may come before the request is written. */
		(void)!send(fd, "dev-get\n", 8, MSG_NOSIGNAL);
		n = read(fd, answer, sizeof(answer) - 1);
		if (n <= 0)
			_exit(7);
		if (write(pipefd[1], answer, (size_t)n) != n)
			_exit(6);
		_exit(0);
	}
	close(pipefd[1]);
	for (int i = 0; i < 200; i++) {
		struct pollfd p = { .fd = pipefd[0], .events = POLLIN };

		nm_ctl_server_poll(s, 10);
		if (poll(&p, 1, 0) > 0)
			break;
	}
	n = read(pipefd[0], answer, sizeof(answer) - 1);
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);
	CHECK(n > 0);
	CHECK_MSG(strstr(answer, "permission denied") != NULL, "%s", answer);
	CHECK_MSG(strstr(answer, "\"pid\"") == NULL, "%s", answer);
	nm_ctl_server_destroy(s);
	drop_dir();
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);

	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Poll once, timing the call. */
static double timed_poll(struct nm_ctl_server *s, double *max)
{
	double t0 = now_ms(), dt;

	nm_ctl_server_poll(s, 0);
	dt = now_ms() - t0;
	if (dt > *max)
		*max = dt;
	return dt;
}

/*
 * Idle and slow clients cost the application nothing: no call of
 * nm_ctl_server_poll() waits on them (the old server waited up to a second
 * per idle client, inside the RX loop), a good client is answered meanwhile,
 * and the slow ones are dropped at their deadline.
 */
static void test_slow_clients_never_stall_poll(void)
{
	struct nm_sim_params sp = { .num_rx_queues = 4, .no_hugepages = true };
	struct nm_ctl_server *s = NULL;
	struct nm_sim *sim = NULL;
	int slow[15], good, gone = 0;
	char answer[8192];
	size_t got = 0;
	bool good_done = false;
	double max_ms = 0;

	fresh_dir(0700);
	CHECK_EQ(nm_sim_create(&sp, &sim, NULL), 0);
	CHECK_EQ(nm_ctl_server_create(NULL, &s, NULL), 0);
	CHECK_EQ(nm_ctl_server_add_netdev(s, nm_sim_netdev(sim)), 0);
	CHECK_EQ(nm_ctl_server_set_deadline(s, 300), 0);
	for (int i = 0; i < 15; i++) {
		slow[i] = connect_to(nm_ctl_server_path(s));
		CHECK(slow[i] >= 0);
		if (i >= 10)   /* half a request, never finished */
			CHECK_EQ(send(slow[i], "queue-", 6, 0), 6);
	}
	good = connect_to(nm_ctl_server_path(s));
	CHECK(good >= 0);
	CHECK_EQ(send(good, "queue-get\n", 10, 0), 10);
	for (int i = 0; i < 200 && !good_done; i++) {
		ssize_t n;

		timed_poll(s, &max_ms);
		n = recv(good, answer + got, sizeof(answer) - 1 - got, MSG_DONTWAIT);
		if (n > 0)
			got += (size_t)n;
		good_done = n == 0;
	}
	answer[got] = '\0';
	CHECK(good_done);
	CHECK_MSG(strstr(answer, "\"queues\"") != NULL, "%s", answer);
	/* 100 ms is generous for a few non-blocking syscalls; the old server
	 * took a second here for the first idle client alone. */
	CHECK_MSG(max_ms < 100, "a poll took %.1f ms", max_ms);

	/* Past the deadline the slow ones are dropped (the timer wakes us). */
	for (double until = now_ms() + 1000; now_ms() < until && gone < 15;) {
		char b[256];

		timed_poll(s, &max_ms);
		gone = 0;
		for (int i = 0; i < 15; i++) {
			ssize_t n = slow[i] < 0 ? 0 : recv(slow[i], b, sizeof(b), MSG_DONTWAIT);

			if (n == 0 && slow[i] >= 0) {
				close(slow[i]);
				slow[i] = -1;
			}
			gone += slow[i] < 0;
		}
		usleep(1000);
	}
	CHECK_EQ(gone, 15);
	CHECK_MSG(max_ms < 100, "a poll took %.1f ms", max_ms);
	close(good);
	nm_ctl_server_destroy(s);
	nm_sim_destroy(sim);
	drop_dir();
}

/* More connections than the server keeps: the extra ones are told so at
 * once, the others still served. */
static void test_connection_cap(void)
{
	struct nm_ctl_server *s = NULL;
	int fds[40], busy = 0;
	double max_ms = 0;

	fresh_dir(0700);
	CHECK_EQ(nm_ctl_server_create(NULL, &s, NULL), 0);
	for (int i = 0; i < 40; i++) {
		fds[i] = connect_to(nm_ctl_server_path(s));
		CHECK(fds[i] >= 0);
		timed_poll(s, &max_ms);
	}
	for (int i = 0; i < 20; i++)
		timed_poll(s, &max_ms);
	for (int i = 0; i < 40; i++) {
		char b[256] = "";

		if (recv(fds[i], b, sizeof(b) - 1, MSG_DONTWAIT) > 0 && strstr(b, "busy"))
			busy++;
		close(fds[i]);
	}
	CHECK_EQ(busy, 40 - 32);
	CHECK_MSG(max_ms < 100, "a poll took %.1f ms", max_ms);
	nm_ctl_server_destroy(s);
	drop_dir();
}

/* Send @req with @fd (-1: none) and poll the server until a line is back. */
static int request(struct nm_ctl_server *s, int c, const char *req, int fd,
		   char *line, size_t len)
{
	size_t got = 0;

	if (nm_ctl_client_send_fd(c, req, fd))
		return -1;
	for (int i = 0; i < 500 && !memchr(line, '\n', got); i++) {
		ssize_t n;

		nm_ctl_server_poll(s, 2);
		n = recv(c, line + got, len - 1 - got, MSG_DONTWAIT);
		if (n > 0)
			got += (size_t)n;
		line[got] = '\0';
	}
	return memchr(line, '\n', got) ? 0 : -1;
}

/* bind-rx at the library level: the fd is required, a memfd must be sealed,
 * and the binding goes when its connection does, refcounts back to one. */
static void test_bind_rx_lives_with_its_connection(void)
{
	struct nm_sim_params sp = { .num_rx_queues = 4, .no_hugepages = true };
	struct nm_ctl_server *s = NULL;
	struct nm_sim *sim = NULL;
	struct nm_dmabuf *buf = NULL;
	struct nm_dma_domain_stats st0, st1;
	struct nm_netdev *dev;
	char line[512];
	int c, plain;

	fresh_dir(0700);
	CHECK_EQ(nm_sim_create(&sp, &sim, NULL), 0);
	dev = nm_sim_netdev(sim);
	CHECK_EQ(nm_ctl_server_create(NULL, &s, NULL), 0);
	CHECK_EQ(nm_ctl_server_add_netdev(s, dev), 0);
	CHECK_EQ(nm_dmabuf_create_memfd(1 << 20, &buf, NULL), 0);

	c = connect_to(nm_ctl_server_path(s));
	CHECK_EQ(request(s, c, "bind-rx queues=2 kind=memfd\n", -1, line, sizeof(line)), 0);
	CHECK_MSG(strstr(line, "needs the dmabuf fd") != NULL, "%s", line);
	close(c);

	plain = memfd_create("unsealed", MFD_CLOEXEC);
	CHECK_EQ(ftruncate(plain, 1 << 20), 0);
	c = connect_to(nm_ctl_server_path(s));
	CHECK_EQ(request(s, c, "bind-rx queues=2 kind=memfd\n", plain, line, sizeof(line)), 0);
	CHECK_MSG(strstr(line, "sealed against shrinking") != NULL, "%s", line);
	close(c);
	close(plain);
	CHECK(dev->rxqs[2].mp.ops == NULL);

	nm_dma_domain_get_stats(dev->dma, &st0);
	c = connect_to(nm_ctl_server_path(s));
	CHECK_EQ(request(s, c, "bind-rx queues=2 kind=memfd\n", buf->backing_fd, line,
			 sizeof(line)), 0);
	CHECK_MSG(strstr(line, "\"binding\":") != NULL, "%s", line);
	CHECK(dev->rxqs[2].mp.ops == &nm_mp_dmabuf_ops);
	/* Idle past the deadline: a holder is not a slow client. */
	CHECK_EQ(nm_ctl_server_set_deadline(s, 50), 0);
	for (int i = 0; i < 20; i++)
		nm_ctl_server_poll(s, 10);
	CHECK(dev->rxqs[2].mp.ops == &nm_mp_dmabuf_ops);
	close(c);
	for (int i = 0; i < 50 && dev->rxqs[2].mp.ops; i++)
		nm_ctl_server_poll(s, 10);
	CHECK(dev->rxqs[2].mp.ops == NULL);
	/* The binding is gone with the connection: its mapping too. */
	nm_dma_domain_get_stats(dev->dma, &st1);
	CHECK_EQ(st1.unmaps - st0.unmaps, st1.maps - st0.maps);
	CHECK_EQ(st1.mapped_bytes, st0.mapped_bytes);
	nm_ctl_server_destroy(s);
	nm_sim_destroy(sim);
	CHECK_EQ(atomic_load(&buf->refs), 1);
	nm_dmabuf_put(buf);
	drop_dir();
}

/* Answers that used to be silence or a guess: a NUL byte, an over-long
 * value, the default queue, an id that is not decimal. Each gets an error
 * line with its reason, and nothing is bound. */
static void test_bad_requests_get_an_error_line(void)
{
	static const struct { const char *req; size_t len; const char *want; } cases[] = {
		{ "dev-get\0junk\n", 13, "NUL byte" },
		{ "bind-rx queues=0 kind=memfd\n", 0, "queue 0 is the port's default queue" },
		{ "bind-rx queues=1,0 kind=memfd\n", 0, "queue 0 is the port's default queue" },
		{ "bind-rx queues=2 kind=memfd dev="
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
		  0, "dev= takes 1 to" },
		{ "bind-rx queues=2 kind=memfd bogus=1\n", 0, "unknown argument 'bogus'" },
		{ "bind-rx queues=2 queues=3 kind=memfd\n", 0, "queues= given twice" },
		{ "bind-rx queues=-1 kind=memfd\n", 0, "queue indexes 0 to 1023" },
		{ "bind-rx queues=0x2 kind=memfd\n", 0, "queue indexes 0 to 1023" },
		{ "bind-rx queues=2 kind=memfd buf-size=4k\n", 0, "buf-size= takes a decimal" },
		{ "bind-rx queues=2 kind=elf\n", 0, "kind= is dmabuf or memfd" },
		{ "unbind -1\n", 0, "usage: unbind ID" },
		{ "unbind 4294967296\n", 0, "usage: unbind ID" },
		{ "unbind +3\n", 0, "usage: unbind ID" },
		{ "unbind 7\n", 0, "binding 7 is not held" },
	};
	struct nm_sim_params sp = { .num_rx_queues = 4, .no_hugepages = true };
	struct nm_ctl_server *s = NULL;
	struct nm_sim *sim = NULL;
	struct nm_dmabuf *buf = NULL;
	struct nm_netdev *dev;
	char line[512], longreq[700];
	int c;

	fresh_dir(0700);
	CHECK_EQ(nm_sim_create(&sp, &sim, NULL), 0);
	dev = nm_sim_netdev(sim);
	CHECK_EQ(nm_ctl_server_create(NULL, &s, NULL), 0);
	CHECK_EQ(nm_ctl_server_add_netdev(s, dev), 0);
	CHECK_EQ(nm_dmabuf_create_memfd(1 << 20, &buf, NULL), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].req);
		size_t got = 0;

		c = connect_to(nm_ctl_server_path(s));
		CHECK(c >= 0);
		if (cases[i].len) {
			/* nm_ctl_client_send_fd() stops at the NUL: send it raw. */
			CHECK_EQ(send(c, cases[i].req, len, MSG_NOSIGNAL), (ssize_t)len);
			line[0] = '\0';
			for (int k = 0; k < 500 && !memchr(line, '\n', got); k++) {
				ssize_t n;

				nm_ctl_server_poll(s, 2);
				n = recv(c, line + got, sizeof(line) - 1 - got, MSG_DONTWAIT);
				if (n > 0)
					got += (size_t)n;
				line[got] = '\0';
			}
		} else {
			CHECK_EQ(request(s, c, cases[i].req, buf->backing_fd, line,
					 sizeof(line)), 0);
		}
		CHECK_MSG(strstr(line, "\"error\"") && strstr(line, cases[i].want),
			  "'%s': %s", cases[i].req, line);
		close(c);
	}
	for (uint32_t q = 0; q < 4; q++)
		CHECK(dev->rxqs[q].mp.ops == NULL);
	/* A line longer than the server takes: refused whole, and its tail is
	 * not read as a request of its own. */
	memset(longreq, 'x', sizeof(longreq));
	memcpy(longreq, "bind-rx queues=2 dev=", 21);
	memcpy(longreq + sizeof(longreq) - 10, " dev-get\n", 9);
	longreq[sizeof(longreq) - 1] = '\0';
	c = connect_to(nm_ctl_server_path(s));
	CHECK_EQ(request(s, c, longreq, -1, line, sizeof(line)), 0);
	CHECK_MSG(strstr(line, "longer than 510 bytes") != NULL, "%s", line);
	CHECK(strstr(line, "devices") == NULL);
	close(c);
	nm_ctl_server_destroy(s);
	nm_sim_destroy(sim);
	nm_dmabuf_put(buf);
	drop_dir();
}

NM_TEST_MAIN(
	NM_TEST(test_socket_is_owner_only_under_umask_0),
	NM_TEST(test_group_writable_run_dir_is_refused),
	NM_TEST(test_run_dir_of_another_user_is_refused),
	NM_TEST(test_regular_file_at_path_is_kept),
	NM_TEST(test_only_a_stale_socket_is_replaced),
	NM_TEST(test_peer_of_another_user_is_refused),
	NM_TEST(test_slow_clients_never_stall_poll),
	NM_TEST(test_connection_cap),
	NM_TEST(test_bind_rx_lives_with_its_connection),
	NM_TEST(test_bad_requests_get_an_error_line),
)
