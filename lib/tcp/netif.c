/* SPDX-License-Identifier: MIT */
/* Addresses as users write them, and the addresses a port derives. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netmem/netif.h>

int nm_ip_addr_parse(const char *s, uint8_t ipver, struct nm_ip_addr *out,
		     struct nm_err *err)
{
	char buf[INET6_ADDRSTRLEN + 8];
	struct nm_ip_addr a = { 0 };
	char *slash, *end;
	long prefix = -1;

	if (!s || strlen(s) >= sizeof(buf))
		return nm_err_set(err, -EINVAL, "address '%s': too long or missing",
				  s ? s : "");
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash) {
		*slash++ = '\0';
		errno = 0;
		prefix = strtol(slash, &end, 10);
		if (!*slash || *end || errno || prefix < 0)
			return nm_err_set(err, -EINVAL, "address '%s': bad prefix length", s);
	}
	if ((ipver == 0 || ipver == 4) && inet_pton(AF_INET, buf, a.addr) == 1) {
		a.ipver = 4;
		if (prefix > 32)
			return nm_err_set(err, -EINVAL, "address '%s': prefix over 32", s);
		a.prefix = prefix < 0 ? 32 : (uint8_t)prefix;
	} else if ((ipver == 0 || ipver == 6) && inet_pton(AF_INET6, buf, a.addr) == 1) {
		a.ipver = 6;
		if (prefix > 128)
			return nm_err_set(err, -EINVAL, "address '%s': prefix over 128", s);
		a.prefix = prefix < 0 ? 128 : (uint8_t)prefix;
	} else {
		return nm_err_set(err, -EINVAL, "address '%s': not an IPv%s address", s,
				  ipver == 4 ? "4" : ipver == 6 ? "6" : "4 or IPv6");
	}
	*out = a;
	return 0;
}

char *nm_ip_addr_str(const struct nm_ip_addr *a, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	if (!inet_ntop(a->ipver == 4 ? AF_INET : AF_INET6, a->addr, ip, sizeof(ip)))
		strcpy(ip, "?");
	snprintf(buf, len, "%s/%u", ip, a->prefix);
	return buf;
}

void nm_ip6_link_local(const uint8_t mac[6], struct nm_ip_addr *out)
{
	memset(out, 0, sizeof(*out));
	out->ipver = 6;
	out->prefix = 64;
	out->addr[0] = 0xfe;
	out->addr[1] = 0x80;
	/* Modified EUI-64: flip the universal/local bit, ff:fe in the middle. */
	out->addr[8] = mac[0] ^ 0x02;
	out->addr[9] = mac[1];
	out->addr[10] = mac[2];
	out->addr[11] = 0xff;
	out->addr[12] = 0xfe;
	out->addr[13] = mac[3];
	out->addr[14] = mac[4];
	out->addr[15] = mac[5];
}

void nm_ip6_solicited_node(const uint8_t addr[16], uint8_t out[16])
{
	static const uint8_t pfx[13] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0,
					 0, 0, 0, 0x01, 0xff };

	memcpy(out, pfx, sizeof(pfx));
	memcpy(out + 13, addr + 13, 3);
}
