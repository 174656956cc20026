/**
 * Planning: from the project and what was observed, decide per replica slot what to do. Pure:
 * no disk, no runtime. Recreate only what changed (config hash or image digest), with the
 * field-level reasons; scale down removes the highest numbers first.
 */
import { BerthError } from '../errors.js';
import { serviceConfigHash, serviceDocument } from '../model/index.js';
import { diffServiceConfig, shortDigest } from './diff.js';
import type { ObservedContainer, PlannedAction, Project, Service } from './types.js';

/** Flags of `up`/`create` that shape the plan. */
export interface PlanOptions {
  /** Services to converge (dependencies already added); default all. */
  services?: readonly string[];
  /** Services the user named (for --always-recreate-deps: the others are dependencies). */
  named?: readonly string[];
  forceRecreate?: boolean;
  noRecreate?: boolean;
  alwaysRecreateDeps?: boolean;
  /** Replica counts from --scale. */
  scale?: Readonly<Record<string, number>>;
  /** Create but do not start. */
  noStart?: boolean;
  /** Manifest digest of each service's current image (absent: unknown, no image comparison). */
  imageDigests?: ReadonlyMap<string, string | undefined>;
}

/** The plan: actions per replica slot in start order, and containers of services no longer in the project. */
export interface Plan {
  actions: PlannedAction[];
  /** Names of orphan containers. */
  orphans: string[];
}

/** The container name of replica `number` of a service: `container_name` or `<project>-<service>-<n>`. */
export function containerName(project: Project, service: Service, number: number): string {
  return service.container_name ?? `${project.name}-${service.name}-${number}`;
}

/** How many replicas a service should have: --scale, deploy.replicas, scale, else 1. */
export function desiredReplicas(service: Service, scale?: Readonly<Record<string, number>>): number {
  const fromFlag = scale?.[service.name];
  if (fromFlag !== undefined) return fromFlag;
  const deploy = service.deploy as { replicas?: number } | undefined;
  if (typeof deploy?.replicas === 'number') return deploy.replicas;
  if (typeof service.scale === 'number') return service.scale;
  return 1;
}

/** Why a container differs from its service now (empty: it does not). */
export function recreateReasons(container: ObservedContainer, service: Service, imageDigest: string | undefined): string[] {
  const reasons: string[] = [];
  if (container.record.configHash !== serviceConfigHash(service)) {
    const fields = diffServiceConfig(container.record.serviceConfig ?? {}, serviceDocument(service, { format: 'json' }));
    reasons.push(...(fields.length ? fields : ['config hash changed']));
  }
  if (imageDigest && container.record.imageDigest && imageDigest !== container.record.imageDigest) {
    reasons.push(`image changed (${shortDigest(container.record.imageDigest)} -> ${shortDigest(imageDigest)})`);
  }
  return reasons;
}

/** Plans the convergence of the selected services (in the given order). */
export function planProject(project: Project, order: readonly string[], observed: readonly ObservedContainer[], options: PlanOptions = {}): Plan {
  const selected = new Set(options.services ?? project.services.keys());
  const named = new Set(options.named ?? []);
  const actions: PlannedAction[] = [];
  for (const serviceName of order) {
    if (!selected.has(serviceName)) continue;
    const service = project.services.get(serviceName)!;
    const replicas = desiredReplicas(service, options.scale);
    if (service.container_name && replicas > 1) {
      throw new BerthError(`service "${serviceName}" has container_name "${service.container_name}" and cannot be scaled to ${replicas}`, {
        hint: 'remove container_name to run several replicas',
      });
    }
    const mine = observed.filter((c) => c.record.service === serviceName && !c.record.oneoff).sort((a, b) => a.record.number - b.record.number);
    const bySlot = new Map<number, ObservedContainer>();
    for (const container of mine) {
      if (container.record.number > replicas || bySlot.has(container.record.number)) continue;
      bySlot.set(container.record.number, container);
    }
    // Scale down (and duplicates): highest numbers first.
    for (const container of [...mine].reverse()) {
      if (bySlot.get(container.record.number) === container) continue;
      actions.push({ kind: 'remove', service: serviceName, name: container.record.name, number: container.record.number, reasons: [`scale ${mine.length} -> ${replicas}`] });
    }
    const forceThis = options.forceRecreate || (options.alwaysRecreateDeps && named.size > 0 && !named.has(serviceName));
    for (let number = 1; number <= replicas; number++) {
      const container = bySlot.get(number);
      if (!container) {
        actions.push({ kind: 'create', service: serviceName, name: containerName(project, service, number), number, reasons: ['no container'] });
        continue;
      }
      const reasons = forceThis ? [options.forceRecreate ? '--force-recreate' : '--always-recreate-deps'] : recreateReasons(container, service, options.imageDigests?.get(serviceName));
      const base = { service: serviceName, name: container.record.name, number };
      if (reasons.length && !options.noRecreate) actions.push({ kind: 'recreate', ...base, reasons });
      else if (container.status === 'running' || container.status === 'paused' || container.status === 'restarting') actions.push({ kind: 'noop', ...base, reasons: [container.status] });
      else if (options.noStart) actions.push({ kind: 'noop', ...base, reasons: [container.status] });
      else actions.push({ kind: 'start', ...base, reasons: [container.status === 'created' ? 'created, not started' : `exited${container.exitCode !== undefined ? ` (${container.exitCode})` : ''}`] });
    }
  }
  const known = new Set([...project.services.keys(), ...project.disabledServices.keys()]);
  const orphans = observed.filter((c) => !c.record.oneoff && !known.has(c.record.service)).map((c) => c.record.name).sort();
  return { actions, orphans };
}

/** The plan as text, one action per line, as `up --dry-run` prints it. */
export function renderPlan(plan: Plan): string {
  const lines: string[] = [];
  for (const action of plan.actions) {
    const why = action.reasons.length ? `: ${action.reasons.join('; ')}` : '';
    lines.push(`${action.kind.padEnd(8)} ${action.name}${why}`);
  }
  for (const orphan of plan.orphans) lines.push(`orphan   ${orphan}: service no longer in the project (remove with --remove-orphans)`);
  return lines.join('\n');
}
