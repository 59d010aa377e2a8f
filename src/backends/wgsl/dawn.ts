// WebGPU in Node: Dawn from the npm `webgpu` package. Without a GPU driver, Vulkan is pointed at the
// SwiftShader CPU driver that Debian's chromium package ships (environment.md, "WGSL without a GPU").
import { existsSync, readdirSync } from 'node:fs';
import { fail } from '../../diag/diagnostic.js';

export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const ICD_DIRS = ['/etc/vulkan/icd.d', '/usr/share/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];

export interface NodeGpu {
  readonly gpu: GPU;
  /** requestAdapter options that find an adapter here. */
  readonly adapter: GPURequestAdapterOptions;
}

/** Whether a Vulkan driver other than SwiftShader is installed. */
function hasVulkanDriver(): boolean {
  return ICD_DIRS.some((d) => existsSync(d) && readdirSync(d).some((f) => f.endsWith('.json') && !f.includes('swiftshader')));
}

let cached: Promise<NodeGpu> | undefined;

/** The GPU object and adapter options, made once per process; `info` hears which driver is used. */
export function nodeGpu(info: (line: string) => void = () => {}): Promise<NodeGpu> {
  cached ??= (async () => {
    if (!process.env.VK_ICD_FILENAMES && !hasVulkanDriver()) {
      if (!existsSync(SWIFTSHADER_ICD)) {
        fail('wgsl/no-gpu', 'no Vulkan driver for WebGPU in Node, and no SwiftShader at ' + SWIFTSHADER_ICD, undefined, 'install a GPU driver, or Debian\'s chromium package (it ships SwiftShader), or set VK_ICD_FILENAMES');
      }
      process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
      info(`WebGPU: no Vulkan GPU driver found; using SwiftShader (${SWIFTSHADER_ICD}), a CPU implementation`);
    }
    let create: (flags: string[]) => GPU;
    try {
      ({ create } = (await import('webgpu')) as unknown as { create: typeof create });
    } catch (e) {
      return fail('wgsl/no-dawn', `cannot load the "webgpu" package (Dawn for Node): ${(e as Error).message}`, undefined, 'npm install webgpu');
    }
    const gpu = create(['backend=vulkan']);
    for (const opts of [{}, { forceFallbackAdapter: true }] as GPURequestAdapterOptions[]) {
      const a = await gpu.requestAdapter(opts);
      if (a) return { gpu, adapter: opts };
    }
    return fail('wgsl/no-adapter', 'WebGPU in Node found no adapter (Dawn, Vulkan backend)', undefined, `check VK_ICD_FILENAMES (${process.env.VK_ICD_FILENAMES ?? 'unset'})`);
  })();
  return cached;
}
