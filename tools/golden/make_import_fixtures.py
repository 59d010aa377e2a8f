"""Regenerate the weight-import fixtures in test/fixtures/import/ with Debian's PyTorch.

    /usr/bin/python3 tools/golden/make_import_fixtures.py [--out DIR]

One set of seeded weights for test/fixtures/import/flowers.yaml (a micro ViT with five classes),
written the ways real checkpoints are written, plus the logits the reference computes from them:

  weights.safetensors    the weights, timm names, F32 (the source of every file below)
  input.npy, logits.npy  a batch of 2 standard-normal images and the float32 logits
  model.pth              torch.save(model.state_dict()) from the CPU
  model-cuda.pth         the same with every storage tagged 'cuda:0', as a GPU-trained file is
                         (torch.load needs map_location='cpu' for it without a GPU)
  model-fp16.pth         model.half().state_dict(); logits-fp16.npy: the reference with those weights
  model-bf16.pth         model.bfloat16().state_dict(); logits-bf16.npy likewise
  model-wrapped.pth      {'epoch', 'model': nn.DataParallel(model).state_dict() ('module.' names),
                         'optimizer': a real SGD-with-momentum state dict after a step, 'best_acc'}
  model-timm.pth.tar     a checkpoint as timm's train.py saves it: {'epoch', 'arch', 'state_dict', 'optimizer',
                         'version', 'args': an argparse.Namespace, 'metric'}
  model-mixed.pth        a state dict with other values mixed in: {**state_dict, 'epoch': 9, 'arch': ...} of
                         the head's two tensors and an integer tensor (small; vitc convert reads it)
  model-numpy.pth        {'model': the head's state dict, 'best_acc': np.float64, 'epoch': np.int64,
                         'dtype': np.dtype}: NumPy scalars in the metadata (small)
  model-nested.pth       {'ckpt': {'model': the head's state dict, 'epoch': 9}}: a wrapper in a wrapper (small)
  model-shared.pth       every tensor a view into one shared storage at an offset; head.weight a
                         transposed (non-contiguous) view
  model-torch2.pth       model.pth re-packed in the layout of torch 2.x files: folder 'archive/',
                         .format_version, .storage_alignment, byteorder, .data/serialization_id,
                         members aligned to 64 bytes (Debian has torch 1.13, which cannot write it)
  model-hf.safetensors   Hugging Face ViTForImageClassification names (q, k, v split)
  model-jax.npz          the original ViT's JAX/Flax names and layouts; checked by a numpy forward
                         written in those layouts
  arrays.npz             small arrays as np.savez may hold them: float16/32/64, big-endian, Fortran order
                         (np.asfortranarray), a 0-d array, and int, bool and str arrays (left out);
                         arrays.json: each float array's dtype, shape and values as numpy reads them
  model-torchvision.pth  a real torchvision VisionTransformer holding the weights (its own forward
                         is checked against logits.npy before saving)
  model-legacy.pth       the pre-1.6 torch.save format (refused with a hint)
  torchscript.pt         a TorchScript archive (refused with a hint)
  evil-system.pth        data.pkl calls os.system at the top level
  evil-rebuild.pth       a state dict whose tensor rebuild arguments hide an os.system call;
                         both payloads touch /tmp/vitc-evil-pickle-*, and this script checks that
                         torch.load(weights_only=False) really runs them
  truncated.pth          the first 60% of model.pth
  not-a-checkpoint.zip   a zip of a text file
  pos_embed-48.npy       pos_embed resampled to flowers-48.yaml's 6x6 grid as timm does
                         (F.interpolate bicubic); input-48.npy, logits-48.npy the reference at 48x48
  flowers-224.pth        torch.save(state_dict) of flowers-224.yaml (the tutorial's preprocessing)
  photos.json            for the photos in photos/ (and chelsea.jpg turned by its EXIF orientation,
                         ImageOps.exif_transpose), per model (flowers-micro, flowers-224): the sha256
                         of each float32 input tensor made by PIL + torchvision (Image.open().convert('RGB'),
                         Resize, CenterCrop, ToTensor, Normalize), the softmax probabilities, and the
                         tutorial's line "class: {}   prob: {:.3}" as Python prints it

Deterministic: seeds are zlib.crc32 of fixed strings; running it twice writes the same bytes, except
model-legacy.pth and torchscript.pt, whose formats record memory addresses and source positions.
"""
import argparse
import collections
import io
import math
import os
import pickle
import subprocess
import sys
import zipfile
import zlib

import hashlib
import json

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps
from torchvision import transforms as T

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_io import read_safetensors, write_safetensors  # noqa: E402
from spec import load_spec  # noqa: E402
from vit_ref import build_with_weights, random_weights  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_OUT = os.path.join(ROOT, 'test', 'fixtures', 'import')
SPEC = os.path.join(DEFAULT_OUT, 'flowers.yaml')
SPEC48 = os.path.join(DEFAULT_OUT, 'flowers-48.yaml')
SPEC224 = os.path.join(DEFAULT_OUT, 'flowers-224.yaml')
PHOTOS = os.path.join(DEFAULT_OUT, 'photos')
PHOTO_FILES = ['chelsea.jpg', 'coffee.jpg', 'astronaut.png', 'rocket.png']
CLASSES = {'0': 'daisy', '1': 'dandelion', '2': 'roses', '3': 'sunflowers', '4': 'tulips'}
INTERPOLATION = {'bilinear': T.InterpolationMode.BILINEAR, 'bicubic': T.InterpolationMode.BICUBIC, 'nearest': T.InterpolationMode.NEAREST}
MARKERS = {'system': '/tmp/vitc-evil-pickle-system', 'rebuild': '/tmp/vitc-evil-pickle-rebuild'}


def seed(s):
    return zlib.crc32(s.encode('utf-8'))


def forward(cfg, weights, x):
    with torch.no_grad():
        return build_with_weights(cfg, {k: v.float() for k, v in weights.items()})(x)


def save(obj, path, **kw):
    torch.save(obj, path, **kw)


# ---- re-tagging storages as CUDA ones ----

def save_as_cuda(sd, path):
    """torch.save with every storage's location tag 'cuda:0' (a tagger ahead of the CPU one)."""
    entry = (0, lambda storage: 'cuda:0', lambda storage, location: None)
    torch.serialization._package_registry.insert(0, entry)
    try:
        save(sd, path)
    finally:
        torch.serialization._package_registry.remove(entry)


# ---- the torch 2.x layout ----

def aligned_info(name, offset):
    """A ZipInfo whose data will start on a 64-byte boundary (an 'FB' extra field of padding)."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    start = offset + 30 + len(name.encode('utf-8')) + 4
    pad = (-start) % 64
    info.extra = b'FB' + pad.to_bytes(2, 'little') + b'Z' * pad
    return info


def write_aligned_zip(path, members):
    with open(path, 'wb') as f, zipfile.ZipFile(f, 'w') as z:
        for name, data in members:
            z.writestr(aligned_info(name, f.tell()), data)


def repack_torch2(src, dst):
    with zipfile.ZipFile(src) as z:
        prefix = z.namelist()[0].split('/')[0] + '/'
        data = {n[len(prefix):]: z.read(n) for n in z.namelist()}
    members = [('archive/data.pkl', data['data.pkl']),
               ('archive/.format_version', b'1'),
               ('archive/.storage_alignment', b'64'),
               ('archive/byteorder', b'little')]
    members += [('archive/' + n, data[n]) for n in sorted(data) if n.startswith('data/')]
    members += [('archive/version', b'3\n'), ('archive/.data/serialization_id', b'1234567890123456789012345678901234567890')]
    write_aligned_zip(dst, members)
    check = torch.load(dst)
    return check


# ---- other naming schemes ----

def hf_names(w, depth):
    out = {'vit.embeddings.cls_token': w['cls_token'],
           'vit.embeddings.position_embeddings': w['pos_embed'],
           'vit.embeddings.patch_embeddings.projection.weight': w['patch_embed.proj.weight'],
           'vit.embeddings.patch_embeddings.projection.bias': w['patch_embed.proj.bias'],
           'vit.layernorm.weight': w['norm.weight'], 'vit.layernorm.bias': w['norm.bias'],
           'classifier.weight': w['head.weight'], 'classifier.bias': w['head.bias']}
    for i in range(depth):
        b, h = 'blocks.%d.' % i, 'vit.encoder.layer.%d.' % i
        for p in ('weight', 'bias'):
            q, k, v = torch.chunk(w[b + 'attn.qkv.' + p], 3, dim=0)
            out[h + 'attention.attention.query.' + p] = q
            out[h + 'attention.attention.key.' + p] = k
            out[h + 'attention.attention.value.' + p] = v
            out[h + 'attention.output.dense.' + p] = w[b + 'attn.proj.' + p]
            out[h + 'layernorm_before.' + p] = w[b + 'norm1.' + p]
            out[h + 'layernorm_after.' + p] = w[b + 'norm2.' + p]
            out[h + 'intermediate.dense.' + p] = w[b + 'mlp.fc1.' + p]
            out[h + 'output.dense.' + p] = w[b + 'mlp.fc2.' + p]
    return out


def jax_names(w, cfg):
    """The original ViT's Flax layout: Dense kernels [in, out], attention kernels split by head."""
    d, heads = cfg['embed_dim'], cfg['num_heads']
    hd = d // heads
    n = lambda t: t.detach().numpy().astype(np.float32)
    out = {'cls': n(w['cls_token']),
           'embedding/kernel': n(w['patch_embed.proj.weight'].permute(2, 3, 1, 0)),  # [kh, kw, in, out]
           'embedding/bias': n(w['patch_embed.proj.bias']),
           'Transformer/posembed_input/pos_embedding': n(w['pos_embed']),
           'Transformer/encoder_norm/scale': n(w['norm.weight']),
           'Transformer/encoder_norm/bias': n(w['norm.bias']),
           'head/kernel': n(w['head.weight'].t()), 'head/bias': n(w['head.bias'])}
    for i in range(cfg['depth']):
        b, j = 'blocks.%d.' % i, 'Transformer/encoderblock_%d/' % i
        att = j + 'MultiHeadDotProductAttention_1/'
        for name, (wq, bq) in zip(('query', 'key', 'value'), zip(torch.chunk(w[b + 'attn.qkv.weight'], 3), torch.chunk(w[b + 'attn.qkv.bias'], 3))):
            out[att + name + '/kernel'] = n(wq.t().reshape(d, heads, hd))
            out[att + name + '/bias'] = n(bq.reshape(heads, hd))
        out[att + 'out/kernel'] = n(w[b + 'attn.proj.weight'].t().reshape(heads, hd, d))
        out[att + 'out/bias'] = n(w[b + 'attn.proj.bias'])
        out[j + 'LayerNorm_0/scale'], out[j + 'LayerNorm_0/bias'] = n(w[b + 'norm1.weight']), n(w[b + 'norm1.bias'])
        out[j + 'LayerNorm_2/scale'], out[j + 'LayerNorm_2/bias'] = n(w[b + 'norm2.weight']), n(w[b + 'norm2.bias'])
        out[j + 'MlpBlock_3/Dense_0/kernel'], out[j + 'MlpBlock_3/Dense_0/bias'] = n(w[b + 'mlp.fc1.weight'].t()), n(w[b + 'mlp.fc1.bias'])
        out[j + 'MlpBlock_3/Dense_1/kernel'], out[j + 'MlpBlock_3/Dense_1/bias'] = n(w[b + 'mlp.fc2.weight'].t()), n(w[b + 'mlp.fc2.bias'])
    return out


def jax_forward(p, cfg, x):
    """A float64 numpy forward written in the Flax layouts (NHWC patches, per-head einsums)."""
    d, heads, ps, eps = cfg['embed_dim'], cfg['num_heads'], cfg['patch_size'], cfg['norm_eps']
    g = {k: v.astype(np.float64) for k, v in p.items()}
    img = x.numpy().astype(np.float64).transpose(0, 2, 3, 1)  # NHWC
    b, hh, ww, c = img.shape
    patches = img.reshape(b, hh // ps, ps, ww // ps, ps, c).transpose(0, 1, 3, 2, 4, 5).reshape(b, -1, ps, ps, c)
    t = np.einsum('bnijc,ijcd->bnd', patches, g['embedding/kernel']) + g['embedding/bias']
    t = np.concatenate([np.broadcast_to(g['cls'], (b, 1, d)), t], axis=1) + g['Transformer/posembed_input/pos_embedding']

    def ln(v, s, o):
        m = v.mean(-1, keepdims=True)
        var = ((v - m) ** 2).mean(-1, keepdims=True)
        return (v - m) / np.sqrt(var + eps) * s + o

    gelu = np.vectorize(lambda v: 0.5 * v * (1 + math.erf(v / math.sqrt(2))))
    for i in range(cfg['depth']):
        j = 'Transformer/encoderblock_%d/' % i
        a = j + 'MultiHeadDotProductAttention_1/'
        y = ln(t, g[j + 'LayerNorm_0/scale'], g[j + 'LayerNorm_0/bias'])
        q, k, v = (np.einsum('btd,dhk->bthk', y, g[a + n + '/kernel']) + g[a + n + '/bias'] for n in ('query', 'key', 'value'))
        s = np.einsum('bqhk,bthk->bhqt', q, k) / math.sqrt(d // heads)
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        o = np.einsum('bhqt,bthk->bqhk', s, v)
        t = t + np.einsum('bqhk,hkd->bqd', o, g[a + 'out/kernel']) + g[a + 'out/bias']
        y = ln(t, g[j + 'LayerNorm_2/scale'], g[j + 'LayerNorm_2/bias'])
        y = gelu(y @ g[j + 'MlpBlock_3/Dense_0/kernel'] + g[j + 'MlpBlock_3/Dense_0/bias'])
        t = t + y @ g[j + 'MlpBlock_3/Dense_1/kernel'] + g[j + 'MlpBlock_3/Dense_1/bias']
    t = ln(t, g['Transformer/encoder_norm/scale'], g['Transformer/encoder_norm/bias'])
    return t[:, 0] @ g['head/kernel'] + g['head/bias']


def torchvision_model(cfg, w):
    from torchvision.models.vision_transformer import VisionTransformer
    m = VisionTransformer(image_size=cfg['img_size'][0], patch_size=cfg['patch_size'], num_layers=cfg['depth'],
                          num_heads=cfg['num_heads'], hidden_dim=cfg['embed_dim'], mlp_dim=cfg['mlp_hidden'],
                          num_classes=cfg['num_classes']).eval()
    sd = {'class_token': w['cls_token'], 'conv_proj.weight': w['patch_embed.proj.weight'], 'conv_proj.bias': w['patch_embed.proj.bias'],
          'encoder.pos_embedding': w['pos_embed'], 'encoder.ln.weight': w['norm.weight'], 'encoder.ln.bias': w['norm.bias'],
          'heads.head.weight': w['head.weight'], 'heads.head.bias': w['head.bias']}
    for i in range(cfg['depth']):
        b, t = 'blocks.%d.' % i, 'encoder.layers.encoder_layer_%d.' % i
        sd[t + 'self_attention.in_proj_weight'] = w[b + 'attn.qkv.weight']
        sd[t + 'self_attention.in_proj_bias'] = w[b + 'attn.qkv.bias']
        for p in ('weight', 'bias'):
            sd[t + 'ln_1.' + p] = w[b + 'norm1.' + p]
            sd[t + 'self_attention.out_proj.' + p] = w[b + 'attn.proj.' + p]
            sd[t + 'ln_2.' + p] = w[b + 'norm2.' + p]
            sd[t + 'mlp.0.' + p] = w[b + 'mlp.fc1.' + p]
            sd[t + 'mlp.3.' + p] = w[b + 'mlp.fc2.' + p]
    m.load_state_dict(sd, strict=True)
    return m


# ---- malicious pickles ----

class System:
    """Unpickling this runs os.system (what a hostile checkpoint does)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, ('touch ' + self.marker,))


class StorageRef:
    pass


class HiddenCallTensor:
    """A tensor whose _rebuild_tensor_v2 size tuple holds an os.system call."""

    def __reduce__(self):
        return (torch._utils._rebuild_tensor_v2, (StorageRef(), 0, (1, System(MARKERS['rebuild'])), (1, 1), False, collections.OrderedDict()))


def torch_pickle(obj):
    buf = io.BytesIO()
    p = pickle.Pickler(buf, protocol=2)
    p.persistent_id = lambda o: ('storage', torch.FloatStorage, '0', 'cpu', 4) if isinstance(o, StorageRef) else None
    p.dump(obj)
    return buf.getvalue()


def write_npz(path, arrays, contiguous=True):
    """np.savez, with fixed member timestamps (np.savez stamps the current time); contiguous=False
    keeps each array's own layout (np.savez writes a Fortran-order array as such)."""
    with zipfile.ZipFile(path, 'w') as z:
        for name, a in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(a) if contiguous else a, allow_pickle=False)
            z.writestr(zipfile.ZipInfo(name + '.npy', date_time=(1980, 1, 1, 0, 0, 0)), buf.getvalue())


def write_checkpoint_zip(path, data_pkl, storages):
    stem = os.path.splitext(os.path.basename(path))[0]
    members = [(stem + '/data.pkl', data_pkl)] + [(stem + '/data/' + k, v) for k, v in storages] + [(stem + '/version', b'3\n')]
    write_aligned_zip(path, members)


def check_payload_runs(path, marker):
    """The fixture is really malicious: a plain torch.load runs its payload."""
    if os.path.exists(marker):
        os.remove(marker)
    code = 'import torch, sys\ntry:\n    torch.load(sys.argv[1], weights_only=False)\nexcept Exception:\n    pass\n'
    subprocess.run([sys.executable, '-c', code, path], check=True, capture_output=True)
    if not os.path.exists(marker):
        raise SystemExit('%s: torch.load did not run the payload' % path)
    os.remove(marker)


def photo_expectations(spec_path, weights):
    """The tutorial's predict script on every photo, batched: input hashes, probabilities, lines."""
    import yaml
    with open(spec_path) as f:
        pre = yaml.safe_load(f)['preprocess']
    cfg = load_spec(spec_path)
    tf = T.Compose([T.Resize(pre['resize'], interpolation=INTERPOLATION[pre['interpolation']]), T.CenterCrop(pre['crop']),
                    T.ToTensor(), T.Normalize(pre['mean'], pre['std'])])
    images = [(f, Image.open(os.path.join(PHOTOS, f)).convert('RGB')) for f in PHOTO_FILES]
    images.append(('chelsea.jpg --exif-rotate', ImageOps.exif_transpose(Image.open(os.path.join(PHOTOS, 'chelsea.jpg'))).convert('RGB')))
    x = torch.stack([tf(img) for _, img in images])
    with torch.no_grad():
        probs = torch.softmax(forward(cfg, weights, x), dim=1)
    out = []
    for (name, _), xi, p in zip(images, x, probs):
        c = int(torch.argmax(p))
        out.append({'image': name, 'input_sha256': hashlib.sha256(xi.contiguous().numpy().tobytes()).hexdigest(),
                    'probs': [float(v) for v in p], 'top1': c,
                    'line': 'class: {}   prob: {:.3}'.format(CLASSES[str(c)], p[c].numpy())})
    return {'spec': os.path.basename(spec_path), 'images': out}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    out = args.out
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)
    path = lambda f: os.path.join(out, f)

    cfg = load_spec(SPEC)
    w = collections.OrderedDict(random_weights(cfg, seed(cfg['name'])))
    write_safetensors(path('weights.safetensors'), w)
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(seed(cfg['name'] + ':input')))
    np.save(path('input.npy'), x.numpy())
    logits = forward(cfg, w, x)
    np.save(path('logits.npy'), logits.numpy())

    model = build_with_weights(cfg, w)
    save(model.state_dict(), path('model.pth'))
    save_as_cuda(model.state_dict(), path('model-cuda.pth'))
    with zipfile.ZipFile(path('model-cuda.pth')) as z:
        assert b'cuda:0' in z.read('model-cuda/data.pkl')
    assert torch.load(path('model-cuda.pth'), map_location='cpu').keys() == w.keys()
    for dtype, tag in ((torch.float16, 'fp16'), (torch.bfloat16, 'bf16')):
        low = collections.OrderedDict((k, v.to(dtype)) for k, v in w.items())
        save(build_with_weights(cfg, w).to(dtype).state_dict(), path('model-%s.pth' % tag))
        np.save(path('logits-%s.npy' % tag), forward(cfg, low, x).numpy())

    dp = torch.nn.DataParallel(build_with_weights(cfg, w))
    opt = torch.optim.SGD(dp.parameters(), lr=1e-3, momentum=0.9)
    dp(x).sum().backward()
    opt.step()
    dp.load_state_dict({'module.' + k: v for k, v in w.items()})  # the step changed them; keep the fixture's values
    save({'epoch': 9, 'model': dp.state_dict(), 'optimizer': opt.state_dict(), 'best_acc': 0.91}, path('model-wrapped.pth'))
    # timm's train.py (CheckpointSaver) keeps the training script's arguments as an argparse.Namespace
    run_args = argparse.Namespace(model='vit_micro', lr=1e-3, epochs=10, data_dir='flower_photos')
    save({'epoch': 9, 'arch': 'vit_micro', 'state_dict': model.state_dict(), 'optimizer': opt.state_dict(), 'version': 2,
          'args': run_args, 'metric': 91.0}, path('model-timm.pth.tar'))

    # Checkpoints that are not plain state dicts, kept small: the head's two tensors stand for the model.
    head_sd = collections.OrderedDict((k, w[k]) for k in ('head.weight', 'head.bias'))
    save({**head_sd, 'epoch': 9, 'arch': 'vit_micro', 'steps': torch.tensor(512)}, path('model-mixed.pth'))
    save({'ckpt': {'model': head_sd, 'epoch': 9}}, path('model-nested.pth'))
    save({'model': head_sd, 'best_acc': np.float64(0.91), 'epoch': np.int64(9), 'dtype': np.dtype('float32')}, path('model-numpy.pth'))

    head = w['head.weight']
    flat = torch.cat([v.flatten() for v in w.values()] + [head.t().contiguous().flatten()])
    shared, at = collections.OrderedDict(), 0
    for k, v in w.items():
        shared[k] = flat[at:at + v.numel()].view(v.shape)
        at += v.numel()
    shared['head.weight'] = flat[at:].view(head.shape[1], head.shape[0]).t()
    assert not shared['head.weight'].is_contiguous() and torch.equal(shared['head.weight'], head)
    save(shared, path('model-shared.pth'))

    repack_torch2(path('model.pth'), path('model-torch2.pth'))
    write_safetensors(path('model-hf.safetensors'), hf_names(w, cfg['depth']))
    jax = jax_names(w, cfg)
    err = np.abs(jax_forward(jax, cfg, x) - logits.double().numpy()).max()
    assert err < 1e-5, 'the JAX-layout forward disagrees with the reference by %g' % err
    write_npz(path('model-jax.npz'), jax)

    rng = np.random.default_rng(seed('arrays.npz'))
    normal = lambda *shape: rng.standard_normal(shape)
    arrays = collections.OrderedDict([
        ('f32', normal(2, 3).astype('<f4')), ('f16', normal(3, 2).astype('<f2')), ('f64', normal(2, 2, 2)),
        ('big_endian', normal(3, 4).astype('>f4')), ('fortran', np.asfortranarray(normal(3, 4).astype('<f4'))),
        ('big_endian_fortran_f64', np.asfortranarray(normal(2, 3, 4).astype('>f8'))), ('scalar', np.array(0.125)),
        ('step', np.array(5)), ('mask', np.array([True, False])), ('name', np.array('vit_micro'))])
    assert arrays['fortran'].flags.f_contiguous and not arrays['fortran'].flags.c_contiguous
    write_npz(path('arrays.npz'), arrays, contiguous=False)
    with np.load(path('arrays.npz')) as z:
        assert z['big_endian_fortran_f64'].dtype.str == '>f8' and z['big_endian_fortran_f64'].flags.f_contiguous
        floats = {k: {'dtype': {'f2': 'F16', 'f4': 'F32', 'f8': 'F64'}[z[k].dtype.str[1:]], 'shape': list(z[k].shape),
                      'values': [float(v) for v in z[k].flatten(order='C')]} for k in z.files if z[k].dtype.kind == 'f'}
    with open(path('arrays.json'), 'w') as f:
        json.dump(floats, f, indent=1)
        f.write('\n')

    tv = torchvision_model(cfg, w)
    with torch.no_grad():
        err = (tv(x) - logits).abs().max().item()
    assert err < 1e-5, 'torchvision disagrees with the reference by %g' % err
    save(tv.state_dict(), path('model-torchvision.pth'))

    save(model.state_dict(), path('model-legacy.pth'), _use_new_zipfile_serialization=False)
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), path('torchscript.pt'))

    write_checkpoint_zip(path('evil-system.pth'), pickle.dumps(System(MARKERS['system']), protocol=2), [])
    write_checkpoint_zip(path('evil-rebuild.pth'), torch_pickle(collections.OrderedDict([('head.weight', HiddenCallTensor())])), [('0', b'\0' * 16)])
    check_payload_runs(path('evil-system.pth'), MARKERS['system'])
    check_payload_runs(path('evil-rebuild.pth'), MARKERS['rebuild'])

    with open(path('model.pth'), 'rb') as f:
        whole = f.read()
    with open(path('truncated.pth'), 'wb') as f:
        f.write(whole[:len(whole) * 6 // 10])
    with zipfile.ZipFile(path('not-a-checkpoint.zip'), 'w') as z:
        z.writestr(zipfile.ZipInfo('notes/readme.txt', date_time=(1980, 1, 1, 0, 0, 0)), 'not weights\n')

    cfg48 = load_spec(SPEC48)
    pe = w['pos_embed']
    g, g48 = cfg['grid'][0], cfg48['grid'][0]
    grid = pe[:, 1:].reshape(1, g, g, -1).permute(0, 3, 1, 2)
    grid = F.interpolate(grid, size=(g48, g48), mode='bicubic', align_corners=False)
    pe48 = torch.cat([pe[:, :1], grid.permute(0, 2, 3, 1).reshape(1, g48 * g48, -1)], dim=1)
    np.save(path('pos_embed-48.npy'), pe48.numpy())
    w48 = collections.OrderedDict(w)
    w48['pos_embed'] = pe48
    x48 = torch.randn(1, 3, 48, 48, generator=torch.Generator().manual_seed(seed(cfg['name'] + ':input-48')))
    np.save(path('input-48.npy'), x48.numpy())
    np.save(path('logits-48.npy'), forward(cfg48, w48, x48).numpy())
    cfg224 = load_spec(SPEC224)
    w224 = collections.OrderedDict(random_weights(cfg224, seed(cfg224['name'])))
    save(build_with_weights(cfg224, w224).state_dict(), path('flowers-224.pth'))
    expected = [photo_expectations(SPEC, w), photo_expectations(SPEC224, w224)]
    with open(path('photos.json'), 'w') as f:
        json.dump(expected, f, indent=1)
        f.write('\n')
    print('wrote %s (PyTorch %s)' % (out, torch.__version__))


if __name__ == '__main__':
    main()
