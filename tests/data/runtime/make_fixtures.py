#!/usr/bin/python3
"""Writes the numpy fixtures of tests/runtime (run from anywhere; numpy 1.24,
Debian 12's python3-numpy). The values are simple formulas the C++ tests
recompute; see tests/runtime/npy_test.cc. Re-running gives the same bytes."""
import io
import os
import zipfile

import numpy as np
from numpy.lib import format as npformat

HERE = os.path.dirname(os.path.abspath(__file__))


def path(name):
    return os.path.join(HERE, name)


def base():  # 2x3, -1.0 .. 1.5 in steps of 0.5
    return np.arange(6).reshape(2, 3) * 0.5 - 1.0


def arrays():
    return {
        "f32": base().astype("<f4"),
        # 0.1 rounds; 1e300 overflows float32 (-> inf); -1e-50 underflows to -0.
        "f64": np.array([0.1, 1e300, -1e300, -1e-50, 2.5, np.pi], dtype="<f8"),
        # max half, smallest subnormal, -0, inf, nan, 1/3.
        "f16": np.array([65504.0, 2.0**-24, -0.0, np.inf, np.nan, 1.0 / 3.0], dtype="<f2"),
        "u8": np.array([0, 1, 127, 128, 255], dtype="|u1"),
        "i8": np.array([-128, -1, 0, 1, 127], dtype="|i1"),
        "i16": np.array([-32768, -1, 0, 32767], dtype="<i2"),
        "i32": np.array([-2147483648, -1, 0, 16777217, 2147483647], dtype="<i4"),
        "i64": np.array([[-(2**62), -1], [0, 2**40 + 1]], dtype="<i8"),
        "bool": np.array([[True, False, True], [False, False, True]], dtype="|b1"),
        "scalar": np.array(3.25, dtype="<f4"),
        "empty": np.zeros((0, 3), dtype="<f4"),
        "vec": np.arange(5, dtype="<f4"),
        "spikes": (np.arange(2 * 3 * 4 * 4).reshape(2, 3, 4, 4) % 3 == 0).astype("<f4"),
    }


def main():
    for name, a in arrays().items():
        np.save(path(name + ".npy"), a)
    # Format versions 2.0 and 3.0 of the same array.
    for version in [(2, 0), (3, 0)]:
        with open(path("f32_v%d.npy" % version[0]), "wb") as f:
            npformat.write_array(f, base().astype("<f4"), version=version)
    # Refused arrays.
    np.save(path("bad_bigendian.npy"), base().astype(">f4"))
    np.save(path("bad_fortran.npy"), np.asfortranarray(base().astype("<f4")))
    np.save(path("bad_object.npy"), np.array([1, "a"], dtype=object), allow_pickle=True)
    np.save(path("bad_uint16.npy"), np.arange(3, dtype="<u2"))
    np.save(path("bad_complex.npy"), np.arange(3, dtype="<c8"))

    # Archives: stored (np.savez) and deflated (np.savez_compressed); a key
    # with a slash becomes a nested member name.
    members = {k: arrays()[k] for k in ["f32", "f64", "u8", "bool", "i64", "spikes", "scalar"]}
    members["dir/nested"] = np.arange(4, dtype="<f4").reshape(2, 2)
    np.savez(path("stored.npz"), **members)
    np.savez_compressed(path("compressed.npz"), **members)
    np.savez(path("empty.npz"))

    def zip_of(name, entries, compression=zipfile.ZIP_STORED):
        # Fixed timestamps so the files are reproducible.
        with zipfile.ZipFile(path(name), "w", compression) as z:
            for member, data in entries:
                info = zipfile.ZipInfo(member, date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = compression
                z.writestr(info, data)

    def npy_bytes(a):
        b = io.BytesIO()
        np.save(b, a)
        return b.getvalue()

    good = npy_bytes(base().astype("<f4"))
    zip_of("bad_member_name.npz", [("a.npy", good), ("notes.txt", b"hello")])
    zip_of("bad_member_bigendian.npz", [("a.npy", good), ("b.npy", npy_bytes(base().astype(">f4")))])
    zip_of("bad_member_truncated.npz", [("a.npy", good[:-4])], zipfile.ZIP_DEFLATED)
    zip_of("bad_member_long.npz", [("a.npy", good + b"\0\0\0\0")], zipfile.ZIP_DEFLATED)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name
        zip_of("bad_duplicate.npz", [("a.npy", good), ("a.npy", good)])


if __name__ == "__main__":
    main()
