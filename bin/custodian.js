#!/usr/bin/env node
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const entry = path.join(__dirname, '..', 'dist', 'cli', 'main.js');
if (!fs.existsSync(entry)) {
  process.stderr.write('custodian: not built yet; run `npm run build` (or `npm start`) first\n');
  process.exit(1);
}
require(entry);
