#!/usr/bin/env bash
# Installs snnplan's build and test dependencies from Debian 12 packages (as root).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
  ca-certificates cmake ninja-build g++ pkg-config \
  libonnx-dev libprotobuf-dev protobuf-compiler libabsl-dev libcli11-dev \
  nlohmann-json3-dev libgtest-dev libgmock-dev libbenchmark-dev libssl-dev libxml2-dev \
  libzip-dev libopenblas-dev libhdf5-dev libyaml-cpp-dev python3-numpy \
  python3 python3-dev pybind11-dev python3-pytest python3-matplotlib python3-jsonschema \
  slurmctld slurmd slurm-client munge >/dev/null
# slurmctld, slurmd, slurm-client and munge: the Slurm test (tests/slurm)
# starts a single-node cluster on localhost with them (docs/cluster.md).
# The Python module's from_torch() and its test also use python3-torch when it
# is installed; it is large and optional, so it is not installed here.
