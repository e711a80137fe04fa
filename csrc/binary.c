/* Binary cross-entropy for the baseline of the architecture (x86-64: SSE2; aarch64: NEON). */
#include "binary_kernel.h"
#include "categorical_kernel.h"
#include "log_loss_kernel.h"

CE_DEFINE_BINARY(generic)
CE_DEFINE_VECMATH_EVAL(generic)
CE_DEFINE_CATEGORICAL(generic)
CE_DEFINE_LOG_LOSS(generic)
