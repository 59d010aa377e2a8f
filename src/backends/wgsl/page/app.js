// The page's logic (index.html of a `vitc build --target wgsl --page` directory), inlined by page.ts
// after the image preprocessing of src/image (PIL's resize, torchvision's crop and normalization)
// and CONFIG (the model's input, preprocess plan and name). Plain browser JavaScript.
import { load } from './model.mjs';

const $ = (id) => document.getElementById(id);
const state = { model: null, loading: null, labels: null, image: null, imageName: '', weightsName: '' };

function showError(message) {
  const box = $('error');
  box.textContent = message;
  box.hidden = false;
  setStatus('');
}

function clearError() {
  $('error').hidden = true;
  $('error').textContent = '';
}

function setStatus(text) {
  $('status').textContent = text;
}

/** The model's input from 8-bit pixels, as the spec's preprocess says (PIL-exact resize, center crop, normalize). */
function preprocess(rgba, width, height) {
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
    rgb[j] = rgba[i];
    rgb[j + 1] = rgba[i + 1];
    rgb[j + 2] = rgba[i + 2];
  }
  const channels = CONFIG.channels;
  const img = channels === 1 ? { width, height, channels: 1, data: toLuma(rgb) } : { width, height, channels: 3, data: rgb };
  const plan = planPreprocess(CONFIG.preprocess, [CONFIG.height, CONFIG.width], channels);
  const cropped = resizeAndCrop(img, plan);
  const out = new Float32Array(channels * CONFIG.height * CONFIG.width);
  toNormalizedTensor(cropped, plan.mean, plan.std, out, 0);
  return { tensor: out, cropped };
}

/** Decode an image file to RGBA at its natural size (no color management, EXIF orientation ignored, as PIL's Image.open). */
async function decode(file) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(file, { colorSpaceConversion: 'none', premultiplyAlpha: 'none', imageOrientation: 'none' });
  } catch (e) {
    throw new Error(`cannot decode ${file.name || 'the image'} as an image: ${e && e.message ? e.message : e}`);
  }
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext('2d', { colorSpace: 'srgb' });
  ctx.drawImage(bitmap, 0, 0);
  const { data } = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
  bitmap.close();
  return { rgba: data, width: canvas.width, height: canvas.height };
}

/** Class names: the tutorial's class_indices.json ({"0": "daisy", ...}), a JSON list, or one name per line. */
function parseLabels(name, text) {
  const labels = /\.json$/i.test(name) || /^\s*[[{]/.test(text) ? fromJson(name, text) : text.split(/\r?\n/).map((l) => l.trim()).filter((l, i, all) => l !== '' || all.slice(i).some((x) => x.trim() !== ''));
  if (labels.length !== CONFIG.classes) throw new Error(`${name}: ${labels.length} class names, but ${CONFIG.name} has ${CONFIG.classes} classes`);
  return labels;
}

function showPreview(cropped) {
  const canvas = $('preview');
  canvas.width = cropped.width;
  canvas.height = cropped.height;
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(cropped.width, cropped.height);
  for (let i = 0; i < cropped.width * cropped.height; i++) {
    for (let c = 0; c < 3; c++) img.data[4 * i + c] = cropped.data[i * cropped.channels + (cropped.channels === 1 ? 0 : c)];
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  canvas.hidden = false;
}

function showResults(logits, ms, info) {
  const mx = logits.reduce((a, v) => Math.max(a, v), -Infinity);
  const z = logits.reduce((a, v) => a + Math.exp(v - mx), 0);
  const order = [...logits.keys()].sort((i, j) => logits[j] - logits[i] || i - j).slice(0, 5);
  const list = $('results');
  list.replaceChildren(...order.map((c) => {
    const p = Math.exp(logits[c] - mx) / z;
    const li = document.createElement('li');
    li.dataset.class = String(c);
    li.dataset.prob = String(p);
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = state.labels ? state.labels[c] : `class ${c}`;
    const bar = document.createElement('span');
    bar.className = 'bar';
    const fill = document.createElement('span');
    fill.style.width = `${(100 * p).toFixed(1)}%`;
    bar.append(fill);
    const value = document.createElement('span');
    value.className = 'prob';
    value.textContent = p.toFixed(4);
    li.append(name, bar, value);
    return li;
  }));
  $('timing').textContent = `${CONFIG.name}: forward ${ms.toFixed(0)} ms on ${info.adapter} (${info.kernels} kernels, ${info.storage})`;
  $('output').hidden = false;
}

async function classify() {
  // The model of this pass: other weights picked while it runs replace state.model (and classify again).
  const model = state.model;
  if (!model || !state.image) return;
  clearError();
  setStatus(`classifying ${state.imageName}…`);
  try {
    const t0 = performance.now();
    const logits = await model.forward(state.image, 1);
    if (state.model !== model) return;
    showResults(logits, performance.now() - t0, model.info);
    setStatus(`${state.imageName}, weights ${state.weightsName}`);
  } catch (e) {
    if (state.model !== model) return;
    showError(`running the model failed: ${e && e.message ? e.message : e}`);
  }
}

async function setWeights(bytes, name) {
  clearError();
  $('output').hidden = true;
  if (state.model) state.model.destroy();
  state.model = null;
  setStatus(`loading ${name} and compiling the shaders…`);
  const t0 = performance.now();
  const loading = (state.loading = load(bytes));
  try {
    const model = await loading;
    if (state.loading !== loading) return model.destroy();
    state.model = model;
    state.weightsName = name;
    setStatus(`${name} loaded in ${(performance.now() - t0).toFixed(0)} ms on ${model.info.adapter}; ${state.image ? '' : 'now pick an image'}`);
    await classify();
  } catch (e) {
    if (state.loading === loading) showError(`${name}: ${e && e.message ? e.message : e}`);
  }
}

async function setImage(file) {
  clearError();
  try {
    const { rgba, width, height } = await decode(file);
    const { tensor, cropped } = preprocess(rgba, width, height);
    state.image = tensor;
    state.imageName = file.name || 'the image';
    showPreview(cropped);
    if (state.model) await classify();
    else setStatus(state.loading ? 'waiting for the weights…' : 'now pick the weights (.safetensors)');
  } catch (e) {
    showError(e && e.message ? e.message : String(e));
  }
}

async function setLabels(file) {
  clearError();
  try {
    state.labels = parseLabels(file.name, await file.text());
    if (state.model && state.image) await classify();
  } catch (e) {
    showError(`labels: ${e && e.message ? e.message : e}`);
  }
}

/** A file, by its name and type: weights, labels, or an image. */
function route(file) {
  if (/\.safetensors$/i.test(file.name)) return file.arrayBuffer().then((b) => setWeights(new Uint8Array(b), file.name));
  if (/\.(json|txt)$/i.test(file.name)) return setLabels(file);
  return setImage(file);
}

async function fetchBytes(url, what) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`cannot fetch ${what} ${url}: HTTP ${r.status} ${r.statusText}`);
  return r;
}

function start() {
  $('title').textContent = `${CONFIG.name}: classify an image with WebGPU`;
  $('what').textContent = `Input ${CONFIG.channels}x${CONFIG.height}x${CONFIG.width}, ${CONFIG.classes} classes; preprocessing as the spec says: ${describePlan(planPreprocess(CONFIG.preprocess, [CONFIG.height, CONFIG.width], CONFIG.channels))}.`;
  if (!navigator.gpu) {
    showError('This browser has no WebGPU (navigator.gpu is undefined). Use a browser with WebGPU enabled (Chrome or Edge 113+, Safari 26+, Firefox 141+ on Windows), served over https or from localhost.');
    return;
  }
  // A file picked as the weights is the weights, whatever its name (routing by name made a .pth picked
  // here an image that could not be decoded); dropped files are routed by name.
  $('weights-file').addEventListener('change', (e) => { const f = e.target.files[0]; if (f) f.arrayBuffer().then((b) => setWeights(new Uint8Array(b), f.name)); });
  $('image-file').addEventListener('change', (e) => { const f = e.target.files[0]; if (f) setImage(f); });
  $('labels-file').addEventListener('change', (e) => { const f = e.target.files[0]; if (f) setLabels(f); });
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    for (const f of e.dataTransfer.files) route(f);
  });
  const params = new URLSearchParams(location.search);
  const weights = params.get('weights'), labels = params.get('labels');
  if (labels) fetchBytes(labels, 'labels').then((r) => r.text()).then((t) => { state.labels = parseLabels(labels, t); }).catch((e) => showError(`labels: ${e.message}`));
  if (weights) fetchBytes(weights, 'weights').then((r) => r.arrayBuffer()).then((b) => setWeights(new Uint8Array(b), weights)).catch((e) => showError(e.message));
  else setStatus('pick or drop an image and the weights (.safetensors), or open this page with ?weights=URL');
}

start();
