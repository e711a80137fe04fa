/* Binary cross-entropy compiled for AVX-512 (F, DQ, VL, BW) with 512-bit vectors (x86-64 only). */
#if defined(__x86_64__) || defined(_M_X64)
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512dq,avx512vl,avx512bw,fma"))), \
                             apply_to = function)
#pragma clang fp contract(fast)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=fast")
#pragma GCC target("avx512f,avx512dq,avx512vl,avx512bw,fma,prefer-vector-width=512")
#endif

#define CE_HAVE_FMA 1    /* the target has fused multiply-add */
#define CE_HAVE_AVX512 1 /* and AVX-512 (F, DQ, VL, BW): its own float32 logit run */
#include "binary_kernel.h"
#include "categorical_avx512.h"
#include "categorical_kernel.h"
#include "log_loss_kernel.h"

CE_DEFINE_BINARY(avx512)
CE_DEFINE_VECMATH_EVAL(avx512)
CE_DEFINE_CATEGORICAL(avx512)
CE_DEFINE_LOG_LOSS(avx512)

#if defined(__clang__)
#pragma clang attribute pop
#endif
#else
typedef int ce_binary_avx512_unused; /* ISO C forbids an empty translation unit */
#endif
