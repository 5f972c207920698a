// SPDX-License-Identifier: GPL-2.0 OR MIT
/* Small helpers shared by the module's files. */
#include <linux/mm.h>
#include <linux/slab.h>

#include "nm_kmod.h"

int nm_err_set(struct nm_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vscnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

const char *nm_rxq_caps_str(u32 caps, char *buf, size_t len)
{
	static const char *const names[] = { "unreadable", "header-split", "restart" };
	size_t off = 0;
	unsigned int i;

	buf[0] = '\0';
	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (caps & (1u << i))
			off += scnprintf(buf + off, len - off, "%s%s",
					 off ? "," : "", names[i]);
	if (!off)
		scnprintf(buf, len, "-");
	return buf;
}

size_t nm_kvmalloc_bytes(size_t n)
{
	if (n > KMALLOC_MAX_SIZE)
		return PAGE_ALIGN(n);
	return kmalloc_size_roundup(n);
}
