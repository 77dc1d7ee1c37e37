// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * vfio-pci BAR: a dma-buf of a PCI BAR exported by vfio-pci
 * (VFIO_DEVICE_FEATURE_DMA_BUF). The device must already be bound to
 * vfio-pci; its group is opened through /dev/vfio/N, or /dev/vfio/noiommu-N
 * in no-IOMMU mode. The CPU view is an mmap of the vfio region, since the
 * BAR's dma-buf itself cannot be mmap()ed.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/vfio.h>

#include <rdma_pal/mem.h>

struct vfio_state {
	int container, group, device;
};

/* Open the device's group, in whichever mode the kernel made it. */
static int open_group(struct pal_mem *mem, const char *bdf, bool *noiommu)
{
	char link[PATH_MAX], target[PATH_MAX], path[PATH_MAX + 32];
	ssize_t n;
	int fd;

	snprintf(link, sizeof(link), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0) {
		pal_mem_set_err(mem, "vfio: %s has no IOMMU group (bound to vfio-pci?)", bdf);
		return -1;
	}
	target[n] = '\0';
	snprintf(path, sizeof(path), "/dev/vfio/%s", basename(target));
	fd = open(path, O_RDWR | O_CLOEXEC);
	*noiommu = false;
	/* Only a group that does not exist may be a no-IOMMU one. */
	if (fd < 0 && errno == ENOENT) {
		snprintf(path, sizeof(path), "/dev/vfio/noiommu-%s", basename(target));
		fd = open(path, O_RDWR | O_CLOEXEC);
		*noiommu = true;
	}
	if (fd < 0)
		pal_mem_set_err(mem, "vfio: open %s, the group of %s", path, bdf);
	return fd;
}

static int open_device(struct pal_mem *mem, struct vfio_state *st, const char *bdf)
{
	bool noiommu;

	st->group = open_group(mem, bdf, &noiommu);
	if (st->group < 0)
		return -1;
	st->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (st->container < 0) {
		pal_mem_set_err(mem, "vfio: open /dev/vfio/vfio");
		return -1;
	}
	if (ioctl(st->group, VFIO_GROUP_SET_CONTAINER, &st->container) ||
	    ioctl(st->container, VFIO_SET_IOMMU,
		  noiommu ? VFIO_NOIOMMU_IOMMU : VFIO_TYPE1v2_IOMMU)) {
		pal_mem_set_err(mem, "vfio: set up the container of %s", bdf);
		return -1;
	}
	st->device = ioctl(st->group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (st->device < 0) {
		pal_mem_set_err(mem, "vfio: VFIO_GROUP_GET_DEVICE_FD %s", bdf);
		return -1;
	}
	return 0;
}

static int export_bar(struct pal_mem *mem, struct vfio_state *st, unsigned int bar)
{
	size_t argsz = sizeof(struct vfio_device_feature) +
		       sizeof(struct vfio_device_feature_dma_buf) +
		       sizeof(struct vfio_region_dma_range);
	struct vfio_device_feature_dma_buf *dma_buf;
	struct vfio_device_feature *feature;

	feature = calloc(1, argsz);
	if (!feature) {
		pal_mem_set_err(mem, "vfio: feature argument");
		return -1;
	}
	feature->argsz = (__u32)argsz;
	feature->flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_DMA_BUF;
	dma_buf = (struct vfio_device_feature_dma_buf *)feature->data;
	dma_buf->region_index = bar;
	dma_buf->open_flags = O_RDWR | O_CLOEXEC;
	dma_buf->nr_ranges = 1;
	dma_buf->dma_ranges[0].offset = 0;
	dma_buf->dma_ranges[0].length = mem->size;
	mem->dmabuf_fd = ioctl(st->device, VFIO_DEVICE_FEATURE, feature);
	free(feature);
	if (mem->dmabuf_fd < 0) {
		mem->dmabuf_fd = -1;
		pal_mem_set_err(mem, "vfio: VFIO_DEVICE_FEATURE_DMA_BUF of BAR %u, %zu bytes",
				bar, mem->size);
		return -1;
	}
	return 0;
}

static int vfio_alloc(struct pal_mem *mem, const struct pal_mem_params *params)
{
	struct vfio_region_info region = { .argsz = sizeof(region) };
	struct vfio_state *st;

	if (!params->pci_device) {
		errno = EINVAL;
		pal_mem_set_err(mem, "vfio: no PCI device given");
		return -1;
	}
	st = calloc(1, sizeof(*st));
	if (!st) {
		pal_mem_set_err(mem, "vfio: state");
		return -1;
	}
	st->container = st->group = st->device = -1;
	mem->priv = st;
	if (open_device(mem, st, params->pci_device))
		return -1;

	region.index = VFIO_PCI_BAR0_REGION_INDEX + params->bar;
	if (ioctl(st->device, VFIO_DEVICE_GET_REGION_INFO, &region)) {
		pal_mem_set_err(mem, "vfio: region info of BAR %u", params->bar);
		return -1;
	}
	if (mem->size > region.size) {
		errno = EINVAL;
		pal_mem_set_err(mem, "vfio: %zu bytes asked of a %llu-byte BAR %u",
				mem->size, (unsigned long long)region.size, params->bar);
		return -1;
	}
	if (export_bar(mem, st, region.index))
		return -1;
	return pal_mem_map(mem, st->device, (off_t)region.offset, "the BAR region");
}

static void vfio_free(struct pal_mem *mem)
{
	struct vfio_state *st = mem->priv;

	pal_mem_free_dmabuf(mem);
	if (st) {
		if (st->device >= 0)
			close(st->device);
		if (st->group >= 0)
			close(st->group);
		if (st->container >= 0)
			close(st->container);
	}
	free(st);
	mem->priv = NULL;
}

const struct pal_mem_ops pal_mem_vfio_ops = {
	.name = "vfio",
	.help = "a BAR of a PCI device bound to vfio-pci, exported as a dma-buf",
	.alloc = vfio_alloc,
	.free = vfio_free,
};
