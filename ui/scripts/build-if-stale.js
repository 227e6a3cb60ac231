// Builds the web app only when its sources (ui/ and plugins/*/ui) changed since the last build,
// so `npm start` stays quick.
import { execSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ui = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const repo = path.resolve(ui, '..');
const built = path.join(ui, 'dist/index.html');
const newest = (dir) => {
  if (!existsSync(dir)) return 0;
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name === 'dist') continue;
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
};
const sources = [path.join(ui, 'src'), path.join(ui, 'index.html'), ...readdirSync(path.join(repo, 'plugins')).map((p) => path.join(repo, 'plugins', p, 'ui'))];
const latest = Math.max(...sources.map((s) => (existsSync(s) && statSync(s).isFile() ? statSync(s).mtimeMs : newest(s))));
if (!existsSync(built) || statSync(built).mtimeMs < latest) {
  execSync('npm run build -w @plugchat/ui', { cwd: repo, stdio: 'inherit' });
}
