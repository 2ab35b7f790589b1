/**
 * Loads one of the portal's browser modules (web/public/js/*.js, plain ES modules served
 * as they are) into Jest, for unit tests of its pure functions: the exact file the browser
 * gets, turned into CommonJS by the TypeScript compiler. Only modules without imports
 * (or importing each other the same way) can be loaded; one that touches the DOM at load
 * time cannot.
 */
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import ts from 'typescript';
import { projectRoot } from '../../common/paths';

const PORTAL_JS = path.join(projectRoot(), 'web', 'public', 'js');

export function loadBrowserModule<T = Record<string, unknown>>(relative: string, cache = new Map<string, unknown>()): T {
  const file = path.resolve(PORTAL_JS, relative);
  if (cache.has(file)) return cache.get(file) as T;
  const source = fs.readFileSync(file, 'utf8');
  const { outputText } = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } });
  const module = { exports: {} as Record<string, unknown> };
  cache.set(file, module.exports);
  const requireSibling = (spec: string) => {
    if (!spec.startsWith('.')) throw new Error(`${relative} imports ${spec}: only sibling portal modules load here`);
    return loadBrowserModule(path.relative(PORTAL_JS, path.resolve(path.dirname(file), spec)), cache);
  };
  vm.runInThisContext(`(function (exports, require, module) {${outputText}\n})`, { filename: file })(module.exports, requireSibling, module);
  return module.exports as T;
}
