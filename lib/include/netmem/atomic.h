/* SPDX-License-Identifier: MIT */
/*
 * Atomic members of public structs, for C and C++ alike.
 *
 * In C they are C11 atomics (<stdatomic.h>). C++ has no _Atomic, and its
 * std::atomic cannot appear in a C struct, so there the same members are
 * plain integers of the same size and alignment: struct layouts are
 * identical in both languages (tests/cxx checks it). The inline functions
 * of the headers touch them only through NM_ATOMIC_*(), which are the C11
 * generics in C and the compiler's __atomic builtins in C++; C++ code that
 * reads them itself should use the same macros.
 */
#ifndef NETMEM_ATOMIC_H
#define NETMEM_ATOMIC_H

#ifdef __cplusplus
typedef int nm_atomic_int;
typedef long nm_atomic_long;
typedef bool nm_atomic_bool;
typedef struct { unsigned char nm_val; } nm_atomic_flag;
#define NM_ALIGNAS(n) alignas(n)
#define NM_MO_RELAXED __ATOMIC_RELAXED
#define NM_MO_ACQUIRE __ATOMIC_ACQUIRE
#define NM_MO_RELEASE __ATOMIC_RELEASE
#define NM_ATOMIC_LOAD(p, mo)       __atomic_load_n((p), (mo))
#define NM_ATOMIC_FETCH_ADD(p, v, mo) __atomic_fetch_add((p), (v), (mo))
#else
#include <stdatomic.h>
typedef atomic_int nm_atomic_int;
typedef atomic_long nm_atomic_long;
typedef atomic_bool nm_atomic_bool;
typedef atomic_flag nm_atomic_flag;
#define NM_ALIGNAS(n) _Alignas(n)
#define NM_MO_RELAXED memory_order_relaxed
#define NM_MO_ACQUIRE memory_order_acquire
#define NM_MO_RELEASE memory_order_release
#define NM_ATOMIC_LOAD(p, mo)       atomic_load_explicit((p), (mo))
#define NM_ATOMIC_FETCH_ADD(p, v, mo) atomic_fetch_add_explicit((p), (v), (mo))
#endif

#endif
