#!/usr/bin/env node
'use strict';
// Thin launcher: the compiled server lives in dist/ (built by `npm ci` through the prepare script).
require('../dist/main.js').main(process.argv.slice(2));
