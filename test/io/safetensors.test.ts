// .safetensors: round trip of every dtype with metadata, the byte layout Python reads (stdlib parser,
// numpy cross-check), a Python-written file read by mimmx, and corrupt or truncated files raising errors
// that name the path.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { loadSafetensors, saveSafetensors } from "../../src/io/safetensors.js";
import type { Tensor } from "../../src/tensor/index.js";
import * as torch from "../../src/tensor/index.js";
import { assertThrowsWith } from "../helpers/assert.js";

const dir = mkdtempSync(join(tmpdir(), "mimmx-safetensors-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const PY = "/usr/bin/python3";
const hasPython = existsSync(PY);
const hasNumpy = hasPython && spawnSync(PY, ["-c", "import numpy"]).status === 0;

function sample(): Map<string, Tensor> {
  return new Map<string, Tensor>([
    [
      "f32",
      torch.tensor([
        [0.5, -1.25, 3.4028234663852886e38],
        [1e-30, 0, -0],
      ]),
    ],
    ["f64", torch.tensor([0.1, -1e-300, Math.PI], { dtype: "float64" })],
    ["i64", torch.tensor([-(2 ** 53) + 1, 0, 2 ** 53 - 1], { dtype: "int64" })],
    ["i32", torch.tensor([[-(2 ** 31)], [2 ** 31 - 1]], { dtype: "int32" })],
    ["flags", torch.tensor([true, false, true])],
    ["u8", torch.tensor([0, 7, 255], { dtype: "uint8" })],
    ["scalar", torch.tensor(2.5)],
    ["empty", torch.zeros([0, 3])],
    ["nested.name.weight", torch.ones([2, 2], { dtype: "float64" })],
  ]);
}

/** Parses a .safetensors file with Python's standard library (and numpy where present): what Python sees. */
const PARSER = `
import json, struct, sys
path = sys.argv[1]
buf = open(path, "rb").read()
(n,) = struct.unpack("<Q", buf[:8])
header = json.loads(buf[8:8 + n].decode("utf-8"))
fmt = {"F32": "f", "F64": "d", "I64": "q", "I32": "i", "U8": "B", "BOOL": "?"}
size = {"F32": 4, "F64": 8, "I64": 8, "I32": 4, "U8": 1, "BOOL": 1}
out = {"__metadata__": header.get("__metadata__"), "aligned": (8 + n) % 8 == 0, "tensors": {}}
for name, e in header.items():
    if name == "__metadata__":
        continue
    b, end = e["data_offsets"]
    raw = buf[8 + n + b: 8 + n + end]
    count = (end - b) // size[e["dtype"]]
    values = list(struct.unpack("<%d%s" % (count, fmt[e["dtype"]]), raw))
    entry = {"dtype": e["dtype"], "shape": e["shape"], "values": [v if isinstance(v, (int, bool)) else repr(v) for v in values]}
    try:
        import numpy as np
        np_dtype = {"F32": "<f4", "F64": "<f8", "I64": "<i8", "I32": "<i4", "U8": "u1", "BOOL": "?"}[e["dtype"]]
        arr = np.frombuffer(raw, dtype=np_dtype).reshape(e["shape"])
        entry["numpy_matches"] = bool((arr.reshape(-1).tolist() == values))
    except ImportError:
        pass
    out["tensors"][name] = entry
print(json.dumps(out))
`;

describe("safetensors round trip", () => {
  it("every dtype, shapes (scalar, empty), and metadata come back identical", () => {
    const path = join(dir, "all.safetensors");
    const src = sample();
    saveSafetensors(path, src, { format: "test", note: 'quotes " and ünïcode' });
    const { tensors, metadata } = loadSafetensors(path);
    assert.deepEqual(metadata, { format: "test", note: 'quotes " and ünïcode' });
    assert.deepEqual([...tensors.keys()].sort(), [...src.keys()].sort());
    for (const [k, t] of src) {
      const back = tensors.get(k)!;
      assert.equal(back.dtype, t.dtype, `${k} dtype`);
      assert.deepEqual(back.shape, t.shape, `${k} shape`);
      assert.deepEqual(back.toArray(), t.toArray(), `${k} values`);
    }
    assert.ok(Object.is(tensors.get("f32")!.toArray()[5], -0), "-0 keeps its sign bit");
    // no temporary file is left behind; saving again overwrites atomically
    saveSafetensors(path, new Map([["only", torch.ones([1])]]));
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.startsWith("all.")),
      ["all.safetensors"],
    );
    const again = loadSafetensors(path);
    assert.deepEqual([...again.tensors.keys()], ["only"]);
    assert.deepEqual(again.metadata, {});
  });
  it("the file layout: u64 header length, sorted JSON header, 8-byte aligned data, contiguous offsets", () => {
    const path = join(dir, "layout.safetensors");
    // a transposed (non-contiguous) tensor is written in its logical row-major order
    const t = torch
      .tensor([
        [1, 2, 3],
        [4, 5, 6],
      ])
      .t();
    saveSafetensors(
      path,
      new Map([
        ["z", torch.tensor([7], { dtype: "int32" })],
        ["a", t],
      ]),
      { k: "v" },
    );
    const buf = readFileSync(path);
    const n = Number(buf.readBigUInt64LE(0));
    assert.equal((8 + n) % 8, 0);
    const header = JSON.parse(buf.subarray(8, 8 + n).toString("utf8"));
    assert.deepEqual(header.__metadata__, { k: "v" });
    assert.deepEqual(header.a, { dtype: "F32", shape: [3, 2], data_offsets: [0, 24] });
    assert.deepEqual(header.z, { dtype: "I32", shape: [1], data_offsets: [24, 28] });
    assert.equal(buf.length, 8 + n + 28);
    const data = new Float32Array(buf.buffer.slice(buf.byteOffset + 8 + n, buf.byteOffset + 8 + n + 24));
    assert.deepEqual(Array.from(data), [1, 4, 2, 5, 3, 6]);
  });
});

describe("safetensors and Python", () => {
  it("a file written by mimmx is read by Python (stdlib json+struct, numpy cross-check)", {
    skip: hasNumpy ? false : `${PY} with numpy is not available: cannot cross-check the file from Python`,
  }, () => {
    const path = join(dir, "for-python.safetensors");
    const src = sample();
    saveSafetensors(path, src, { epoch: "3" });
    const r = spawnSync(PY, ["-c", PARSER, path], { encoding: "utf8" });
    assert.equal(r.status, 0, `python failed: ${r.stderr}`);
    const parsed = JSON.parse(r.stdout) as {
      __metadata__: Record<string, string>;
      aligned: boolean;
      tensors: Record<
        string,
        { dtype: string; shape: number[]; values: (string | number | boolean)[]; numpy_matches?: boolean }
      >;
    };
    assert.deepEqual(parsed.__metadata__, { epoch: "3" });
    assert.equal(parsed.aligned, true);
    const codes: Record<string, string> = {
      float32: "F32",
      float64: "F64",
      int64: "I64",
      int32: "I32",
      bool: "BOOL",
      uint8: "U8",
    };
    for (const [k, t] of src) {
      const p = parsed.tensors[k];
      assert.ok(p, `Python does not see ${k}`);
      assert.equal(p.dtype, codes[t.dtype], `${k} dtype`);
      assert.deepEqual(p.shape, t.shape, `${k} shape`);
      const values = p.values.map((v) => (typeof v === "string" ? Number(v) : Number(v)));
      assert.deepEqual(values, t.toArray(), `${k} values as Python reads them`);
      assert.equal(p.numpy_matches, true, `${k}: numpy.frombuffer disagrees`);
    }
  });
  it("a file written by Python (stdlib) is read by mimmx", {
    skip: hasPython ? false : `${PY} is not available`,
  }, () => {
    const path = join(dir, "from-python.safetensors");
    const writer = `
import json, struct, sys
w = struct.pack("<6f", 1.5, -2, 0.25, 3, 4, 5)
i = struct.pack("<2q", -7, 9)
b = bytes([1, 0, 1, 1])
header = {"w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},
          "i": {"dtype": "I64", "shape": [2], "data_offsets": [24, 40]},
          "b": {"dtype": "BOOL", "shape": [2, 2], "data_offsets": [40, 44]},
          "__metadata__": {"framework": "python"}}
h = json.dumps(header).encode()
open(sys.argv[1], "wb").write(struct.pack("<Q", len(h)) + h + w + i + b)
`;
    const r = spawnSync(PY, ["-c", writer, path], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const { tensors, metadata } = loadSafetensors(path);
    assert.deepEqual(metadata, { framework: "python" });
    assert.deepEqual(tensors.get("w")!.shape, [2, 3]);
    assert.deepEqual(tensors.get("w")!.toArray(), [1.5, -2, 0.25, 3, 4, 5]);
    assert.equal(tensors.get("i")!.dtype, "int64");
    assert.deepEqual(tensors.get("i")!.toArray(), [-7, 9]);
    assert.equal(tensors.get("b")!.dtype, "bool");
    assert.deepEqual(tensors.get("b")!.toArray(), [1, 0, 1, 1]);
  });
});

describe("corrupt and truncated files", () => {
  const good = join(dir, "good.safetensors");
  saveSafetensors(good, new Map([["w", torch.tensor([1, 2, 3, 4])]]), { a: "b" });
  const bytes = readFileSync(good);
  const n = Number(bytes.readBigUInt64LE(0));
  function withHeader(name: string, header: unknown, data = Buffer.alloc(16)): string {
    const h = Buffer.from(JSON.stringify(header));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(h.length));
    const path = join(dir, name);
    writeFileSync(path, Buffer.concat([len, h, data]));
    return path;
  }
  function raw(name: string, data: Uint8Array | string): string {
    const path = join(dir, name);
    writeFileSync(path, data);
    return path;
  }
  const cases: [string, () => string, (string | RegExp)[]][] = [
    ["a missing file", () => join(dir, "nope.safetensors"), ["nope.safetensors"]],
    ["an empty file", () => raw("empty.safetensors", ""), ["empty.safetensors", "8-byte"]],
    [
      "a header length past the end",
      () => raw("long.safetensors", bytes.subarray(0, 8 + n - 3)),
      ["long.safetensors", "exceeds the file size"],
    ],
    [
      "truncated tensor data",
      () => raw("trunc.safetensors", bytes.subarray(0, bytes.length - 4)),
      ["trunc.safetensors", "tensor w", "truncated"],
    ],
    [
      "a header that is not JSON",
      () => {
        const b = Buffer.from(bytes);
        b.write("}", 8);
        return raw("json.safetensors", b);
      },
      ["json.safetensors", "not JSON"],
    ],
    [
      "an unsupported dtype",
      () => withHeader("f16.safetensors", { w: { dtype: "F16", shape: [2], data_offsets: [0, 4] } }),
      ["f16.safetensors", "F16"],
    ],
    [
      "a byte range that does not fit the shape",
      () => withHeader("range.safetensors", { w: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }),
      ["range.safetensors", "tensor w", "[3]"],
    ],
    [
      "an entry without data_offsets",
      () => withHeader("nooffsets.safetensors", { w: { dtype: "F32", shape: [2] } }),
      ["nooffsets.safetensors", "tensor w"],
    ],
    [
      "an entry without a shape",
      () => withHeader("noshape.safetensors", { w: { dtype: "F32", data_offsets: [0, 4] } }),
      ["noshape.safetensors", "tensor w"],
    ],
    [
      "a negative offset",
      () => withHeader("negative.safetensors", { w: { dtype: "F32", shape: [1], data_offsets: [-4, 0] } }),
      ["negative.safetensors", "tensor w"],
    ],
    ["a header that is JSON null", () => withHeader("null.safetensors", null), ["null.safetensors"]],
  ];
  for (const [what, make, fragments] of cases) {
    it(`${what} raises an Error naming the path`, () => {
      const path = make();
      assertThrowsWith(() => loadSafetensors(path), fragments, what);
    });
  }
  it("writing into a missing folder raises naming the path", () => {
    assertThrowsWith(
      () => saveSafetensors(join(dir, "no", "such", "x.safetensors"), new Map()),
      ["x.safetensors"],
    );
  });
});
