/**
 * The reload-under-load scenario, shared by the in-process test (Gateway.reload) and the end-to-end
 * test (a spawned `portcullis run`, reloaded through the control socket): several keep-alive clients
 * send at least 2000 requests while the configuration is reloaded 5 times — a new origin, an invalid
 * file (rejected), an added listener, a removed listener, another origin. No request may fail.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { freePort, get, writeConfig, type ConfigPlan, type Origin } from './daemon-fixtures.js';

export interface ReloadAnswer {
  readonly ok: boolean;
  readonly errors: readonly string[];
  readonly listenersAdded: readonly string[];
  readonly listenersRemoved: readonly string[];
}

export interface ReloadScenario {
  readonly file: string;
  readonly base: Pick<ConfigPlan, 'socket' | 'logFile' | 'workers'>;
  readonly origins: { readonly A: Origin; readonly B: Origin; readonly C: Origin };
  /** The port the daemon serves on (the first configuration: port → origin A). */
  readonly port: number;
  reload(): Promise<ReloadAnswer>;
}

export const CLIENTS = 8;
export const TARGET_REQUESTS = 2000;

/** Runs the scenario; returns the number of requests sent. The daemon must already serve `port` → A. */
export async function runReloadScenario(s: ReloadScenario): Promise<number> {
  const { file, base, origins, port } = s;
  const port2 = await freePort();
  const seen = new Map<string, number>();
  const failures: string[] = [];
  let done = 0;
  let reloading = true;
  const client = async (n: number) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      while (reloading || done < TARGET_REQUESTS) {
        try {
          const r = await get(port, `/c${n}`, agent);
          if (r.status !== 200) failures.push(`status ${r.status}: ${r.body}`);
          const origin = r.body.split(' ')[0]!;
          seen.set(origin, (seen.get(origin) ?? 0) + 1);
        } catch (err) {
          failures.push((err as Error).message);
        }
        done++;
      }
    } finally {
      agent.destroy();
    }
  };
  const load = Promise.all(Array.from({ length: CLIENTS }, (_, n) => client(n)));
  const pause = () => new Promise((r) => setTimeout(r, 150));
  try {
    await pause();
    writeConfig(file, { ...base, listeners: [{ port, originPort: origins.B.port }] });
    const r1 = await s.reload();
    assert.equal(r1.ok, true, r1.errors.join('\n'));
    await pause();

    writeConfig(file, { ...base, listeners: [{ port, originPort: origins.C.port }], extraGatewayYaml: '  bogusKey: 1\n  limits: { maxHeaderCount: -5 }' });
    const r2 = await s.reload();
    assert.equal(r2.ok, false);
    assert.ok(r2.errors.some((e) => e.includes(`${file}:`) && e.includes('bogusKey')), r2.errors.join('\n'));
    assert.ok(r2.errors.some((e) => e.includes(`${file}:`) && e.includes('maxHeaderCount')), r2.errors.join('\n'));
    assert.equal((await get(port, '/probe')).body, 'B /probe', 'the rejected file did not replace the running one');
    await pause();

    writeConfig(file, { ...base, listeners: [{ port, originPort: origins.B.port }, { port: port2, originPort: origins.C.port }] });
    const r3 = await s.reload();
    assert.equal(r3.ok, true, r3.errors.join('\n'));
    assert.deepEqual(r3.listenersAdded, [`127.0.0.1:${port2}`]);
    assert.equal((await get(port2, '/new')).body, 'C /new');
    await pause();

    writeConfig(file, { ...base, listeners: [{ port, originPort: origins.A.port }] });
    const r4 = await s.reload();
    assert.equal(r4.ok, true, r4.errors.join('\n'));
    assert.deepEqual(r4.listenersRemoved, [`127.0.0.1:${port2}`]);
    await assert.rejects(get(port2, '/gone'), (err: NodeJS.ErrnoException) => err.code === 'ECONNREFUSED');
    await pause();

    writeConfig(file, { ...base, listeners: [{ port, originPort: origins.C.port }] });
    const r5 = await s.reload();
    assert.equal(r5.ok, true, r5.errors.join('\n'));
    await pause();
  } finally {
    reloading = false;
    await load;
  }
  assert.deepEqual(failures, [], `failed requests: ${failures.slice(0, 5).join(' | ')}`);
  assert.ok(done >= TARGET_REQUESTS, `${done} requests`);
  for (const name of ['A', 'B', 'C']) assert.ok((seen.get(name) ?? 0) > 0, `requests reached origin ${name}: ${JSON.stringify([...seen])}`);
  assert.equal((await get(port, '/end')).body, 'C /end');
  return done;
}
