// A small JSON DOM for test policies: parse UTF-8/UTF-16 text into JSONValue trees,
// edit them, and serialise them back. Objects keep key order, so a re-serialised
// document reads like the input (useful when a test compares a mutated object).

export enum JSONKind {
  Null,
  Bool,
  Number,
  String,
  Array,
  Object,
}

export class JSONValue {
  kind: JSONKind;
  boolValue: bool = false;
  // String contents, or a number's source text (kept verbatim so numbers round-trip exactly).
  text: string = '';
  // Array elements, or object member values (parallel to `keys`).
  items: JSONValue[] | null = null;
  keys: string[] | null = null;

  constructor(kind: JSONKind) {
    this.kind = kind;
    if (kind == JSONKind.Array || kind == JSONKind.Object) this.items = [];
    if (kind == JSONKind.Object) this.keys = [];
  }

  static newNull(): JSONValue {
    return new JSONValue(JSONKind.Null);
  }
  static fromBool(b: bool): JSONValue {
    const v = new JSONValue(JSONKind.Bool);
    v.boolValue = b;
    return v;
  }
  static fromInt(n: i64): JSONValue {
    const v = new JSONValue(JSONKind.Number);
    v.text = n.toString();
    return v;
  }
  static fromString(s: string): JSONValue {
    const v = new JSONValue(JSONKind.String);
    v.text = s;
    return v;
  }
  static newArray(): JSONValue {
    return new JSONValue(JSONKind.Array);
  }
  static newObject(): JSONValue {
    return new JSONValue(JSONKind.Object);
  }

  get isNull(): bool {
    return this.kind == JSONKind.Null;
  }
  get isBool(): bool {
    return this.kind == JSONKind.Bool;
  }
  get isNumber(): bool {
    return this.kind == JSONKind.Number;
  }
  get isString(): bool {
    return this.kind == JSONKind.String;
  }
  get isArray(): bool {
    return this.kind == JSONKind.Array;
  }
  get isObject(): bool {
    return this.kind == JSONKind.Object;
  }
  /** True only for the JSON literal `true`. */
  get isTrue(): bool {
    return this.kind == JSONKind.Bool && this.boolValue;
  }
  get number(): f64 {
    return this.kind == JSONKind.Number ? parseFloat(this.text) : 0;
  }

  /** Number of array elements or object members; 0 for scalars. */
  get length(): i32 {
    const items = this.items;
    return items == null ? 0 : items.length;
  }
  /** Array element or object member value by position. */
  at(i: i32): JSONValue {
    return (<JSONValue[]>this.items)[i];
  }
  /** Object member name by position. */
  keyAt(i: i32): string {
    return (<string[]>this.keys)[i];
  }

  /** Member `key` of an object; null when absent or when this is not an object. */
  get(key: string): JSONValue | null {
    const keys = this.keys;
    if (keys == null) return null;
    const i = keys.indexOf(key);
    return i < 0 ? null : this.at(i);
  }
  has(key: string): bool {
    return this.get(key) != null;
  }
  /** Member `key` when it is a JSON string, else null. */
  getString(key: string): string | null {
    const v = this.get(key);
    return v != null && v.isString ? v.text : null;
  }
  /** Follows a chain of object keys; null as soon as one is missing. */
  path(keys: string[]): JSONValue | null {
    let cur: JSONValue | null = this;
    for (let i = 0; i < keys.length && cur != null; i++) cur = cur.get(keys[i]);
    return cur;
  }

  /** Sets (or replaces) an object member. Returns this for chaining. */
  set(key: string, value: JSONValue): JSONValue {
    const keys = <string[]>this.keys;
    const items = <JSONValue[]>this.items;
    const i = keys.indexOf(key);
    if (i < 0) {
      keys.push(key);
      items.push(value);
    } else {
      items[i] = value;
    }
    return this;
  }
  /** Appends an array element. Returns this for chaining. */
  push(value: JSONValue): JSONValue {
    (<JSONValue[]>this.items).push(value);
    return this;
  }

  /** Serialises to compact JSON text. */
  stringify(): string {
    const out = new Array<string>();
    writeValue(this, out);
    return out.join('');
  }
  /** Serialises to UTF-8 bytes. */
  toUTF8(nullTerminated: bool = false): ArrayBuffer {
    return String.UTF8.encode(this.stringify(), nullTerminated);
  }
}

/** Parses JSON text; null when it is not exactly one well-formed JSON value. */
export function parseJSON(text: string): JSONValue | null {
  const p = new Parser(text);
  const v = p.value(0);
  if (v == null) return null;
  p.skipWhitespace();
  return p.pos == text.length ? v : null;
}

/** Parses UTF-8 JSON bytes at [ptr, ptr+len). */
export function parseJSONBytes(ptr: usize, len: usize): JSONValue | null {
  return parseJSON(String.UTF8.decodeUnsafe(ptr, len));
}

export function parseJSONBuffer(buf: ArrayBuffer): JSONValue | null {
  return parseJSON(String.UTF8.decode(buf));
}

// Deep enough for any Kubernetes object; stops hostile input from exhausting the Wasm stack.
const MAX_DEPTH = 512;

class Parser {
  src: string;
  pos: i32 = 0;

  constructor(src: string) {
    this.src = src;
  }

  peek(): i32 {
    return this.pos < this.src.length ? this.src.charCodeAt(this.pos) : -1;
  }

  skipWhitespace(): void {
    while (true) {
      const c = this.peek();
      if (c != 0x20 && c != 0x0a && c != 0x0d && c != 0x09) return;
      this.pos++;
    }
  }

  literal(word: string): bool {
    if (this.src.substring(this.pos, this.pos + word.length) != word) return false;
    this.pos += word.length;
    return true;
  }

  value(depth: i32): JSONValue | null {
    if (depth > MAX_DEPTH) return null;
    this.skipWhitespace();
    const c = this.peek();
    if (c == 0x7b) return this.object(depth); // {
    if (c == 0x5b) return this.array(depth); // [
    if (c == 0x22) {
      const s = this.string();
      return s == null ? null : JSONValue.fromString(s);
    }
    if (c == 0x74) return this.literal('true') ? JSONValue.fromBool(true) : null;
    if (c == 0x66) return this.literal('false') ? JSONValue.fromBool(false) : null;
    if (c == 0x6e) return this.literal('null') ? JSONValue.newNull() : null;
    if (c == 0x2d || isDigit(c)) return this.number();
    return null;
  }

  object(depth: i32): JSONValue | null {
    const obj = JSONValue.newObject();
    this.pos++; // {
    this.skipWhitespace();
    if (this.peek() == 0x7d) {
      this.pos++;
      return obj;
    }
    while (true) {
      this.skipWhitespace();
      if (this.peek() != 0x22) return null;
      const key = this.string();
      if (key == null) return null;
      this.skipWhitespace();
      if (this.peek() != 0x3a) return null; // :
      this.pos++;
      const v = this.value(depth + 1);
      if (v == null) return null;
      obj.set(key, v); // a duplicate key keeps the last value, as JSON.parse does
      this.skipWhitespace();
      const c = this.peek();
      this.pos++;
      if (c == 0x7d) return obj; // }
      if (c != 0x2c) return null; // ,
    }
  }

  array(depth: i32): JSONValue | null {
    const arr = JSONValue.newArray();
    this.pos++; // [
    this.skipWhitespace();
    if (this.peek() == 0x5d) {
      this.pos++;
      return arr;
    }
    while (true) {
      const v = this.value(depth + 1);
      if (v == null) return null;
      arr.push(v);
      this.skipWhitespace();
      const c = this.peek();
      this.pos++;
      if (c == 0x5d) return arr; // ]
      if (c != 0x2c) return null; // ,
    }
  }

  // Called with pos on the opening quote; returns the decoded contents.
  string(): string | null {
    const src = this.src;
    this.pos++;
    let start = this.pos;
    let parts: string[] | null = null; // only allocated once an escape shows up
    while (true) {
      if (this.pos >= src.length) return null;
      const c = src.charCodeAt(this.pos);
      if (c == 0x22) {
        const tail = src.substring(start, this.pos);
        this.pos++;
        if (parts == null) return tail;
        parts.push(tail);
        return parts.join('');
      }
      if (c < 0x20) return null; // raw control characters are not allowed in JSON strings
      if (c != 0x5c) {
        this.pos++;
        continue;
      }
      if (parts == null) parts = new Array<string>();
      parts.push(src.substring(start, this.pos));
      this.pos++; // backslash
      const e = this.peek();
      this.pos++;
      if (e == 0x22) parts.push('"');
      else if (e == 0x5c) parts.push('\\');
      else if (e == 0x2f) parts.push('/');
      else if (e == 0x62) parts.push('\b');
      else if (e == 0x66) parts.push('\f');
      else if (e == 0x6e) parts.push('\n');
      else if (e == 0x72) parts.push('\r');
      else if (e == 0x74) parts.push('\t');
      else if (e == 0x75) {
        // \uXXXX is one UTF-16 code unit; surrogate pairs arrive as two escapes and
        // simply concatenate, since AssemblyScript strings are UTF-16 too.
        let code = 0;
        for (let i = 0; i < 4; i++) {
          const h = hexValue(this.peek());
          if (h < 0) return null;
          code = (code << 4) | h;
          this.pos++;
        }
        parts.push(String.fromCharCode(code));
      } else return null;
      start = this.pos;
    }
  }

  // JSON grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
  number(): JSONValue | null {
    const start = this.pos;
    if (this.peek() == 0x2d) this.pos++;
    if (this.peek() == 0x30) this.pos++;
    else if (!this.digits()) return null;
    if (this.peek() == 0x2e) {
      this.pos++;
      if (!this.digits()) return null;
    }
    const e = this.peek();
    if (e == 0x65 || e == 0x45) {
      this.pos++;
      const sign = this.peek();
      if (sign == 0x2b || sign == 0x2d) this.pos++;
      if (!this.digits()) return null;
    }
    const v = new JSONValue(JSONKind.Number);
    v.text = this.src.substring(start, this.pos);
    return v;
  }

  digits(): bool {
    const start = this.pos;
    while (isDigit(this.peek())) this.pos++;
    return this.pos > start;
  }
}

function isDigit(c: i32): bool {
  return c >= 0x30 && c <= 0x39;
}

function hexValue(c: i32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

function writeValue(v: JSONValue, out: string[]): void {
  switch (v.kind) {
    case JSONKind.Null:
      out.push('null');
      break;
    case JSONKind.Bool:
      out.push(v.boolValue ? 'true' : 'false');
      break;
    case JSONKind.Number:
      out.push(v.text);
      break;
    case JSONKind.String:
      writeString(v.text, out);
      break;
    case JSONKind.Array: {
      out.push('[');
      for (let i = 0; i < v.length; i++) {
        if (i > 0) out.push(',');
        writeValue(v.at(i), out);
      }
      out.push(']');
      break;
    }
    default: {
      out.push('{');
      for (let i = 0; i < v.length; i++) {
        if (i > 0) out.push(',');
        writeString(v.keyAt(i), out);
        out.push(':');
        writeValue(v.at(i), out);
      }
      out.push('}');
    }
  }
}

const HEX = '0123456789abcdef';

function writeString(s: string, out: string[]): void {
  out.push('"');
  let start = 0;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    let escape: string | null = null;
    if (c == 0x22) escape = '\\"';
    else if (c == 0x5c) escape = '\\\\';
    else if (c == 0x0a) escape = '\\n';
    else if (c == 0x0d) escape = '\\r';
    else if (c == 0x09) escape = '\\t';
    else if (c == 0x08) escape = '\\b';
    else if (c == 0x0c) escape = '\\f';
    else if (c < 0x20) escape = unicodeEscape(c);
    else if (c >= 0xd800 && c <= 0xdfff) {
      // A well-formed surrogate pair passes through; a lone surrogate cannot be
      // encoded as UTF-8, so it is written as an escape (as JSON.stringify does).
      const next = i + 1 < n ? s.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      escape = unicodeEscape(c);
    }
    if (escape == null) continue;
    if (i > start) out.push(s.substring(start, i));
    out.push(escape);
    start = i + 1;
  }
  if (start < n) out.push(s.substring(start, n));
  out.push('"');
}

function unicodeEscape(c: i32): string {
  return (
    '\\u' +
    HEX.charAt((c >> 12) & 0xf) +
    HEX.charAt((c >> 8) & 0xf) +
    HEX.charAt((c >> 4) & 0xf) +
    HEX.charAt(c & 0xf)
  );
}
