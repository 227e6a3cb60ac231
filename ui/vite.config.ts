import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';
import { fileURLToPath } from 'node:url';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [vue()],
  resolve: { alias: { '@ui': fileURLToPath(new URL('./src', import.meta.url)) } },
  server: { fs: { allow: ['..'] }, proxy: { '/api': 'http://127.0.0.1:3000', '/instances': 'http://127.0.0.1:3000' } },
  build: { outDir: 'dist', emptyOutDir: true, manifest: true, chunkSizeWarningLimit: 600 },
});
