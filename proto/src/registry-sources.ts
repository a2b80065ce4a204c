import type { FieldReader } from './codec.js';

/**
 * The part of Kubewarden's `sources.yml` a fetch needs, in a form that travels in a message:
 * hosts (`host[:port]`) that may fall back to unverified TLS then plain HTTP, and extra CA
 * certificates (PEM) per host.
 */
export interface RegistrySources {
  insecureSources: string[];
  sourceAuthorities: Record<string, string[]>;
}

export function readRegistrySources(reader: FieldReader): RegistrySources {
  const authorities = reader.object('sourceAuthorities');
  const sourceAuthorities: Record<string, string[]> = {};
  for (const host of authorities.keys()) sourceAuthorities[host] = authorities.stringList(host);
  return { insecureSources: reader.stringList('insecureSources'), sourceAuthorities };
}
