// Canonical form of a neuron's arithmetic. Every value in a neuron's update
// is written as a sum of terms coef * var * gate_1 * ... * gate_k, where var
// is a state, an input current or 1, and each gate is a Heaviside atom
// H(arg > 0) or H(arg >= 0) of another such sum. Coefficients are constant
// tensors (a scalar, per channel or per neuron). Because spikes are 0/1,
// gates are idempotent (s * s = s), and resets written as Where, as
// Mul(1 - s), as Sub(s * thr), as a Cast of a comparison or through Sign all
// reduce to the same terms: two exports of one neuron have one form.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tensor.h"

namespace snnplan::importer::internal {

struct Term {
  int var = -1;         // -1: constant term; otherwise a variable index
  uint32_t gates = 0;   // bit i: atom i of the PolyContext
  Tensor coef;          // never uniformly zero
};

// Terms sorted by (var, gates), one per key.
struct Poly {
  std::vector<Term> terms;

  bool IsZero() const { return terms.empty(); }
  // No variables: a function of gates only (values of spikes, joins).
  bool GatesOnly() const;
  uint32_t Gates() const;  // union of all terms' gates
  bool HasVar(int var) const;
  const Term* Find(int var, uint32_t gates) const;
};

struct Atom {
  bool inclusive = false;  // H(arg >= 0) when true, H(arg > 0) when false
  Poly arg;
};

// Atoms of one extraction, de-duplicated by value; and the algebra.
class PolyContext {
 public:
  static Poly Constant(const Tensor& c);
  static Poly Variable(int var);
  static Poly Add(const Poly& a, const Poly& b);
  static Poly Scale(const Poly& a, const Tensor& k);
  static Poly Neg(const Poly& a);
  // Product; fails when it would multiply two variables.
  static absl::StatusOr<Poly> Mul(const Poly& a, const Poly& b);
  // Removes every term whose gates include `gate` (gate := 0), or sets the
  // gate to 1 (keep == true).
  static Poly Restrict(const Poly& a, int gate, bool keep);
  // True when the polynomials have the same terms with coefficients equal
  // within `rel_tol` (relative).
  static bool Equal(const Poly& a, const Poly& b, double rel_tol = 1e-9);

  // H(arg > 0) / H(arg >= 0) as a polynomial in a (possibly new) atom.
  // The argument is sign-normalised: H(-p > 0) = 1 - H(p >= 0).
  absl::StatusOr<Poly> Heaviside(const Poly& arg, bool inclusive);
  // Applies an elementwise function to gate-only polynomials by evaluating
  // it on every assignment of their gates (exact: gates are 0 or 1).
  absl::StatusOr<Poly> MapGates(const std::vector<const Poly*>& args,
                                const std::function<double(const double*)>& fn);

  // Drops gates implied by others in the same term: H(p > 0) implies
  // H(p >= 0), so their product is H(p > 0).
  Poly Simplify(const Poly& a) const;

  const std::vector<Atom>& atoms() const { return atoms_; }
  int num_atoms() const { return static_cast<int>(atoms_.size()); }

 private:
  std::vector<Atom> atoms_;
};

// Evaluation at sampled element positions (the self-check): `vars[v][i]` is
// variable v at sample i, `coef_at(t, i)` a coefficient tensor's element
// under sample i, gates come from `gate_values[g][i]`.
using CoefAt = std::function<double(const Tensor& coef, int sample)>;
void EvaluatePoly(const Poly& p, const std::vector<std::vector<double>>& vars,
                  const std::vector<std::vector<double>>& gate_values, const CoefAt& coef_at,
                  int samples, std::vector<double>* out);

// Elementwise tensor arithmetic on coefficients (double precision).
Tensor CoefAdd(const Tensor& a, const Tensor& b);
Tensor CoefMul(const Tensor& a, const Tensor& b);
Tensor CoefNeg(const Tensor& a);
// 1 / a; nullopt when an element is zero.
std::optional<Tensor> CoefInverse(const Tensor& a);
bool CoefIsZero(const Tensor& a);
// +1 / -1 when every element has that sign, 0 otherwise.
int CoefSign(const Tensor& a);

}  // namespace snnplan::importer::internal
