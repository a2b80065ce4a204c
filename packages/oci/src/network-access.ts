import { lookup as dnsLookup } from 'node:dns';
import { lookup as dnsLookupAll } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import type { LookupFunction } from 'node:net';
import { buildConnector } from 'undici';
import { OciError, OciErrorCode } from './errors.js';

/**
 * Where a service asked over the network must not connect on a requester's word (server-side
 * request forgery): its own machine, its link (cloud metadata at 169.254.169.254) and private or
 * cluster-internal networks. IPv4-mapped IPv6 addresses (`::ffff:127.0.0.1`) match the IPv4 ranges.
 */
const RESTRICTED_NETWORKS = [
  '0.0.0.0/8',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '100.64.0.0/10',
  '::/128',
  '::1/128',
  'fe80::/10',
  'fc00::/7',
] as const;

interface Network {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** Why `text` is not a network (`address/prefix`, or a single address), or undefined when it is one. */
export function networkProblem(text: string): string | undefined {
  const parsed = parseNetwork(text);
  return typeof parsed === 'string' ? parsed : undefined;
}

function parseNetwork(text: string): Network | string {
  const [address = '', prefixText, ...rest] = text.split('/');
  const version = isIP(address);
  if (version === 0 || rest.length > 0) return `"${text}" is not an IP address or CIDR network`;
  const bits = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  if (prefixText !== undefined && (!/^\d+$/.test(prefixText) || prefix > bits)) {
    return `"${text}" has an invalid prefix length (0 to ${bits})`;
  }
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

function blockListOf(texts: readonly string[]): BlockList {
  const list = new BlockList();
  for (const text of texts) {
    const network = parseNetwork(text);
    if (typeof network === 'string') {
      throw new OciError(OciErrorCode.NetworkInvalid, `invalid allowed network: ${network}`);
    }
    list.addSubnet(network.address, network.prefix, network.family);
  }
  return list;
}

const restricted = blockListOf(RESTRICTED_NETWORKS);

/**
 * Refuses connections to restricted addresses (loopback, link-local, unspecified, private and
 * cluster-internal ranges) outside the networks explicitly allowed. The check applies to the
 * address actually connected to: IP literals before connecting, host names as they resolve, and
 * so to every redirect too.
 */
export class NetworkAccess {
  readonly #allowed: BlockList;

  /** `allowedNetworks`: CIDR networks (or single addresses) reached although restricted. */
  constructor(allowedNetworks: readonly string[]) {
    this.#allowed = blockListOf(allowedNetworks);
  }

  /** True when `address` (an IP; anything else is false) is restricted and not allowed. */
  isRefused(address: string): boolean {
    const bare = unbracketed(address).replace(/%.*$/, '');
    const version = isIP(bare);
    if (version === 0) return false;
    const family = version === 4 ? 'ipv4' : 'ipv6';
    return restricted.check(bare, family) && !this.#allowed.check(bare, family);
  }

  /**
   * DNS resolution for `net.connect`: a host with any restricted address is refused, so that a
   * name cannot point the connection inward (nor flip between inside and outside).
   */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      const first = addresses?.[0];
      if (error || !first) {
        callback(error, '');
      } else if (addresses.some(({ address }) => this.isRefused(address))) {
        callback(refusal(hostname), '');
      } else if (options.all) {
        callback(null, addresses);
      } else {
        callback(null, first.address, first.family);
      }
    });
  };

  /** An undici connector with `options` that refuses restricted addresses. */
  connector(options: buildConnector.BuildOptions): buildConnector.connector {
    const connect = buildConnector({ ...options, lookup: this.lookup });
    return (target, callback) => {
      // net.connect does not look IP literals up: they are checked here.
      if (this.isRefused(target.hostname)) callback(refusal(target.hostname), null);
      else connect(target, callback);
    };
  }

  /**
   * Checks a host a proxy will connect to for us, as this machine resolves it. A name this machine
   * cannot resolve is left to the proxy (which may well resolve names we cannot).
   */
  async checkProxiedHost(hostname: string): Promise<void> {
    const bare = unbracketed(hostname);
    const addresses =
      isIP(bare) !== 0
        ? [bare]
        : await dnsLookupAll(bare, { all: true }).then(
            (found) => found.map(({ address }) => address),
            () => [],
          );
    if (addresses.some((address) => this.isRefused(address))) throw refusal(hostname);
  }
}

/** `[::1]`, as URLs write IPv6 hosts, → `::1`. */
function unbracketed(host: string): string {
  return host.replace(/^\[(.*)\]$/, '$1');
}

/** One answer whatever the address, so that a refusal does not tell a requester what a name resolves to. */
function refusal(host: string): OciError {
  return new OciError(
    OciErrorCode.AddressNotAllowed,
    `refusing to connect to ${host}: it is or resolves to a loopback, link-local, private or unspecified address, reached only when its network is allowed (the fetcher's CASTELLAN_FETCHER_ALLOWED_NETWORKS)`,
  );
}
