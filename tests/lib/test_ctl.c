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

NM_TEST_MAIN(
	NM_TEST(test_socket_is_owner_only_under_umask_0),
	NM_TEST(test_group_writable_run_dir_is_refused),
	NM_TEST(test_run_dir_of_another_user_is_refused),
	NM_TEST(test_regular_file_at_path_is_kept),
	NM_TEST(test_only_a_stale_socket_is_replaced),
	NM_TEST(test_peer_of_another_user_is_refused),
)
