/** Writes a large, varied compose project for the config benchmark. */
import fs from 'node:fs';
import path from 'node:path';

/** Writes `<dir>/compose.yaml` and `<dir>/.env` with `serviceCount` services; returns the compose file path. */
export function generateProject(dir: string, serviceCount: number): string {
  const lines: string[] = ['services:'];
  for (let i = 0; i < serviceCount; i++) {
    const name = `svc${String(i).padStart(4, '0')}`;
    lines.push(`  ${name}:`);
    lines.push(`    image: registry.local/app${i % 50}:\${TAG:-latest}`);
    lines.push(`    command: ["/bin/server", "--port", "${8000 + (i % 1000)}", "--name", "${name}"]`);
    lines.push('    environment:');
    lines.push(`      - SERVICE_NAME=${name}`);
    lines.push(`      - LOG_LEVEL=\${LOG_LEVEL:-info}`);
    lines.push(`      - INDEX=${i}`);
    lines.push('    labels:');
    lines.push(`      com.example.group: group${i % 20}`);
    lines.push('    ports:');
    lines.push(`      - "${20000 + i}:${8000 + (i % 1000)}"`);
    lines.push('    volumes:');
    lines.push(`      - ./data/${name}:/data`);
    lines.push(`      - vol${i % 100}:/shared:ro`);
    lines.push('    networks:');
    lines.push(`      - net${i % 10}`);
    if (i > 0) {
      lines.push('    depends_on:');
      lines.push(`      svc${String(i - 1).padStart(4, '0')}:`);
      lines.push('        condition: service_started');
      if (i > 2) {
        lines.push(`      svc${String(Math.floor(i / 2)).padStart(4, '0')}:`);
        lines.push('        condition: service_healthy');
      }
    }
    lines.push('    healthcheck:');
    lines.push('      test: ["CMD", "wget", "-q", "-O-", "http://localhost/health"]');
    lines.push('      interval: 10s');
    lines.push('      retries: 3');
  }
  lines.push('volumes:');
  for (let i = 0; i < 100; i++) lines.push(`  vol${i}: {}`);
  lines.push('networks:');
  for (let i = 0; i < 10; i++) lines.push(`  net${i}: {}`);
  const file = path.join(dir, 'compose.yaml');
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  fs.writeFileSync(path.join(dir, '.env'), 'TAG=1.0\nLOG_LEVEL=debug\n');
  return file;
}
