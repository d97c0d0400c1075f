/**
 * A pickle virtual machine that executes nothing: it decodes the opcodes that `torch.save` files
 * use (protocol 2, plus the protocol-4 framing and string opcodes) into plain values, and turns
 * the few callables a tensor rebuild needs into data through an allow-list the caller supplies.
 *
 * Python's unpickler imports any module a GLOBAL names and calls whatever REDUCE is given, so a
 * model file can run `os.system`. Here a GLOBAL outside the allow-list is refused at the opcode
 * that names it, before any REDUCE, with the module and name in the error; allowed globals are
 * only tags that the caller's `reduce` hook interprets. Objects are never constructed from
 * classes (NEWOBJ, INST, OBJ are refused) and BUILD only records state on the caller's values.
 */

/** A Python dict: insertion-ordered, keys are the decoded values (strings, numbers, tuples...). */
export class PickleDict {
  readonly map = new Map<unknown, unknown>();
  /** State set by BUILD (e.g. an OrderedDict's `_metadata`), kept but never interpreted. */
  state: unknown = undefined;
}

/** A Python tuple; a plain array is a Python list. */
export class PickleTuple {
  constructor(readonly items: readonly unknown[]) {}
}

/** A global that the allow-list admitted (`module.name`), as a tag, never imported. */
export class PickleGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}

export interface PickleHooks {
  /** True when `module.name` may appear in the file. */
  allowGlobal(module: string, name: string): boolean;
  /** Apply an allowed global to its arguments (REDUCE). Throw to refuse. */
  reduce(fn: PickleGlobal, args: PickleTuple): unknown;
  /** Resolve a persistent id (BINPERSID), e.g. torch's ("storage", type, key, location, numel). */
  persistentLoad(pid: unknown): unknown;
}

/** Which of the opcodes are known but refused, with the reason. */
const REFUSED: Readonly<Record<number, string>> = {
  0x69: "INST (creates an object of any class)",
  0x6f: "OBJ (creates an object of any class)",
  0x81: "NEWOBJ (creates an object of any class)",
  0x92: "NEWOBJ_EX (creates an object of any class)",
  0x82: "EXT1 (extension registry)",
  0x83: "EXT2 (extension registry)",
  0x84: "EXT4 (extension registry)",
  0x50: "PERSID (text persistent id)",
  0x97: "NEXT_BUFFER (out-of-band buffer)",
  0x98: "READONLY_BUFFER (out-of-band buffer)",
};

/** A short Python-ish name of a decoded value, for error messages. */
export function describePickleValue(v: unknown): string {
  if (v === null) return "None";
  if (typeof v === "boolean") return "a bool";
  if (typeof v === "number" || typeof v === "bigint") return "an int or float";
  if (typeof v === "string") return "a str";
  if (v instanceof Uint8Array) return "bytes";
  if (Array.isArray(v)) return "a list";
  if (v instanceof PickleTuple) return "a tuple";
  if (v instanceof PickleDict) return "a dict";
  if (v instanceof PickleGlobal) return `the global ${v.qualified}`;
  return "an object";
}

const MARK = Symbol("mark");

/**
 * Decode one pickle. `where` prefixes every error (the file and the entry). Throws on any opcode
 * outside the supported set, any refused global, and any malformed or truncated stream.
 */
export function unpickle(bytes: Uint8Array, hooks: PickleHooks, where: string): unknown {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const latin1 = new TextDecoder("latin1");
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  let pos = 0;
  let stack: unknown[] = [];
  const marks: unknown[][] = [];
  const memo = new Map<number, unknown>();

  const fail = (msg: string, at = pos): never => {
    throw new Error(`${where}: ${msg} (at byte ${at})`);
  };
  const need = (n: number): number => {
    if (n < 0 || pos + n > bytes.length) fail(`truncated pickle: ${n} more bytes needed, ${bytes.length - pos} left`);
    const p = pos;
    pos += n;
    return p;
  };
  const u8 = () => bytes[need(1)]!;
  const u16 = () => view.getUint16(need(2), true);
  const u32 = () => view.getUint32(need(4), true);
  const i32 = () => view.getInt32(need(4), true);
  const u64 = () => {
    const v = view.getBigUint64(need(8), true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(`length ${v} too large`);
    return Number(v);
  };
  const raw = (n: number) => bytes.subarray(need(n), pos);
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail("truncated pickle: unterminated text line");
    const s = latin1.decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const text = (n: number): string => {
    const b = raw(n);
    try {
      return utf8.decode(b);
    } catch {
      return fail("string is not valid UTF-8");
    }
  };
  const pop = (): unknown => {
    if (stack.length === 0) fail("pickle stack underflow");
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) fail("pickle stack underflow");
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const items = stack;
    const prev = marks.pop();
    if (prev === undefined) fail("pickle MARK missing");
    stack = prev!;
    return items;
  };
  const global = (module: string, name: string): PickleGlobal => {
    if (!hooks.allowGlobal(module, name)) {
      fail(`refusing the global ${module}.${name}: only the globals of a torch tensor rebuild are allowed, and nothing in the file is executed`);
    }
    return new PickleGlobal(module, name);
  };
  const asDict = (v: unknown, op: string): PickleDict => {
    if (!(v instanceof PickleDict)) fail(`${op} on ${describePickleValue(v)}, not a dict`);
    return v as PickleDict;
  };
  const asList = (v: unknown, op: string): unknown[] => {
    if (!Array.isArray(v)) fail(`${op} on ${describePickleValue(v)}, not a list`);
    return v as unknown[];
  };
  const setItems = (d: PickleDict, kv: unknown[]) => {
    if (kv.length % 2 !== 0) fail("SETITEMS with an odd number of items");
    for (let i = 0; i < kv.length; i += 2) d.map.set(dictKey(kv[i]), kv[i + 1]);
  };
  const dictKey = (k: unknown): unknown => {
    if (typeof k === "string" || typeof k === "number" || typeof k === "bigint" || typeof k === "boolean" || k === null) return k;
    return fail(`dict key is ${describePickleValue(k)}; only str, int and bool keys are supported`);
  };

  for (;;) {
    const at = pos;
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail("unsupported pickle protocol", at);
        break;
      case 0x95: // FRAME: a length prefix only
        u64();
        break;
      case 0x2e: // STOP
        if (marks.length !== 0) fail("MARK left open at STOP", at);
        if (stack.length !== 1) fail(`${stack.length} values on the stack at STOP, expected 1`, at);
        return stack[0];
      case 0x28: // MARK
        marks.push(stack);
        stack = [];
        break;
      case 0x30: // POP
        pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: // LONG1
      case 0x8b: {
        // LONG4: little-endian two's complement of n bytes
        const n = op === 0x8a ? u8() : u32();
        const b = raw(n);
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
        if (n > 0 && b[n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
        stack.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
        break;
      }
      case 0x47: // BINFLOAT: big-endian double
        stack.push(view.getFloat64(need(8), false));
        break;
      case 0x58: // BINUNICODE
        stack.push(text(u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(text(u8()));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(text(u64()));
        break;
      case 0x54: // BINSTRING (Python 2 str)
        stack.push(latin1.decode(raw(i32())));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(latin1.decode(raw(u8())));
        break;
      case 0x42: // BINBYTES
        stack.push(raw(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(raw(u8()).slice());
        break;
      case 0x8e: // BINBYTES8
        stack.push(raw(u64()).slice());
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new PickleDict());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(new PickleTuple([]));
        break;
      case 0x74: {
        // TUPLE (popMark swaps `stack`, so it runs before `stack` is read)
        const t = new PickleTuple(popMark());
        stack.push(t);
        break;
      }
      case 0x85: // TUPLE1
      case 0x86: // TUPLE2
      case 0x87: {
        // TUPLE3
        const n = op - 0x84;
        if (stack.length < n) fail("pickle stack underflow", at);
        stack.push(new PickleTuple(stack.splice(stack.length - n, n)));
        break;
      }
      case 0x6c: {
        // LIST
        const l = popMark();
        stack.push(l);
        break;
      }
      case 0x64: {
        // DICT
        const d = new PickleDict();
        setItems(d, popMark());
        stack.push(d);
        break;
      }
      case 0x61: {
        // APPEND
        const v = pop();
        asList(top(), "APPEND").push(v);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        asList(top(), "APPENDS").push(...items);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        asDict(top(), "SETITEM").map.set(dictKey(k), v);
        break;
      }
      case 0x75: {
        // SETITEMS
        const kv = popMark();
        setItems(asDict(top(), "SETITEMS"), kv);
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        const k = op === 0x68 ? u8() : u32();
        if (!memo.has(k)) fail(`memo entry ${k} is not defined`, at);
        stack.push(memo.get(k));
        break;
      }
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = line();
        stack.push(global(module, line()));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== "string" || typeof name !== "string") fail("STACK_GLOBAL needs two strings", at);
        stack.push(global(module as string, name as string));
        break;
      }
      case 0x52: {
        // REDUCE: callable(*args)
        const args = pop();
        const fn = pop();
        if (!(fn instanceof PickleGlobal)) fail(`REDUCE calls ${describePickleValue(fn)}, not an allowed global`, at);
        if (!(args instanceof PickleTuple)) fail(`REDUCE of ${(fn as PickleGlobal).qualified} with ${describePickleValue(args)} as arguments, not a tuple`, at);
        stack.push(hooks.reduce(fn as PickleGlobal, args as PickleTuple));
        break;
      }
      case 0x62: {
        // BUILD: only dict state on a dict (OrderedDict's attributes) is kept, as data.
        const state = pop();
        const target = top();
        if (!(target instanceof PickleDict)) fail(`BUILD on ${describePickleValue(target)}; only dicts take state here`, at);
        (target as PickleDict).state = state;
        break;
      }
      case 0x51: // BINPERSID
        stack.push(hooks.persistentLoad(pop()));
        break;
      default: {
        const why = REFUSED[op];
        fail(why ? `refusing pickle opcode ${why}` : `unsupported pickle opcode 0x${op.toString(16).padStart(2, "0")}`, at);
      }
    }
  }
}
