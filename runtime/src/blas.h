// OpenBLAS, single-threaded: the runtime parallelises over work items itself
// (parallel.h), so OpenBLAS's own threads would only oversubscribe the cores
// and make the split of each product depend on the thread count.
#pragma once

namespace snnplan::runtime::internal {

// Sets OpenBLAS to one thread, once per process (thread-safe).
void UseSingleThreadedBlas();

// C[m][n] = A[m][k] * B[k][n] (row-major, leading dimensions lda, ldb, ldc),
// or B^T when `b_transposed` (B is then [n][k]). C is overwritten.
void Sgemm(bool b_transposed, int m, int n, int k, const float* a, int lda, const float* b, int ldb,
           float* c, int ldc);

}  // namespace snnplan::runtime::internal
