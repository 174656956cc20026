/**
 * Helper process for concurrency.test.ts: attaches every service of the compose project in
 * `dir` (project `name`, state root `root`) at once and prints the attachments as JSON. It leaves
 * them in place; the test cleans them up. Usage: node attach-child.js ROOT DIR NAME
 */
import path from 'node:path';
import { createNetworkProvider } from '../../src/network/index.js';
import { loadProject } from '../../src/project/index.js';

const [root, dir, name] = process.argv.slice(2);
const project = await loadProject({ cwd: dir, projectName: name, env: { PATH: process.env.PATH ?? '' }, readStdin: async () => '' });
const provider = createNetworkProvider({ root });
await provider.ensureNetworks(project, [...project.networks.keys()]);
const attachments = await Promise.all([...project.services.values()].map((service) => {
  const id = `${name}-${service.name}-1`;
  return provider.attach({ project, service, containerId: id, containerName: id, hostname: id.slice(0, 12), stateDir: path.join(root, 'containers', id) });
}));
process.stdout.write(JSON.stringify(attachments));
