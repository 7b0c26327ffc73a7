// Structure-aware mutation for the ONNX importer (fuzz_importer_proto =
// fuzz_importer.cc's harness + this mutator). Debian 12 has no
// libprotobuf-mutator, so this is a small one on protobuf reflection: an
// input that parses as a ModelProto gets 1-3 edits of single fields anywhere
// in it (attribute ints such as group/strides/dilations set to 0, -1, 2^31,
// ...; floats to NaN/inf; tensor dims, data types, raw bytes; names swapped
// for other names of the model, op types for other supported ops; repeated
// fields shortened, extended or cleared), then is serialized again, so the
// bytes stay a valid protobuf. Inputs that do not parse (and one in eight
// that do) get libFuzzer's byte mutations. Deterministic for a seed.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "onnx/onnx_pb.h"

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using Rng = std::minstd_rand;

// Op types worth swapping in: what the importer supports, and a few it does not.
const char* const kOps[] = {"Conv",
                            "Gemm",
                            "MatMul",
                            "Add",
                            "Sub",
                            "Mul",
                            "Div",
                            "Neg",
                            "Greater",
                            "GreaterOrEqual",
                            "Less",
                            "Heaviside",
                            "Cast",
                            "Clip",
                            "Relu",
                            "Sigmoid",
                            "MaxPool",
                            "AveragePool",
                            "Loop",
                            "Reshape",
                            "Flatten",
                            "Concat",
                            "Slice",
                            "Gather",
                            "Unsqueeze",
                            "Squeeze",
                            "Shape",
                            "Constant",
                            "Identity",
                            "Expand",
                            "ScatterND",
                            "Pad",
                            "BatchNormalization",
                            "ReduceMean",
                            "Transpose",
                            "LSTM"};

struct Site {
  Message* msg;
  const FieldDescriptor* field;
};

struct Model {
  std::vector<Site> sites;
  std::vector<std::string> names;  // short strings of the model: value and node names
};

void Collect(Message* m, Model* out) {
  const Descriptor* d = m->GetDescriptor();
  const Reflection* r = m->GetReflection();
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    out->sites.push_back({m, f});
    const bool message = f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE;
    const bool string = f->cpp_type() == FieldDescriptor::CPPTYPE_STRING;
    if (f->is_repeated()) {
      for (int k = 0; k < r->FieldSize(*m, f); ++k) {
        if (message) Collect(r->MutableRepeatedMessage(m, f, k), out);
        if (string && r->GetRepeatedString(*m, f, k).size() < 64)
          out->names.push_back(r->GetRepeatedString(*m, f, k));
      }
    } else if (message && r->HasField(*m, f)) {
      Collect(r->MutableMessage(m, f), out);
    } else if (string && r->HasField(*m, f) && r->GetString(*m, f).size() < 64) {
      out->names.push_back(r->GetString(*m, f));
    }
  }
}

int64_t Int(Rng& rng, int64_t old) {
  static const int64_t kValues[] = {0,
                                    1,
                                    -1,
                                    2,
                                    3,
                                    4,
                                    7,
                                    8,
                                    16,
                                    255,
                                    1 << 16,
                                    std::numeric_limits<int32_t>::max(),
                                    int64_t{1} << 31,
                                    std::numeric_limits<int32_t>::min(),
                                    (int64_t{1} << 32) + 1,
                                    int64_t{1} << 40,
                                    std::numeric_limits<int64_t>::max(),
                                    std::numeric_limits<int64_t>::min()};
  switch (rng() % 4) {
    case 0:
      return static_cast<int64_t>(static_cast<uint64_t>(old) + 1);  // wraps, no UB
    case 1:
      return static_cast<int64_t>(static_cast<uint64_t>(old) - 1);
    default:
      return kValues[rng() % std::size(kValues)];
  }
}

double Float(Rng& rng, double old) {
  static const double kValues[] = {0.0,
                                   -0.0,
                                   1.0,
                                   -1.0,
                                   0.5,
                                   2.0,
                                   1e-30,
                                   1e30,
                                   std::numeric_limits<double>::quiet_NaN(),
                                   std::numeric_limits<double>::infinity(),
                                   -std::numeric_limits<double>::infinity()};
  return rng() % 3 == 0 ? old * 2 : kValues[rng() % std::size(kValues)];
}

std::string String(Rng& rng, const Model& model, std::string old, size_t max_size) {
  switch (rng() % 4) {
    case 0:
      return model.names.empty() ? old : model.names[rng() % model.names.size()];
    case 1:
      return kOps[rng() % std::size(kOps)];
    case 2:
      return "";
    default: {  // bytes (raw_data): libFuzzer's own mutations
      const size_t n = old.size(), cap = std::max<size_t>(n, std::min(max_size, n + 64));
      old.resize(std::max<size_t>(cap, 1));
      old.resize(LLVMFuzzerMutate(reinterpret_cast<uint8_t*>(old.data()), n, cap));
      return old;
    }
  }
}

// Edits element `k` of a repeated field, or the singular field (k < 0).
void SetValue(Rng& rng, const Model& model, Message* m, const FieldDescriptor* f, int k,
              size_t max_size) {
  const Reflection* r = m->GetReflection();
  const bool rep = k >= 0;
  switch (f->cpp_type()) {
#define SNNPLAN_INT_CASE(CPP, TYPE, NAME)                                           \
  case FieldDescriptor::CPP: {                                                      \
    const int64_t old = rep ? r->GetRepeated##NAME(*m, f, k) : r->Get##NAME(*m, f); \
    const auto v = static_cast<TYPE>(Int(rng, static_cast<int64_t>(old)));          \
    rep ? r->SetRepeated##NAME(m, f, k, v) : r->Set##NAME(m, f, v);                 \
    break;                                                                          \
  }
    SNNPLAN_INT_CASE(CPPTYPE_INT32, int32_t, Int32)
    SNNPLAN_INT_CASE(CPPTYPE_INT64, int64_t, Int64)
    SNNPLAN_INT_CASE(CPPTYPE_UINT32, uint32_t, UInt32)
    SNNPLAN_INT_CASE(CPPTYPE_UINT64, uint64_t, UInt64)
#undef SNNPLAN_INT_CASE
    case FieldDescriptor::CPPTYPE_FLOAT: {
      const double old = rep ? r->GetRepeatedFloat(*m, f, k) : r->GetFloat(*m, f);
      const double d = Float(rng, old);  // beyond float's range: inf, not UB
      const auto v = std::abs(d) > std::numeric_limits<float>::max()
                         ? static_cast<float>(std::copysign(HUGE_VAL, d))
                         : static_cast<float>(d);
      rep ? r->SetRepeatedFloat(m, f, k, v) : r->SetFloat(m, f, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_DOUBLE: {
      const double v = Float(rng, rep ? r->GetRepeatedDouble(*m, f, k) : r->GetDouble(*m, f));
      rep ? r->SetRepeatedDouble(m, f, k, v) : r->SetDouble(m, f, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_BOOL: {
      const bool v = !(rep ? r->GetRepeatedBool(*m, f, k) : r->GetBool(*m, f));
      rep ? r->SetRepeatedBool(m, f, k, v) : r->SetBool(m, f, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      const auto* e =
          f->enum_type()->value(static_cast<int>(rng() % f->enum_type()->value_count()));
      rep ? r->SetRepeatedEnum(m, f, k, e) : r->SetEnum(m, f, e);
      break;
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string v =
          String(rng, model, rep ? r->GetRepeatedString(*m, f, k) : r->GetString(*m, f), max_size);
      rep ? r->SetRepeatedString(m, f, k, std::move(v)) : r->SetString(m, f, std::move(v));
      break;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      if (rep) {
        r->MutableRepeatedMessage(m, f, k)->Clear();
      } else if (r->HasField(*m, f)) {
        r->ClearField(m, f);
      } else {
        r->MutableMessage(m, f);  // present but empty
      }
      break;
  }
}

void MutateOnce(Rng& rng, onnx::ModelProto* model, size_t max_size) {
  Model m;
  Collect(model, &m);
  if (m.sites.empty()) return;
  const Site s = m.sites[rng() % m.sites.size()];
  const Reflection* r = s.msg->GetReflection();
  if (!s.field->is_repeated()) return SetValue(rng, m, s.msg, s.field, -1, max_size);
  const int n = r->FieldSize(*s.msg, s.field);
  switch (n == 0 ? 3 : rng() % 6) {
    case 0:  // drop one element
      r->SwapElements(s.msg, s.field, static_cast<int>(rng() % n), n - 1);
      r->RemoveLast(s.msg, s.field);
      return;
    case 1:  // duplicate one (messages) or clear all
      if (s.field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE)
        r->AddMessage(s.msg, s.field)
            ->CopyFrom(r->GetRepeatedMessage(*s.msg, s.field, static_cast<int>(rng() % n)));
      else
        r->ClearField(s.msg, s.field);
      return;
    case 3:  // append an element (scalars: then edit it)
      switch (s.field->cpp_type()) {
        case FieldDescriptor::CPPTYPE_INT32:
          r->AddInt32(s.msg, s.field, 1);
          break;
        case FieldDescriptor::CPPTYPE_INT64:
          r->AddInt64(s.msg, s.field, 1);
          break;
        case FieldDescriptor::CPPTYPE_UINT32:
          r->AddUInt32(s.msg, s.field, 1);
          break;
        case FieldDescriptor::CPPTYPE_UINT64:
          r->AddUInt64(s.msg, s.field, 1);
          break;
        case FieldDescriptor::CPPTYPE_FLOAT:
          r->AddFloat(s.msg, s.field, 1);
          break;
        case FieldDescriptor::CPPTYPE_DOUBLE:
          r->AddDouble(s.msg, s.field, 1);
          break;
        case FieldDescriptor::CPPTYPE_BOOL:
          r->AddBool(s.msg, s.field, true);
          break;
        case FieldDescriptor::CPPTYPE_ENUM:
          r->AddEnum(s.msg, s.field, s.field->enum_type()->value(0));
          break;
        case FieldDescriptor::CPPTYPE_STRING:
          r->AddString(s.msg, s.field, "");
          break;
        case FieldDescriptor::CPPTYPE_MESSAGE:
          r->AddMessage(s.msg, s.field);
          return;
      }
      return SetValue(rng, m, s.msg, s.field, r->FieldSize(*s.msg, s.field) - 1, max_size);
    default:  // edit one element
      return SetValue(rng, m, s.msg, s.field, static_cast<int>(rng() % n), max_size);
  }
}

}  // namespace

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size,
                                          unsigned int seed) {
  Rng rng(seed);
  onnx::ModelProto model;
  if (rng() % 8 == 0 || size > static_cast<size_t>(std::numeric_limits<int>::max()) ||
      !model.ParseFromArray(data, static_cast<int>(size)))
    return LLVMFuzzerMutate(data, size, max_size);
  const int edits = 1 + static_cast<int>(rng() % 3);
  for (int i = 0; i < edits; ++i) MutateOnce(rng, &model, max_size);
  std::string out;
  if (!model.SerializeToString(&out) || out.size() > max_size)
    return LLVMFuzzerMutate(data, size, max_size);
  std::memcpy(data, out.data(), out.size());
  return out.size();
}
