#!/usr/bin/env node
// Builds the page: node web/build.mjs [OUTDIR]   (default: web/dist)
// Writes OUTDIR/index.html, app.js, app.css and the fonts app.css uses.
import * as esbuild from 'esbuild';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const outdir = path.resolve(process.argv[2] || path.join(here, 'dist'));

const common = {
	absWorkingDir: here,
	entryPoints: { app: path.join(here, 'src/main.jsx') },
	bundle: true,
	minify: true,
	format: 'iife',
	target: ['es2020'],
	jsx: 'automatic',
	define: { 'process.env.NODE_ENV': '"production"' },
	loader: { '.woff2': 'file', '.woff': 'file', '.svg': 'dataurl', '.png': 'dataurl' },
	assetNames: 'fonts/[name]-[hash]',
	metafile: true,
	logLevel: 'warning',
};

// esbuild keeps the CSS a JS module imports even when tree shaking drops
// that module, so importing PatternFly's index would bring the CSS of every
// component (1.5 MiB). Pass 1 finds which of react-styles' class-map modules
// survive in app.js; pass 2 keeps only their CSS.
const STYLE_MAP = /[\\/]@patternfly[\\/]react-styles[\\/]css[\\/].*\.mjs$/;
const probe = await esbuild.build({ ...common, outdir: path.join(outdir, '.probe'), write: false });
const jsOut = Object.entries(probe.metafile.outputs).find(([f]) => f.endsWith('.js'))[1];
const neededCss = new Set(Object.entries(jsOut.inputs)
	.filter(([f, i]) => STYLE_MAP.test(f) && i.bytesInOutput > 0)
	.map(([f]) => path.resolve(here, f).replace(/\.mjs$/, '.css')));

const onlyUsedCss = {
	name: 'only-used-patternfly-css',
	setup(build) {
		build.onLoad({ filter: /[\\/]@patternfly[\\/]react-styles[\\/]css[\\/].*\.css$/ }, args =>
			(neededCss.has(path.resolve(args.path)) ? undefined : { contents: '', loader: 'css' }));
	},
};

await rm(outdir, { recursive: true, force: true });
await mkdir(outdir, { recursive: true });
const result = await esbuild.build({ ...common, outdir, legalComments: 'linked', plugins: [onlyUsedCss] });
await copyFile(path.join(here, 'index.html'), path.join(outdir, 'index.html'));

if (process.env.BUILD_VERBOSE) { const c = Object.entries(result.metafile.outputs).find(([f]) => f.endsWith(".css"))[1]; for (const [f, i] of Object.entries(c.inputs).sort((a, b) => b[1].bytesInOutput - a[1].bytesInOutput).slice(0, 40)) console.log(i.bytesInOutput, f); }
const sizes = Object.entries(result.metafile.outputs)
	.filter(([f]) => /\.(js|css)$/.test(f))
	.map(([f, o]) => `${path.basename(f)} ${(o.bytes / 1024).toFixed(0)} KiB`);
console.log(`built ${outdir}: ${sizes.join(', ')} (${neededCss.size} PatternFly component styles)`);
