// Reports the gzipped size of the JavaScript the browser loads before any lazy page:
// the entry chunk and everything it imports statically.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist');
const manifest = JSON.parse(readFileSync(path.join(dist, '.vite/manifest.json'), 'utf8'));
// The page's entry (the shared modules for plugin UIs are entries too, loaded only by plugins).
const entry = Object.entries(manifest).find(([key, c]) => c.isEntry && key === 'index.html');
const seen = new Set();
const visit = (key) => {
  const chunk = manifest[key];
  if (!chunk || seen.has(chunk.file)) return;
  seen.add(chunk.file);
  for (const k of chunk.imports ?? []) visit(k);
};
visit(entry[0]);
let raw = 0;
let gz = 0;
for (const file of seen) {
  const buf = readFileSync(path.join(dist, file));
  raw += buf.length;
  gz += gzipSync(buf, { level: 9 }).length;
}
const limit = 250 * 1024;
console.log(`initial JavaScript: ${seen.size} file(s), ${(raw / 1024).toFixed(1)} kB, ${(gz / 1024).toFixed(1)} kB gzipped (budget ${limit / 1024} kB)`);
if (gz > limit) {
  console.error('The initial JavaScript is over budget: lazy-load more of it.');
  process.exit(1);
}
