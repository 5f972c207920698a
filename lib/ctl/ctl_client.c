/* SPDX-License-Identifier: MIT */
/*
 * The control socket's client side: one request line, with an fd attached
 * as SCM_RIGHTS where it carries one ("bind-rx" hands over its dmabuf).
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <netmem/ctl.h>

int nm_ctl_client_send_fd(int sock, const char *req, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { (void *)req, strlen(req) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (fd >= 0) {
		struct cmsghdr *cm;

		m.msg_control = cbuf;
		m.msg_controllen = sizeof(cbuf);
		cm = CMSG_FIRSTHDR(&m);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	/* One sendmsg: the fd travels with the request's first byte. */
	n = sendmsg(sock, &m, MSG_NOSIGNAL);
	if (n < 0)
		return -errno;
	return n == (ssize_t)iov.iov_len ? 0 : -EIO;
}
