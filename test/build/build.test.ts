/**
 * End-to-end builds with berth's Dockerfile builder on its own runtime: a multi-stage Dockerfile
 * from the test busybox image, cached rebuilds, a one-file change, .dockerignore, heredocs, ADD of
 * a tar, --chown/--chmod, deletions as whiteouts, build args, and errors naming the line.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync, chmodSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { buildImage, buildServices, BuildError, parseDockerfile } from '../../src/build/index.js';
import { ImageStore } from '../../src/images/index.js';
import { loadProject, projectOptionsFromFlags } from '../../src/project/index.js';
import { runBerth } from '../helpers/cli.js';
import { makeStackRoot, testImage } from '../helpers/stack.js';
import { runImage } from './run-image.js';

const dockerfile = `# syntax=docker/dockerfile:1
ARG BASE=${testImage}
FROM \${BASE} AS deps
WORKDIR /deps
COPY deps.txt ./
RUN sort deps.txt > sorted.txt

FROM \${BASE} AS build
ARG VERSION=dev
WORKDIR /src
COPY --from=deps /deps/sorted.txt ./
COPY src/ ./
RUN <<EOF
set -e
cat sorted.txt [ab].txt > /app.out
echo "version=$VERSION" >> /app.out
EOF

FROM \${BASE}
ENV GREETING="hello world" \\
    MODE=prod
LABEL org.example.name="demo app"
COPY --from=build /app.out /app/app.out
COPY --chmod=755 run.sh /app/
COPY <<EOT /app/banner
banner for $GREETING
EOT
RUN rm /etc/group && mkdir -p /data && echo "$GREETING" > /data/greeting
USER 1000:1000
WORKDIR /app
EXPOSE 8080/tcp
CMD ["/app/run.sh"]
`;

function writeApp(dir: string): void {
  mkdirSync(path.join(dir, 'src'), { recursive: true });
  writeFileSync(path.join(dir, 'Dockerfile'), dockerfile);
  writeFileSync(path.join(dir, 'deps.txt'), 'zeta\nalpha\n');
  writeFileSync(path.join(dir, 'src', 'a.txt'), 'file a\n');
  writeFileSync(path.join(dir, 'src', 'b.txt'), 'file b\n');
  writeFileSync(path.join(dir, 'src', 'secret.key'), 'do not ship\n');
  writeFileSync(path.join(dir, 'src', 'notes.tmp'), 'scratch\n');
  writeFileSync(path.join(dir, 'run.sh'), '#!/bin/sh\necho "$GREETING"; cat /app/app.out; cat /app/banner\n');
  writeFileSync(path.join(dir, '.dockerignore'), '# secrets and scratch files\n**/*.key\nsrc/*.tmp\n');
}

test('multi-stage build, cache, one-file change and .dockerignore', async (t) => {
  const root = await makeStackRoot({ prefix: 'berth-build-' });
  t.after(() => root.remove());
  const dir = root.project(`build-${process.pid}`);
  writeApp(dir);
  const store = await ImageStore.open(path.join(root.root, 'images'));
  const lines: string[] = [];
  const options = { context: dir, tags: ['demo/app:1'], store, env: root.env, buildArgs: { VERSION: '1.2' }, log: (line: string) => lines.push(line) };

  const first = await buildImage(options);
  assert.ok(first.steps.every((step) => !step.cached), 'nothing is cached on the first build');
  const run = await runImage(root, 'demo/app:1');
  assert.equal(run.exitCode, 0, run.output);
  assert.equal(run.output, 'hello world\nalpha\nzeta\nfile a\nfile b\nversion=1.2\nbanner for hello world\n');

  const image = await store.resolve('demo/app:1');
  assert.ok(image);
  const config = image.config.config ?? {};
  assert.deepEqual(config.Cmd, ['/app/run.sh']);
  assert.equal(config.User, '1000:1000');
  assert.equal(config.WorkingDir, '/app');
  assert.ok(config.Env?.includes('GREETING=hello world'));
  assert.equal(config.Labels?.['org.example.name'], 'demo app');
  assert.deepEqual(Object.keys(config.ExposedPorts ?? {}), ['8080/tcp']);
  assert.equal(image.config.rootfs.diff_ids.length, image.layers.length);
  assert.ok((image.config.history ?? []).some((entry) => entry.empty_layer && entry.created_by?.startsWith('ENV')));

  // Ignored files are not in the image; the deleted /etc/group is gone (a whiteout); modes are set.
  const inside = await runImage(root, 'demo/app:1', ['sh', '-c', 'ls /src 2>&1; ls /etc/group 2>&1; stat -c "%a %u" /app/run.sh /app/app.out; cat /data/greeting']);
  assert.match(inside.output, /No such file/);
  assert.match(inside.output, /\/etc\/group: No such file/);
  assert.match(inside.output, /^755 0$/m);
  const buildStage = await buildImage({ ...options, target: 'build', tags: ['demo/app:build'] });
  const listing = await runImage(root, 'demo/app:build', ['ls', '/src']);
  assert.equal(listing.output.trim().split(/\s+/).sort().join(' '), 'a.txt b.txt sorted.txt');
  assert.ok(buildStage.steps.every((step) => step.cached || step.instruction.startsWith('FROM')), 'the target stage comes from the cache');

  // No change: every step is CACHED and the image id is the same.
  lines.length = 0;
  const second = await buildImage(options);
  assert.equal(second.id, first.id);
  assert.ok(second.steps.filter((step) => !step.instruction.startsWith('FROM')).every((step) => step.cached));
  assert.ok(lines.some((line) => / CACHED$/.test(line)));

  // An ignored file changes: still fully cached.
  writeFileSync(path.join(dir, 'src', 'secret.key'), 'changed secret\n');
  const third = await buildImage(options);
  assert.equal(third.id, first.id);

  // One file changes: the steps before its COPY stay cached, that COPY and every later step run.
  writeFileSync(path.join(dir, 'src', 'b.txt'), 'file b, edited\n');
  const fourth = await buildImage(options);
  const byText = (result: typeof fourth, prefix: string) => result.steps.find((step) => step.instruction.startsWith(prefix));
  assert.equal(byText(fourth, 'COPY deps.txt')?.cached, true);
  assert.equal(byText(fourth, 'RUN sort')?.cached, true);
  assert.equal(byText(fourth, 'COPY --from=deps')?.cached, true);
  assert.equal(byText(fourth, 'COPY src/')?.cached, false);
  assert.equal(byText(fourth, 'RUN <<EOF')?.cached, false);
  assert.equal(byText(fourth, 'COPY --from=build')?.cached, false);
  assert.equal(byText(fourth, 'RUN rm /etc/group')?.cached, false);
  assert.notEqual(fourth.id, first.id);
  assert.match((await runImage(root, 'demo/app:1')).output, /file b, edited/);

  // A build arg change re-runs the steps after the ARG only.
  const fifth = await buildImage({ ...options, buildArgs: { VERSION: '2.0' } });
  assert.equal(byText(fifth, 'COPY src/')?.cached, true);
  assert.equal(byText(fifth, 'RUN <<EOF')?.cached, false);
  assert.match((await runImage(root, 'demo/app:1')).output, /version=2\.0/);
});

test('compose build: berth build CLI, image name, args, target, CACHED output, errors with the line', async (t) => {
  const root = await makeStackRoot({ prefix: 'berth-build-' });
  t.after(() => root.remove());
  const name = `buildcli${process.pid}`;
  const dir = root.project(name, `name: ${name}
services:
  app:
    build:
      context: .
      args:
        MESSAGE: from-compose
      labels:
        com.example.team: dev
  tool:
    image: local/tool:dev
    build:
      context: ./tool
      target: final
      additional_contexts:
        appimg: service:app
  plain:
    image: ${testImage}
`);
  writeFileSync(path.join(dir, 'Dockerfile'), `FROM ${testImage}\nARG MESSAGE=default\nRUN echo "$MESSAGE" > /message\nCMD ["cat", "/message"]\n`);
  mkdirSync(path.join(dir, 'tool', 'payload', 'sub'), { recursive: true });
  writeFileSync(path.join(dir, 'tool', 'payload', 'sub', 'x.txt'), 'from tar\n');
  execFileSync('tar', ['-C', path.join(dir, 'tool', 'payload'), '-czf', path.join(dir, 'tool', 'payload.tar.gz'), 'sub']);
  writeFileSync(path.join(dir, 'tool', 'Dockerfile'), `FROM scratch AS unused
COPY missing-file /nowhere

FROM appimg AS final
ADD payload.tar.gz /opt/
COPY --chown=1000:1000 --from=appimg /message /opt/message
RUN cat /opt/sub/x.txt /opt/message > /opt/both
`);
  const first = runBerth(['build'], { cwd: dir, env: root.env, timeoutMs: 120_000 });
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stderr, /app #\d+ \[\d\/\d\] RUN echo/);
  const second = runBerth(['build', 'app', '--progress', 'plain'], { cwd: dir, env: root.env });
  assert.equal(second.status, 0, second.stderr);
  assert.match(second.stderr, /app #\d+ CACHED/);
  const byArg = runBerth(['build', 'app', '--build-arg', 'MESSAGE=from-cli'], { cwd: dir, env: root.env });
  assert.equal(byArg.status, 0, byArg.stderr);
  assert.equal((await runImage(root, `${name}-app`)).output, 'from-cli\n');
  const quiet = runBerth(['build', '-q', 'app'], { cwd: dir, env: root.env });
  assert.equal(quiet.status, 0, quiet.stderr);
  assert.equal(quiet.stderr, '');

  const store = await ImageStore.open(path.join(root.root, 'images'));
  const app = await store.resolve(`${name}-app`);
  assert.equal(app?.config.config?.Labels?.['com.example.team'], 'dev');
  const tool = await runImage(root, 'local/tool:dev', ['sh', '-c', 'cat /opt/both; stat -c "%u:%g" /opt/message']);
  assert.equal(tool.output, 'from tar\nfrom-compose\n1000:1000\n');

  // A failing RUN: the message names the Dockerfile line and shows the step's output.
  writeFileSync(path.join(dir, 'Dockerfile'), `FROM ${testImage}\n\nRUN echo preparing && \\\n    echo "broken step output" >&2 && exit 3\n`);
  const failed = runBerth(['build', 'app'], { cwd: dir, env: root.env });
  assert.equal(failed.status, 1);
  assert.match(failed.stderr, /Dockerfile:3: RUN echo preparing .* failed with exit code 3/);
  assert.match(failed.stderr, /broken step output/);
  assert.doesNotMatch(failed.stderr, /    at /, 'no stack trace');

  // A missing source names the line and the context.
  writeFileSync(path.join(dir, 'Dockerfile'), `FROM ${testImage}\nCOPY nothing-here /x\n`);
  const missing = runBerth(['build', 'app'], { cwd: dir, env: root.env });
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /Dockerfile:2: COPY nothing-here: not found in the build context/);

  // The library entry point `up --build` uses.
  writeFileSync(path.join(dir, 'Dockerfile'), `FROM ${testImage}\nCMD ["echo", "lib"]\n`);
  const project = await loadProject(projectOptionsFromFlags({}, { cwd: dir, env: root.env }));
  const results = await buildServices(project, ['app'], { env: root.env, store, log: () => undefined });
  assert.ok(results.get('app')?.id.startsWith('sha256:'));
  assert.equal((await runImage(root, `${name}-app`)).output, 'lib\n');
});

test('ADD of an unreachable URL and Dockerfile parse errors are clear', async (t) => {
  const root = await makeStackRoot({ prefix: 'berth-build-' });
  t.after(() => root.remove());
  const dir = root.project(`buildurl-${process.pid}`);
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  writeFileSync(path.join(dir, 'Dockerfile'), `FROM ${testImage}\nADD http://127.0.0.1:${port}/file.txt /file.txt\n`);
  const store = await ImageStore.open(path.join(root.root, 'images'));
  await assert.rejects(buildImage({ context: dir, store, env: root.env }), (err: unknown) => {
    assert.ok(err instanceof BuildError);
    assert.match(err.message, /Dockerfile:2: cannot download "http:\/\/127\.0\.0\.1:\d+\/file\.txt": ECONNREFUSED/);
    return true;
  });
  assert.throws(() => parseDockerfile('FROM a\nRUN <<EOF\necho\n'), /Dockerfile:2: here-document "EOF" is not terminated/);
  assert.throws(() => parseDockerfile('FROM a\nFROBNICATE x\n'), /Dockerfile:2: unknown instruction "FROBNICATE"/);
  const parsed = parseDockerfile('# escape=`\nFROM a\nRUN echo one `\n  two\nCOPY <<-EOT /x\n\tindented\n\tEOT\n');
  assert.equal(parsed.escape, '`');
  assert.equal(parsed.instructions[1].args, 'echo one   two');
  assert.equal(parsed.instructions[2].heredocs[0].content, 'indented\n');
  assert.equal(parsed.instructions[2].line, 5);
  chmodSync(dir, 0o755);
});

test('ADD of .tar.xz and .tar.bz2 extracts through the safe unpacker; escapes refused; no tool: copied', async (t) => {
  const root = await makeStackRoot({ prefix: 'berth-build-' });
  t.after(() => root.remove());
  const dir = root.project(`buildxz-${process.pid}`);
  mkdirSync(path.join(dir, 'payload', 'sub'), { recursive: true });
  writeFileSync(path.join(dir, 'payload', 'sub', 'x.txt'), 'from xz\n');
  execFileSync('tar', ['-C', path.join(dir, 'payload'), '-cJf', path.join(dir, 'p.tar.xz'), 'sub']);
  writeFileSync(path.join(dir, 'payload', 'sub', 'x.txt'), 'from bzip2\n');
  execFileSync('tar', ['-C', path.join(dir, 'payload'), '-cjf', path.join(dir, 'p.tar.bz2'), 'sub']);
  writeFileSync(path.join(dir, 'note.txt'), 'just text\n');
  execFileSync('xz', ['-k', path.join(dir, 'note.txt')]);
  writeFileSync(path.join(dir, 'Dockerfile'), `FROM ${testImage}\nADD p.tar.xz /xz/\nADD p.tar.bz2 /bz/\nADD note.txt.xz /notes/\n`);
  const store = await ImageStore.open(path.join(root.root, 'images'));
  await buildImage({ context: dir, store, env: root.env, tags: ['add/xz'] });
  const listing = await runImage(root, 'add/xz', ['sh', '-c', 'cat /xz/sub/x.txt /bz/sub/x.txt; ls /notes']);
  assert.equal(listing.output, 'from xz\nfrom bzip2\nnote.txt.xz\n', 'archives are extracted, a compressed non-tar is copied');

  // An entry that climbs out of the destination is refused; nothing lands outside.
  execFileSync('python3', ['-c', `import tarfile, io
with tarfile.open(${JSON.stringify(path.join(dir, 'evil.tar'))}, 'w', format=tarfile.USTAR_FORMAT) as tar:
    data = b'escaped\\n'
    info = tarfile.TarInfo('../../escaped.txt'); info.size = len(data); tar.addfile(info, io.BytesIO(data))
`]);
  execFileSync('xz', [path.join(dir, 'evil.tar')]);
  writeFileSync(path.join(dir, 'Dockerfile'), `FROM ${testImage}\nADD evil.tar.xz /deep/inside/\n`);
  await assert.rejects(buildImage({ context: dir, store, env: root.env }), /Dockerfile:2: cannot extract "evil\.tar\.xz": .*escapes/);
  assert.ok(!existsSync(path.join(root.root, 'escaped.txt')) && !existsSync('/escaped.txt') && !existsSync(path.join(dir, '..', 'escaped.txt')));

  // Without xz on the PATH the archive is copied as a file, with a warning.
  writeFileSync(path.join(dir, 'Dockerfile'), `FROM ${testImage}\nADD p.tar.xz /noxz/\n`);
  const lines: string[] = [];
  await buildImage({ context: dir, store, env: { ...root.env, PATH: '/nonexistent-berth-path' }, tags: ['add/noxz'], log: (line) => lines.push(line) });
  assert.ok(lines.some((line) => /warning: Dockerfile:2: ADD copies p\.tar\.xz as a file: extracting xz archives needs xz on the PATH/.test(line)), lines.join('\n'));
  assert.equal((await runImage(root, 'add/noxz', ['ls', '/noxz'])).output, 'p.tar.xz\n');
});
