// Every header the per-ISA kernel bodies use, included at file scope before the ISA namespace
// opens (the bodies themselves are then included inside it).
#pragma once
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif
#include "common.h"
#include "gemm.h"
#include "kernels.h"
#include "thread_pool.h"
