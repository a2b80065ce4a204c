import { describe, expect, it, vi } from 'vitest';
import { createRegoBuiltins, missingRegoBuiltins, regoBuiltins, SUPPORTED_REGO_BUILTINS } from './index.js';

describe('Rego builtins', () => {
  it('lists exactly the host builtins of Kubewarden', () => {
    expect([...SUPPORTED_REGO_BUILTINS].sort()).toEqual(
      [
        'base64url.encode_no_pad',
        'glob.quote_meta',
        'hex.decode',
        'hex.encode',
        'json.is_valid',
        'json.patch',
        'regex.find_n',
        'regex.split',
        'regex.template_match',
        'semver.compare',
        'semver.is_valid',
        'sprintf',
        'time.date',
        'time.now_ns',
        'time.parse_rfc3339_ns',
        'trace',
        'urlquery.decode',
        'urlquery.decode_object',
        'urlquery.encode',
        'urlquery.encode_object',
        'yaml.is_valid',
        'yaml.marshal',
        'yaml.unmarshal',
      ].sort(),
    );
    expect(Object.keys(regoBuiltins).sort()).toEqual([...SUPPORTED_REGO_BUILTINS].sort());
  });

  it('routes trace messages to the given sink', () => {
    const onTrace = vi.fn();
    expect(createRegoBuiltins({ onTrace }).trace('hello')).toBeNull();
    expect(onTrace).toHaveBeenCalledWith('hello');
    expect(regoBuiltins.trace('ignored')).toBeNull();
  });

  it('wires each name to its implementation', () => {
    expect(regoBuiltins.sprintf('%v-%v', ['a', 1])).toBe('a-1');
    expect(regoBuiltins['hex.encode']('hi')).toBe('6869');
    expect(regoBuiltins['semver.compare']('1.0.0', '2.0.0')).toBe(-1);
  });

  it('reports the builtins a policy needs beyond them, sorted and once each', () => {
    expect(
      missingRegoBuiltins([
        'sprintf',
        'http.send',
        'time.date',
        'crypto.x509.parse_certificates',
        'http.send',
      ]),
    ).toEqual(['crypto.x509.parse_certificates', 'http.send']);
    expect(missingRegoBuiltins([...SUPPORTED_REGO_BUILTINS])).toEqual([]);
  });
});
