// The first connection to a locked nats-server: refused credentials are reported with their reason
// and asked again, and credentials replaced on disk (a rotation) are taken at the next attempt.
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNatsServer } from '../../../test/harness/nats.js';
import type { NatsServer } from '../../../test/harness/nats.js';
import { busConnectionOptions, connectToBus } from '../src/bus-connection.js';

describe('connectToBus (real locked nats-server)', () => {
  let nats: NatsServer;
  let stranger: NatsServer;
  let dir: string;

  beforeAll(async () => {
    [nats, stranger] = await Promise.all([startNatsServer(), startNatsServer()]);
    dir = await mkdtemp(join(tmpdir(), 'castellan-bus-connection-'));
  });

  afterAll(async () => {
    await Promise.all([nats?.stop(), stranger?.stop()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('says why each attempt failed, and connects once the credentials on disk are good', async () => {
    const identity = { role: 'gateway' } as const;
    const credentials = join(dir, 'gateway.creds');
    // Credentials of another bus authority: this server refuses them.
    await copyFile(await stranger.credentials(identity), credentials);
    const failures: string[] = [];
    const connecting = connectToBus(
      busConnectionOptions(
        { natsUrl: nats.url, natsCredentialsFile: credentials, natsCaFile: nats.caFile },
        identity,
      ),
      (reason) => failures.push(reason),
    );
    await expect.poll(() => failures.length, { timeout: 5_000 }).toBeGreaterThanOrEqual(2);
    expect(failures.every((reason) => /Authorization Violation/.test(reason))).toBe(true);

    await copyFile(await nats.credentials(identity), credentials);
    const nc = await connecting;
    expect(nc.isClosed()).toBe(false);
    await nc.close();
  });
});
