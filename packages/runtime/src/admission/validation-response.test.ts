import { describe, expect, it } from 'vitest';
import { parseSettingsValidationResponse, parseValidationResponse } from './validation-response.js';
import type { ValidationResponseParse } from './validation-response.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

function failureOf(parse: ValidationResponseParse): string {
  if (parse.ok) throw new Error('expected the reply to be refused');
  return parse.error;
}

describe('parseValidationResponse', () => {
  it('reads a full reply from bytes', () => {
    const parse = parseValidationResponse(
      bytes(
        '{"accepted":false,"message":"why","code":403,"mutated_object":{"a":1},' +
          '"audit_annotations":{"k":"v"},"warnings":["w"]}',
      ),
    );
    expect(parse).toEqual({
      ok: true,
      response: {
        accepted: false,
        message: 'why',
        code: 403,
        mutated_object: { a: 1 },
        audit_annotations: { k: 'v' },
        warnings: ['w'],
      },
    });
  });

  it('treats null optional fields as absent, mutated_object included', () => {
    const parse = parseValidationResponse(
      '{"accepted":true,"message":null,"code":null,"mutated_object":null,"audit_annotations":null,"warnings":null}',
    );
    expect(parse).toEqual({ ok: true, response: { accepted: true } });
  });

  it('ignores unknown fields', () => {
    expect(parseValidationResponse('{"accepted":true,"extra":{"x":[1]},"Accepted":"no"}')).toEqual({
      ok: true,
      response: { accepted: true },
    });
  });

  it('keeps code 0 and an empty message, which are present values', () => {
    expect(parseValidationResponse('{"accepted":false,"code":0,"message":""}')).toEqual({
      ok: true,
      response: { accepted: false, code: 0, message: '' },
    });
  });

  it.each([
    ['{"message":"no verdict"}', 'missing field `accepted`'],
    ['{"accepted":"true"}', 'invalid type: string "true", expected a boolean'],
    ['{"accepted":null}', 'invalid type: null, expected a boolean'],
    ['{"accepted":false,"code":70000}', 'invalid value: integer `70000`, expected u16'],
    ['{"accepted":false,"code":-1}', 'invalid value: integer `-1`, expected u16'],
    ['{"accepted":false,"code":403.0}', 'invalid type: floating point `403.0`, expected u16'],
    ['{"accepted":false,"code":4.03e2}', 'invalid type: floating point `403.0`, expected u16'],
    ['{"accepted":false,"code":"403"}', 'invalid type: string "403", expected u16'],
    ['{"accepted":false,"message":42}', 'invalid type: integer `42`, expected a string'],
    ['{"accepted":true,"warnings":"careful"}', 'invalid type: string "careful", expected a sequence'],
    ['{"accepted":true,"warnings":["ok",null]}', 'invalid type: null, expected a string'],
    ['{"accepted":true,"audit_annotations":{"k":1}}', 'invalid type: integer `1`, expected a string'],
    ['{"accepted":true,"accepted":false}', 'duplicate field `accepted`'],
    ['[true]', 'invalid type: sequence, expected struct ValidationResponse'],
    ['"yes"', 'invalid type: string "yes", expected struct ValidationResponse'],
    ['12.0', 'invalid type: floating point `12.0`, expected struct ValidationResponse'],
  ])('refuses %s: %s', (reply, description) => {
    expect(failureOf(parseValidationResponse(reply))).toBe(`invalid response from policy: ${description}`);
  });

  it('refuses text that is not JSON, with the parser message', () => {
    expect(failureOf(parseValidationResponse('{"accepted":true'))).toMatch(
      /^invalid response from policy: .+/,
    );
    expect(failureOf(parseValidationResponse(''))).toMatch(/^invalid response from policy: .+/);
  });

  it('refuses invalid UTF-8 and a byte-order mark', () => {
    expect(failureOf(parseValidationResponse(Uint8Array.of(0x7b, 0x22, 0xc3, 0x22, 0x3a, 0x31, 0x7d)))).toBe(
      'invalid response from policy: invalid unicode code point',
    );
    const withBom = Uint8Array.of(0xef, 0xbb, 0xbf, ...bytes('{"accepted":true}'));
    expect(parseValidationResponse(withBom).ok).toBe(false);
  });

  it('builds the rejection of an unparsable validation response for the request uid', () => {
    const parse = parseValidationResponse('{"accepted":1}');
    expect(parse.ok).toBe(false);
    if (parse.ok) return;
    expect(parse.rejection('uid-7')).toEqual({
      uid: 'uid-7',
      allowed: false,
      status: {
        message:
          'internal server error: invalid response from policy: invalid type: integer `1`, expected a boolean',
        code: 500,
      },
      auditAnnotations: null,
      warnings: null,
    });
  });

  it('starts the error with the given context, as WASI replies need', () => {
    expect(
      failureOf(parseValidationResponse('nope', 'Cannot deserialize policy validation response')),
    ).toMatch(/^Cannot deserialize policy validation response: /);
  });
});

describe('parseSettingsValidationResponse', () => {
  it('reads valid and invalid verdicts', () => {
    expect(parseSettingsValidationResponse(bytes('{"valid":true}'))).toEqual({ valid: true });
    expect(parseSettingsValidationResponse('{"valid":false,"message":"bad","extra":1}')).toEqual({
      valid: false,
      message: 'bad',
    });
    expect(parseSettingsValidationResponse('{"valid":true,"message":null}')).toEqual({ valid: true });
  });

  it('turns an unparsable reply into an invalid verdict with "error: <details>"', () => {
    expect(parseSettingsValidationResponse('{"message":"x"}')).toEqual({
      valid: false,
      message: 'error: missing field `valid`',
    });
    expect(parseSettingsValidationResponse('{"valid":"yes"}')).toEqual({
      valid: false,
      message: 'error: invalid type: string "yes", expected a boolean',
    });
    expect(parseSettingsValidationResponse('{"valid":true,"valid":true}')).toEqual({
      valid: false,
      message: 'error: duplicate field `valid`',
    });
    expect(parseSettingsValidationResponse('not json')).toMatchObject({
      valid: false,
      message: /^error: .+/,
    });
  });

  it('starts the message with the given context, as WASI replies need', () => {
    expect(parseSettingsValidationResponse('[]', 'Cannot deserialize settings validation response')).toEqual({
      valid: false,
      message:
        'Cannot deserialize settings validation response: invalid type: sequence, expected struct SettingsValidationResponse',
    });
  });
});
