#!/usr/bin/env bash
# Install the build dependencies, build netmem, and run the receive app.
# With no NIC and no /dev/udmabuf it runs on the software NIC with a memfd
# standing in for the dmabuf, and says so. Arguments go to netmem-rx
# (see: scripts/demo.sh --help).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${NETMEM_SKIP_INSTALL:-}" ]; then
	scripts/install-deps.sh base
fi
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
exec build/apps/netmem-rx "$@"
