// The single thread pool. Workers spin briefly after a job (kernels come in bursts), then sleep
// on a condition variable so an idle process costs no CPU.
#include "thread_pool.h"

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define LLM_PAUSE() _mm_pause()
#else
#define LLM_PAUSE() ((void)0)
#endif

namespace llm {
namespace {

struct Pool {
  int nthreads = 1;
  std::vector<std::thread> workers;
  std::mutex mu;
  std::condition_variable wake;
  std::condition_variable done;
  std::atomic<uint64_t> generation{0};
  std::atomic<int> next{0};
  // A job is done when its tasks are, not when every worker has looked at it: a worker that is
  // asleep or descheduled (the cores are shared with a server's HTTP thread and its clients)
  // would otherwise hold up a kernel the caller finished alone. `closed` is the last generation
  // whose tasks are all claimed; `active` counts workers inside a job. A worker enters (active++),
  // then checks `closed`; the caller closes, then waits for active == 0. Both sides are seq_cst,
  // so either the worker sees the job closed and leaves it, or the caller sees the worker and
  // waits for it: no worker runs a task of a job its caller has returned from.
  std::atomic<uint64_t> closed{0};
  std::atomic<int> active{0};
  int ntasks = 0;
  void (*fn)(void*, int, int) = nullptr;
  void* ctx = nullptr;
  std::atomic<bool> busy{false};  // one job at a time; nested or concurrent callers run serially
  std::vector<long> tids;          // kernel thread ids of the workers (Linux), for set_compute_nice
  int started = 0;                 // workers that have written their tid (under mu)
  std::condition_variable startedCv;

  explicit Pool(int n) : nthreads(n), tids(n > 1 ? n - 1 : 0, 0) {
    for (int t = 1; t < n; t++) workers.emplace_back([this, t] { loop(t); });
  }

  void loop(int tid) {
    {
      std::lock_guard<std::mutex> lk(mu);
      tids[tid - 1] = current_tid();
      started++;
    }
    startedCv.notify_all();
    work(tid);
  }

  static long current_tid() {
#if defined(__linux__)
    return static_cast<long>(syscall(SYS_gettid));
#else
    return 0;
#endif
  }

  void run_tasks(int tid) {
    for (;;) {
      int t = next.fetch_add(1, std::memory_order_relaxed);
      if (t >= ntasks) break;
      fn(ctx, t, tid);
    }
  }

  void work(int tid) {
    uint64_t seen = 0;
    for (;;) {
      uint64_t g = generation.load(std::memory_order_acquire);
      // Spin (then yield) a little: kernels come in bursts. With `pause` at ~100 cycles on
      // recent cores this is a few hundred microseconds before sleeping.
      for (int spin = 0; g == seen && spin < 4000; spin++) {
        if (spin < 2000) LLM_PAUSE();
        else std::this_thread::yield();
        g = generation.load(std::memory_order_acquire);
      }
      if (g == seen) {
        std::unique_lock<std::mutex> lk(mu);
        wake.wait(lk, [&] { return generation.load(std::memory_order_acquire) != seen; });
        g = generation.load(std::memory_order_acquire);
      }
      seen = g;
      active.fetch_add(1, std::memory_order_seq_cst);
      if (closed.load(std::memory_order_seq_cst) < g) run_tasks(tid);
      if (active.fetch_sub(1, std::memory_order_seq_cst) == 1) {
        std::lock_guard<std::mutex> lk(mu);
        done.notify_one();
      }
    }
  }

  void run(int n, void (*f)(void*, int, int), void* c) {
    ntasks = n;
    fn = f;
    ctx = c;
    next.store(0, std::memory_order_relaxed);
    uint64_t g;
    {
      std::lock_guard<std::mutex> lk(mu);
      g = generation.fetch_add(1, std::memory_order_release) + 1;
    }
    wake.notify_all();
    run_tasks(0);
    // Every task is claimed; the ones still running belong to workers that entered the job.
    closed.store(g, std::memory_order_seq_cst);
    for (int spin = 0; active.load(std::memory_order_seq_cst) != 0 && spin < 4000; spin++) {
      if (spin < 2000) LLM_PAUSE();
      else std::this_thread::yield();  // a worker mid-task may be descheduled: give it the core
    }
    if (active.load(std::memory_order_seq_cst) != 0) {
      std::unique_lock<std::mutex> lk(mu);
      done.wait(lk, [&] { return active.load(std::memory_order_seq_cst) == 0; });
    }
  }
};

int configured_threads() {
  unsigned hc = std::thread::hardware_concurrency();
  int n = hc ? static_cast<int>(hc) : 1;
  if (const char* e = std::getenv("LLM2VEC_THREADS")) {
    int v = std::atoi(e);
    if (v >= 1 && v < n) n = v;
  }
  return n < 1 ? 1 : n;
}

// Never destroyed: joinable std::threads in a static destructor would call std::terminate.
Pool* pool() {
  static Pool* p = new Pool(configured_threads());
  return p;
}

}  // namespace

int num_threads() { return pool()->nthreads; }

int set_compute_nice(int nice) {
#if defined(__linux__)
  Pool* p = pool();
  std::vector<long> targets;
  {
    std::unique_lock<std::mutex> lk(p->mu);
    p->startedCv.wait(lk, [&] { return p->started == p->nthreads - 1; });
    targets = p->tids;
  }
  targets.push_back(Pool::current_tid());
  // On Linux, PRIO_PROCESS with a thread id sets that one thread's nice value.
  for (long t : targets)
    if (setpriority(PRIO_PROCESS, static_cast<id_t>(t), nice) != 0) return -errno;
  return static_cast<int>(targets.size());
#else
  (void)nice;
  return -ENOSYS;
#endif
}

void parallel_for_raw(int ntasks, void (*fn)(void*, int, int), void* ctx) {
  if (ntasks <= 0) return;
  Pool* p = pool();
  if (ntasks == 1 || p->nthreads == 1 || p->busy.exchange(true, std::memory_order_acquire)) {
    for (int t = 0; t < ntasks; t++) fn(ctx, t, 0);
    return;
  }
  p->run(ntasks, fn, ctx);
  p->busy.store(false, std::memory_order_release);
}

float* thread_scratch(int /*tid*/, int slot, size_t floats) {
  struct Buf {
    float* p = nullptr;
    size_t n = 0;
    ~Buf() { std::free(p); }
  };
  thread_local Buf bufs[8];
  Buf& b = bufs[slot & 7];
  if (b.n < floats) {
    std::free(b.p);
    size_t bytes = ((floats * sizeof(float) + 63) / 64) * 64;
    b.p = static_cast<float*>(std::aligned_alloc(64, bytes));
    b.n = floats;
  }
  return b.p;
}

}  // namespace llm
