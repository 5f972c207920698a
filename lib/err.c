/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <netmem/err.h>

int nm_err_set(struct nm_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

void nm_err_clear(struct nm_err *err)
{
	if (!err)
		return;
	err->code = 0;
	err->msg[0] = '\0';
}
