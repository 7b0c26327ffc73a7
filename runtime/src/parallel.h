// Runs a fixed list of work items on up to `threads` threads. The items are
// defined by the caller from the problem alone, never from the thread count,
// and each item is computed by the same code wherever it runs: results are
// byte-identical for any thread count. Threads only decide who runs what.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <system_error>
#include <thread>
#include <vector>

namespace snnplan::runtime::internal {

// Most threads one kernel call uses (OpenBLAS, built with MAX_THREADS=64 on
// Debian, keeps a bounded pool of per-call buffers for concurrent callers).
inline constexpr int kMaxThreads = 64;

// fn(item, worker) for item in [0, items); worker in [0, workers) identifies
// the thread (for per-thread scratch). Returns after every item ran.
// `workers` = min(threads, items) >= 1 is what fn sees; ParallelWorkers
// tells the caller in advance so it can size scratch space.
inline int ParallelWorkers(int64_t items, int threads) {
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>({items, threads, kMaxThreads})));
}

template <typename Fn>
void ParallelFor(int64_t items, int threads, Fn&& fn) {
  const int workers = ParallelWorkers(items, threads);
  if (workers <= 1) {
    for (int64_t i = 0; i < items; ++i) fn(i, 0);
    return;
  }
  std::atomic<int64_t> next{0};
  auto run = [&](int worker) {
    for (int64_t i = next.fetch_add(1, std::memory_order_relaxed); i < items;
         i = next.fetch_add(1, std::memory_order_relaxed)) {
      fn(i, worker);
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(static_cast<size_t>(workers - 1));
  for (int t = 1; t < workers; ++t) {
    try {
      pool.emplace_back(run, t);
    } catch (const std::system_error&) {
      break;  // no more threads: the ones we have (and this one) do the rest
    }
  }
  run(0);
  for (std::thread& t : pool) t.join();
}

}  // namespace snnplan::runtime::internal
