import { defineConfig } from '@hey-api/openapi-ts';

export default defineConfig({
  input: '../../openapi/dist/openapi.yaml',
  output: { path: 'src/generated/public', importFileExtension: '.js' },
  plugins: ['@hey-api/client-fetch', '@hey-api/typescript', { name: '@hey-api/sdk' }, 'zod'],
});
