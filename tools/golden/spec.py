"""Read a vitc model spec (YAML) into a plain config dict for the PyTorch reference.

This is the reference's own reader: it shares no code with the compiler. It follows `extends`
chains (deep merge, the extending file wins), applies the defaults, checks types and the
combinations timm accepts, and raises SpecError with the file and key on anything wrong.

    from spec import load_spec
    cfg = load_spec('spec/vit-b16.yaml')
"""
import os

import yaml


class SpecError(ValueError):
    pass


REQUIRED = ('img_size', 'patch_size', 'num_classes', 'embed_dim', 'depth', 'num_heads')

# key -> default (keys with no default are the required ones)
DEFAULTS = {
    'in_chans': 3,
    'mlp_ratio': 4.0,
    'qkv_bias': True,
    'qk_scale': None,
    'representation_size': None,
    'distilled': False,
    'norm_eps': 1e-6,
    'act_layer': 'gelu',
    'class_token': True,
    'global_pool': 'token',
    'fc_norm': None,
    'pos_embed': 'learned',
    'init_values': None,
    'backbone': None,
    'block': None,
    'reg_tokens': 0,
    'model': None,
}

# backbone (hybrid R50+ViT) key -> default; `layers` is required when a backbone is given
BACKBONE_DEFAULTS = {
    'stem_width': 64,
    'channels': None,  # 256, 512, 1024, ... (doubling), one per stage
    'bottle_ratio': 0.25,
    'gn_groups': 32,
    'gn_eps': 1e-5,
    'std_conv_eps': 1e-8,
}

# accepted and ignored (inference no-ops, or not about what the network computes)
IGNORED = ('drop_rate', 'pos_drop_rate', 'proj_drop_rate', 'attn_drop_rate', 'drop_path_rate',
           'preprocess', 'labels')

META = ('extends', 'name', 'description')

KNOWN = set(REQUIRED) | set(DEFAULTS) | set(IGNORED) | set(META)

ACTS = ('gelu', 'gelu_tanh', 'relu', 'silu')
POOLS = ('token', 'avg')
POS_EMBEDS = ('learned', 'sincos', 'none')
BLOCK_KINDS = {'parallel_block': 'parallel', 'postnorm_block': 'postnorm', 'peg_block': 'peg',
               'swiglu_block': 'swiglu', 'qknorm_block': 'qknorm', 'cpvt_block': 'cpvt'}
# The blocks' own parameters that a spec may set under the block's name, with their defaults.
BLOCK_ARGS = {'swiglu': {'sub_ln': False}, 'qknorm': {'qk_norm': True, 'parallel': False}, 'cpvt': {'peg_at': 0}}
# global_pool: FILE#BLOCK -> what the head sees
POOL_KINDS = {'cls_and_mean': 'cls_mean', 'map_pool': 'map'}
# model: FILE#MODEL -> the reference's architecture
MODEL_KINDS = {'rope_vit': 'rope'}


def ref_name(v):
    """NAME of a FILE#NAME reference, else None."""
    if isinstance(v, str) and '#' in v:
        name = v.rsplit('#', 1)[1]
        return name or None
    return None


def deep_merge(base, over):
    """`over` wins; mappings merge recursively; lists and scalars are replaced."""
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def _read_yaml(path):
    try:
        with open(path) as f:
            data = yaml.safe_load(f)
    except FileNotFoundError:
        raise SpecError('%s: no such spec file' % path) from None
    except yaml.YAMLError as e:
        raise SpecError('%s: not valid YAML: %s' % (path, e)) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SpecError('%s: a spec must be a YAML mapping, found %s' % (path, type(data).__name__))
    for k in data:
        if not isinstance(k, str):
            raise SpecError('%s: keys must be strings, found %r' % (path, k))
        # a section named after a referenced block or model holds its parameters (checked after merging)
        if k not in KNOWN and not isinstance(data[k], dict):
            raise SpecError('%s: unknown key %r' % (path, k))
    return data


def load_merged(path, _chain=()):
    """The raw mapping of `path` after following `extends` (no defaults, no checks).
    `name` and `description` are not inherited."""
    real = os.path.realpath(path)
    if real in _chain:
        cycle = ' -> '.join(list(_chain) + [real])
        raise SpecError('%s: extends cycle: %s' % (path, cycle))
    data = _read_yaml(path)
    ext = data.pop('extends', None)
    if ext is None:
        return data
    if not isinstance(ext, str) or not ext:
        raise SpecError('%s: extends must be a path string, found %r' % (path, ext))
    base = load_merged(os.path.join(os.path.dirname(path), ext), _chain + (real,))
    base.pop('name', None)
    base.pop('description', None)
    return deep_merge(base, data)


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _backbone(raw, fail):
    """The backbone mapping with defaults, checked (hybrid models)."""
    if not isinstance(raw, dict):
        fail('backbone', 'must be a mapping or null, found %r' % (raw,))
    for k in raw:
        if k != 'layers' and k not in BACKBONE_DEFAULTS:
            fail('backbone', 'unknown key %r' % (k,))
    if 'layers' not in raw:
        fail('backbone', 'missing layers')
    b = dict(BACKBONE_DEFAULTS)
    b.update(raw)
    layers = b['layers']
    if not isinstance(layers, list) or not layers or not all(_is_int(n) and n >= 1 for n in layers):
        fail('backbone.layers', 'must be a non-empty list of positive integers, found %r' % (layers,))
    if b['channels'] is None:
        b['channels'] = [256 * 2 ** i for i in range(len(layers))]
    ch = b['channels']
    if not isinstance(ch, list) or len(ch) != len(layers) or not all(_is_int(c) and c >= 1 for c in ch):
        fail('backbone.channels', 'must be one positive integer per stage, found %r' % (ch,))
    for k in ('stem_width', 'gn_groups'):
        if not _is_int(b[k]) or b[k] < 1:
            fail('backbone.' + k, 'must be a positive integer, found %r' % (b[k],))
    for k in ('bottle_ratio', 'gn_eps', 'std_conv_eps'):
        if not _is_num(b[k]) or b[k] <= 0:
            fail('backbone.' + k, 'must be a positive number, found %r' % (b[k],))
    mids = [c * b['bottle_ratio'] for c in ch]
    if not all(float(m).is_integer() and m >= 1 for m in mids):
        fail('backbone.bottle_ratio', 'bottleneck widths %r are not all whole numbers' % (mids,))
    b['mid_channels'] = [int(m) for m in mids]
    for w in [b['stem_width']] + ch + b['mid_channels']:
        if w % b['gn_groups']:
            fail('backbone.gn_groups', '%d groups do not divide a width of %d' % (b['gn_groups'], w))
    return b


def backbone_size(size, backbone):
    """An image side after the backbone: the stride-2 stem conv and pool, then stride 2 in every stage
    after the first, each with TensorFlow 'same' padding (ceil(size / 2))."""
    for _ in range(len(backbone['layers']) + 1):
        size = -(-size // 2)
    return size


def load_spec(path):
    """The full, checked config of the spec file `path`."""
    raw = load_merged(path)
    where = path

    def fail(key, msg):
        raise SpecError('%s: %s: %s' % (where, key, msg))

    missing = [k for k in REQUIRED if k not in raw]
    if missing:
        raise SpecError('%s: missing required key%s %s (after extends)' % (
            where, 's' if len(missing) > 1 else '', ', '.join(missing)))

    sections = {ref_name(raw.get(k)) for k in ('block', 'model', 'global_pool')} - {None}
    for k in raw:
        if k not in KNOWN and k not in sections:
            fail(k, 'unknown key (not a spec key, nor the name of a block or model the spec names)')
    cfg = dict(DEFAULTS)
    for k, v in raw.items():
        if k in IGNORED or k == 'description' or k in sections:
            continue
        cfg[k] = v
    stem = os.path.splitext(os.path.basename(path))[0]
    cfg['name'] = raw.get('name', stem)
    if not isinstance(cfg['name'], str) or not cfg['name']:
        fail('name', 'must be a non-empty string')

    # ---- types and ranges
    img = cfg['img_size']
    if _is_int(img):
        img = [img, img]
    elif isinstance(img, list) and len(img) == 2 and all(_is_int(s) for s in img):
        img = list(img)
    else:
        fail('img_size', 'must be an integer or [height, width], found %r' % (img,))
    if min(img) < 1:
        fail('img_size', 'must be positive, found %r' % (img,))
    cfg['img_size'] = img

    for k in ('patch_size', 'in_chans', 'num_classes', 'embed_dim', 'depth', 'num_heads'):
        if not _is_int(cfg[k]) or cfg[k] < 1:
            fail(k, 'must be a positive integer, found %r' % (cfg[k],))
    if cfg['representation_size'] is not None and (not _is_int(cfg['representation_size']) or cfg['representation_size'] < 1):
        fail('representation_size', 'must be a positive integer or null, found %r' % (cfg['representation_size'],))
    if not _is_num(cfg['mlp_ratio']) or cfg['mlp_ratio'] <= 0:
        fail('mlp_ratio', 'must be a positive number, found %r' % (cfg['mlp_ratio'],))
    if cfg['qk_scale'] is not None and (not _is_num(cfg['qk_scale']) or cfg['qk_scale'] <= 0):
        fail('qk_scale', 'must be a positive number or null, found %r' % (cfg['qk_scale'],))
    if not _is_num(cfg['norm_eps']) or cfg['norm_eps'] <= 0:
        fail('norm_eps', 'must be a positive number, found %r' % (cfg['norm_eps'],))
    if cfg['init_values'] is not None and not _is_num(cfg['init_values']):
        fail('init_values', 'must be a number or null, found %r' % (cfg['init_values'],))
    for k in ('qkv_bias', 'distilled', 'class_token'):
        if not isinstance(cfg[k], bool):
            fail(k, 'must be true or false, found %r' % (cfg[k],))
    if cfg['fc_norm'] is not None and not isinstance(cfg['fc_norm'], bool):
        fail('fc_norm', 'must be true, false or null, found %r' % (cfg['fc_norm'],))
    if cfg['act_layer'] not in ACTS:
        fail('act_layer', 'must be one of %s, found %r' % (', '.join(ACTS), cfg['act_layer']))
    pool_name = ref_name(cfg['global_pool'])
    if pool_name is not None:
        if pool_name not in POOL_KINDS:
            fail('global_pool', 'the reference knows the pooling blocks %s, not %r' % (', '.join(POOL_KINDS), pool_name))
        cfg['pool_kind'] = POOL_KINDS[pool_name]
    elif cfg['global_pool'] not in POOLS:
        fail('global_pool', 'must be one of %s, found %r' % (', '.join(POOLS), cfg['global_pool']))
    else:
        cfg['pool_kind'] = cfg['global_pool']
    if not _is_int(cfg['reg_tokens']) or cfg['reg_tokens'] < 0:
        fail('reg_tokens', 'must be an integer >= 0, found %r' % (cfg['reg_tokens'],))
    model_name = ref_name(cfg['model'])
    if cfg['model'] is not None and model_name not in MODEL_KINDS:
        fail('model', 'the reference knows the models %s, not %r' % (', '.join(MODEL_KINDS), cfg['model']))
    cfg['model_kind'] = MODEL_KINDS.get(model_name, 'vit')
    if cfg['pos_embed'] not in POS_EMBEDS:
        fail('pos_embed', 'must be one of %s, found %r' % (', '.join(POS_EMBEDS), cfg['pos_embed']))
    if cfg['block'] is not None and not isinstance(cfg['block'], str):
        fail('block', 'must be a string "FILE#BLOCK" or null, found %r' % (cfg['block'],))
    if cfg['backbone'] is not None:
        cfg['backbone'] = _backbone(cfg['backbone'], fail)

    # ---- combinations
    d, p = cfg['embed_dim'], cfg['patch_size']
    if d % cfg['num_heads']:
        fail('num_heads', '%d heads do not divide embed_dim %d' % (cfg['num_heads'], d))
    feature = [backbone_size(s, cfg['backbone']) for s in img] if cfg['backbone'] else img
    for axis, s in zip(('height', 'width'), feature):
        if s % p:
            fail('img_size' if not cfg['backbone'] else 'patch_size',
                 '%s %s %d is not a multiple of patch_size %d' % ('feature map' if cfg['backbone'] else 'image', axis, s, p))
    if cfg['pos_embed'] == 'sincos' and d % 4:
        fail('pos_embed', 'sincos needs embed_dim divisible by 4, found %d' % d)
    if cfg['pool_kind'] == 'token' and not cfg['class_token']:
        fail('global_pool', '"token" pooling needs class_token: true (use global_pool: avg)')
    if cfg['distilled']:
        if not cfg['class_token']:
            fail('distilled', 'a distilled model needs class_token: true')
        if cfg['pool_kind'] != 'token':
            fail('distilled', 'a distilled model pools its class and distillation tokens; global_pool must be "token"')
    if cfg['fc_norm'] is None:
        cfg['fc_norm'] = cfg['global_pool'] == 'avg'
    if cfg['distilled'] and cfg['fc_norm']:
        fail('fc_norm', 'a distilled model has no fc_norm (timm\'s DeiT head reads the normed tokens)')

    # ---- derived
    cfg['mlp_hidden'] = int(d * cfg['mlp_ratio'])  # Python float semantics: int(48 * 2.7) == 129
    if cfg['mlp_hidden'] < 1:
        fail('mlp_ratio', 'int(embed_dim * mlp_ratio) is %d' % cfg['mlp_hidden'])
    cfg['head_dim'] = d // cfg['num_heads']
    cfg['scale'] = float(cfg['qk_scale']) if cfg['qk_scale'] is not None else cfg['head_dim'] ** -0.5
    cfg['grid'] = [feature[0] // p, feature[1] // p]
    # tokens with a position (class, distillation, patches); registers join after the positions
    cfg['num_prefix_tokens'] = int(cfg['class_token']) + int(cfg['distilled'])
    cfg['num_tokens'] = cfg['num_prefix_tokens'] + cfg['grid'][0] * cfg['grid'][1]
    block_name = ref_name(cfg['block']) or ''
    cfg['block_kind'] = BLOCK_KINDS.get(block_name, 'prenorm')
    if cfg['block'] is not None and block_name not in BLOCK_KINDS:
        fail('block', 'the reference knows the blocks %s, not %r' % (', '.join(BLOCK_KINDS), block_name))
    # the block's own parameters, from the section under its name
    args = dict(BLOCK_ARGS.get(cfg['block_kind'], {}))
    given = raw.get(block_name) or {}
    for k, v in given.items():
        if k not in args:
            fail(block_name, 'the reference knows the parameters %s, not %r' % (', '.join(args) or 'none', k))
        args[k] = v
    cfg['block_args'] = args
    if cfg['model_kind'] == 'rope':
        # rotary positions in every attention layer, no position table (spec/variants/rope.vit)
        if cfg['pos_embed'] != 'learned' or cfg['distilled'] or cfg['backbone'] or cfg['block']:
            fail('model', 'rope_vit has no pos_embed, distilled, backbone or block keys')
        cfg['pos_embed'] = 'none'
        if cfg['head_dim'] % 4:
            fail('num_heads', 'rotary positions in two axes need head_dim divisible by 4, found %d' % cfg['head_dim'])
    return cfg


if __name__ == '__main__':
    import json
    import sys
    for p in sys.argv[1:]:
        print(json.dumps(load_spec(p), indent=1, sort_keys=True))
