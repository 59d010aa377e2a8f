"""safetensors files, written and read here byte by byte (no safetensors package).

Layout: 8-byte little-endian header length N; N bytes of JSON
{name: {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}} with keys sorted, compact
separators and no __metadata__, padded with spaces to a multiple of 8; then the tensor data,
little-endian, in sorted-key order with no gaps. The same tensors always give the same bytes.
"""
import json
import mmap
import struct

import numpy as np

DTYPES = {'F32': np.dtype('<f4'), 'F64': np.dtype('<f8'), 'F16': np.dtype('<f2')}


def _header_bytes(shapes):
    """shapes: {name: shape}. Returns (padded header bytes, [(name, begin, end)] in sorted order)."""
    header, layout, offset = {}, [], 0
    for name in sorted(shapes):
        if name == '__metadata__':
            raise ValueError('"__metadata__" is not a tensor name')
        shape = [int(s) for s in shapes[name]]
        nbytes = 4 * int(np.prod(shape, dtype=np.int64))
        header[name] = {'dtype': 'F32', 'shape': shape, 'data_offsets': [offset, offset + nbytes]}
        layout.append((name, offset, offset + nbytes))
        offset += nbytes
    h = json.dumps(header, separators=(',', ':'), sort_keys=True).encode('utf-8')
    h += b' ' * (-len(h) % 8)
    return h, layout


def _as_f32_bytes(t, shape):
    a = t.detach().cpu().numpy() if hasattr(t, 'detach') else np.asarray(t)
    if tuple(a.shape) != tuple(shape):
        raise ValueError('tensor shape %s, header says %s' % (a.shape, tuple(shape)))
    return np.ascontiguousarray(a, dtype='<f4').tobytes()


def write_stream(path, shapes, tensors):
    """Write `tensors`, an iterable of (name, tensor) in sorted-name order matching `shapes`,
    holding only one tensor in memory at a time."""
    h, layout = _header_bytes(shapes)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        it = iter(tensors)
        for name, begin, end in layout:
            got, t = next(it)
            if got != name:
                raise ValueError('tensors out of order: expected %s, got %s' % (name, got))
            data = _as_f32_bytes(t, shapes[name])
            assert len(data) == end - begin
            f.write(data)
        if next(it, None) is not None:
            raise ValueError('more tensors than shapes')


def write_safetensors(path, tensors):
    """tensors: {name: torch tensor or numpy array}; stored as F32."""
    shapes = {k: tuple(v.shape) for k, v in tensors.items()}
    write_stream(path, shapes, ((k, tensors[k]) for k in sorted(tensors)))


def read_safetensors(path, copy=False):
    """{name: numpy array} in file order. Arrays are views of a read-only memory map unless copy."""
    with open(path, 'rb') as f:
        mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    if len(mm) < 8:
        raise ValueError('%s: too short for a safetensors file' % path)
    (n,) = struct.unpack('<Q', mm[:8])
    if 8 + n > len(mm):
        raise ValueError('%s: header length %d runs past the end of the file' % (path, n))
    try:
        header = json.loads(bytes(mm[8:8 + n]).decode('utf-8'))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError('%s: bad header JSON: %s' % (path, e)) from None
    base = 8 + n
    size = len(mm) - base
    out = {}
    for name, t in sorted(header.items(), key=lambda kv: kv[1].get('data_offsets', [0])[0] if isinstance(kv[1], dict) else 0):
        if name == '__metadata__':
            continue
        dt = DTYPES.get(t.get('dtype'))
        if dt is None:
            raise ValueError('%s: %s has unsupported dtype %r' % (path, name, t.get('dtype')))
        shape = [int(s) for s in t['shape']]
        b, e = (int(x) for x in t['data_offsets'])
        count = int(np.prod(shape, dtype=np.int64))
        if not (0 <= b <= e <= size) or e - b != count * dt.itemsize:
            raise ValueError('%s: %s has bad data_offsets %s for shape %s' % (path, name, [b, e], shape))
        a = np.frombuffer(mm, dtype=dt, count=count, offset=base + b).reshape(shape)
        if dt != np.float32:
            a = a.astype(np.float32)
        elif copy:
            a = a.copy()
        out[name] = a
    return out
