#include "poly.h"

#include <algorithm>
#include <cmath>
#include <tuple>

#include "absl/strings/str_cat.h"

namespace snnplan::importer::internal {
namespace {

using TP = onnx::TensorProto;

bool KeyLess(const Term& a, const Term& b) {
  return std::tie(a.var, a.gates) < std::tie(b.var, b.gates);
}

// Sorts, merges equal keys and drops zero coefficients.
Poly Normalize(std::vector<Term> terms) {
  std::stable_sort(terms.begin(), terms.end(), KeyLess);
  Poly out;
  for (Term& t : terms) {
    if (!out.terms.empty() && out.terms.back().var == t.var && out.terms.back().gates == t.gates)
      out.terms.back().coef = CoefAdd(out.terms.back().coef, t.coef);
    else
      out.terms.push_back(std::move(t));
  }
  std::vector<Term> kept;
  for (Term& t : out.terms)
    if (!CoefIsZero(t.coef)) kept.push_back(std::move(t));
  out.terms = std::move(kept);
  return out;
}

Tensor Map2(const Tensor& a, const Tensor& b, double (*fn)(double, double)) {
  std::optional<Tensor> t = MapElements({&a, &b}, TP::DOUBLE,
                                        [fn](const double* v) { return fn(v[0], v[1]); });
  // Coefficients always broadcast (they came from one broadcasting graph);
  // a failure here means an unmaterializable tensor: keep a zero-size marker.
  return t ? std::move(*t) : Tensor::Scalar(std::nan(""), TP::DOUBLE);
}

bool CoefEqual(const Tensor& a, const Tensor& b, double rel_tol) {
  std::optional<Tensor> d = MapElements(
      {&a, &b}, TP::DOUBLE, [rel_tol](const double* v) {
        double scale = std::max({1.0, std::fabs(v[0]), std::fabs(v[1])});
        return std::fabs(v[0] - v[1]) <= rel_tol * scale ? 0.0 : 1.0;
      });
  if (!d) return false;
  if (d->splat) return *d->splat == 0.0;
  return std::all_of(d->data.begin(), d->data.end(), [](double v) { return v == 0.0; });
}

}  // namespace

Tensor CoefAdd(const Tensor& a, const Tensor& b) {
  return Map2(a, b, [](double x, double y) { return x + y; });
}
Tensor CoefMul(const Tensor& a, const Tensor& b) {
  return Map2(a, b, [](double x, double y) { return x * y; });
}
Tensor CoefNeg(const Tensor& a) {
  Tensor z = Tensor::Scalar(0.0, TP::DOUBLE);
  return Map2(z, a, [](double x, double y) { return x - y; });
}
std::optional<Tensor> CoefInverse(const Tensor& a) {
  if (CoefSign(a) == 0) {
    // Mixed signs are fine; zeros are not.
    std::optional<Tensor> z = MapElements({&a}, TP::DOUBLE,
                                          [](const double* v) { return v[0] == 0 ? 1.0 : 0.0; });
    if (!z || (z->splat ? *z->splat != 0 : std::any_of(z->data.begin(), z->data.end(),
                                                       [](double v) { return v != 0; })))
      return std::nullopt;
  }
  Tensor one = Tensor::Scalar(1.0, TP::DOUBLE);
  return Map2(one, a, [](double x, double y) { return x / y; });
}
bool CoefIsZero(const Tensor& a) {
  std::optional<double> u = a.Uniform();
  return u && *u == 0.0;
}
int CoefSign(const Tensor& a) {
  if (!a.materialized()) return 0;
  bool pos = true, neg = true;
  for (int64_t i = 0; i < (a.splat ? 1 : a.numel()); ++i) {
    double v = a.at(i);
    pos &= v > 0;
    neg &= v < 0;
  }
  return pos ? 1 : neg ? -1 : 0;
}

bool Poly::GatesOnly() const {
  return std::all_of(terms.begin(), terms.end(), [](const Term& t) { return t.var < 0; });
}
uint32_t Poly::Gates() const {
  uint32_t g = 0;
  for (const Term& t : terms) g |= t.gates;
  return g;
}
bool Poly::HasVar(int var) const {
  return std::any_of(terms.begin(), terms.end(), [&](const Term& t) { return t.var == var; });
}
const Term* Poly::Find(int var, uint32_t gates) const {
  for (const Term& t : terms)
    if (t.var == var && t.gates == gates) return &t;
  return nullptr;
}

Poly PolyContext::Constant(const Tensor& c) {
  Tensor k = c;
  k.dtype = TP::DOUBLE;
  return Normalize({Term{-1, 0, std::move(k)}});
}
Poly PolyContext::Variable(int var) { return Poly{{Term{var, 0, Tensor::Scalar(1.0, TP::DOUBLE)}}}; }

Poly PolyContext::Add(const Poly& a, const Poly& b) {
  std::vector<Term> t = a.terms;
  t.insert(t.end(), b.terms.begin(), b.terms.end());
  return Normalize(std::move(t));
}

Poly PolyContext::Scale(const Poly& a, const Tensor& k) {
  std::vector<Term> t = a.terms;
  for (Term& x : t) x.coef = CoefMul(x.coef, k);
  return Normalize(std::move(t));
}

Poly PolyContext::Neg(const Poly& a) { return Scale(a, Tensor::Scalar(-1.0, TP::DOUBLE)); }

absl::StatusOr<Poly> PolyContext::Mul(const Poly& a, const Poly& b) {
  std::vector<Term> t;
  for (const Term& x : a.terms)
    for (const Term& y : b.terms) {
      if (x.var >= 0 && y.var >= 0)
        return absl::InvalidArgumentError("it multiplies two non-constant values");
      t.push_back(Term{std::max(x.var, y.var), x.gates | y.gates, CoefMul(x.coef, y.coef)});
    }
  return Normalize(std::move(t));
}

Poly PolyContext::Restrict(const Poly& a, int gate, bool keep) {
  std::vector<Term> t;
  uint32_t bit = uint32_t{1} << gate;
  for (const Term& x : a.terms) {
    if (!(x.gates & bit)) {
      t.push_back(x);
    } else if (keep) {
      t.push_back(x);
      t.back().gates &= ~bit;
    }
  }
  return Normalize(std::move(t));
}

bool PolyContext::Equal(const Poly& a, const Poly& b, double rel_tol) {
  if (a.terms.size() != b.terms.size()) return false;
  for (size_t i = 0; i < a.terms.size(); ++i) {
    const Term &x = a.terms[i], &y = b.terms[i];
    if (x.var != y.var || x.gates != y.gates || !CoefEqual(x.coef, y.coef, rel_tol)) return false;
  }
  return true;
}

absl::StatusOr<Poly> PolyContext::Heaviside(const Poly& arg, bool inclusive) {
  if (arg.IsZero()) return Constant(Tensor::Scalar(inclusive ? 1.0 : 0.0, TP::DOUBLE));
  if (arg.GatesOnly())
    return MapGates({&arg}, [inclusive](const double* v) {
      return (inclusive ? v[0] >= 0 : v[0] > 0) ? 1.0 : 0.0;
    });
  // Lead with the first variable term whose factor has one sign for every
  // neuron; that sign fixes the orientation. (Other terms may vary in sign
  // or vanish per neuron: a per-neuron decay that is 0 for some neurons.)
  int sign = 0;
  for (const Term& t : arg.terms)
    if (t.var >= 0 && (sign = CoefSign(t.coef)) != 0) break;
  if (sign == 0)
    return absl::InvalidArgumentError(
        "a threshold test whose inputs all enter with factors of mixed sign or zero");
  Poly p = sign > 0 ? arg : Neg(arg);
  bool inc = sign > 0 ? inclusive : !inclusive;
  int id = -1;
  for (size_t i = 0; i < atoms_.size(); ++i)
    if (atoms_[i].inclusive == inc && Equal(atoms_[i].arg, p, 1e-12)) id = static_cast<int>(i);
  if (id < 0) {
    if (atoms_.size() >= 24)
      return absl::InvalidArgumentError("more than 24 threshold tests in one neuron");
    atoms_.push_back(Atom{inc, p});
    id = static_cast<int>(atoms_.size()) - 1;
  }
  Poly h{{Term{-1, uint32_t{1} << id, Tensor::Scalar(1.0, TP::DOUBLE)}}};
  if (sign > 0) return h;
  // H(-p > 0) = 1 - H(p >= 0) and H(-p >= 0) = 1 - H(p > 0).
  return Add(Constant(Tensor::Scalar(1.0, TP::DOUBLE)), Neg(h));
}

absl::StatusOr<Poly> PolyContext::MapGates(const std::vector<const Poly*>& args,
                                           const std::function<double(const double*)>& fn) {
  uint32_t gates = 0;
  for (const Poly* p : args) {
    if (!p->GatesOnly()) return absl::InvalidArgumentError("a nonlinear op on a non-spike value");
    gates |= p->Gates();
  }
  std::vector<int> ids;
  for (int i = 0; i < 32; ++i)
    if (gates & (uint32_t{1} << i)) ids.push_back(i);
  if (ids.size() > 6) return absl::InvalidArgumentError("a spike expression with too many inputs");
  // Value of fn under each assignment (a tensor: coefficients may vary per
  // neuron), then the multilinear interpolation (Moebius transform).
  size_t combos = size_t{1} << ids.size();
  std::vector<Tensor> value(combos);
  for (size_t m = 0; m < combos; ++m) {
    uint32_t on = 0;
    for (size_t j = 0; j < ids.size(); ++j)
      if (m & (size_t{1} << j)) on |= uint32_t{1} << ids[j];
    std::vector<Tensor> at;
    for (const Poly* p : args) {
      Tensor sum = Tensor::Scalar(0.0, TP::DOUBLE);
      for (const Term& t : p->terms)
        if ((t.gates & ~on) == 0) sum = CoefAdd(sum, t.coef);
      at.push_back(std::move(sum));
    }
    std::vector<const Tensor*> ptrs;
    for (const Tensor& t : at) ptrs.push_back(&t);
    std::optional<Tensor> v = MapElements(ptrs, TP::DOUBLE, fn);
    if (!v) return absl::InvalidArgumentError("spike expression coefficients do not broadcast");
    value[m] = std::move(*v);
  }
  for (size_t j = 0; j < ids.size(); ++j)
    for (size_t m = 0; m < combos; ++m)
      if (m & (size_t{1} << j)) value[m] = CoefAdd(value[m], CoefNeg(value[m ^ (size_t{1} << j)]));
  std::vector<Term> terms;
  for (size_t m = 0; m < combos; ++m) {
    uint32_t g = 0;
    for (size_t j = 0; j < ids.size(); ++j)
      if (m & (size_t{1} << j)) g |= uint32_t{1} << ids[j];
    terms.push_back(Term{-1, g, std::move(value[m])});
  }
  return Normalize(std::move(terms));
}

Poly PolyContext::Simplify(const Poly& a) const {
  std::vector<Term> terms = a.terms;
  bool changed = false;
  for (Term& t : terms)
    for (size_t g = 0; g < atoms_.size(); ++g) {
      if (!(t.gates & (uint32_t{1} << g)) || atoms_[g].inclusive) continue;
      for (size_t h = 0; h < atoms_.size(); ++h)
        if ((t.gates & (uint32_t{1} << h)) && atoms_[h].inclusive && Equal(atoms_[g].arg, atoms_[h].arg, 1e-12)) {
          t.gates &= ~(uint32_t{1} << h);
          changed = true;
        }
    }
  return changed ? Normalize(std::move(terms)) : a;
}

void EvaluatePoly(const Poly& p, const std::vector<std::vector<double>>& vars,
                  const std::vector<std::vector<double>>& gate_values, const CoefAt& coef_at,
                  int samples, std::vector<double>* out) {
  out->assign(static_cast<size_t>(samples), 0.0);
  for (const Term& t : p.terms)
    for (int i = 0; i < samples; ++i) {
      double v = coef_at(t.coef, i);
      if (t.var >= 0) v *= vars[t.var][i];
      for (uint32_t g = t.gates, k = 0; g; g >>= 1, ++k)
        if (g & 1) v *= gate_values[k][i];
      (*out)[i] += v;
    }
}

}  // namespace snnplan::importer::internal
