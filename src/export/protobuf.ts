// A minimal protocol-buffers writer: just what encoding ONNX models needs (varints, 32-bit floats,
// length-delimited bytes/strings/sub-messages, packed repeated scalars). Wire format per the public
// protobuf encoding spec: a key is (field << 3) | wireType, varints are little-endian base-128.

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

const utf8 = new TextEncoder();

/** Appends protobuf fields to a growing byte buffer; `finish()` returns the encoded message. */
export class ProtoWriter {
  private buf = new Uint8Array(256);
  private len = 0;

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
  private byte(b: number): void {
    this.reserve(1);
    this.buf[this.len++] = b;
  }
  private bytesRaw(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  /**
   * Writes an unsigned or two's-complement varint. Negative numbers take 10 bytes, as protobuf's
   * int32/int64 encoding requires. Accepts any safe integer or a bigint.
   */
  varintRaw(value: number | bigint): void {
    let v = typeof value === "bigint" ? value : BigInt(checkInteger(value));
    if (v < 0n) v = BigInt.asUintN(64, v);
    if (v > 0xffff_ffff_ffff_ffffn) throw new Error(`protobuf: varint ${value} does not fit 64 bits`);
    // Fast path for small values avoids bigint arithmetic per byte.
    if (v < 0x8000_0000n) {
      let n = Number(v);
      while (n >= 0x80) {
        this.byte((n & 0x7f) | 0x80);
        n >>>= 7;
      }
      this.byte(n);
      return;
    }
    while (v >= 0x80n) {
      this.byte(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.byte(Number(v));
  }
  private key(field: number, wire: number): void {
    if (!Number.isInteger(field) || field < 1 || field > 0x1fff_ffff)
      throw new Error(`protobuf: bad field number ${field}`);
    this.varintRaw(field * 8 + wire);
  }

  /** int32, int64, uint64, enum, bool fields. */
  varint(field: number, value: number | bigint | boolean): this {
    this.key(field, WIRE_VARINT);
    this.varintRaw(typeof value === "boolean" ? (value ? 1 : 0) : value);
    return this;
  }
  /** A 32-bit IEEE float field. */
  float(field: number, value: number): this {
    this.key(field, WIRE_I32);
    this.reserve(4);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.len, 4).setFloat32(0, value, true);
    this.len += 4;
    return this;
  }
  /** A length-delimited field holding raw bytes (bytes fields, encoded sub-messages). */
  bytes(field: number, value: Uint8Array): this {
    this.key(field, WIRE_LEN);
    this.varintRaw(value.length);
    this.bytesRaw(value);
    return this;
  }
  string(field: number, value: string): this {
    return this.bytes(field, utf8.encode(value));
  }
  /** An embedded message, built by `build` on a fresh writer. */
  message(field: number, build: (w: ProtoWriter) => void): this {
    const w = new ProtoWriter();
    build(w);
    return this.bytes(field, w.finish());
  }
  /** A packed repeated varint field (repeated int64 / int32 / enum). Nothing is written when empty. */
  packedVarints(field: number, values: readonly (number | bigint)[]): this {
    if (values.length === 0) return this;
    const w = new ProtoWriter();
    for (const v of values) w.varintRaw(v);
    return this.bytes(field, w.finish());
  }
  /** A packed repeated float field. Nothing is written when empty. */
  packedFloats(field: number, values: ArrayLike<number>): this {
    if (values.length === 0) return this;
    const data = new Uint8Array(values.length * 4);
    const view = new DataView(data.buffer);
    for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
    return this.bytes(field, data);
  }

  get length(): number {
    return this.len;
  }
  /** The encoded bytes (a copy; the writer may keep being used). */
  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

function checkInteger(v: number): number {
  if (!Number.isSafeInteger(v)) throw new Error(`protobuf: varint value ${v} is not a safe integer`);
  return v;
}
