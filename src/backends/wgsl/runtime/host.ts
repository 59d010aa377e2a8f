/// <reference types="@webgpu/types" />
// The WGSL target's host runtime: creates the device, the pipelines and the buffers once (one
// weights buffer, one arena, one input/output buffer, one uniform buffer), then runs the planned
// kernels as one compute pass per forward. vitc inlines this file, compiled by TypeScript, into every
// generated model.mjs next to the program's tables (module.ts); the vitc runner and tests run that
// module, never this file directly. It imports only the shared runtime and the table types, which
// module.ts inlines. vitc's own tsc does not compile it (it targets @webgpu/types, not the DOM lib):
// the generated module is typechecked against @webgpu/types by src/backends/wgsl/module.test.ts.
import { checkTensors, describeGiven, parseSafetensors, tensorToFloat32, type StTensor } from '../../../runtime/safetensors.js';
import { halfBits, roundThrough } from '../../../runtime/dtype.js';
import { applyWeightTransforms } from '../../../runtime/transforms.js';
import type { HostOperand, HostProgram, HostVariant, LoadOptions, ModelInfo } from './program.js';

const UNIFORM_SLOT = 256;
/** Where Debian's chromium package puts SwiftShader's Vulkan driver (as src/backends/wgsl/dawn.ts). */
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
// WebGPU's flag values (the spec fixes them), so that the module needs no globals besides the GPU object.
const USAGE = { MAP_READ: 1, COPY_SRC: 4, COPY_DST: 8, UNIFORM: 64, STORAGE: 128 } as const;
const COMPUTE_STAGE = 4;
const MAP_READ = 1;
const at = (a: { readonly b: number; readonly c: number }, B: number): number => a.b * B + a.c;
const ceilDiv = (a: number, b: number): number => Math.ceil(a / b);

/** Whether an adapter is a CPU implementation (SwiftShader, llvmpipe, WARP), where register tiles beat workgroup memory. */
export function isCpuAdapter(adapter: GPUAdapter): boolean {
  const info = adapter.info;
  const text = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`.toLowerCase();
  const fallback = (info as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter;
  return fallback === true || /swiftshader|llvmpipe|lavapipe|\bwarp\b|software/.test(text);
}

export interface Limits {
  readonly invocations: number;
  readonly sizeX: number;
  readonly sizeY: number;
  readonly shared: number;
  readonly groups: number;
}

/** Workgroup-memory GEMM tiles (TILE_M x TILE_N, 4x4 per invocation, TILE_K 16) for M rows (at batch 1) and N columns, within the limits. */
export function chooseGemmTiles(M1: number, N: number, lim: Limits): Record<string, number> {
  const pow2 = (n: number) => 2 ** Math.ceil(Math.log2(Math.max(1, n)));
  for (const [tm, tn] of [[64, 64], [32, 64], [64, 32], [32, 32], [16, 64], [16, 32], [32, 16], [16, 16], [8, 16], [16, 8], [8, 8]] as const) {
    const x = tn / 4, y = tm / 4;
    if (x * y > lim.invocations || x > lim.sizeX || y > lim.sizeY || (tm + tn) * 16 * 4 > lim.shared) continue;
    if (tm > Math.max(16, pow2(M1)) || tn > Math.max(16, pow2(N))) continue;
    return { TILE_M: tm, TILE_N: tn };
  }
  return { TILE_M: 4, TILE_N: 4 };
}

/** Attention: QB query rows per workgroup (one per invocation), KB keys staged per tile in workgroup memory. */
export function chooseAttentionTiles(T: number, d: number, dv: number, lim: Limits, cpu: boolean): Record<string, number> {
  let qb = cpu ? 16 : 64;
  while (qb > 4 && (qb > lim.invocations || qb > lim.sizeX || qb >= 2 * T)) qb /= 2;
  let kb = 64;
  while (kb > 1 && kb * (d + dv) * 4 > lim.shared) kb /= 2;
  return { QB: qb, KB: kb };
}

/** A shader's code: its directives (enable, diagnostic) first, then the prelude, then the kernel. */
function compose(prelude: string, kernel: string): string {
  const lines = kernel.split('\n');
  let n = 0;
  while (n < lines.length && /^(enable|requires|diagnostic)\b/.test(lines[n]!)) n++;
  return [...lines.slice(0, n), prelude, ...lines.slice(n)].join('\n');
}

/** Float32 values as f16 bit patterns (an even count, so that the bytes are a multiple of 4). */
function toHalfBits(v: Float32Array): Uint16Array {
  const out = new Uint16Array(v.length + (v.length % 2));
  for (let i = 0; i < v.length; i++) out[i] = halfBits(v[i]!);
  return out;
}

function decodeBase64F32(s: string): Float32Array {
  const bin = atob(s);
  const u8 = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) u8[i] = bin.charCodeAt(i);
  return new Float32Array(u8.buffer);
}

/** Row-major offsets of every index of `shape` with `strides`. */
function offsets(shape: readonly number[], strides: readonly number[]): Int32Array {
  const n = shape.reduce((a, d) => a * d, 1);
  const out = new Int32Array(n);
  const idx = new Array<number>(shape.length).fill(0);
  let o = 0;
  for (let i = 0; i < n; i++) {
    out[i] = o;
    for (let d = shape.length - 1; d >= 0; d--) {
      o += strides[d]!;
      if (++idx[d]! < shape[d]!) break;
      o -= strides[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
  return out;
}

/** The weights buffer's contents as f32 (each segment filled from the parsed file, transforms applied, packs repacked). */
export function weightValues(p: HostProgram, tensors: Record<string, StTensor>): Float32Array {
  const out = new Float32Array(p.weightElems);
  const cache = new Map<string, Float32Array>();
  const values = (name: string) => {
    let v = cache.get(name);
    if (!v) {
      const t = tensors[name]!;
      v = applyWeightTransforms(tensorToFloat32(t), t.shape, p.transforms[name]);
      cache.set(name, v);
    }
    return v;
  };
  for (const s of p.segments) {
    switch (s.kind) {
      case 'param': out.set(values(s.name), s.at); break;
      case 'const': out.set(decodeBase64F32(s.data), s.at); break;
      case 'pack': {
        const src = values(s.name);
        const ko = offsets(s.kShape, s.kStrides), no = offsets(s.nShape, s.nStrides);
        for (let k = 0; k < s.K; k++) {
          const row = s.at + k * s.Npad, base = s.offset + ko[k]!;
          for (let n = 0; n < s.N; n++) out[row + n] = src[base + no[n]!]!;
        }
        break;
      }
    }
  }
  return out;
}

/** The part of node:fs/promises that readSource uses. */
interface NodeFs {
  open(path: string, flags: string): Promise<{
    stat(): Promise<{ size: number }>;
    read(buf: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
    close(): Promise<void>;
  }>;
}

/** Read a file in Node (in chunks: one read stops at 2 GiB), or fetch a URL in a browser. */
async function readSource(source: string): Promise<Uint8Array> {
  const node = typeof process !== 'undefined' && (process as { versions?: { node?: string } }).versions?.node;
  if (!node) {
    const r = await fetch(source);
    if (!r.ok) throw new Error(`cannot fetch weights ${source}: HTTP ${r.status} ${r.statusText}`);
    return new Uint8Array(await r.arrayBuffer());
  }
  const fs = (await import('node:fs/promises' as string)) as NodeFs;
  const fh = await fs.open(source, 'r');
  try {
    const { size } = await fh.stat();
    const out = new Uint8Array(size);
    for (let off = 0; off < size;) {
      const { bytesRead } = await fh.read(out, off, Math.min(1 << 30, size - off), off);
      if (bytesRead === 0) throw new Error(`${source}: unexpected end of file at byte ${off}`);
      off += bytesRead;
    }
    return out;
  } finally {
    await fh.close();
  }
}

interface Launch {
  readonly pipeline: GPUComputePipeline;
  readonly variant: HostVariant;
  readonly constants: Readonly<Record<string, number>>;
  readonly operands: readonly HostOperand[];
}

/** A loaded model: device, pipelines and buffers made once; forward runs one compute pass. */
export class Model {
  readonly info: ModelInfo;
  readonly unusedWeights: readonly string[];
  private readonly device: GPUDevice;
  private readonly program: HostProgram;
  private readonly launches: readonly Launch[];
  private readonly layout: GPUBindGroupLayout;
  private readonly weights: GPUBuffer;
  private readonly uniforms: GPUBuffer;
  private readonly elemBytes: number;
  private readonly maxGroups: number;
  private readonly maxBinding: number;
  private capacity = 0;
  private prepared = 0;
  private arena?: GPUBuffer;
  private io?: GPUBuffer;
  private readback?: GPUBuffer;
  private bindGroup?: GPUBindGroup;
  private groups: number[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  private destroyed = false;

  /** @internal Use `load()`. */
  constructor(init: {
    device: GPUDevice; program: HostProgram; launches: Launch[]; layout: GPUBindGroupLayout; weights: GPUBuffer;
    info: ModelInfo; unused: string[]; elemBytes: number; maxGroups: number; maxBinding: number;
  }) {
    this.device = init.device;
    this.program = init.program;
    this.launches = init.launches;
    this.layout = init.layout;
    this.weights = init.weights;
    this.info = init.info;
    this.unusedWeights = init.unused;
    this.elemBytes = init.elemBytes;
    this.maxGroups = init.maxGroups;
    this.maxBinding = init.maxBinding;
    this.uniforms = init.device.createBuffer({ label: 'uniforms', size: Math.max(1, init.launches.length) * UNIFORM_SLOT, usage: USAGE.UNIFORM | USAGE.COPY_DST });
  }

  /** pixels: NCHW float32 of `batch` images, normalized as the manifest's preprocess says; resolves to [batch, classes] logits. The pixels are copied when forward is called (the array may be refilled at once). */
  forward(pixels: Float32Array, batch: number): Promise<Float32Array> {
    const bad = this.refuse('forward', pixels, batch);
    if (bad) return Promise.reject(bad);
    // Copied now: the caller may refill its array before the queued pass reads it.
    const x = pixels.slice();
    const run = this.queue.then(() => this.run(x, batch));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * forward, one kernel at a time, waiting for each: every kernel's wall time in ms (for tuning;
   * slower than forward) and, in Node, the process's CPU time in ms over the same span (a CPU adapter
   * such as SwiftShader runs in the process, so this is the kernel's cost whatever else loads the
   * machine). Resolves to the logits and the times in kernel order.
   */
  profile(pixels: Float32Array, batch: number): Promise<{ logits: Float32Array; kernels: { label: string; ms: number; cpuMs?: number }[] }> {
    const cpuUsage = typeof process !== 'undefined' ? (process as { cpuUsage?: () => { user: number; system: number } }).cpuUsage : undefined;
    const cpuMs = () => { const u = cpuUsage!(); return (u.user + u.system) / 1000; };
    const bad = this.refuse('profile', pixels, batch);
    if (bad) return Promise.reject(bad);
    const x = pixels.slice();
    const run = this.queue.then(async () => {
      const kernels: { label: string; ms: number; cpuMs?: number }[] = [];
      let c0 = cpuUsage ? cpuMs() : 0, t0 = performance.now();
      const logits = await this.run(x, batch, async (i) => {
        await this.device.queue.onSubmittedWorkDone();
        const t1 = performance.now(), c1 = cpuUsage ? cpuMs() : 0;
        kernels.push({ label: this.program.kernels[i]!.label, ms: t1 - t0, ...(cpuUsage ? { cpuMs: c1 - c0 } : {}) });
        c0 = c1;
        t0 = t1;
      });
      return { logits, kernels };
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Release the GPU buffers and the device, once the forward passes already called have finished; later calls reject. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    void this.queue.then(() => {
      for (const b of [this.arena, this.io, this.readback, this.weights, this.uniforms]) b?.destroy();
      this.device.destroy();
    });
  }

  /** Why `what(pixels, batch)` cannot run, as an Error for the caller, or undefined. */
  private refuse(what: string, pixels: Float32Array, batch: number): Error | undefined {
    const n = this.program.inputPerSample;
    if (this.destroyed) return new Error(`${what}: the model was destroyed (destroy() released its device); load() it again to run it`);
    if (!(pixels instanceof Float32Array)) return new TypeError(`${what}: pixels must be a Float32Array`);
    if (!Number.isInteger(batch) || batch < 1) return new RangeError(`${what}: batch must be a positive integer; got ${batch}`);
    if (pixels.length !== batch * n) return new RangeError(`${what}: pixels has ${pixels.length} values; expected ${batch * n} (${batch} x ${n})`);
    return undefined;
  }

  private bytes(elems: number): number {
    return Math.ceil((elems * this.elemBytes) / 16) * 16;
  }

  /** Buffers for `batch` images (grown, never shrunk) and the uniforms and workgroup counts at that batch. */
  private prepare(batch: number): void {
    const p = this.program;
    if (batch > this.capacity) {
      const arenaBytes = this.bytes(Math.max(1, at(p.arena, batch)));
      const ioBytes = (p.inputPerSample + p.outputPerSample) * batch * 4;
      if (arenaBytes > this.maxBinding || ioBytes > this.maxBinding) {
        throw new RangeError(`forward: batch ${batch} needs ${Math.max(arenaBytes, ioBytes)} bytes of activations in one buffer; this adapter binds at most ${this.maxBinding} (use a smaller batch)`);
      }
      for (const b of [this.arena, this.io, this.readback]) b?.destroy();
      const d = this.device;
      this.arena = d.createBuffer({ label: 'arena', size: arenaBytes, usage: USAGE.STORAGE });
      this.io = d.createBuffer({ label: 'io', size: ioBytes, usage: USAGE.STORAGE | USAGE.COPY_DST | USAGE.COPY_SRC });
      this.readback = d.createBuffer({ label: 'readback', size: p.outputPerSample * batch * 4, usage: USAGE.MAP_READ | USAGE.COPY_DST });
      this.bindGroup = d.createBindGroup({
        layout: this.layout,
        entries: [
          { binding: 0, resource: { buffer: this.weights } },
          { binding: 1, resource: { buffer: this.arena } },
          { binding: 2, resource: { buffer: this.io } },
          { binding: 3, resource: { buffer: this.uniforms, size: UNIFORM_SLOT } },
        ],
      });
      this.capacity = batch;
    }
    if (batch === this.prepared) return;
    const slots = new Int32Array((this.launches.length * UNIFORM_SLOT) / 4);
    this.groups = this.launches.map((l, i) => {
      const s = (i * UNIFORM_SLOT) / 4;
      slots[s] = batch;
      l.operands.forEach((o, j) => { slots[s + 1 + j] = at(o.offset, batch); });
      const per = (x: number | string) => (typeof x === 'number' ? x : l.constants[x]!);
      const items = l.variant.items.reduce((n, [count, q]) => n * ceilDiv(at(count, batch), per(q)), 1);
      return Math.max(1, Math.min(this.maxGroups, ceilDiv(items, per(l.variant.per))));
    });
    this.device.queue.writeBuffer(this.uniforms, 0, slots);
    this.prepared = batch;
  }

  private async run(pixels: Float32Array, batch: number, each?: (kernel: number) => Promise<void>): Promise<Float32Array> {
    const p = this.program;
    this.prepare(batch);
    const d = this.device;
    // Dawn's Node binding copies only non-shared memory.
    const input = pixels.buffer instanceof ArrayBuffer ? pixels : pixels.slice();
    d.queue.writeBuffer(this.io!, 0, input.buffer, input.byteOffset, input.byteLength);
    d.pushErrorScope('validation');
    let enc = d.createCommandEncoder({ label: p.name });
    let pass = enc.beginComputePass();
    for (let i = 0; i < this.launches.length; i++) {
      const l = this.launches[i]!;
      pass.setPipeline(l.pipeline);
      pass.setBindGroup(0, this.bindGroup!, [i * UNIFORM_SLOT]);
      pass.dispatchWorkgroups(this.groups[i]!);
      if (each) {
        pass.end();
        d.queue.submit([enc.finish()]);
        await each(i);
        enc = d.createCommandEncoder({ label: p.name });
        pass = enc.beginComputePass();
      }
    }
    pass.end();
    const outBytes = p.outputPerSample * batch * 4;
    enc.copyBufferToBuffer(this.io!, p.inputPerSample * batch * 4, this.readback!, 0, outBytes);
    d.queue.submit([enc.finish()]);
    const err = await d.popErrorScope();
    if (err) throw new Error(`forward: WebGPU rejected the commands: ${err.message}`);
    await this.readback!.mapAsync(MAP_READ, 0, outBytes);
    const out = new Float32Array(this.readback!.getMappedRange(0, outBytes).slice(0));
    this.readback!.unmap();
    return out;
  }
}

/**
 * Create the device, check and upload the weights (safetensors bytes, or a path in Node / a URL in a
 * browser), compile the pipelines. Every problem is an Error with a message for a person.
 */
export async function loadProgram(p: HostProgram, weightShapes: ReadonlyArray<readonly [string, readonly number[]]>, source: Uint8Array | ArrayBuffer | string, options: LoadOptions = {}): Promise<Model> {
  if (typeof source !== 'string' && !(source instanceof Uint8Array) && !(source instanceof ArrayBuffer)) {
    throw new TypeError(`load: weights must be a safetensors file's bytes (Uint8Array or ArrayBuffer), or its URL as a string (a path in Node); got ${describeGiven(source)}`);
  }
  const gpu = options.gpu ?? (typeof navigator !== 'undefined' ? navigator.gpu : undefined);
  if (!gpu) throw new Error('WebGPU is not available here: navigator.gpu is undefined (use a browser with WebGPU, or pass { gpu } from the "webgpu" package in Node)');
  const kernelChoices = ['auto', 'register', 'subgroup', 'workgroup'];
  if (options.kernels !== undefined && !kernelChoices.includes(options.kernels)) {
    throw new RangeError(`load: options.kernels must be one of ${kernelChoices.join(', ')}; got ${JSON.stringify(options.kernels)}`);
  }
  const bytes = typeof source === 'string' ? await readSource(source) : source instanceof Uint8Array ? source : new Uint8Array(source);
  const tensors = parseSafetensors(bytes);
  let unused: string[];
  try {
    unused = checkTensors(tensors, weightShapes);
  } catch (e) {
    throw new Error(`these weights do not fit ${p.name}: ${(e as Error).message}`);
  }
  const adapter = await gpu.requestAdapter(options.adapter);
  if (!adapter) {
    const node = typeof process !== 'undefined' && (process as { versions?: { node?: string } }).versions?.node;
    throw new Error('WebGPU is available but no adapter was found (requestAdapter returned null)' + (node
      ? `; without a Vulkan GPU driver, set VK_ICD_FILENAMES=${SWIFTSHADER_ICD} (SwiftShader, which Debian's chromium package ships) before create() and pass { adapter: { forceFallbackAdapter: true } }`
      : ''));
  }
  const info = adapter.info;
  const adapterName = [info.vendor, info.architecture, info.device, info.description].filter((s) => s).join(' ') || 'unknown adapter';
  const say = options.onInfo ?? (() => {});
  const native = p.storage === 'f32' || adapter.features.has('shader-f16');
  if (!native) say(`${adapterName} has no shader-f16: storing the fp16 model in f32 buffers, rounded to f16 after every kernel (same values, twice the memory)`);
  const elemBytes = p.storage === 'f16' && native ? 2 : 4;
  const weightBytes = Math.ceil((p.weightElems * elemBytes) / 16) * 16;
  const al = adapter.limits;
  if (weightBytes > al.maxStorageBufferBindingSize || weightBytes > al.maxBufferSize) {
    throw new Error(`${p.name} needs ${weightBytes} bytes of weights in one buffer; ${adapterName} allows ${Math.min(al.maxStorageBufferBindingSize, al.maxBufferSize)}${p.storage === 'f32' ? ' (an fp16 build needs half)' : ''}`);
  }
  const cpu = isCpuAdapter(adapter);
  const lanes4 = adapter.features.has('subgroups') && info.subgroupMinSize === 4 && info.subgroupMaxSize === 4;
  const wantSubgroups = lanes4 && (options.kernels ?? p.kernelChoice ?? 'auto') !== 'workgroup';
  const device = await adapter.requestDevice({
    label: p.name,
    requiredFeatures: [...(p.storage === 'f16' && native ? ['shader-f16' as const] : []), ...(wantSubgroups ? ['subgroups' as const] : [])],
    requiredLimits: {
      maxStorageBufferBindingSize: al.maxStorageBufferBindingSize,
      maxBufferSize: al.maxBufferSize,
      maxComputeWorkgroupStorageSize: al.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: al.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: al.maxComputeWorkgroupSizeX,
      maxComputeWorkgroupSizeY: al.maxComputeWorkgroupSizeY,
    },
  });
  try {
    const lim: Limits = {
      invocations: device.limits.maxComputeInvocationsPerWorkgroup,
      sizeX: device.limits.maxComputeWorkgroupSizeX,
      sizeY: device.limits.maxComputeWorkgroupSizeY,
      shared: device.limits.maxComputeWorkgroupStorageSize,
      groups: device.limits.maxComputeWorkgroupsPerDimension,
    };
    const asked = options.kernels ?? p.kernelChoice ?? 'auto';
    const choice = asked === 'auto' ? (cpu ? (lanes4 ? 'subgroup' : 'register') : 'workgroup') : asked;
    if (choice === 'subgroup' && !lanes4) throw new Error(`the subgroup kernels need subgroups of exactly 4 lanes; ${adapterName} has ${adapter.features.has('subgroups') ? `${info.subgroupMinSize}-${info.subgroupMaxSize}` : 'none'}`);
    const what = { register: 'register-tiled kernels', subgroup: 'register-tiled kernels sharing loads across 4-lane subgroups', workgroup: 'workgroup-memory tiled kernels' }[choice];
    say(`${adapterName}: ${what}${asked !== 'auto' ? ' (as asked)' : cpu ? ' (a CPU adapter)' : ''}`);

    // Weights: one buffer, filled once.
    const values = weightValues(p, tensors);
    const weights = device.createBuffer({ label: 'weights', size: weightBytes, usage: USAGE.STORAGE | USAGE.COPY_DST });
    if (elemBytes === 2) {
      const half = toHalfBits(values);
      device.queue.writeBuffer(weights, 0, half.buffer, 0, half.byteLength);
    } else {
      const v = p.storage === 'f16' ? roundThrough(values, 'f16') : values;
      device.queue.writeBuffer(weights, 0, v.buffer, v.byteOffset, v.byteLength);
    }

    // Pipelines: one per distinct (shader, constants), compiled in parallel.
    const layout = device.createBindGroupLayout({
      label: 'vitc',
      entries: [
        { binding: 0, visibility: COMPUTE_STAGE, buffer: { type: 'read-only-storage' } },
        { binding: 1, visibility: COMPUTE_STAGE, buffer: { type: 'storage' } },
        { binding: 2, visibility: COMPUTE_STAGE, buffer: { type: 'storage' } },
        { binding: 3, visibility: COMPUTE_STAGE, buffer: { type: 'uniform', hasDynamicOffset: true, minBindingSize: UNIFORM_SLOT } },
      ],
    });
    const pipelineLayout = device.createPipelineLayout({ bindGroupLayouts: [layout] });
    const prelude = native ? p.prelude.native : p.prelude.emulated!;
    // Shader modules first (each distinct shader once; a compile error is a vitc bug), then the pipelines.
    device.pushErrorScope('validation');
    const modules = new Map<number, GPUShaderModule>();
    const plans = p.kernels.map((k) => {
      const variant = k.variants[choice] ?? (choice === 'subgroup' ? k.variants.register : undefined) ?? k.variants.any;
      if (!variant) throw new Error(`internal error: kernel ${k.label} has no ${choice} variant`);
      let constants: Record<string, number> = {};
      if (variant.tiles?.kind === 'gemm') constants = chooseGemmTiles(at(variant.tiles.M, 1), variant.tiles.N, lim);
      else if (variant.tiles?.kind === 'attention') constants = chooseAttentionTiles(variant.tiles.T, variant.tiles.d, variant.tiles.dv, lim, cpu);
      if (!modules.has(variant.shader)) modules.set(variant.shader, device.createShaderModule({ label: k.label, code: compose(prelude, p.shaders[variant.shader]!) }));
      return { k, variant, constants };
    });
    for (const [shader, module] of modules) {
      const errors = (await module.getCompilationInfo()).messages.filter((m) => m.type === 'error');
      if (errors.length) throw new Error(`internal error: shader ${shader} does not compile on ${adapterName}: ${errors.map((m) => `${m.lineNum}:${m.linePos} ${m.message}`).join('; ')}`);
    }
    const pipelines = new Map<string, Promise<GPUComputePipeline>>();
    let compiled = 0;
    const pending = plans.map((x) => {
      const key = `${x.variant.shader}:${JSON.stringify(x.constants)}`;
      let pipeline = pipelines.get(key);
      if (!pipeline) {
        pipeline = device.createComputePipelineAsync({ label: x.k.label, layout: pipelineLayout, compute: { module: modules.get(x.variant.shader)!, entryPoint: 'main', constants: x.constants } });
        pipeline.then(() => options.onProgress?.(++compiled, pipelines.size), () => {});
        pipelines.set(key, pipeline);
      }
      return pipeline;
    });
    options.onProgress?.(0, pipelines.size);
    let launches: Launch[];
    try {
      const made = await Promise.all(pending);
      launches = plans.map((x, i) => ({ pipeline: made[i]!, variant: x.variant, constants: x.constants, operands: x.k.operands }));
    } catch (e) {
      throw new Error(`internal error: a pipeline of ${p.name} was rejected by ${adapterName}: ${(e as Error).message}`);
    }
    const err = await device.popErrorScope();
    if (err) throw new Error(`internal error: WebGPU rejected the setup of ${p.name} on ${adapterName}: ${err.message}`);
    return new Model({
      device, program: p, launches, layout, weights, unused, elemBytes,
      info: { adapter: adapterName, kernels: choice, storage: p.storage === 'f32' ? 'f32' : native ? 'f16' : 'f16 rounded in f32', weightBytes },
      maxGroups: lim.groups, maxBinding: device.limits.maxStorageBufferBindingSize,
    });
  } catch (e) {
    device.destroy();
    throw e;
  }
}
