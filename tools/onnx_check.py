"""Check ONNX models with the onnx package's own tools (Debian's python3-onnx, opset <= 17):
the checker with full_check, then strict shape inference; every node output must end up with a
fully known shape (symbolic batch allowed) equal to the one vitc recorded in value_info.

    /usr/bin/python3 tools/onnx_check.py MODEL.onnx [...]
Prints one line per model; exits 1 on the first problem.
"""
import sys

import onnx
from onnx import shape_inference


def dims(t):
    return [d.dim_param if d.HasField('dim_param') else d.dim_value for d in t.tensor_type.shape.dim]


def check(path):
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    ours = {v.name: dims(v.type) for v in list(model.graph.value_info) + list(model.graph.output)}
    stripped = onnx.ModelProto()
    stripped.CopyFrom(model)
    del stripped.graph.value_info[:]
    inferred = shape_inference.infer_shapes(stripped, strict_mode=True, data_prop=True)
    found = {v.name: dims(v.type) for v in list(inferred.graph.value_info) + list(inferred.graph.output)}
    produced = [o for n in model.graph.node for o in n.output]
    for name in produced:
        if name not in ours:
            raise ValueError('%s: no value_info for %s' % (path, name))
        if name not in found:
            raise ValueError('%s: onnx shape inference could not infer %s' % (path, name))
        a, b = ours[name], found[name]
        # onnx names unknown symbolic dims itself (unk__N); a product like batch*17 is one of those
        if len(a) != len(b) or any(x != y and not (isinstance(x, str) and isinstance(y, str)) for x, y in zip(a, b)):
            raise ValueError('%s: %s is %s in value_info but onnx infers %s' % (path, name, a, b))
    print('%s: ok (opset %d, %d nodes, %d values with shapes)' % (path, model.opset_import[0].version, len(model.graph.node), len(produced)))


if __name__ == '__main__':
    for p in sys.argv[1:]:
        try:
            check(p)
        except Exception as e:  # noqa: BLE001 - report any checker failure as one line
            print('error: %s' % e, file=sys.stderr)
            sys.exit(1)
