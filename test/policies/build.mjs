// Builds every test policy, assembly/<name>/index.ts -> build/<name>.wasm, plus the
// malformed-module fixtures. The executionMode in assembly/<name>/metadata.yml picks
// the compiler flags. Go policies, go/<name>/ (a module of its own), are built with
// `go build` for GOOS=wasip1 GOARCH=wasm into build/<name>.wasm too.
//
//   node build.mjs [--force] [name...]    (no names = every policy)
//
// A policy whose .wasm is newer than its sources, lib/ and this script is skipped
// unless --force is given. Compiling runs in worker threads: Binaryen's -O3 pass takes
// most of a second per module, so a cold build is CPU-bound.
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const root = dirname(fileURLToPath(import.meta.url));
const scriptPath = fileURLToPath(import.meta.url);
const execFileAsync = promisify(execFile);

// Flags shared by all modules. The incremental runtime is the only one that neither
// leaks nor crawls (see ENVIRONMENT.md); -O3 keeps a guest call in the microseconds.
const common = ['-O3', '--runtime', 'incremental'];

function flagsFor(mode) {
  switch (mode) {
    case 'kubewarden-wapc':
      // A waPC host provides only `wapc.*` imports, so `abort` must not import env.abort.
      return [...common, '--use', 'abort=assembly/lib/guest/abortGuest'];
    case 'wasi': {
      // The shim's config maps abort/console/process onto WASI and exports _start.
      // npm workspaces hoist it to the repo's node_modules, so resolve it like an import.
      const shim = fileURLToPath(import.meta.resolve('@assemblyscript/wasi-shim/asconfig.json'));
      return [...common, '--config', relative(root, shim)];
    }
    case 'opa':
    case 'gatekeeper':
      // OPA ABI: the host owns the memory, and the heap must be a bump allocator whose
      // pointer the host reads and rewinds, which is what the `stub` runtime is.
      return [
        '-O3',
        '--runtime',
        'stub',
        '--importMemory',
        '--noExportMemory',
        '--use',
        'abort=assembly/lib/rego/abortRego',
      ];
    default:
      throw new Error(`unknown executionMode "${mode}"`);
  }
}

async function executionMode(dir) {
  const metadata = await readFile(join(dir, 'metadata.yml'), 'utf8');
  return /^executionMode:\s*([\w-]+)/m.exec(metadata)?.[1] ?? 'kubewarden-wapc';
}

async function compile(name) {
  const { default: asc } = await import('assemblyscript/asc');
  const mode = await executionMode(join(root, 'assembly', name));
  // Paths stay relative to this directory: asc joins a config's `lib` path onto its
  // baseDir even when that path is absolute.
  const args = [`assembly/${name}/index.ts`, '-o', `build/${name}.wasm`, ...flagsFor(mode)];
  const { error, stderr } = await asc.main(args);
  if (error) throw new Error(`${error.message}\n${stderr.toString()}`);
  return mode;
}

if (!isMainThread) {
  // Worker: compile the policies it was handed, one message per outcome.
  for (const name of workerData) {
    try {
      parentPort.postMessage({ name, mode: await compile(name) });
    } catch (err) {
      parentPort.postMessage({ name, error: err instanceof Error ? err.message : String(err) });
    }
  }
} else {
  await main();
}

async function main() {
  process.chdir(root); // workers share the process's working directory
  const args = process.argv.slice(2);
  const force = args.includes('--force');
  const wanted = args.filter((a) => a !== '--force');
  const names =
    wanted.length > 0
      ? wanted
      : [...(await policyNames()), ...(await goPolicyNames()), ...(await watPolicyNames())];
  await mkdir(join(root, 'build'), { recursive: true });
  await writeBrokenModules();

  const started = performance.now();
  const stale = [];
  const staleGo = [];
  const staleWat = [];
  for (const name of names) {
    if (isGoPolicy(name)) {
      if (force || !(await isUpToDate(name, [join(root, 'go', name)]))) staleGo.push(name);
      continue;
    }
    if (isWatPolicy(name)) {
      if (force || !(await isUpToDate(name, [join(root, 'wat', name)]))) staleWat.push(name);
      continue;
    }
    if (!existsSync(join(root, 'assembly', name, 'index.ts')))
      throw new Error(`no policy assembly/${name}/index.ts, go/${name}/go.mod or wat/${name}/module.wat`);
    const inputs = [join(root, 'assembly', 'lib'), join(root, 'assembly', name)];
    if (force || !(await isUpToDate(name, inputs))) stale.push(name);
  }
  // `go build` is parallel on its own, so Go policies build one at a time beside the workers.
  const [assemblyResults, goResults, watResults] = await Promise.all([
    compileInWorkers(stale),
    buildGoPolicies(staleGo),
    assembleWatPolicies(staleWat),
  ]);
  const results = [...assemblyResults, ...goResults, ...watResults].sort((a, b) =>
    a.name.localeCompare(b.name),
  );
  const failures = results.filter((r) => r.error !== undefined);
  for (const r of results) {
    if (r.error === undefined) console.log(`built build/${r.name}.wasm (${r.mode})`);
    else console.error(`FAILED ${r.name}: ${r.error}`);
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const built = results.length - failures.length;
  console.log(
    `${built} built, ${failures.length} failed, ${names.length - results.length} up to date, in ${seconds} s`,
  );
  if (failures.length > 0) {
    console.error(`${failures.length} policy build(s) failed: ${failures.map((f) => f.name).join(', ')}`);
    process.exit(1);
  }
}

async function policyNames() {
  const entries = await readdir(join(root, 'assembly'), { withFileTypes: true });
  return entries
    .filter((e) => e.isDirectory() && existsSync(join(root, 'assembly', e.name, 'index.ts')))
    .map((e) => e.name)
    .sort();
}

function isGoPolicy(name) {
  return existsSync(join(root, 'go', name, 'go.mod'));
}

async function goPolicyNames() {
  if (!existsSync(join(root, 'go'))) return [];
  const entries = await readdir(join(root, 'go'), { withFileTypes: true });
  return entries
    .filter((e) => e.isDirectory() && isGoPolicy(e.name))
    .map((e) => e.name)
    .sort();
}

function isWatPolicy(name) {
  return existsSync(join(root, 'wat', name, 'module.wat'));
}

async function watPolicyNames() {
  const entries = await readdir(join(root, 'wat'), { withFileTypes: true });
  return entries
    .filter((e) => e.isDirectory() && isWatPolicy(e.name))
    .map((e) => e.name)
    .sort();
}

/**
 * Modules written in the WebAssembly text format, for proposals no compiler here emits (typed
 * function references): assembled by Binaryen, which assemblyscript brings, with reference types
 * and GC (which carries function references) enabled.
 */
async function assembleWatPolicies(names) {
  if (names.length === 0) return [];
  const { default: binaryen } = await import('binaryen');
  const results = [];
  for (const name of names) {
    const module = binaryen.parseText(await readFile(join(root, 'wat', name, 'module.wat'), 'utf8'));
    try {
      module.setFeatures(binaryen.Features.ReferenceTypes | binaryen.Features.GC);
      if (!module.validate()) throw new Error('Binaryen found the module invalid (its errors are above)');
      await writeFile(join(root, 'build', `${name}.wasm`), module.emitBinary());
      results.push({ name, mode: `${await executionMode(join(root, 'wat', name))}, WAT` });
    } catch (err) {
      results.push({ name, error: err instanceof Error ? err.message : String(err) });
    } finally {
      module.dispose();
    }
  }
  return results;
}

async function newestMtime(dir) {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, (await stat(join(entry.parentPath, entry.name))).mtimeMs);
  }
  return newest;
}

/** Whether build/<name>.wasm is newer than this script and every file under `dirs`. */
async function isUpToDate(name, dirs) {
  const out = join(root, 'build', `${name}.wasm`);
  if (!existsSync(out)) return false;
  const newest = Math.max((await stat(scriptPath)).mtimeMs, ...(await Promise.all(dirs.map(newestMtime))));
  return (await stat(out)).mtimeMs > newest;
}

async function buildGoPolicies(names) {
  const results = [];
  for (const name of names) {
    try {
      const mode = await executionMode(join(root, 'go', name));
      await goBuild(name);
      results.push({ name, mode: `${mode}, Go` });
    } catch (err) {
      results.push({ name, error: err instanceof Error ? err.message : String(err) });
    }
  }
  return results;
}

async function goBuild(name) {
  const out = join(root, 'build', `${name}.wasm`);
  const goflags = `${process.env.GOFLAGS ?? ''} -buildvcs=false`.trim();
  const env = { ...process.env, GOOS: 'wasip1', GOARCH: 'wasm', GOFLAGS: goflags };
  try {
    await execFileAsync('go', ['build', '-trimpath', '-o', out, '.'], {
      cwd: join(root, 'go', name),
      env,
    });
  } catch (err) {
    if (err.code === 'ENOENT') {
      throw new Error('`go` is not on PATH: Go policies need Go >= 1.26 (https://go.dev/dl/)');
    }
    throw new Error(`go build failed\n${err.stderr || err.message}`);
  }
}

async function compileInWorkers(names) {
  const workers = Math.min(names.length, availableParallelism());
  const slices = Array.from({ length: workers }, (_, i) => names.filter((_, j) => j % workers === i));
  const outcomes = await Promise.all(
    slices.map(
      (slice) =>
        new Promise((resolve, reject) => {
          const results = [];
          const worker = new Worker(scriptPath, { workerData: slice });
          worker.on('message', (r) => results.push(r));
          worker.on('error', reject);
          worker.on('exit', (code) =>
            code === 0 ? resolve(results) : reject(new Error(`build worker exited with code ${code}`)),
          );
        }),
    ),
  );
  return outcomes.flat().sort((a, b) => a.name.localeCompare(b.name));
}

// Fixtures for the host's "cannot load this module" paths.
async function writeBrokenModules() {
  // Wasm magic and version, then a type section that claims 16 bytes but stops after 4.
  const truncated = Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x10, 0x01, 0x60);
  await writeFile(join(root, 'build', 'malformed.wasm'), truncated);
  await writeFile(join(root, 'build', 'not-wasm.wasm'), 'This is a text file, not a WebAssembly module.\n');
}
