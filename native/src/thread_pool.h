// One process-wide pool of std::thread workers; the calling thread participates as tid 0.
// Size: min(hardware_concurrency, LLM2VEC_THREADS) (LLM2VEC_THREADS if set and valid).
#pragma once
#include <cstddef>
#include <type_traits>

namespace llm {

int num_threads();

// Sets the nice value of the pool's worker threads and of the calling thread (the one that runs
// task share 0 of its parallel_for calls), so that a process serving requests on another thread
// can keep the cores for that thread when it wakes. Returns the number of threads changed, or
// -errno (Linux only; -ENOSYS elsewhere). Lowering priority is always allowed; raising it back
// needs CAP_SYS_NICE.
int set_compute_nice(int nice);

// Runs fn(ctx, task, tid) for task in [0, ntasks); tid in [0, num_threads()). Serial when the
// pool is busy (re-entrant or concurrent callers) or when ntasks == 1.
void parallel_for_raw(int ntasks, void (*fn)(void* ctx, int task, int tid), void* ctx);

template <class F>
inline void parallel_for(int ntasks, F&& f) {
  using Fn = typename std::remove_reference<F>::type;
  if (ntasks <= 0) return;
  parallel_for_raw(
      ntasks, [](void* c, int t, int tid) { (*static_cast<Fn*>(c))(t, tid); }, const_cast<void*>(static_cast<const void*>(&f)));
}

// Per-thread, 64-byte aligned scratch (slot 0..7), grown on demand and kept for reuse.
float* thread_scratch(int tid, int slot, size_t floats);

}  // namespace llm
