// Annotates the example policies (built from source in test/policies) with their metadata, as
// `castellan annotate` would, so `castellan up --policies examples/policies.yml` can serve them.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { annotatePolicy } from '@castellan/runtime';

const EXAMPLES = ['pod-privileged', 'required-labels', 'add-label'];
const policies = new URL('../test/policies/', import.meta.url);
const output = new URL('./build/', import.meta.url);

await mkdir(output, { recursive: true });
for (const name of EXAMPLES) {
  const module = new Uint8Array(await readFile(new URL(`build/${name}.wasm`, policies)));
  const metadataYaml = await readFile(new URL(`assembly/${name}/metadata.yml`, policies), 'utf8');
  const annotated = await annotatePolicy({ module, metadataYaml });
  await writeFile(new URL(`${name}.wasm`, output), annotated.module);
}
console.log(`examples: annotated ${EXAMPLES.join(', ')} into examples/build/`);
