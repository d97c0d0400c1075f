import { test } from "node:test";
import assert from "node:assert/strict";
import { PickleDict, PickleGlobal, PickleTuple, unpickle, type PickleHooks } from "../../src/formats/pickle.js";

/** Hooks that allow only `collections.OrderedDict` and record every call made. */
function hooks(calls: string[]): PickleHooks {
  return {
    allowGlobal: (m, n) => `${m}.${n}` === "collections.OrderedDict",
    reduce: (fn: PickleGlobal) => {
      calls.push(fn.qualified);
      return new PickleDict();
    },
    persistentLoad: (pid) => {
      calls.push("persid");
      return pid;
    },
  };
}

const bytes = (...parts: Array<number[] | string>) => new Uint8Array(parts.flatMap((p) => (typeof p === "string" ? [...Buffer.from(p, "latin1")] : p)));

test("unpickle: protocol-2 containers, ints, strings and memo decode to plain values", () => {
  // {"a": (1, -2, 300), "b": [None, True], "c": 2**40}
  const p = bytes([0x80, 2, 0x7d, 0x71, 0, 0x28], "X", [1, 0, 0, 0], "a", [0x4b, 1, 0x4a, 0xfe, 0xff, 0xff, 0xff, 0x4d, 0x2c, 1, 0x87], "X", [1, 0, 0, 0], "b", [0x5d, 0x28, 0x4e, 0x88, 0x65], "X", [1, 0, 0, 0], "c", [0x8a, 6, 0, 0, 0, 0, 0, 1], [0x75, 0x2e]);
  const d = unpickle(p, hooks([]), "t") as PickleDict;
  assert.ok(d instanceof PickleDict);
  assert.deepEqual((d.map.get("a") as PickleTuple).items, [1, -2, 300]);
  assert.deepEqual(d.map.get("b"), [null, true]);
  assert.equal(d.map.get("c"), 2 ** 40);
});

test("unpickle: a global outside the allow-list is refused at GLOBAL / STACK_GLOBAL, before REDUCE, naming it", () => {
  const calls: string[] = [];
  const system = bytes([0x80, 2], "cos\nsystem\n", "X", [2, 0, 0, 0], "ls", [0x85, 0x52, 0x2e]);
  assert.throws(() => unpickle(system, hooks(calls), "f.bin"), /^Error: f\.bin: refusing the global os\.system/);
  const stackGlobal = bytes([0x80, 4, 0x8c, 8], "builtins", [0x8c, 4], "eval", [0x93, 0x2e]);
  assert.throws(() => unpickle(stackGlobal, hooks(calls), "f.bin"), /refusing the global builtins\.eval/);
  assert.deepEqual(calls, []);
});

test("unpickle: object-creating and unknown opcodes are refused; malformed streams fail cleanly", () => {
  const h = hooks([]);
  assert.throws(() => unpickle(bytes([0x80, 2], "ccollections\nOrderedDict\n", [0x29, 0x81, 0x2e]), h, "t"), /refusing pickle opcode NEWOBJ/);
  assert.throws(() => unpickle(bytes("(ios\nsystem\n."), h, "t"), /refusing pickle opcode INST/);
  assert.throws(() => unpickle(bytes([0x80, 2, 0x46]), h, "t"), /unsupported pickle opcode 0x46/);
  assert.throws(() => unpickle(bytes([0x80, 2, 0x58, 9, 0, 0, 0, 0x61]), h, "t"), /truncated pickle/);
  assert.throws(() => unpickle(bytes([0x80, 2, 0x7d]), h, "t"), /truncated pickle/);
  assert.throws(() => unpickle(bytes([0x80, 2, 0x68, 5, 0x2e]), h, "t"), /memo entry 5 is not defined/);
  assert.throws(() => unpickle(bytes([0x80, 2, 0x30, 0x2e]), h, "t"), /stack underflow/);
  // REDUCE of something that is not an allowed global (a string) never calls anything.
  const calls: string[] = [];
  assert.throws(() => unpickle(bytes([0x80, 2, 0x58, 1, 0, 0, 0, 0x61, 0x29, 0x52, 0x2e]), hooks(calls), "t"), /REDUCE calls a str/);
  assert.deepEqual(calls, []);
});
