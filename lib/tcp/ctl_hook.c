/* SPDX-License-Identifier: MIT */
/* "tcp-get" on the control socket: the stack's counters as JSON. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "tcp_internal.h"

static void tcp_json(FILE *out, const struct nm_tcp_counters *t)
{
#define F(name) fprintf(out, "\"%s\":%llu,", #name, (unsigned long long)t->name)
	F(segs); F(bytes); F(ooo); F(dup); F(partial_dup); F(bad_csum); F(no_verdict);
	F(copy_fallback); F(out_of_buffers); F(window_zero); F(window_update);
	F(acks_sent); F(rst_sent); F(rst_rcvd); F(ooo_queue_full); F(out_of_window);
	F(paws_rejected); F(bad_tokens); F(dgrams); F(dgram_drops);
	F(over_share); F(past_fin); F(dsacks_sent); F(keepalives_sent); F(idle_resets);
	F(ooo_pruned);
#undef F
	fprintf(out, "\"tokens_held\":%llu", (unsigned long long)t->tokens_held);
}

int nm_stack_ctl_hook(void *arg, const char *request, FILE *out)
{
	struct nm_stack *s = arg;
	struct nm_stack_counters sc;
	struct nm_conn *v[NM_SNAP_BATCH];
	unsigned int n, b = 0;
	bool first = true;

	if (strcmp(request, "tcp-get"))
		return -ENOENT;
	nm_stack_counters(s, &sc);
	fprintf(out, "{\"pid\":%d,\"stack\":{", (int)getpid());
#define F(name) fprintf(out, "\"%s\":%llu,", #name, (unsigned long long)sc.name)
	F(rx_frames); F(arp_replies); F(ns_answered); F(echo_replies); F(echo6_replies);
	F(not_for_us); F(no_listener); F(unknown_conn); F(malformed); F(bad_csum);
	F(no_verdict); F(rst_sent); F(tx_dropped); F(flow_steer_collisions);
	F(flow_steered); F(conns_accepted); F(conns_refused); F(syn_evicted);
	F(syn_over_limit);
#undef F
	fprintf(out, "\"tcp\":{");
	tcp_json(out, &sc.tcp);
	fprintf(out, "}},\"connections\":[");
	while ((n = stack_snapshot(s, v, NM_SNAP_BATCH, &b)))
		for (unsigned int i = 0; i < n; i++) {
			struct nm_conn_info ci;
			struct nm_tcp_counters t;
			char ip[64] = "";

			nm_conn_get_info(v[i], &ci);
			nm_conn_counters(v[i], &t);
			if (ci.ipver)
				inet_ntop(ci.ipver == 4 ? AF_INET : AF_INET6, ci.peer_ip, ip, sizeof(ip));
			fprintf(out, "%s{\"state\":\"%s\",\"peer\":\"%s\",\"peer-port\":%u,"
				"\"local-port\":%u,\"queue\":%u,\"rcv-wnd\":%u,",
				first ? "" : ",", ci.state, ip, ci.peer_port, ci.local_port,
				ci.queue, ci.rcv_wnd);
			tcp_json(out, &t);
			fputc('}', out);
			first = false;
			conn_put(v[i]);
		}
	fprintf(out, "]}\n");
	return 0;
}
