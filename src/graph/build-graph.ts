/**
 * The dependency graph of a Project: services, and the networks and volumes they use. A node
 * depends on what must exist first: a service on the services in its `depends_on` (which
 * normalization extended with links, `service:` namespaces and volumes_from) and on its
 * networks and named volumes.
 */
import depGraph from 'dependency-graph';
import { GraphError } from '../errors.js';
import { namesHint, type Project, type ServiceDependency } from '../model/index.js';

const { DepGraph, DepGraphCycleError } = depGraph;

/** One edge between two services, with the reason it exists. */
export interface ServiceEdge {
  readonly from: string;
  readonly to: string;
  /** `depends_on` entry (condition etc.), for labels in `berth graph`. */
  readonly dependency: ServiceDependency;
}

/** The project's dependency graph: order, dependents and dependencies. */
export interface ProjectGraph {
  /** Services in an order where every dependency comes first; ties broken by name. */
  readonly startOrder: readonly string[];
  /** Reverse start order: stop dependents first so they never see their dependency vanish. */
  readonly stopOrder: readonly string[];
  /** Service edges, sorted by `from` then `to`. */
  readonly edges: readonly ServiceEdge[];
  /** Services that (transitively) depend on `serviceName`. */
  dependents(serviceName: string, options?: { direct?: boolean }): string[];
  /** Services that `serviceName` (transitively) depends on. */
  dependencies(serviceName: string, options?: { direct?: boolean }): string[];
  /** Networks and volumes a service needs, as `network:<key>` / `volume:<key>`. */
  resources(serviceName: string): string[];
}

const serviceNode = (name: string): string => `service:${name}`;
const isServiceNode = (node: string): boolean => node.startsWith('service:');
const nameOf = (node: string): string => node.slice(node.indexOf(':') + 1);

/** Builds the graph; throws a GraphError for an unknown dependency or a dependency cycle. */
export function buildGraph(project: Project): ProjectGraph {
  const graph = new DepGraph<string>();
  const names = [...project.services.keys()].sort();
  for (const name of names) graph.addNode(serviceNode(name));
  const edges: ServiceEdge[] = [];
  for (const name of names) {
    const service = project.services.get(name)!;
    for (const dependency of Object.keys(service.depends_on ?? {}).sort()) {
      if (!project.services.has(dependency)) {
        const disabled = project.disabledServices.has(dependency);
        throw new GraphError(
          disabled
            ? `service "${name}" depends on service "${dependency}", which is not enabled by the active profiles`
            : `service "${name}" depends on undefined service "${dependency}"`,
          {
            source: project.sourceOf(['services', name, 'depends_on', dependency]) ?? service.source,
            hint: disabled ? `enable its profile with --profile, or mark the dependency "required: false"` : namesHint('services', dependency, names),
          },
        );
      }
      graph.addDependency(serviceNode(name), serviceNode(dependency));
      edges.push({ from: name, to: dependency, dependency: service.depends_on![dependency] });
    }
    for (const network of Object.keys(service.networks ?? {}).sort()) {
      const node = `network:${network}`;
      if (!graph.hasNode(node)) graph.addNode(node);
      graph.addDependency(serviceNode(name), node);
    }
    for (const mount of service.volumes ?? []) {
      if (mount.type !== 'volume' || !mount.source || !project.volumes.has(mount.source)) continue;
      const node = `volume:${mount.source}`;
      if (!graph.hasNode(node)) graph.addNode(node);
      graph.addDependency(serviceNode(name), node);
    }
  }
  let order: string[];
  try {
    order = graph.overallOrder();
  } catch (error) {
    if (error instanceof DepGraphCycleError) {
      // The DFS path may start before the cycle: keep only the loop itself.
      const full = error.cyclePath.map(nameOf);
      const path = full.slice(full.indexOf(full[full.length - 1]));
      const [first] = path;
      throw new GraphError(`dependency cycle: ${path.map((node) => `"${node}"`).join(' → ')}`, {
        source: project.services.get(first)?.source,
        hint: 'remove one of these depends_on entries (or links, volumes_from, network_mode: service:...)',
      });
    }
    throw error;
  }
  const startOrder = order.filter(isServiceNode).map(nameOf);
  const select = (nodes: string[]): string[] => nodes.filter(isServiceNode).map(nameOf).sort();
  return {
    startOrder,
    stopOrder: [...startOrder].reverse(),
    edges,
    dependents: (serviceName, options = {}) =>
      select(options.direct ? graph.directDependentsOf(serviceNode(serviceName)) : graph.dependentsOf(serviceNode(serviceName))),
    dependencies: (serviceName, options = {}) =>
      select(options.direct ? graph.directDependenciesOf(serviceNode(serviceName)) : graph.dependenciesOf(serviceNode(serviceName))),
    resources: (serviceName) => graph.directDependenciesOf(serviceNode(serviceName)).filter((node) => !isServiceNode(node)).sort(),
  };
}
