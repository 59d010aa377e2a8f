// Runs a ProgramRunner on every core: one WebAssembly memory shared by worker threads (worker_threads
// in Node, module Web Workers in browsers where SharedArrayBuffer is available), the same program on
// each (SPMD), a barrier between kernels. The caller's thread lays out the batch, writes the input,
// starts the workers and waits without blocking. Without shared memory or workers the pass runs on
// the caller's thread; without WebAssembly SIMD the GEMM micro-kernel is plain JS.

const PAGE = 65536;
const isNode = typeof process !== 'undefined' && !!(process.versions && process.versions.node);
/** Whether this thread may block in Atomics.wait (not a browser's main thread). */
const canBlock = isNode || (typeof WorkerGlobalScope !== 'undefined' && typeof self !== 'undefined' && self instanceof WorkerGlobalScope);

// ctl words: 0 barrier count, 1 barrier generation, 2 batch (0 = exit), 3 command sequence.
function barrier(ctl, T) {
  const gen = Atomics.load(ctl, 1);
  if (Atomics.add(ctl, 0, 1) === T - 1) {
    Atomics.store(ctl, 0, 0);
    Atomics.add(ctl, 1, 1);
    Atomics.notify(ctl, 1);
    return;
  }
  for (let spins = 0; Atomics.load(ctl, 1) === gen; spins++) if (spins > 2000 && canBlock) Atomics.wait(ctl, 1, gen, 5);
}

/** One forward pass of this thread's parts, with a barrier after each kernel. */
function runParts(runner, ctl, T, B) {
  runner.prepare(B);
  const n = runner.p.kernels.length;
  for (let i = 0; i < n; i++) {
    runner.runKernel(i);
    if (T > 1) barrier(ctl, T);
  }
}

function simdModule(wasm) {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(wasm) ? new WebAssembly.Module(wasm) : null;
  } catch {
    return null;
  }
}

async function defaultThreads() {
  if (isNode) {
    const os = await import('node:os');
    return os.availableParallelism ? os.availableParallelism() : os.cpus().length;
  }
  return (typeof navigator !== 'undefined' && navigator.hardwareConcurrency) || 1;
}

/** Start a worker of this module; `on` receives its messages and its failure. Resolves once it is ready. */
async function spawn(url, data, on) {
  if (isNode) {
    const { Worker } = await import('node:worker_threads');
    const w = new Worker(new URL(url), { workerData: { vitcWorker: data } });
    return new Promise((resolve, reject) => {
      w.once('message', () => {
        w.on('message', (m) => on.message(m));
        w.on('error', (e) => on.error(e));
        // Idle workers never keep the process alive (unref after the listeners: adding a 'message'
        // listener refs the worker again); the engine refs them while a forward pass runs.
        w.unref();
        resolve({ terminate: () => w.terminate(), hold: (on) => (on ? w.ref() : w.unref()) });
      });
      w.once('error', reject);
    });
  }
  const w = new Worker(`${url}#vitc-worker`, { type: 'module' });
  return new Promise((resolve, reject) => {
    w.onmessage = () => {
      w.onmessage = (e) => on.message(e.data);
      w.onerror = (e) => on.error(new Error(e.message));
      resolve({ terminate: () => w.terminate(), hold: () => {} });
    };
    w.onerror = (e) => reject(new Error(`vitc worker: ${e.message}`));
    w.postMessage({ vitcWorker: data });
  });
}

/**
 * An engine for `program`: `forward(input, B)` resolves to the outputs. Options: threads (default:
 * every core), moduleUrl (the module to start workers from), wasm ({ shared, plain } micro-kernel
 * bytes), simd (false: the plain-JS micro-kernel even where the engine has WebAssembly SIMD).
 * Where SharedArrayBuffer and workers exist, the forward pass runs on `threads` workers and the
 * caller's thread only waits, so a server's event loop keeps running; elsewhere it runs on the caller's.
 */
export async function createEngine(program, gen, weights, opts) {
  const wanted = Math.max(1, opts.threads === undefined ? await defaultThreads() : opts.threads);
  const useWorkers = typeof SharedArrayBuffer !== 'undefined' && typeof Atomics !== 'undefined' && (isNode || globalThis.crossOriginIsolated === true)
    && !!opts.moduleUrl && typeof WebAssembly === 'object' && (isNode || typeof Worker !== 'undefined');
  const T = useWorkers ? wanted : 1;
  const module = opts.simd === false ? null : simdModule(useWorkers ? opts.wasm.shared : opts.wasm.plain);
  const runner = new ProgramRunner(program, gen, { thread: 0, threads: T });
  const needBytes = (B) => runner.layout(B).top * 4;
  let memory;
  if (typeof WebAssembly === 'object') {
    memory = new WebAssembly.Memory({ initial: Math.ceil(needBytes(1) / PAGE), maximum: 65536, shared: useWorkers });
  } else {
    memory = new Float32Array(needBytes(1) / 4);
  }
  runner.attach(memory, module && !useWorkers ? new WebAssembly.Instance(module, { env: { mem: memory } }).exports : null);
  runner.load(weights);
  const ctl = useWorkers ? new Int32Array(new SharedArrayBuffer(16)) : null;
  let pending = null, failed = null;
  const on = {
    message: (m) => {
      if (m && m.error) on.error(new Error(m.error));
      else if (m === 'done' && pending) { const p = pending; pending = null; p.resolve(); }
    },
    error: (e) => {
      failed = failed || e;
      if (pending) { const p = pending; pending = null; p.reject(e); }
    },
  };
  const workers = [];
  if (useWorkers) for (let t = 0; t < T; t++) workers.push(await spawn(opts.moduleUrl, { memory, module, ctl, t, T }, on));
  let busy = Promise.resolve();
  const grow = (B) => {
    const need = needBytes(B);
    if (memory instanceof Float32Array) {
      if (need / 4 > memory.length) {
        const bigger = new Float32Array(need / 4);
        bigger.set(memory.subarray(0, runner.fixed));
        memory = bigger;
        runner.attach(memory, null);
      }
    } else if (need > memory.buffer.byteLength) {
      memory.grow(Math.ceil((need - memory.buffer.byteLength) / PAGE));
      runner.refresh();
    }
  };
  const run = async (input, B) => {
    if (failed) throw new Error(`vitc: the model's worker threads failed earlier: ${failed.message}`);
    grow(B);
    runner.layoutFor(B);
    runner.setInput(input);
    if (useWorkers) {
      const done = new Promise((resolve, reject) => { pending = { resolve, reject }; });
      Atomics.store(ctl, 2, B);
      Atomics.add(ctl, 3, 1);
      Atomics.notify(ctl, 3);
      for (const w of workers) w.hold(true);
      try {
        await done;
      } finally {
        for (const w of workers) w.hold(false);
      }
    } else {
      runParts(runner, null, 1, B);
    }
    return runner.outputs(B);
  };
  let disposed = null;
  return {
    threads: T,
    simd: !!module,
    /**
     * Forward passes run one at a time, in call order; none after dispose (its workers are gone). The
     * input is copied now: the caller may refill its array before the pass (queued, or a tick later) reads it.
     */
    forward(input, B) {
      if (disposed) return Promise.reject(new Error('forward: the model was disposed (dispose() stopped its worker threads); load() it again to run it'));
      const x = input.slice();
      const next = busy.then(() => run(x, B));
      busy = next.catch(() => {});
      return next;
    },
    /** Stops the workers once the forward passes already asked for have finished. */
    dispose() {
      disposed ??= busy.then(async () => {
        if (ctl) {
          Atomics.store(ctl, 2, 0);
          Atomics.add(ctl, 3, 1);
          Atomics.notify(ctl, 3);
        }
        await Promise.all(workers.map((w) => w.terminate()));
      });
      return disposed;
    },
  };
}

/** The worker side: attach to the shared memory, then run parts whenever the main thread says so. */
function workerLoop(program, gen, data, ready, post) {
  const { memory, module, ctl, t, T } = data;
  const runner = new ProgramRunner(program, gen, { thread: t, threads: T });
  runner.attach(memory, module ? new WebAssembly.Instance(module, { env: { mem: memory } }).exports : null);
  let seq = Atomics.load(ctl, 3); // before saying ready: the first command may follow at once
  ready();
  for (;;) {
    Atomics.wait(ctl, 3, seq);
    const now = Atomics.load(ctl, 3);
    if (now === seq) continue;
    seq = now;
    const B = Atomics.load(ctl, 2);
    if (B === 0) return;
    try {
      runParts(runner, ctl, T, B);
    } catch (e) {
      post({ error: String(e && e.message || e) });
      return;
    }
    if (t === 0) post('done');
  }
}

/** If this module was started as one of an engine's workers, serve it (never returns in that case). */
export async function serveIfWorker(program, gen) {
  if (isNode) {
    const wt = await import('node:worker_threads');
    if (wt.isMainThread || !wt.workerData || !wt.workerData.vitcWorker) return;
    workerLoop(program, gen, wt.workerData.vitcWorker, () => wt.parentPort.postMessage('ready'), (m) => wt.parentPort.postMessage(m));
    process.exit(0);
  } else if (canBlock && typeof location !== 'undefined' && location.hash === '#vitc-worker') {
    self.onmessage = (e) => {
      if (!e.data || !e.data.vitcWorker) return;
      workerLoop(program, gen, e.data.vitcWorker, () => self.postMessage('ready'), (m) => self.postMessage(m));
      self.close();
    };
  }
}
