"""TensorFlow's checkpoint format (a "tensor bundle"), written and read without TensorFlow.

    <prefix>.index                  a sorted table (LevelDB's SSTable layout) from each key to a small
                                    protocol-buffer record: dtype, shape, offset, size, CRC32C
    <prefix>.data-00000-of-00001    the tensors' bytes, little-endian, one after another

The first record (key "") is the bundle's header. A checkpoint of objects adds the key
`_CHECKPOINTABLE_OBJECT_GRAPH`: a string tensor holding the `TrackableObjectGraph` protocol buffer
(nodes, their named children and their variables' keys). Writing these files lets TensorFlow restore
what the course saved, and reading them lets the course restore what TensorFlow saved.

Everything is parsed by hand with bounds checks: varints of at most 10 bytes, lengths inside their
buffer, blocks inside the file, every CRC checked. Nothing is unpickled or executed.
"""
import struct

import numpy as np

__all__ = ["crc32c", "masked_crc32c", "write_index", "read_index", "is_bundle", "encode_string_tensor",
           "decode_string_tensor", "encode_object_graph", "decode_object_graph", "DTYPE_ENUM"]

MAGIC = 0xdb4775248b80fb57
_FOOTER = 48
DTYPE_ENUM = {"float32": 1, "float64": 2, "int32": 3, "uint8": 4, "int16": 5, "int8": 6, "string": 7, "complex64": 8,
              "int64": 9, "bool": 10, "bfloat16": 14, "complex128": 18, "float16": 19}
_DTYPE_NAME = {v: k for k, v in DTYPE_ENUM.items()}


class BundleError(ValueError):
    """The bytes are not a well-formed tensor bundle (the message says where)."""


# -- CRC32C (Castagnoli), as TF and LevelDB checksum blocks and tensors -------------------------------------------
def _table():
    out = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        out.append(c)
    return out


_T = _table()


def _crc_bytes(data, c):
    t = _T
    for b in data:
        c = t[(c ^ b) & 0xFF] ^ (c >> 8)
    return c


def _zero_shift_tables(n):
    """Four 256-entry tables applying "feed n zero bytes" to a CRC register, byte by byte (the operator is
    linear over GF(2): its columns are the images of the 32 one-bit registers)."""
    cols = [_crc_bytes(bytes(n), 1 << i) for i in range(32)]

    def apply(x):
        out, i = 0, 0
        while x:
            if x & 1:
                out ^= cols[i]
            x >>= 1
            i += 1
        return out
    return [[apply(b << (8 * j)) for b in range(256)] for j in range(4)]


_CHUNK = 4096
_SHIFT = []


def crc32c(data, crc=0):
    """CRC32C of `data`, continuing from `crc` (crc32c(b, crc32c(a)) == crc32c(a + b)). Large inputs are
    cut into chunks whose CRCs numpy computes side by side, then joined (CRCs are linear)."""
    data = bytes(data)
    c = crc ^ 0xFFFFFFFF
    k = len(data) // _CHUNK
    if k < 16:
        return _crc_bytes(data, c) ^ 0xFFFFFFFF
    lanes = np.frombuffer(data, np.uint8, count=k * _CHUNK).reshape(k, _CHUNK).T.copy()    # (chunk byte, chunk)
    regs = np.zeros(k, np.uint32)
    regs[0] = c
    table = np.array(_T, dtype=np.uint32)
    for row in lanes:
        regs = table[(regs ^ row) & 0xFF] ^ (regs >> 8)
    if not _SHIFT:
        _SHIFT.append(_zero_shift_tables(_CHUNK))
    t0, t1, t2, t3 = _SHIFT[0]
    c = 0
    for r in regs.tolist():
        c = t0[c & 0xFF] ^ t1[(c >> 8) & 0xFF] ^ t2[(c >> 16) & 0xFF] ^ t3[c >> 24] ^ r
    return _crc_bytes(data[k * _CHUNK:], c) ^ 0xFFFFFFFF


def masked_crc32c(data):
    """LevelDB's masked CRC (stored CRCs are masked so a CRC of CRCs stays informative)."""
    c = crc32c(data)
    return ((((c >> 15) | (c << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def _mask(c):
    return ((((c >> 15) | (c << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


# -- protocol-buffer wire format -----------------------------------------------------------------------------------
def _varint(n):
    out = bytearray()
    n &= (1 << 64) - 1
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _get_varint(buf, pos, where):
    result, shift = 0, 0
    for i in range(10):
        if pos + i >= len(buf):
            raise BundleError(f"{where}: a number runs past the end")
        b = buf[pos + i]
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos + i + 1
        shift += 7
    raise BundleError(f"{where}: a number is longer than 10 bytes")


def _field(num, value):
    """One protobuf field: ints as varints, bytes/str as length-delimited."""
    if isinstance(value, (bytes, str)):
        data = value.encode("utf-8") if isinstance(value, str) else value
        return _varint(num << 3 | 2) + _varint(len(data)) + data
    return _varint(num << 3) + _varint(int(value))


def _fields(buf, where):
    """[(field number, value)] of a message: ints for varints and fixed32, bytes for length-delimited."""
    out, pos = [], 0
    buf = bytes(buf)
    while pos < len(buf):
        key, pos = _get_varint(buf, pos, where)
        num, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _get_varint(buf, pos, where)
        elif wire == 2:
            n, pos = _get_varint(buf, pos, where)
            if pos + n > len(buf):
                raise BundleError(f"{where}: a field runs past the end")
            value, pos = buf[pos:pos + n], pos + n
        elif wire == 5:
            if pos + 4 > len(buf):
                raise BundleError(f"{where}: a field runs past the end")
            value, pos = struct.unpack_from("<I", buf, pos)[0], pos + 4
        elif wire == 1:
            if pos + 8 > len(buf):
                raise BundleError(f"{where}: a field runs past the end")
            value, pos = struct.unpack_from("<Q", buf, pos)[0], pos + 8
        else:
            raise BundleError(f"{where}: unknown wire type {wire}")
        out.append((num, value))
    return out


def _signed(v):
    return v - (1 << 64) if v >= 1 << 63 else v


# -- records -------------------------------------------------------------------------------------------------------
def _entry(dtype, shape, offset, size, crc):
    shape_msg = b"".join(_field(2, _field(1, d)) for d in shape)
    return (_field(1, DTYPE_ENUM[dtype]) + _field(2, shape_msg) + (_field(4, offset) if offset else b"")
            + (_field(5, size) if size else b"") + _varint(6 << 3 | 5) + struct.pack("<I", crc))


def _parse_entry(value, key):
    where = f"entry {key!r}"
    e = {"dtype": None, "shape": [], "offset": 0, "length": 0, "crc": None, "shard": 0}
    for num, v in _fields(value, where):
        if num == 1:
            e["dtype"] = _DTYPE_NAME.get(v)
            if e["dtype"] is None:
                raise BundleError(f"{where}: unsupported dtype enum {v}")
        elif num == 2:
            for n, dim in _fields(v, where):
                if n == 2:
                    size = [s for m, s in _fields(dim, where) if m == 1]
                    e["shape"].append(_signed(size[0]) if size else 0)
                elif n == 3 and dim:
                    raise BundleError(f"{where}: unknown rank")
        elif num == 3:
            e["shard"] = v
        elif num == 4:
            e["offset"] = v
        elif num == 5:
            e["length"] = v
        elif num == 6:
            e["crc"] = v
        elif num == 7:
            raise BundleError(f"{where}: a partitioned (sliced) variable, which is not supported")
    if e["shard"] != 0:
        raise BundleError(f"{where}: stored in shard {e['shard']}; only single-shard checkpoints are read")
    return e


# -- the table (LevelDB's SSTable layout) ----------------------------------------------------------------------------
def _block(entries):
    """A block of (key bytes, value bytes) with no prefix sharing (every entry a restart point)."""
    body, restarts = bytearray(), []
    for key, value in entries:
        restarts.append(len(body))
        body += _varint(0) + _varint(len(key)) + _varint(len(value)) + key + value
    restarts = restarts or [0]
    body += b"".join(struct.pack("<I", r) for r in restarts) + struct.pack("<I", len(restarts))
    return bytes(body)


def _with_trailer(block):
    trailer_type = b"\x00"                                          # no compression
    return block + trailer_type + struct.pack("<I", _mask(crc32c(trailer_type, crc32c(block))))


def _handle(offset, size):
    return _varint(offset) + _varint(size)


def write_index(entries):
    """The bytes of a `.index` file for [(key, dtype, shape, offset, size, masked crc)] (any order)."""
    rows = [(b"", _field(1, 1) + _field(3, _field(1, 1)))]                 # header: one shard, producer 1
    for key, dtype, shape, offset, size, crc in sorted(entries, key=lambda e: e[0].encode("utf-8")):
        rows.append((key.encode("utf-8"), _entry(dtype, shape, offset, size, crc)))
    out = bytearray()
    data = _block(rows)
    data_handle = _handle(0, len(data))
    out += _with_trailer(data)
    meta = _block([])
    meta_handle = _handle(len(out), len(meta))
    out += _with_trailer(meta)
    index = _block([(rows[-1][0], data_handle)])                   # the last key bounds the only data block
    index_handle = _handle(len(out), len(index))
    out += _with_trailer(index)
    footer = meta_handle + index_handle
    out += footer + b"\x00" * (40 - len(footer)) + struct.pack("<Q", MAGIC)
    return bytes(out)


def is_bundle(raw):
    return len(raw) >= _FOOTER and struct.unpack_from("<Q", raw, len(raw) - 8)[0] == MAGIC


def _read_block(raw, handle, where):
    offset, pos = _get_varint(handle, 0, where)
    size, _ = _get_varint(handle, pos, where)
    if offset + size + 5 > len(raw):
        raise BundleError(f"{where}: a block reaches past the end of the file")
    block = raw[offset:offset + size]
    kind = raw[offset + size:offset + size + 1]
    stored = struct.unpack_from("<I", raw, offset + size + 1)[0]
    if _mask(crc32c(kind, crc32c(block))) != stored:
        raise BundleError(f"{where}: a block's checksum does not match (the file is damaged)")
    if kind != b"\x00":
        raise BundleError(f"{where}: a compressed block (type {kind[0]}), which is not supported")
    return block


def _block_entries(block, where):
    if len(block) < 4:
        raise BundleError(f"{where}: a block is too short")
    n = struct.unpack_from("<I", block, len(block) - 4)[0]
    end = len(block) - 4 - 4 * n
    if n < 1 or end < 0:
        raise BundleError(f"{where}: a block's restart table is invalid")
    out, pos, last = [], 0, b""
    while pos < end:
        shared, pos = _get_varint(block, pos, where)
        non_shared, pos = _get_varint(block, pos, where)
        vlen, pos = _get_varint(block, pos, where)
        if shared > len(last) or pos + non_shared + vlen > end:
            raise BundleError(f"{where}: an entry runs past its block")
        key = last[:shared] + block[pos:pos + non_shared]
        pos += non_shared
        out.append((key, block[pos:pos + vlen]))
        pos += vlen
        last = key
    return out


def read_index(raw, where="index", max_entries=10_000_000):
    """{key: {"dtype", "shape", "offset", "length", "crc"}} from the bytes of a `.index` file."""
    raw = bytes(raw)
    if not is_bundle(raw):
        raise BundleError(f"{where}: not a TensorFlow checkpoint index (no table footer)")
    footer = raw[-_FOOTER:-8]
    _, pos = _get_varint(footer, 0, where)
    _, pos = _get_varint(footer, pos, where)
    index_start = pos
    _, pos = _get_varint(footer, pos, where)
    _, pos = _get_varint(footer, pos, where)
    index = _read_block(raw, footer[index_start:pos], where)
    entries, header = {}, None
    for _, handle in _block_entries(index, where):
        for key, value in _block_entries(_read_block(raw, handle, where), where):
            if len(entries) >= max_entries:
                raise BundleError(f"{where}: more than {max_entries} entries")
            if key == b"":
                header = _fields(value, f"{where} header")
                continue
            name = key.decode("utf-8", errors="replace")
            entries[name] = _parse_entry(value, name)
    if header is None:
        raise BundleError(f"{where}: no header record")
    head = dict(header)
    if head.get(1, 1) != 1:
        raise BundleError(f"{where}: written in {head.get(1)} shards; only single-shard checkpoints are read")
    if head.get(2, 0) != 0:
        raise BundleError(f"{where}: big-endian data, which is not supported")
    return entries


# -- string tensors and the object graph ------------------------------------------------------------------------------
def encode_string_tensor(items):
    """TF's layout: varint lengths, a masked CRC of them, then the bytes; returns (bytes, masked crc).
    TF's CRCs cover each length as 4 little-endian bytes, not as the varint written."""
    lengths = b"".join(_varint(len(s)) for s in items)
    crc = crc32c(b"".join(struct.pack("<I", len(s) & 0xFFFFFFFF) for s in items))
    length_crc = struct.pack("<I", _mask(crc))
    crc = crc32c(b"".join(items), crc32c(length_crc, crc))
    return lengths + length_crc + b"".join(items), _mask(crc)


def decode_string_tensor(data, count, where, crc=None):
    """The `count` strings of a string tensor's bytes; checks both CRCs when `crc` is given."""
    pos, lengths = 0, []
    data = bytes(data)
    for _ in range(count):
        n, pos = _get_varint(data, pos, where)
        lengths.append(n)
    if pos + 4 > len(data):
        raise BundleError(f"{where}: the string lengths run past the end")
    length_crc = data[pos:pos + 4]
    pos += 4
    out = []
    for n in lengths:
        if pos + n > len(data):
            raise BundleError(f"{where}: a string runs past the end")
        out.append(data[pos:pos + n])
        pos += n
    if crc is not None:
        c = crc32c(b"".join(struct.pack("<I", n & 0xFFFFFFFF) for n in lengths))
        if struct.pack("<I", _mask(c)) != length_crc or _mask(crc32c(b"".join(out), crc32c(length_crc, c))) != crc:
            raise BundleError(f"{where}: the checksum does not match (the file is damaged)")
    return out


def encode_object_graph(graph):
    """TrackableObjectGraph bytes for the JSON graph {"nodes": [{"children", "attributes"}]}."""
    nodes = graph["nodes"]
    has_values = [bool(n.get("attributes")) for n in nodes]
    changed = True
    while changed:                                       # a node has values when anything below it has
        changed = False
        for i, n in enumerate(nodes):
            if not has_values[i] and any(has_values[c["node_id"]] for c in n.get("children", ())):
                has_values[i] = changed = True
    out = bytearray()
    for i, n in enumerate(nodes):
        msg = b"".join(_field(1, _field(1, c["node_id"]) + _field(2, c["name"])) for c in n.get("children", ()))
        msg += b"".join(_field(2, _field(1, a["name"]) + _field(2, a.get("full_name") or "")
                               + _field(3, a["checkpoint_key"])) for a in n.get("attributes", ()))
        msg += _field(5, _field(1, 1) if has_values[i] else b"")
        out += _field(1, msg)
    return bytes(out)


def decode_object_graph(data, where="object graph"):
    nodes = []
    for num, node in _fields(data, where):
        if num != 1:
            continue
        entry = {"children": [], "attributes": []}
        for n, v in _fields(node, where):
            if n == 1:
                ref = dict(_fields(v, where))
                entry["children"].append({"node_id": int(ref.get(1, 0)),
                                          "name": bytes(ref.get(2, b"")).decode("utf-8", errors="replace")})
            elif n == 2:
                t = dict(_fields(v, where))
                entry["attributes"].append({k: bytes(t.get(i, b"")).decode("utf-8", errors="replace")
                                            for i, k in ((1, "name"), (2, "full_name"), (3, "checkpoint_key"))})
        nodes.append(entry)
    return {"nodes": nodes}
