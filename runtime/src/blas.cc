#include "blas.h"

#include <cblas.h>  // OpenBLAS's (openblas-pthread include dir): declares openblas_set_num_threads

#include <mutex>

namespace snnplan::runtime::internal {

void UseSingleThreadedBlas() {
  static std::once_flag once;
  std::call_once(once, [] { openblas_set_num_threads(1); });
}

void Sgemm(bool b_transposed, int m, int n, int k, const float* a, int lda, const float* b, int ldb,
           float* c, int ldc) {
  UseSingleThreadedBlas();
  // beta = 0: OpenBLAS clears C rather than scaling it, so whatever C held
  // (even NaN) does not leak into the result.
  cblas_sgemm(CblasRowMajor, CblasNoTrans, b_transposed ? CblasTrans : CblasNoTrans, m, n, k, 1.0f,
              a, lda, b, ldb, 0.0f, c, ldc);
}

}  // namespace snnplan::runtime::internal
