/* SPDX-License-Identifier: MIT */
/*
 * Error reporting: every call returns 0 or a negative errno; where a person
 * will read the outcome, it also fills an optional struct nm_err with the
 * reason. Callers may pass NULL when they only want the errno.
 */
#ifndef NETMEM_ERR_H
#define NETMEM_ERR_H

#ifdef __cplusplus
extern "C" {
#endif

#define NM_ERR_MSG_LEN 256

struct nm_err {
	int code;                  /* negative errno, 0 if none */
	char msg[NM_ERR_MSG_LEN];  /* human-readable reason */
};

/* Record @code and a printf-style reason in @err (may be NULL); returns @code. */
int nm_err_set(struct nm_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Clear @err (may be NULL). */
void nm_err_clear(struct nm_err *err);

#ifdef __cplusplus
}
#endif
#endif
