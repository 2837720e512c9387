#!/usr/bin/env node
'use strict';
// Runs the TypeScript sources directly through tsx, so `npm install` is the
// only set-up step (no build).
require('tsx/cjs/api').register();
require('../harness/cli/index.ts').cli();
