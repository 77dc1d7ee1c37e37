// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pal_bench topo: where the RDMA device and the exporter sit, with hwloc:
 * NUMA nodes, the PCI device behind the RDMA device (for soft-RoCE, behind
 * its netdev), the exporter's PCI device if it has one, and the P2P route
 * class between the two.
 */
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hwloc.h>

#include "bench.h"

/* PCI address of what sysfs path dev links to, or "" if it is not PCI. */
static void pci_of(const char *path, char *bdf, size_t len)
{
	char real[PATH_MAX], *base;

	bdf[0] = '\0';
	if (!realpath(path, real))
		return;
	base = strrchr(real, '/');
	/* dddd:bb:dd.f */
	if (base && strlen(base + 1) == 12 && base[5] == ':' && base[8] == ':' && base[11] == '.')
		snprintf(bdf, len, "%s", base + 1);
}

/* The netdev of port 1 of an RDMA device, if it has one (RoCE). */
static void netdev_of(const char *ibdev, char *name, size_t len)
{
	char path[PATH_MAX];
	FILE *f;

	name[0] = '\0';
	snprintf(path, sizeof(path), "/sys/class/infiniband/%s/ports/1/gid_attrs/ndevs/0", ibdev);
	f = fopen(path, "r");
	if (!f)
		return;
	if (fgets(name, (int)len, f))
		name[strcspn(name, "\n")] = '\0';
	fclose(f);
}

static hwloc_obj_t pci_obj(hwloc_topology_t topo, const char *bdf)
{
	unsigned int dom, bus, dev, fn;

	if (!bdf[0] || sscanf(bdf, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4)
		return NULL;
	return hwloc_get_pcidev_by_busid(topo, dom, bus, dev, fn);
}

/* The host bridge above a PCI object: P2P without the CPU needs the same. */
static hwloc_obj_t host_bridge(hwloc_obj_t obj)
{
	hwloc_obj_t hb = NULL;

	for (; obj; obj = obj->parent)
		if (obj->type == HWLOC_OBJ_BRIDGE &&
		    obj->attr->bridge.upstream_type == HWLOC_OBJ_BRIDGE_HOST)
			hb = obj;
	return hb;
}

static const char *route_class(hwloc_obj_t rdma, hwloc_obj_t exp, const char *rdma_bdf,
			       const char *exp_bdf)
{
	if (!rdma_bdf[0])
		return "none: the RDMA device has no DMA (software RoCE); the CPU copies";
	if (!exp_bdf[0])
		return "host memory: ordinary DMA to RAM";
	if (!rdma || !exp)
		return "unknown: hwloc does not see both devices";
	return host_bridge(rdma) == host_bridge(exp) ? "same host bridge: P2P through the PCI fabric" :
						       "different host bridges: P2P through the host";
}

int bench_topo(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "ib-dev", required_argument, NULL, 'd' },
		{ "exporter-pci", required_argument, NULL, BENCH_OPT_FIRST },
		BENCH_COMMON_LONGOPTS,
		{ 0 }
	};
	const char *device = NULL, *exp_bdf = "";
	struct bench_report_opts report = { 0 };
	char netdev[64], rdma_bdf[32], path[PATH_MAX];
	hwloc_topology_t topo;
	hwloc_obj_t rdma_obj, exp_obj;
	struct bench_json j;
	FILE *out = stdout;
	int c, numa;

	while ((c = getopt_long(argc, argv, "d:" BENCH_COMMON_SHORTOPTS, longopts,
				NULL)) != -1) {
		if (bench_common_opt(c, optarg, false, &report))
			continue;
		switch (c) {
		case 'd': device = optarg; break;
		case BENCH_OPT_FIRST: exp_bdf = optarg; break;
		default:
			fprintf(stderr,
				"usage: pal_bench topo -d NAME [--exporter-pci BDF] [options]\n"
				"  -d, --ib-dev NAME       the RDMA device\n"
				"      --exporter-pci BDF  PCI address of the exporting device (a vfio\n"
				"                          BAR); none for exporters of system RAM\n"
				BENCH_COMMON_USAGE
				"Without --out_json the report goes to the standard output.\n");
			return 2;
		}
	}
	if (!device) {
		fprintf(stderr, "topo: -d/--ib-dev is required\n");
		return 2;
	}
	if (hwloc_topology_init(&topo) ||
	    hwloc_topology_set_io_types_filter(topo, HWLOC_TYPE_FILTER_KEEP_IMPORTANT) ||
	    hwloc_topology_load(topo)) {
		fprintf(stderr, "topo: hwloc cannot load the topology\n");
		return 1;
	}
	/* A RoCE device's PCI function is its netdev's, if that has one. */
	snprintf(path, sizeof(path), "/sys/class/infiniband/%s/device", device);
	pci_of(path, rdma_bdf, sizeof(rdma_bdf));
	netdev_of(device, netdev, sizeof(netdev));
	if (!rdma_bdf[0] && netdev[0]) {
		snprintf(path, sizeof(path), "/sys/class/net/%s/device", netdev);
		pci_of(path, rdma_bdf, sizeof(rdma_bdf));
	}
	rdma_obj = pci_obj(topo, rdma_bdf);
	exp_obj = pci_obj(topo, exp_bdf);
	numa = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_NUMANODE);

	if (report.json && !(out = fopen(report.json, "w"))) {
		perror(report.json);
		return 1;
	}
	bench_json_open(&j, out);
	bench_json_u64(&j, "numa_nodes", numa);
	bench_json_u64(&j, "cores", hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE));
	bench_json_str(&j, "rdma_device", device);
	bench_json_str(&j, "rdma_netdev", netdev);
	bench_json_str(&j, "rdma_pci", rdma_bdf[0] ? rdma_bdf : "none");
	bench_json_str(&j, "exporter_pci", exp_bdf[0] ? exp_bdf : "none (system RAM)");
	bench_json_str(&j, "exporter_pci_seen_by_hwloc", exp_obj ? "yes" : "no");
	bench_json_str(&j, "p2p_route", route_class(rdma_obj, exp_obj, rdma_bdf, exp_bdf));
	bench_json_close(&j);
	fputc('\n', out);
	if (out != stdout)
		fclose(out);
	hwloc_topology_destroy(topo);
	return 0;
}
