"""Make the small test photos in test/fixtures/import/photos/ from scikit-image's sample data.

    apt-get download python3-skimage && dpkg -x python3-skimage_*.deb /tmp/skimage
    /usr/bin/python3 tools/golden/prepare_photos.py /tmp/skimage/usr/lib/python3/dist-packages/skimage/data

Run once; the results are committed (with LICENSES.md) and the tests never need scikit-image.
Each photo is a different kind of file the image pipeline must decode as Pillow does:

  chelsea.jpg   baseline JPEG, 4:2:0 chroma, with EXIF Orientation 6 (rotate 90 degrees clockwise)
  coffee.jpg    progressive JPEG, 4:2:2 chroma, with an embedded Adobe RGB (1998) ICC profile
                (taken from rocket.jpg), which Pillow ignores and so must vitc
  astronaut.png 8-bit grayscale PNG
  rocket.png    palette PNG (64 colours, one of them marked transparent), keeping rocket.jpg's
                Adobe RGB ICC profile as an iCCP chunk

All are about 384x288 (the shorter side above 256, so the tutorial's Resize(256) shrinks them).
"""
import os
import sys

from PIL import Image

OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), 'test', 'fixtures', 'import', 'photos')


def fit(im, w, h):
    """Center-crop to the aspect ratio w:h, then shrink to w x h (Lanczos)."""
    sw, sh = im.size
    if sw * h > sh * w:
        cw = sh * w // h
        im = im.crop(((sw - cw) // 2, 0, (sw - cw) // 2 + cw, sh))
    else:
        ch = sw * h // w
        im = im.crop((0, (sh - ch) // 2, sw, (sh - ch) // 2 + ch))
    return im.resize((w, h), Image.LANCZOS)


def main(data):
    os.makedirs(OUT, exist_ok=True)
    out = lambda f: os.path.join(OUT, f)

    chelsea = fit(Image.open(os.path.join(data, 'chelsea.png')).convert('RGB'), 384, 288)
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: the viewer rotates it 90 degrees clockwise
    chelsea.save(out('chelsea.jpg'), quality=85, subsampling=2, exif=exif.tobytes())

    adobe_rgb = Image.open(os.path.join(data, 'rocket.jpg')).info['icc_profile']
    coffee = fit(Image.open(os.path.join(data, 'coffee.png')).convert('RGB'), 384, 288)
    coffee.save(out('coffee.jpg'), quality=85, subsampling=1, progressive=True, icc_profile=adobe_rgb)

    astronaut = fit(Image.open(os.path.join(data, 'astronaut.png')).convert('RGB'), 288, 288).convert('L')
    astronaut.save(out('astronaut.png'), optimize=True)

    rocket = fit(Image.open(os.path.join(data, 'rocket.jpg')).convert('RGB'), 288, 384)
    pal = rocket.quantize(64)
    pal.save(out('rocket.png'), transparency=0, optimize=True)

    for f in sorted(os.listdir(OUT)):
        if f.endswith(('.jpg', '.png')):
            im = Image.open(out(f))
            print('%-14s %-4s %s %6d bytes' % (f, im.mode, im.size, os.path.getsize(out(f))))


if __name__ == '__main__':
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(sys.argv[1])
