"""Differential cases for vitc's image pipeline against Pillow + torchvision (Debian's python3-pil,
python3-torchvision), written to a directory for test/image-pil.test.ts:

    /usr/bin/python3 tools/golden/pil_cases.py OUT_DIR

OUT_DIR/cases.json lists every case: an input file (seeded synthetic images, saved losslessly in
several modes, plus the committed photos), what to do with it, and the raw 8-bit result Pillow
gives (OUT_DIR/<n>.raw, row-major, interleaved channels):

  decode   Image.open(f).convert(mode)                              (mode RGB or L)
  resize   Image.open(f).convert('RGB').resize((w, h), filter)
  pipeline torchvision Resize(size, filter) then CenterCrop(crop) on Image.open(f).convert(mode)
"""
import json
import os
import struct
import sys
import zlib

import numpy as np
from PIL import Image
from torchvision import transforms as T

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PHOTOS = os.path.join(ROOT, 'test', 'fixtures', 'import', 'photos')
FILTERS = {'bilinear': Image.BILINEAR, 'bicubic': Image.BICUBIC, 'nearest': Image.NEAREST}
MODES = {'bilinear': T.InterpolationMode.BILINEAR, 'bicubic': T.InterpolationMode.BICUBIC, 'nearest': T.InterpolationMode.NEAREST}


def write_png16(path, a, color_type):
    """A 16-bit PNG of a [H, W, C] uint16 array (colour type 4: gray + alpha, 2: RGB)."""
    h, w = a.shape[:2]
    raw = b''.join(b'\x00' + a[y].astype('>u2').tobytes() for y in range(h))

    def chunk(kind, data):
        return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data))
    with open(path, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 16, color_type, 0, 0, 0))
                + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))


def synthetic(out):
    """Seeded images in the modes convert('RGB') has to handle, saved as PNG (lossless)."""
    rng = np.random.default_rng(20240612)
    files = {}
    noise = rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)
    yy, xx = np.mgrid[0:61, 0:47]
    smooth = np.dstack([(xx * 5) % 256, (yy * 4) % 256, ((xx + yy) * 3) % 256]).astype(np.uint8)
    tall = rng.integers(0, 256, (90, 7, 3), dtype=np.uint8)

    def save(name, im):
        path = os.path.join(out, name)
        im.save(path)
        files[name] = path

    save('noise.png', Image.fromarray(noise))
    save('smooth.png', Image.fromarray(smooth))
    save('tall.png', Image.fromarray(tall))
    save('gray.png', Image.fromarray(noise[:, :, 1]))
    save('gray-alpha.png', Image.fromarray(np.dstack([noise[:, :, 0], noise[:, :, 2]]), 'LA'))
    save('rgba.png', Image.fromarray(np.dstack([noise, smooth[:37, :47].mean(2).astype(np.uint8).repeat(2, 1)[:, :53]]), 'RGBA'))
    pal = Image.fromarray(smooth).quantize(20)
    pal.save(os.path.join(out, 'palette.png'), transparency=2)
    files['palette.png'] = os.path.join(out, 'palette.png')
    save('bilevel.png', Image.fromarray(noise).convert('1'))
    big = rng.integers(0, 65536, (9, 11), dtype=np.uint16)
    big[0, :5] = [0, 1, 200, 255, 256]
    save('gray16.png', Image.fromarray(big.astype(np.int32), 'I'))
    # 16-bit PNGs with more than one channel, which Pillow cannot write: Pillow reads them 8-bit
    # (the high byte of each sample), unlike 16-bit grayscale (mode "I", clipped)
    gray_alpha16 = np.dstack([big, big[::-1, ::-1]])
    write_png16(os.path.join(out, 'gray-alpha16.png'), gray_alpha16, 4)
    files['gray-alpha16.png'] = os.path.join(out, 'gray-alpha16.png')
    write_png16(os.path.join(out, 'rgb16.png'), np.dstack([big, big[::-1], big[:, ::-1]]), 2)
    files['rgb16.png'] = os.path.join(out, 'rgb16.png')
    save('lossless.webp', Image.fromarray(smooth))
    Image.fromarray(smooth).save(os.path.join(out, 'smooth.tiff'))
    files['smooth.tiff'] = os.path.join(out, 'smooth.tiff')
    # Pillow turns a TIFF by its Orientation tag when it loads it (Image.open, no exif_transpose)
    turned = Image.Exif()
    turned[0x0112] = 6
    Image.fromarray(smooth).save(os.path.join(out, 'turned.tiff'), exif=turned)
    files['turned.tiff'] = os.path.join(out, 'turned.tiff')
    return files


def main(out):
    os.makedirs(out, exist_ok=True)
    files = synthetic(out)
    for f in sorted(os.listdir(PHOTOS)):
        if f.endswith(('.jpg', '.png')):
            files[f] = os.path.join(PHOTOS, f)
    cases = []

    def add(case, arr):
        n = len(cases)
        arr = np.ascontiguousarray(arr, dtype=np.uint8)
        arr.tofile(os.path.join(out, '%d.raw' % n))
        h, w = arr.shape[:2]
        cases.append(dict(case, raw='%d.raw' % n, width=w, height=h, channels=1 if arr.ndim == 2 else arr.shape[2]))

    for name, path in files.items():
        for mode in ('RGB', 'L'):
            add(dict(kind='decode', file=path, mode=mode), np.asarray(Image.open(path).convert(mode)))
    sizes = [(10, 7), (100, 90), (53, 20), (13, 61), (1, 1), (200, 3), (47, 61)]
    for name in ('noise.png', 'smooth.png', 'tall.png', 'chelsea.jpg'):
        for filt, fid in FILTERS.items():
            for w, h in sizes:
                add(dict(kind='resize', file=files[name], filter=filt, w=w, h=h), np.asarray(Image.open(files[name]).convert('RGB').resize((w, h), fid)))
    pipelines = [(256, 224), (36, 32), (7, 9), (40, 64), (288, 288), (300, 200)]
    for name in ('chelsea.jpg', 'coffee.jpg', 'astronaut.png', 'rocket.png', 'tall.png', 'noise.png'):
        for filt in ('bilinear', 'bicubic', 'nearest'):
            for mode in ('RGB', 'L'):
                for size, crop in pipelines:
                    if filt != 'bilinear' and (mode == 'L' or size not in (256, 36)):
                        continue
                    img = T.CenterCrop(crop)(T.Resize(size, interpolation=MODES[filt])(Image.open(files[name]).convert(mode)))
                    add(dict(kind='pipeline', file=files[name], mode=mode, filter=filt, size=size, crop=crop), np.asarray(img))
    with open(os.path.join(out, 'cases.json'), 'w') as f:
        json.dump(cases, f)
    print('%d cases in %s' % (len(cases), out))


if __name__ == '__main__':
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(sys.argv[1])
