import {
  Bucket,
  decodeEvaluationReply,
  encodeEvaluationRequest,
  evaluationSubject,
  policyKey,
} from '@castellan/proto';
import { Objm } from '@nats-io/obj';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '@castellan/proto';
import { annotatedPolicyBytes, podRequest, policyBytes } from '../../../test/fixtures/index.js';
import { EvaluatorErrorCode } from '../src/index.js';
import {
  hasNoResponders,
  json,
  podReview,
  policyConfig,
  putPolicy,
  readStatus,
  send,
  sleep,
  startEvaluator,
  startTestNats,
  verdict,
  waitFor,
  waitForServed,
} from './helpers.js';
import type { StartedEvaluator, TestNats } from './helpers.js';

const POOL = 'solo';

describe('one evaluator against a real nats-server -js', () => {
  let nats: TestNats;
  let evaluator: StartedEvaluator;
  let id: string;
  let privilegedRevision: number;
  const target = (policyId: string, revision: number) => ({ pool: POOL, policyId, revision });
  /** The status once a policy that failed to load is reported failed no more. */
  const loadedOnRetry = (policyId: string) =>
    waitFor(`${policyId} loads on retry`, async () => {
      const status = await readStatus(nats, POOL, id);
      return status && status.failed[policyId] === undefined ? status : undefined;
    });

  beforeAll(async () => {
    nats = await startTestNats(['accept', 'pod-privileged', 'required-labels', 'endless-loop']);
    // Written before the evaluator starts: `ready` covers it.
    privilegedRevision = await putPolicy(
      nats,
      policyConfig(POOL, 'privileged', nats.modules['pod-privileged']!),
    );
    evaluator = await startEvaluator(nats, POOL, { workers: 2 });
    id = evaluator.service.evaluatorId;
  });

  afterAll(async () => {
    await evaluator?.service.stop();
    await nats?.close();
  });

  it('serves the policies present at start once ready, and reports them', async () => {
    const status = await readStatus(nats, POOL, id);
    expect(status).toMatchObject({
      evaluatorId: id,
      pool: POOL,
      heartbeatIntervalMs: 200,
      loaded: { privileged: privilegedRevision },
      failed: {},
      draining: false,
    });
    expect(id).toMatch(/^test-host-\d+-[0-9a-f]{6}$/);

    const denied = verdict(
      await send(
        nats.nc,
        target('privileged', privilegedRevision),
        podReview('uid-priv', { privileged: true }),
      ),
    );
    expect(denied).toMatchObject({ uid: 'uid-priv', allowed: false });
    expect(denied.status?.message).toBe('Privileged container is not allowed');
    const allowed = verdict(
      await send(nats.nc, target('privileged', privilegedRevision), podReview('uid-ok')),
    );
    expect(allowed).toMatchObject({ uid: 'uid-ok', allowed: true });
  });

  it('keeps the heartbeat going', async () => {
    const first = (await readStatus(nats, POOL, id))!.heartbeat;
    await waitFor('a newer heartbeat', async () => {
      const status = await readStatus(nats, POOL, id);
      return status && status.heartbeat > first ? status : undefined;
    });
  });

  it('answers audit like validate, and validate_raw with the raw request', async () => {
    const revision = await putPolicy(nats, policyConfig(POOL, 'accept-all', nats.modules.accept!));
    await waitForServed(nats, POOL, id, 'accept-all', revision);
    const audit = await send(nats.nc, target('accept-all', revision), podReview('uid-audit'), {
      origin: 'audit',
    });
    expect(verdict(audit)).toMatchObject({ uid: 'uid-audit', allowed: true });
    const raw = await send(
      nats.nc,
      target('accept-all', revision),
      json({ request: { uid: 'raw-uid', anything: [1, 2, 3] } }),
      { origin: 'validate_raw' },
    );
    expect(verdict(raw)).toMatchObject({ uid: 'raw-uid', allowed: true });
  });

  it('denies every request of a policy with invalid settings and reports it, while the others keep answering', async () => {
    const revision = await putPolicy(nats, policyConfig(POOL, 'labels', nats.modules['required-labels']!));
    const status = await waitForServed(nats, POOL, id, 'labels', revision);
    const message = 'Policy settings are invalid: labels must be a list of strings';
    expect(status.failed.labels).toEqual({
      revision,
      error: { code: EvaluatorErrorCode.SettingsInvalid, message },
    });
    for (const uid of ['uid-a', 'uid-b']) {
      const denied = verdict(await send(nats.nc, target('labels', revision), podReview(uid), { uid }));
      expect(denied).toMatchObject({ uid, allowed: false, status: { code: 500, message } });
    }
    const other = verdict(
      await send(nats.nc, target('privileged', privilegedRevision), podReview('uid-p', { privileged: true })),
    );
    expect(other.allowed).toBe(false);
    expect(other.status?.message).toBe('Privileged container is not allowed');
  });

  it('reports a module missing from the store as the failure of that policy only', async () => {
    const missing = 'f'.repeat(64);
    const revision = await putPolicy(nats, policyConfig(POOL, 'ghost', missing));
    const status = await waitForServed(nats, POOL, id, 'ghost', revision);
    expect(status.failed.ghost?.error.code).toBe('CASTELLAN_MODULE_STORE_NOT_FOUND');
    const denied = verdict(
      await send(nats.nc, target('ghost', revision), podReview('uid-g'), { uid: 'uid-g' }),
    );
    expect(denied).toMatchObject({ uid: 'uid-g', allowed: false, status: { code: 500 } });
    expect(denied.status?.message).toContain(missing);
    expect(denied.status?.message).toContain('fetch it first');
    expect(status.loaded.privileged).toBe(privilegedRevision);
    expect(status.failed.privileged).toBeUndefined();
  });

  it('loads a revision again once its module reaches the store, without a new revision', async () => {
    const bytes = await annotatedPolicyBytes('add-label');
    const sha256 = sha256Hex(bytes);
    const revision = await putPolicy(nats, policyConfig(POOL, 'late', sha256));
    const failed = await waitForServed(nats, POOL, id, 'late', revision);
    expect(failed.failed.late?.error.code).toBe('CASTELLAN_MODULE_STORE_NOT_FOUND');

    await nats.store.put(bytes);
    const healed = await loadedOnRetry('late');
    expect(healed.loaded.late).toBe(revision);
    const reply = verdict(await send(nats.nc, target('late', revision), podReview('uid-late')));
    expect(reply).toMatchObject({ uid: 'uid-late', allowed: true, patchType: 'JSONPatch' });
  });

  it('loads a revision again once a corrupt module is stored again, without a new revision, never serving the wrong bytes', async () => {
    const good = await annotatedPolicyBytes('echo-response');
    const sha256 = sha256Hex(good);
    const wrong = await annotatedPolicyBytes('accept');
    // Bytes the fetcher's store never writes: another module, under this one's name.
    const fetcher = await nats.server.connect({ role: 'fetcher' });
    nats.connections.push(fetcher);
    await (await new Objm(fetcher).open(Bucket.Modules)).putBlob({ name: sha256 }, wrong);
    const response = { accepted: false, message: 'the echo-response module answered' };
    const revision = await putPolicy(nats, policyConfig(POOL, 'echo', sha256, { settings: { response } }));

    const failed = await waitForServed(nats, POOL, id, 'echo', revision);
    expect(failed.failed.echo?.error).toEqual({
      code: 'CASTELLAN_MODULE_STORE_CORRUPT',
      message: `module ${sha256}: the object was written with bytes that hash to ${sha256Hex(wrong)}; fetching its URL again replaces them`,
    });
    // The deny of a module that cannot be read, not the verdict of the bytes stored (accept).
    const denied = verdict(
      await send(nats.nc, target('echo', revision), podReview('uid-c1'), { uid: 'uid-c1' }),
    );
    expect(denied).toEqual({
      uid: 'uid-c1',
      allowed: false,
      status: { code: 500, message: failed.failed.echo?.error.message },
      auditAnnotations: null,
      warnings: null,
    });

    // The test acts as the fetcher fetching the module again: the store replaces the object.
    expect(await nats.store.stat(sha256)).toBeUndefined();
    await nats.store.put(good);
    const healed = await loadedOnRetry('echo');
    expect(healed.loaded.echo).toBe(revision);
    const answered = verdict(await send(nats.nc, target('echo', revision), podReview('uid-c2')));
    expect(answered).toMatchObject({ uid: 'uid-c2', allowed: false, status: { message: response.message } });
  });

  it('refuses a waPC module without a protocol version, as policy-server does', async () => {
    const { sha256 } = await nats.store.put(await policyBytes('accept'));
    const revision = await putPolicy(nats, policyConfig(POOL, 'unannotated', sha256));
    const status = await waitForServed(nats, POOL, id, 'unannotated', revision);
    expect(status.failed.unannotated?.error.code).toBe('CASTELLAN_RUNTIME_PROTOCOL_VERSION_UNSUPPORTED');
  });

  it('serves a settings change on a new revision and retires the old one after the grace period', async () => {
    const sha256 = nats.modules['required-labels']!;
    const first = await putPolicy(nats, policyConfig(POOL, 'team', sha256, { settings: { labels: ['a'] } }));
    await waitForServed(nats, POOL, id, 'team', first);
    const before = verdict(await send(nats.nc, target('team', first), podReview('uid-t1')));
    expect(before.status?.message).toBe('missing required labels: a');

    const second = await putPolicy(
      nats,
      policyConfig(POOL, 'team', sha256, { settings: { labels: ['a', 'b'] } }),
    );
    const status = await waitForServed(nats, POOL, id, 'team', second);
    expect(status.loaded.team).toBe(second);
    expect(status.failed.team).toBeUndefined();
    const after = verdict(
      await send(nats.nc, target('team', second), podReview('uid-t2', { labels: { a: '1' } })),
    );
    expect(after.status?.message).toBe('missing required labels: b');

    await waitFor('the old revision is drained', () =>
      hasNoResponders(nats.nc, target('team', first)).then((gone) => gone || undefined),
    );
    expect(evaluator.service.served().team).toEqual([second]);
  });

  it('answers an endless loop with the timeout deny while another policy keeps answering', async () => {
    const revision = await putPolicy(
      nats,
      policyConfig(POOL, 'loop', nats.modules['endless-loop']!, { timeoutSeconds: 1 }),
    );
    await waitForServed(nats, POOL, id, 'loop', revision);
    const started = Date.now();
    const looping = send(nats.nc, target('loop', revision), podReview('uid-loop'), { uid: 'uid-loop' });
    await sleep(100);
    const other = verdict(await send(nats.nc, target('privileged', privilegedRevision), podReview('uid-x')));
    expect(other.allowed).toBe(true);
    expect(Date.now() - started).toBeLessThan(900);

    const timedOut = verdict(await looping);
    expect(timedOut).toMatchObject({
      uid: 'uid-loop',
      allowed: false,
      status: {
        code: 500,
        message: 'Policy execution interrupted because it exceeded the allowed execution time',
      },
    });
    const again = verdict(await send(nats.nc, target('privileged', privilegedRevision), podReview('uid-y')));
    expect(again.allowed).toBe(true);
  });

  it('answers a malformed envelope, a bad body and a passed deadline with errors, and keeps serving', async () => {
    const privileged = target('privileged', privilegedRevision);
    const subject = evaluationSubject(POOL, 'privileged', privilegedRevision);
    const garbage = decodeEvaluationReply((await nats.nc.request(subject, new Uint8Array([1, 2, 3]))).data);
    expect(garbage).toMatchObject({ ok: false, error: { code: 'CASTELLAN_PROTO_MESSAGE_INVALID' } });

    const errorCode = async (body: Uint8Array, options: Parameters<typeof send>[3] = {}) => {
      const reply = await send(nats.nc, privileged, body, options);
      return reply.ok ? 'ok' : reply.error.code;
    };
    expect(await errorCode(new TextEncoder().encode('{"request": '))).toBe(EvaluatorErrorCode.BodyInvalid);
    expect(await errorCode(json([1, 2]))).toBe(EvaluatorErrorCode.BodyInvalid);
    expect(await errorCode(json({ request: { uid: 'x' } }))).toBe('CASTELLAN_RUNTIME_REQUEST_INVALID');
    expect(await errorCode(podReview('late'), { deadline: Date.now() - 1 })).toBe(
      EvaluatorErrorCode.DeadlinePassed,
    );
    const misrouted = await nats.nc.request(
      subject,
      encodeEvaluationRequest({
        policyId: 'someone-else',
        revision: privilegedRevision,
        origin: 'validate',
        body: podReview('m'),
        uid: 'm',
        deadline: Date.now() + 5_000,
      }),
    );
    expect(decodeEvaluationReply(misrouted.data)).toMatchObject({
      ok: false,
      error: { code: EvaluatorErrorCode.RequestMisrouted },
    });

    expect(await errorCode(podReview('fine'))).toBe('ok');
  });

  it('denies a request nested 100,000 levels deep, policy or group, instead of an error the gateway would answer by failure policy, and keeps serving', async () => {
    // failurePolicy Ignore: were the evaluator to answer with an error, the gateway would admit it.
    const ignore = { failurePolicy: 'Ignore' } as const;
    const policy = await putPolicy(nats, policyConfig(POOL, 'deep', nats.modules['pod-privileged']!, ignore));
    const group = await putPolicy(
      nats,
      policyConfig(POOL, 'deep-group', '', {
        ...ignore,
        module: undefined,
        group: {
          expression: 'unprivileged()',
          message: 'pods must be unprivileged',
          members: {
            unprivileged: {
              settings: {},
              timeoutSeconds: 2,
              contextAwareResources: [],
              module: { url: 'registry://example.test/p:v1', sha256: nats.modules['pod-privileged']! },
            },
          },
        },
      }),
    );
    await waitForServed(nats, POOL, id, 'deep', policy);
    await waitForServed(nats, POOL, id, 'deep-group', group);

    const levels = 100_000;
    const nested = {
      arrays: '['.repeat(levels) + ']'.repeat(levels),
      objects: '{"a":'.repeat(levels) + '1' + '}'.repeat(levels),
    };
    // The nested value becomes request.object; the pod moves to a field the runtime ignores.
    const review = (uid: string, object: string) =>
      new TextEncoder().encode(
        JSON.stringify({
          apiVersion: 'admission.k8s.io/v1',
          kind: 'AdmissionReview',
          request: podRequest({ uid }),
        }).replace('"object":{', `"object":${object},"unused":{`),
      );
    const tooDeep = `its JSON nests ${levels + 2} levels deep, too deep to hand to a policy`;
    for (const [shape, object] of Object.entries(nested)) {
      for (const origin of ['validate', 'audit', 'validate_raw'] as const) {
        const uid = `deep-${shape}-${origin}`;
        const reply = verdict(
          await send(nats.nc, target('deep', policy), review(uid, object), { uid, origin }),
        );
        expect(reply).toMatchObject({
          uid,
          allowed: false,
          status: { code: 500, message: `policy deep could not evaluate the request: ${tooDeep}` },
        });
      }
      const uid = `deep-${shape}-group`;
      const grouped = verdict(await send(nats.nc, target('deep-group', group), review(uid, object), { uid }));
      expect(grouped).toMatchObject({
        uid,
        allowed: false,
        status: {
          code: 500,
          message: `error evaluating policy group expression: policy deep-group/unprivileged could not evaluate the request: ${tooDeep}`,
        },
      });
    }

    const privileged = verdict(
      await send(nats.nc, target('deep', policy), podReview('uid-after', { privileged: true })),
    );
    expect(privileged).toMatchObject({
      uid: 'uid-after',
      allowed: false,
      status: { message: 'Privileged container is not allowed' },
    });
    const fine = verdict(
      await send(nats.nc, target('deep-group', group), podReview('uid-fine'), { uid: 'uid-fine' }),
    );
    expect(fine).toMatchObject({ uid: 'uid-fine', allowed: true });
  });

  it('serves a deleted policy for the grace period, then drains it and drops it from the status', async () => {
    const revision = (await readStatus(nats, POOL, id))!.loaded['accept-all']!;
    await nats.policies.delete(policyKey(POOL, 'accept-all'));
    await waitFor('the deleted policy is drained', () =>
      hasNoResponders(nats.nc, target('accept-all', revision)).then((gone) => gone || undefined),
    );
    const status = await waitFor('the status drops the deleted policy', async () => {
      const current = await readStatus(nats, POOL, id);
      return current && current.loaded['accept-all'] === undefined ? current : undefined;
    });
    expect(status.loaded.privileged).toBe(privilegedRevision);
  });

  it('stops gracefully: reports draining, answers the request in flight, removes its status', async () => {
    const pool = 'closing';
    const revision = await putPolicy(
      nats,
      policyConfig(pool, 'slow', nats.modules['endless-loop']!, { timeoutSeconds: 1 }),
    );
    const closing = await startEvaluator(nats, pool);
    const closingId = closing.service.evaluatorId;
    expect((await readStatus(nats, pool, closingId))?.loaded.slow).toBe(revision);

    const inFlight = send(nats.nc, { pool, policyId: 'slow', revision }, podReview('uid-slow'), {
      uid: 'uid-slow',
    });
    await sleep(150);
    const stopped = closing.service.stop();
    const reply = verdict(await inFlight);
    expect(reply).toMatchObject({ uid: 'uid-slow', allowed: false, status: { code: 500 } });
    await stopped;
    expect(await readStatus(nats, pool, closingId)).toBeUndefined();
    expect(await hasNoResponders(nats.nc, { pool, policyId: 'slow', revision })).toBe(true);
  });
});
