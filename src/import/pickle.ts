// A restricted reader of Python pickles. It never runs code: a pickle can only name a callable
// through GLOBAL/STACK_GLOBAL/INST, and each name is looked up in the caller's allowlist the moment
// it is read, so anything else is refused before any REDUCE or BUILD that would use it.
// Covers protocols 0-5 as far as torch.save and numpy write them (no out-of-band buffers).

/** A Python tuple (immutable, distinct from a list). */
export class PyTuple {
  constructor(readonly items: readonly PyValue[]) {}
}

/** A Python dict or OrderedDict: entries in insertion order, keys compared by value for primitives. */
export class PyDict {
  readonly entries: [PyValue, PyValue][] = [];
  /** Attributes set by BUILD (an OrderedDict state dict carries `_metadata`). */
  readonly attrs = new Map<string, PyValue>();
  constructor(readonly type: 'dict' | 'OrderedDict' = 'dict') {}
  set(k: PyValue, v: PyValue): void {
    const i = this.entries.findIndex(([key]) => key === k);
    if (i >= 0) this.entries[i]![1] = v;
    else this.entries.push([k, v]);
  }
  get(k: PyValue): PyValue | undefined {
    return this.entries.find(([key]) => key === k)?.[1];
  }
}

/** A global the caller allowed: how calling it (REDUCE, NEWOBJ) makes a value. */
export interface PyGlobal {
  readonly kind: 'global';
  readonly module: string;
  readonly name: string;
  call?(args: readonly PyValue[]): PyValue;
}

/** An object made by an allowed global (a tensor, a storage); BUILD hands it its state. */
export interface PyObject {
  readonly kind: 'object';
  readonly pyClass: string;
  setState?(state: PyValue): void;
}

export type PyValue = null | boolean | number | bigint | string | Uint8Array | PyValue[] | PyTuple | PyDict | PyGlobal | PyObject;

/** The pickle is malformed or uses something this reader does not support. */
export class PickleError extends Error {}

/**
 * The pickle names a global that is not allowed (nothing has run). `root`: it is the pickle's first
 * object, so the file holds an instance of it or what it returns (torch.save(model) saves the class).
 */
export class PickleRefused extends Error {
  constructor(readonly global: string, readonly at: number, readonly root = false) {
    super(`the pickle calls ${global}`);
  }
}

export interface UnpickleOptions {
  /** The allowed global of that name, or undefined to refuse it. */
  resolveGlobal(module: string, name: string): PyGlobal | undefined;
  /** What a persistent id (BINPERSID/PERSID) stands for; absent: persistent ids are an error. */
  persistentLoad?(pid: PyValue): PyValue;
}

const MARK = Symbol('mark');
type Slot = PyValue | typeof MARK;

export function isGlobal(v: PyValue | undefined, module?: string, name?: string): v is PyGlobal {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array) && (v as PyGlobal).kind === 'global'
    && (module === undefined || (v as PyGlobal).module === module) && (name === undefined || (v as PyGlobal).name === name);
}

export function describe(v: PyValue | undefined): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (v instanceof Uint8Array) return `bytes(${v.length})`;
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (v instanceof PyTuple) return `a tuple of ${v.items.length}`;
  if (v instanceof PyDict) return `a ${v.type} of ${v.entries.length}`;
  if (v.kind === 'global') return `${v.module}.${v.name}`;
  return `a ${v.pyClass}`;
}

export function unpickle(bytes: Uint8Array, options: UnpickleOptions): PyValue {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = new TextDecoder('utf-8', { fatal: false });
  const latin1 = new TextDecoder('latin1');
  let pos = 0;
  const need = (n: number) => {
    if (n < 0 || pos + n > bytes.length) throw new PickleError(`the pickle is truncated (needs ${n} bytes at byte ${pos} of ${bytes.length})`);
  };
  const u8 = () => { need(1); return bytes[pos++]!; };
  const u16 = () => { need(2); const v = dv.getUint16(pos, true); pos += 2; return v; };
  const i32 = () => { need(4); const v = dv.getInt32(pos, true); pos += 4; return v; };
  const u32 = () => { need(4); const v = dv.getUint32(pos, true); pos += 4; return v; };
  const u64 = () => {
    need(8);
    const v = dv.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new PickleError(`a length of ${v} bytes at byte ${pos - 8}`);
    return Number(v);
  };
  const take = (n: number) => { need(n); const v = bytes.subarray(pos, pos + n); pos += n; return v; };
  const line = () => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) throw new PickleError(`the pickle is truncated (a line at byte ${pos} has no end)`);
    const s = latin1.decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };

  const stack: Slot[] = [];
  const marks: number[] = [];
  const memo = new Map<number, PyValue>();
  const pop = (): PyValue => {
    const v = stack.pop();
    if (v === undefined || v === MARK) throw new PickleError(`stack underflow at byte ${pos - 1}`);
    return v;
  };
  const top = (): PyValue => {
    const v = stack[stack.length - 1];
    if (v === undefined || v === MARK) throw new PickleError(`stack underflow at byte ${pos - 1}`);
    return v;
  };
  const popMark = (): PyValue[] => {
    const m = marks.pop();
    if (m === undefined) throw new PickleError(`no MARK before byte ${pos - 1}`);
    const items = stack.splice(m) as PyValue[];
    return items;
  };
  const global = (module: string, name: string, at: number): PyGlobal => {
    const g = options.resolveGlobal(module, name);
    if (!g) throw new PickleRefused(`${module}.${name}`, at, stack.length === 0 && marks.length === 0);
    return g;
  };
  const call = (fn: PyValue, args: readonly PyValue[]): PyValue => {
    if (!isGlobal(fn) || !fn.call) throw new PickleError(`${describe(fn)} is not callable (byte ${pos - 1})`);
    return fn.call(args);
  };
  const tupleItems = (v: PyValue): readonly PyValue[] => {
    if (!(v instanceof PyTuple)) throw new PickleError(`expected a tuple of arguments, got ${describe(v)} (byte ${pos - 1})`);
    return v.items;
  };
  const decodeLong = (b: Uint8Array): number | bigint => {
    if (b.length === 0) return 0;
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
    if (b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };
  const persistent = (pid: PyValue): PyValue => {
    if (!options.persistentLoad) throw new PickleError('the pickle refers to external data (a persistent id), which this file cannot have');
    return options.persistentLoad(pid);
  };
  const setItems = (d: PyValue, items: PyValue[]) => {
    if (!(d instanceof PyDict)) throw new PickleError(`SETITEMS on ${describe(d)} (byte ${pos - 1})`);
    if (items.length % 2) throw new PickleError(`odd number of dict items (byte ${pos - 1})`);
    for (let i = 0; i < items.length; i += 2) d.set(items[i]!, items[i + 1]!);
  };
  const appendItems = (l: PyValue, items: PyValue[]) => {
    if (!Array.isArray(l)) throw new PickleError(`APPENDS on ${describe(l)} (byte ${pos - 1})`);
    l.push(...items);
  };

  for (;;) {
    const at = pos;
    const op = u8();
    switch (op) {
      case 0x80: u8(); break; // PROTO
      case 0x95: u64(); break; // FRAME: framing only
      case 0x2e: { // STOP
        const v = pop();
        if (stack.length) throw new PickleError(`${stack.length} values left on the stack at STOP`);
        return v;
      }
      case 0x28: marks.push(stack.length); break; // MARK
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: stack.push(top()); break; // DUP
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x4a: stack.push(i32()); break; // BININT
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(u16()); break; // BININT2
      case 0x8a: stack.push(decodeLong(take(u8()))); break; // LONG1
      case 0x8b: stack.push(decodeLong(take(u32()))); break; // LONG4
      case 0x49: { // INT (text): also True/False as 01/00
        const s = line();
        stack.push(s === '01' ? true : s === '00' ? false : Number.parseInt(s, 10));
        break;
      }
      case 0x4c: stack.push(Number.parseInt(line().replace(/L$/, ''), 10)); break; // LONG (text)
      case 0x46: stack.push(Number.parseFloat(line())); break; // FLOAT (text)
      case 0x47: { need(8); stack.push(dv.getFloat64(pos, false)); pos += 8; break; } // BINFLOAT (big-endian)
      case 0x58: stack.push(text.decode(take(u32()))); break; // BINUNICODE
      case 0x8c: stack.push(text.decode(take(u8()))); break; // SHORT_BINUNICODE
      case 0x8d: stack.push(text.decode(take(u64()))); break; // BINUNICODE8
      case 0x54: stack.push(text.decode(take(i32()))); break; // BINSTRING (py2 str, read as utf-8 like torch.load)
      case 0x55: stack.push(text.decode(take(u8()))); break; // SHORT_BINSTRING
      case 0x42: stack.push(take(u32()).slice()); break; // BINBYTES
      case 0x43: stack.push(take(u8()).slice()); break; // SHORT_BINBYTES
      case 0x8e: stack.push(take(u64()).slice()); break; // BINBYTES8
      case 0x29: stack.push(new PyTuple([])); break; // EMPTY_TUPLE
      case 0x74: stack.push(new PyTuple(popMark())); break; // TUPLE
      case 0x85: stack.push(new PyTuple([pop()])); break; // TUPLE1
      case 0x86: { const b = pop(), a = pop(); stack.push(new PyTuple([a, b])); break; } // TUPLE2
      case 0x87: { const c = pop(), b = pop(), a = pop(); stack.push(new PyTuple([a, b, c])); break; } // TUPLE3
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x6c: stack.push(popMark()); break; // LIST
      case 0x61: { const v = pop(); appendItems(top(), [v]); break; } // APPEND
      case 0x65: { const items = popMark(); appendItems(top(), items); break; } // APPENDS
      case 0x7d: stack.push(new PyDict()); break; // EMPTY_DICT
      case 0x64: { const d = new PyDict(); setItems(d, popMark()); stack.push(d); break; } // DICT
      case 0x73: { const v = pop(), k = pop(); setItems(top(), [k, v]); break; } // SETITEM
      case 0x75: { const items = popMark(); setItems(top(), items); break; } // SETITEMS
      case 0x8f: stack.push([]); break; // EMPTY_SET (held as a list)
      case 0x90: { const items = popMark(); appendItems(top(), items); break; } // ADDITEMS
      case 0x91: stack.push(popMark()); break; // FROZENSET
      case 0x71: memo.set(u8(), top()); break; // BINPUT
      case 0x72: memo.set(u32(), top()); break; // LONG_BINPUT
      case 0x70: memo.set(Number.parseInt(line(), 10), top()); break; // PUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x68: case 0x6a: case 0x67: { // BINGET, LONG_BINGET, GET
        const k = op === 0x68 ? u8() : op === 0x6a ? u32() : Number.parseInt(line(), 10);
        const v = memo.get(k);
        if (v === undefined) throw new PickleError(`memo entry ${k} is not defined (byte ${at})`);
        stack.push(v);
        break;
      }
      case 0x63: { const module = line(); const name = line(); stack.push(global(module, name, at)); break; } // GLOBAL
      case 0x93: { // STACK_GLOBAL
        const name = pop(), module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') throw new PickleError(`STACK_GLOBAL needs two strings (byte ${at})`);
        stack.push(global(module, name, at));
        break;
      }
      case 0x69: { // INST: module and class inline, arguments since the mark
        const module = line(); const name = line();
        const cls = global(module, name, at);
        stack.push(call(cls, popMark()));
        break;
      }
      case 0x6f: { const [cls, ...args] = popMark(); stack.push(call(cls ?? null, args)); break; } // OBJ
      case 0x52: { const args = pop(); const fn = pop(); stack.push(call(fn, tupleItems(args))); break; } // REDUCE
      case 0x81: { const args = pop(); const cls = pop(); stack.push(call(cls, tupleItems(args))); break; } // NEWOBJ
      case 0x92: { // NEWOBJ_EX
        const kwargs = pop(); const args = pop(); const cls = pop();
        if (!(kwargs instanceof PyDict) || kwargs.entries.length) throw new PickleError(`keyword arguments are not supported (byte ${at})`);
        stack.push(call(cls, tupleItems(args)));
        break;
      }
      case 0x62: { // BUILD
        const state = pop();
        const obj = top();
        if (obj instanceof PyDict) {
          // An OrderedDict's attributes (a state dict's _metadata): kept, never interpreted.
          const attrs = state instanceof PyTuple ? state.items[0] : state;
          if (attrs instanceof PyDict) for (const [k, v] of attrs.entries) if (typeof k === 'string') obj.attrs.set(k, v);
        } else if (typeof obj === 'object' && obj !== null && !Array.isArray(obj) && !(obj instanceof Uint8Array) && !(obj instanceof PyTuple) && obj.kind === 'object' && obj.setState) {
          obj.setState(state);
        } else {
          throw new PickleError(`cannot set the state of ${describe(obj)} (byte ${at})`);
        }
        break;
      }
      case 0x51: stack.push(persistent(pop())); break; // BINPERSID
      case 0x50: stack.push(persistent(line())); break; // PERSID
      case 0x82: case 0x83: case 0x84: // EXT1/2/4: the copyreg extension registry names a global by number
        throw new PickleRefused(`a global from the copyreg extension registry (code ${op === 0x82 ? u8() : op === 0x83 ? u16() : i32()})`, at);
      default:
        throw new PickleError(`unsupported pickle opcode 0x${op.toString(16).padStart(2, '0')} at byte ${at}`);
    }
  }
}
