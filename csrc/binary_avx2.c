/* Binary cross-entropy compiled for AVX2 + FMA (x86-64 only). */
#if defined(__x86_64__) || defined(_M_X64)
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#pragma clang fp contract(fast)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=fast")
#pragma GCC target("avx2,fma")
#endif

#define CE_HAVE_FMA 1 /* the target has fused multiply-add */
#include "binary_kernel.h"
#include "categorical_kernel.h"
#include "log_loss_kernel.h"

CE_DEFINE_BINARY(avx2)
CE_DEFINE_VECMATH_EVAL(avx2)
CE_DEFINE_CATEGORICAL(avx2)
CE_DEFINE_LOG_LOSS(avx2)

#if defined(__clang__)
#pragma clang attribute pop
#endif
#else
typedef int ce_binary_avx2_unused; /* ISO C forbids an empty translation unit */
#endif
