#!/usr/bin/env node
'use strict';
// Thin launcher: the compiled server lives in dist/ (built by `npm ci` through the prepare script).
// Spool's options are taken here and removed from process.argv before anything else loads: node-pre-gyp (used
// by the mmap binding to find its .node file) parses process.argv itself and reads `--dir` as its own
// `--directory` option.
const args = process.argv.slice(2);
// fdatasync, segment reservation and directory creation run on libuv's thread pool; with the default 4 threads
// a burst of new streams queues behind a few slow syncs. Must be set before the pool starts.
if (!process.env.UV_THREADPOOL_SIZE) process.env.UV_THREADPOOL_SIZE = '16';
process.argv.length = 2;
require('../dist/main.js').main(args);
