"""The peer of `npm run bench:finetune`: one epoch of the PyTorch tutorial's train.py with a frozen
backbone, on the CPU, timed. Not a test.

    /usr/bin/python3 bench/finetune_torch.py SPEC WEIGHTS DATA_DIR [--batch-size 16] [--threads N]

As the tutorial does: read_split_data, PIL images through torchvision's transforms
(RandomResizedCrop(224) + RandomHorizontalFlip for training, Resize(256) + CenterCrop(224) for
validation, Normalize 0.5), a DataLoader with the tutorial's worker count (min(cpus, batch size, 8)),
every parameter but head and pre_logits frozen, SGD(momentum 0.9, weight decay), train_one_epoch
then evaluate. The model is tools/golden/vit_ref.py's ViT (timm's computation, eval mode: the
tutorial's model has no dropout at its defaults). Prints JSON: seconds of the training loop and of
the validation loop, and the image counts.
"""
import argparse
import json
import os
import sys
import time

import torch
from PIL import Image
from torch import nn, optim
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'tools', 'golden'))
from finetune_ref import read_split_data  # noqa: E402
from safetensors_io import read_safetensors  # noqa: E402
from spec import load_spec  # noqa: E402
from vit_ref import build_with_weights  # noqa: E402


class MyDataSet(Dataset):
    def __init__(self, images_path, images_class, transform):
        self.images_path, self.images_class, self.transform = images_path, images_class, transform

    def __len__(self):
        return len(self.images_path)

    def __getitem__(self, item):
        img = Image.open(self.images_path[item]).convert('RGB')
        return self.transform(img), self.images_class[item]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('spec')
    ap.add_argument('weights')
    ap.add_argument('data')
    ap.add_argument('--batch-size', type=int, default=16)
    ap.add_argument('--threads', type=int, default=os.cpu_count())
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    tp, tl, vp, vl, _ = read_split_data(args.data)
    norm = transforms.Normalize([0.5, 0.5, 0.5], [0.5, 0.5, 0.5])
    train_t = transforms.Compose([transforms.RandomResizedCrop(224), transforms.RandomHorizontalFlip(), transforms.ToTensor(), norm])
    val_t = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(), norm])
    nw = min([os.cpu_count(), args.batch_size if args.batch_size > 1 else 0, 8])
    train_loader = DataLoader(MyDataSet(tp, tl, train_t), batch_size=args.batch_size, shuffle=True, num_workers=nw)
    val_loader = DataLoader(MyDataSet(vp, vl, val_t), batch_size=args.batch_size, shuffle=False, num_workers=nw)

    model = build_with_weights(load_spec(args.spec), read_safetensors(args.weights))
    for name, p in model.named_parameters():
        if 'head' not in name and 'pre_logits' not in name:
            p.requires_grad_(False)
    optimizer = optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01, momentum=0.9, weight_decay=4e-5)
    loss_function = nn.CrossEntropyLoss()

    t0 = time.perf_counter()
    model.train()
    for images, labels in train_loader:
        loss = loss_function(model(images), labels)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    t1 = time.perf_counter()
    model.eval()
    with torch.no_grad():
        for images, labels in val_loader:
            loss_function(model(images), labels)
    t2 = time.perf_counter()
    json.dump({'train_s': t1 - t0, 'val_s': t2 - t1, 'train_images': len(tp), 'val_images': len(vp), 'workers': nw}, sys.stdout)
    return 0


if __name__ == '__main__':
    sys.exit(main())
