/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <netmem/rxq_caps.h>

static const struct {
	enum nm_rxq_cap cap;
	const char *name;
} cap_names[] = {
	{ NM_RXQ_CAP_UNREADABLE, "unreadable" },
	{ NM_RXQ_CAP_HEADER_SPLIT, "header-split" },
	{ NM_RXQ_CAP_RESTART, "restart" },
	{ NM_RXQ_CAP_RX_CSUM, "rx-csum" },
};

#define NUM_CAPS (sizeof(cap_names) / sizeof(cap_names[0]))

const char *nm_rxq_cap_name(enum nm_rxq_cap cap)
{
	for (size_t i = 0; i < NUM_CAPS; i++)
		if (cap_names[i].cap == cap)
			return cap_names[i].name;
	return "?";
}

char *nm_rxq_caps_str(uint32_t caps, char *buf, size_t len)
{
	size_t used = 0;

	if (!len)
		return buf;
	buf[0] = '\0';
	for (size_t i = 0; i < NUM_CAPS; i++) {
		if (!(caps & cap_names[i].cap))
			continue;
		int n = snprintf(buf + used, len - used, "%s%s",
				 used ? "," : "", cap_names[i].name);
		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
	}
	if (!used)
		snprintf(buf, len, "-");
	return buf;
}

int nm_rxq_caps_parse(const char *s, uint32_t *caps)
{
	uint32_t out = 0;

	while (s && *s) {
		const char *end = strchr(s, ',');
		size_t n = end ? (size_t)(end - s) : strlen(s);
		size_t i;

		for (i = 0; i < NUM_CAPS; i++)
			if (strlen(cap_names[i].name) == n &&
			    !strncmp(s, cap_names[i].name, n))
				break;
		if (i == NUM_CAPS) {
			if (!(n == 1 && *s == '-') && n)
				return -EINVAL;
		} else {
			out |= cap_names[i].cap;
		}
		s = end ? end + 1 : NULL;
	}
	*caps = out;
	return 0;
}

bool nm_rxq_buf_size_ok(const struct nm_rxq_buf_sizes *s, uint32_t size)
{
	if (!s->max)
		return true;
	return size >= s->min && size <= s->max && (!s->step || size % s->step == 0);
}

char *nm_rxq_buf_sizes_str(const struct nm_rxq_buf_sizes *s, char *buf, size_t len)
{
	if (!s->max)
		snprintf(buf, len, "any");
	else if (s->min == s->max)
		snprintf(buf, len, "%u B only", s->min);
	else
		snprintf(buf, len, "%u-%u B in steps of %u", s->min, s->max,
			 s->step ? s->step : 1);
	return buf;
}
