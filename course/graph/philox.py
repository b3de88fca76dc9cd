"""TensorFlow's counter-based random numbers, bit for bit: Philox4x32-10 and its distributions.

TF1's stateful random ops (`RandomStandardNormal`, `TruncatedNormal`, `RandomUniform`) on the CPU
draw from a Philox4x32-10 generator (Salmon et al., 2011) keyed by the op's two seeds:

    key     = (seed  mod 2^32, seed  >> 32)          # the graph-level seed
    counter = (0, 0, seed2 mod 2^32, seed2 >> 32)    # the op-level seed

Each call maps the 128-bit counter to four uint32 words through ten rounds of

    (hi0, lo0) = M_A * c0,  (hi1, lo1) = M_B * c2          (32x32 -> 64-bit products)
    c = (hi1 ^ c1 ^ k0,  lo1,  hi0 ^ c3 ^ k1,  lo0);  k += (W_A, W_B)

and then adds 1 to the counter. Output element groups are independent of threading: group g of a
fixed-cost distribution (uniform, normal: 4 values per group) uses the counter `base + g`; group
g of the truncated normal (a variable number of draws) starts at `base + 256·g`. After each run
the op reserves `256·n` counters (n = number of outputs), so running it again continues the stream.

Conversions (all in float32, as TF's kernels):
    uniform   u = bitcast(0x3F800000 | (x & 0x7FFFFF)) - 1            in [0, 1)
    normal    Box-Muller on pairs: r = sqrt(-2 log max(u0, 1e-7)), θ = 2π·u1,
              (r·sin θ, r·cos θ)
    truncated draw pairs until 4 values with |z| < 2 are collected (in order).
"""
import numpy as np

__all__ = ["philox", "uniform", "normal", "truncated_normal", "uniform_int", "counters", "RESERVED_PER_OUTPUT"]

_M_A, _M_B = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
_W_A, _W_B = 0x9E3779B9, 0xBB67AE85
_MASK = np.uint64(0xFFFFFFFF)
_32 = np.uint64(32)
RESERVED_PER_OUTPUT = 256          # counters an op run reserves per output element


def counters(seed2, start, offsets):
    """(n, 4) uint32-valued counters `start + offsets` of stream `seed2` (start: a 128-bit int,
    offsets: an int or a uint64 array; an int n means offsets 0..n-1)."""
    if isinstance(offsets, (int, np.integer)):
        offsets = np.arange(offsets, dtype=np.uint64)
    offsets = np.asarray(offsets, dtype=np.uint64)
    lo = np.uint64(start & 0xFFFFFFFFFFFFFFFF) + offsets        # the low 64 bits, wrapping
    carry = (lo < offsets).astype(np.uint64)                    # overflow into the high half
    hi = np.uint64((seed2 + (start >> 64)) & 0xFFFFFFFFFFFFFFFF) + carry
    c = np.empty((len(offsets), 4), dtype=np.uint64)
    c[:, 0], c[:, 1] = lo & _MASK, lo >> _32
    c[:, 2], c[:, 3] = hi & _MASK, hi >> _32
    return c


def philox(seed, ctr):
    """Philox4x32-10 of the (n, 4) counters under key `seed`; returns (n, 4) uint32 words."""
    k0, k1 = seed & 0xFFFFFFFF, (seed >> 32) & 0xFFFFFFFF
    c0, c1, c2, c3 = (ctr[:, i].astype(np.uint64) for i in range(4))
    for r in range(10):
        p0 = _M_A * c0                                          # (hi0, lo0)
        p1 = _M_B * c2                                          # (hi1, lo1)
        c0, c1, c2, c3 = ((p1 >> _32) ^ c1 ^ np.uint64(k0), p1 & _MASK,
                          (p0 >> _32) ^ c3 ^ np.uint64(k1), p0 & _MASK)
        k0, k1 = (k0 + _W_A) & 0xFFFFFFFF, (k1 + _W_B) & 0xFFFFFFFF
    return np.stack([c0, c1, c2, c3], axis=1).astype(np.uint32)


def _to_float(x):
    """uint32 -> float32 in [0, 1): 23 random mantissa bits under exponent 0, minus one."""
    return ((x & np.uint32(0x7FFFFF)) | np.uint32(0x3F800000)).view(np.float32) - np.float32(1.0)


def _box_muller(x0, x1):
    """Two uint32 arrays -> two float32 normal arrays, as TF's BoxMullerFloat."""
    u1 = np.maximum(_to_float(x0), np.float32(1e-7))
    v1 = (2.0 * np.pi * _to_float(x1).astype(np.float64)).astype(np.float32)   # float(2π·u) as in C++
    r = np.sqrt(np.float32(-2.0) * np.log(u1))
    return np.sin(v1) * r, np.cos(v1) * r


def uniform(seed, seed2, start, n):
    """n float32 uniforms in [0, 1) of one op run whose stream position is `start`."""
    groups = -(-n // 4)
    words = philox(seed, counters(seed2, start, groups))          # (groups, 4)
    return _to_float(words).reshape(-1)[:n]


def normal(seed, seed2, start, n):
    """n float32 standard normals (TF's RandomStandardNormal)."""
    groups = -(-n // 4)
    w = philox(seed, counters(seed2, start, groups))              # (groups, 4)
    out = np.empty((groups, 4), dtype=np.float32)
    out[:, 0], out[:, 1] = _box_muller(w[:, 0], w[:, 1])
    out[:, 2], out[:, 3] = _box_muller(w[:, 2], w[:, 3])
    return out.reshape(-1)[:n]


def truncated_normal(seed, seed2, start, n):
    """n float32 normals re-drawn until |z| < 2 (TF's TruncatedNormal), group by group."""
    groups = -(-n // 4)
    out = np.empty((groups, 4), dtype=np.float32)
    filled = np.zeros(groups, dtype=np.int64)
    pending = np.arange(groups)
    step = 0                                                      # Philox calls made per group so far
    while pending.size:
        offsets = pending.astype(np.uint64) * np.uint64(RESERVED_PER_OUTPUT) + np.uint64(step)
        w = philox(seed, counters(seed2, start, offsets))         # (p, 4): two Box-Muller pairs
        z = np.empty((len(pending), 4), dtype=np.float32)
        z[:, 0], z[:, 1] = _box_muller(w[:, 0], w[:, 1])
        z[:, 2], z[:, 3] = _box_muller(w[:, 2], w[:, 3])
        for j in range(4):                                        # accept in order until 4 per group
            take = (np.abs(z[:, j]) < 2.0) & (filled[pending] < 4)
            rows = pending[take]
            out[rows, filled[rows]] = z[take, j]
            filled[rows] += 1
        pending = pending[filled[pending] < 4]
        step += 1
    return out.reshape(-1)[:n]


def uniform_int(seed, seed2, start, n, lo, hi):
    """n int32 values in [lo, hi): lo + (x mod (hi - lo)) on each uint32 word."""
    groups = -(-n // 4)
    words = philox(seed, counters(seed2, start, groups)).reshape(-1)[:n].astype(np.uint64)
    rng = np.uint64((hi - lo) & 0xFFFFFFFF)
    return (np.int64(lo) + (words % rng).astype(np.int64)).astype(np.int32)
