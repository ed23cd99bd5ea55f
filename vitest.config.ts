import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // A spec outside the repository imports the kit by package name, as under the CLI
  // (src/kit-resolve.mjs): tests that load such a spec in-process resolve it the same way.
  resolve: { alias: { daxcheck: fileURLToPath(new URL('./src/kit.ts', import.meta.url)) } },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
