/**
 * The config hash of a service: sha256 over the fields that shape its containers. The engine
 * stores it as a label at creation and recreates a container when it differs.
 */
import { createHash } from 'node:crypto';
import { serviceDocument, sortedData } from './compose-document.js';
import type { Service } from './types.js';

/**
 * Left out because changing them must not recreate running containers: `scale` and
 * `deploy.replicas` (add or remove replicas instead), `profiles`, `depends_on` (start order
 * only), `build` and `pull_policy` (they decide how the image is obtained; a new image changes
 * the image reference or digest the engine compares separately), and `develop` (watch rules).
 */
const excluded = ['scale', 'profiles', 'depends_on', 'build', 'pull_policy', 'develop'];

/** The stable sha256 (hex) of a service's runtime-relevant configuration. */
export function serviceConfigHash(service: Service): string {
  const document = serviceDocument(service, { format: 'json' });
  for (const key of excluded) delete document[key];
  if (typeof document.deploy === 'object' && document.deploy !== null) {
    const { replicas: _replicas, ...deploy } = document.deploy as Record<string, unknown>;
    if (Object.keys(deploy).length > 0) document.deploy = deploy;
    else delete document.deploy;
  }
  return createHash('sha256').update(JSON.stringify(sortedData(document))).digest('hex');
}
