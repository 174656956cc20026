/** Graph stage: dependency order, dependents and cycle/unknown-dependency checks of a Project. */
export { buildGraph, type ProjectGraph, type ServiceEdge } from './build-graph.js';
export { renderGraph, type GraphFormat } from './render-graph.js';
