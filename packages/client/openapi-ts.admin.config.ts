import { defineConfig } from '@hey-api/openapi-ts';

export default defineConfig({
  input: '../../openapi/dist/admin.yaml',
  output: { path: 'src/generated/admin', importFileExtension: '.js' },
  plugins: ['@hey-api/client-fetch', '@hey-api/typescript', { name: '@hey-api/sdk' }, 'zod'],
});
