/**
 * Reading a policy's JSON reply as serde_json would: strict UTF-8 without a byte-order mark, and access to the
 * source text of each top-level member, which `JSON.parse` hides (duplicate keys, `403.0` versus `403`).
 */

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The text of a reply; throws a `TypeError` on invalid UTF-8. A BOM is kept so that parsing rejects it. */
export function decodeJsonText(reply: Uint8Array | string): string {
  return typeof reply === 'string' ? reply : utf8.decode(reply);
}

/** A top-level member of a JSON object: its unescaped key and the source text of its value. */
export interface MemberText {
  key: string;
  raw: string;
}

/** The members of the top-level object of `text`, in document order. `text` must already be valid JSON. */
export function topLevelMemberTexts(text: string): MemberText[] {
  const members: MemberText[] = [];
  let at = skipWhitespace(text, skipWhitespace(text, 0) + 1);
  if (text[at] === '}') return members;
  for (;;) {
    const keyEnd = endOfString(text, at);
    const key = JSON.parse(text.slice(at, keyEnd)) as string;
    const valueStart = skipWhitespace(text, skipWhitespace(text, keyEnd) + 1);
    const valueEnd = endOfValue(text, valueStart);
    members.push({ key, raw: text.slice(valueStart, valueEnd) });
    at = skipWhitespace(text, valueEnd);
    if (text[at] === '}') return members;
    at = skipWhitespace(text, at + 1);
  }
}

function skipWhitespace(text: string, at: number): number {
  while (at < text.length && ' \t\n\r'.includes(text.charAt(at))) at++;
  return at;
}

/** Index just past the string literal starting at `start` (on its opening quote). */
function endOfString(text: string, start: number): number {
  let at = start + 1;
  while (text[at] !== '"') at += text[at] === '\\' ? 2 : 1;
  return at + 1;
}

function endOfValue(text: string, start: number): number {
  const first = text[start];
  if (first === '"') return endOfString(text, start);
  if (first === '{' || first === '[') return endOfContainer(text, start);
  let at = start;
  while (at < text.length && !',}] \t\n\r'.includes(text.charAt(at))) at++;
  return at;
}

function endOfContainer(text: string, start: number): number {
  let depth = 0;
  let at = start;
  do {
    const char = text[at];
    if (char === '"') {
      at = endOfString(text, at);
      continue;
    }
    if (char === '{' || char === '[') depth++;
    else if (char === '}' || char === ']') depth--;
    at++;
  } while (depth > 0);
  return at;
}
