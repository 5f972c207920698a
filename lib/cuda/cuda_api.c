/* SPDX-License-Identifier: MIT */
/*
 * The CUDA driver table, filled from libcuda.so.1 at run time. Loaded once
 * per process and never unloaded (the driver does not support it); a
 * process without a GPU pays nothing until a cuda: source is asked for.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>

#include "cuda_api.h"

static struct nm_cuda_api driver;
static pthread_once_t driver_once = PTHREAD_ONCE_INIT;
static int driver_ret;
static char driver_msg[NM_ERR_MSG_LEN];

struct sym {
	const char *name;
	size_t off;
};

/* The versioned names are the ones cuda.h's macros pick. */
#define SYM(member, name) { name, offsetof(struct nm_cuda_api, member) }
static const struct sym syms[] = {
	SYM(init, "cuInit"),
	SYM(driver_get_version, "cuDriverGetVersion"),
	SYM(get_error_name, "cuGetErrorName"),
	SYM(device_get_count, "cuDeviceGetCount"),
	SYM(device_get, "cuDeviceGet"),
	SYM(device_get_name, "cuDeviceGetName"),
	SYM(device_get_attribute, "cuDeviceGetAttribute"),
	SYM(primary_ctx_retain, "cuDevicePrimaryCtxRetain"),
	SYM(primary_ctx_release, "cuDevicePrimaryCtxRelease_v2"),
	SYM(ctx_push, "cuCtxPushCurrent_v2"),
	SYM(ctx_pop, "cuCtxPopCurrent_v2"),
	SYM(ctx_synchronize, "cuCtxSynchronize"),
	SYM(mem_get_granularity, "cuMemGetAllocationGranularity"),
	SYM(mem_create, "cuMemCreate"),
	SYM(mem_release, "cuMemRelease"),
	SYM(mem_address_reserve, "cuMemAddressReserve"),
	SYM(mem_address_free, "cuMemAddressFree"),
	SYM(mem_map, "cuMemMap"),
	SYM(mem_unmap, "cuMemUnmap"),
	SYM(mem_set_access, "cuMemSetAccess"),
	SYM(mem_get_handle, "cuMemGetHandleForAddressRange"),
	SYM(memcpy_htod, "cuMemcpyHtoD_v2"),
	SYM(memcpy_dtoh, "cuMemcpyDtoH_v2"),
	SYM(mem_alloc, "cuMemAlloc_v2"),
	SYM(mem_free, "cuMemFree_v2"),
	SYM(module_load_data, "cuModuleLoadData"),
	SYM(module_unload, "cuModuleUnload"),
	SYM(module_get_function, "cuModuleGetFunction"),
	SYM(launch_kernel, "cuLaunchKernel"),
};

static void driver_load(void)
{
	struct nm_err err = { 0 };
	void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);

	if (!lib) {
		driver_ret = nm_err_set(&err, -ENOENT,
					"no CUDA driver: cannot load libcuda.so.1 (%s): the NVIDIA "
					"driver is not installed here, or not on the loader's path",
					dlerror());
		goto out;
	}
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		void *fn = dlsym(lib, syms[i].name);

		if (!fn) {
			driver_ret = nm_err_set(&err, -ENOSYS,
						"the CUDA driver has no %s: it is too old (cuda: "
						"needs a driver with CUDA 11.7 or later)", syms[i].name);
			dlclose(lib);
			goto out;
		}
		/* A function pointer stored through its slot in the table. */
		*(void **)((char *)&driver + syms[i].off) = fn;
	}
	driver.import = nm_dmabuf_import;
out:
	snprintf(driver_msg, sizeof(driver_msg), "%s", err.msg);
}

int nm_cuda_api_get(const struct nm_cuda_api **out, struct nm_err *err)
{
	pthread_once(&driver_once, driver_load);
	if (driver_ret)
		return nm_err_set(err, driver_ret, "%s", driver_msg);
	*out = &driver;
	return 0;
}

const char *nm_cuda_errname(const struct nm_cuda_api *api, CUresult r,
			    char *buf, size_t len)
{
	const char *name = NULL;

	if (api->get_error_name && api->get_error_name(r, &name) == CUDA_SUCCESS && name)
		return name;
	snprintf(buf, len, "CUDA error %d", (int)r);
	return buf;
}
