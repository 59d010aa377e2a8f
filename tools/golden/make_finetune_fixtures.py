"""Regenerate the fine-tuning fixtures in test/fixtures/finetune/ with Debian's Python and PyTorch.

    /usr/bin/python3 tools/golden/make_finetune_fixtures.py [--out DIR]

What vitc finetune must reproduce, computed here by the tutorial's own tools:

  split.json          read_split_data's rule (random.seed(0), then per sorted class
                      random.sample(images, k=int(len(images) * 0.2)) for validation) on listings of
                      file names: the five flower_photos classes at their real sizes (633, 898, 641,
                      699, 799) with generated names, and small classes (1 to 6 images, where
                      int(n * 0.2) is 0 or 1); the class_indices.json text json.dumps(indent=4) writes
                      for class names with non-ASCII characters; Python's random.shuffle orders.
  augment.json        torchvision's RandomResizedCrop.get_params fed the draws vitc makes
  augment-src.png     (random.Random(key).random() for torch's uniform_, _randbelow for randint),
                      on image sizes that take the first try, later tries and the central fallback;
                      and PIL's crop + resize(BILINEAR) + FLIP_LEFT_RIGHT of augment-src.png (a
                      seeded 83x61 RGB image) for some of those boxes, as base64 bytes.
  sgd-head.json       the tutorial's training of a frozen backbone's head on fixed features
  sgd-prelogits.json  (finetune_ref.train_head): nn.Linear head (+ pre_logits: Linear + Tanh),
                      nn.CrossEntropyLoss, torch.optim.SGD(momentum=0.9, weight_decay), LambdaLR with
                      the cosine factor stepped once per epoch, batches in the order
                      random.Random((seed << 32) + epoch).shuffle(list(range(n))); the loss of every
                      step, each epoch's mean train loss, accuracies, validation loss and learning
                      rate, and the final weights.

Features are float32 class means plus noise (seeded numpy), so the head has something to learn.
Deterministic: running it twice writes the same bytes.
"""
import argparse
import json
import os
import random
import sys

import base64

import numpy as np
import torch
import torchvision.transforms as T
from PIL import Image
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from finetune_ref import train_head  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, '..', '..', 'test', 'fixtures', 'finetune')


def read_split_lists(per_class, val_rate=0.2):
    """read_split_data's sampling, on {class: [file names]} instead of a folder (same order of calls)."""
    random.seed(0)
    classes = sorted(per_class)
    val = {}
    for cla in classes:
        images = sorted(per_class[cla])
        val_path = random.sample(images, k=int(len(images) * val_rate))
        val[cla] = [p for p in images if p in val_path]
    return val


def class_indices_json(classes):
    class_indices = dict((k, v) for v, k in enumerate(sorted(classes)))
    return json.dumps(dict((val, key) for key, val in class_indices.items()), indent=4)


def listing(rng, n, prefix):
    names = set()
    while len(names) < n:
        stem = '%s%08x_%x' % (prefix, rng.getrandbits(32), rng.getrandbits(12))
        ext = ['.jpg', '.JPG', '.png', '.PNG'][rng.randrange(4)] if rng.random() < 0.1 else '.jpg'
        names.add(stem + ext)
    return sorted(names)


def make_split():
    rng = random.Random(1234)
    flowers = {c: listing(rng, n, '') for c, n in [('daisy', 633), ('dandelion', 898), ('roses', 641), ('sunflowers', 699), ('tulips', 799)]}
    # Names whose order differs between byte, UTF-16 and case-insensitive sorts.
    tricky = {'a': ['B.jpg', 'a.jpg', '_x.png', 'Z.PNG', '\u00e9t\u00e9.jpg', '\U0001f338.jpg', '\uff21.jpg', '10.jpg', '9.jpg', '1.jpg'],
              'b': ['x.jpg'], 'c': ['p%d.png' % i for i in range(4)], 'd': ['q%d.jpg' % i for i in range(5)], 'e': ['r%d.jpg' % i for i in range(6)]}
    cases = []
    for name, per_class in [('flowers', flowers), ('small', tricky)]:
        cases.append({'name': name, 'classes': {c: sorted(per_class[c]) for c in sorted(per_class)}, 'val': read_split_lists(per_class)})
    shuffles = []
    for seed, epoch, n in [(0, 0, 10), (0, 1, 10), (7, 3, 37), (2 ** 31 + 5, 99, 200)]:
        order = list(range(n))
        random.Random((seed << 32) + epoch).shuffle(order)
        shuffles.append({'seed': seed, 'epoch': epoch, 'n': n, 'order': order})
    names = ['daisy', 'dandelion', 'roses', '\u00e9t\u00e9', '\U0001f338 cherry', 'tab\there', 'quote"s']
    return {
        'cases': cases,
        'class_indices': {'classes': sorted(names), 'json': class_indices_json(names)},
        'shuffles': shuffles,
    }


def get_params_with(width, height, key):
    """torchvision's get_params, its torch draws replaced by Python's random.Random(key) as vitc draws."""
    rnd = random.Random(key)
    empty, randint = torch.empty, torch.randint

    class Uniform:
        def uniform_(self, a, b):
            return torch.tensor([float(a) + (float(b) - float(a)) * rnd.random()], dtype=torch.float64)

    torch.empty = lambda *a, **k: Uniform()
    torch.randint = lambda low, high, size: torch.tensor([low + rnd._randbelow(high - low)])
    try:
        return T.RandomResizedCrop.get_params(Image.new('RGB', (width, height)), [0.08, 1.0], [3.0 / 4.0, 4.0 / 3.0]), rnd
    finally:
        torch.empty, torch.randint = empty, randint


def make_augment(out):
    rs = np.random.RandomState(5)
    src = Image.fromarray(rs.randint(0, 256, size=(61, 83, 3)).astype(np.uint8), 'RGB')
    src = src.resize((83, 61), Image.BILINEAR)  # smooth it a little, so the resampling matters
    src.save(os.path.join(out, 'augment-src.png'))
    boxes = []
    for width, height, key in [(83, 61, 1), (83, 61, 2), (500, 375, 3), (375, 500, 4), (640, 480, (1 << 96) + 17),
                               (1000, 10, 5), (10, 1000, 6), (12, 12, 7), (3, 2, 8), (224, 224, 9)]:
        (i, j, h, w), rnd = get_params_with(width, height, key)
        flip = rnd.random() < 0.5  # RandomHorizontalFlip's draw, after the crop's
        case = {'width': width, 'height': height, 'key': str(key), 'box': [i, j, h, w], 'flip': flip}
        if (width, height) == (83, 61):
            img = src.crop((j, i, j + w, i + h)).resize((32, 24), Image.BILINEAR)
            if flip:
                img = img.transpose(Image.FLIP_LEFT_RIGHT)
            case['out'] = {'size': [24, 32], 'rgb': base64.b64encode(img.tobytes()).decode('ascii')}
        boxes.append(case)
    return {'cases': boxes}


def features(rs, means, n):
    c, d = means.shape
    labels = np.arange(n) % c
    rs.shuffle(labels)
    x = means[labels] + rs.normal(0, 1.5, size=(n, d))
    return x.astype(np.float32), labels.astype(np.int64)


def train(case):
    rs = np.random.RandomState(case['seed_data'])
    d, c, r = case['dim'], case['classes'], case['representation']
    means = rs.normal(0, 1.0, size=(c, d))
    xt, yt = features(rs, means, case['train'])
    xv, yv = features(rs, means, case['val'])
    torch.manual_seed(case['seed_data'])
    init = {}
    for nm, (o, i) in ([('pre_logits.fc', (r, d))] if r else []) + [('head', (c, r or d))]:
        w = torch.empty(o, i)
        nn.init.trunc_normal_(w, std=.01)  # the tutorial's _init_vit_weights
        init[nm + '.weight'] = w.numpy()
        init[nm + '.bias'] = np.zeros(o, dtype=np.float32)
    steps, rows, final = train_head(xt, yt, xv, yv, init, case)
    as_list = lambda a: [float(v) for v in np.asarray(a, dtype=np.float32).reshape(-1)]  # noqa: E731
    return {
        'config': case,
        'train': {'features': as_list(xt), 'labels': [int(v) for v in yt]},
        'val': {'features': as_list(xv), 'labels': [int(v) for v in yv]},
        'init': {k: {'shape': list(v.shape), 'data': as_list(v)} for k, v in init.items()},
        'steps': steps,
        'epochs': rows,
        'final': {k: {'shape': list(v.shape), 'data': as_list(v)} for k, v in final.items()},
    }


CASES = {
    'sgd-head': {'dim': 32, 'classes': 5, 'representation': None, 'train': 43, 'val': 12, 'epochs': 5, 'batch_size': 8,
                 'lr': 0.01, 'lrf': 0.1, 'momentum': 0.9, 'weight_decay': 4e-5, 'seed': 0, 'seed_data': 11},
    'sgd-prelogits': {'dim': 24, 'classes': 3, 'representation': 16, 'train': 31, 'val': 9, 'epochs': 4, 'batch_size': 6,
                      'lr': 0.2, 'lrf': 0.05, 'momentum': 0.9, 'weight_decay': 0.01, 'seed': 3, 'seed_data': 12},
}


def write_json(path, obj):
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(obj, f, indent=1, ensure_ascii=True)
        f.write('\n')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', default=DEFAULT_OUT)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(1)
    write_json(os.path.join(args.out, 'split.json'), make_split())
    write_json(os.path.join(args.out, 'augment.json'), make_augment(args.out))
    for name, case in CASES.items():
        write_json(os.path.join(args.out, name + '.json'), train(case))
    return 0


if __name__ == '__main__':
    sys.exit(main())
