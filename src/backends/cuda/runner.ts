// `vitc run --target cuda`: build the runner (make with nvcc when nvidia-smi finds a GPU, else g++ with
// vitc's emulation header, the very same model.cu on the CPU), then keep it running (`--serve`: the
// weights loaded once) and send it each forward as .npy files. It says which it uses.
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DiagnosticError, error, fail } from '../../diag/diagnostic.js';
import { makeDirs } from '../../io/files.js';
import { readNpy, writeNpy } from '../../weights/npy.js';
import type { OpenRequest, Session } from '../backend.js';
import { EMU_DIR } from './emit.js';
import { startServer } from './serve.js';

const run = promisify(execFile);

export interface Gpu { readonly name: string; readonly arch: string }

/** VITC_CUDA_SANITIZE=1: the emulation built with AddressSanitizer and UBSan, even where a GPU is present. */
const sanitizeRequested = (): boolean => process.env.VITC_CUDA_SANITIZE === '1';

/** The first GPU nvidia-smi lists, with the ARCH to build for, or undefined (always under VITC_CUDA_EMULATE=1 or VITC_CUDA_SANITIZE=1). */
export function findGpu(): Gpu | undefined {
  if (process.env.VITC_CUDA_EMULATE === '1' || sanitizeRequested()) return undefined;
  const r = spawnSync('nvidia-smi', ['--query-gpu=name,compute_cap', '--format=csv,noheader'], { encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0 || !r.stdout) return undefined;
  const [name, cap] = r.stdout.split('\n')[0]!.split(',').map((s) => s.trim());
  if (!name || !cap) return undefined;
  const cc = cap.replace('.', '');
  return { name, arch: cc === '90' ? 'sm_90a' : `sm_${cc}` };
}

/** The first line of compiler output that reports an error (else the first non-empty line). */
export function firstError(output: string): string {
  const lines = output.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.find((l) => /\berror\b/i.test(l)) ?? lines[0] ?? '(no output)';
}

function which(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}

/** g++ flags of the emulation build: exact f32 (no contraction), half pairs read through uint32. */
export const EMU_FLAGS = ['-x', 'c++', '-std=c++17', '-DVITC_EMULATE', '-ffp-contract=off', '-fno-strict-aliasing'];

/** Small models compile fastest unoptimized (they run in milliseconds); large ones run fastest optimized. */
export function emuOptLevel(macsPerImage: number): string {
  return macsPerImage < 5e7 ? '-O0' : '-O2';
}

/**
 * What `VITC_CUDA_SANITIZE=1` adds to the emulation build: AddressSanitizer and UBSan, so that a kernel
 * reading past a buffer (a missing tail guard, which on a GPU reads garbage or faults, and which the
 * goldens cannot see when the garbage lands in rows nobody keeps), a shared-memory index past its
 * array, or undefined integer arithmetic stops the runner with the sanitizer's report. Every
 * activation lives in one arena, so reads that stray into a neighbouring buffer of the arena go unseen.
 */
export const SANITIZE_FLAGS = ['-g', '-fsanitize=address,undefined', '-fno-sanitize-recover=undefined', '-fno-omit-frame-pointer'];

/**
 * Compile a build directory for the CPU emulation, cached by content under the temporary directory
 * (the same sources are compiled once, however many sessions open them). Returns the binary's path.
 */
export async function buildEmulation(dir: string, macsPerImage: number, sanitize = false): Promise<string> {
  const flags = [...EMU_FLAGS, ...(sanitize ? ['-O1', ...SANITIZE_FLAGS] : [emuOptLevel(macsPerImage)])];
  if (!which('g++')) fail('cuda/emulation', 'no GPU was found and g++ is not installed, so the CUDA build cannot run on the CPU either', undefined, 'install g++ (Debian: apt-get install g++), or run on a machine with an NVIDIA GPU');
  const emu = readFileSync(join(EMU_DIR, 'vitc_emu.h'));
  const cache = join(tmpdir(), 'vitc-cuda-emu');
  makeDirs(cache);
  const bin = join(cache, `vitc_model_${contentKey([...['model.cu', 'main.cu', 'model.h', 'vitc_api.h'].map((f) => readFileSync(join(dir, f))), emu], flags)}`);
  if (existsSync(bin)) return bin;
  // main.cu and vitc_api.h are the same in every build: their object is compiled once and shared.
  const mainObj = join(cache, `main_${contentKey([readFileSync(join(dir, 'main.cu')), readFileSync(join(dir, 'vitc_api.h')), emu], flags)}.o`);
  const gpp = async (args: string[], out: string, what: string) => {
    const tmp = `${out}.tmp-${process.pid}-${Date.now()}`;
    try {
      await run('g++', [...flags, `-I${EMU_DIR}`, `-I${dir}`, ...args, '-o', tmp], { maxBuffer: 64 << 20, env: { ...process.env, LC_ALL: 'C' } });
    } catch (e) {
      rmSync(tmp, { force: true });
      const err = e as { stderr?: string; message: string };
      fail('cuda/compile', `g++ could not compile ${what} for the emulation: ${firstError(err.stderr ?? err.message)}`);
    }
    renameSync(tmp, out);
  };
  if (!existsSync(mainObj)) await gpp(['-c', join(dir, 'main.cu')], mainObj, `${dir}/main.cu`);
  await gpp([join(dir, 'model.cu'), '-x', 'none', mainObj], bin, `${dir}/model.cu`);
  return bin;
}

/** A short hash of file contents and flags, naming cached compiler outputs. */
function contentKey(parts: readonly Buffer[], flags: readonly string[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  h.update(flags.join(' '));
  return h.digest('hex').slice(0, 24);
}

/** `make` in the build directory for the GPU's architecture; returns the runner's path. */
export async function buildNative(dir: string, gpu: Gpu): Promise<string> {
  if (!which('nvcc') && !existsSync('/usr/local/cuda/bin/nvcc')) fail('cuda/nvcc', `a GPU (${gpu.name}) was found but nvcc is not on PATH`, undefined, 'install the CUDA toolkit, or put its bin directory on PATH');
  if (!which('make')) fail('cuda/make', `a GPU (${gpu.name}) was found but make is not installed`, undefined, 'install make (Debian: apt-get install make), or run `nvcc` as the Makefile in the build directory does');
  try {
    await run('make', ['-C', dir, `ARCH=${gpu.arch}`, 'vitc_model'], { maxBuffer: 64 << 20, env: { ...process.env, LC_ALL: 'C', PATH: `${process.env.PATH}:/usr/local/cuda/bin` } });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    fail('cuda/make', `make failed in ${dir}: ${firstError(`${err.stderr ?? ''}\n${err.stdout ?? ''}` || err.message)}`);
  }
  return join(dir, 'vitc_model');
}

export async function openCuda(req: OpenRequest): Promise<Session> {
  const gpu = findGpu();
  const sanitize = sanitizeRequested();
  const bin = gpu ? await buildNative(req.dir, gpu) : await buildEmulation(req.dir, req.manifest.stats.macs_per_image, sanitize);
  req.info?.(gpu
    ? `cuda: running on ${gpu.name} (built with nvcc for ${gpu.arch})`
    : `cuda: no GPU found by nvidia-smi: running model.cu on the CPU under vitc's emulation (g++; exact but slow${sanitize ? '; with AddressSanitizer and UBSan' : ''})`);
  const work = mkdtempSync(join(tmpdir(), 'vitc-cuda-run-'));
  // The work folder holds a copy of the weights: removed on close, or when the process exits first (Ctrl-C in vitc finetune).
  const removeWork = () => rmSync(work, { recursive: true, force: true });
  process.once('exit', removeWork);
  const weights = join(work, 'weights.safetensors');
  writeFileSync(weights, req.weights);
  const inShape = req.manifest.inputs[0]!.shape.slice(1) as number[];
  const extra = process.env.VITC_CUDA_TILES ? ['--tiles', process.env.VITC_CUDA_TILES] : [];
  let calls = 0;
  const server = startServer(bin, ['--weights', weights, ...extra], (msg) => new DiagnosticError([error('cuda/run', `the cuda runner failed: ${msg}`)]));
  /** One forward through the runner: every output, read back in the manifest's order. */
  const all = async (input: Float32Array, batch: number): Promise<Float32Array[]> => {
    const n = calls++;
    const inFile = join(work, `input-${n}.npy`), outDir = join(work, `outputs-${n}`);
    writeFileSync(inFile, writeNpy([batch, ...inShape], input));
    mkdirSync(outDir);
    try {
      await server.request(inFile, outDir);
      return req.manifest.outputs.map((o) => {
        const file = join(outDir, `${o.name}.npy`);
        return readNpy(file, new Uint8Array(readFileSync(file))).data;
      });
    } finally {
      rmSync(inFile, { force: true });
      rmSync(outDir, { recursive: true, force: true });
    }
  };
  return {
    async forward(input: Float32Array, batch: number): Promise<Float32Array> {
      return (await all(input, batch))[0]!;
    },
    forwardAll: all,
    async close() {
      try {
        await server.close();
      } finally {
        process.off('exit', removeWork);
        removeWork();
      }
    },
  };
}
