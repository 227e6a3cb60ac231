import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';
import { fileURLToPath } from 'node:url';

const at = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: at('.'),
  plugins: [vue()],
  resolve: { alias: { '@ui': at('./src') } },
  server: { fs: { allow: ['..'] }, proxy: { '/api': 'http://127.0.0.1:3000', '/instances': 'http://127.0.0.1:3000' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    manifest: true,
    chunkSizeWarningLimit: 600,
    rollupOptions: {
      // The shell's Vue at a fixed address, for plugin UI modules loaded at run time (the import map in
      // index.html); they reach the router, i18n and components through the app ($router, $t, global components).
      input: { index: at('index.html'), vue: at('src/shared/vue.ts') },
      preserveEntrySignatures: 'exports-only',
      output: { entryFileNames: (chunk) => (chunk.name === 'index' ? 'assets/[name]-[hash].js' : 'shared/[name].js') },
    },
  },
});
