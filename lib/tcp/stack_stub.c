/* SPDX-License-Identifier: MIT */
/* Placeholder until the stack lands: every entry point says so. */
#include <errno.h>
#include <string.h>

#include <netmem/tcp.h>

int nm_stack_create(const struct nm_stack_params *p, struct nm_stack **out,
		    struct nm_err *err)
{
	(void)p; (void)out;
	return nm_err_set(err, -ENOSYS, "the TCP stack is not built yet");
}
void nm_stack_destroy(struct nm_stack *s) { (void)s; }
int nm_stack_poll(struct nm_stack *s, uint32_t queue, unsigned int budget)
{ (void)s; (void)queue; (void)budget; return -ENOSYS; }
void nm_stack_run_timers(struct nm_stack *s) { (void)s; }
int nm_stack_listen(struct nm_stack *s, const struct nm_listen_params *p,
		    struct nm_listener **out, struct nm_err *err)
{ (void)s; (void)p; (void)out; return nm_err_set(err, -ENOSYS, "not built yet"); }
void nm_listener_close(struct nm_listener *l) { (void)l; }
int nm_listener_accept(struct nm_listener *l, struct nm_conn **out)
{ (void)l; (void)out; return -EAGAIN; }
int nm_conn_recv(struct nm_conn *c, struct nm_frag *f, unsigned int max)
{ (void)c; (void)f; (void)max; return -ENOSYS; }
int nm_conn_release_tokens(struct nm_conn *c, const struct nm_token_range *r,
			   unsigned int n, struct nm_err *err)
{ (void)c; (void)r; (void)n; return nm_err_set(err, -ENOSYS, "not built yet"); }
unsigned int nm_conn_refill(struct nm_conn *c, const uint32_t *t, unsigned int n)
{ (void)c; (void)t; (void)n; return 0; }
void nm_conn_close(struct nm_conn *c) { (void)c; }
void nm_conn_abort(struct nm_conn *c) { (void)c; }
void nm_conn_counters(struct nm_conn *c, struct nm_tcp_counters *o)
{ (void)c; memset(o, 0, sizeof(*o)); }
void nm_conn_get_info(struct nm_conn *c, struct nm_conn_info *o)
{ (void)c; memset(o, 0, sizeof(*o)); }
void nm_stack_counters(struct nm_stack *s, struct nm_stack_counters *o)
{ (void)s; memset(o, 0, sizeof(*o)); }
unsigned int nm_stack_addrs(struct nm_stack *s, struct nm_ip_addr *o, unsigned int m)
{ (void)s; (void)o; (void)m; return 0; }
