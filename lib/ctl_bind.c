/* SPDX-License-Identifier: MIT */
/*
 * bind-rx over the control socket (the kernel's netdev netlink bind-rx): a
 * process that does not own the NIC passes a dmabuf fd (SCM_RIGHTS) and a
 * queue list; the serving process creates the binding and binds it through
 * the same path as an in-process bind, so refusals carry the same reason.
 * The binding lives as long as the requesting connection (or until an
 * explicit unbind): a requester that dies cannot leak it.
 *
 *   bind-rx queues=LIST [dev=NAME] [buf-size=N] [kind=dmabuf|memfd]  + fd
 *     -> {"binding":ID,"dev":"sim0","queues":[..],"holder":"..."}   (kept open)
 *   unbind ID
 *     -> {"unbound":ID}
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_internal.h"

static void answer_error(FILE *out, const char *msg)
{
	fprintf(out, "{\"error\":\"");
	for (; *msg; msg++) {
		if (*msg == '"' || *msg == '\\')
			fputc('\\', out);
		if ((unsigned char)*msg >= 0x20)
			fputc(*msg, out);
	}
	fprintf(out, "\"}\n");
}

/* "1,3,5-7" into @q (at most @max); returns how many, or -1. */
static int parse_queues(const char *s, uint32_t *q, int max)
{
	int n = 0;

	while (*s) {
		char *end;
		unsigned long a = strtoul(s, &end, 10), b = a;

		if (end == s || a > 1023)
			return -1;
		if (*end == '-') {
			s = end + 1;
			b = strtoul(s, &end, 10);
			if (end == s || b < a || b > 1023)
				return -1;
		}
		for (unsigned long i = a; i <= b; i++) {
			if (n == max)
				return -1;
			q[n++] = (uint32_t)i;
		}
		if (*end == ',')
			end++;
		else if (*end)
			return -1;
		s = end;
	}
	return n;
}

static const char *arg(const char *args, const char *key, char *val, size_t len)
{
	size_t klen = strlen(key);

	for (const char *p = args; p && *p; p = strchr(p, ' ')) {
		while (*p == ' ')
			p++;
		if (!strncmp(p, key, klen) && p[klen] == '=') {
			size_t n = strcspn(p + klen + 1, " ");

			if (n >= len)
				return NULL;
			memcpy(val, p + klen + 1, n);
			val[n] = '\0';
			return val;
		}
	}
	return NULL;
}

static struct nm_netdev *find_dev(struct nm_ctl_server *s, const char *name,
				  struct nm_err *err)
{
	if (!s->ndevs) {
		nm_err_set(err, -ENODEV, "this process serves no device");
		return NULL;
	}
	if (!name) {
		if (s->ndevs == 1)
			return s->devs[0];
		nm_err_set(err, -EINVAL, "this process serves %u devices: name one (dev=NAME)",
			   s->ndevs);
		return NULL;
	}
	for (unsigned int i = 0; i < s->ndevs; i++)
		if (!strcmp(s->devs[i]->name, name))
			return s->devs[i];
	nm_err_set(err, -ENODEV, "no device named '%s' here", name);
	return NULL;
}

static void bind_rx(struct nm_ctl_server *s, struct ctl_client *c, const char *args,
		    FILE *out)
{
	char v_dev[NM_NETDEV_NAME_LEN], v_q[256], v_bs[16], v_kind[16];
	struct nm_binding_params bp = { 0 };
	struct nm_dmabuf_binding *b = NULL;
	struct nm_dmabuf *buf = NULL;
	struct nm_err err = { 0 };
	struct nm_netdev *dev;
	const char *kind = arg(args, "kind", v_kind, sizeof(v_kind));
	uint32_t q[64];
	int nq, ret;

	c->close_after = c->nheld == 0;
	if (c->passed_fd < 0) {
		answer_error(out, "bind-rx needs the dmabuf fd passed with the request (SCM_RIGHTS)");
		return;
	}
	if (c->nheld == CTL_MAX_HELD) {
		answer_error(out, "this connection holds as many bindings as it may");
		return;
	}
	nq = arg(args, "queues", v_q, sizeof(v_q)) ? parse_queues(v_q, q, 64) : -1;
	if (nq <= 0) {
		answer_error(out, "bind-rx needs queues=LIST (e.g. 1 or 1,3-4)");
		return;
	}
	if (arg(args, "buf-size", v_bs, sizeof(v_bs)))
		bp.buf_size = (uint32_t)strtoul(v_bs, NULL, 10);
	dev = find_dev(s, arg(args, "dev", v_dev, sizeof(v_dev)), &err);
	if (!dev) {
		answer_error(out, err.msg);
		return;
	}
	ret = kind && !strcmp(kind, "memfd") ?
	      nm_dmabuf_import_memfd(c->passed_fd, &buf, &err) :
	      nm_dmabuf_import(c->passed_fd, &buf, &err);
	if (!ret) {
		ret = nm_dmabuf_binding_create(dev->dma, buf, &bp, &b, &err);
		nm_dmabuf_put(buf);  /* the binding holds its own */
	}
	for (int i = 0; !ret && i < nq; i++)
		ret = nm_dmabuf_binding_bind_rxq(b, dev, q[i], &err);
	if (ret) {
		/* The same reason an in-process bind gets; queues bound before
		 * the refused one go back to host memory. */
		if (b)
			nm_dmabuf_binding_unbind(b);
		answer_error(out, err.msg);
		return;
	}
	snprintf(b->holder, sizeof(b->holder), "ctl conn %u, pid %d", c->id, (int)c->pid);
	c->held[c->nheld++] = b;
	c->close_after = false;
	fprintf(out, "{\"binding\":%u,\"dev\":\"%s\",\"queues\":[", b->id, dev->name);
	for (int i = 0; i < nq; i++)
		fprintf(out, "%s%u", i ? "," : "", q[i]);
	fprintf(out, "],\"holder\":\"%s\"}\n", b->holder);
}

static int release_one(struct ctl_client *c, unsigned int i, struct nm_err *err)
{
	int ret = nm_dmabuf_binding_unbind_err(c->held[i], err);

	if (!ret)
		c->held[i] = c->held[--c->nheld];
	return ret;
}

static void unbind(struct nm_ctl_server *s, struct ctl_client *c, const char *args,
		   FILE *out)
{
	char *end;
	unsigned long id = strtoul(args, &end, 10);
	struct nm_err err = { 0 };

	c->close_after = c->nheld == 0;
	if (end == args || *end) {
		answer_error(out, "usage: unbind ID");
		return;
	}
	for (unsigned int k = 0; k < CTL_MAX_CLIENTS; k++) {
		struct ctl_client *h = &s->clients[k];

		for (unsigned int i = 0; h->fd >= 0 && i < h->nheld; i++) {
			if (h->held[i]->id != id)
				continue;
			if (release_one(h, i, &err))
				answer_error(out, err.msg);
			else
				fprintf(out, "{\"unbound\":%lu}\n", id);
			return;
		}
	}
	snprintf(err.msg, sizeof(err.msg),
		 "binding %lu is not held through this control socket", id);
	answer_error(out, err.msg);
}

void ctl_request(struct nm_ctl_server *s, struct ctl_client *c, const char *req,
		 FILE *out)
{
	/* The application answers its own requests first (e.g. tcp-get). */
	if (s->hook && s->hook(s->hook_arg, req, out) != -ENOENT)
		return;
	if (!strncmp(req, "bind-rx ", 8))
		bind_rx(s, c, req + 8, out);
	else if (!strncmp(req, "unbind ", 7))
		unbind(s, c, req + 7, out);
	else
		nm_ctl_answer(s->devs, s->ndevs, req, out);
}

void ctl_release_held(struct nm_ctl_server *s, struct ctl_client *c)
{
	(void)s;
	while (c->nheld) {
		struct nm_err err = { 0 };

		if (release_one(c, c->nheld - 1, &err)) {
			/* The queue stays on it and says so; nothing more to do
			 * from here than to tell. */
			fprintf(stderr, "netmem: control connection %u closed: %s\n", c->id,
				err.msg);
			c->nheld--;
		}
	}
}
