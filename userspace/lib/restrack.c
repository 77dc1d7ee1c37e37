// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The calling process's MRs as restrack reports them, through the rdma tool. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rdma_pal/restrack.h>

/*
 * The value of "key" in one JSON object: a number, or a string read in
 * @base (rdma prints keys as quoted hex without 0x); -1 if absent.
 */
static int64_t json_num(const char *obj, const char *key, int base)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(obj, pat);
	if (!p)
		return -1;
	p += strlen(pat);
	while (*p == ' ' || *p == '"')
		p++;
	return isxdigit((unsigned char)*p) ? (int64_t)strtoull(p, NULL, base) : -1;
}

/* Everything the command prints, NUL-terminated; NULL if it failed. */
static char *read_command(const char *cmd)
{
	size_t cap = 1 << 16, len = 0, got;
	char *buf = malloc(cap), *n;
	FILE *f = popen(cmd, "r");

	if (!buf || !f) {
		free(buf);
		if (f)
			pclose(f);
		return NULL;
	}
	while ((got = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += got;
		if (cap - len - 1 > 0)
			continue;
		n = realloc(buf, cap *= 2);
		if (!n)
			break;
		buf = n;
	}
	buf[len] = 0;
	if (pclose(f) || cap - len - 1 == 0) {
		free(buf);
		errno = EIO;
		return NULL;
	}
	return buf;
}

struct pal_restrack_mr *pal_restrack_mrs(const char *dev, size_t *nr)
{
	struct pal_restrack_mr *mrs = NULL, *n;
	char cmd[160], *buf, *obj, *end;
	size_t cap = 0;

	*nr = 0;
	snprintf(cmd, sizeof(cmd), "rdma -dd -j resource show mr dev %s", dev);
	buf = read_command(cmd);
	if (!buf)
		return NULL;
	/* The driver's attributes are flat: objects do not nest. */
	for (obj = strchr(buf, '{'); obj; obj = strchr(end + 1, '{')) {
		end = strchr(obj, '}');
		if (!end)
			break;
		*end = 0;
		if (json_num(obj, "pid", 10) != getpid())
			continue;
		if (*nr == cap) {
			n = realloc(mrs, (cap = cap ? 2 * cap : 64) * sizeof(*mrs));
			if (!n) {
				free(mrs);
				free(buf);
				return NULL;
			}
			mrs = n;
		}
		/* rdma prefixes the driver's attributes with "drv_". */
		mrs[(*nr)++] = (struct pal_restrack_mr){
			.lkey = (uint32_t)json_num(obj, "lkey", 16),
			.pal = strstr(obj, "\"drv_dmabuf_path\":\"pal\"") != NULL,
			.extents = json_num(obj, "drv_dmabuf_extents", 10),
			.bytes = json_num(obj, "drv_mr_bytes", 10),
			.list_bytes = json_num(obj, "drv_dmabuf_list_bytes", 10),
		};
	}
	free(buf);
	/* No MR is an empty array, not a failure. */
	return mrs ? mrs : calloc(1, sizeof(*mrs));
}
