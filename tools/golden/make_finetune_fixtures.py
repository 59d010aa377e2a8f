"""Regenerate the fine-tuning fixtures in test/fixtures/finetune/ with Debian's Python and PyTorch.

    /usr/bin/python3 tools/golden/make_finetune_fixtures.py [--out DIR]

What vitc finetune must reproduce, computed here by the tutorial's own tools:

  split.json          read_split_data's rule (random.seed(0), then per sorted class
                      random.sample(images, k=int(len(images) * 0.2)) for validation) on listings of
                      file names: the five flower_photos classes at their real sizes (633, 898, 641,
                      699, 799) with generated names, and small classes (1 to 6 images, where
                      int(n * 0.2) is 0 or 1); the class_indices.json text json.dumps(indent=4) writes
                      for class names with non-ASCII characters; Python's random.shuffle orders.
  sgd-head.json       the tutorial's training of a frozen backbone's head on fixed features:
  sgd-prelogits.json  nn.Linear head (+ pre_logits: Linear + Tanh), nn.CrossEntropyLoss,
                      torch.optim.SGD(momentum=0.9, weight_decay), LambdaLR with the cosine factor
                      stepped once per epoch, batches in the order
                      random.Random((seed << 32) + epoch).shuffle(list(range(n))); the loss of every
                      step, each epoch's mean train loss, accuracies, validation loss and learning
                      rate, and the final weights.

Features are float32 class means plus noise (seeded numpy), so the head has something to learn.
Deterministic: running it twice writes the same bytes.
"""
import argparse
import json
import math
import os
import random
import sys

import numpy as np
import torch
from torch import nn, optim
from torch.optim import lr_scheduler

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
    layers = []
    if r:
        layers += [nn.Linear(d, r), nn.Tanh()]
    layers.append(nn.Linear(r or d, c))
    model = nn.Sequential(*layers)
    for m in model:
        if isinstance(m, nn.Linear):  # the tutorial's _init_vit_weights
            nn.init.trunc_normal_(m.weight, std=.01)
            nn.init.zeros_(m.bias)
    names = (['pre_logits.fc'] if r else []) + ['head']
    linears = [m for m in model if isinstance(m, nn.Linear)]
    init = {}
    for nm, m in zip(names, linears):
        init[nm + '.weight'] = m.weight.detach().numpy().copy()
        init[nm + '.bias'] = m.bias.detach().numpy().copy()

    epochs, bs, lrf = case['epochs'], case['batch_size'], case['lrf']
    optimizer = optim.SGD(model.parameters(), lr=case['lr'], momentum=case['momentum'], weight_decay=case['weight_decay'])
    lf = lambda x: ((1 + math.cos(x * math.pi / epochs)) / 2) * (1 - lrf) + lrf  # noqa: E731
    scheduler = lr_scheduler.LambdaLR(optimizer, lr_lambda=lf)
    loss_function = nn.CrossEntropyLoss()
    X, Y, XV, YV = map(torch.from_numpy, (xt, yt, xv, yv))
    steps, rows = [], []
    for epoch in range(epochs):
        lr = optimizer.param_groups[0]['lr']
        order = list(range(len(xt)))
        random.Random((case['seed'] << 32) + epoch).shuffle(order)
        model.train()
        accu_loss, accu_num, n_steps = 0.0, 0, 0
        for s in range(0, len(order), bs):
            idx = torch.tensor(order[s:s + bs])
            pred = model(X[idx])
            loss = loss_function(pred, Y[idx])
            loss.backward()
            accu_loss += loss.item()
            accu_num += int(torch.eq(torch.max(pred, dim=1)[1], Y[idx]).sum())
            n_steps += 1
            steps.append(loss.item())
            optimizer.step()
            optimizer.zero_grad()
        scheduler.step()
        model.eval()
        with torch.no_grad():
            vl, vn, vs = 0.0, 0, 0
            for s in range(0, len(xv), bs):
                pred = model(XV[s:s + bs])
                vl += loss_function(pred, YV[s:s + bs]).item()
                vn += int(torch.eq(torch.max(pred, dim=1)[1], YV[s:s + bs]).sum())
                vs += 1
        rows.append({'epoch': epoch, 'lr': lr, 'train_loss': accu_loss / n_steps, 'train_acc': accu_num / len(xt),
                     'val_loss': vl / vs, 'val_acc': vn / len(xv)})
    final = {}
    for nm, m in zip(names, linears):
        final[nm + '.weight'] = m.weight.detach().numpy()
        final[nm + '.bias'] = m.bias.detach().numpy()
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
    for name, case in CASES.items():
        write_json(os.path.join(args.out, name + '.json'), train(case))
    return 0


if __name__ == '__main__':
    sys.exit(main())
