// The locked bus against a real nats-server with Castellan's own configuration: what each identity
// may not do fails with a permission violation from the server, and what its job needs still works.
import { connect as connectSocket } from 'node:net';
import type { Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { readFile } from 'node:fs/promises';
import { ModuleStore } from '@castellan/module-store';
import { Bucket, Subject, evaluationSubject, evaluatorKey, policyKey } from '@castellan/proto';
import type { BusIdentity } from '@castellan/proto';
import { Kvm } from '@nats-io/kv';
import type { KV } from '@nats-io/kv';
import { PermissionViolationError, credsAuthenticator } from '@nats-io/nats-core';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openKvBucket } from '@castellan/service-host';
import { startNatsServer } from '../harness/nats.js';
import type { NatsServer } from '../harness/nats.js';

const GATEWAY: BusIdentity = { role: 'gateway' };
const FETCHER: BusIdentity = { role: 'fetcher' };
const CONTROL: BusIdentity = { role: 'control' };
const POOL_A: BusIdentity = { role: 'evaluator', pool: 'tenant-a' };
const POOL_B: BusIdentity = { role: 'evaluator', pool: 'tenant-b' };
const VIOLATION_WITHIN_MS = 3_000;

/** Resolves with the permission violation the server reports for `subject` on `nc`. */
function violationOn(nc: NatsConnection, subject: string): Promise<PermissionViolationError> {
  const statuses = nc.status()[Symbol.asyncIterator]();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void statuses.return?.();
      reject(new Error(`no permission violation for ${subject} within ${VIOLATION_WITHIN_MS} ms`));
    }, VIOLATION_WITHIN_MS);
    void (async () => {
      for (let next = await statuses.next(); !next.done; next = await statuses.next()) {
        const { value: status } = next;
        if (status.type !== 'error' || !(status.error instanceof PermissionViolationError)) continue;
        if (status.error.subject !== subject) continue;
        clearTimeout(timer);
        void statuses.return?.();
        resolve(status.error);
        return;
      }
    })();
  });
}

/** Publishes, and resolves with the server's refusal (a publish itself never fails on the client). */
function refusedPublish(nc: NatsConnection, subject: string): Promise<PermissionViolationError> {
  const refusal = violationOn(nc, subject);
  nc.publish(subject, 'forged');
  return refusal;
}

/** Subscribes, and resolves with what ended the subscription: the server's refusal, if refused. */
async function subscriptionEnd(nc: NatsConnection, subject: string, queue?: string): Promise<unknown> {
  const subscription = nc.subscribe(subject, queue ? { queue } : {});
  return subscription.closed;
}

describe('the locked bus (real nats-server, Castellan credentials)', () => {
  let nats: NatsServer;
  const connections = new Map<string, NatsConnection>();
  const as = async (identity: BusIdentity): Promise<NatsConnection> => {
    const key = JSON.stringify(identity);
    let nc = connections.get(key);
    if (!nc) {
      nc = await nats.connect(identity);
      connections.set(key, nc);
    }
    return nc;
  };
  let policiesOfControl: KV;

  beforeAll(async () => {
    nats = await startNatsServer();
    policiesOfControl = await new Kvm(await as(CONTROL)).create(Bucket.Policies);
    await new Kvm(await as(CONTROL)).create(Bucket.Evaluators);
    await policiesOfControl.put(policyKey('tenant-a', 'p'), 'config of tenant-a');
    await policiesOfControl.put(policyKey('tenant-b', 'p'), 'config of tenant-b');
    await ModuleStore.open(await as(FETCHER));
  });

  afterAll(async () => {
    await Promise.all([...connections.values()].map((nc) => nc.close()));
    await nats?.stop();
  });

  describe('connecting', () => {
    it('refuses a client without credentials', async () => {
      await expect(connect({ servers: nats.url, tls: { caFile: nats.caFile } })).rejects.toThrow(
        /Authorization Violation/,
      );
    });

    it('refuses credentials not signed by the bus authority', async () => {
      const other = await startNatsServer();
      try {
        await expect(
          connect({
            servers: nats.url,
            tls: { caFile: nats.caFile },
            authenticator: credsAuthenticator(await readFile(await other.credentials(GATEWAY))),
          }),
        ).rejects.toThrow(/Authorization Violation/);
      } finally {
        await other.stop();
      }
    });

    it('refuses a client that does not speak TLS', async () => {
      const { info, socket } = await openPlain(nats.port);
      expect(info).toMatchObject({ tls_required: true });
      const { answer, closed } = await exchange(socket, 'CONNECT {"verbose":false}\r\nPING\r\n');
      expect(answer).not.toMatch(/PONG/);
      expect(closed).toBe(true);
      socket.destroy();
    });

    it('speaks TLS 1.2 or 1.3, with AEAD suites only', async () => {
      const ca = await readFile(nats.caFile, 'utf8');
      const handshake = async (options: {
        minVersion?: 'TLSv1.1';
        maxVersion: 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
        ciphers?: string;
      }) => {
        const { socket } = await openPlain(nats.port);
        return new Promise<string>((resolve) => {
          const secure = connectTls({ socket, ca, servername: 'localhost', ...options }, () => {
            resolve(`${secure.getProtocol()} ${secure.getCipher().name}`);
            secure.destroy();
          });
          secure.on('error', (error: Error) => resolve(`refused: ${error.message}`));
        });
      };
      expect(await handshake({ maxVersion: 'TLSv1.3' })).toMatch(/^TLSv1\.3 /);
      expect(await handshake({ maxVersion: 'TLSv1.2' })).toMatch(/^TLSv1\.2 .*(GCM|CHACHA20)/);
      expect(await handshake({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA' })).toMatch(
        /^refused: .*handshake failure/,
      );
      // The client offers TLS 1.1 (at OpenSSL's lowest security level): the server says no.
      expect(
        await handshake({ minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }),
      ).toMatch(/^refused: .*protocol version/);
    });
  });

  describe('the gateway', () => {
    it('sends evaluations and reads every route', async () => {
      const gateway = await as(GATEWAY);
      // No evaluator listens here: the server says so, which it would not for a forbidden subject.
      await expect(
        gateway.request(evaluationSubject('tenant-a', 'p', 1), 'x', { timeout: 2000 }),
      ).rejects.toThrow(/no responders/);
      const routes = await openKvBucket(gateway, Bucket.Policies, 1, 'reader');
      expect((await routes.get(policyKey('tenant-b', 'p')))?.string()).toBe('config of tenant-b');
    });

    it('cannot take evaluations, answer them, or write policies', async () => {
      const gateway = await as(GATEWAY);
      expect(await subscriptionEnd(gateway, 'castellan.eval.>')).toBeInstanceOf(PermissionViolationError);
      expect(await subscriptionEnd(gateway, 'castellan.eval.tenant-a.>', 'tenant-a')).toBeInstanceOf(
        PermissionViolationError,
      );
      expect(await refusedPublish(gateway, '_INBOX.evaluator.tenant-a.reply')).toBeInstanceOf(
        PermissionViolationError,
      );
      expect(await refusedPublish(gateway, `$KV.${Bucket.Policies}.tenant-a.p`)).toBeInstanceOf(
        PermissionViolationError,
      );
      expect(await refusedPublish(gateway, Subject.Fetch)).toBeInstanceOf(PermissionViolationError);
    });
  });

  describe('an evaluator of one pool', () => {
    it("takes its pool's evaluations in its queue group, reads its policies, writes its status", async () => {
      const evaluator = await as(POOL_A);
      const taken = evaluator.subscribe(evaluationSubject('tenant-a', 'p', 1), { queue: 'tenant-a' });
      const answered = (async () => {
        for await (const message of taken) message.respond(new TextEncoder().encode('verdict'));
      })();
      await evaluator.flush();
      const reply = await (await as(GATEWAY)).request(evaluationSubject('tenant-a', 'p', 1), 'review');
      expect(reply.string()).toBe('verdict');
      taken.unsubscribe();
      await answered;

      const policies = await openKvBucket(evaluator, Bucket.Policies, 1, 'reader');
      expect((await policies.get(policyKey('tenant-a', 'p')))?.string()).toBe('config of tenant-a');
      const statuses = await new Kvm(evaluator).create(Bucket.Evaluators);
      expect(await statuses.put(evaluatorKey('tenant-a', 'e1'), 'alive')).toBeGreaterThan(0);
    });

    it("cannot see, answer, read or write another pool's evaluations, policies or statuses", async () => {
      const evaluator = await as(POOL_A);
      expect(await subscriptionEnd(evaluator, 'castellan.eval.tenant-b.>', 'tenant-b')).toBeInstanceOf(
        PermissionViolationError,
      );
      expect(await subscriptionEnd(evaluator, 'castellan.eval.>')).toBeInstanceOf(PermissionViolationError);
      // Outside its queue group it could watch every request of its pool unseen.
      expect(await subscriptionEnd(evaluator, 'castellan.eval.tenant-a.>')).toBeInstanceOf(
        PermissionViolationError,
      );
      expect(await subscriptionEnd(evaluator, '_INBOX.gateway.>')).toBeInstanceOf(PermissionViolationError);
      expect(await refusedPublish(evaluator, '_INBOX.gateway.forged')).toBeInstanceOf(
        PermissionViolationError,
      );

      const policies = await openKvBucket(evaluator, Bucket.Policies, 1, 'reader');
      await expect(policies.get(policyKey('tenant-b', 'p'))).rejects.toThrow(/Permissions Violation/);
      await expect(policies.watch({ key: 'tenant-b.>' })).rejects.toThrow(/Permissions Violation/);
      await expect(policies.put(policyKey('tenant-a', 'p'), 'accept-all')).rejects.toThrow(
        /Permissions Violation/,
      );
      const statuses = await new Kvm(evaluator).open(Bucket.Evaluators);
      await expect(statuses.put(evaluatorKey('tenant-b', 'e1'), 'forged')).rejects.toThrow(
        /Permissions Violation/,
      );
      expect(await refusedPublish(evaluator, `$O.${Bucket.Modules}.C.forged`)).toBeInstanceOf(
        PermissionViolationError,
      );
    });

    it('answers only the requests it received: one reply each', async () => {
      const evaluator = await as(POOL_B);
      const taken = evaluator.subscribe(evaluationSubject('tenant-b', 'p', 1), { queue: 'tenant-b', max: 1 });
      await evaluator.flush();
      const gateway = await as(GATEWAY);
      const request = gateway.request(evaluationSubject('tenant-b', 'p', 1), 'review', { timeout: 2000 });
      for await (const message of taken) {
        message.respond(new TextEncoder().encode('first'));
        // A second reply to the same request is not a response any more.
        const second = violationOn(evaluator, message.reply ?? '');
        message.respond(new TextEncoder().encode('second'));
        expect(await second).toBeInstanceOf(PermissionViolationError);
      }
      expect((await request).string()).toBe('first');
    });
  });

  describe('the fetcher', () => {
    it('answers fetch requests and owns the module store, but sees no evaluation and writes no policy', async () => {
      const fetcher = await as(FETCHER);
      const taken = fetcher.subscribe(Subject.Fetch, { queue: 'fetchers', max: 1 });
      const answered = (async () => {
        for await (const message of taken) message.respond(new TextEncoder().encode('fetched'));
      })();
      await fetcher.flush();
      expect((await (await as(CONTROL)).request(Subject.Fetch, 'url')).string()).toBe('fetched');
      await answered;
      const store = await ModuleStore.open(fetcher);
      expect(await store.stat('0'.repeat(64))).toBeUndefined();

      expect(await subscriptionEnd(fetcher, 'castellan.eval.>')).toBeInstanceOf(PermissionViolationError);
      expect(await refusedPublish(fetcher, `$KV.${Bucket.Policies}.tenant-a.p`)).toBeInstanceOf(
        PermissionViolationError,
      );
    });
  });

  describe('the control plane', () => {
    it('writes policies but neither sees evaluations nor sends them, nor writes modules', async () => {
      const control = await as(CONTROL);
      expect(await policiesOfControl.put(policyKey('tenant-a', 'q'), 'config')).toBeGreaterThan(0);
      expect(await subscriptionEnd(control, 'castellan.eval.>')).toBeInstanceOf(PermissionViolationError);
      expect(await refusedPublish(control, evaluationSubject('tenant-a', 'p', 1))).toBeInstanceOf(
        PermissionViolationError,
      );
      expect(await refusedPublish(control, `$O.${Bucket.Modules}.C.forged`)).toBeInstanceOf(
        PermissionViolationError,
      );
      expect(await subscriptionEnd(control, '_INBOX.gateway.>')).toBeInstanceOf(PermissionViolationError);
    });
  });
});

/** A plain TCP connection to a NATS port, with the INFO the server greets every client with. */
async function openPlain(port: number): Promise<{ info: Record<string, unknown>; socket: Socket }> {
  const socket = connectSocket({ host: '127.0.0.1', port });
  const line = await new Promise<string>((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer) => {
      text += chunk.toString('utf8');
      const end = text.indexOf('\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      resolve(text.slice(0, end));
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
  return { info: JSON.parse(line.replace(/^INFO /, '')) as Record<string, unknown>, socket };
}

/** Writes `text`; what the server sends back until it closes the connection, or 3 s pass. */
function exchange(socket: Socket, text: string): Promise<{ answer: string; closed: boolean }> {
  return new Promise((resolve) => {
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('utf8')));
    const timer = setTimeout(() => resolve({ answer, closed: false }), 3000);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve({ answer, closed: true });
    });
    socket.write(text);
  });
}
