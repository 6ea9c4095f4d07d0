// The commit worker's entry point: plain JavaScript, so that the thread starts the same way under tsx (the server,
// the bench's children), vitest and plain node. It registers tsx's require hook for the TypeScript it runs, which
// starts faster than its ESM loader (that one runs the hooks on a thread of their own).
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS entry point loads with require */
require('tsx/cjs/api').register();
require('./sqlite-commit-worker.ts');
