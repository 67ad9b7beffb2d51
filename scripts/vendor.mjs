// `npm run vendor`: copy the prebuilt bpmn-js viewer from node_modules into webapp/static/vendor/bpmn-js/.
// No bundler: the app serves bpmn-js's own production build locally (no CDN), loaded through url_for('static').
// The copy is not committed; run `npm ci && npm run vendor` after checking out (scripts/setup.sh does).
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const source = join(root, "node_modules", "bpmn-js");
const target = join(root, "webapp", "static", "vendor", "bpmn-js");
const files = [
  "dist/bpmn-navigated-viewer.production.min.js",
  "dist/assets/diagram-js.css",
  "dist/assets/bpmn-js.css",
  "dist/assets/bpmn-font",
  "LICENSE", // the bpmn.io licence asks that it travel with the code, and that the viewer's logo stays visible
];

if (!existsSync(join(source, "package.json"))) {
  console.error("bpmn-js is not installed: run `npm ci` first, then `npm run vendor`.");
  process.exit(1);
}
const { version } = JSON.parse(readFileSync(join(source, "package.json"), "utf8"));
rmSync(target, { recursive: true, force: true });
for (const file of files) {
  const from = join(source, file);
  if (!existsSync(from)) {
    console.error(`bpmn-js ${version} has no ${file}; the vendor list in scripts/vendor.mjs needs updating.`);
    process.exit(1);
  }
  const to = join(target, file.replace(/^dist\//, ""));
  mkdirSync(dirname(to), { recursive: true });
  cpSync(from, to, { recursive: true });
}
writeFileSync(join(target, "VERSION"), `${version}\n`);
console.log(`bpmn-js ${version} copied to ${target}`);
