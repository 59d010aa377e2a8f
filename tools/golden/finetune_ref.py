"""The classic PyTorch ViT tutorial's training of a frozen backbone's head, as the reference that
`vitc finetune` is checked against.

    /usr/bin/python3 tools/golden/finetune_ref.py RUN_DIR DATA_DIR

RUN_DIR is a vitc finetune run made with --no-augment. From it this reads the settings and the head's
initial weights (state.json) and the features vitc computed (cache/train-*.safetensors,
cache/val-*.safetensors); DATA_DIR is split here by the tutorial's own read_split_data. The head
(nn.Linear, with nn.Linear + nn.Tanh before it when the run has pre_logits) is trained with
nn.CrossEntropyLoss, torch.optim.SGD and LambdaLR as the tutorial's train.py does, the batches taken in
the order random.Random((seed << 32) + epoch).shuffle(list(range(n))). Prints JSON: the split, the
class_indices.json text, the loss of every step, each epoch's summary and the final weights.
"""
import base64
import glob
import json
import math
import os
import random
import sys

import numpy as np
import torch
from torch import nn, optim
from torch.optim import lr_scheduler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_io import read_safetensors  # noqa: E402


def read_split_data(root, val_rate=0.2):
    """The tutorial's read_split_data, returning class_indices.json's text instead of writing it."""
    random.seed(0)
    flower_class = [cla for cla in os.listdir(root) if os.path.isdir(os.path.join(root, cla))]
    flower_class.sort()
    class_indices = dict((k, v) for v, k in enumerate(flower_class))
    json_str = json.dumps(dict((val, key) for key, val in class_indices.items()), indent=4)
    train_images_path, train_images_label, val_images_path, val_images_label = [], [], [], []
    supported = [".jpg", ".JPG", ".png", ".PNG"]
    for cla in flower_class:
        cla_path = os.path.join(root, cla)
        images = [os.path.join(root, cla, i) for i in os.listdir(cla_path) if os.path.splitext(i)[-1] in supported]
        images.sort()
        image_class = class_indices[cla]
        val_path = random.sample(images, k=int(len(images) * val_rate))
        for img_path in images:
            if img_path in val_path:
                val_images_path.append(img_path)
                val_images_label.append(image_class)
            else:
                train_images_path.append(img_path)
                train_images_label.append(image_class)
    return train_images_path, train_images_label, val_images_path, val_images_label, json_str


def train_head(xt, yt, xv, yv, init, cfg):
    """Train the head from `init` ({name: array}); cfg: epochs, batch_size, lr, lrf, momentum, weight_decay, seed."""
    d = xt.shape[1]
    layers = []
    if 'pre_logits.fc.weight' in init:
        layers += [nn.Linear(d, init['pre_logits.fc.weight'].shape[0]), nn.Tanh()]
    layers.append(nn.Linear(init['head.weight'].shape[1], init['head.weight'].shape[0]))
    model = nn.Sequential(*layers)
    names = (['pre_logits.fc'] if len(layers) == 3 else []) + ['head']
    linears = [m for m in model if isinstance(m, nn.Linear)]
    with torch.no_grad():
        for nm, m in zip(names, linears):
            m.weight.copy_(torch.from_numpy(np.array(init[nm + '.weight'], dtype=np.float32)))
            m.bias.copy_(torch.from_numpy(np.array(init[nm + '.bias'], dtype=np.float32)))

    epochs, bs, lrf = cfg['epochs'], cfg['batch_size'], cfg['lrf']
    optimizer = optim.SGD(model.parameters(), lr=cfg['lr'], momentum=cfg['momentum'], weight_decay=cfg['weight_decay'])
    lf = lambda x: ((1 + math.cos(x * math.pi / epochs)) / 2) * (1 - lrf) + lrf  # noqa: E731
    scheduler = lr_scheduler.LambdaLR(optimizer, lr_lambda=lf)
    loss_function = nn.CrossEntropyLoss()
    X, Y = torch.from_numpy(xt), torch.from_numpy(np.asarray(yt, dtype=np.int64))
    XV, YV = torch.from_numpy(xv), torch.from_numpy(np.asarray(yv, dtype=np.int64))
    steps, rows = [], []
    for epoch in range(epochs):
        lr = optimizer.param_groups[0]['lr']
        order = list(range(len(xt)))
        random.Random((cfg['seed'] << 32) + epoch).shuffle(order)
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
    return steps, rows, final


def f32(b64):
    return np.frombuffer(base64.b64decode(b64), dtype='<f4')


def main(argv):
    run_dir, data_dir = argv[1], argv[2]
    torch.set_num_threads(1)
    with open(os.path.join(run_dir, 'state.json'), encoding='utf-8') as f:
        state = json.load(f)
    cfg = state['config']
    if cfg['augment']:
        raise SystemExit('the run must be made with --no-augment (the features of augmented images differ every epoch)')
    init = {p['name']: f32(p['f32']).reshape(p['shape']) for p in state['init']}
    feats = {}
    for name in ('train', 'val'):
        [path] = glob.glob(os.path.join(run_dir, 'cache', name + '-*.safetensors'))
        feats[name] = np.array(read_safetensors(path)['features'], dtype=np.float32)
    tp, tl, vp, vl, json_str = read_split_data(data_dir)
    steps, rows, final = train_head(feats['train'], tl, feats['val'], vl, init, cfg)
    json.dump({'train': tp, 'val': vp, 'class_indices': json_str, 'steps': steps, 'epochs': rows,
               'final': {k: [float(x) for x in v.reshape(-1)] for k, v in final.items()}}, sys.stdout)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
