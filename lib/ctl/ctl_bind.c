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

void ctl_answer_error(FILE *out, const char *msg)
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

/* A decimal number, digits only (no sign, no 0x, no spaces), at most @max;
 * *@end past it. -1 when there is none or it is out of range. */
static int parse_dec(const char *s, const char **end, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	const char *p = s;

	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > max)
			return -1;
	}
	if (p == s)
		return -1;
	*end = p;
	*out = v;
	return 0;
}

/* "1,3,5-7" into @q (at most @max); returns how many, or -1. */
static int parse_queues(const char *s, uint32_t *q, int max)
{
	int n = 0;

	while (*s) {
		const char *end;
		uint64_t a, b;

		if (parse_dec(s, &end, 1023, &a))
			return -1;
		b = a;
		if (*end == '-' && (parse_dec(end + 1, &end, 1023, &b) || b < a))
			return -1;
		for (uint64_t i = a; i <= b; i++) {
			if (n == max)
				return -1;
			q[n++] = (uint32_t)i;
		}
		if (*end == ',' && end[1])
			end++;
		else if (*end)
			return -1;
		s = end;
	}
	return n;
}

/* The keys a request takes; a word that is none of them is refused. */
struct ctl_arg {
	const char *key;
	char *val;
	size_t len;    /* room for the value and its NUL */
	bool found;
};

/* Fill @a from "key=value key=value ..."; 0, or -1 with the reason in @err
 * (an unknown key, a key twice, an empty or over-long value: never
 * truncated, never ignored). */
static int parse_args(const char *args, struct ctl_arg *a, unsigned int n,
		      struct nm_err *err)
{
	for (const char *p = args; *p;) {
		size_t wlen, klen;
		const char *eq;
		unsigned int i;

		if (*p == ' ') {
			p++;
			continue;
		}
		wlen = strcspn(p, " ");
		eq = memchr(p, '=', wlen);
		klen = eq ? (size_t)(eq - p) : wlen;
		for (i = 0; i < n; i++)
			if (strlen(a[i].key) == klen && !strncmp(p, a[i].key, klen))
				break;
		if (i == n) {
			nm_err_set(err, -EINVAL, "unknown argument '%.*s'",
				   (int)(klen < 40 ? klen : 40), p);
			return -1;
		}
		if (!eq) {
			nm_err_set(err, -EINVAL, "%s needs a value: %s=VALUE", a[i].key, a[i].key);
			return -1;
		}
		if (a[i].found) {
			nm_err_set(err, -EINVAL, "%s= given twice", a[i].key);
			return -1;
		}
		if (wlen - klen - 1 == 0 || wlen - klen - 1 >= a[i].len) {
			nm_err_set(err, -EINVAL, "%s= takes 1 to %zu characters, got %zu",
				   a[i].key, a[i].len - 1, wlen - klen - 1);
			return -1;
		}
		memcpy(a[i].val, eq + 1, wlen - klen - 1);
		a[i].val[wlen - klen - 1] = '\0';
		a[i].found = true;
		p += wlen;
	}
	return 0;
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
	struct ctl_arg a[] = {
		{ .key = "queues", .val = v_q, .len = sizeof(v_q) },
		{ .key = "dev", .val = v_dev, .len = sizeof(v_dev) },
		{ .key = "buf-size", .val = v_bs, .len = sizeof(v_bs) },
		{ .key = "kind", .val = v_kind, .len = sizeof(v_kind) },
	};
	struct nm_binding_params bp = { 0 };
	struct nm_dmabuf_binding *b = NULL;
	struct nm_dmabuf *buf = NULL;
	struct nm_err err = { 0 };
	struct nm_netdev *dev;
	const char *kind = NULL, *end;
	uint32_t q[64];
	uint64_t v;
	int nq, ret;

	c->close_after = c->nheld == 0;
	if (parse_args(args, a, 4, &err)) {
		ctl_answer_error(out, err.msg);
		return;
	}
	if (c->passed_fd < 0) {
		ctl_answer_error(out, "bind-rx needs the dmabuf fd passed with the request (SCM_RIGHTS)");
		return;
	}
	if (c->nheld == CTL_MAX_HELD) {
		ctl_answer_error(out, "this connection holds as many bindings as it may");
		return;
	}
	nq = a[0].found ? parse_queues(v_q, q, 64) : -1;
	if (nq <= 0) {
		ctl_answer_error(out, "bind-rx needs queues=LIST of queue indexes 0 to 1023 "
			     "(e.g. 1 or 1,3-4, at most 64)");
		return;
	}
	for (int i = 0; i < nq; i++) {
		/* Every port's default queue (netmem/port.h): where the stack's
		 * ARP, neighbour discovery, echo and RSTs arrive. On a dmabuf
		 * they would be unreadable, and the port would go deaf. */
		if (q[i] == 0) {
			ctl_answer_error(out, "queue 0 is the port's default queue: it carries the "
				     "stack's ARP, neighbour discovery, ping and RST traffic and "
				     "stays on host memory; bind another queue");
			return;
		}
	}
	if (a[2].found) {
		if (parse_dec(v_bs, &end, 1u << 20, &v) || *end || !v) {
			ctl_answer_error(out, "buf-size= takes a decimal number of bytes, 1 to 1048576");
			return;
		}
		bp.buf_size = (uint32_t)v;
	}
	if (a[3].found) {
		if (strcmp(v_kind, "memfd") && strcmp(v_kind, "dmabuf")) {
			ctl_answer_error(out, "kind= is dmabuf or memfd");
			return;
		}
		kind = v_kind;
	}
	dev = find_dev(s, a[1].found ? v_dev : NULL, &err);
	if (!dev) {
		ctl_answer_error(out, err.msg);
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
		ctl_answer_error(out, err.msg);
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
	const char *end;
	uint64_t id;
	struct nm_err err = { 0 };

	c->close_after = c->nheld == 0;
	if (parse_dec(args, &end, UINT32_MAX, &id) || *end) {
		ctl_answer_error(out, "usage: unbind ID (a binding id: decimal, 0 to 4294967295)");
		return;
	}
	for (unsigned int k = 0; k < CTL_MAX_CLIENTS; k++) {
		struct ctl_client *h = &s->clients[k];

		for (unsigned int i = 0; h->fd >= 0 && i < h->nheld; i++) {
			if (h->held[i]->id != id)
				continue;
			if (release_one(h, i, &err))
				ctl_answer_error(out, err.msg);
			else
				fprintf(out, "{\"unbound\":%llu}\n", (unsigned long long)id);
			return;
		}
	}
	snprintf(err.msg, sizeof(err.msg),
		 "binding %llu is not held through this control socket",
		 (unsigned long long)id);
	ctl_answer_error(out, err.msg);
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
