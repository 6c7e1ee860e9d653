const mods = process.argv.slice(2);
for (const m of mods) await import(m);
global.gc?.();
const s = (await import('node:fs')).readFileSync('/proc/self/status','utf8');
console.log(mods.join(' '), s.match(/VmRSS:\s+\d+ kB/)[0]);
