import { describe, expect, it } from 'vitest';
import { decodeJsonText, topLevelMemberTexts } from './json-text.js';

describe('decodeJsonText', () => {
  it('decodes UTF-8 bytes and passes text through', () => {
    expect(decodeJsonText(new TextEncoder().encode('{"message":"café"}'))).toBe('{"message":"café"}');
    expect(decodeJsonText('{"a":1}')).toBe('{"a":1}');
  });

  it('rejects invalid UTF-8 instead of substituting U+FFFD', () => {
    expect(() => decodeJsonText(Uint8Array.of(0x22, 0xff, 0x22))).toThrow(TypeError);
  });

  it('keeps a byte-order mark, which serde_json refuses, so that parsing fails', () => {
    const text = decodeJsonText(Uint8Array.of(0xef, 0xbb, 0xbf, 0x7b, 0x7d));
    expect(text.charCodeAt(0)).toBe(0xfeff);
    expect(() => JSON.parse(text) as unknown).toThrow(SyntaxError);
  });
});

describe('topLevelMemberTexts', () => {
  it('lists members in document order with the source text of each value', () => {
    const text = ' {\n "accepted" : true,\t"code":403.0, "warnings":["a","b"], "message":null } ';
    expect(topLevelMemberTexts(text)).toEqual([
      { key: 'accepted', raw: 'true' },
      { key: 'code', raw: '403.0' },
      { key: 'warnings', raw: '["a","b"]' },
      { key: 'message', raw: 'null' },
    ]);
  });

  it('keeps repeated keys, which JSON.parse collapses', () => {
    expect(topLevelMemberTexts('{"accepted":true,"accepted":false}').map(({ key }) => key)).toEqual([
      'accepted',
      'accepted',
    ]);
  });

  it('skips over nested containers and strings holding brackets, quotes and escapes', () => {
    const text = String.raw`{"mutated_object":{"a":["}",{"b":"\"]"}],"c":"\\"},"accepted":false}`;
    const members = topLevelMemberTexts(text);
    expect(members.map(({ key }) => key)).toEqual(['mutated_object', 'accepted']);
    expect(JSON.parse(members[0]?.raw ?? '')).toEqual({ a: ['}', { b: '"]' }], c: '\\' });
  });

  it('unescapes keys', () => {
    expect(topLevelMemberTexts(String.raw`{"acc\u0065pted":1}`)).toEqual([{ key: 'accepted', raw: '1' }]);
  });

  it('reads an empty object', () => {
    expect(topLevelMemberTexts('{ }')).toEqual([]);
  });
});
