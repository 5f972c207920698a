/* SPDX-License-Identifier: MIT */
/*
 * netmem-rx: our ncdevmem. Binds a dmabuf to one RX queue, receives a flow,
 * checks every payload byte where it landed in the dmabuf (through a CPU
 * mapping used only for the check), and prints throughput, split counts and
 * the queue table.
 * On GPU memory (--dmabuf cuda:SIZE) the check runs on the GPU instead
 * (gpu_check.c) and the CPU reads no payload byte.
 *
 * With no NIC it runs on the software NIC, which also plays the sender; with
 * no /dev/udmabuf the dmabuf is a memfd standing in for one, and it says so.
 * With --listen and --dev igb:BDF (an Intel 82576 through VFIO) or
 * tap:IFNAME it is a TCP/UDP receiver for any sender on the wire (listen.c).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netmem/netmem.h>
#include <netmem/sim.h>

#include "netmem_rx.h"

/* Inject frames of @f from stream offset *@off; returns frames accepted. */

static unsigned int send_frames(struct nm_sim *sim, const struct nm_flow *f,
				uint32_t seed, uint64_t *off, uint32_t payload,
				unsigned int n, uint64_t limit)
{
	static uint8_t pl[9000], frame[9100];
	unsigned int sent = 0;

	while (sent < n && *off < limit) {
		uint32_t len = limit - *off < payload ? (uint32_t)(limit - *off) : payload;
		int flen;

		nm_pattern_fill(pl, len, *off, seed);
		flen = nm_pkt_build(frame, sizeof(frame), f, (uint32_t)*off, pl, len);
		if (flen < 0 || nm_sim_inject(sim, frame, (size_t)flen) < 0)
			break; /* ring full: let the receiver catch up */
		*off += len;
		sent++;
	}
	return sent;
}

/*
 * --hold on the software NIC: keep serving the control socket, and keep a
 * small flow running to every other queue, so a dmabuf bound there from
 * another process (netmem-ctl bind-rx) receives traffic. Payloads that land
 * in a dmabuf are checked through that dmabuf's own CPU mapping.
 */
struct hold_q {
	struct nm_flow flow;
	uint64_t sent, recvd, frames, in_dmabuf, mismatches;
};

static void hold_sim(const struct options *o, struct nm_ctl_server *ctl,
		     struct nm_sim *sim)
{
	struct hold_q *hq = calloc(o->queues, sizeof(*hq));
	double until = now_s() + o->hold;

	if (!ctl || !o->hold || !hq) {
		free(hq);
		return;
	}
	for (uint32_t q = 1; q < o->queues; q++) {
		nm_flow_from_name("udp4", (uint16_t)(6100 + q), &hq[q].flow);
		if (q != o->queue)
			nm_sim_steer(sim, &hq[q].flow, q);
	}
	printf("\nserving %s for %u s; a flow runs to every queue but %u meanwhile\n",
	       nm_ctl_server_path(ctl), o->hold, o->queue);
	fflush(stdout);
	while (now_s() < until && !stop_signal) {
		nm_ctl_server_poll(ctl, 10);
		for (uint32_t q = 1; q < o->queues; q++) {
			struct nm_rx_pkt pkts[16];
			unsigned int n;

			if (q == o->queue)
				continue;
			send_frames(sim, &hq[q].flow, 100 + q, &hq[q].sent, 1000, 4, UINT64_MAX);
			n = nm_sim_rx_burst(sim, q, pkts, 16);
			for (unsigned int i = 0; i < n; i++) {
				struct nm_rx_pkt *p = &pkts[i];
				const uint8_t *data = nm_netmem_address(p->payload);

				hq[q].frames++;
				if (nm_netmem_is_net_iov(p->payload)) {
					struct nm_net_iov *niov = nm_netmem_to_net_iov(p->payload);
					struct nm_dmabuf_binding *b = (struct nm_dmabuf_binding *)
						((char *)nm_net_iov_owner(niov) -
						 offsetof(struct nm_dmabuf_binding, area));
					uint8_t *cpu = NULL;

					hq[q].in_dmabuf++;
					nm_dmabuf_cpu_map(b->dmabuf, (void **)&cpu, NULL);
					data = cpu ? cpu + nm_net_iov_offset(niov) : NULL;
				}
				if (!data || nm_pattern_check(data, p->payload_len, hq[q].recvd,
							      100 + q) != -1)
					hq[q].mismatches++;
				hq[q].recvd += p->payload_len;
				nm_netmem_put(p->payload);
				if (p->hdr)
					nm_netmem_put(p->hdr);
			}
		}
	}
	for (uint32_t q = 1; q < o->queues; q++)
		if (hq[q].frames)
			printf("hold traffic: queue %u: %llu frames, %llu into a dmabuf, %llu "
			       "mismatched\n", q, (unsigned long long)hq[q].frames,
			       (unsigned long long)hq[q].in_dmabuf,
			       (unsigned long long)hq[q].mismatches);
	free(hq);
}

int main(int argc, char **argv)
{
	struct options o;
	struct nm_err err = { 0 };
	struct nm_dmabuf *buf = NULL;
	struct nm_sim *sim = NULL;
	struct nm_sim_params sp = { 0 };
	struct nm_netdev *dev;
	struct nm_dmabuf_binding *b = NULL;
	struct nm_ctl_server *ctl = NULL;
	struct nm_binding_params bp;
	uint64_t iter = 0;
	struct nm_flow flow, other;
	struct counters c = { 0 };
	uint64_t sent_off = 0, recv_off = 0, other_off = 0, other_recv = 0;
	uint32_t seed, next_report = 1, idle_rounds = 0;
	uint8_t *cpu = NULL;
	struct gpu_check gc = { 0 };
	bool gpu;
	double t0, elapsed;
	int ret = 2;

	if (parse_options(argc, argv, &o))
		return 2;
	catch_stop_signals();
	if (nm_flow_from_name(o.flow, o.port, &flow)) {
		fprintf(stderr, "netmem-rx: unknown flow '%s' (udp4, tcp4, udp6, tcp6)\n", o.flow);
		return 2;
	}
	nm_flow_from_name("udp6", 6000, &other);
	seed = o.port;

	if (nm_dmabuf_open_spec(o.dmabuf, &buf, &err)) {
		fprintf(stderr, "netmem-rx: %s\n", err.msg);
		return 2;
	}
	printf("dmabuf: %s, %llu MiB%s\n", buf->exporter,
	       (unsigned long long)(buf->size >> 20),
	       buf->emulated ? " -- no /dev/udmabuf here: a memfd stands in for the dmabuf "
			       "(same code path; the guest test bed runs a real udmabuf)" : "");
	if (buf->size % o.buf_size)
		fprintf(stderr, "netmem-rx: warning: the dmabuf's %llu bytes are not a multiple of "
			"the %u-byte buffer size: its last %llu bytes stay unused\n",
			(unsigned long long)buf->size, o.buf_size,
			(unsigned long long)(buf->size % o.buf_size));
	if (o.listen) {
		if (!o.dev)
			fprintf(stderr, "netmem-rx: --listen needs --dev tap:IFNAME or igb:BDF\n");
		ret = !o.dev || listen_precheck(&o, buf) ? 2 :
		      !strncmp(o.dev, "igb:", 4) ? run_listen_igb(&o, buf) : run_listen_tap(&o, buf);
		if (listen_verdict[0])
			printf("\n%s\n", listen_verdict);
		nm_dmabuf_put(buf);
		return ret;
	}
	gpu = gpu_check_wanted(buf);
	if (gpu && !o.dev)
		gpu_check_print(buf);
	gc = (struct gpu_check){ .buf = buf, .seed = seed };
	printf("device: software NIC (no NIC given), %u RX queues\n", o.queues);

	sp.num_rx_queues = o.queues;
	if (nm_sim_create(&sp, &sim, &err)) {
		fprintf(stderr, "netmem-rx: %s\n", err.msg);
		goto out;
	}
	if (nm_sim_host_mem(sim)->note[0])
		printf("warning: %s\n", nm_sim_host_mem(sim)->note);
	dev = nm_sim_netdev(sim);
	if (o.queue >= o.queues || (o.lesser_queue >= 0 && (uint32_t)o.lesser_queue >= o.queues)) {
		fprintf(stderr, "netmem-rx: queue out of range: the device has %u queues (0-%u)\n",
			o.queues, o.queues - 1);
		goto out;
	}
	if (o.lesser_queue >= 0) {
		/* Set up, not a restart: the flags take effect when the queue's
		 * memory is built, so the device is brought down and up again
		 * before anything is bound (no queue's restart count moves). */
		nm_netdev_close(dev);
		nm_sim_set_queue_caps(sim, (uint32_t)o.lesser_queue,
				      NM_RXQ_CAP_HEADER_SPLIT | NM_RXQ_CAP_RESTART);
		if (nm_netdev_open(dev, &err)) {
			fprintf(stderr, "netmem-rx: %s\n", err.msg);
			goto out;
		}
		printf("queue %d set up without the 'unreadable' flag, to show a refused bind\n",
		       o.lesser_queue);
	}

	if (start_ctl(&o, dev, &ctl))
		goto out;

	bp.buf_size = o.buf_size;
	if (nm_dmabuf_binding_create(dev->dma, buf, &bp, &b, &err)) {
		fprintf(stderr, "netmem-rx: %s\n", err.msg);
		goto out;
	}
	if (o.lesser_queue >= 0) {
		uint64_t before = nm_sim_op_count(sim, NM_SIM_OP_MEM_ALLOC) +
				  nm_sim_op_count(sim, NM_SIM_OP_STOP);
		int r = nm_dmabuf_binding_bind_rxq(b, dev, (uint32_t)o.lesser_queue, &err);

		printf("bind to queue %d: %s\n  -> %s (driver callbacks run: %llu)\n",
		       o.lesser_queue, r ? "refused, as it should be" : "ACCEPTED (unexpected)",
		       r ? err.msg : "", (unsigned long long)(nm_sim_op_count(sim, NM_SIM_OP_MEM_ALLOC) +
							       nm_sim_op_count(sim, NM_SIM_OP_STOP) - before));
	}
	if (nm_dmabuf_binding_bind_rxq(b, dev, o.queue, &err)) {
		fprintf(stderr, "netmem-rx: bind to queue %u: %s\n", o.queue, err.msg);
		goto out;
	}
	printf("bound %s to queue %u; receiving %llu MiB of %s to port %u\n",
	       o.dmabuf, o.queue, (unsigned long long)(o.bytes >> 20), o.flow, o.port);
	nm_sim_steer(sim, &flow, o.queue);
	nm_sim_steer(sim, &other, 0);
	if (!gpu && nm_dmabuf_cpu_map(buf, (void **)&cpu, &err)) {
		fprintf(stderr, "netmem-rx: cannot check the payload: %s\n", err.msg);
		goto out;
	}

	t0 = now_s();
	while (recv_off < o.bytes && !stop_signal) {
		struct nm_rx_pkt pkts[64];
		unsigned int n, sent;
		uint64_t before = recv_off;

		if (ctl && (++iter & 255) == 0)
			nm_ctl_server_poll(ctl, 0);
		sent = send_frames(sim, &flow, seed, &sent_off, o.payload, 64, o.bytes);
		/* A little traffic on queue 0 proves the other queues run on. */
		send_frames(sim, &other, 1, &other_off, 512, sent / 8 + 1, UINT64_MAX);

		if (!gpu)
			nm_dmabuf_begin_cpu_access(buf, NM_DMABUF_READ);
		n = nm_sim_rx_burst(sim, o.queue, pkts, 64);
		for (unsigned int i = 0; i < n; i++) {
			struct nm_rx_pkt *p = &pkts[i];
			struct nm_net_iov *niov = nm_netmem_to_net_iov(p->payload);

			c.frames++;
			c.split += (p->flags & NM_RX_PKT_SPLIT) != 0;
			c.hdr_bytes += p->hdr_len;
			c.payload_bytes += p->payload_len;
			if (nm_netmem_is_net_iov(p->payload)) {
				c.net_iov++;
				if (gpu)
					gpu_check_add(&gc, nm_net_iov_offset(niov),
						      p->payload_len, recv_off);
				/* The CPU reads the dmabuf only here, to check. */
				else if (nm_pattern_check(cpu + nm_net_iov_offset(niov),
							  p->payload_len, recv_off, seed) != -1)
					c.mismatches++;
			} else {
				c.mismatches++; /* payload must not be in host memory */
			}
			recv_off += p->payload_len;
			if (!gpu)       /* on the GPU: held until checked */
				nm_netmem_put(p->payload);
			if (p->hdr)
				nm_netmem_put(p->hdr);
		}
		if (gpu) {
			int r = gpu_check_flush(&gc, &c.mismatches);

			for (unsigned int i = 0; i < n; i++)
				nm_netmem_put(pkts[i].payload);
			if (r)
				break;
		} else {
			nm_dmabuf_end_cpu_access(buf, NM_DMABUF_READ);
		}
		n = nm_sim_rx_burst(sim, 0, pkts, 64);
		for (unsigned int i = 0; i < n; i++) {
			struct nm_rx_pkt *p = &pkts[i];

			c.other_frames++;
			if (nm_pattern_check(nm_netmem_address(p->payload), p->payload_len,
					     other_recv, 1) != -1)
				c.other_mismatches++;
			other_recv += p->payload_len;
			nm_netmem_put(p->payload);
			if (p->hdr)
				nm_netmem_put(p->hdr);
		}
		/* Judged on the flow's own queue only (queue 0 always has a
		 * little traffic): many rounds without a byte of it is a stall,
		 * whatever the sender does. */
		idle_rounds = recv_off == before ? idle_rounds + 1 : 0;
		if (idle_rounds == 10000) {
			struct nm_sim_rxq_stats st;

			nm_sim_rxq_stats(sim, o.queue, &st);
			fprintf(stderr, "netmem-rx: the flow stalled at %llu of %llu bytes: nothing "
				"arrived on queue %u in %u rounds (its drops: %llu no buffer, %llu too "
				"big, %llu stopped, %llu DMA faults)\n",
				(unsigned long long)recv_off, (unsigned long long)o.bytes, o.queue,
				idle_rounds, (unsigned long long)st.drop_no_buf,
				(unsigned long long)st.drop_too_big,
				(unsigned long long)st.drop_stopped, (unsigned long long)st.dma_faults);
			break;
		}
		if (!o.quiet && recv_off * 4 >= (uint64_t)next_report * o.bytes && next_report < 4) {
			printf("  %3u%%  %llu MiB\n", next_report * 25,
			       (unsigned long long)(recv_off >> 20));
			next_report++;
		}
	}
	elapsed = now_s() - t0;
	if (stop_signal)
		printf("\ninterrupted by signal %d after %llu of %llu bytes; unbinding\n",
		       (int)stop_signal, (unsigned long long)recv_off, (unsigned long long)o.bytes);

	printf("\nreceived %llu frames, %llu payload bytes in %.3f s: %.2f Gbit/s, %.2f Mframes/s "
	       "(software NIC: %s)\n",
	       (unsigned long long)c.frames, (unsigned long long)c.payload_bytes, elapsed,
	       (double)c.payload_bytes * 8 / elapsed / 1e9, (double)c.frames / elapsed / 1e6,
	       gpu ? "GPU copy engine writes, a CUDA kernel checks each burst" :
		     "memcpy + byte-by-byte check");
	printf("header split: %llu of %llu frames; %llu header bytes in host memory, "
	       "%llu payload bytes in the dmabuf (%llu net_iov buffers)\n",
	       (unsigned long long)c.split, (unsigned long long)c.frames,
	       (unsigned long long)c.hdr_bytes, (unsigned long long)c.payload_bytes,
	       (unsigned long long)c.net_iov);
	printf("payload check: %s (%llu mismatched frames)\n",
	       c.mismatches ? "FAILED" : recv_off != o.bytes ?
	       (stop_signal ? "every byte received was verified; the run was cut short" :
			      "FAILED: bytes missing") :
	       gpu ? "every byte verified on the GPU" : "every byte verified",
	       (unsigned long long)c.mismatches);
	printf("queue 0 meanwhile: %llu frames, %llu mismatched\n\n",
	       (unsigned long long)c.other_frames, (unsigned long long)c.other_mismatches);
	nm_netdev_print_queues(dev, stdout);
	ret = c.mismatches || c.other_mismatches || recv_off != o.bytes ? 1 : 0;
	hold_sim(&o, ctl, sim);
out:
	nm_ctl_server_destroy(ctl);
	if (b) {
		uint32_t id = b->id;

		if (nm_dmabuf_binding_unbind_err(b, &err)) {
			fprintf(stderr, "netmem-rx: %s\n", err.msg);
			ret = ret ? ret : 1;
		} else {
			printf("unbound binding %u: queue %u back on host memory\n", id, o.queue);
		}
	}
	nm_sim_destroy(sim);
	nm_dmabuf_put(buf);
	return ret;
}
